"""Settings precedence: flags > environment > config file > defaults; secrets only from env."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from proxy.config import ConfigError, Settings, load_settings


def test_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    config = tmp_path / "sekisho.yaml"
    config.write_text(
        "cloud_url: http://file.example/v1\nlocal_url: http://file-local.example/v1\n"
        "port: 9000\nlocal_model: from-file\n"
    )
    env = {"SEKISHO_CLOUD_URL": "http://env.example/v1", "OPENAI_API_KEY": "sk-env"}
    settings = load_settings(config, {"cloud_url": None, "port": 9100}, env)
    assert settings.cloud_url == "http://env.example/v1"
    assert settings.local_url == "http://file-local.example/v1"
    assert settings.port == 9100
    assert settings.local_model == "from-file"
    assert settings.cloud_api_key == "sk-env"
    settings = load_settings(config, {"cloud_url": "http://flag.example/v1/"}, env)
    assert settings.cloud_url == "http://flag.example/v1"


def test_defaults() -> None:
    settings = load_settings(None, {}, {})
    assert (settings.host, settings.port) == ("127.0.0.1", 8787)
    assert settings.cloud_url == "https://api.openai.com/v1"
    assert settings.local_url == "http://127.0.0.1:8000/v1"
    assert settings.max_body_bytes == 10 * 1024 * 1024
    assert str(settings.policy) == "policies/default.yaml"


def test_secrets_in_the_config_file_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "sekisho.yaml"
    config.write_text("cloud_api_key: sk-oops\n")
    with pytest.raises(ConfigError, match="secrets are read from the environment only"):
        load_settings(config, {}, {})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("cloud_url: http://x.example\n", "cloud_url: Value error, must be a base URL ending"),
        ("prot: 1\n", "prot: Extra inputs are not permitted"),
        ("port: -1\n", "port:"),
    ],
)
def test_invalid_config_names_the_field(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "sekisho.yaml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(config, {}, {})


def test_the_installed_default_policy_is_found_outside_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxy.config import default_policy_path

    prefix = tmp_path / "venv"
    installed = prefix / "share" / "sekisho" / "policies" / "default.yaml"
    installed.parent.mkdir(parents=True)
    installed.write_text("default: {route: local}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr("sys.prefix", str(prefix))
    monkeypatch.chdir(elsewhere)
    assert default_policy_path() == installed
    assert Settings().policy == installed
    monkeypatch.chdir(ROOT)
    assert default_policy_path() == Path("policies/default.yaml")


def test_the_wheel_carries_the_shipped_policies(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("sekisho-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = [n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n]
    assert "share/sekisho/policies/default.yaml" in data
    assert "share/sekisho/policies/examples/lockdown.yaml" in data


def test_workers_auto_is_one_per_core_this_process_may_use() -> None:
    import os

    from proxy.cli import build_parser

    args = build_parser().parse_args(["serve", "--workers", "auto"])
    assert args.workers == "auto"
    assert Settings(workers=args.workers).worker_count == len(os.sched_getaffinity(0))
    assert Settings(workers=3).worker_count == 3
    assert load_settings(None, {"workers": "auto"}).workers == "auto"
