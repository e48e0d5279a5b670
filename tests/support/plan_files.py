"""Stand-ins for a binary Terraform plan, for tests of what happens before Terraform reads one."""

from __future__ import annotations

import zipfile
from pathlib import Path

#: The dependency lock file a stand-in plan carries (``terraform plan -out`` stores the real one in the plan).
LOCK = (b'provider "registry.terraform.io/hashicorp/aws" {\n  version     = "5.100.0"\n'
        b'  constraints = "5.100.0"\n  hashes = [\n    "h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0=",\n  ]\n}\n')


def write_plan(path: Path, lock: bytes = LOCK) -> Path:
    """A zip shaped like a plan file: ``tfplan`` (not a real one: Terraform must never read it) and the lock file."""
    with zipfile.ZipFile(path, "w") as plan:
        plan.writestr("tfplan", b"not a real plan")
        plan.writestr(".terraform.lock.hcl", lock)
    return path
