"""The generated module, built once, and every offline Terraform run the module tests read, made together.

All of tests/module is one xdist group (tests/conftest.py): the build (a synth), one `terraform init` shared by
every root, and the plans (about 10-20 s each) happen once, on one worker, three at a time.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import TEST_ACCOUNT_ID, TEST_ALARM_EMAIL
from tests.module.cases import BAD, GOOD
from tests.support.module_plans import ModulePlan, endpoint_environment, init_root, plan_root, share_init, write_root
from tools.module.build import MODULE_NAME, write_module
from tools.module.example import EXAMPLE_PATH

#: The shipped environments whose stacks the module's plans are compared with.
COMPARED = ("dev", "prod")


@pytest.fixture(scope="session")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make module``'s folder, built into a temporary folder."""
    return write_module(tmp_path_factory.mktemp("module") / MODULE_NAME)


@pytest.fixture(scope="session")
def module_document(module_dir: Path) -> dict:
    return json.loads((module_dir / "main.tf.json").read_text())


@pytest.fixture(scope="session")
def shipped_settings() -> dict:
    """The shipped environments.toml's dev and prod settings, with the test account and alarm address."""
    from main import environments_file

    env = {**os.environ, "TAP_AWS_ACCOUNT_ID": TEST_ACCOUNT_ID, "TAP_ALARM_EMAIL": TEST_ALARM_EMAIL}
    environments = environments_file({})
    return {name: environments.environment(name, env) for name in COMPARED}


@pytest.fixture(scope="session")
def shipped_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The shipped dev and prod stacks (their cdk.tf.json), as main.py synthesizes them."""
    from main import build_app

    outdir = tmp_path_factory.mktemp("shipped-dev-prod")
    env = {"TAP_STACKS": ",".join(COMPARED), "TAP_AWS_ACCOUNT_ID": TEST_ACCOUNT_ID, "TAP_ALARM_EMAIL": TEST_ALARM_EMAIL,
           "TAP_LOCAL_STATE_DIR": str(outdir / "state")}
    build_app(outdir=str(outdir), env=env).synth()
    return {name: json.loads((outdir / "stacks" / f"tap-pipeline-{name}" / "cdk.tf.json").read_text())
            for name in COMPARED}


@pytest.fixture(scope="session")
def shipped_counts(shipped_stacks: dict[str, dict]) -> dict[str, Counter]:
    """Resource types and counts of the shipped dev and prod stacks."""
    return {name: Counter({type_: len(by_name) for type_, by_name in document["resource"].items()})
            for name, document in shipped_stacks.items()}


@pytest.fixture(scope="session")
def module_plans(module_dir: Path, shipped_settings: dict) -> dict[str, ModulePlan]:
    """Every offline plan of the module tests, by name: the complete example, prod's inputs, the good and the
    bad values of tests/module/cases.py."""
    from tools.module.variables import module_inputs

    roots = {"example": module_dir / EXAMPLE_PATH.parent,
             "prod": write_root(module_dir, "prod", module_inputs(shipped_settings["prod"]))}
    roots.update({name: write_root(module_dir, name, inputs) for name, inputs in GOOD.items()})
    roots.update({name: write_root(module_dir, name, inputs) for name, (inputs, _) in BAD.items()})
    init_root(roots["example"])
    for name, root in roots.items():
        if name != "example":
            share_init(roots["example"], root)
    endpoints = endpoint_environment(module_dir)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(plan_root, root, endpoints) for name, root in roots.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="session")
def review_folder(module_dir: Path, module_plans: dict[str, ModulePlan]) -> Path:
    """The example's plan where ``python -m tools review --env example --plans-dir <module>`` finds it:
    ``<module>/tap-pipeline-example/`` with the working copy in ``work/`` (whose ``../../`` is the module)."""
    root = module_dir / "tap-pipeline-example"
    example = module_plans["example"].root
    shutil.copytree(example, root / "work", symlinks=True)
    shutil.move(str(root / "work" / "plan.tfplan"), root / "plan.tfplan")
    (root / "plan.json").write_text(json.dumps(module_plans["example"].plan))
    return root
