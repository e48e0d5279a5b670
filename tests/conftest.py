"""Session-wide fixtures: the app is synthesized once per session (importing the provider bindings takes >10 s,
hashicorp/terraform-cdk#3753)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modules.provider_bindings import load_provider_bindings
from modules.runtime_env import silence_node_eol_banner
from modules.settings import ACCOUNT_ID_VARIABLE, ALARM_EMAIL_VARIABLE, EXAMPLE_ACCOUNT_ID
from tools.policy.stack_json import StackJson

silence_node_eol_banner()
load_provider_bindings()

# The S3-backed environments' account and staging's and prod's alarm subscriber in every test, and in the
# subprocesses the tests start (main.py, cdktf, the plan tools), unless the caller set them.
TEST_ACCOUNT_ID = EXAMPLE_ACCOUNT_ID
TEST_ALARM_EMAIL = "oncall@example.com"
os.environ.setdefault(ACCOUNT_ID_VARIABLE, TEST_ACCOUNT_ID)
os.environ.setdefault(ALARM_EMAIL_VARIABLE, TEST_ALARM_EMAIL)

PREVIEW_SUFFIX = "pr42"
PIPELINE_ENVIRONMENTS = ("local", "dev", "staging", "prod", PREVIEW_SUFFIX)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All stacks of ``main.py``, with a preview environment, synthesized once into a temp folder."""
    from main import build_app

    outdir = tmp_path_factory.mktemp("cdktf.out")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_") and k != "ENVIRONMENT_SUFFIX"}
    env["ENVIRONMENT_SUFFIX"] = PREVIEW_SUFFIX
    env[ACCOUNT_ID_VARIABLE] = TEST_ACCOUNT_ID
    env[ALARM_EMAIL_VARIABLE] = TEST_ALARM_EMAIL
    build_app(outdir=str(outdir), env=env).synth()
    return outdir / "stacks"


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> dict[str, StackJson]:
    """Every synthesized stack by name (``tap-pipeline-<env>`` and ``tap-pipeline-state``)."""
    return {d.name: StackJson.load(d) for d in sorted(synth_dir.iterdir()) if (d / "cdk.tf.json").is_file()}


@pytest.fixture(scope="session")
def pipeline_stacks(stacks: dict[str, StackJson]) -> dict[str, StackJson]:
    """The pipeline stacks, keyed by environment suffix."""
    return {suffix: stacks[f"tap-pipeline-{suffix}"] for suffix in PIPELINE_ENVIRONMENTS}
