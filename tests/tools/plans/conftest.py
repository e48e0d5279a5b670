"""Real offline plans of the synthesized `prod` stack, against prior states built from its own plan."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.shared_once import shared_file
from tools.plans import offline
from tools.plans.layout import PlanFolder
from tools.plans.plan import make_plan
from tools.terraform_cli import run_terraform

STACK = "tap-pipeline-prod"


@pytest.fixture(scope="session")
def prod_stack_dir(synth_dir: Path) -> Path:
    return synth_dir / STACK


@pytest.fixture(scope="session")
def plans_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plans")


@pytest.fixture(scope="session")
def fresh_plan(prod_stack_dir: Path, plans_root: Path) -> tuple[PlanFolder, dict]:
    """The offline plan of `prod` with no prior state (a fresh environment)."""
    folder = PlanFolder.for_stack(STACK, plans_root / "fresh")
    return folder, make_plan(prod_stack_dir, folder, offline_mode=True)


@pytest.fixture(scope="session")
def schemas(fresh_plan: tuple[PlanFolder, dict]) -> dict:
    folder, _ = fresh_plan
    shown = json.loads(run_terraform(["providers", "schema", "-json"], folder.workdir).stdout)
    return shown["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"]


@pytest.fixture(scope="session")
def deployed_state(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
                   prod_stack_dir: Path, plans_root: Path) -> Path:
    """The state an apply of `prod` leaves: planned again until Terraform reports no changes.

    Built once per run (about 40 s) and shared by the xdist workers, which synthesize the same bytes.
    """
    def converge(path: Path) -> None:
        _, plan = request.getfixturevalue("fresh_plan")
        schemas = request.getfixturevalue("schemas")
        state: dict | None = None
        for round_ in range(4):
            state = offline.state_from_plan(plan, schemas, state)
            path.write_text(json.dumps(state))
            folder = PlanFolder.for_stack(STACK, plans_root / f"converge-{round_}")
            plan = make_plan(prod_stack_dir, folder, offline_mode=True, state=path)
            if not any(c["change"]["actions"] not in (["no-op"], ["read"]) for c in plan["resource_changes"]) \
                    and not any(o["actions"] != ["no-op"] for o in plan.get("output_changes", {}).values()):
                return
        raise AssertionError(
            f"the state did not converge to no changes: {json.dumps(plan['resource_changes'])[:2000]}")

    return shared_file(tmp_path_factory, "prod-deployed.tfstate", converge)


PlanMaker = Callable[..., tuple[PlanFolder, dict]]


@pytest.fixture
def plan_variant(prod_stack_dir: Path, deployed_state: Path, tmp_path: Path) -> PlanMaker:
    """Plan `prod` against the deployed state after ``edit_stack`` changed its JSON / ``edit_state`` its state
    (``without`` names files of the stack folder to leave out)."""
    def make(edit_stack: Callable[[dict], None] | None = None,
             edit_state: Callable[[dict], None] | None = None,
             without: tuple[str, ...] = ()) -> tuple[PlanFolder, dict]:
        stack_dir = tmp_path / "stack"
        shutil.copytree(prod_stack_dir, stack_dir,
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", *without))
        document = json.loads((stack_dir / "cdk.tf.json").read_text())
        if edit_stack:
            edit_stack(document)
        (stack_dir / "cdk.tf.json").write_text(json.dumps(document))
        state = json.loads(deployed_state.read_text())
        if edit_state:
            edit_state(state)
        state_path = tmp_path / "prior.tfstate"
        state_path.write_text(json.dumps(state))
        folder = PlanFolder.for_stack(STACK, tmp_path / "plans")
        return folder, make_plan(stack_dir, folder, offline_mode=True, state=state_path)
    return make
