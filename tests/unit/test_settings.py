"""Settings: defaults, a TOML file, environment variables and flags, in that order of strength."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentation_service.cli import main
from segmentation_service.config import (
    ConfigError,
    Settings,
    load_settings,
    mask_url_password,
    masked,
    setting_names,
)

PASSWORD = "s3cr3t-pa55"
KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="


def write(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_without_file_environment_or_flags_every_setting_is_its_default() -> None:
    loaded = load_settings({})

    assert loaded.settings == Settings()
    assert {str(source) for source in loaded.sources.values()} == {"default"}
    assert loaded.config_file is None
    assert set(loaded.sources) == set(setting_names())


def test_the_file_sets_values_the_environment_overrides_it_and_flags_override_both(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, 'host = "10.0.0.1"\nport = 8100\nworkers = 3\nauth = false\n')
    env = {"SEGMENTATION_PORT": "8200", "SEGMENTATION_WORKERS": "5"}

    loaded = load_settings(env, config_file=path, workers=7)

    assert (loaded.settings.host, loaded.settings.port) == ("10.0.0.1", 8200)
    assert (loaded.settings.workers, loaded.settings.auth) == (7, False)
    assert str(loaded.sources["host"]) == f"file {path}"
    assert str(loaded.sources["port"]) == "env SEGMENTATION_PORT"
    assert str(loaded.sources["workers"]) == "flag --workers"
    assert str(loaded.sources["log_level"]) == "default"


def test_segmentation_config_names_the_file_and_the_config_flag_wins_over_it(
    tmp_path: Path,
) -> None:
    from_env = write(tmp_path, "workers = 4\n", "env.toml")
    from_flag = write(tmp_path, "workers = 6\n", "flag.toml")

    assert load_settings({"SEGMENTATION_CONFIG": str(from_env)}).settings.workers == 4
    loaded = load_settings({"SEGMENTATION_CONFIG": str(from_env)}, config_file=from_flag)
    assert (loaded.settings.workers, loaded.config_file) == (6, from_flag)
    assert Settings.from_env({"SEGMENTATION_CONFIG": str(from_env)}).workers == 4


def test_an_unknown_key_in_the_file_is_an_error_naming_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'host = "0.0.0.0"\ndatabase_uri = "sqlite://"\n')

    with pytest.raises(ConfigError, match="unknown setting 'database_uri'"):
        load_settings({}, config_file=path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('port = "8000"', "port: expected an integer"),
        ("workers = 0", "workers: must be at least 1"),
        ("auth = 1", "auth: expected true or false"),
        ('auth = "maybe"', "auth: expected 'on' or 'off'"),
        ('log_level = "LOUD"', "log_level: expected one of DEBUG"),
        ('log_format = "xml"', "log_format: expected one of text, json"),
        ("port = 70000", "port: must be a port number"),
        ("[database]\nurl = 'x'", "unknown setting 'database'"),
        ("host = ", "settings.toml"),
    ],
)
def test_a_bad_value_in_the_file_is_an_error_naming_file_and_setting(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text + "\n")

    with pytest.raises(ConfigError, match=message):
        load_settings({}, config_file=path)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings({"SEGMENTATION_CONFIG": str(tmp_path / "nope.toml")})


def test_environment_values_are_checked_and_named() -> None:
    with pytest.raises(ValueError, match="SEGMENTATION_LOG_FORMAT"):
        load_settings({"SEGMENTATION_LOG_FORMAT": "yaml"})
    loaded = load_settings({"SEGMENTATION_LOG_FORMAT": "JSON", "SEGMENTATION_LOG_LEVEL": "debug"})
    assert (loaded.settings.log_format, loaded.settings.log_level) == ("json", "DEBUG")


def test_settings_valid_alone_but_not_together_are_an_error_naming_both() -> None:
    with pytest.raises(ConfigError, match=r"executor \(env SEGMENTATION_EXECUTOR\).*DASK"):
        load_settings({"SEGMENTATION_EXECUTOR": "dask"})
    dask = load_settings(
        {"SEGMENTATION_EXECUTOR": "dask", "SEGMENTATION_DASK_SCHEDULER": "tcp://s:8786"}
    )
    assert dask.settings.dask_scheduler == "tcp://s:8786"
    with pytest.raises(ConfigError, match="churn_high_below .*churn_low_from"):
        load_settings(
            {"SEGMENTATION_CHURN_HIGH_BELOW": "0.8", "SEGMENTATION_CHURN_LOW_FROM": "0.7"}
        )
    both = load_settings(
        {"SEGMENTATION_CHURN_HIGH_BELOW": "0.5", "SEGMENTATION_CHURN_LOW_FROM": "0.5"}
    )
    assert (both.settings.churn_high_below, both.settings.churn_low_from) == (0.5, 0.5)


def test_the_log_format_is_text_unless_json_is_asked_for() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"SEGMENTATION_LOG_FORMAT": "json"}).log_format == "json"


def test_secrets_are_masked_for_display() -> None:
    url = f"postgresql+psycopg://seg:{PASSWORD}@db.internal:5432/segmentation"

    assert (
        mask_url_password(url) == "postgresql+psycopg://seg:********@db.internal:5432/segmentation"
    )
    assert mask_url_password("sqlite:///var/segmentation.db") == "sqlite:///var/segmentation.db"
    assert mask_url_password("postgresql://seg@db/x") == "postgresql://seg@db/x"
    assert masked("secret_key", KEY) == "********"
    assert masked("secret_key", None) == "-"
    assert masked("auth", False) == "off"


def test_config_command_prints_every_setting_with_its_source_and_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in setting_names():
        monkeypatch.delenv(f"SEGMENTATION_{name.upper()}", raising=False)
    monkeypatch.delenv("SEGMENTATION_CONFIG", raising=False)
    url = f"postgresql+psycopg://seg:{PASSWORD}@db.internal/segmentation"
    path = write(tmp_path, f'database_url = "{url}"\nworkers = 4\nlog_format = "json"\n')
    monkeypatch.setenv("SEGMENTATION_SECRET_KEY", KEY)
    monkeypatch.setenv("SEGMENTATION_WORKERS", "3")

    assert main(["--config", str(path), "config", "--port", "9001"]) == 0

    out = capsys.readouterr().out
    assert PASSWORD not in out and KEY not in out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert out.splitlines()[0] == f"config file: {path}"
    assert lines["setting"] == ["setting", "value", "source"]
    assert lines["database_url"][1:] == [
        "postgresql+psycopg://seg:********@db.internal/segmentation",
        "file",
        str(path),
    ]
    assert lines["workers"][1:] == ["3", "env", "SEGMENTATION_WORKERS"]
    assert lines["port"][1:] == ["9001", "flag", "--port"]
    assert lines["secret_key"][1:] == ["********", "env", "SEGMENTATION_SECRET_KEY"]
    assert lines["host"][1:] == ["127.0.0.1", "default"]
    assert set(lines) == {"setting", *setting_names()}


def test_a_bad_config_file_stops_any_command_with_its_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "colour = 'blue'\n")

    assert main(["--config", str(path), "config"]) == 2
    assert "unknown setting 'colour'" in capsys.readouterr().err
