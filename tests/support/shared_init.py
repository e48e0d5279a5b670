"""``terraform init`` once per set of Terraform settings; a folder with the same settings gets a copy of its results.

An init of an offline plan folder links the provider from the mirror, writes the lock file and records the
backend; it costs 0.7-1.3 CPU s, most of it hashing the 700 MB provider binary. The reviewed-plan tests
initialize about twenty folders that differ only in a resource or two (the prod stack with one thing edited,
the same offline backend), so Terraform initializes the first, its results (``.terraform/`` and
``.terraform.lock.hcl``) are kept, and each later folder with the same settings gets a copy: what Terraform
would have written there (tests/tools/plans/test_shared_init.py compares them file for file).

The settings are what init reads: its arguments, every configuration file but ``cdk.tf.json`` whole, and of
``cdk.tf.json`` the ``terraform`` block (backend, required providers), the ``provider`` and ``module`` blocks
and the providers the resource and data types name (init installs a provider a type needs even when
``required_providers`` leaves it out). A folder that calls a module is always initialized by Terraform (init
installs modules), as is any init not routed here: ``apply``'s and the end-to-end tests' among them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tools.plans.layout import LOCK_FILE
from tools.terraform_cli import run_terraform

#: What init writes into the folder, and so what a copy carries.
INIT_RESULTS = (".terraform", LOCK_FILE)
CONFIGURATION_SUFFIXES = (".tf", ".tf.json")
#: What a copied init prints.
COPIED = "Terraform has been successfully initialized! (a copy of an init with the same settings)\n"


def settings_key(args: Sequence[str], folder: Path) -> str | None:
    """A digest of what ``terraform init ARGS`` reads in ``folder``; None when init must run (a module call)."""
    digest = hashlib.sha256(json.dumps(list(args)).encode())
    for path in sorted(folder.iterdir()):
        if not path.name.endswith(CONFIGURATION_SUFFIXES) or not path.is_file():
            continue
        digest.update(path.name.encode())
        if path.name != "cdk.tf.json":
            digest.update(path.read_bytes())
            continue
        document = json.loads(path.read_text())
        if document.get("module"):
            return None
        types = {kind: sorted({name.split("_", 1)[0] for name in document.get(kind, {})})
                 for kind in ("resource", "data")}
        read = {block: document.get(block) for block in ("terraform", "provider")}
        digest.update(json.dumps({**read, **types}, sort_keys=True).encode())
    return digest.hexdigest()


class SharedInits:
    """The results of each distinct init of this process, kept in a folder of its own."""

    def __init__(self, run: Callable[..., Any] = run_terraform) -> None:
        self.run_terraform = run
        self.kept = Path(tempfile.mkdtemp(prefix="tap-shared-init-"))
        self.results: dict[str, Path] = {}
        self._lock = threading.Lock()

    def init(self, args: Sequence[str], cwd: Path | str, **kwargs: Any) -> Any:
        """``terraform init ARGS`` in ``cwd``, or a copy of the results of one with the same settings."""
        folder = Path(cwd)
        key = settings_key(args, folder)
        with self._lock:
            kept = self.results.get(key) if key else None
        if kept is not None and starts_as(kept, folder):
            copy_init_results(kept, folder)
            return subprocess.CompletedProcess(["terraform", *args], 0, COPIED, "")
        result = self.run_terraform(args, cwd, **kwargs)
        if key is not None and result.returncode == 0:
            target = self.kept / key
            with self._lock:
                if key not in self.results:
                    target.mkdir()
                    copy_init_results(folder, target)
                    self.results[key] = target
        return result

    def close(self) -> None:
        shutil.rmtree(self.kept, ignore_errors=True)


def starts_as(kept: Path, folder: Path) -> bool:
    """Whether init in ``folder`` starts where the kept one ended: no ``.terraform`` yet, and no lock file or the
    very lock file the kept init wrote (a synthesized stack folder carries the lock of an init run in it, which
    every copy of it then holds; init reads it, selects the versions it names and writes it back unchanged)."""
    if (folder / ".terraform").exists():
        return False
    lock, kept_lock = folder / LOCK_FILE, kept / LOCK_FILE
    return not lock.exists() or (kept_lock.is_file() and lock.read_bytes() == kept_lock.read_bytes())


def copy_init_results(source: Path, target: Path) -> None:
    """What ``terraform init`` wrote in ``source`` (:data:`INIT_RESULTS`), copied into ``target``."""
    for name in INIT_RESULTS:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, symlinks=True)  # the provider is a link into the mirror
        elif (source / name).exists():
            shutil.copy2(source / name, target / name)


@functools.cache
def shared_inits() -> SharedInits:
    """This process's kept init results, removed when it exits."""
    import atexit

    inits = SharedInits()
    atexit.register(inits.close)
    return inits
