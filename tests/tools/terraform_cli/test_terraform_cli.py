"""Terraform finds the provider in a filesystem mirror when there is one, in the registry otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import terraform_cli


def test_mirror_is_used_for_hashicorp_aws_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    monkeypatch.setenv("TAP_TF_PROVIDER_MIRROR", str(tmp_path))
    mirror = terraform_cli.find_provider_mirror()
    text = terraform_cli.render_cli_config(mirror)
    assert mirror == tmp_path
    assert f'path    = "{tmp_path}"' in text and "filesystem_mirror" in text


def test_registry_is_used_when_no_mirror_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_TF_PROVIDER_MIRROR", str(tmp_path / "missing"))
    assert terraform_cli.find_provider_mirror() is None
    assert "provider_installation" not in terraform_cli.render_cli_config(None)


def test_terraform_env_points_at_the_generated_cli_config() -> None:
    env = terraform_cli.terraform_env({})
    assert Path(env["TF_CLI_CONFIG_FILE"]).is_file()
    assert env["TF_INPUT"] == "0"


def test_terraform_and_its_providers_collect_garbage_four_times_less_often_than_gos_default() -> None:
    assert terraform_cli.terraform_env({})["GOGC"] == "400"


def test_a_gogc_the_caller_set_is_kept() -> None:
    assert terraform_cli.terraform_env({"GOGC": "100"})["GOGC"] == "100"
