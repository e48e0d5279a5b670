"""The cost of a change: plan values read as the cost model's configuration, the budget file, and the
review's rules on both sides of each boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modules.environments_file import EnvironmentsFile
from tests.support.environments import FIXTURE
from tools.cost.change import Budget, CostChange, load_budget
from tools.cost.errors import CostInputError
from tools.cost.model import Estimate, Line
from tools.cost.plan_values import pipeline_from_values, stack_document
from tools.plans.cost_gate import Ceiling, CostReview, ceiling_of, review_cost, rules

ALIAS_ARN = "arn:aws:lambda:us-east-1:111122223333:function:tap-validator-prod:live"
QUEUE_ARN = "arn:aws:sqs:us-east-1:111122223333:tap-ingest-prod"


def resource(type_: str, name: str, **values: object) -> dict:
    return {"address": f"{type_}.{name}", "mode": "managed", "type": type_, "name": name, "values": values}


def test_links_in_state_values_become_references_to_the_resource_they_name() -> None:
    document = stack_document([
        resource("aws_lambda_function", "f", function_name="tap-validator-prod", arn="arn:f"),
        resource("aws_lambda_alias", "a", function_name="tap-validator-prod", arn=ALIAS_ARN),
        resource("aws_sqs_queue", "q", arn=QUEUE_ARN, url="https://sqs/q"),
        resource("aws_lambda_event_source_mapping", "m", function_name=ALIAS_ARN, event_source_arn=QUEUE_ARN),
        resource("aws_lambda_provisioned_concurrency_config", "p", function_name="tap-validator-prod"),
    ])
    mapping = document["resource"]["aws_lambda_event_source_mapping"]["m"]
    assert mapping["function_name"] == "${aws_lambda_alias.a.arn}"
    assert mapping["event_source_arn"] == "${aws_sqs_queue.q.arn}"
    assert document["resource"]["aws_lambda_alias"]["a"]["function_name"] == "${aws_lambda_function.f.function_name}"
    # A function's own name is its identity, not a link.
    assert document["resource"]["aws_lambda_function"]["f"]["function_name"] == "tap-validator-prod"


def test_autoscaling_policies_are_linked_to_the_target_of_their_dimension() -> None:
    read, write = "dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"
    document = stack_document([
        resource("aws_appautoscaling_target", "r", resource_id="table/t", scalable_dimension=read),
        resource("aws_appautoscaling_target", "w", resource_id="table/t", scalable_dimension=write),
        resource("aws_appautoscaling_policy", "wp", resource_id="table/t", scalable_dimension=write,
                 target_tracking_scaling_policy_configuration=[{"target_value": 50}]),
    ])
    policy = document["resource"]["aws_appautoscaling_policy"]["wp"]
    assert policy["resource_id"] == "${aws_appautoscaling_target.w.resource_id}"
    assert policy["target_tracking_scaling_policy_configuration"] == {"target_value": 50}  # the block, unwrapped


def test_a_link_known_only_after_apply_comes_from_the_configuration() -> None:
    configuration = {"root_module": {"resources": [{
        "address": "aws_lambda_event_source_mapping.m",
        "expressions": {"event_source_arn": {"constant_value": "${aws_sqs_queue.q.arn}",
                                             "references": ["aws_sqs_queue.q.arn", "aws_sqs_queue.q"]}}}]}}
    document = stack_document([resource("aws_lambda_event_source_mapping", "m", function_name=ALIAS_ARN)],
                              configuration)
    assert document["resource"]["aws_lambda_event_source_mapping"]["m"]["event_source_arn"] == "${aws_sqs_queue.q.arn}"


def test_a_link_known_only_after_apply_inside_a_module_comes_from_the_module_calls_configuration() -> None:
    # A root calling the generated module: the mapping's address is absolute, its configuration relative to
    # the module, and the reference names the module's own queue.
    configuration = {"root_module": {"module_calls": {"tap_pipeline": {"module": {"resources": [{
        "address": "aws_lambda_event_source_mapping.m",
        "expressions": {"event_source_arn": {"constant_value": "${aws_sqs_queue.q.arn}",
                                             "references": ["aws_sqs_queue.q.arn", "aws_sqs_queue.q"]}}}]}}}}}
    mapping = {**resource("aws_lambda_event_source_mapping", "m", function_name=ALIAS_ARN),
               "address": 'module.tap_pipeline["eu"].aws_lambda_event_source_mapping.m'}
    document = stack_document([mapping], configuration)
    assert document["resource"]["aws_lambda_event_source_mapping"]["m"]["event_source_arn"] == "${aws_sqs_queue.q.arn}"
    # The same template in the root module's configuration is another resource's: not taken.
    rooted = {"root_module": configuration["root_module"]["module_calls"]["tap_pipeline"]["module"]}
    unlinked = stack_document([mapping], rooted)["resource"]["aws_lambda_event_source_mapping"]["m"]
    assert "event_source_arn" not in unlinked


def in_module(address: str, *resources: dict) -> dict:
    return {"address": address, "resources": [{**r, "address": f"{address}.{r['address']}"} for r in resources]}


def test_the_pipeline_in_a_child_module_is_read_and_two_pipelines_are_an_input_error() -> None:
    queue = resource("aws_sqs_queue", "q", arn=QUEUE_ARN)
    one = {"root_module": {"child_modules": [in_module("module.tap_pipeline", queue)]}}
    with pytest.raises(CostInputError, match="no aws_lambda_function"):  # read, and found partial
        pipeline_from_values(one, "prod")
    two = {"root_module": {"child_modules": [in_module("module.eu", queue), in_module("module.us", queue)]}}
    with pytest.raises(CostInputError, match=r"aws_sqs_queue\.q is in module\.eu and in module\.us: the plan holds "
                                             "more than one pipeline"):
        pipeline_from_values(two, "prod")


def test_no_resources_cost_nothing_and_a_partial_pipeline_is_an_input_error() -> None:
    assert pipeline_from_values({"root_module": {"resources": []}}, "prod") is None
    partial = {"root_module": {"resources": [resource("aws_sqs_queue", "q", arn=QUEUE_ARN)]}}
    with pytest.raises(CostInputError, match="no aws_lambda_function"):
        pipeline_from_values(partial, "prod")


def write_budget(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "budgets.json"
    path.write_text(json.dumps(fields))
    return path


def test_the_budget_defaults_to_20_percent_and_the_usage_files_largest_volume(tmp_path: Path) -> None:
    budget = load_budget(write_budget(tmp_path))
    assert budget == Budget(events_per_month=100_000_000, warn_increase_share=0.2)


def test_the_shipped_budget_judges_at_10_m_events_and_warns_above_20_percent() -> None:
    assert load_budget() == Budget(events_per_month=10_000_000, warn_increase_share=0.2)


def test_the_ceilings_are_the_environments_and_only_staging_and_prod_have_one() -> None:
    """Read from the environments file (review.monthly_cost_ceiling_usd), named where they are set."""
    label = FIXTURE.label
    assert ceiling_of("tap-pipeline-prod", FIXTURE) == Ceiling(
        60.0, f"{label}: environments.prod.review.monthly_cost_ceiling_usd")
    assert ceiling_of("tap-pipeline-staging", FIXTURE).usd == 150.0
    assert [ceiling_of(s, FIXTURE) for s in ("tap-pipeline-dev", "tap-pipeline-pr42", "tap-pipeline-local",
                                             "tap-pipeline-state", "tap-pipeline-ci")] == [None] * 5


def test_a_budget_file_with_the_old_ceilings_says_where_they_went(tmp_path: Path) -> None:
    with pytest.raises(CostInputError, match="ceilings_usd is no budget field any more: each environment's ceiling "
                                             "is review.monthly_cost_ceiling_usd"):
        load_budget(write_budget(tmp_path, ceilings_usd={"prod": 60}))


@pytest.mark.parametrize(("fields", "message"), [
    ({"warn_increase_share": 0}, "warn_increase_share must be a number > 0, not 0"),
    ({"events_per_month": "10M"}, "events_per_month must be a number > 0, not '10M'"),
    ({"ceiling": 60}, "unknown fields \\['ceiling'\\]"),
])
def test_budget_errors_name_the_field(tmp_path: Path, fields: dict, message: str) -> None:
    with pytest.raises(CostInputError, match=message):
        load_budget(write_budget(tmp_path, **fields))


def bill(total: float) -> Estimate:
    return Estimate("prod", 10e6, [Line("Lambda", "requests", 1, "requests", total)])


def change(before: float | None, after: float) -> CostChange:
    return CostChange("prod", 10e6, None if before is None else bill(before), bill(after),
                      ((10e6, before or 0.0, after),))


BUDGET = Budget(events_per_month=10e6, warn_increase_share=0.2)
PROD_CEILING = Ceiling(60.0, "environments.toml: environments.prod.review.monthly_cost_ceiling_usd")


@pytest.mark.parametrize(("after", "warned"), [(120.0, False), (120.01, True)])
def test_a_rise_warns_only_above_the_budgets_share(after: float, warned: bool) -> None:
    found = rules(change(100.0, after), Budget(10e6, 0.2), None)
    assert [f.blocking for f in found] == ([False] if warned else [])


@pytest.mark.parametrize(("after", "blocked"), [(60.0, False), (60.01, True)])
def test_a_bill_blocks_only_above_the_environments_ceiling(after: float, blocked: bool) -> None:
    found = [f for f in rules(change(59.0, after), BUDGET, PROD_CEILING) if f.blocking]
    assert [f.message for f in found] == ([
        "cost: the monthly cost at 10 M events would be 60.01 USD, above prod's ceiling of 60.00 USD "
        "(environments.toml: environments.prod.review.monthly_cost_ceiling_usd); acknowledge with --ack cost if "
        "intended"] if blocked else [])


def test_a_new_stack_is_a_warning_with_its_bill() -> None:
    assert [(f.message, f.blocking) for f in rules(change(None, 30.03), BUDGET, PROD_CEILING)] == [
        ("cost: a new stack: 30.03 USD a month at 10 M events", False)]


def test_a_bill_that_cannot_be_estimated_blocks_only_where_a_ceiling_must_be_checked(tmp_path: Path) -> None:
    plan = {"planned_values": {"root_module": {"resources": [resource("aws_sqs_queue", "q", arn=QUEUE_ARN)]}}}
    budget = write_budget(tmp_path)
    prod = review_cost(plan, "tap-pipeline-prod", budget, FIXTURE)
    assert prod.change is None and [f.blocking for f in prod.findings] == [True]
    assert "prod's monthly cost cannot be estimated" in prod.findings[0].message
    dev = review_cost(plan, "tap-pipeline-dev", budget, FIXTURE)
    assert dev.findings == [] and dev.note.startswith("not estimated: dev: no aws_lambda_function")


def test_an_invalid_ceiling_blocks_naming_where_it_is_set(tmp_path: Path) -> None:
    path = tmp_path / "environments.toml"
    path.write_text('[environments.prod]\nreview.monthly_cost_ceiling_usd = -5\n')
    [finding] = review_cost({}, "tap-pipeline-prod", write_budget(tmp_path), EnvironmentsFile.read(path)).findings
    assert finding.blocking and finding.message == (
        f"cost: prod's cost ceiling cannot be read, so the cost is not checked: {path}: "
        "environments.prod.review.monthly_cost_ceiling_usd=-5.0 is invalid: allowed a number of USD > 0, or false "
        "(no ceiling)")


def test_the_record_gives_each_line_before_and_after() -> None:
    record = CostReview(change(30.0, 36.5), BUDGET, ceiling=PROD_CEILING).record()
    assert record["difference_usd"] == 6.5 and record["share"] == round(6.5 / 30, 4)
    assert record["lines"] == [{"line": "Lambda requests", "before_usd": 30.0, "after_usd": 36.5}]
    assert record["ceiling_usd"] == 60.0


def test_an_alarms_metric_queries_read_from_a_plan_are_billed_per_metric() -> None:
    """A plan lists each query's ``metric`` block as a list of one; the expression's query has none."""
    def query(id_: str, metric: list, expression: str = "") -> dict:
        return {"id": id_, "expression": expression, "metric": metric, "period": None}

    metric = [{"metric_name": "ApproximateNumberOfMessagesVisible", "namespace": "AWS/SQS", "period": 60}]
    document = stack_document([resource("aws_cloudwatch_metric_alarm", "arrivals", metric_query=[
        query("in_flight", metric), query("visible", metric), query("e", [], "DIFF(visible + FILL(in_flight, 0))")])])
    queries = document["resource"]["aws_cloudwatch_metric_alarm"]["arrivals"]["metric_query"]
    assert [q["metric"] for q in queries] == [metric[0], metric[0], {}]


def test_a_function_whose_values_lack_its_name_is_an_input_error_naming_it() -> None:
    unnamed = resource("aws_lambda_function", "validator", memory_size=128)
    with pytest.raises(CostInputError, match=r"aws_lambda_function validator has no function_name"):
        pipeline_from_values({"root_module": {"resources": [unnamed]}}, "prod")
