"""The deploy preflight refuses a stack whose reserved concurrency Lambda would reject, with the numbers.

moto does not implement GetAccountSettings, so the Lambda client is stubbed with botocore's Stubber.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from tools import preflight


def _stack(**reserved: int | None) -> dict:
    return {
        "provider": {"aws": [{"region": "us-east-1"}]},
        "resource": {"aws_lambda_function": {
            f"{name}_fn": {"function_name": name, **({} if r is None else {"reserved_concurrent_executions": r})}
            for name, r in reserved.items()
        }},
    }


def _client(limit: int, unreserved: int, existing: dict[str, int | None]) -> tuple[object, Stubber]:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response("get_account_settings", {
        "AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": unreserved},
    })
    for name, count in existing.items():
        if count is None:
            stubber.add_client_error("get_function_concurrency", "ResourceNotFoundException", http_status_code=404,
                                     expected_params={"FunctionName": name})
        else:
            stubber.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": count},
                                 expected_params={"FunctionName": name})
    stubber.activate()
    return client, stubber


def test_a_new_account_with_a_limit_of_10_is_refused_with_the_numbers_and_the_fix() -> None:
    client, stubber = _client(10, 10, {"a": None, "b": None, "c": None})
    verdict = preflight.check_concurrency("tap-pipeline-dev", _stack(a=10, b=10, c=10), client)
    stubber.assert_no_pending_responses()
    assert not verdict.ok
    assert verdict.unreserved_after == 10 - 30
    message = verdict.message()
    assert "reserves 30 concurrent executions (a 10, b 10, c 10)" in message
    assert "limit is 10, 10 unreserved now, -20 after this deploy" in message
    assert "reserved_concurrency" in message and "Service Quotas" in message


def test_leaving_exactly_the_minimum_unreserved_is_accepted() -> None:
    client, _ = _client(1000, 130, {"a": None, "b": None, "c": None})
    verdict = preflight.check_concurrency("s", _stack(a=10, b=10, c=10), client)
    assert verdict.unreserved_after == 100
    assert verdict.ok


def test_leaving_one_below_the_minimum_unreserved_is_refused() -> None:
    client, _ = _client(1000, 129, {"a": None, "b": None, "c": None})
    verdict = preflight.check_concurrency("s", _stack(a=10, b=10, c=10), client)
    assert verdict.unreserved_after == 99
    assert not verdict.ok


def test_reservations_the_functions_already_hold_are_not_counted_twice() -> None:
    # A redeploy of prod: the functions already reserve 50 each, the pool shows what is left.
    client, _ = _client(1000, 850, {"a": 50, "b": 50, "c": 50})
    verdict = preflight.check_concurrency("s", _stack(a=50, b=50, c=50), client)
    assert verdict.additional == 0
    assert verdict.ok


def test_functions_without_a_reservation_ask_for_nothing() -> None:
    assert preflight.planned_reservations(_stack(a=None, b=-1, c=0)) == {"c": 0}


def test_access_denied_names_the_permissions_the_preflight_needs() -> None:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error("get_account_settings", "AccessDeniedException", http_status_code=403)
    stubber.activate()
    with pytest.raises(preflight.PreflightError, match="lambda:GetAccountSettings and lambda:GetFunctionConcurrency"):
        preflight.check_concurrency("s", _stack(a=10), client)


def test_the_command_exits_1_and_prints_the_verdict_when_refused(tmp_path: Path, capsys) -> None:
    stack_dir = tmp_path / "tap-pipeline-dev"
    stack_dir.mkdir()
    (stack_dir / "cdk.tf.json").write_text(json.dumps(_stack(a=10, b=10, c=10)))
    client, _ = _client(10, 10, {"a": None, "b": None, "c": None})
    assert preflight.run(stack_dir, client) == 1
    assert "tap-pipeline-dev reserves 30" in capsys.readouterr().out


def test_a_plans_work_folder_is_named_by_its_stack(tmp_path: Path, capsys) -> None:
    """`apply` checks the copy in ``.plans/<stack>/work``: the verdict names the stack, never ``work``."""
    work = tmp_path / "tap-pipeline-prod" / "work"
    work.mkdir(parents=True)
    (work / "cdk.tf.json").write_text(json.dumps(_stack(a=10)))
    client, _ = _client(1000, 1000, {"a": None})
    assert preflight.run(work, client, stack="tap-pipeline-prod") == 0
    out = capsys.readouterr().out
    assert out.startswith("tap-pipeline-prod reserves 10 ") and "work" not in out


def test_the_command_exits_2_when_the_stack_was_not_synthesized(tmp_path: Path, capsys) -> None:
    assert preflight.main([str(tmp_path / "missing")]) == 2
    assert "synthesize the stack first" in capsys.readouterr().err


def test_every_real_stack_reserves_what_its_settings_say(stacks) -> None:
    prod = preflight.planned_reservations(stacks["tap-pipeline-prod"].document)
    assert sorted(prod.values()) == [50, 50, 50]
