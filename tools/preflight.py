"""Deploy preflight: stop before `apply` when the account cannot grant the stack's reserved concurrency.

Lambda refuses a reservation that would leave the account fewer than 100 unreserved concurrent
executions ("Specified ReservedConcurrentExecutions ... decreases account's UnreservedConcurrentExecution
below its minimum value of [100]"), see
https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html .  A new account's
limit is 10, and an account shared by several environments may have reserved most of its pool
already, so the first deploy would fail half-way, after the queues and roles exist.  This check
reads ``lambda:GetAccountSettings`` (and ``lambda:GetFunctionConcurrency`` for the functions the
stack already has) and says, with the numbers, what to change before anything is applied.

Usage: ``python -m tools preflight cdktf.out/stacks/tap-pipeline-prod`` (exit 0 ok, 1 refused,
2 could not check); ``make apply`` runs it before every apply.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.help_text import plain_parser

# Lambda keeps this many concurrent executions unreserved in every account.
MINIMUM_UNRESERVED = 100
REQUIRED_PERMISSIONS = ("lambda:GetAccountSettings", "lambda:GetFunctionConcurrency")


class PreflightError(RuntimeError):
    """The preflight could not read what it needs (credentials, permissions, stack file)."""


@dataclass(frozen=True)
class ConcurrencyVerdict:
    """What the stack would reserve, what the account has, and whether Lambda will accept it."""

    stack: str
    planned: Mapping[str, int]
    existing: Mapping[str, int]
    account_limit: int
    unreserved_now: int

    @property
    def additional(self) -> int:
        """Reservations the apply adds on top of what these functions already hold."""
        return sum(self.planned.values()) - sum(self.existing.get(name, 0) for name in self.planned)

    @property
    def unreserved_after(self) -> int:
        return self.unreserved_now - self.additional

    @property
    def ok(self) -> bool:
        return self.unreserved_after >= MINIMUM_UNRESERVED

    def message(self) -> str:
        if not self.planned:
            return f"{self.stack}: reserves no concurrency; nothing to check."
        per_function = ", ".join(f"{name} {count}" for name, count in sorted(self.planned.items()))
        facts = (
            f"{self.stack} reserves {sum(self.planned.values())} concurrent executions ({per_function}); "
            f"the account's limit is {self.account_limit}, {self.unreserved_now} unreserved now, "
            f"{self.unreserved_after} after this deploy"
        )
        if self.ok:
            return f"{facts}: ok (Lambda keeps at least {MINIMUM_UNRESERVED} unreserved)."
        return (
            f"{facts}, below the {MINIMUM_UNRESERVED} Lambda keeps unreserved, so Lambda would refuse the "
            f"reservation mid-apply. Fix before deploying: lower reserved_concurrency for this environment's "
            f"functions in modules/settings.py, or set it to None to use the unreserved pool (the event source's "
            f"max_concurrency still caps each function), or raise the account's 'Concurrent executions' quota "
            f"in Service Quotas."
        )


def planned_reservations(stack_json: Mapping[str, Any]) -> dict[str, int]:
    """Function name -> reserved concurrency, for every function of a synthesized stack that reserves any."""
    functions = stack_json.get("resource", {}).get("aws_lambda_function", {})
    planned: dict[str, int] = {}
    for body in functions.values():
        reserved = body.get("reserved_concurrent_executions")
        # -1 (or absent) means "no reservation" to the provider.
        if reserved is not None and int(reserved) >= 0:
            planned[str(body["function_name"])] = int(reserved)
    return planned


def _existing_reservation(client: Any, function_name: str) -> int:
    try:
        answer = client.get_function_concurrency(FunctionName=function_name)
    except client.exceptions.ResourceNotFoundException:
        return 0
    return int(answer.get("ReservedConcurrentExecutions", 0))


def check_concurrency(stack: str, stack_json: Mapping[str, Any], client: Any) -> ConcurrencyVerdict:
    """Compare the stack's reservations with the account's unreserved pool, using a boto3 Lambda client."""
    from botocore.exceptions import BotoCoreError, ClientError

    planned = planned_reservations(stack_json)
    try:
        settings = client.get_account_settings()
        existing = {name: _existing_reservation(client, name) for name in planned}
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise PreflightError(
            f"{stack}: AWS refused the concurrency check ({code}): the deploying identity needs "
            f"{' and '.join(REQUIRED_PERMISSIONS)}"
        ) from error
    except BotoCoreError as error:
        raise PreflightError(f"{stack}: could not reach Lambda to check concurrency: {error}") from error
    limit = settings["AccountLimit"]
    return ConcurrencyVerdict(
        stack=stack,
        planned=planned,
        existing=existing,
        account_limit=int(limit["ConcurrentExecutions"]),
        unreserved_now=int(limit["UnreservedConcurrentExecutions"]),
    )


def _load_stack(directory: Path) -> dict[str, Any]:
    path = directory / "cdk.tf.json"
    if not path.is_file():
        raise PreflightError(f"{path} does not exist: synthesize the stack first (make synth)")
    return json.loads(path.read_text())


def _region(stack_json: Mapping[str, Any]) -> str | None:
    providers = stack_json.get("provider", {}).get("aws", [])
    return providers[0].get("region") if providers else None


def run(stack_dir: Path, client: Any | None = None, stack: str | None = None) -> int:
    """Check the stack of ``stack_dir``; ``stack`` names it when the folder is not named after it (the ``work``
    folder of a plan)."""
    stack_json = _load_stack(stack_dir)
    if client is None:
        import boto3

        client = boto3.client("lambda", region_name=_region(stack_json))
    verdict = check_concurrency(stack or stack_dir.name, stack_json, client)
    print(verdict.message())
    return 0 if verdict.ok else 1


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preflight", help="check the AWS account can take a stack before it is applied",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _arguments(parser)
    parser.set_defaults(handler=_handle)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "stack_dir", type=Path, help="a synthesized stack folder, e.g. cdktf.out/stacks/tap-pipeline-prod",
    )


def _handle(args: argparse.Namespace) -> int:
    try:
        return run(args.stack_dir)
    except PreflightError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools preflight", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plain_parser(parser)
    _arguments(parser)
    return _handle(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
