"""setup fills jsii's package cache once per machine (tools/jsii_cache.py), where jsii itself looks for it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools import jsii_cache

# Pinned by hand from Pipfile.lock (cdktf-cdktf-provider-aws 20.1.0 carries @cdktf/provider-aws 20.1.0).
LOCKED = {"constructs": "10.8.1", "cdktf": "0.21.0", "@cdktf/provider-aws": "20.1.0"}


def session_cache() -> Path:
    root = jsii_cache.cache_root(os.environ)
    if root is None:
        pytest.skip("jsii's package cache is disabled here, or its folder is not known on this platform")
    return root


def test_the_installed_bindings_carry_the_locked_packages() -> None:
    assert jsii_cache.installed_packages() == LOCKED


def test_the_cache_this_session_loaded_the_bindings_from_is_where_it_is_looked_for() -> None:
    # This process loaded the bindings before collecting the tests (tests/conftest.py), so jsii filled or read
    # the cache: finding every package there pins the folder to the one jsii uses.
    assert jsii_cache.missing(session_cache(), LOCKED) == []


@pytest.mark.parametrize(("env", "platform", "expected"), [
    ({"HOME": "/home/u"}, "linux", "/home/u/.cache/aws/jsii/package-cache"),
    ({"HOME": "/Users/u"}, "darwin", "/Users/u/Library/Caches/com.amazonaws.jsii/package-cache"),
    ({"HOME": "/home/u", "JSII_RUNTIME_PACKAGE_CACHE_ROOT": "/srv/jsii"}, "linux", "/srv/jsii"),
    ({"HOME": "/home/u", "JSII_RUNTIME_PACKAGE_CACHE": "Enabled"}, "linux", "/home/u/.cache/aws/jsii/package-cache"),
    ({"HOME": "/home/u", "JSII_RUNTIME_PACKAGE_CACHE": "disabled"}, "linux", None),
    ({"HOME": "C:/Users/u"}, "win32", None),
    ({}, "linux", None),
], ids=["linux", "macos", "root-set", "enabled-any-case", "disabled", "windows", "no-home"])
def test_the_cache_folder_is_the_one_jsii_chooses(env: dict[str, str], platform: str, expected: str | None) -> None:
    root = jsii_cache.cache_root(env, platform)
    assert (str(root) if root else None) == expected


def test_a_package_without_an_extracted_copy_of_its_version_is_missing(tmp_path: Path) -> None:
    extracted = tmp_path / "@cdktf" / "provider-aws" / "20.1.0" / "8ddcbe1d"
    extracted.mkdir(parents=True)
    (extracted / "package.json").write_text("{}")
    (tmp_path / "cdktf" / "0.20.0" / "aa").mkdir(parents=True)  # another version
    (tmp_path / "constructs" / "10.8.1" / "bb").mkdir(parents=True)  # no package.json: not extracted
    (tmp_path / "constructs" / "10.8.1" / "bb" / "lib").mkdir()
    assert jsii_cache.missing(tmp_path, LOCKED) == ["constructs@10.8.1", "cdktf@0.21.0"]


def test_a_complete_cache_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, version in LOCKED.items():
        (tmp_path / name / version / "h").mkdir(parents=True)
        (tmp_path / name / version / "h" / "package.json").write_text("{}")
    started: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: started.append(args))
    said = jsii_cache.warm({"HOME": "/nowhere", "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(tmp_path)}, LOCKED)
    assert started == [] and said == f"jsii package cache: complete in {tmp_path}"


def test_a_missing_package_is_extracted_by_loading_the_bindings(tmp_path: Path) -> None:
    # The session's cache, but for the smallest package (constructs, 1 MB): the load extracts it, and reads
    # the others where they are.
    session = session_cache()
    (tmp_path / "@cdktf").mkdir()
    (tmp_path / "@cdktf" / "provider-aws").symlink_to(session / "@cdktf" / "provider-aws")
    (tmp_path / "cdktf").symlink_to(session / "cdktf")
    env = {**os.environ, "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(tmp_path)}
    assert jsii_cache.warm(env) == f"jsii package cache: filled in {tmp_path} (constructs@10.8.1 were missing)"
    assert jsii_cache.missing(tmp_path, LOCKED) == []
    assert jsii_cache.warm(env) == f"jsii package cache: complete in {tmp_path}"
