"""plan -> review -> apply on real offline Terraform plans of the `prod` stack."""

from __future__ import annotations

import copy
import json

import pytest

from tests.support.environments import FIXTURE
from tests.support.opa_engine import deny_and_warn, engine
from tests.support.shared_provider import shared_providers
from tests.tools.plans import conftest as plans_conftest
from tests.tools.plans.conftest import PlanMaker
from tools.cost.config import read_stack
from tools.cost.plan_values import pipeline_from_values
from tools.plans import offline, public_parameters
from tools.plans.apply import ApplyRefused, apply_plan
from tools.plans.layout import PROJECT_ROOT, PlanFolder, sha256_of, terraform_variables
from tools.plans.plan import PlanError, make_plan
from tools.plans.policies import evaluate, policy_files
from tools.plans.review import ReviewError, build_review, write_review
from tools.terraform_cli import run_terraform

pytestmark = pytest.mark.integration

TABLE = "aws_dynamodb_table.data-table_DBA5A328"
REJECTS_QUEUE = "aws_sqs_queue.rejects-queue_13BBFBA3"
VALIDATOR_FUNCTION = "aws_lambda_function.validator_function_0B08975D"
VALIDATOR_POLICY = "aws_iam_role_policy.validator_role-policy_12E78E74"
PROCESSOR_FUNCTION = "aws_lambda_function.processor_function_D7E0E582"
PROCESSOR_ALIAS = "aws_lambda_alias.processor_alias_D40D2F24"
# prod's resources: 67 until the queue and redrive-allow policies became arguments of the queues (10 fewer);
# then 4 more: the arrivals alarms of the three dead-letter queues and the rejects queue; then 6 more with gradual
# releases: the CodeDeploy application, its three deployment groups, its service role and the role's policy.
PROD_RESOURCES = 67
# The tests that plan the same variant share one Terraform plan (plan_variant in conftest.py) when they run on one
# worker: one group for each such variant.
UNCHANGED = "prod-plan-unchanged"
TABLE_KEY_SWAPPED = "prod-plan-table-key-swapped"
OUTPUTS_DROPPED = "prod-plan-outputs-dropped"


@pytest.fixture(autouse=True)
def plans_on_a_shared_provider():
    """The tests' own make_plan calls plan and show on this worker's shared provider (their applies do not)."""
    with shared_providers().in_make_plan():
        yield


def resource(document: dict, address: str) -> dict:
    type_, name = address.split(".", 1)
    return document["resource"][type_][name]


def reviewed(folder: PlanFolder, *, from_binary: bool = False, **kwargs):
    """The review of a plan of the session's stacks, with the ceilings of the file they come from.

    Of the JSON that ``make_plan`` derived from the plan file with it, as `plan` hands both to the review (one
    ``terraform show`` fewer per test); with ``from_binary``, of the plan file shown again, as `review` reads it."""
    plan = None if from_binary else (json.loads(folder.plan_json.read_text()), sha256_of(folder.plan_file))
    review = build_review(folder, environments=FIXTURE, plan=plan, **kwargs)
    write_review(folder, review)
    return review


@pytest.fixture(scope="module")
def fresh_review(fresh_plan):
    """The review of the fresh `prod` plan, with checkov, read from the plan file as `review` reads it."""
    folder, _ = fresh_plan
    return folder, reviewed(folder, from_binary=True)


# Both on one worker, so that the fresh plan is reviewed (with checkov) once.
@pytest.mark.xdist_group("fresh-review")
def test_fresh_environment_creates_only_and_passes(fresh_review) -> None:
    folder, review = fresh_review
    assert {c.action for c in review.changes} == {"create"}
    assert len(review.changes) == PROD_RESOURCES
    assert review.passed and review.blocking == []
    assert review.checkov.endswith(", 0 failed") and not review.checkov.startswith("0 passed")
    table = next(c for c in review.changes if c.address == TABLE)
    assert table.construct == "tap-pipeline-prod/data-table/table"
    record = json.loads(folder.review_json.read_text())
    assert record["passed"] is True and record["counts"] == {"create": PROD_RESOURCES}
    assert record["offline"] is True, "apply must be able to refuse it"
    assert record["cost"]["before_usd"] == 0 and record["cost"]["after_usd"] > 0
    assert f"{PROD_RESOURCES} to create" in folder.review_md.read_text()



@pytest.mark.xdist_group("fresh-review")
def test_the_sample_review_in_the_docs_is_the_fresh_plans_review(fresh_review) -> None:
    """docs/deploying.md shows this review (shortened): run `make docs` when it differs."""
    from tools.docs import cli as docs_cli
    from tools.docs.figures import sample_review
    from tools.docs.markers import blocks

    _, review = fresh_review
    shown = blocks((PROJECT_ROOT / docs_cli.BLOCKS["sample-review"]).read_text())["sample-review"]
    assert shown == sample_review(review), "stale: run `make docs` (python -m tools docs)"
    assert f"changes: {PROD_RESOURCES} to create" in shown

def test_the_cost_model_reads_the_planned_values_as_it_reads_the_synthesized_stack(fresh_plan,
                                                                                    prod_stack_dir) -> None:
    _, plan = fresh_plan
    synthesized = read_stack(json.loads((prod_stack_dir / "cdk.tf.json").read_text()), "prod")
    assert pipeline_from_values(plan["planned_values"], "prod", plan["configuration"]) == synthesized


def test_opa_decides_the_fresh_plan_as_regopy_does(fresh_plan) -> None:
    _, plan = fresh_plan
    ours = evaluate(plan)
    with engine(policy_files()) as opa:
        assert deny_and_warn(opa, plan) == (ours.deny, ours.warn)


def test_the_bootstrap_stacks_fresh_plan_passes_the_policies(synth_dir, tmp_path) -> None:
    # Its bucket policy is known only after apply (the bucket's ARN): it is reviewed from its document.
    folder = PlanFolder.for_stack("tap-pipeline-state", tmp_path)
    plan = make_plan(synth_dir / "tap-pipeline-state", folder, offline_mode=True)
    [policy] = [c for c in plan["resource_changes"] if c["type"] == "aws_s3_bucket_policy"]
    assert policy["change"]["after_unknown"]["policy"] is True
    review = reviewed(folder, run_checkov=False)
    assert review.blocking == [] and review.passed
    assert review.cost.note.startswith("not estimated: state: no aws_lambda_function")


def test_the_ci_identities_fresh_plan_passes_the_gate(synth_dir, tmp_path) -> None:
    """The roles' trust policies are known only after apply (they federate with the provider the plan creates):
    reviewed from their documents, with that provider as the principal, and nothing blocks or warns."""
    folder = PlanFolder.for_stack("tap-pipeline-ci", tmp_path)
    plan = make_plan(synth_dir / "tap-pipeline-ci", folder, offline_mode=True)
    roles = [c for c in plan["resource_changes"] if c["type"] == "aws_iam_role"]
    assert len(roles) == 2 and all(r["change"]["after_unknown"]["assume_role_policy"] is True for r in roles)
    review = reviewed(folder, run_checkov=False)
    assert (review.blocking, review.warnings) == ([], []) and review.passed
    assert {c.action for c in review.changes} == {"create"}
    assert {c.address.split(".")[0] for c in review.changes} == {
        "aws_iam_openid_connect_provider", "aws_iam_role", "aws_iam_policy", "aws_iam_role_policy_attachment"}


def test_offline_plan_reads_the_locked_layer_from_the_public_parameter_stand_in(fresh_plan) -> None:
    _, plan = fresh_plan
    lock = json.loads((PROJECT_ROOT / "Pipfile.lock").read_text())
    version = lock["default"]["aws-lambda-powertools"]["version"].removeprefix("==")
    [function] = [c for c in plan["resource_changes"] if c["address"] == PROCESSOR_FUNCTION]
    assert function["change"]["after"]["layers"] == [
        "arn:aws:lambda:us-east-1:123456789012:layer:offline-stand-in-powertools-python-arm64-python3-13-"
        f"{version.replace('.', '-')}:1"]


def test_a_copied_plan_folder_asks_this_processs_own_stand_in(fresh_plan, prod_stack_dir, tmp_path) -> None:
    # The fresh plan is made once per run, by whichever worker comes first; its stand-in server is that worker's.
    folder, _ = fresh_plan
    copy_ = PlanFolder.for_stack(plans_conftest.STACK, tmp_path)
    copy_.root.mkdir(parents=True)
    copy_.settings_json.write_text(json.dumps({**folder.settings(), "endpoints": {"ssm": "http://127.0.0.1:9"}}))
    plans_conftest.point_at_own_stand_in(copy_, prod_stack_dir)
    own = public_parameters.serve(public_parameters.public_parameter_names(prod_stack_dir))
    assert copy_.settings()["endpoints"] == {"ssm": own} == folder.settings()["endpoints"]


@pytest.mark.xdist_group(UNCHANGED)
def test_a_shared_plan_is_made_once_and_reaches_each_caller_as_a_copy_of_its_own(
        plan_variant: PlanMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    made = []
    monkeypatch.setattr(plans_conftest, "make_plan", lambda *args, **kwargs: made.append(args) or make_plan(
        *args, **kwargs))
    first, plan = plan_variant()
    second, _ = plan_variant()
    assert first.root != second.root and first.plan_file.read_bytes() == second.plan_file.read_bytes()
    first.plan_file.write_bytes(b"tampered")
    third, again = plan_variant()
    assert second.plan_file.read_bytes() == third.plan_file.read_bytes() != b"tampered", "a copy changed another"
    assert again == plan
    assert len(made) <= 1, "the unchanged variant was planned again"  # 0: an earlier test of the group made it


@pytest.mark.xdist_group(UNCHANGED)
def test_no_change_passes(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant()
    review = reviewed(folder, run_checkov=False)
    assert review.changes == [] and not review.output_changes
    assert review.passed
    assert "no changes" in folder.review_md.read_text()


def test_memory_change_is_an_update_with_a_warning(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_stack=lambda d: resource(d, VALIDATOR_FUNCTION).update(memory_size=512))
    review = reviewed(folder, run_checkov=False)
    # publish = true: a new version, which CodeDeploy moves the alias to in prod (python -m tools release).
    assert [(c.address, c.action) for c in review.changes] == [(VALIDATOR_FUNCTION, "update")]
    function = review.changes[0]
    assert [(a.name, a.before, a.after) for a in function.attributes if a.name == "memory_size"] == [
        ("memory_size", "128", "512")]
    assert [w.message for w in review.warnings] == [f"{VALIDATOR_FUNCTION}: memory_size changes from 128 to 512"]
    assert review.passed


def test_a_code_change_in_prod_publishes_a_new_version_and_leaves_the_alias_to_codedeploy(
        plan_variant: PlanMaker) -> None:
    new_code = "bmV3IGNvZGUgb2YgdGhlIHZhbGlkYXRvcg=="
    folder, plan = plan_variant(edit_stack=lambda d: resource(d, VALIDATOR_FUNCTION).update(source_code_hash=new_code))
    review = reviewed(folder, run_checkov=False)
    assert [(c.address, c.action) for c in review.changes] == [(VALIDATOR_FUNCTION, "update")]
    [change] = [c["change"] for c in plan["resource_changes"] if c["address"] == VALIDATOR_FUNCTION]
    assert change["after"]["source_code_hash"] == new_code
    assert change["after_unknown"]["version"] is True, "a new version is published"
    [alias] = [c for c in plan["resource_changes"] if c["address"] == "aws_lambda_alias.validator_alias_5791B2B0"]
    assert alias["change"]["actions"] == ["no-op"], "CodeDeploy, not the apply, moves the alias"
    assert review.passed and review.blocking == []


def swap_table_key(document: dict) -> None:
    table = resource(document, TABLE)
    table["hash_key"], table["range_key"] = table["range_key"], table["hash_key"]


def swap_table_key_unprotected(document: dict) -> None:
    """The key swap by someone who also lifted prod's prevent_destroy: the review must still stop it."""
    swap_table_key(document)
    del resource(document, TABLE)["lifecycle"]["prevent_destroy"]


def test_replacing_the_protected_table_fails_at_plan_time(plan_variant: PlanMaker) -> None:
    with pytest.raises(PlanError, match=r"aws_dynamodb_table\.data-table_DBA5A328 has lifecycle\.prevent_destroy"):
        plan_variant(edit_stack=swap_table_key)


@pytest.mark.xdist_group(TABLE_KEY_SWAPPED)
def test_changed_table_key_is_a_blocked_replacement(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_stack=swap_table_key_unprotected)
    review = reviewed(folder)  # with checkov
    table = next(c for c in review.changes if c.address == TABLE)
    assert table.action == "replace" and "hash_key" in table.forces_replacement
    assert [f.message for f in review.blocking] == [
        f"{TABLE}: replacement of a stateful aws_dynamodb_table would lose its data"]
    assert f"{TABLE}: will be replaced (destroyed and created again)" in [w.message for w in review.warnings]
    assert not review.passed
    with pytest.raises(ApplyRefused, match="review of this plan is blocked"):
        apply_plan(folder)


@pytest.mark.xdist_group(TABLE_KEY_SWAPPED)
def test_acknowledged_replacement_passes_and_is_recorded(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_stack=swap_table_key_unprotected)
    review = reviewed(folder, acknowledged=[TABLE], run_checkov=False)
    assert review.passed and review.acknowledged == [TABLE]
    record = json.loads(folder.review_json.read_text())
    assert record["acknowledged"] == [TABLE] and record["passed"] is True
    assert f"PASSED with acknowledged: {TABLE}" in folder.review_md.read_text()


@pytest.mark.xdist_group(TABLE_KEY_SWAPPED)
def test_acknowledging_an_address_that_is_not_blocked_is_an_error(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_stack=swap_table_key_unprotected)
    with pytest.raises(ReviewError, match="acknowledged aws_dynamodb_table.typo, but nothing blocks it"):
        build_review(folder, acknowledged=["aws_dynamodb_table.typo"], run_checkov=False)


def add_old_queue(state: dict) -> None:
    queue = next(r for r in state["resources"] if f"{r['type']}.{r['name']}" == REJECTS_QUEUE)
    old = copy.deepcopy(queue)
    old["name"] = "old-queue_0123ABCD"
    old["instances"][0]["attributes"].update(name="old-queue-prod", id="https://sqs/old-queue-prod")
    state["resources"].append(old)


def test_removed_queue_is_a_blocked_delete(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_state=add_old_queue)
    review = reviewed(folder, run_checkov=False)
    assert [(c.address, c.action, c.construct) for c in review.changes] == [
        ("aws_sqs_queue.old-queue_0123ABCD", "delete", "(not in the code any more)")]
    assert [f.message for f in review.blocking] == [
        "aws_sqs_queue.old-queue_0123ABCD: deletion of a stateful aws_sqs_queue would lose its data"]
    assert not review.passed


def widen_validator_policy(document: dict) -> None:
    statements = document["data"]["aws_iam_policy_document"]["validator_policy-document_07CC5966"]["statement"]
    statements[0]["actions"].append("sqs:PurgeQueue")


def test_widened_iam_policy_is_blocked_naming_the_action(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_stack=widen_validator_policy)
    review = reviewed(folder, run_checkov=False)
    assert [(c.address, c.action) for c in review.changes] == [(VALIDATOR_POLICY, "update")]
    assert [f.message for f in review.blocking] == [
        f"{VALIDATOR_POLICY}: IAM widening: new allowed action sqs:PurgeQueue"]
    policy = review.changes[0].attributes[0]
    assert policy.name == "policy" and '+    "sqs:PurgeQueue",' in policy.diff
    assert not review.passed


KEY = "aws_kms_key.key_F64E54E4"
# Key policies name the provider's partition (data.aws_partition), as the configuration writes it.
PARTITION = "${data.aws_partition.aws-partition.partition}"
PROCESSOR_POLICY = "aws_iam_role_policy.processor_role-policy_055AD541"


def open_key_to_anyone(document: dict) -> None:
    """The key policy's root statement (kms:* for the account root) with its principal widened to "*"."""
    key = resource(document, KEY)
    policy = json.loads(key["policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:{PARTITION}:iam::111122223333:root"}
    policy["Statement"][0]["Principal"] = "*"
    key["policy"] = json.dumps(policy)


def hide_the_key_change(plan: dict) -> dict:
    """The plan JSON as someone would edit it to hide the widening: the key's policy as it was."""
    hidden = copy.deepcopy(plan)
    [key] = [c for c in hidden["resource_changes"] if c["address"] == KEY]
    key["change"]["after"]["policy"] = key["change"]["before"]["policy"]
    return hidden


def test_a_principal_widened_to_anyone_is_blocked_and_an_edited_plan_json_cannot_hide_it(
        plan_variant: PlanMaker) -> None:
    folder, plan = plan_variant(edit_stack=open_key_to_anyone)
    # The review reads the binary plan it hashes (terraform show -json), not the JSON beside it.
    folder.plan_json.write_text(json.dumps(hide_the_key_change(plan)))
    review = reviewed(folder, from_binary=True, run_checkov=False)
    assert json.loads(folder.plan_json.read_text()) == plan, "plan.json is written again from the plan file"
    key_findings = sorted(f.message for f in review.blocking if f.address == KEY)
    assert key_findings == [
        f"{KEY}: IAM widening: new allowed principal *",
        f"{KEY}: public access: statement AccountAdministersTheKeyThroughIam of policy allows anyone "
        "(Principal \"*\") without a condition that fixes the caller's account, organization, source or network "
        "(aws:SourceAccount, aws:SourceArn, aws:PrincipalOrgID, ...)",
        f"{KEY}: statement AccountAdministersTheKeyThroughIam of policy allows the wildcard action kms:*",
    ]
    # The role policies' documents refer to the key's ARN and are read again at apply: reviewed from the
    # configuration, they grant what they granted.
    assert {f.address for f in review.blocking} == {KEY}
    assert not review.passed


def swap_table_key_and_let_the_processor_delete_tables(document: dict) -> None:
    swap_table_key_unprotected(document)
    statements = document["data"]["aws_iam_policy_document"]["processor_policy-document_FE41560A"]["statement"]
    [write] = [s for s in statements if s["sid"] == "WriteRecordsTable"]
    write["actions"].append("dynamodb:DeleteTable")


def test_a_widening_known_only_after_apply_is_blocked_beside_the_replacement(plan_variant: PlanMaker) -> None:
    # Replacing the table makes its ARN, so the processor's policy, known only after apply: acknowledging
    # the table alone must not let the new action through.
    folder, plan = plan_variant(edit_stack=swap_table_key_and_let_the_processor_delete_tables)
    [policy_change] = [c for c in plan["resource_changes"] if c["address"] == PROCESSOR_POLICY]
    assert policy_change["change"]["after_unknown"]["policy"] is True
    review = reviewed(folder, acknowledged=[TABLE], run_checkov=False)
    assert [f.message for f in review.blocking if f.address == PROCESSOR_POLICY] == [
        f"{PROCESSOR_POLICY}: IAM widening: new allowed action dynamodb:DeleteTable"]
    assert review.unacknowledged and not review.passed


def rejects_queue_without_a_policy(state: dict) -> None:
    queue = next(r for r in state["resources"] if f"{r['type']}.{r['name']}" == REJECTS_QUEUE)
    queue["instances"][0]["attributes"]["policy"] = ""  # how AWS and the provider report "no policy"


def let_anyone_send_to_the_rejects_queue(document: dict) -> None:
    document["data"]["aws_iam_policy_document"]["rejects-queue_tls-only-document_686295F8"]["statement"].append({
        "sid": "AnyoneSends", "effect": "Allow", "actions": ["sqs:SendMessage"], "resources": ["*"],
        "principals": [{"type": "*", "identifiers": ["*"]}]})


def test_a_public_policy_on_a_queue_that_had_none_is_blocked(plan_variant: PlanMaker) -> None:
    folder, plan = plan_variant(edit_stack=let_anyone_send_to_the_rejects_queue,
                                edit_state=rejects_queue_without_a_policy)
    [queue] = [c for c in plan["resource_changes"] if c["address"] == REJECTS_QUEUE]
    assert queue["change"]["before"]["policy"] == ""
    review = reviewed(folder, run_checkov=False)
    queue_findings = [f.message for f in review.blocking if f.address == REJECTS_QUEUE]
    assert f"{REJECTS_QUEUE}: IAM widening: new allowed principal *" in queue_findings
    assert any(m.startswith(f"{REJECTS_QUEUE}: public access: statement AnyoneSends of policy allows anyone")
               for m in queue_findings)
    assert not review.passed


def raise_processor_warm_instances(document: dict) -> None:
    [config] = document["resource"]["aws_lambda_provisioned_concurrency_config"].values()
    config["provisioned_concurrent_executions"] = 20


def test_a_plan_raising_the_cost_shows_it_per_line_and_blocks_above_prods_ceiling(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_stack=raise_processor_warm_instances)
    review = reviewed(folder, run_checkov=False)
    cost = review.cost.change
    lines = {label: (before, after) for label, before, after in cost.lines()}
    # 2 -> 20 warm 256 MB arm64 instances: 18 x 0.25 GB x 2,628,000 s x 0.0000033334 USD = 39.42 USD more.
    before, after = lines["Lambda provisioned concurrency"]
    assert round(after - before, 2) == 39.42
    assert [m for m in (f.message for f in review.warnings) if m.startswith("cost:")] == [
        f"cost: the monthly cost at 10 M events rises by {cost.share:.0%} ({cost.before_usd:,.2f} -> "
        f"{cost.after.total:,.2f} USD), more than 20%"]
    assert [f.message for f in review.blocking] == [
        f"cost: the monthly cost at 10 M events would be {cost.after.total:,.2f} USD, above prod's ceiling of "
        f"60.00 USD ({FIXTURE.label}: environments.prod.review.monthly_cost_ceiling_usd); acknowledge with --ack "
        "cost if intended"]
    assert "| Lambda provisioned concurrency | 4.38 | 43.80 | +39.42 | +900.0% |" in folder.review_md.read_text()


@pytest.mark.xdist_group(UNCHANGED)
def test_tampered_plan_is_refused_by_apply(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant()
    assert reviewed(folder, run_checkov=False).passed
    with folder.plan_file.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ApplyRefused, match="plan file changed since its review"):
        apply_plan(folder)


@pytest.mark.xdist_group(UNCHANGED)
def test_plan_without_review_is_refused_by_apply(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant()
    with pytest.raises(ApplyRefused, match="no review of"):
        apply_plan(folder)


def drop_outputs(state: dict) -> None:
    state["outputs"] = {}


@pytest.mark.xdist_group(OUTPUTS_DROPPED)
def test_stale_plan_is_refused_by_terraform_and_a_fresh_one_applies(plan_variant: PlanMaker) -> None:
    # Only outputs change: applying touches no AWS API, so it runs offline.
    folder, plan = plan_variant(edit_state=drop_outputs)
    assert plan["resource_changes"] and all(c["change"]["actions"] in (["no-op"], ["read"])
                                            for c in plan["resource_changes"])
    assert reviewed(folder, run_checkov=False).passed
    # Someone else applies in the meantime: the state's serial moves on.
    run_terraform(["apply", "-auto-approve", "-refresh=false", "-input=false", "-no-color"], folder.workdir,
                  extra_env=terraform_variables(folder.settings()))
    with pytest.raises(ApplyRefused, match="Saved plan is stale"):
        apply_plan(folder, allow_offline=True)


@pytest.mark.xdist_group(OUTPUTS_DROPPED)
def test_reviewed_plan_applies(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_state=drop_outputs)
    assert reviewed(folder, run_checkov=False).passed
    assert "Apply complete!" in apply_plan(folder, allow_offline=True)
    state = json.loads((folder.workdir / "offline.tfstate").read_text())
    assert state["outputs"], "the outputs were not written"


def _drop_batch_item_failures(document: dict) -> None:
    [mapping] = [m for m in document["resource"]["aws_lambda_event_source_mapping"].values()
                 if "validator" in m["//"]["metadata"]["path"]]
    mapping.pop("function_response_types")


def test_a_plan_breaking_a_project_check_is_blocked_by_that_check(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_stack=_drop_batch_item_failures)
    review = reviewed(folder, run_checkov=False)
    assert not review.passed
    project = [f for f in review.blocking if f.source == "project-checks"]
    assert [f.message for f in project] == [
        f"project check: {project[0].address}: does not report batch item failures"]
    assert project[0].address.startswith("aws_lambda_event_source_mapping.validator")


def routing_weights_left_by_aws(state: dict) -> None:
    """What AWS leaves on the alias after moving it to a new version under provisioned concurrency."""
    alias = next(r for r in state["resources"] if f"{r['type']}.{r['name']}" == PROCESSOR_ALIAS)
    alias["instances"][0]["attributes"]["routing_config"] = [{"additional_version_weights": {"1": 0.1}}]


def test_routing_weights_aws_leaves_on_the_alias_do_not_show_as_drift(plan_variant: PlanMaker) -> None:
    folder, _ = plan_variant(edit_state=routing_weights_left_by_aws)
    review = reviewed(folder, run_checkov=False)
    assert review.changes == [] and review.passed


# Resources of the release before the queue policies became arguments of the queues.
SEPARATE_REJECTS_POLICY = "aws_sqs_queue_policy.rejects-queue_tls-only-policy_CD266544"
SEPARATE_INGEST_REDRIVE_ALLOW = "aws_sqs_queue_redrive_allow_policy.ingest-queue_dlq-redrive-allow_49E675A3"
INGEST_DLQ = "aws_sqs_queue.ingest-queue_dlq_queue_C168B8B3"


def add_separate_queue_policies(schemas: dict):
    """A state from that release: the two queues' policies also held by resources of their own."""
    def edit(state: dict) -> None:
        for separate, queue_address, attribute in ((SEPARATE_REJECTS_POLICY, REJECTS_QUEUE, "policy"),
                                                   (SEPARATE_INGEST_REDRIVE_ALLOW, INGEST_DLQ,
                                                    "redrive_allow_policy")):
            queue = next(r for r in state["resources"] if f"{r['type']}.{r['name']}" == queue_address)
            values = queue["instances"][0]["attributes"]
            type_, name = separate.split(".")
            state["resources"].append({
                "mode": "managed", "type": type_, "name": name, "provider": offline.PROVIDER,
                "instances": [{"schema_version": schemas[type_]["version"], "sensitive_attributes": [],
                               "attributes": {"id": values["url"], "queue_url": values["url"],
                                              attribute: values[attribute]}}],
            })
    return edit


def actions(plan: dict, *addresses: str) -> list[list[str]]:
    by_address = {c["address"]: c["change"]["actions"] for c in plan["resource_changes"]}
    return [by_address.get(address, ["absent"]) for address in addresses]


def test_separate_queue_policies_of_earlier_releases_are_forgotten_not_destroyed(
        plan_variant: PlanMaker, schemas: dict) -> None:
    # Destroying one runs SetQueueAttributes with an empty policy, while the queue, whose state already
    # holds the same policy, has no change to set it again: the queue would lose its TLS-only policy
    # (or the DLQ its redrive-allow policy) until the next apply. A `removed` block with
    # destroy = false only forgets it.
    folder, plan = plan_variant(edit_state=add_separate_queue_policies(schemas))
    assert actions(plan, SEPARATE_REJECTS_POLICY, SEPARATE_INGEST_REDRIVE_ALLOW) == [["forget"], ["forget"]]
    assert actions(plan, REJECTS_QUEUE, INGEST_DLQ) == [["no-op"], ["no-op"]]
    assert reviewed(folder, run_checkov=False).passed


def test_without_the_removed_blocks_the_separate_policies_would_be_destroyed(
        plan_variant: PlanMaker, schemas: dict) -> None:
    _, plan = plan_variant(edit_state=add_separate_queue_policies(schemas), without=("removed.tf",))
    assert actions(plan, SEPARATE_REJECTS_POLICY, SEPARATE_INGEST_REDRIVE_ALLOW) == [["delete"], ["delete"]]
    assert actions(plan, REJECTS_QUEUE, INGEST_DLQ) == [["no-op"], ["no-op"]], "nothing would set them again"
