"""``plan``: synthesize the stacks, ``terraform init`` + ``plan -out``, their JSON, and the review beside each.

``--env`` takes one environment or several (``--env dev,staging,prod``, or repeated): several are
synthesized by one ``main.py`` run, planned side by side (Terraform waits on the provider more than on the
CPU), and reviewed with one checkov process, the provider schema asked once; each stack still gets its own
plan folder, review record and report, and the exit code is the worst of them.

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
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tools.aws_credentials import MissingCredentials, require_credentials
from tools.local.progress import Progress
from tools.plans import checkov_scan, offline, public_parameters, review, timings
from tools.plans.layout import (
    PLANS_DIR,
    PROJECT_ROOT,
    PlanFolder,
    environments_argument,
    stack_name,
    terraform_variables,
)
from tools.terraform_cli import LOCK_TIMEOUT, failure_message, run_terraform

LOCAL_ENVIRONMENT = "local"


class PlanError(RuntimeError):
    """The plan could not be made; the message says why and what to do."""


def synthesis_variables(envs: Sequence[str], environments: Any, base_env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the one ``main.py`` run that synthesizes every stack of ``envs``."""
    from modules.ci_settings import CI_ENVIRONMENT

    base = environments.preview_from or "dev"  # previews are made from it; the shipped one keeps state in S3
    previews = [env for env in envs
                if stack_name(env) != "tap-pipeline-state" and env != CI_ENVIRONMENT and env not in environments.names]
    if len(previews) > 1:
        raise PlanError(f"previews {', '.join(previews)}: one synthesis makes one preview (ENVIRONMENT_SUFFIX); "
                        "plan them one at a time")
    stacks: list[str] = []
    variables = dict(base_env)
    for env in envs:
        if stack_name(env) == "tap-pipeline-state":
            stacks.append(base)  # the bootstrap stack comes with any S3-backed environment
        elif env == CI_ENVIRONMENT or env in environments.names:
            stacks.append(env)
        else:
            stacks.append(base)
            variables["ENVIRONMENT_SUFFIX"] = env
    variables["TAP_STACKS"] = ",".join(dict.fromkeys(stacks))
    return variables


def synthesize_stacks(envs: Sequence[str], project_root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """``main.py`` once with only these environments selected (a name the environments file does not
    declare is a preview: it sets ENVIRONMENT_SUFFIX); each environment's stack folder."""
    from main import environments_file
    from modules.settings import SettingsError

    stacks = {env: stack_name(env) for env in envs}
    try:
        environments = environments_file(os.environ)
    except SettingsError as error:
        raise PlanError(f"synthesis of {', '.join(stacks.values())} failed: {error}") from error
    variables = synthesis_variables(envs, environments, os.environ)
    with timings.phase("all" if len(envs) > 1 else stacks[envs[0]], "synth"):
        result = subprocess.run([sys.executable, "main.py"], cwd=project_root, env=variables, text=True,
                                capture_output=True, check=False)
    folders = {env: project_root / "cdktf.out" / "stacks" / stack for env, stack in stacks.items()}
    if result.returncode != 0 or not all((folder / "cdk.tf.json").is_file() for folder in folders.values()):
        raise PlanError(f"synthesis of {', '.join(stacks.values())} failed (exit {result.returncode}):\n"
                        f"{result.stdout}{result.stderr}")
    return folders


def synthesize(env: str, project_root: Path = PROJECT_ROOT) -> Path:
    """One environment's stack folder (:func:`synthesize_stacks`)."""
    return synthesize_stacks([env], project_root)[env]


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
    settings: dict[str, Any] = {"offline": offline_mode, "emulator_endpoint": emulator, "source": str(stack_dir)}
    if offline_mode:
        public = public_parameters.public_parameter_names(stack_dir)
        if public and not endpoints:
            # AWS's public parameters (the Powertools layer ARN) from a local stand-in: see public_parameters.
            endpoints = {"ssm": public_parameters.serve(public)}
        if endpoints:
            settings["endpoints"] = dict(endpoints)
        offline.write_override(folder.workdir)
        if state is not None:
            shutil.copyfile(state, folder.workdir / offline.STATE_FILE)
    elif state is not None:
        raise PlanError("--state needs --offline: a real backend keeps its own state")
    folder.settings_json.write_text(json.dumps(settings, indent=2))
    env = terraform_variables(settings)
    stack = folder.root.name
    step(f"terraform init in {os.path.relpath(folder.workdir)}")
    with timings.phase(stack, "init"):
        initialized = run_terraform(["init", "-input=false", "-no-color"], folder.workdir, check=False,
                                    extra_env=env)
    if initialized.returncode != 0:
        raise PlanError(failure_message(f"terraform init failed for {folder.root.name}", initialized))
    args = ["plan", "-input=false", "-no-color", f"-lock-timeout={LOCK_TIMEOUT}",
            f"-out={folder.plan_file.resolve()}", *extra_args]
    if offline_mode:
        args.append("-refresh=false")
    step("terraform plan" + (" (offline: stub credentials, no refresh)" if offline_mode else "")
         + (" -destroy" if "-destroy" in extra_args else ""))
    with timings.phase(stack, "plan"):
        result = run_terraform(args, folder.workdir, check=False, extra_env=env)
    if result.returncode not in (0, 2):
        raise PlanError(failure_message(f"terraform plan failed for {folder.root.name}", result))
    with timings.phase(stack, "show"):
        shown = run_terraform(["show", "-json", "-no-color", str(folder.plan_file.resolve())], folder.workdir,
                              extra_env=env)
    folder.plan_json.write_text(shown.stdout)
    return json.loads(shown.stdout)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help="plan one stack and review the plan", description=__doc__)
    configure(parser)
    parser.set_defaults(handler=run)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, action="append",
                        help="dev, staging, prod, local, state, ci, or a preview suffix; several as a comma list "
                             "(or --env repeated): one synthesis, plans side by side, one checkov")
    parser.add_argument("--stack-dir", type=Path, help="an already synthesized stack folder (skips synthesis; "
                        "one environment only)")
    parser.add_argument("--offline", action="store_true", help="plan without AWS: local state, stub credentials")
    parser.add_argument("--state", type=Path, help="with --offline: the prior state (v4 JSON) to plan against "
                        "(one environment only)")
    parser.add_argument("--endpoint", help="with --offline: send data sources' AWS calls to this emulator URL; "
                        "for `local`: the emulator URL (default: the running local session's)")
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where plan folders go (.plans)")
    parser.add_argument("--detailed-exitcode", action="store_true",
                        help="exit 2 when a plan has changes (drift checks)")
    parser.add_argument("--destroy", action="store_true",
                        help="plan the deletion of every resource of the stack (make destroy); reviewed like any plan")
    parser.add_argument("--timings", action="store_true",
                        help="print each phase's seconds per stack (synth, init, plan, show, policies, checkov ...)")
    parser.add_argument("--timings-json", type=Path, metavar="FILE", help="write them to FILE as JSON")
    review.add_review_arguments(parser)


ENDPOINT_SERVICES = tuple(offline.ENDPOINT_VARIABLES)


def run(args: argparse.Namespace) -> int:
    timings.reset()
    started = time.monotonic()
    code = plan_and_review(args)
    wall_s = time.monotonic() - started
    if getattr(args, "timings", False):
        print(f"\n{timings.render(timings.recorded(), wall_s)}", file=sys.stderr)
    if getattr(args, "timings_json", None) is not None:
        timings.write_json(args.timings_json, timings.recorded(), wall_s)
    return code


def plan_and_review(args: argparse.Namespace) -> int:
    progress = Progress(sys.stderr)  # the review goes to stdout; the phases, as they start, beside it
    # checkov's start (most of its run) is paid on the other core while the stacks are synthesized and planned.
    worker = None if args.skip_checkov else checkov_scan.start_checkov()
    if args.offline and args.endpoint is None:
        public_parameters.start_early()  # moto's import, over a second, beside the synthesis
    try:
        return _plan_and_review(args, progress, worker)
    finally:
        if worker is not None and worker.poll() is None:
            checkov_scan.stop_checkov(worker)  # the review never got to it (an error before)


def _plan_and_review(args: argparse.Namespace, progress: Progress,
                     worker: subprocess.Popen[str] | None) -> int:
    try:
        envs = environments_argument(args.env if isinstance(args.env, list) else [args.env])
        stacks = {env: stack_name(env) for env in envs}
        if len(envs) > 1 and (args.stack_dir is not None or args.state is not None):
            raise PlanError("--stack-dir and --state describe one stack: give one --env with them")
        if not args.offline:
            for env in envs:
                if env != LOCAL_ENVIRONMENT:
                    require_credentials(stacks[env])  # before the synthesis, which takes a while
        if args.state is not None and not args.state.is_file():
            raise PlanError(f"--state {args.state}: no such file; give a v4 state JSON")
        if args.stack_dir is None:
            progress.step(f"synthesizing {', '.join(stacks.values())} (main.py)")
        stack_dirs = {envs[0]: args.stack_dir} if args.stack_dir else synthesize_stacks(envs)
        for stack_dir in stack_dirs.values():
            if not (stack_dir / "cdk.tf.json").is_file():
                raise PlanError(f"{stack_dir} holds no cdk.tf.json: give a synthesized stack folder")
        endpoints = {s: args.endpoint for s in ENDPOINT_SERVICES} if args.offline and args.endpoint else None
        jobs = {}
        for env in envs:
            emulator = None
            if env == LOCAL_ENVIRONMENT and not args.offline:
                emulator = args.endpoint or emulator_endpoint()
            jobs[env] = (PlanFolder.for_stack(stacks[env], args.plans_dir), emulator)
        plans = plan_side_by_side(
            {env: (stack_dirs[env], folder) for env, (folder, _) in jobs.items()},
            offline_mode=args.offline, state=args.state, endpoints=endpoints,
            emulators={env: emulator for env, (_, emulator) in jobs.items()},
            extra_args=["-destroy"] if args.destroy else [], progress=progress)
    except (PlanError, MissingCredentials, ValueError, RuntimeError) as error:
        print(f"plan: {error}", file=sys.stderr)
        return 3
    folders = {env: folder for env, (folder, _) in jobs.items()}
    progress.step("reviewing the plan" + ("s" if len(envs) > 1 else "") + ": policies, checkov, project checks, cost")
    if len(envs) == 1:
        code = review.review_folder(folders[envs[0]], args, plan=plans[envs[0]], checkov_worker=worker)
    else:
        code = max(review.review_folders(list(folders.values()), args, plans=[plans[env] for env in envs],
                                         checkov_worker=worker))
    progress.step(f"done: {REVIEW_OUTCOMES.get(code, f'exit {code}')}")
    # Drift is reported whatever the review says (a blocked plan with changes is drift too).
    if args.detailed_exitcode and any(review.has_changes(plan) for plan in plans.values()):
        return 2
    return code


#: What each exit code of the review means, for the last line of the phases.
REVIEW_OUTCOMES = {0: "the review passed", 1: "the review blocks (see Blocking above)",
                   3: "the review could not be made"}


def plan_side_by_side(stacks: Mapping[str, tuple[Path, PlanFolder]], *, offline_mode: bool,
                      state: Path | None, endpoints: dict[str, str] | None,
                      emulators: Mapping[str, str | None], extra_args: Sequence[str] = (),
                      progress: Progress | None = None) -> dict[str, dict]:
    """:func:`make_plan` of each stack, in threads (each waits on its terraform); every plan's JSON, or the
    first failure (after all have finished, so that no terraform is left running). Each phase is told to
    ``progress`` as it starts, with its stack's name when there are several."""
    def step_of(stack: str) -> Callable[[str], None]:
        if progress is None:
            return lambda text: None
        if len(stacks) == 1:
            return progress.step
        return lambda text: progress.step(f"{stack}: {text}")

    if len(stacks) == 1:
        [(env, (stack_dir, folder))] = stacks.items()
        return {env: make_plan(stack_dir, folder, offline_mode=offline_mode, state=state, endpoints=endpoints,
                               emulator=emulators.get(env), extra_args=extra_args,
                               step=step_of(folder.root.name))}
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        futures = {env: pool.submit(make_plan, stack_dir, folder, offline_mode=offline_mode, state=state,
                                    endpoints=endpoints, emulator=emulators.get(env), extra_args=extra_args,
                                    step=step_of(folder.root.name))
                   for env, (stack_dir, folder) in stacks.items()}
    failures = [str(f.exception()) for f in futures.values() if f.exception() is not None]
    if failures:
        raise PlanError("\n".join(failures))
    return {env: future.result() for env, future in futures.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plans plan", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))
