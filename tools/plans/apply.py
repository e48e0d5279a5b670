"""``apply``: apply the saved plan, byte for byte, only if a passing review recorded its SHA-256.

It never plans: Terraform applies the saved plan file, and itself refuses a stale one (the state
changed since the plan was made).  A plan made with ``--offline`` (stub credentials, no refresh) is
refused before Terraform runs: it was computed against no real account.  ``--confirm`` asks before
applying (``make deploy``); ``--yes`` answers for you.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tools.plans import offline
from tools.plans.layout import PLANS_DIR, PlanFolder, sha256_of, stack_name, terraform_variables
from tools.terraform_cli import run_terraform


class ApplyRefused(RuntimeError):
    """The plan may not be applied; the message says why and what to do."""


def check_reviewed(folder: PlanFolder, *, allow_offline: bool = False) -> dict:
    """The passing review of exactly this plan file, made against a real account, or ApplyRefused."""
    if not folder.plan_file.is_file():
        raise ApplyRefused(f"no plan at {folder.plan_file}: run `make plan ENV=<env>` first")
    if not folder.review_json.is_file():
        raise ApplyRefused(f"no review of {folder.plan_file}: run `make review ENV=<env>` first")
    record = json.loads(folder.review_json.read_text())
    actual = sha256_of(folder.plan_file)
    if record.get("plan_sha256") != actual:
        raise ApplyRefused(f"the plan file changed since its review (reviewed SHA-256 {record.get('plan_sha256')}, "
                           f"now {actual}): plan and review again")
    if not record.get("passed"):
        raise ApplyRefused("the review of this plan is blocked: fix the findings, or acknowledge them by address "
                           "(`make review ENV=<env> ACK=<address>`) if they are intended")
    if not allow_offline and (record.get("offline") or (folder.workdir / offline.OVERRIDE_FILE).is_file()):
        raise ApplyRefused("this plan was made with --offline (stub credentials, a local state file, no refresh): "
                           "it describes no real account and cannot be applied; plan again without --offline")
    return record


def concurrency_preflight(folder: PlanFolder) -> None:
    """Refuse before anything is applied when the account cannot take the stack's reserved concurrency."""
    from tools.preflight import PreflightError
    from tools.preflight import run as preflight

    try:
        refused = preflight(folder.workdir) != 0
    except PreflightError as error:
        raise ApplyRefused(f"preflight could not check the account: {error}") from error
    if refused:
        raise ApplyRefused("the account cannot take this stack's reserved concurrency (see above): nothing applied")


def apply_plan(folder: PlanFolder, *, confirm: Callable[[str], bool] | None = None,
               preflight: Callable[[PlanFolder], None] | None = None, allow_offline: bool = False) -> str:
    """Apply the reviewed plan.  ``allow_offline`` is for tests that apply an offline plan to its local
    state file (it changes only outputs); the command line never sets it."""
    record = check_reviewed(folder, allow_offline=allow_offline)
    if preflight is not None:
        preflight(folder)
    if confirm is not None and not confirm(f"Apply the reviewed plan {record['plan_sha256'][:12]} to "
                                           f"{record['stack']}? Type 'yes': "):
        raise ApplyRefused("not confirmed: nothing applied")
    result = run_terraform(["apply", "-input=false", "-no-color", str(folder.plan_file.resolve())],
                           folder.workdir, check=False, extra_env=terraform_variables(folder.settings()))
    if result.returncode != 0:
        raise ApplyRefused(f"terraform apply failed (exit {result.returncode}):\n{result.stdout[-3000:]}"
                           f"\n{result.stderr[-3000:]}")
    return result.stdout


def ask(prompt: str) -> bool:
    try:
        return input(prompt).strip().lower() == "yes"
    except EOFError:
        return False


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("apply", help="apply the reviewed plan", description=__doc__)
    configure(parser)
    parser.set_defaults(handler=run)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="dev, staging, prod, local, state, or a preview suffix")
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where plan folders are (.plans)")
    parser.add_argument("--confirm", action="store_true", help="ask before applying")
    parser.add_argument("--yes", action="store_true", help="with --confirm: do not ask")
    parser.add_argument("--skip-preflight", action="store_true",
                        help="do not check the account's unreserved concurrency first (needs lambda:GetAccountSettings "
                             "and lambda:GetFunctionConcurrency); the local emulator never gets it")


def run(args: argparse.Namespace) -> int:
    try:
        folder = PlanFolder.for_stack(stack_name(args.env), args.plans_dir)
        # moto does not implement GetAccountSettings, and the emulator reserves nothing.
        check = None if args.skip_preflight or args.env == "local" else concurrency_preflight
        output = apply_plan(folder, confirm=ask if args.confirm and not args.yes else None, preflight=check)
    except (ApplyRefused, ValueError) as error:
        print(f"apply refused: {error}", file=sys.stderr)
        return 1
    print(output)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plans apply", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))
