"""Load only the AWS provider bindings the app uses, not all ~2,200 of them.

``import cdktf_cdktf_provider_aws`` runs the package's root ``__init__``, which
imports every resource submodule "to ensure their types are registered with
the jsii runtime" (hashicorp/terraform-cdk#3753): about 10 s here, although a
stack uses a few dozen.  The jsii assembly itself is loaded by the package's
``_jsii`` module, and each submodule registers its own types when imported
(``jsii.JSIIMeta``), so the fast path puts a bare package object with the real
``__path__`` in ``sys.modules``, imports ``_jsii``, and lets each construct's
``from cdktf_cdktf_provider_aws.x import Y`` import just ``x``.

Set ``TAP_STANDARD_PROVIDER_IMPORT=1`` to force the standard root import (for
comparison and benchmarks).  If the package no longer fits these assumptions,
the standard import is used with a one-line warning on stderr saying why.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import sys
from collections.abc import Callable
from types import ModuleType

from .runtime_env import silence_node_eol_banner
from .settings import SettingsError

PACKAGE = "cdktf_cdktf_provider_aws"
ASSEMBLY_SUBMODULE = "_jsii"
FORCE_STANDARD_ENV = "TAP_STANDARD_PROVIDER_IMPORT"
FAST = "fast"
STANDARD = "standard"

_fast_package: ModuleType | None = None


class BindingsLayoutError(RuntimeError):
    """The installed bindings do not look the way the fast path assumes."""


def load_provider_bindings() -> str:
    """Make ``cdktf_cdktf_provider_aws`` importable; return how it was loaded (``fast`` or ``standard``).

    Idempotent: once the package is in ``sys.modules`` this only reports how it got there.
    """
    force_standard = _standard_import_forced()
    loaded = sys.modules.get(PACKAGE)
    if loaded is not None:
        return FAST if loaded is _fast_package else STANDARD
    silence_node_eol_banner()
    if force_standard:
        importlib.import_module(PACKAGE)
        return STANDARD
    try:
        _load_fast()
    except Exception as error:  # noqa: BLE001 - any failure of the shortcut must leave the standard way open
        # Submodules already imported stay valid: the root __init__ re-uses them from sys.modules.
        if sys.modules.get(PACKAGE) is _fast_package:
            del sys.modules[PACKAGE]
        reason = " ".join(str(error).split()) or type(error).__name__
        print(f"warning: provider bindings fast path unavailable ({reason}); using the standard import (~10 s slower)",
              file=sys.stderr)
        importlib.import_module(PACKAGE)
        return STANDARD
    return FAST


def _standard_import_forced() -> bool:
    value = os.environ.get(FORCE_STANDARD_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise SettingsError(f"{FORCE_STANDARD_ENV}={value!r} is invalid: allowed 1 (standard import of the "
                            "provider bindings), 0 or unset (load only the submodules the app uses)")
    return value == "1"


def _submodule_on_first_use(package: ModuleType) -> Callable[[str], ModuleType]:
    """``import cdktf_cdktf_provider_aws as aws; aws.s3_bucket`` works as with the root import (PEP 562)."""

    def __getattr__(name: str) -> ModuleType:
        if not name.startswith("_") and importlib.util.find_spec(f"{package.__name__}.{name}") is not None:
            return importlib.import_module(f"{package.__name__}.{name}")
        raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")

    return __getattr__


def _load_fast() -> None:
    global _fast_package
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BindingsLayoutError(f"{PACKAGE} is not installed as a package")
    package = importlib.util.module_from_spec(spec)
    # The root __init__ extends its path the same way (pkgutil-style namespace support).
    package.__path__ = pkgutil.extend_path(list(spec.submodule_search_locations), PACKAGE)
    package.__getattr__ = _submodule_on_first_use(package)
    _fast_package = package
    sys.modules[PACKAGE] = package
    assembly_module = f"{PACKAGE}.{ASSEMBLY_SUBMODULE}"
    assembly = importlib.import_module(assembly_module)
    if not hasattr(assembly, "__jsii_assembly__"):
        raise BindingsLayoutError(f"{assembly_module} does not load the jsii assembly: no __jsii_assembly__")
