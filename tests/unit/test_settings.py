"""Settings read from the environment: log level, environment, and where the SQLite files live."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgledger.adapters.runtime import check_servable
from orgledger.adapters.settings import ConfigurationError, Settings


@pytest.mark.parametrize("env, level", [
    ({}, "INFO"),
    ({"LITELLM_LOG": "DEBUG"}, "DEBUG"),
    ({"ORGLEDGER_LOG_LEVEL": "warning"}, "WARNING"),
    # orgledger's own setting wins over LiteLLM's.
    ({"ORGLEDGER_LOG_LEVEL": "error", "LITELLM_LOG": "DEBUG"}, "ERROR"),
])
def test_log_level_from_orgledgers_or_litellms_variable(env: dict[str, str], level: str) -> None:
    assert Settings.from_env(env).log_level == level


def test_environment_is_production_unless_told_development() -> None:
    assert Settings.from_env({}).environment == "production"
    assert Settings.from_env({"ORGLEDGER_ENV": "Development"}).environment == "development"
    with pytest.raises(ConfigurationError, match="ORGLEDGER_ENV must be production or development"):
        Settings.from_env({"ORGLEDGER_ENV": "staging"})


def test_the_default_data_dir_is_the_users_data_folder_wherever_the_command_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    (tmp_path / "elsewhere").mkdir()
    for folder in (tmp_path, tmp_path / "elsewhere"):
        monkeypatch.chdir(folder)
        settings = Settings.from_env({})
        assert (settings.data_dir, settings.default_data_dir) == (tmp_path / "share" / "orgledger", True)
    explicit = Settings.from_env({"ORGLEDGER_DATA_DIR": "here"})
    assert (explicit.data_dir, explicit.default_data_dir) == (tmp_path / "elsewhere" / "here", False)


def test_serve_refuses_a_new_default_store_beside_an_old_dot_data_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "events.db").write_bytes(b"")
    with pytest.raises(ConfigurationError, match=r"exists here: set ORGLEDGER_DATA_DIR=./data to serve it"):
        check_servable(Settings.from_env({}), workers=1)
    # Named explicitly, either folder is fine.
    check_servable(Settings.from_env({"ORGLEDGER_DATA_DIR": "data"}), workers=1)
    check_servable(Settings.from_env({"ORGLEDGER_DATA_DIR": str(tmp_path / "share" / "orgledger")}), workers=1)
