"""main.py stops on bad configuration before synthesizing anything."""

from __future__ import annotations

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
