"""jsii's package cache filled once per machine, by setup, rather than by the first processes that need it.

Every Python process that uses cdktf starts jsii's Node.js runtime, which loads the JavaScript packages behind
the bindings. jsii extracts each package into a cache in the user's home the first time (the AWS provider's is
a 400 MB tree, with an index of its 120 MB assembly built on the way) and later loads read it there. Measured on
this project's 2-core machine (docs/performance.md): loading the bindings took 5.8 s and 7.9 CPU s on a cold
cache and 2.7 s and 3.0 CPU s on a warm one; four processes starting together on a cold cache, as the test
workers of a fresh machine do, took 14.6 s and 26.8 CPU s, and 7.0 s and 13.7 CPU s on a warm one.

``python -m tools.jsii_cache`` (run by ``scripts/setup.sh all``, alongside ``npm ci``) loads the bindings once when
the cache lacks a package of the installed versions, and does nothing (a few stats) when it has them all.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The Python distributions whose JavaScript packages the bindings load, and those packages' names.
PACKAGES = {"constructs": "constructs", "cdktf": "cdktf", "cdktf-cdktf-provider-aws": "@cdktf/provider-aws"}
LOAD = "from modules.provider_bindings import load_provider_bindings; load_provider_bindings()"


def cache_root(env: Mapping[str, str], platform: str = sys.platform) -> Path | None:
    """Where jsii's runtime keeps the packages it extracted, as its kernel decides (jsii's
    ``packages/@jsii/kernel/src/tar-cache/default-cache-root.ts``): ``JSII_RUNTIME_PACKAGE_CACHE_ROOT`` when set,
    else the user's cache folder; None when ``JSII_RUNTIME_PACKAGE_CACHE`` disables the cache, or on a platform
    whose folder is not known here (Windows)."""
    if env.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled":
        return None
    if env.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT"):
        return Path(env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"])
    home = env.get("HOME")
    if not home:
        return None
    if platform == "darwin":
        return Path(home) / "Library" / "Caches" / "com.amazonaws.jsii" / "package-cache"
    if platform.startswith("linux"):
        return Path(home) / ".cache" / "aws" / "jsii" / "package-cache"
    return None


def installed_packages() -> dict[str, str]:
    """The JavaScript package and version each installed binding distribution carries."""
    return {package: importlib.metadata.version(distribution) for distribution, package in PACKAGES.items()}


def missing(root: Path, packages: Mapping[str, str]) -> list[str]:
    """``name@version`` of each package the cache at ``root`` holds no extracted copy of."""
    return [f"{name}@{version}" for name, version in packages.items()
            if not any((root / name / version).glob("*/package.json"))]


def warm(env: Mapping[str, str], packages: Mapping[str, str] | None = None) -> str:
    """Fill the cache by loading the bindings in a child process, unless it holds every package: what was done."""
    root = cache_root(env)
    if root is None:
        return "no package cache to fill (disabled, or not known on this platform)"
    absent = missing(root, packages if packages is not None else installed_packages())
    if not absent:
        return f"jsii package cache: complete in {root}"
    subprocess.run([sys.executable, "-c", LOAD], cwd=PROJECT_ROOT, env=dict(env), check=True)
    return f"jsii package cache: filled in {root} ({', '.join(absent)} were missing)"


if __name__ == "__main__":
    print(warm(os.environ))
