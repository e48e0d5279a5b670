"""The applied state as ``terraform show -json`` gives it, kept beside the state file while nothing changes.

Every ``python -m tools local`` command starts by reading the pipeline's shape from the state, and ``terraform
show -json`` costs 2 to 3 CPU seconds each time: Terraform starts the AWS provider and decodes its whole schema
to print the state's values. Between two applies the answer is the same, so the first command's answer is kept
in ``<state file>.shown.json`` under a key made of what the answer depends on (the state's bytes, the provider
lock file, the Terraform binary) and read back while the key matches. Any apply, destroy, ``state rm``, provider
upgrade or new Terraform changes the key, and the next command asks Terraform again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tools.terraform_cli import run_terraform, terraform_binary

#: Appended to the state file's name: where the answer is kept.
SUFFIX = ".shown.json"


def kept_answer_path(state_file: Path) -> Path:
    """Where the answer for ``state_file`` is kept."""
    return state_file.with_name(state_file.name + SUFFIX)


def answer_key(stack_dir: Path, state_file: Path) -> str:
    """A digest of what ``terraform show -json`` answers from: the state, the lock file, the binary."""
    digest = hashlib.sha256()
    digest.update(state_file.read_bytes())
    lock_file = stack_dir / ".terraform.lock.hcl"
    digest.update(lock_file.read_bytes() if lock_file.is_file() else b"no lock file")
    binary = Path(terraform_binary()).resolve()
    stat = binary.stat()
    digest.update(f"{binary}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def show(stack_dir: Path, extra_env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``terraform show -json`` in ``stack_dir``, asked every time."""
    shown = run_terraform(["show", "-json", "-no-color"], stack_dir, extra_env=extra_env)
    return json.loads(shown.stdout)


def read_state(stack_dir: Path, extra_env: Mapping[str, str] | None = None,
               state_file: Path | None = None) -> dict[str, Any]:
    """The applied state with every attribute value; kept beside ``state_file`` (if given and present)."""
    if state_file is None or not state_file.is_file():
        return show(stack_dir, extra_env)
    key = answer_key(stack_dir, state_file)
    kept = kept_answer_path(state_file)
    try:
        document = json.loads(kept.read_text(encoding="utf-8"))
        if isinstance(document, dict) and document.get("key") == key:
            return document["shown"]
    except (OSError, ValueError, KeyError):
        pass  # none kept yet, or half written by a process killed before the rename below: ask Terraform
    shown = show(stack_dir, extra_env)
    # An apply that ended while show ran: its state is not the one shown, so nothing is kept.
    if answer_key(stack_dir, state_file) == key:
        try:
            _write_atomically(kept, json.dumps({"key": key, "shown": shown}), like=state_file)
        except OSError:
            pass  # a folder this user cannot write, a full disk: the command goes on, the next one asks again
    return shown


def forget(state_file: Path) -> None:
    """Remove the answer kept for ``state_file`` (with the state it was made from)."""
    kept_answer_path(state_file).unlink(missing_ok=True)


def _write_atomically(path: Path, text: str, *, like: Path) -> None:
    # The state's values include what the state holds (queue URLs, ARNs): the copy gets the state's own mode.
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.chmod(partial, like.stat().st_mode & 0o777)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
