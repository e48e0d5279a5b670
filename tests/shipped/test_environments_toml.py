"""The shipped environments.toml: every environment in it builds, and another one, in another region and
account, is an edit of that file alone."""

from __future__ import annotations

import json

import pytest

from main import build_app
from modules.settings import STAGES
from tests.support.environments import SHIPPED_FILE, shipped

VARIABLES = {"TAP_AWS_ACCOUNT_ID": "111122223333", "TAP_ALARM_EMAIL": "oncall@example.com"}
QA = '''
[environments.qa]
region = "eu-west-1"
account_id = "444455556666"
'''


@pytest.mark.parametrize("name", shipped().names)
def test_every_shipped_environment_is_valid_and_complete(name: str) -> None:
    settings = shipped().environment(name, VARIABLES)
    assert (settings.name, settings.stack_name) == (name, f"tap-pipeline-{name}")
    assert set(settings.functions) == set(STAGES)


@pytest.fixture(scope="module")
def qa_stack(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The shipped file plus a `qa` table, synthesized with TAP_STACKS=qa as `main.py` would."""
    folder = tmp_path_factory.mktemp("qa")
    edited = folder / "environments.toml"
    edited.write_text(SHIPPED_FILE.read_text() + QA)
    env = {**VARIABLES, "TAP_ENVIRONMENTS_FILE": str(edited), "TAP_STACKS": "qa"}
    build_app(outdir=str(folder / "cdktf.out"), env=env).synth()
    stacks = folder / "cdktf.out" / "stacks"
    assert sorted(p.name for p in stacks.iterdir()) == ["tap-pipeline-qa", "tap-pipeline-state"]
    return json.loads((stacks / "tap-pipeline-qa" / "cdk.tf.json").read_text())


def test_qa_deploys_to_its_own_region_and_refuses_every_other_account(qa_stack: dict) -> None:
    [provider] = qa_stack["provider"]["aws"]
    assert (provider["region"], provider["allowed_account_ids"]) == ("eu-west-1", ["444455556666"])
    assert provider["default_tags"][0]["tags"]["Environment"] == "qa"


def test_qa_names_its_own_account_and_region_in_its_resources(qa_stack: dict) -> None:
    [key] = qa_stack["resource"]["aws_kms_key"].values()
    statements = json.loads(key["policy"])["Statement"]
    root = {"AWS": "arn:${data.aws_partition.aws-partition.partition}:iam::444455556666:root"}
    assert root in [s.get("Principal") for s in statements]
    [dashboard] = qa_stack["resource"]["aws_cloudwatch_dashboard"].values()
    assert '"region": "eu-west-1"' in dashboard["dashboard_body"]


def test_qa_keeps_its_state_in_the_shared_state_home(qa_stack: dict) -> None:
    backend = qa_stack["terraform"]["backend"]["s3"]
    assert (backend["bucket"], backend["key"], backend["region"]) == (
        "tap-pipeline-tfstate-111122223333-us-east-1", "qa/tap-pipeline-qa.tfstate", "us-east-1")


def test_the_ci_identities_are_one_uncommented_table_away(tmp_path) -> None:
    """Shipped without [ci] (the repository is the user's): TAP_STACKS=ci says what to add; uncommented with a
    repository, the table makes roles for dev, staging and prod, the environments the workflows deploy."""
    from modules.environments_file import EnvironmentsFile
    from modules.settings import SettingsError

    with pytest.raises(SettingsError, match=r"ci=None is invalid: allowed a \[ci\] table with at least repository"):
        shipped().ci({**VARIABLES, "TAP_STACKS": "ci"})
    text = SHIPPED_FILE.read_text()
    assert '# [ci]\n# repository = "<owner>/<name>"\n' in text
    edited = tmp_path / "environments.toml"
    edited.write_text(text.replace('# [ci]\n# repository = "<owner>/<name>"\n', '[ci]\nrepository = "acme/tap"\n'))
    identities = EnvironmentsFile.read(edited).ci(VARIABLES).identities
    assert identities.deploy_environments == ("dev", "staging", "prod")
    assert identities.plan_environments == ("plan-dev", "plan-staging", "plan-prod")
