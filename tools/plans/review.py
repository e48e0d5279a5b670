"""``review``: policies and checkov on a saved plan; a report, and a record that ``apply`` trusts.

The plan reviewed is the binary plan file whose SHA-256 is recorded: its JSON is derived from it with
``terraform show -json``, never read from a file that could describe another plan.  The record says whether
the plan was made offline, which ``apply`` refuses.

Blocking findings come from the Rego policies' ``deny`` (policies/), checkov's failed checks, the project's
own checks (tools/policy/checks.py) and a monthly cost above the environment's ceiling; warnings from the
policies' ``warn`` and a cost rise above the budget's share.  The review passes when nothing blocks, or when
every blocked address is acknowledged by name (``--ack ADDRESS``); the record (``review.json``) keeps the
plan's SHA-256, the acknowledgements, the cost and the outcome.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.plans import changes as plan_changes
from tools.plans import checkov_scan, cost_gate, offline, policies, report
from tools.plans.layout import PLANS_DIR, PlanFolder, sha256_of, stack_name, terraform_variables
from tools.terraform_cli import run_terraform

if TYPE_CHECKING:
    from modules.environments_file import EnvironmentsFile


@dataclass(frozen=True)
class Finding:
    address: str
    message: str
    source: str  # "policy", "checkov", or the name of an extra check


def project_checks(plan: Mapping[str, Any], workdir: Path) -> list[Finding]:
    """The project's policy checks (tools/policy/checks.py) on the configuration this plan was made from.

    The plan is computed from exactly the synthesized stack in ``workdir``, so the checks that read its
    structure (redrive, visibility timeouts, aliases, concurrency, IAM wildcards, log groups, ordering,
    tags against the provider schema) gate the plan without being written a second time in Rego.  A
    finding's address is what the check names first (a queue, function or resource), for ``--ack``.
    """
    from tools.policy.checks import run_all
    from tools.policy.stack_json import StackJson, module_plan_stack

    # A root calling the generated Terraform module has no cdk.tf.json: the module's, with the plan's values.
    stack = StackJson.load(workdir) if (workdir / "cdk.tf.json").is_file() else module_plan_stack(workdir, plan)
    violations = run_all(stack, taggable_types(workdir))
    return [Finding(v.split(":", 1)[0], f"project check: {v}", "project-checks") for v in violations]


_TAGGABLE_BY_LOCK: dict[str, frozenset[str]] = {}


def taggable_types(workdir: Path) -> frozenset[str]:
    """The taggable resource types of the providers ``workdir`` was initialized with.

    ``terraform providers schema -json`` starts the AWS provider (about 2 s of CPU), and its answer depends
    only on the providers the lock file pins (versions and hashes), so it is asked once per lock file and
    process: a session that reviews many plans (the tests, a CI job over every stack) pays it once.
    """
    from tools.policy.checks import taggable_types_from_schema

    lock = workdir / ".terraform.lock.hcl"
    key = sha256_of(lock) if lock.is_file() else None
    if key is not None and key in _TAGGABLE_BY_LOCK:
        return _TAGGABLE_BY_LOCK[key]
    schema = json.loads(run_terraform(["providers", "schema", "-json"], workdir).stdout)
    taggable = frozenset(taggable_types_from_schema(schema))
    if key is not None:
        _TAGGABLE_BY_LOCK[key] = taggable
    return taggable


#: Extra blocking checks: each takes the plan JSON and the working folder (its cdk.tf.json) and returns
#: findings.  The one place to add checks written in Python.
EXTRA_CHECKS: list[Callable[[Mapping[str, Any], Path], list[Finding]]] = [project_checks]


class ReviewError(RuntimeError):
    """The review cannot be made (missing plan, bad acknowledgement); the message says what to do."""


@dataclass
class Review:
    stack: str
    plan_sha256: str
    changes: list[plan_changes.Change]
    output_changes: bool
    blocking: list[Finding]
    warnings: list[Finding]
    acknowledged: list[str]
    checkov: str
    offline: bool = False
    cost: cost_gate.CostReview | None = None
    reviewed_at: str = field(default_factory=lambda: datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))

    @property
    def unacknowledged(self) -> list[Finding]:
        return [f for f in self.blocking if f.address not in self.acknowledged]

    @property
    def passed(self) -> bool:
        return not self.unacknowledged

    def record(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "plan_sha256": self.plan_sha256, "passed": self.passed, "offline": self.offline,
            "reviewed_at": self.reviewed_at, "acknowledged": self.acknowledged, "checkov": self.checkov,
            "counts": dict(plan_changes.action_counts(self.changes)),
            "blocking": [asdict(f) for f in self.blocking], "warnings": [asdict(f) for f in self.warnings],
            "cost": self.cost.record() if self.cost else None,
        }


def has_changes(plan: Mapping[str, Any]) -> bool:
    return bool(plan_changes.resource_changes(plan)) or plan_changes.has_output_changes(plan)


def plan_from_binary(folder: PlanFolder) -> tuple[dict[str, Any], str]:
    """The JSON of exactly the plan file that is hashed: ``terraform show -json`` of it, and its SHA-256.

    ``plan.json`` is written again from it, so that checkov and a reader see the same plan; a JSON left
    beside the binary plan is never trusted.
    """
    if not folder.plan_file.is_file():
        raise ReviewError(f"no plan in {folder.root}: run `make plan ENV=<env>` first")
    digest = sha256_of(folder.plan_file)
    shown = run_terraform(["show", "-json", "-no-color", str(folder.plan_file.resolve())], folder.workdir,
                          check=False, extra_env=terraform_variables(folder.settings()))
    if shown.returncode != 0:
        raise ReviewError(f"terraform show cannot read {folder.plan_file} (exit {shown.returncode}): "
                          f"{shown.stderr[-2000:]}; plan again")
    if sha256_of(folder.plan_file) != digest:
        raise ReviewError(f"{folder.plan_file} changed while it was being read: review again")
    folder.plan_json.write_text(shown.stdout)
    return json.loads(shown.stdout), digest


def build_review(folder: PlanFolder, *, acknowledged: Sequence[str] = (), run_checkov: bool = True,
                 plan: tuple[dict[str, Any], str] | None = None, budget: Path = cost_gate.DEFAULT_BUDGET,
                 environments: EnvironmentsFile | None = None) -> Review:
    """Review the plan file of ``folder``.  ``plan`` is its JSON and SHA-256 when the caller has just
    derived them from it (``make_plan``); otherwise they are derived here (:func:`plan_from_binary`).
    ``environments`` holds the environment's cost ceiling (default: the file ``main.py`` reads)."""
    plan_json, digest = plan if plan is not None else plan_from_binary(folder)
    return _review(folder, plan_json, digest, acknowledged, run_checkov, budget, environments)


def _review(folder: PlanFolder, plan: dict[str, Any], digest: str, acknowledged: Sequence[str],
            run_checkov: bool, budget: Path, environments: EnvironmentsFile | None) -> Review:
    result = policies.evaluate(plan)
    blocking = [Finding(policies.address_of(m), m, "policy") for m in result.deny]
    warnings = [Finding(policies.address_of(m), m, "policy") for m in result.warn]
    cost = cost_gate.review_cost(plan, folder.root.name, budget, environments)
    for finding in cost.findings:
        (blocking if finding.blocking else warnings).append(Finding(cost_gate.ADDRESS, finding.message, "cost"))
    checkov_note = "skipped (--skip-checkov)"
    if run_checkov:
        scanned = checkov_scan.scan(folder.plan_json)
        blocking += [Finding(address, f"{address}: checkov {check}: {name}", "checkov")
                     for check, address, name in scanned.failed]
        checkov_note = f"{scanned.passed} passed, {len(scanned.failed)} failed"
    for check in EXTRA_CHECKS:
        blocking += check(plan, folder.workdir)
    found = {f.address for f in blocking}
    unknown = [a for a in acknowledged if a not in found]
    if unknown:
        raise ReviewError(f"acknowledged {', '.join(unknown)}, but nothing blocks it; blocked addresses: "
                          f"{', '.join(sorted(found)) or 'none'} (check the spelling)")
    changes = plan_changes.resource_changes(plan, plan_changes.construct_paths(folder.workdir))
    return Review(folder.root.name, digest, changes, plan_changes.has_output_changes(plan),
                  blocking, warnings, sorted(set(acknowledged)), checkov_note, offline.is_offline_plan(plan), cost)


def write_review(folder: PlanFolder, review: Review) -> None:
    folder.review_json.write_text(json.dumps(review.record(), indent=2) + "\n")
    folder.review_md.write_text(report.markdown(review))


def add_review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ack", action="append", default=[], metavar="ADDRESS",
                        help="acknowledge a blocked resource address (repeatable); recorded in the review")
    parser.add_argument("--skip-checkov", action="store_true", help="leave checkov out (recorded in the review)")
    parser.add_argument("--budget", type=Path, default=cost_gate.DEFAULT_BUDGET,
                        help="the cost rule's budget file: volume and warning share (default: %(default)s); the "
                             "ceiling is the environment's review.monthly_cost_ceiling_usd")


def review_folder(folder: PlanFolder, args: argparse.Namespace, plan: dict[str, Any] | None = None) -> int:
    """Review, write the record and Markdown, print the terminal report; 0 passed, 1 blocked, 3 error.

    ``plan``: the JSON ``make_plan`` has just derived from the plan file (the review then hashes that file
    once more rather than asking Terraform again)."""
    acks = [a for value in args.ack for a in value.replace(",", " ").split()]
    try:
        derived = (plan, sha256_of(folder.plan_file)) if plan is not None else None
        review = build_review(folder, acknowledged=acks, run_checkov=not args.skip_checkov, plan=derived,
                              budget=args.budget)
    except (ReviewError, policies.PolicyError, checkov_scan.CheckovError) as error:
        print(f"review: {error}", file=sys.stderr)
        return 3
    write_review(folder, review)
    print(report.terminal(review))
    print(f"\nreview written to {folder.review_md} and {folder.review_json}")
    return 0 if review.passed else 1


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("review", help="review a saved plan", description=__doc__)
    configure(parser)
    parser.set_defaults(handler=run)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="dev, staging, prod, local, state, ci, or a preview suffix")
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where plan folders are (.plans)")
    add_review_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        folder = PlanFolder.for_stack(stack_name(args.env), args.plans_dir)
    except ValueError as error:
        print(f"review: {error}", file=sys.stderr)
        return 3
    return review_folder(folder, args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plans review", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))
