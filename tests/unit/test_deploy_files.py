"""The Dockerfile and compose.yaml, read as Docker and Compose read them. Building and running the
image is `make image-check` (deploy/image-check.sh); this checks what it cannot run here."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgledger.adapters.persistence.postgres import parse_database_url

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n(\s*#.*\n)*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines if line and not line.startswith("#")]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_the_dockerfile_builds_in_two_stages_and_runs_as_a_user_of_its_own() -> None:
    froms = [args for op, args in instructions() if op == "FROM"]
    assert len(froms) == 2 and froms[0].endswith(" AS build")
    final = final_stage()
    # Only the built venv reaches the final stage, not the build's tools or sources.
    copies = [args for op, args in final if op == "COPY"]
    assert copies == ["--from=build /opt/orgledger /opt/orgledger"]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_the_dockerfile_serves_on_4000_from_all_interfaces_with_data_in_a_volume() -> None:
    final = final_stage()
    env = " ".join(args for op, args in final if op == "ENV").split()
    assert {"HOST=0.0.0.0", "PORT=4000", "ORGLEDGER_DATA_DIR=/data"} <= set(env)
    assert ("EXPOSE", "4000") in final
    assert ("VOLUME", "/data") in final
    [healthcheck] = [args for op, args in final if op == "HEALTHCHECK"]
    assert "/health/liveliness" in healthcheck and "CMD [" in healthcheck
    assert json.loads(dict(final)["ENTRYPOINT"]) == ["orgledger"]
    assert json.loads(dict(final)["CMD"]) == ["serve"]


def test_the_dockerfile_copies_every_package_folder() -> None:
    # A new layer added to pyproject.toml must reach the image too.
    folders = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values())
    copied = {args.split()[0] for op, args in instructions() if op == "COPY" and "--from" not in args}
    assert folders <= copied
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not folders & set(ignored) and "README.md" not in ignored


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}."""
    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg or ""
    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_compose_runs_orgledger_after_postgresql_15_is_healthy() -> None:
    services = compose()["services"]
    assert set(services) == {"orgledger", "db"}
    db, app = services["db"], services["orgledger"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert app["build"] == "." and "4000:4000" in app["ports"]


def test_compose_keeps_postgresql_in_a_named_volume() -> None:
    document = compose()
    [mount] = document["services"]["db"]["volumes"]
    name, target = mount.split(":")
    assert target == "/var/lib/postgresql/data"
    assert name in document["volumes"]


def test_compose_points_orgledger_at_the_database_and_needs_a_master_key() -> None:
    document = compose()
    app, db = document["services"]["orgledger"]["environment"], document["services"]["db"]["environment"]
    env = {"LITELLM_MASTER_KEY": "sk-compose"}
    url = interpolate(app["DATABASE_URL"], env)
    target = parse_database_url(url)
    assert (target.host, target.port, target.dbname) == ("db", "5432", interpolate(db["POSTGRES_DB"], env))
    assert (target.user, target.password) == (interpolate(db["POSTGRES_USER"], env),
                                              interpolate(db["POSTGRES_PASSWORD"], env))
    # Without a master key compose refuses to start rather than start orgledger without one.
    with pytest.raises(KeyError, match="LITELLM_MASTER_KEY"):
        interpolate(app["LITELLM_MASTER_KEY"], {})
