"""The CI identities stack for dev, staging and prod, synthesized as an administrator would deploy it."""

from __future__ import annotations

from pathlib import Path

from tools.policy.stack_json import StackJson

ACCOUNT = "111122223333"  # the test session's account (tests/conftest.py)
REPOSITORY = "acme/tap-pipeline"
STACK = "tap-pipeline-ci"


def synth_ci_stack(outdir: Path) -> StackJson:
    from modules.app import PipelineApp
    from modules.ci_identities import CiIdentitiesSettings, CiIdentitiesStack
    from modules.state_backend import state_key
    from tests.support.environments import selected_environments, state_backend_settings

    env = {"TAP_AWS_ACCOUNT_ID": ACCOUNT, "TAP_ALARM_EMAIL": "oncall@example.com", "TAP_STACKS": "dev,staging,prod"}
    state = state_backend_settings(env)
    environments = selected_environments(env)
    app = PipelineApp(outdir=str(outdir))
    CiIdentitiesStack(app, STACK, settings=CiIdentitiesSettings(repository=REPOSITORY), state=state.backend,
                      state_keys=[*(state_key(e) for e in environments), "state/tap-pipeline-state.tfstate"],
                      regions=[e.region for e in environments], tags=state.tags)
    app.synth()
    return StackJson.load(outdir / "stacks" / STACK)
