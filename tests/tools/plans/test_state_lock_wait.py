"""A plan waits for the state lock another run holds (a drift plan while a deploy applies), then plans.

Real Terraform on a local backend, whose lock is a POSIX record lock on the state file plus its lock info file
(what a running Terraform leaves): this test takes both for a few seconds, as another run would.
"""

from __future__ import annotations

import fcntl
import json
import threading
import time
from pathlib import Path

import pytest

from tools.plans.layout import PlanFolder
from tools.plans.plan import make_plan

pytestmark = pytest.mark.integration

HELD_S = 3.0


def test_a_plan_waits_for_a_lock_held_by_another_run(tmp_path: Path) -> None:
    state = tmp_path / "state.tfstate"
    state.write_text("")
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "cdk.tf.json").write_text(json.dumps({
        "terraform": {"backend": {"local": {"path": str(state)}}},
        "resource": {"terraform_data": {"marker": {"input": "a"}}},
    }))
    (tmp_path / ".state.tfstate.lock.info").write_text(json.dumps({
        "ID": "0b5e3c5e-1d0c-4a6e-9a9b-6a1e9f8f0c11", "Operation": "OperationTypeApply", "Info": "",
        "Who": "deploy@ci", "Version": "1.11.4", "Created": "2026-01-01T00:00:00Z", "Path": str(state)}))
    with state.open("r+") as held:
        fcntl.lockf(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        release = threading.Timer(HELD_S, fcntl.lockf, (held, fcntl.LOCK_UN))
        release.start()
        started = time.monotonic()
        try:
            planned = make_plan(stack, PlanFolder(tmp_path / "plans" / "tap-pipeline-drift"))
        finally:
            release.cancel()
        waited = time.monotonic() - started
    assert waited >= HELD_S  # without -lock-timeout Terraform fails at once: "Error acquiring the state lock"
    assert [c["change"]["actions"] for c in planned["resource_changes"]] == [["create"]]
