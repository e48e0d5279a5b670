"""``plan``: synthesize one stack, ``terraform init`` + ``plan -out``, its JSON, and the review beside it.

The plan is made in ``.plans/<stack>/work`` (a copy of the synthesized stack), so that ``apply`` later
runs in the very folder that was initialized for it.  ``--offline`` plans without AWS (local state
file, stub credentials, no refresh; such a plan is reviewed but never applied); ``local`` plans against
the running emulator.  Exit codes: 0 the review passed, 1 it blocks, 2 with ``--detailed-exitcode`` when
the plan has changes, 3 the plan or its review could not be made.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tools.aws_credentials import MissingCredentials, require_credentials
from tools.local.progress import Progress
from tools.plans import offline, public_parameters, review
from tools.plans.layout import PLANS_DIR, PROJECT_ROOT, PlanFolder, stack_name, terraform_variables
from tools.terraform_cli import LOCK_TIMEOUT, failure_message, run_terraform

LOCAL_ENVIRONMENT = "local"


class PlanError(RuntimeError):
    """The plan could not be made; the message says why and what to do."""


def synthesize(env: str, project_root: Path = PROJECT_ROOT) -> Path:
    """``main.py`` with only this environment selected (a name the environments file does not declare is a
    preview: it sets ENVIRONMENT_SUFFIX)."""
    from main import environments_file
    from modules.ci_settings import CI_ENVIRONMENT
    from modules.settings import SettingsError

    stack = stack_name(env)
    variables = {**os.environ}
    try:
        environments = environments_file(variables)
    except SettingsError as error:
        raise PlanError(f"synthesis of {stack} failed: {error}") from error
    base = environments.preview_from or "dev"  # previews are made from it; the shipped one keeps state in S3
    if stack == "tap-pipeline-state":
        variables["TAP_STACKS"] = base  # the bootstrap stack comes with any S3-backed environment
    elif env == CI_ENVIRONMENT:
        variables["TAP_STACKS"] = CI_ENVIRONMENT
    else:
        variables["TAP_STACKS"] = env if env in environments.names else base
        if env not in environments.names:
            variables["ENVIRONMENT_SUFFIX"] = env
    result = subprocess.run([sys.executable, "main.py"], cwd=project_root, env=variables, text=True,
                            capture_output=True, check=False)
    folder = project_root / "cdktf.out" / "stacks" / stack
    if result.returncode != 0 or not (folder / "cdk.tf.json").is_file():
        raise PlanError(f"synthesis of {stack} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    return folder


def emulator_endpoint() -> str:
    """The endpoint of the running local environment (``python -m tools local up``)."""
    from tools.local.session import Session, session_file

    if not session_file().is_file():
        raise PlanError(f"no local environment: {session_file()} is missing; start one with "
                        "`python -m tools local up`, or pass --endpoint URL")
    return Session.load().endpoint


def make_plan(stack_dir: Path, folder: PlanFolder, *, offline_mode: bool = False, state: Path | None = None,
              endpoints: dict[str, str] | None = None, emulator: str | None = None,
              extra_args: Sequence[str] = (), step: Callable[[str], None] = lambda text: None) -> dict:
    """Copy ``stack_dir`` to the work folder, init, plan, show -json; returns the plan JSON. ``step`` is told
    each phase as it starts."""
    if folder.root.exists():
        shutil.rmtree(folder.root)
    shutil.copytree(stack_dir, folder.workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    settings = {"offline": offline_mode, "emulator_endpoint": emulator, "source": str(stack_dir)}
    if offline_mode:
        public = public_parameters.public_parameter_names(stack_dir)
        if public and not endpoints:
            # AWS's public parameters (the Powertools layer ARN) from a local stand-in: see public_parameters.
            endpoints = {"ssm": public_parameters.serve(public)}
        offline.write_override(folder.workdir, endpoints=endpoints)
        if state is not None:
            shutil.copyfile(state, folder.workdir / offline.STATE_FILE)
    elif state is not None:
        raise PlanError("--state needs --offline: a real backend keeps its own state")
    folder.settings_json.write_text(json.dumps(settings, indent=2))
    env = terraform_variables(settings)
    step(f"terraform init in {os.path.relpath(folder.workdir)}")
    initialized = run_terraform(["init", "-input=false", "-no-color"], folder.workdir, check=False, extra_env=env)
    if initialized.returncode != 0:
        raise PlanError(failure_message(f"terraform init failed for {folder.root.name}", initialized))
    args = ["plan", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}",
            f"-out={folder.plan_file.resolve()}", *extra_args]
    if offline_mode:
        args.append("-refresh=false")
    step("terraform plan" + (" (offline: stub credentials, no refresh)" if offline_mode else "")
         + (" -destroy" if "-destroy" in extra_args else ""))
    result = run_terraform(args, folder.workdir, check=False, extra_env=env)
    if result.returncode not in (0, 2):
        raise PlanError(failure_message(f"terraform plan failed for {folder.root.name}", result))
    shown = run_terraform(["show", "-json", "-no-color", str(folder.plan_file.resolve())], folder.workdir,
                          extra_env=env)
    folder.plan_json.write_text(shown.stdout)
    return json.loads(shown.stdout)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help="plan one stack and review the plan", description=__doc__)
    configure(parser)
    parser.set_defaults(handler=run)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="dev, staging, prod, local, state, ci, or a preview suffix")
    parser.add_argument("--stack-dir", type=Path, help="an already synthesized stack folder (skips synthesis)")
    parser.add_argument("--offline", action="store_true", help="plan without AWS: local state, stub credentials")
    parser.add_argument("--state", type=Path, help="with --offline: the prior state (v4 JSON) to plan against")
    parser.add_argument("--endpoint", help="with --offline: send data sources' AWS calls to this emulator URL; "
                        "for `local`: the emulator URL (default: the running local session's)")
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where plan folders go (.plans)")
    parser.add_argument("--detailed-exitcode", action="store_true",
                        help="exit 2 when the plan has changes (drift checks)")
    parser.add_argument("--destroy", action="store_true",
                        help="plan the deletion of every resource of the stack (make destroy); reviewed like any plan")
    review.add_review_arguments(parser)


ENDPOINT_SERVICES = ("iam", "sts", "ssm", "s3", "sqs", "dynamodb", "lambda", "logs")


def run(args: argparse.Namespace) -> int:
    progress = Progress(sys.stderr)  # the review goes to stdout; the phases, as they start, beside it
    try:
        stack = stack_name(args.env)
        if not args.offline and args.env != LOCAL_ENVIRONMENT:
            require_credentials(stack)  # before the synthesis, which takes a while
        if args.state is not None and not args.state.is_file():
            raise PlanError(f"--state {args.state}: no such file; give a v4 state JSON")
        if args.stack_dir is None:
            progress.step(f"synthesizing {stack} (main.py)")
        stack_dir = args.stack_dir or synthesize(args.env)
        if not (stack_dir / "cdk.tf.json").is_file():
            raise PlanError(f"{stack_dir} holds no cdk.tf.json: give a synthesized stack folder")
        emulator = None
        if args.env == LOCAL_ENVIRONMENT and not args.offline:
            emulator = args.endpoint or emulator_endpoint()
        endpoints = {s: args.endpoint for s in ENDPOINT_SERVICES} if args.offline and args.endpoint else None
        folder = PlanFolder.for_stack(stack, args.plans_dir)
        plan = make_plan(stack_dir, folder, offline_mode=args.offline, state=args.state, endpoints=endpoints,
                         emulator=emulator, extra_args=["-destroy"] if args.destroy else [], step=progress.step)
    except (PlanError, MissingCredentials, ValueError, RuntimeError) as error:
        print(f"plan: {error}", file=sys.stderr)
        return 3
    progress.step("reviewing the plan: policies, checkov, project checks, cost")
    code = review.review_folder(folder, args, plan=plan)
    progress.step(f"done: {REVIEW_OUTCOMES.get(code, f'exit {code}')}")
    if args.detailed_exitcode and review.has_changes(plan):
        return 2
    return code


#: What each exit code of the review means, for the last line of the phases.
REVIEW_OUTCOMES = {0: "the review passed", 1: "the review blocks (see Blocking above)",
                   3: "the review could not be made"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plans plan", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))
