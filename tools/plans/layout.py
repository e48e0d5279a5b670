"""Where one stack's reviewed plan lives: ``.plans/<stack>/`` holds the plan, its JSON and its review."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLANS_DIR = PROJECT_ROOT / ".plans"
BOOTSTRAP_ENVIRONMENTS = ("state", "bootstrap")
LOCK_FILE = ".terraform.lock.hcl"
#: What a plan folder's CI artifact leaves out (.github/workflows/apply.yml's upload excludes exactly this):
#: Terraform's working directory, whose providers are links into the plugin cache or the mirror, or, when an
#: upload follows the links, a provider binary of ~700 MB that the artifact's zip strips of its execute bit
#: (https://github.com/actions/upload-artifact#permission-loss). `apply` installs the providers again.
NOT_IN_ARTIFACT = ("work/.terraform",)


def stack_name(env: str) -> str:
    """``prod`` -> ``tap-pipeline-prod``; ``state`` (or ``bootstrap``) -> the bootstrap stack."""
    if not env or env != env.strip() or "/" in env:
        raise ValueError(f"environment {env!r} is invalid: give dev, staging, prod, local, state, ci, or a preview "
                         "suffix")
    return "tap-pipeline-state" if env in BOOTSTRAP_ENVIRONMENTS else f"tap-pipeline-{env}"


def environments_argument(values: Sequence[str]) -> list[str]:
    """``--env`` values, each one environment or a comma list, in order and without repeats."""
    envs = [name.strip() for value in values for name in value.split(",")]
    if not envs or any(not name for name in envs):
        raise ValueError(f"--env {','.join(values)!r}: give environment names, e.g. --env prod or "
                         "--env dev,staging,prod")
    return list(dict.fromkeys(envs))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def locked_providers(plan_file: Path) -> bytes:
    """The dependency lock file inside a binary plan: the provider versions and checksums it was made with.

    ``terraform plan -out`` stores it in the plan (a zip), and ``terraform apply`` refuses a plan whose
    providers differ from the ones installed ("Inconsistent dependency lock file"). ValueError when the file
    is no Terraform plan.
    """
    try:
        with zipfile.ZipFile(plan_file) as plan:
            return plan.read(LOCK_FILE)
    except (zipfile.BadZipFile, KeyError) as error:
        raise ValueError(f"{plan_file} is not a Terraform plan with a dependency lock file ({error}): "
                         "plan again") from error


@dataclass(frozen=True)
class PlanFolder:
    """The files of one stack's plan: the Terraform working copy, the binary plan, its JSON, the review."""

    root: Path

    @classmethod
    def for_stack(cls, stack: str, plans_dir: Path = PLANS_DIR) -> PlanFolder:
        return cls(plans_dir / stack)

    @property
    def workdir(self) -> Path:
        """A copy of the synthesized stack; ``terraform init``, ``plan`` and ``apply`` run here."""
        return self.root / "work"

    @property
    def lock_file(self) -> Path:
        return self.workdir / LOCK_FILE

    @property
    def plan_file(self) -> Path:
        return self.root / "plan.tfplan"

    @property
    def plan_json(self) -> Path:
        return self.root / "plan.json"

    @property
    def review_json(self) -> Path:
        return self.root / "review.json"

    @property
    def review_md(self) -> Path:
        return self.root / "review.md"

    @property
    def settings_json(self) -> Path:
        """How the plan was made (offline, emulator endpoint), so that apply runs terraform the same way."""
        return self.root / "plan-settings.json"

    def settings(self) -> dict:
        """How the plan was made ({} for a folder from before the settings were recorded)."""
        return json.loads(self.settings_json.read_text()) if self.settings_json.is_file() else {}


def terraform_variables(settings: dict) -> dict[str, str]:
    """Environment for terraform: the emulator's endpoint and dummy credentials for `local`; the endpoints an
    offline plan's data sources call."""
    from tools.plans.offline import endpoint_variables

    variables = endpoint_variables(settings.get("endpoints") or {})
    if settings.get("emulator_endpoint"):
        from tools.local.emulator import client_env

        variables.update(client_env(settings["emulator_endpoint"]))
    return variables
