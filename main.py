#!/usr/bin/env python
"""The cdktf app: the state bootstrap stack, one pipeline stack per environment of ``environments.toml``, and
the CI identities' stack (``tap-pipeline-ci``) when the file has a ``[ci]`` table or TAP_STACKS names ``ci``.

The environments are data (``environments.toml``); ``docs/configuration-reference.md`` documents every key and
the environment variables that override them (TAP_STACKS, ENVIRONMENT_SUFFIX, TAP_AWS_ACCOUNT_ID, TAP_ALARM_EMAIL,
TAP_ALARM_HTTPS_ENDPOINT, TAP_PROJECT, TAP_STATE_BUCKET, TAP_STATE_LOCK_TABLE, TAP_STATE_REGION,
TAP_BOOTSTRAP_STATE, TAP_LOCAL_STATE_DIR, TAP_ENVIRONMENTS_FILE), from ``VARIABLES`` in
``modules/environments_file.py``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from modules.environments_file import (
    ENVIRONMENTS_FILE_VARIABLE,
    LOCAL_STATE_DIR_VARIABLE,
    STACKS_VARIABLE,
    EnvironmentsFile,
)
from modules.provider_bindings import load_provider_bindings
from modules.runtime_env import silence_node_eol_banner
from modules.settings import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent
LOCAL_STATE_DIR = PROJECT_ROOT / ".state"
ENVIRONMENTS_FILE = PROJECT_ROOT / "environments.toml"


def environments_file(env: Mapping[str, str] | None = None) -> EnvironmentsFile:
    """The environments file: TAP_ENVIRONMENTS_FILE, or the shipped ``environments.toml``."""
    env = os.environ if env is None else env
    return EnvironmentsFile.read(env.get(ENVIRONMENTS_FILE_VARIABLE, "").strip() or ENVIRONMENTS_FILE)


def checked_settings(env: Mapping[str, str], environments: EnvironmentsFile) -> tuple:
    """Every setting the selected stacks need, validated (SettingsError listing every problem): the
    environments, the CI identities' settings (or None) and the state's (None when no stack keeps its state in S3)."""
    selected = environments.selected(env)
    ci = environments.ci(env) if environments.wants_ci(env) else None
    # The bootstrap stack holds the S3 state of the other stacks: `local` alone keeps its state on disk.
    needs_state_bucket = ci is not None or any(settings.backend.kind == "s3" for settings in selected)
    state = environments.state(env) if needs_state_bucket else None
    return selected, ci, state


def build_app(outdir: str | None = None, env: Mapping[str, str] | None = None,
              environments: EnvironmentsFile | None = None):
    """Validate every setting first, then import cdktf (slow) and build the stacks."""
    env = os.environ if env is None else env
    environments = environments or environments_file(env)
    selected, ci, state = checked_settings(env, environments)
    local_state_dir = Path(env.get(LOCAL_STATE_DIR_VARIABLE) or LOCAL_STATE_DIR)
    silence_node_eol_banner()
    load_provider_bindings()

    from modules.app import PipelineApp
    from modules.ci_identities import CiIdentitiesStack
    from modules.ci_settings import CI_STACK_NAME
    from modules.pipeline_stack import PipelineStack
    from modules.state_backend import BOOTSTRAP_STACK_NAME, StateBootstrapStack

    app = PipelineApp(outdir=outdir) if outdir else PipelineApp()
    if state is not None:
        StateBootstrapStack(app, BOOTSTRAP_STACK_NAME, state=state, local_state_dir=local_state_dir)
    for settings in selected:
        PipelineStack(app, settings.stack_name, settings=settings, local_state_dir=local_state_dir)
    if ci is not None:
        CiIdentitiesStack(app, CI_STACK_NAME, settings=ci.identities, state=ci.state, state_keys=ci.state_keys,
                          regions=ci.regions, tags=ci.tags)
    return app


#: After configuration errors of the whole app (no TAP_STACKS): the way to the one stack that needs no account.
LOCAL_ALONE_HINT = ("To synthesize the local stack alone, which needs no AWS account: TAP_STACKS=local make synth "
                    "(or TAP_STACKS=local python main.py); every variable and key: docs/configuration.md")


def main(argv: Sequence[str] = ()) -> int:
    """Synthesize the selected stacks; with --check, only validate their settings (no cdktf, under a second)."""
    os.chdir(PROJECT_ROOT)
    try:
        if "--check" in argv:
            checked_settings(os.environ, environments_file())
            return 0
        app = build_app()
    except SettingsError as error:
        for problem in error.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        if not os.environ.get(STACKS_VARIABLE, "").strip():  # every stack was asked for: the fresh clone's case
            print(LOCAL_ALONE_HINT, file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
