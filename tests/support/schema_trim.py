"""Which AWS types a Terraform run can touch, and a provider schema answer cut down to them.

tests/support/schema_proxy.py answers each run's ``GetSchema`` with :func:`pruned_schema` of the provider's
whole answer, for the types :func:`types_a_run_may_touch` finds; stdlib only, so that the test workers import it
without gRPC.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

#: GetProviderSchema.Response's maps of schemas by type name (tfplugin5.x.proto: resource_schemas = 2,
#: data_source_schemas = 3, ephemeral_resource_schemas = 8); the provider's own schema, its functions,
#: its capabilities and diagnostics are kept whole.
TYPE_MAPS = frozenset({2, 3, 8})
AWS_TYPE = re.compile(rb"\baws_[a-z0-9_]+")
CONFIGURATION_SUFFIXES = (".tf", ".tf.json")


def _varint(data: bytes, position: int) -> tuple[int, int]:
    """The varint at ``position`` and the position after it."""
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def fields(message: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """(field number, the field's bytes whole, its payload when length-delimited else b"") of ``message``."""
    position = 0
    while position < len(message):
        start = position
        tag, position = _varint(message, position)
        number, wire_type = tag >> 3, tag & 7
        payload = b""
        if wire_type == 0:
            _, position = _varint(message, position)
        elif wire_type == 1:
            position += 8
        elif wire_type == 2:
            length, position = _varint(message, position)
            payload = message[position:position + length]
            position += length
        elif wire_type == 5:
            position += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type} in field {number}")
        if position > len(message):
            raise ValueError(f"truncated protobuf message: field {number} ends past its end")
        yield number, message[start:position], payload


def entry_key(entry: bytes) -> str:
    """The key (field 1) of a protobuf map entry."""
    for number, _, payload in fields(entry):
        if number == 1:
            return payload.decode()
    return ""


def pruned_schema(response: bytes, wanted: frozenset[str] | None) -> bytes:
    """``response`` (a GetProviderSchema.Response) with only the type schemas named in ``wanted`` (all: None)."""
    if wanted is None:
        return response
    return b"".join(whole for number, whole, payload in fields(response)
                    if number not in TYPE_MAPS or entry_key(payload) in wanted)


def read_wanted(path: Path) -> frozenset[str] | None:
    """The types the current run may touch, as :func:`write_wanted` wrote them; None: every type."""
    listed = json.loads(path.read_text())
    return None if listed is None else frozenset(listed)


def write_wanted(path: Path, wanted: Iterable[str] | None) -> None:
    temporary = path.with_suffix(".partial")
    temporary.write_text(json.dumps(None if wanted is None else sorted(wanted)))
    temporary.replace(path)


def _configuration(folder: Path) -> Iterator[Path]:
    """The files Terraform reads as the configuration of the module in ``folder``."""
    if folder.is_dir():
        yield from (path for path in sorted(folder.iterdir())
                    if path.is_file() and path.name.endswith(CONFIGURATION_SUFFIXES))


def _recorded_backend(workdir: Path) -> dict:
    """The backend init recorded for ``workdir`` (``.terraform/terraform.tfstate``); none: the local default."""
    recorded = workdir / ".terraform" / "terraform.tfstate"
    return (json.loads(recorded.read_text()).get("backend") or {}) if recorded.is_file() else {}


def _module_folders(workdir: Path) -> set[Path]:
    """The root module's folder and those of the modules it calls, as init recorded them."""
    folders = {workdir.resolve()}
    modules = workdir / ".terraform" / "modules" / "modules.json"
    if modules.is_file():
        folders.update((workdir / module.get("Dir", "")).resolve()
                       for module in json.loads(modules.read_text()).get("Modules", []))
    return folders


def types_a_run_may_touch(args: Sequence[str], cwd: Path) -> frozenset[str] | None:
    """The AWS types ``terraform ARGS`` in ``cwd`` may need the schema of: every ``aws_*`` word of the root
    module's configuration and of the modules it calls (as init recorded them), of its local state or the one
    ``-state`` names, and of any plan file among the arguments (its configuration, prior state and changes).
    None, every type, when the state is in a remote backend, which only Terraform reads.

    Words that are no type (``aws_region`` the attribute) only keep a schema that is not needed."""
    backend = _recorded_backend(cwd)
    if backend.get("type", "local") != "local":
        return None
    files = [path for folder in sorted(_module_folders(cwd)) for path in _configuration(folder)]
    files.append(cwd / ((backend.get("config") or {}).get("path") or "terraform.tfstate"))
    for arg in args[1:]:
        if arg.startswith("-state="):
            files.append(Path(arg.split("=", 1)[1]))
        elif not arg.startswith("-"):
            files.append(Path(arg))
    sources: list[bytes] = []
    for path in (file if file.is_absolute() else cwd / file for file in files):
        if not path.is_file():
            continue
        if zipfile.is_zipfile(path):  # a plan file
            with zipfile.ZipFile(path) as plan:
                sources.extend(plan.read(name) for name in plan.namelist())
        else:
            sources.append(path.read_bytes())
    return frozenset(word.decode() for source in sources for word in AWS_TYPE.findall(source))
