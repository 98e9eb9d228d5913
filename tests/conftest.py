"""Shared fixtures: the same scenarios run on every backend, against real stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings

MASTER_KEY = "sk-test-master-key"
ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}

# Integration and HTTP tests run on each of these; PostgreSQL joins them in its own fixture.
BACKENDS = ["popo", "sqlite"]
SETTINGS_PARAMS = [*BACKENDS, pytest.param("postgres", marks=pytest.mark.postgres)]


def make_settings(backend: str, tmp_path: Path) -> Settings:
    return Settings(master_key=MASTER_KEY, data_dir=tmp_path / "data", backend=backend)


@pytest.fixture(params=SETTINGS_PARAMS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "postgres":
        return request.getfixturevalue("pg_settings")  # type: ignore[no-any-return]
    return make_settings(request.param, tmp_path)


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    """A fresh schema with a projector keeping its views, as `serve` runs one; dropped afterwards."""
    with backend_settings("postgres", tmp_path) as pg:
        yield pg


@contextmanager
def backend_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings for one of SETTINGS_PARAMS, for fixtures of a wider scope than `settings`."""
    if backend != "postgres":
        yield make_settings(backend, tmp_path)
        return
    from orgledger.adapters.projector.postgres_projector import ProjectorService
    from tests.postgres import fresh_schema, postgres_settings

    with fresh_schema() as schema:
        pg = postgres_settings(schema, tmp_path, MASTER_KEY)
        projector = ProjectorService(pg).start()
        try:
            yield pg
        finally:
            projector.stop()


@contextmanager
def unprojected_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings for SQLite or a fresh PostgreSQL schema with no projector running (on
    PostgreSQL the test catches the views up itself, or tests what happens without)."""
    if backend != "postgres":
        yield make_settings(backend, tmp_path)
        return
    from tests.postgres import fresh_schema, postgres_settings

    with fresh_schema() as schema:
        yield postgres_settings(schema, tmp_path, MASTER_KEY)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(build_app(runtime=runtime)) as c:
        yield c


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[TestClient]:
    """A client over one real SQLite store, for tests that do not depend on the backend."""
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    try:
        with TestClient(build_app(runtime=runtime)) as c:
            yield c
    finally:
        runtime.close()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
