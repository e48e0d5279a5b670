"""One plan: the review reads the binary plan it hashes, `plan` fails when its review blocks, and `apply`
refuses an offline plan before Terraform runs."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

from tests.support.plan_files import LOCK, write_plan
from tools.plans import apply, plan, review
from tools.plans.apply import ApplyRefused, apply_plan
from tools.plans.layout import PlanFolder, sha256_of
from tools.plans.offline import OVERRIDE_FILE, STUB_ACCESS_KEY, is_offline_plan

STACK = "tap-pipeline-prod"


def _folder(tmp_path: Path, **record: object) -> PlanFolder:
    folder = PlanFolder(tmp_path / STACK)
    folder.workdir.mkdir(parents=True)
    write_plan(folder.plan_file)
    folder.review_json.write_text(json.dumps({
        "stack": STACK, "passed": True, "plan_sha256": sha256_of(folder.plan_file), **record}))
    return folder


@pytest.fixture
def terraform_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake(args: list[str], workdir: Path, **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="Apply complete!", stderr="")

    monkeypatch.setattr("tools.plans.apply.run_terraform", fake)
    return calls


def test_apply_refuses_a_plan_its_review_recorded_as_offline(tmp_path: Path, terraform_calls: list) -> None:
    folder = _folder(tmp_path, offline=True)
    with pytest.raises(ApplyRefused, match="made with --offline .* plan again without --offline"):
        apply_plan(folder)
    assert terraform_calls == []


def test_apply_refuses_a_plan_made_in_a_folder_with_the_offline_override(tmp_path: Path,
                                                                          terraform_calls: list) -> None:
    folder = _folder(tmp_path)  # a review record from before offline plans were recorded
    (folder.workdir / OVERRIDE_FILE).write_text("{}")
    with pytest.raises(ApplyRefused, match="made with --offline"):
        apply_plan(folder)
    assert terraform_calls == []


def test_apply_installs_the_plans_providers_then_applies_the_plan_file(tmp_path: Path, terraform_calls: list) -> None:
    """A folder from a CI artifact has no lock file of its own outside the plan and no .terraform: the lock file
    comes out of the reviewed plan, `init -lockfile=readonly` installs what it pins, and apply waits for a lock."""
    folder = _folder(tmp_path, offline=False)
    assert apply_plan(folder) == "Apply complete!"
    assert terraform_calls == [["init", "-input=false", "-no-color", "-lockfile=readonly"],
                               ["apply", "-input=false", "-no-color", "-lock-timeout=5m", str(folder.plan_file)]]
    assert folder.lock_file.read_bytes() == LOCK


def test_a_lock_file_other_than_the_plans_is_refused_before_terraform_runs(tmp_path: Path,
                                                                           terraform_calls: list) -> None:
    folder = _folder(tmp_path, offline=False)
    folder.lock_file.write_bytes(LOCK.replace(b"h1:", b"h1:X"))
    with pytest.raises(ApplyRefused, match="not the lock file inside the reviewed plan"):
        apply_plan(folder)
    assert terraform_calls == []


def test_providers_carried_in_the_folder_are_installed_again_and_their_targets_kept(tmp_path: Path,
                                                                                     terraform_calls: list) -> None:
    """A provider that lost its execute bit in a zip, or a link into this machine's mirror: both go before init."""
    folder = _folder(tmp_path, offline=False)
    mirror = tmp_path / "mirror" / "linux_amd64"
    mirror.mkdir(parents=True)
    (mirror / "terraform-provider-aws").write_text("the mirror's provider")
    providers = folder.workdir / ".terraform" / "providers" / "registry.terraform.io" / "hashicorp" / "aws"
    providers.mkdir(parents=True)
    (providers / "linux_amd64").symlink_to(mirror)
    (providers / "stripped").write_text("a provider without its execute bit")
    (folder.workdir / ".terraform" / "terraform.tfstate").write_text("{}")
    apply_plan(folder)
    assert not (folder.workdir / ".terraform" / "providers").exists()
    assert (mirror / "terraform-provider-aws").read_text() == "the mirror's provider"
    assert (folder.workdir / ".terraform" / "terraform.tfstate").is_file()  # the backend's record stays


def test_a_plan_file_that_is_no_terraform_plan_is_refused(tmp_path: Path, terraform_calls: list) -> None:
    folder = _folder(tmp_path, offline=False)
    folder.plan_file.write_bytes(b"plain bytes")
    folder.review_json.write_text(json.dumps({"stack": STACK, "passed": True,
                                              "plan_sha256": sha256_of(folder.plan_file)}))
    with pytest.raises(ApplyRefused, match="not a Terraform plan with a dependency lock file"):
        apply_plan(folder)
    assert terraform_calls == []


def test_the_apply_command_says_why_it_refuses_an_offline_plan(tmp_path: Path, terraform_calls: list,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    _folder(tmp_path, offline=True)
    assert apply.main(["--env", "prod", "--plans-dir", str(tmp_path), "--skip-preflight"]) == 1
    assert "apply refused: this plan was made with --offline" in capsys.readouterr().err
    assert terraform_calls == []


def test_a_plan_is_offline_when_its_aws_provider_has_the_stub_key() -> None:
    def provider(access_key: str) -> dict:
        return {"configuration": {"provider_config": {"aws": {
            "name": "aws", "expressions": {"access_key": {"constant_value": access_key}}}}}}

    assert is_offline_plan(provider(STUB_ACCESS_KEY))
    assert not is_offline_plan(provider("test"))  # the emulator's dummy key: `local` plans apply
    assert not is_offline_plan({"configuration": {"provider_config": {"aws": {"name": "aws"}}}})


def _args(**overrides: object) -> argparse.Namespace:
    values = {"env": "prod", "stack_dir": None, "offline": True, "state": None, "endpoint": None,
              "plans_dir": Path("/nonexistent"), "detailed_exitcode": False, "destroy": False, "ack": [],
              "skip_checkov": True}
    return argparse.Namespace(**{**values, **overrides})


@pytest.mark.parametrize(("review_code", "expected"), [(0, 0), (1, 1), (3, 3)])
def test_plan_exits_with_its_reviews_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          review_code: int, expected: int) -> None:
    (tmp_path / "cdk.tf.json").write_text("{}")
    monkeypatch.setattr(plan, "make_plan", lambda *a, **k: {"resource_changes": []})
    monkeypatch.setattr(review, "review_folder", lambda folder, args, plan=None, **_: review_code)
    assert plan.run(_args(stack_dir=tmp_path, plans_dir=tmp_path)) == expected


def test_a_blocked_plan_with_changes_still_reports_drift_with_detailed_exitcode(monkeypatch: pytest.MonkeyPatch,
                                                                                tmp_path: Path) -> None:
    (tmp_path / "cdk.tf.json").write_text("{}")
    changed = {"resource_changes": [{"address": "aws_sqs_queue.q", "mode": "managed", "type": "aws_sqs_queue",
                                     "change": {"actions": ["update"], "before": {}, "after": {}}}]}
    monkeypatch.setattr(plan, "make_plan", lambda *a, **k: changed)
    monkeypatch.setattr(review, "review_folder", lambda folder, args, plan=None, **_: 1)
    assert plan.run(_args(stack_dir=tmp_path, plans_dir=tmp_path, detailed_exitcode=True)) == 2


def test_the_review_derives_its_json_from_the_plan_file_and_rewrites_plan_json(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    folder.plan_json.write_text(json.dumps({"resource_changes": [], "note": "edited by hand"}))
    shown = {"format_version": "1.2", "resource_changes": [], "note": "terraform show -json of plan.tfplan"}
    seen: list[list[str]] = []

    def fake(args: list[str], workdir: Path, **_: object) -> subprocess.CompletedProcess[str]:
        seen.append(args)
        return subprocess.CompletedProcess(args, 0, stdout=json.dumps(shown), stderr="")

    monkeypatch.setattr(review, "run_terraform", fake)
    derived, digest = review.plan_from_binary(folder)
    assert derived == shown and digest == sha256_of(folder.plan_file)
    assert seen == [["show", "-json", "-no-color", str(folder.plan_file.resolve())]]
    assert json.loads(folder.plan_json.read_text()) == shown


def test_a_plan_file_terraform_cannot_read_is_a_review_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    monkeypatch.setattr(review, "run_terraform", lambda args, workdir, **_: subprocess.CompletedProcess(
        args, 1, stdout="", stderr="Error: Failed to read the given file as a state or plan file"))
    with pytest.raises(review.ReviewError, match="terraform show cannot read .*plan.tfplan.*plan again"):
        review.plan_from_binary(folder)
