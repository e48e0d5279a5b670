"""`apply` runs the concurrency preflight after the review check and before Terraform touches anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.plan_files import write_plan
from tools.plans.apply import ApplyRefused, apply_plan, concurrency_preflight
from tools.plans.layout import PlanFolder, sha256_of


def _reviewed_folder(tmp_path: Path) -> PlanFolder:
    folder = PlanFolder(tmp_path / "tap-pipeline-prod")
    folder.workdir.mkdir(parents=True)
    write_plan(folder.plan_file)
    folder.review_json.write_text(json.dumps({
        "stack": "tap-pipeline-prod", "passed": True, "plan_sha256": sha256_of(folder.plan_file),
    }))
    return folder


def test_a_refusing_preflight_stops_the_apply_before_terraform_runs(tmp_path: Path, monkeypatch) -> None:
    folder = _reviewed_folder(tmp_path)
    ran: list[object] = []
    monkeypatch.setattr("tools.plans.apply.run_terraform", lambda *a, **k: ran.append(a))
    monkeypatch.setattr("tools.preflight.run", lambda stack_dir, stack: 1)
    with pytest.raises(ApplyRefused, match="reserved concurrency .* nothing applied"):
        apply_plan(folder, preflight=concurrency_preflight)
    assert ran == []


def test_a_preflight_that_cannot_read_the_account_refuses_with_its_reason(tmp_path: Path, monkeypatch) -> None:
    from tools.preflight import PreflightError

    folder = _reviewed_folder(tmp_path)

    def denied(stack_dir: Path, stack: str) -> int:
        raise PreflightError("AWS refused the concurrency check (AccessDeniedException)")

    monkeypatch.setattr("tools.preflight.run", denied)
    with pytest.raises(ApplyRefused, match="could not check the account: .*AccessDenied"):
        apply_plan(folder, preflight=concurrency_preflight)


def test_the_preflight_reads_the_stack_the_plan_was_made_from_and_names_it(tmp_path: Path, monkeypatch) -> None:
    folder = _reviewed_folder(tmp_path)
    seen: list[tuple[Path, str]] = []
    monkeypatch.setattr("tools.preflight.run", lambda stack_dir, stack: seen.append((stack_dir, stack)) or 0)
    monkeypatch.setattr("tools.plans.apply.run_terraform",
                        lambda *a, **k: type("R", (), {"returncode": 0, "stdout": "Apply complete!", "stderr": ""})())
    assert "Apply complete!" in apply_plan(folder, preflight=concurrency_preflight)
    assert seen == [(folder.workdir, "tap-pipeline-prod")]  # not the folder's name, `work`


def test_an_unreviewed_plan_is_refused_before_the_preflight_runs(tmp_path: Path) -> None:
    folder = PlanFolder(tmp_path / "tap-pipeline-prod")
    called: list[PlanFolder] = []
    with pytest.raises(ApplyRefused, match="no plan"):
        apply_plan(folder, preflight=called.append)
    assert called == []
