"""The environments file's ``[ci]`` table: the CI identities' stack, derived from the environments CI deploys,
validated by the settings dataclass, every problem named by the file and the key it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.ci_settings import CiStackSettings
from modules.environments_file import EnvironmentsFile
from modules.settings import SettingsError
from tests.unit.test_environments_file import ACCOUNT, BASE, label, problems, read

LOCAL = '[environments.local]\naccount_id = "123456789012"\nbackend.kind = "local"\n'
CI = '[ci]\nrepository = "acme/orders"\n'


def ci_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> CiStackSettings:
    return read(tmp_path, text).ci({**ACCOUNT, **(env or {})})


def ci_problems(tmp_path: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as raised:
        ci_of(tmp_path, text)
    return raised.value.problems


def test_ci_makes_roles_for_every_s3_backed_environment_in_the_states_account(tmp_path: Path) -> None:
    ci = ci_of(tmp_path, CI + BASE + LOCAL + '[environments.qa]\n[environments.live]\nregion = "us-west-2"\n')
    identities = ci.identities
    assert identities.repository == "acme/orders"
    assert (identities.deploy_environments, identities.plan_environments) == (("qa", "live"), ("plan-qa", "plan-live"))
    assert (identities.project, identities.project_tag) == ("tap", "orders")
    assert ci.state_keys == ("qa/tap-pipeline-qa.tfstate", "live/tap-pipeline-live.tfstate",
                             "state/tap-pipeline-state.tfstate")
    assert ci.regions == ("eu-west-1", "us-west-2")
    assert (ci.state.account_id, ci.state.bucket) == ("111122223333", "tap-pipeline-tfstate-111122223333-us-east-1")
    assert ci.tags == {"Project": "orders", "CostCenter": "cc-7", "Owner": "team-orders", "ManagedBy": "cdktf",
                       "Environment": "ci"}


def test_ci_keys_override_what_is_derived(tmp_path: Path) -> None:
    text = (CI + 'deploy_environments = ["production"]\nplan_environments = ["preview"]\nplan_pull_requests = false\n'
            'max_session_s = 7200\noidc_provider_arn = "arn:aws:iam::111122223333:oidc-provider/'
            'token.actions.githubusercontent.com"\n[ci.tags]\nTeam = "platform"\n' + BASE + "[environments.qa]\n")
    ci = ci_of(tmp_path, text)
    identities = ci.identities
    assert (identities.deploy_environments, identities.plan_environments) == (("production",), ("preview",))
    assert (identities.plan_pull_requests, identities.max_session_s) == (False, 7200)
    assert identities.oidc_provider_arn.endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert identities.tags == {"Team": "platform"} and ci.tags["Team"] == "platform"


def test_a_bad_ci_value_is_named_where_it_was_written(tmp_path: Path) -> None:
    assert ci_problems(tmp_path, '[ci]\nrepository = "acme"\nmax_session_s = 60\n' + BASE + "[environments.qa]\n") == (
        f"{label(tmp_path)}: ci.repository='acme' is invalid: allowed owner/name as GitHub spells it, the owner 1-39 "
        "letters, digits or single hyphens, the name 1-100 letters, digits, '.', '-', '_'",
        f"{label(tmp_path)}: ci.max_session_s=60 is invalid: allowed 3600..43200 (IAM's bounds)")


def test_a_ci_table_without_a_repository_says_what_it_takes(tmp_path: Path) -> None:
    [problem] = ci_problems(tmp_path, "[ci]\nplan_pull_requests = false\n" + BASE + "[environments.qa]\n")
    assert problem.startswith(f"{label(tmp_path)}: ci.repository='' is invalid: allowed owner/name")


def test_a_ci_key_of_the_wrong_type_or_unknown_is_refused_on_reading(tmp_path: Path) -> None:
    text = CI + 'deploy_environments = "prod"\nreposotory = "x/y"\n' + BASE + "[environments.qa]\n"
    assert problems(tmp_path, text) == (
        f"{label(tmp_path)}: ci.deploy_environments='prod' is invalid: allowed an array of strings",
        f"{label(tmp_path)}: ci.reposotory='x/y' is invalid: allowed one of the keys repository, plan_role_name, "
        "deploy_role_name, plan_environments, deploy_environments, plan_pull_requests, max_session_s, "
        "oidc_provider_arn, tags (did you mean repository?)")


def test_the_ci_stack_without_a_ci_table_says_what_to_add(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        read(tmp_path, BASE + "[environments.qa]\n").ci({**ACCOUNT, "TAP_STACKS": "ci"})
    assert raised.value.problems == (
        f"{label(tmp_path)}: ci=None is invalid: allowed a [ci] table with at least repository = \"<owner>/<name>\" "
        "(the GitHub repository whose workflows assume the CI roles; docs/configuration-reference.md), since "
        "TAP_STACKS names ci",)


def test_an_environment_in_another_account_cannot_be_deployed_by_the_ci_roles(tmp_path: Path) -> None:
    assert ci_problems(tmp_path, CI + BASE + '[environments.qa]\naccount_id = "444455556666"\n') == (
        f"{label(tmp_path)}: environments.qa.account_id='444455556666' is invalid: allowed the state's account "
        "111122223333 for qa, since the CI roles are made there and cannot deploy to another account",)


def test_environments_with_different_project_tags_are_refused(tmp_path: Path) -> None:
    [problem] = ci_problems(tmp_path, CI + BASE + '[environments.qa]\ntags.Project = "other"\n[environments.live]\n')
    assert problem.startswith(f"{label(tmp_path)}: environments.<name>.tags.Project=['orders', 'other'] is invalid: "
                              "allowed one Project tag for every environment")


def test_a_bad_region_is_named_by_the_environment_that_sets_it_once(tmp_path: Path) -> None:
    assert ci_problems(tmp_path, CI + BASE + '[environments.qa]\nregion = "moon"\n') == (
        f"{label(tmp_path)}: environments.qa.region='moon' is invalid: allowed an AWS region such as us-east-1",)


@pytest.mark.parametrize("name", ["ci", "state", "bootstrap"])
def test_the_names_of_stacks_of_their_own_are_no_environment_names(tmp_path: Path, name: str) -> None:
    [problem] = problems(tmp_path, BASE + f"[environments.{name}]\n")
    assert problem.startswith(f"{label(tmp_path)}: environments={name!r} is invalid: allowed a name other than "
                              "ci, state, bootstrap, which name stacks of their own (tap-pipeline-")


def test_ci_is_no_preview_suffix(tmp_path: Path) -> None:
    environments = read(tmp_path, 'preview_from = "qa"\n' + BASE + "[environments.qa]\n")
    with pytest.raises(SettingsError, match="ENVIRONMENT_SUFFIX='ci' is invalid: allowed a name other than ci, "
                                            "state, bootstrap"):
        environments.preview("ci", ACCOUNT)


@pytest.mark.parametrize(("has_ci", "stacks", "wanted"), [
    (True, "", True), (True, "local", False), (True, "qa,ci", True), (False, "", False), (False, "ci", True)])
def test_the_ci_stack_is_made_when_named_or_when_all_are_and_the_file_has_ci(
        tmp_path: Path, has_ci: bool, stacks: str, wanted: bool) -> None:
    environments = read(tmp_path, (CI if has_ci else "") + BASE + "[environments.qa]\n")
    assert environments.wants_ci({"TAP_STACKS": stacks}) is wanted


def test_tap_stacks_may_name_ci_beside_the_environments(tmp_path: Path) -> None:
    environments = read(tmp_path, CI + BASE + "[environments.qa]\n[environments.live]\n")
    assert [e.name for e in environments.selected({**ACCOUNT, "TAP_STACKS": "ci,live"})] == ["live"]


def test_the_shipped_file_is_read_with_the_same_class(tmp_path: Path) -> None:
    assert isinstance(read(tmp_path, CI + BASE + "[environments.qa]\n"), EnvironmentsFile)
