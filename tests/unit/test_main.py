"""main.py stops on bad configuration before synthesizing anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import main
from tests.support.environments import FIXTURE_FILE


def test_bad_configuration_exits_2_with_the_setting_named(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str],
                                                         tmp_path) -> None:
    # main() changes directory; registering the current one makes monkeypatch restore it afterwards.
    monkeypatch.chdir(Path.cwd())
    monkeypatch.setenv("TAP_ENVIRONMENTS_FILE", str(FIXTURE_FILE))
    monkeypatch.setenv("TAP_STACKS", "dev,qa")
    called = []
    monkeypatch.setattr(main, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr("cdktf.App.synth", lambda self: called.append(self), raising=False)
    assert main.main() == 2
    assert "configuration error: TAP_STACKS='qa' is invalid" in capsys.readouterr().err
    assert not called, "nothing may be synthesized"
    assert not (tmp_path / "cdktf.out").exists()


def test_every_configuration_error_gets_its_own_line(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    monkeypatch.chdir(Path.cwd())
    monkeypatch.setenv("TAP_ENVIRONMENTS_FILE", str(FIXTURE_FILE))
    monkeypatch.setenv("TAP_STACKS", "dev,qa")
    monkeypatch.setenv("TAP_STATE_REGION", "moon")
    monkeypatch.setattr(main, "PROJECT_ROOT", tmp_path)
    assert main.main() == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "configuration error: TAP_STACKS='qa' is invalid: allowed a comma list of local, dev, staging, prod (the "
        f"environments of {FIXTURE_FILE}), preview or ci",
        "configuration error: TAP_STATE_REGION='moon' is invalid: allowed an AWS region such as us-east-1",
    ]


PROJECT_ROOT = Path(__file__).resolve().parents[2]


def fresh_clone_env(**variables: str) -> dict[str, str]:
    """The environment of someone who has set nothing yet: no TAP_ variable, no account, no subscriber."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "ENVIRONMENT_SUFFIX"},
            **variables}


def test_check_on_a_fresh_clone_names_each_environment_and_the_variable_once_then_the_way_to_local() -> None:
    result = subprocess.run([sys.executable, "main.py", "--check"], cwd=PROJECT_ROOT, env=fresh_clone_env(),
                            capture_output=True, text=True, check=False)
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and result.stdout == ""
    assert len(lines) == len(set(lines)), "each problem once"
    assert "\x1b" not in result.stderr, "no terminal escape codes"
    assert [line.split(": ", 2)[1] for line in lines[:-1]] == [
        "the Terraform state", "dev", "staging", "staging", "prod", "prod"], "each line leads with what it is about"
    assert all("TAP_AWS_ACCOUNT_ID" in line or "TAP_ALARM_EMAIL" in line for line in lines[:-1])
    assert lines[-1] == main.LOCAL_ALONE_HINT


def test_check_of_local_alone_needs_no_account_and_synthesizes_nothing(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "main.py", "--check"], cwd=PROJECT_ROOT,
                            env=fresh_clone_env(TAP_STACKS="local", CDKTF_OUTDIR=str(tmp_path / "out")),
                            capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert not (tmp_path / "out").exists()


def test_an_error_of_stacks_asked_for_by_name_does_not_point_at_local(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(Path.cwd())
    monkeypatch.setenv("TAP_ENVIRONMENTS_FILE", str(FIXTURE_FILE))
    monkeypatch.setenv("TAP_STACKS", "local")
    monkeypatch.setenv("TAP_PROJECT", "Bad")
    monkeypatch.setattr(main, "PROJECT_ROOT", tmp_path)
    assert main.main(["--check"]) == 2
    assert main.LOCAL_ALONE_HINT not in capsys.readouterr().err


def test_make_synth_checks_the_settings_before_cdktf_starts() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    recipe = subprocess.run(["make", "-n", "--no-print-directory", "synth"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert [line.split("/")[-1] for line in recipe[-2:]] == ["python main.py --check", "cdktf synth"]
