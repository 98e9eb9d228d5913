"""A plain (not editable) `pip install` into a fresh venv gives a working `orgledger` with all its assets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import MASTER_KEY, running_server
from tests.http.test_docs import CONTENT_TYPES, is_local, page_links

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
# Never copied: what a checkout accumulates but a clone does not have.
LOCAL_ONLY = shutil.ignore_patterns(".venv", ".git", "data", "build", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".hypothesis", "*.db")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a new venv with orgledger pip-installed from a copy of this checkout."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=LOCAL_ONLY)
    # No pip of its own (ensurepip costs seconds): this process's pip installs into it instead.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True, timeout=120)
    bin_dir = root / "venv" / "bin"
    # pip's own cache (shared with `make`) keeps this to about half a minute.
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "--quiet",
                    str(source)], check=True, timeout=600, env=env, cwd=root)
    # The source is gone: whatever the server needs must now be inside the venv.
    shutil.rmtree(source)
    return bin_dir


def test_the_installed_package_is_a_regular_install(installed: Path) -> None:
    venv = installed.parent
    probe = ("import orgledger.adapters.http.app as h, orgledger.adapters.http.openapi.docs as d; "
             "print(h.__file__); print(d.swagger_ui_dir())")
    done = subprocess.run([str(installed / "python"), "-c", probe], capture_output=True, text=True,
                          check=True, cwd=venv.parent)
    module, assets = (Path(line) for line in done.stdout.split())
    assert module.is_relative_to(venv) and "site-packages" in module.parts
    assert assets.is_relative_to(venv) and (assets / "swagger-ui-bundle.js").is_file()


def test_the_installed_package_runs_as_python_m_orgledger(installed: Path, tmp_path: Path) -> None:
    for command in ([str(installed / "orgledger")], [str(installed / "python"), "-m", "orgledger"]):
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
        assert (done.returncode, done.stdout) == (0, f"orgledger {version('orgledger')}\n"), done.stderr


def test_installed_orgledger_serves_the_api_the_document_and_the_docs(installed: Path, tmp_path: Path) -> None:
    env = {"ORGLEDGER_DATA_DIR": str(tmp_path / "data")}
    with running_server(env, command=[str(installed / "orgledger")], cwd=tmp_path) as server:
        process = server.process
        with httpx.Client(base_url=server.url) as http:
            assert http.get("/health/liveliness").status_code == 200
            document = http.get("/openapi.json")
            assert document.status_code == 200
            assert document.json()["openapi"] == "3.1.0"
            assert "/organization/member_add" in document.json()["paths"]
            # The Swagger UI page and every asset it loads come from the installed venv.
            page = http.get("/docs")
            assert page.status_code == 200
            urls = page_links(page.text).urls
            assert urls and all(is_local(u) for u in urls)
            for u in urls:
                asset = http.get(u)
                assert asset.status_code == 200, u
                assert asset.headers["content-type"].split(";")[0] == CONTENT_TYPES[Path(u).suffix], u
            # And the API itself works against the SQLite files it creates.
            admin = {"Authorization": f"Bearer {MASTER_KEY}"}
            created = http.post("/organization/new", json={"organization_alias": "installed"}, headers=admin)
            assert created.status_code == 200, created.text
            info = http.get("/organization/info", params={"organization_id": created.json()["organization_id"]},
                            headers=admin)
            assert info.json()["organization_alias"] == "installed"
    assert process.returncode == 0
    assert (tmp_path / "data" / "events.db").is_file()
