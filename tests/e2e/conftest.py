"""The `local` stack deployed by the demo (kept running), for the end-to-end tests of this folder.

The stack comes from the session's synthesis (``synth_dir`` in tests/conftest.py), copied to a temporary
folder that also holds its state, the session file, the emulator's log and the function logs, so that
the tests never touch an environment that a user keeps running.  TAP_E2E_STACK_DIR deploys another
synthesized stack folder instead (to try a stack change without synthesizing everything).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools.local.emulator import Emulator
from tools.local.emulator import client as emulator_client
from tools.local.session import Session
from tools.local.stack import STACK_NAME, Deployment
from tools.local.topology import Topology

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Events the demo sends while deploying the pipeline for the tests.
DEMO_EVENTS = 100


@dataclass
class DeployedPipeline:
    """The kept environment: emulator, deployment, topology, the demo's output, and the CLI on it."""

    emulator: Emulator
    deployment: Deployment
    topology: Topology
    session_file: Path
    demo_output: str

    def client(self, service: str) -> Any:
        return emulator_client(service, self.emulator.endpoint, self.topology.region)

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 900) -> str:
        """``python -m tools local ARGS`` in a fresh process, as a user runs it; its stdout."""
        return run_local(args, self.session_file, stdin=stdin, timeout=timeout)


def run_local(args: tuple[str, ...], session_file: Path, *, stdin: str | None = None, timeout: float = 900) -> str:
    env = {**os.environ, "TAP_LOCAL_SESSION": str(session_file)}
    result = subprocess.run(
        [sys.executable, "-m", "tools", "local", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"tools local {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def local_stack_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A private copy of the synthesized `local` stack folder."""
    override = os.environ.get("TAP_E2E_STACK_DIR")
    source = Path(override) if override else request.getfixturevalue("synth_dir") / STACK_NAME
    target = tmp_path_factory.mktemp("e2e") / STACK_NAME
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    return target


@pytest.fixture(scope="module")
def pipeline(local_stack_dir: Path) -> Iterator[DeployedPipeline]:
    """``demo --keep`` on the stack copy; at the end ``down``, and the emulator checked gone either way."""
    session_file = local_stack_dir.parent / "session.json"
    try:
        output = run_local(
            ("demo", "--keep", "--stack-dir", str(local_stack_dir), "--events", str(DEMO_EVENTS)),
            session_file,
        )
        session = Session.load(session_file)
        emulator = Emulator(session.endpoint, session.pid)
        deployment = Deployment(local_stack_dir, session.endpoint, Path(session.state_path or ""))
        yield DeployedPipeline(emulator, deployment, deployment.topology(), session_file, output)
    finally:
        if session_file.is_file():
            session = Session.load(session_file)
            try:
                run_local(("down",), session_file)
            finally:
                emulator = Emulator(session.endpoint, session.pid)
                emulator.stop()  # a no-op after `down`; the safety net if it failed
                assert not emulator.alive()
