"""How the local environment ends: the demo stops the emulator and forgets the state; destroy on request."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tools.local import demo, lifecycle
from tools.local.progress import Progress
from tools.local.stack import Deployment
from tools.local.topology import Topology

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class FakeEmulator:
    """Stands in for the moto server: records whether it was stopped."""

    endpoint: str = "http://127.0.0.1:1"
    pid: int = 4242
    stopped: bool = False

    def stop(self) -> None:
        self.stopped = True


@dataclass
class Calls:
    terraform: list[str] = field(default_factory=list)


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    (tmp_path / "cdk.tf.json").write_text("{}")
    return tmp_path


@pytest.fixture
def fake_deploy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[FakeEmulator, Calls]:
    """deployed() without moto or terraform: apply leaves a state file, destroy is recorded."""
    emulator, calls = FakeEmulator(), Calls()
    monkeypatch.setenv("TAP_LOCAL_SESSION", str(tmp_path / "session.json"))
    monkeypatch.setattr(lifecycle.Emulator, "start", classmethod(lambda cls, **kwargs: emulator))

    def apply(self: Deployment, on_line: object = None) -> None:
        calls.terraform.append("apply")
        self.state_file().write_text("{}")
        self.state_file().with_name(self.state_file().name + ".backup").write_text("{}")

    monkeypatch.setattr(Deployment, "init", lambda self, on_line=None: calls.terraform.append("init"))
    monkeypatch.setattr(Deployment, "apply", apply)
    monkeypatch.setattr(Deployment, "destroy", lambda self, on_line=None: calls.terraform.append("destroy"))
    monkeypatch.setattr(Deployment, "topology",
                        lambda self: Topology(stages=(), queues=(), tables=(), outputs={}, region="us-east-1"))
    return emulator, calls


def run_deployed(stack_dir: Path, **kwargs: bool) -> str:
    out = io.StringIO()
    with lifecycle.deployed(Progress(out), stack_dir=stack_dir, **kwargs):
        assert (stack_dir / "terraform.tfstate").is_file()
    return out.getvalue()


def test_the_demo_ends_by_stopping_the_emulator_and_forgetting_the_state(
        fake_deploy: tuple[FakeEmulator, Calls], stack_dir: Path) -> None:
    emulator, calls = fake_deploy
    output = run_deployed(stack_dir, keep=False)
    assert calls.terraform == ["init", "apply"], "no terraform destroy"
    assert emulator.stopped
    assert not (stack_dir / "terraform.tfstate").exists()
    assert not (stack_dir / "terraform.tfstate.backup").exists()
    assert "and its state forgotten, no terraform destroy" in output


def test_destroy_on_request_runs_terraform_destroy_before_stopping(
        fake_deploy: tuple[FakeEmulator, Calls], stack_dir: Path) -> None:
    emulator, calls = fake_deploy
    output = run_deployed(stack_dir, keep=False, destroy=True)
    assert calls.terraform == ["init", "apply", "destroy"]
    assert emulator.stopped
    assert "terraform destroy ..." in output


def test_an_error_during_the_demo_also_stops_the_emulator_without_destroy(
        fake_deploy: tuple[FakeEmulator, Calls], stack_dir: Path) -> None:
    emulator, calls = fake_deploy
    with pytest.raises(RuntimeError, match="delivery broke"):
        with lifecycle.deployed(Progress(io.StringIO()), keep=False, stack_dir=stack_dir):
            raise RuntimeError("delivery broke")
    assert calls.terraform == ["init", "apply"] and emulator.stopped
    assert not (stack_dir / "terraform.tfstate").exists()


def test_a_kept_environment_is_neither_stopped_nor_forgotten(
        fake_deploy: tuple[FakeEmulator, Calls], stack_dir: Path) -> None:
    emulator, calls = fake_deploy
    run_deployed(stack_dir, keep=True)
    assert calls.terraform == ["init", "apply"] and not emulator.stopped
    assert (stack_dir / "terraform.tfstate").is_file()


@pytest.mark.parametrize(("keep", "destroy", "expected"), [
    (False, False, "the emulator stops and its state is forgotten (no terraform destroy: --destroy runs it)"),
    (False, True, "terraform destroy, then the emulator stops and its state is forgotten"),
    (True, False, "the environment keeps running: end it with `python -m tools local down`"),
])
def test_the_summary_says_what_happens_to_the_environment(keep: bool, destroy: bool, expected: str) -> None:
    summary = demo.Summary(sent=1, malformed=0, stages=[], table="t", items=1, rejects={}, dead_letters={},
                           in_flight={}, seconds=1.0, delivery_seconds=1.0,
                           teardown=demo.teardown_text(keep=keep, destroy=destroy))
    out = io.StringIO()
    demo.print_summary(summary, out)
    assert out.getvalue().rstrip("\n").splitlines()[-1] == f"  then                 {expected}"


def test_keep_and_destroy_together_are_refused_with_a_reason() -> None:
    result = subprocess.run([sys.executable, "-m", "tools", "local", "demo", "--keep", "--destroy"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "argument --destroy: not allowed with argument --keep" in result.stderr
