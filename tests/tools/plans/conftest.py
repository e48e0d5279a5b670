"""Real offline plans of the synthesized `prod` stack, against prior states built from its own plan."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.shared_once import shared_file, shared_folder
from tests.support.shared_provider import SharedProviders, shared_providers
from tools.plans import offline, public_parameters
from tools.plans.layout import PlanFolder
from tools.plans.plan import make_plan

STACK = "tap-pipeline-prod"


@pytest.fixture
def providers() -> Iterator[SharedProviders]:
    """A pool of the test's own, stopped after it (not the worker's, which the other tests use)."""
    pool = SharedProviders()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def prod_stack_dir(synth_dir: Path) -> Path:
    return synth_dir / STACK


@pytest.fixture(scope="session")
def plans_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plans")


@pytest.fixture(scope="session")
def fresh_plan(tmp_path_factory: pytest.TempPathFactory, prod_stack_dir: Path,
               plans_root: Path) -> tuple[PlanFolder, dict]:
    """The offline plan of `prod` with no prior state (a fresh environment), as `make plan` makes it (the
    provider started by Terraform: tests/tools/plans/test_shared_provider.py compares a shared provider's plan
    with it): planned once per run, and each worker's tests get a copy of its folder (the workers synthesize
    the same bytes)."""
    def plan(path: Path) -> None:
        make_plan(prod_stack_dir, PlanFolder.for_stack(STACK, path), offline_mode=True)

    folder = PlanFolder.for_stack(STACK, plans_root / "fresh")
    shutil.copytree(PlanFolder.for_stack(STACK, shared_folder(tmp_path_factory, "prod-fresh-plan", plan)).root,
                    folder.root, symlinks=True)
    point_at_own_stand_in(folder, prod_stack_dir)
    return folder, json.loads(folder.plan_json.read_text())


def point_at_own_stand_in(folder: PlanFolder, stack_dir: Path) -> None:
    """Record this process's stand-in of AWS's public parameters in a copied offline plan folder: the one it
    names is its maker's, which may have ended, and whose port another server may have taken since."""
    settings = json.loads(folder.settings_json.read_text())
    settings["endpoints"] = {"ssm": public_parameters.serve(public_parameters.public_parameter_names(stack_dir))}
    folder.settings_json.write_text(json.dumps(settings, indent=2))


@pytest.fixture(scope="session")
def schemas(provider_schema: dict) -> dict:
    """The AWS provider's resource schemas."""
    return provider_schema["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"]


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
            with shared_providers().in_make_plan():
                plan = make_plan(prod_stack_dir, folder, offline_mode=True, state=path)
            if not any(c["change"]["actions"] not in (["no-op"], ["read"]) for c in plan["resource_changes"]) \
                    and not any(o["actions"] != ["no-op"] for o in plan.get("output_changes", {}).values()):
                return
        raise AssertionError(
            f"the state did not converge to no changes: {json.dumps(plan['resource_changes'])[:2000]}")

    return shared_file(tmp_path_factory, "prod-deployed.tfstate", converge)


PlanMaker = Callable[..., tuple[PlanFolder, dict]]
#: What a variant is made from: the stack edit, the state edit, the files left out.
VariantKey = tuple[Callable[[dict], None] | None, Callable[[dict], None] | None, tuple[str, ...]]


@dataclass
class MadeVariants:
    """The plan folders this worker made (under ``root``), by what they were made from; never handed out to a
    test, only copied."""

    root: Path
    folders: dict[VariantKey, PlanFolder] = field(default_factory=dict)


@pytest.fixture(scope="session")
def made_variants(tmp_path_factory: pytest.TempPathFactory) -> MadeVariants:
    return MadeVariants(tmp_path_factory.mktemp("variants"))


@pytest.fixture
def plan_variant(prod_stack_dir: Path, deployed_state: Path, tmp_path: Path,
                 made_variants: MadeVariants) -> PlanMaker:
    """Plan `prod` against the deployed state after ``edit_stack`` changed its JSON / ``edit_state`` its state
    (``without`` names files of the stack folder to leave out).

    Each test gets a plan folder of its own, which it may review, tamper with or apply. Tests that ask for the
    same variant (the same edit functions, not equal lambdas) share one Terraform plan: the first makes it, the
    others get a copy of its folder (one xdist group per shared variant keeps them on one worker)."""
    def make(edit_stack: Callable[[dict], None] | None = None,
             edit_state: Callable[[dict], None] | None = None,
             without: tuple[str, ...] = ()) -> tuple[PlanFolder, dict]:
        key = (edit_stack, edit_state, without)
        made = made_variants.folders
        if key not in made:
            made[key] = _made(prod_stack_dir, deployed_state, Path(tempfile.mkdtemp(dir=made_variants.root)),
                              edit_stack, edit_state, without)
        folder = PlanFolder.for_stack(STACK, Path(tempfile.mkdtemp(prefix="plans", dir=tmp_path)))
        shutil.copytree(made[key].root, folder.root, symlinks=True)
        return folder, json.loads(folder.plan_json.read_text())
    return make


def _made(prod_stack_dir: Path, deployed_state: Path, root: Path, edit_stack: Callable[[dict], None] | None,
          edit_state: Callable[[dict], None] | None, without: tuple[str, ...]) -> PlanFolder:
    stack_dir = root / "stack"
    shutil.copytree(prod_stack_dir, stack_dir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", *without))
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    if edit_stack:
        edit_stack(document)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(document))
    state = json.loads(deployed_state.read_text())
    if edit_state:
        edit_state(state)
    state_path = root / "prior.tfstate"
    state_path.write_text(json.dumps(state))
    folder = PlanFolder.for_stack(STACK, root / "plans")
    with shared_providers().in_make_plan():
        make_plan(stack_dir, folder, offline_mode=True, state=state_path)
    return folder
