#!/usr/bin/env python
"""The cdktf app: the state bootstrap stack and one pipeline stack per environment.

Environment variables:
  TAP_STACKS            comma list of environments to synthesize (default: all); the state bootstrap stack
                        comes with any environment whose state is in S3 (all but `local`)
  TAP_AWS_ACCOUNT_ID    the AWS account the S3-backed environments deploy to (12 digits)
  TAP_LOCAL_STATE_DIR   where stacks on the local backend keep their state (default: .state/)
  TAP_ALARM_EMAIL, TAP_ALARM_HTTPS_ENDPOINT   who gets staging's and prod's alarms (one is required there)
  ENVIRONMENT_SUFFIX    adds a preview environment on dev's settings, named with it
  TAP_PROJECT           the prefix of every AWS name (default `tap`)
  TAP_STATE_BUCKET, TAP_STATE_LOCK_TABLE, TAP_STATE_REGION   where the S3 backend keeps state
  TAP_BOOTSTRAP_STATE   `local` only for the first `make bootstrap`; `s3` (default) afterwards
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from modules.provider_bindings import load_provider_bindings
from modules.runtime_env import silence_node_eol_banner
from modules.settings import SettingsError, selected_environments, state_backend_settings

PROJECT_ROOT = Path(__file__).resolve().parent
LOCAL_STATE_DIR = PROJECT_ROOT / ".state"


def build_app(outdir: str | None = None, env: Mapping[str, str] | None = None):
    """Validate every setting first, then import cdktf (slow) and build the stacks."""
    environments = selected_environments(env)
    local_state_dir = Path((os.environ if env is None else env).get("TAP_LOCAL_STATE_DIR") or LOCAL_STATE_DIR)
    # The bootstrap stack holds the S3 state of the other stacks: `local` alone keeps its state on disk.
    needs_state_bucket = any(settings.backend.kind == "s3" for settings in environments)
    state = state_backend_settings(env) if needs_state_bucket else None
    silence_node_eol_banner()
    load_provider_bindings()

    from modules.app import PipelineApp
    from modules.pipeline_stack import PipelineStack
    from modules.state_backend import BOOTSTRAP_STACK_NAME, StateBootstrapStack

    app = PipelineApp(outdir=outdir) if outdir else PipelineApp()
    if state is not None:
        StateBootstrapStack(app, BOOTSTRAP_STACK_NAME, state=state, local_state_dir=local_state_dir)
    for settings in environments:
        PipelineStack(app, settings.stack_name, settings=settings, local_state_dir=local_state_dir)
    return app


def main() -> int:
    os.chdir(PROJECT_ROOT)
    try:
        app = build_app()
    except SettingsError as error:
        for problem in error.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
