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
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.plans import changes as plan_changes
from tools.plans import checkov_scan, cost_gate, offline, policies, report, timings
from tools.plans.layout import (
    LOCK_FILE,
    PLANS_DIR,
    PROJECT_ROOT,
    PlanFolder,
    environments_argument,
    sha256_of,
    stack_name,
    terraform_variables,
)
from tools.terraform_cli import run_terraform

if TYPE_CHECKING:
    import subprocess

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
#: The taggable types per set of locked providers, kept between runs (git-ignored): one file per key
#: (:func:`providers_key`).
SCHEMA_CACHE_DIR = PROJECT_ROOT / ".build" / "taggable-types"
_LOCKED_PROVIDER = re.compile(r'^provider "([^"]+)" \{\n(.*?)^\}', re.MULTILINE | re.DOTALL)
_QUOTED = re.compile(r'"([^"]*)"')


def providers_key(lock_text: str) -> str:
    """What the provider schema depends on in a lock file: each provider's address, version and hashes (the very
    binaries), not the version constraints, which differ between configurations that select the same release
    (a stack pins ``5.100.0``, the generated module allows a range). A lock file this does not read is keyed
    by its SHA-256, whole."""
    providers = []
    for address, body in _LOCKED_PROVIDER.findall(lock_text):
        version = re.search(r'^\s*version\s*=\s*"([^"]+)"', body, re.MULTILINE)
        hashes = re.search(r"^\s*hashes\s*=\s*\[(.*?)\]", body, re.MULTILINE | re.DOTALL)
        if version is None or hashes is None:
            providers = []
            break
        providers.append([address, version.group(1), sorted(_QUOTED.findall(hashes.group(1)))])
    if not providers:
        return hashlib.sha256(lock_text.encode()).hexdigest()
    return hashlib.sha256(json.dumps(sorted(providers)).encode()).hexdigest()


def taggable_types(workdir: Path, cache_dir: Path | None = None) -> frozenset[str]:
    """The taggable resource types of the providers ``workdir`` was initialized with.

    ``terraform providers schema -json`` starts the AWS provider (about 2 s of CPU, 10 s on a loaded
    machine), and its answer depends only on the providers the lock file pins (versions and hashes, so the
    very binaries), so it is asked once per set of them (:func:`providers_key`): kept in this process and in
    ``cache_dir`` (:data:`SCHEMA_CACHE_DIR`), so that neither a session that reviews many plans nor the next
    plan at a desk pays it again.
    """
    from tools.policy.checks import taggable_types_from_schema

    cache_dir = SCHEMA_CACHE_DIR if cache_dir is None else cache_dir
    lock = workdir / LOCK_FILE
    key = providers_key(lock.read_text()) if lock.is_file() else None
    if key is not None and key in _TAGGABLE_BY_LOCK:
        return _TAGGABLE_BY_LOCK[key]
    cached = cache_dir / f"{key}.json"
    if key is not None and cached.is_file():
        try:
            taggable = frozenset(json.loads(cached.read_text()))
        except ValueError:
            taggable = None  # a torn or edited file: ask Terraform again and write it anew
        if taggable:
            _TAGGABLE_BY_LOCK[key] = taggable
            return taggable
    with timings.phase(workdir.parent.name, "provider schema"):
        schema = json.loads(run_terraform(["providers", "schema", "-json"], workdir).stdout)
    taggable = frozenset(taggable_types_from_schema(schema))
    if key is not None:
        _TAGGABLE_BY_LOCK[key] = taggable
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(json.dumps(sorted(taggable)))
        partial.replace(cached)  # atomic: parallel reviews never read half a file
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
                 environments: EnvironmentsFile | None = None,
                 checkov: checkov_scan.PendingScan | None = None) -> Review:
    """Review the plan file of ``folder``.  ``plan`` is its JSON and SHA-256 when the caller has just
    derived them from it (``make_plan``); otherwise they are derived here (:func:`plan_from_binary`).
    ``environments`` holds the environment's cost ceiling (default: the file ``main.py`` reads).
    ``checkov``: a scan already started on this plan's JSON (among others); by default one starts here,
    and runs while the policies and the project's checks are evaluated."""
    plan_json, digest = plan if plan is not None else plan_from_binary(folder)
    if run_checkov and checkov is None:
        checkov = checkov_scan.PendingScan([folder.plan_json])
    return _review(folder, plan_json, digest, acknowledged, checkov if run_checkov else None, budget, environments)


def _review(folder: PlanFolder, plan: dict[str, Any], digest: str, acknowledged: Sequence[str],
            checkov: checkov_scan.PendingScan | None, budget: Path, environments: EnvironmentsFile | None) -> Review:
    stack = folder.root.name
    with timings.phase(stack, "policies"):
        result = policies.evaluate(plan)
    blocking = [Finding(policies.address_of(m), m, "policy") for m in result.deny]
    warnings = [Finding(policies.address_of(m), m, "policy") for m in result.warn]
    with timings.phase(stack, "cost"):
        cost = cost_gate.review_cost(plan, folder.root.name, budget, environments)
    for finding in cost.findings:
        (blocking if finding.blocking else warnings).append(Finding(cost_gate.ADDRESS, finding.message, "cost"))
    with timings.phase(stack, "project checks"):
        extra = [finding for check in EXTRA_CHECKS for finding in check(plan, folder.workdir)]
    checkov_note = "skipped (--skip-checkov)"
    if checkov is not None:
        with timings.phase(stack, "checkov"):  # the wait for the scan started before the policies
            scanned = checkov.result(folder.plan_json)
        blocking += [Finding(address, f"{address}: checkov {check}: {name}", "checkov")
                     for check, address, name in scanned.failed]
        checkov_note = f"{scanned.passed} passed, {len(scanned.failed)} failed"
    blocking += extra
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


def review_folder(folder: PlanFolder, args: argparse.Namespace, plan: dict[str, Any] | None = None,
                  checkov_worker: subprocess.Popen[str] | None = None) -> int:
    """Review, write the record and Markdown, print the terminal report; 0 passed, 1 blocked, 3 error.

    ``plan``: the JSON ``make_plan`` has just derived from the plan file (the review then hashes that file
    once more rather than asking Terraform again). ``checkov_worker``: see :func:`review_folders`."""
    return review_folders([folder], args, [plan], checkov_worker=checkov_worker)[0]


def review_folders(folders: Sequence[PlanFolder], args: argparse.Namespace,
                   plans: Sequence[dict[str, Any] | None] | None = None,
                   checkov_worker: subprocess.Popen[str] | None = None) -> list[int]:
    """:func:`review_folder` of several plans with one checkov process over all their JSONs; each one's code.

    ``--ack`` applies to every plan: an address acknowledged is one that blocks in at least one of them.
    ``checkov_worker``: a worker :func:`checkov_scan.start_checkov` started earlier, which the scan then
    uses (and which is stopped if there is nothing to scan)."""
    acks = [a for value in args.ack for a in value.replace(",", " ").split()]
    plans = list(plans) if plans is not None else [None] * len(folders)
    derived: list[tuple[dict[str, Any], str] | None] = []
    codes: list[int | None] = []
    for folder, plan in zip(folders, plans, strict=True):
        try:
            derived.append((plan, sha256_of(folder.plan_file)) if plan is not None else plan_from_binary(folder))
            codes.append(None)
        except ReviewError as error:
            print(f"review: {error}", file=sys.stderr)
            derived.append(None)
            codes.append(3)
    reviewable = [folder for folder, plan in zip(folders, derived, strict=True) if plan is not None]
    pending = checkov_scan.PendingScan([f.plan_json for f in reviewable], checkov_worker) \
        if reviewable and not args.skip_checkov else None
    if pending is None and checkov_worker is not None:
        checkov_scan.stop_checkov(checkov_worker)
    reviews: list[Review | None] = []
    try:
        for folder, plan in zip(folders, derived, strict=True):
            if plan is None:
                reviews.append(None)
                continue
            try:
                reviews.append(build_review(folder, acknowledged=acks if len(folders) == 1 else [],
                                            run_checkov=pending is not None, plan=plan, budget=args.budget,
                                            checkov=pending))
            except (ReviewError, policies.PolicyError, checkov_scan.CheckovError) as error:
                named = f"{folder.root.name}: " if len(folders) > 1 else ""
                print(f"review: {named}{error}", file=sys.stderr)
                reviews.append(None)
                codes[len(reviews) - 1] = 3
    finally:
        if pending is not None:
            pending.close()
    if len(folders) > 1 and acks:
        reviews = acknowledge_across(reviews, acks, codes)
    for index, (folder, review) in enumerate(zip(folders, reviews, strict=True)):
        if review is None:
            continue
        write_review(folder, review)
        if index:
            print()
        print(report.terminal(review))
        print(f"\nreview written to {folder.review_md} and {folder.review_json}")
        codes[index] = 0 if review.passed else 1
    return [3 if code is None else code for code in codes]


def acknowledge_across(reviews: list[Review | None], acks: Sequence[str],
                       codes: list[int | None]) -> list[Review | None]:
    """Each review with the acknowledgements of the addresses it blocks; an address that blocks in none of
    them is a typo: every review is refused (code 3), as one plan's review refuses it."""
    blocked = {f.address for review in reviews if review is not None for f in review.blocking}
    unknown = [a for a in acks if a not in blocked]
    if unknown:
        print(f"review: acknowledged {', '.join(unknown)}, but nothing blocks it in any plan; blocked addresses: "
              f"{', '.join(sorted(blocked)) or 'none'} (check the spelling)", file=sys.stderr)
        for index, review in enumerate(reviews):
            if review is not None:
                codes[index] = 3
        return [None] * len(reviews)
    for review in reviews:
        if review is not None:
            own = {f.address for f in review.blocking}
            review.acknowledged = sorted({a for a in acks if a in own})
    return reviews


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("review", help="review a saved plan", description=__doc__)
    configure(parser)
    parser.set_defaults(handler=run)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, action="append",
                        help="dev, staging, prod, local, state, ci, or a preview suffix; several as a comma list "
                             "(or --env repeated), reviewed with one checkov process")
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where plan folders are (.plans)")
    add_review_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        envs = environments_argument(args.env if isinstance(args.env, list) else [args.env])
        folders = [PlanFolder.for_stack(stack_name(env), args.plans_dir) for env in envs]
    except ValueError as error:
        print(f"review: {error}", file=sys.stderr)
        return 3
    if len(folders) == 1:
        return review_folder(folders[0], args)
    return max(review_folders(folders, args))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plans review", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))
