"""The `local` stack deployed by the demo (kept running), for the end-to-end tests of this folder.

The stack comes from the session's synthesis (``synth_dir`` in tests/conftest.py), copied to a temporary
folder that also holds its state, the session file, the emulator's log and the function logs, so that
the tests never touch an environment that a user keeps running.  TAP_E2E_STACK_DIR deploys another
synthesized stack folder instead (to try a stack change without synthesizing everything).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

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

    def stored(self, record_id: str) -> list[dict[str, Any]]:
        """The table's items whose key ``id`` is ``record_id``, by a Query (``items`` scans them all: ~10 s)."""
        response = self.client("dynamodb").query(
            TableName=self.topology.tables[0], KeyConditionExpression="id = :id",
            ExpressionAttributeValues={":id": {"S": record_id}},
        )
        deserializer = TypeDeserializer()
        return [{key: deserializer.deserialize(value) for key, value in item.items()} for item in response["Items"]]

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


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON Lines the ``items``, ``rejects`` and ``dlq`` commands print."""
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def local_stack_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A private copy of the synthesized `local` stack folder, one per test module (each deploys its own)."""
    override = os.environ.get("TAP_E2E_STACK_DIR")
    source = Path(override) if override else request.getfixturevalue("synth_dir") / STACK_NAME
    target = tmp_path_factory.mktemp("e2e") / STACK_NAME
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    return target


@pytest.fixture(scope="module")
def pipeline(local_stack_dir: Path, request: pytest.FixtureRequest) -> Iterator[DeployedPipeline]:
    """``demo --keep`` on the module's stack copy; at the end ``down``, and the emulator checked gone either way.

    A module whose tests do not change what is deployed sets ``DESTROY_AT_END = False``: its emulator is
    then only stopped (its state lives in the temporary folder), since proving that ``terraform destroy``
    leaves nothing is the lifecycle module's job and costs a minute.
    """
    destroy_at_end = getattr(request.module, "DESTROY_AT_END", True)
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
                if destroy_at_end:
                    run_local(("down",), session_file)
            finally:
                emulator = Emulator(session.endpoint, session.pid)
                emulator.stop()  # a no-op after `down`; the safety net if it failed
                assert not emulator.alive()
