"""What the function archives can hold: imports limited to the Lambda runtime + layer (each entry point, read
from the synthesized stack, is imported from its archive in tests/unit/test_packaged_handlers.py)."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
STAGES = ("validator", "enricher", "processor")
# In the Lambda Python runtime (boto3, botocore) or the Powertools layer.
RUNTIME_PACKAGES = {"boto3", "botocore", "aws_lambda_powertools"}
# Under `make mutation`, mutmut rewrites every handler module to import its trampoline.
if os.environ.get("MUTANT_UNDER_TEST") is not None:
    RUNTIME_PACKAGES |= {"mutmut"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _in_archive(name: str, package: str) -> bool:
    """Whether module ``name`` ships in the archive of ``package`` (shared code ships in every archive)."""
    own = ["handlers.shared"] + ([f"handlers.{package}"] if package in STAGES else [])
    return name == "handlers" or any(name == prefix or name.startswith(prefix + ".") for prefix in own)


@pytest.mark.parametrize("package", [*STAGES, "shared"])
def test_package_imports_only_the_runtime_and_what_its_archive_holds(package: str) -> None:
    offending = set()
    for path in sorted((HANDLERS / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in RUNTIME_PACKAGES or _in_archive(name, package):
                continue
            offending.add(f"{path.relative_to(HANDLERS.parent)}: {name}")

    assert not offending, f"imports outside the {package} archive or the Lambda runtime: {sorted(offending)}"
