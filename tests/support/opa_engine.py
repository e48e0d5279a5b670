"""The OPA engine (Go) for the tests: the Rego policies must mean the same to it as to regopy.

scripts/setup.sh unpacks PyPI's ``opa-golib-python-bindings`` (OPA v1.20.2 as a C shared library with a
ctypes wrapper) into ``.build/opa``: conftest and ``opa eval`` embed the same engine, so what passes here
is what they would decide.  Only Linux x86_64 has the wheel: :func:`engine` skips the calling test
elsewhere, naming why.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tools.plans.layout import PROJECT_ROOT

OPA_DIR = PROJECT_ROOT / ".build" / "opa"


@contextmanager
def engine(files: list[Path]) -> Iterator[Any]:
    """An OPA engine with ``files`` loaded (strict built-in errors, as the review runs regopy)."""
    if not (OPA_DIR / "opa_bindings" / "libopabridge.so").is_file():
        pytest.skip(f"the OPA engine is not in {OPA_DIR} (scripts/setup.sh unpacks it on Linux x86_64 only)")
    if str(OPA_DIR) not in sys.path:
        sys.path.insert(0, str(OPA_DIR))
    from opa_bindings import OpaEngine

    with OpaEngine() as opa:
        for path in files:
            opa.add_policy(path.name, path.read_text())
        yield opa


def deny_and_warn(opa: Any, plan: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``data.main.deny`` and ``data.main.warn`` as OPA decides them, sorted."""
    [bindings] = opa.eval_query("deny := data.main.deny; warn := data.main.warn", plan)
    return tuple(sorted(bindings["deny"])), tuple(sorted(bindings["warn"]))
