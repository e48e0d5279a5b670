"""``apply``: apply the saved plan, byte for byte, only if a passing review recorded its SHA-256.

It never plans: Terraform applies the saved plan file, and itself refuses a stale one (the state
changed since the plan was made).  A plan made with ``--offline`` (stub credentials, no refresh) is
refused before Terraform runs: it was computed against no real account.  The plan folder may come from
another machine (CI's plan job, as an artifact without ``work/.terraform``): the providers are installed
again, from the lock file inside the reviewed plan.  ``--confirm`` asks before applying (``make deploy``);
``--yes`` answers for you.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tools.aws_credentials import MissingCredentials, require_credentials
from tools.plans import offline
from tools.plans.layout import PLANS_DIR, PlanFolder, locked_providers, sha256_of, stack_name, terraform_variables
from tools.terraform_cli import LOCK_TIMEOUT, failure_message, run_terraform


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
        refused = preflight(folder.workdir, stack=folder.root.name) != 0
    except PreflightError as error:
        raise ApplyRefused(f"preflight could not check the account: {error}") from error
    if refused:
        raise ApplyRefused("the account cannot take this stack's reserved concurrency (see above): nothing applied")


def install_locked_providers(folder: PlanFolder, extra_env: Mapping[str, str]) -> None:
    """Install, on this machine, exactly the providers the reviewed plan was made with.

    A folder planned here has its providers linked into this machine's plugin cache or mirror; one that came as
    a CI artifact has none (the workflow leaves ``work/.terraform`` out: layout.NOT_IN_ARTIFACT), and an
    artifact drops the files' modes and links, so a provider carried in it could not run. Either way they are
    installed afresh by ``terraform init -lockfile=readonly``, which installs the lock file's versions only and
    checks each package against its checksums
    (https://developer.hashicorp.com/terraform/language/files/dependency-lock#checksum-verification). The lock
    file is the one inside the plan, whose SHA-256 the review recorded; a different one in the folder is refused.
    """
    try:
        locked = locked_providers(folder.plan_file)
    except ValueError as error:
        raise ApplyRefused(str(error)) from error
    if folder.lock_file.is_file() and folder.lock_file.read_bytes() != locked:
        raise ApplyRefused(f"{folder.lock_file} is not the lock file inside the reviewed plan: these are not the "
                           "providers the plan was reviewed with; plan and review again")
    folder.lock_file.write_bytes(locked)
    providers = folder.workdir / ".terraform" / "providers"
    if providers.is_symlink():
        providers.unlink()
    elif providers.exists():
        shutil.rmtree(providers)  # removes links into the cache or mirror, never what they point at
    result = run_terraform(["init", "-input=false", "-no-color", "-lockfile=readonly"], folder.workdir,
                           check=False, extra_env=extra_env)
    if result.returncode != 0:
        raise ApplyRefused(failure_message(f"terraform init of {folder.root.name}'s reviewed plan failed", result))


def apply_plan(folder: PlanFolder, *, confirm: Callable[[str], bool] | None = None,
               preflight: Callable[[PlanFolder], None] | None = None,
               credentials: Callable[[str], None] | None = None, allow_offline: bool = False) -> str:
    """Apply the reviewed plan.  ``credentials`` checks that AWS credentials are at hand (for the stack's name),
    ``preflight`` that the account can take the stack.  ``allow_offline`` is for tests that apply an offline
    plan to its local state file (it changes only outputs); the command line never sets it."""
    record = check_reviewed(folder, allow_offline=allow_offline)
    if credentials is not None:
        credentials(folder.root.name)
    if preflight is not None:
        preflight(folder)
    env = terraform_variables(folder.settings())
    install_locked_providers(folder, env)
    counts = ", ".join(f"{n} to {action}" for action, n in (record.get("counts") or {}).items()) or "no changes"
    if confirm is not None and not confirm(f"Apply the reviewed plan {record['plan_sha256'][:12]} to "
                                           f"{record['stack']} ({counts})? Type 'yes': "):
        raise ApplyRefused("not confirmed: nothing applied")
    result = run_terraform(["apply", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}",
                            str(folder.plan_file.resolve())], folder.workdir, check=False, extra_env=env)
    if result.returncode != 0:
        raise ApplyRefused(failure_message("terraform apply failed", result, tail=3000))
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
    parser.add_argument("--env", required=True, help="dev, staging, prod, local, state, ci, or a preview suffix")
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where plan folders are (.plans)")
    parser.add_argument("--confirm", action="store_true", help="ask before applying")
    parser.add_argument("--yes", action="store_true", help="with --confirm: do not ask")
    parser.add_argument("--skip-preflight", action="store_true",
                        help="do not check the account's unreserved concurrency first (needs lambda:GetAccountSettings "
                             "and lambda:GetFunctionConcurrency); the local emulator never gets it")


def run(args: argparse.Namespace) -> int:
    try:
        folder = PlanFolder.for_stack(stack_name(args.env), args.plans_dir)
        on_the_emulator = bool(folder.settings().get("emulator_endpoint"))
        # moto does not implement GetAccountSettings, and the emulator reserves nothing.
        check = None if args.skip_preflight or on_the_emulator else concurrency_preflight
        output = apply_plan(folder, confirm=ask if args.confirm and not args.yes else None, preflight=check,
                            credentials=None if on_the_emulator else require_credentials)
    except (ApplyRefused, MissingCredentials, ValueError) as error:
        print(f"apply refused: {error}", file=sys.stderr)
        return 1
    print(output)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plans apply", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))
