"""Missing AWS credentials are named before Terraform runs, with how to give them and what comes first.

Each test builds the shell the command would run in: no AWS variables, config and credentials files of its own,
no instance metadata, so that nothing on the machine running the tests answers for it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tests.support.plan_files import write_plan
from tools.aws_credentials import MissingCredentials, require_credentials
from tools.plans import apply, plan
from tools.plans.layout import PlanFolder, sha256_of

SSO_PROFILE = """[profile dev-sso]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Deploy
region = us-east-1
"""


@pytest.fixture
def bare_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A shell with no AWS credentials anywhere; returns its ~/.aws/config, empty."""
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                     "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(variable, raising=False)
    config = tmp_path / "aws-config"
    config.write_text("")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return config


def refusal(stack: str) -> str:
    with pytest.raises(MissingCredentials) as raised:
        require_credentials(stack)
    return str(raised.value)


def test_no_credentials_names_the_stack_the_ways_to_give_them_and_the_bootstrap(bare_shell: Path) -> None:
    message = refusal("tap-pipeline-dev")
    assert message.startswith("tap-pipeline-dev needs AWS credentials, but none were found")
    for way in ("AWS_PROFILE", "aws sso login --profile", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "aws-actions/configure-aws-credentials"):
        assert way in message, way
    assert "On a new account `make bootstrap` comes first" in message


def test_the_bootstrap_stack_itself_is_not_told_to_bootstrap_first(bare_shell: Path) -> None:
    assert "make bootstrap" not in refusal("tap-pipeline-state")


def test_a_profile_the_config_lacks_is_named(bare_shell: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nope")
    assert "AWS_PROFILE='nope' names no profile of ~/.aws/config" in refusal("tap-pipeline-prod")


def test_an_sso_profile_without_a_session_is_told_to_log_in(bare_shell: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bare_shell.write_text(SSO_PROFILE)
    monkeypatch.setenv("AWS_PROFILE", "dev-sso")
    assert "(run `aws sso login --profile dev-sso`)" in refusal("tap-pipeline-dev")


def test_keys_in_the_environment_are_enough(bare_shell: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    require_credentials("tap-pipeline-dev")


def test_plan_says_so_before_synthesis_and_terraform(bare_shell: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    ran: list[str] = []
    monkeypatch.setattr(plan, "synthesize", lambda env: ran.append("synthesis"))
    monkeypatch.setattr(plan, "make_plan", lambda *a, **k: ran.append("terraform"))
    assert plan.main(["--env", "dev"]) == 3
    assert capsys.readouterr().err.startswith("plan: tap-pipeline-dev needs AWS credentials, but none were found")
    assert ran == []


def test_offline_and_emulator_plans_need_no_credentials(bare_shell: Path, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    (tmp_path / "cdk.tf.json").write_text("{}")
    monkeypatch.setattr(plan, "make_plan", lambda *a, **k: {"resource_changes": []})
    monkeypatch.setattr(plan.review, "review_folder", lambda folder, args, plan=None, **_: 0)
    common = {"stack_dir": tmp_path, "state": None, "plans_dir": tmp_path, "detailed_exitcode": False, "destroy": False,
              "skip_checkov": True}
    assert plan.run(argparse.Namespace(env="prod", offline=True, endpoint=None, **common)) == 0
    assert plan.run(argparse.Namespace(env="local", offline=False, endpoint="http://127.0.0.1:1", **common)) == 0


def test_apply_says_so_after_the_review_check_and_before_terraform(bare_shell: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = PlanFolder(tmp_path / "tap-pipeline-prod")
    folder.workdir.mkdir(parents=True)
    write_plan(folder.plan_file)
    folder.review_json.write_text(json.dumps({"stack": folder.root.name, "passed": True,
                                              "plan_sha256": sha256_of(folder.plan_file)}))
    ran: list[list[str]] = []
    monkeypatch.setattr(apply, "run_terraform", lambda args, *a, **k: ran.append(args))
    assert apply.main(["--env", "prod", "--plans-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith("apply refused: tap-pipeline-prod needs AWS credentials, but none")
    assert ran == []
