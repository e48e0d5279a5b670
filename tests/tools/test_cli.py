"""The operator command line: ``python -m tools <command>``, and the make targets that alias it."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tools import __main__ as tools_cli
from tools.help_text import plain
from tools.local import cli as local_cli
from tools.local import lifecycle

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_COMMANDS = ("up", "demo", "sample", "send", "run", "status", "items", "dlq", "rejects", "redrive", "down")


def help_of(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "tools", *args, "--help"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_top_level_help_lists_every_command() -> None:
    text = help_of()
    assert "local" in text and "policy-check" in text


def test_local_help_lists_each_command_the_demo_among_them() -> None:
    text = help_of("local")
    for command in LOCAL_COMMANDS:
        assert f"\n    {command} " in text, command


@pytest.mark.parametrize("command", LOCAL_COMMANDS)
def test_every_local_command_has_its_own_help(command: str) -> None:
    assert help_of("local", command).startswith(f"usage: python -m tools local {command}")


def test_a_missing_command_is_an_error_naming_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        tools_cli.main([])
    assert exit_.value.code == 2
    assert "the following arguments are required: COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize(("target", "expected"), [
    ("demo", "-m tools local demo --events 5"),
    ("up", "-m tools local up --events 5"),
    ("down", "-m tools local down --events 5"),
])
def test_make_targets_are_thin_aliases_of_the_cli(target: str, expected: str) -> None:
    # Outside any calling make (make test runs this), so that only the recipe is printed.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    result = subprocess.run(["make", "-n", "--no-print-directory", target, "ARGS=--events 5"], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1].endswith(expected), result.stdout


class FakeDeployment:
    """Records how ``lifecycle.deployed`` was asked to run instead of starting an emulator."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    @contextmanager
    def __call__(self, progress: object, *, keep: bool, stack_dir: Path | None = None) -> Iterator[None]:
        self.calls.append({"keep": keep, "stack_dir": stack_dir})
        yield None


def test_up_deploys_and_keeps_the_environment_without_running_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDeployment()
    monkeypatch.setattr(lifecycle, "deployed", fake)
    monkeypatch.setattr(lifecycle, "refuse_if_running", lambda: False)
    monkeypatch.setattr(local_cli.demo, "run", lambda args: pytest.fail("up must not run the demo"))
    assert tools_cli.main(["local", "up", "--stack-dir", "/tmp/stack"]) == 0
    assert fake.calls == [{"keep": True, "stack_dir": Path("/tmp/stack")}]


def test_up_refuses_a_second_environment_with_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDeployment()
    monkeypatch.setattr(lifecycle, "deployed", fake)
    monkeypatch.setattr(lifecycle, "refuse_if_running", lambda: True)
    assert tools_cli.main(["local", "up"]) == 2
    assert fake.calls == []


def test_the_operator_cli_imports_no_handler_logger() -> None:
    # The local runner routes each function's logs by swapping sys.stdout before the handlers are imported;
    # a logger created earlier (by a tool importing handlers.shared.observability) would write to the terminal.
    code = "import sys, tools.__main__; sys.exit('handlers.shared.observability' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=False).returncode == 0


def every_parser(parser: argparse.ArgumentParser | None = None,
                 path: tuple[str, ...] = ()) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The operator command line and each of its commands and subcommands, by the words that call it."""
    parser = parser or tools_cli.parser()
    yield " ".join(("python -m tools", *path)), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from every_parser(sub, (*path, name))


HELP_TEXTS = dict(every_parser())
RESTRUCTURED_TEXT = re.compile(r"``|:[a-z]+:`")


def test_every_command_and_subcommand_is_scanned() -> None:
    assert {"python -m tools plan", "python -m tools local send", "python -m tools preflight"} <= set(HELP_TEXTS)
    assert len(HELP_TEXTS) == 1 + len(tools_cli.COMMANDS) + len(LOCAL_COMMANDS)


@pytest.mark.parametrize("command", sorted(HELP_TEXTS))
def test_no_help_text_holds_restructured_text(command: str) -> None:
    assert RESTRUCTURED_TEXT.findall(HELP_TEXTS[command].format_help()) == []


def test_the_scan_finds_a_role_and_a_literal() -> None:
    assert RESTRUCTURED_TEXT.findall("see :func:`plan_from_binary` and ``--ack``") == [":func:`", "``", "``"]
    assert plain("see :func:`plan_from_binary` and ``--ack``") == "see `plan_from_binary` and `--ack`"


def test_local_help_lists_each_command_once() -> None:
    text = help_of("local")
    for command in LOCAL_COMMANDS:
        assert len(re.findall(rf"^\s+{command}\s", text, re.M)) == 1, command


def test_preflight_help_shows_the_command_as_users_type_it() -> None:
    text = help_of("preflight")
    assert "python -m tools preflight cdktf.out/stacks/" in text and "tools.preflight" not in text
