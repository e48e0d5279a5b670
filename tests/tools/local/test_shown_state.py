"""The state as ``terraform show -json`` gives it is asked of Terraform once per state, not once per command."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools.local import shown_state
from tools.local.stack import Deployment


class FakeTerraform:
    """Answers ``show -json`` with the state file's own text wrapped in a document, and counts the calls."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.calls: list[list[str]] = []
        self.during_show: Any = None

    def __call__(self, args: list[str], cwd: Path, **_: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(args))
        answer = {"values": {"from": self.state_file.read_text()}}
        if self.during_show is not None:
            self.during_show()
        return subprocess.CompletedProcess(args, 0, json.dumps(answer), "")


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / ".terraform.lock.hcl").write_text('provider "registry.terraform.io/hashicorp/aws" {}\n')
    (folder / "terraform.tfstate").write_text('{"serial": 1}')
    (folder / "terraform.tfstate").chmod(0o600)
    return folder


@pytest.fixture
def terraform(stack: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    fake = FakeTerraform(stack / "terraform.tfstate")
    monkeypatch.setattr(shown_state, "run_terraform", fake)
    return fake


def test_an_unchanged_state_is_shown_by_terraform_once(stack: Path, terraform: FakeTerraform) -> None:
    state = stack / "terraform.tfstate"
    first = shown_state.read_state(stack, None, state)
    second = shown_state.read_state(stack, None, state)
    assert first == second == {"values": {"from": '{"serial": 1}'}}
    assert terraform.calls == [["show", "-json", "-no-color"]], "the second read came from the kept answer"


def test_a_changed_state_is_shown_again(stack: Path, terraform: FakeTerraform) -> None:
    state = stack / "terraform.tfstate"
    shown_state.read_state(stack, None, state)
    state.write_text('{"serial": 2}')
    assert shown_state.read_state(stack, None, state) == {"values": {"from": '{"serial": 2}'}}
    assert len(terraform.calls) == 2


def test_a_changed_lock_file_is_shown_again(stack: Path, terraform: FakeTerraform) -> None:
    state = stack / "terraform.tfstate"
    shown_state.read_state(stack, None, state)
    (stack / ".terraform.lock.hcl").write_text('provider "registry.terraform.io/hashicorp/aws" { version = "6" }\n')
    shown_state.read_state(stack, None, state)
    assert len(terraform.calls) == 2, "another provider may show the same state otherwise"


def test_another_terraform_binary_is_asked_again(stack: Path, terraform: FakeTerraform, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = stack / "terraform.tfstate"
    shown_state.read_state(stack, None, state)
    other = tmp_path / "terraform"
    other.write_text("#!/bin/sh\n")
    monkeypatch.setattr(shown_state, "terraform_binary", lambda: str(other))
    shown_state.read_state(stack, None, state)
    assert len(terraform.calls) == 2


def test_without_a_state_file_terraform_is_asked_every_time_and_nothing_is_kept(
        stack: Path, terraform: FakeTerraform) -> None:
    missing = stack / "elsewhere.tfstate"
    shown_state.read_state(stack, None, missing)
    shown_state.read_state(stack, None, None)
    assert len(terraform.calls) == 2
    assert not shown_state.kept_answer_path(missing).exists()


def test_a_damaged_kept_answer_is_replaced_by_terraforms(stack: Path, terraform: FakeTerraform) -> None:
    state = stack / "terraform.tfstate"
    shown_state.kept_answer_path(state).write_text('{"key": ')  # a write cut short
    assert shown_state.read_state(stack, None, state) == {"values": {"from": '{"serial": 1}'}}
    assert json.loads(shown_state.kept_answer_path(state).read_text())["shown"] == {"values": {"from": '{"serial": 1}'}}


def test_a_state_that_changed_while_terraform_showed_it_is_not_kept(stack: Path, terraform: FakeTerraform) -> None:
    state = stack / "terraform.tfstate"
    terraform.during_show = lambda: state.write_text('{"serial": 2}')
    shown_state.read_state(stack, None, state)
    assert not shown_state.kept_answer_path(state).exists()


def test_the_kept_answer_is_as_private_as_the_state(stack: Path, terraform: FakeTerraform) -> None:
    state = stack / "terraform.tfstate"
    shown_state.read_state(stack, None, state)
    assert stat.S_IMODE(shown_state.kept_answer_path(state).stat().st_mode) == 0o600
    assert [p.name for p in stack.iterdir() if p.name.endswith(".partial")] == []


def test_an_answer_that_cannot_be_kept_is_still_returned(stack: Path, terraform: FakeTerraform) -> None:
    state = stack / "terraform.tfstate"
    shown_state.kept_answer_path(state).mkdir()  # nothing can be renamed onto a folder
    assert shown_state.read_state(stack, None, state) == {"values": {"from": '{"serial": 1}'}}
    assert shown_state.read_state(stack, None, state) == {"values": {"from": '{"serial": 1}'}}
    assert len(terraform.calls) == 2, "asked again, as without a kept answer"
    assert [p.name for p in stack.iterdir() if p.name.endswith(".partial")] == [], "no half-written file left"


def test_forgetting_the_state_forgets_the_kept_answer(stack: Path, terraform: FakeTerraform) -> None:
    deployment = Deployment(stack, "http://127.0.0.1:1", stack / "terraform.tfstate")
    shown_state.read_state(stack, None, deployment.state_file())
    deployment.forget_state()
    assert list(p.name for p in stack.iterdir()) == [".terraform.lock.hcl"]


def test_a_relative_backend_path_is_read_from_the_stack_folder(tmp_path: Path) -> None:
    (tmp_path / "cdk.tf.json").write_text(json.dumps({"terraform": {"backend": {"local": {"path": "s/x.tfstate"}}}}))
    assert Deployment(tmp_path, "").state_file() == tmp_path / "s" / "x.tfstate"
