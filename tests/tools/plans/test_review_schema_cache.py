"""The review asks Terraform for the provider schema once per set of locked providers (tools/plans/review.py), in
a process and across processes (the answer is kept on disk under a digest of the providers the lock file pins)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tools.plans import review
from tools.plans.layout import sha256_of

SCHEMA = {"provider_schemas": {"registry.terraform.io/hashicorp/aws": {"resource_schemas": {
    "aws_sqs_queue": {"block": {"attributes": {"tags": {}}}},
    "aws_sqs_queue_policy": {"block": {"attributes": {"policy": {}}}},
}}}}


@pytest.fixture
def schema_calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    calls: list[Path] = []

    def fake_terraform(args: list[str], workdir: Path, **_: object) -> subprocess.CompletedProcess[str]:
        assert args == ["providers", "schema", "-json"]
        calls.append(workdir)
        return subprocess.CompletedProcess(args, 0, stdout=json.dumps(SCHEMA), stderr="")

    monkeypatch.setattr(review, "run_terraform", fake_terraform)
    monkeypatch.setattr(review, "_TAGGABLE_BY_LOCK", {})
    monkeypatch.setattr(review, "SCHEMA_CACHE_DIR", tmp_path / "schema-cache")
    return calls


def workdir(root: Path, name: str, lock: str | None) -> Path:
    folder = root / name
    folder.mkdir()
    if lock is not None:
        (folder / ".terraform.lock.hcl").write_text(lock)
    return folder


def test_taggable_types_are_those_with_a_tags_argument(schema_calls: list[Path], tmp_path: Path) -> None:
    assert review.taggable_types(workdir(tmp_path, "a", 'provider "aws" {}')) == {"aws_sqs_queue"}


def test_folders_with_the_same_lock_file_share_one_schema_call(schema_calls: list[Path], tmp_path: Path) -> None:
    first, second = workdir(tmp_path, "a", 'version = "5.100.0"'), workdir(tmp_path, "b", 'version = "5.100.0"')
    assert review.taggable_types(first) == review.taggable_types(second)
    assert schema_calls == [first]


def test_another_lock_file_asks_again(schema_calls: list[Path], tmp_path: Path) -> None:
    first, second = workdir(tmp_path, "a", 'version = "5.100.0"'), workdir(tmp_path, "b", 'version = "5.99.0"')
    review.taggable_types(first)
    review.taggable_types(second)
    assert schema_calls == [first, second]


def test_without_a_lock_file_every_review_asks(schema_calls: list[Path], tmp_path: Path) -> None:
    folder = workdir(tmp_path, "a", None)
    review.taggable_types(folder)
    review.taggable_types(folder)
    assert schema_calls == [folder, folder]


def test_a_later_process_reads_the_answer_from_disk(schema_calls: list[Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = workdir(tmp_path, "a", 'version = "5.100.0"'), workdir(tmp_path, "b", 'version = "5.100.0"')
    assert review.taggable_types(first) == {"aws_sqs_queue"}
    monkeypatch.setattr(review, "_TAGGABLE_BY_LOCK", {})  # what a new process starts with

    assert review.taggable_types(second) == {"aws_sqs_queue"}
    assert schema_calls == [first], "the second process asked Terraform although the disk held the answer"


def test_a_lock_file_the_key_cannot_read_keys_the_disk_cache_by_its_sha256(schema_calls: list[Path],
                                                                          tmp_path: Path) -> None:
    folder = workdir(tmp_path, "a", 'version = "5.100.0"')
    review.taggable_types(folder)

    cached = review.SCHEMA_CACHE_DIR / f"{sha256_of(folder / '.terraform.lock.hcl')}.json"
    assert json.loads(cached.read_text()) == ["aws_sqs_queue"]
    assert [p.name for p in review.SCHEMA_CACHE_DIR.iterdir()] == [cached.name], "a temporary file was left"


@pytest.mark.parametrize("content", ["{not json", "[]"], ids=["torn", "empty"])
def test_an_unreadable_cache_file_asks_terraform_again_and_is_rewritten(
        schema_calls: list[Path], tmp_path: Path, content: str) -> None:
    folder = workdir(tmp_path, "a", 'version = "5.100.0"')
    cached = review.SCHEMA_CACHE_DIR / f"{sha256_of(folder / '.terraform.lock.hcl')}.json"
    cached.parent.mkdir(parents=True)
    cached.write_text(content)

    assert review.taggable_types(folder) == {"aws_sqs_queue"}
    assert schema_calls == [folder]
    assert json.loads(cached.read_text()) == ["aws_sqs_queue"]


# As `terraform init` writes them: a stack pins the provider's version, the generated module allows a range.
STACK_LOCK = """# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.100.0"
  constraints = "5.100.0"
  hashes = [
    "h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0=",
  ]
}
"""
MODULE_LOCK = STACK_LOCK.replace('constraints = "5.100.0"', 'constraints = ">= 5.100.0, < 6.0.0"')
RANDOM = """
provider "registry.terraform.io/hashicorp/random" {
  version = "3.6.3"
  hashes = [
    "h1:zG9uFP8l9u+yGZZvi5Te7PV62j50azpgwPunq2vTm1E=",
  ]
}
"""


def test_locks_that_differ_only_in_constraints_share_one_schema_call(schema_calls: list[Path],
                                                                     tmp_path: Path) -> None:
    stack, module = workdir(tmp_path, "stack", STACK_LOCK), workdir(tmp_path, "module", MODULE_LOCK)
    assert review.taggable_types(stack) == review.taggable_types(module)
    assert schema_calls == [stack]


@pytest.mark.parametrize("other", [
    STACK_LOCK.replace('version     = "5.100.0"', 'version     = "5.99.0"'),
    STACK_LOCK.replace('    "h1:edX', '    "zh:0123456789abcdef",\n    "h1:edX'),
    STACK_LOCK.replace("hashicorp/aws", "example/aws"),
    STACK_LOCK + RANDOM,
], ids=["another-version", "more-hashes", "another-address", "another-provider"])
def test_another_provider_binary_asks_again(schema_calls: list[Path], tmp_path: Path, other: str) -> None:
    first, second = workdir(tmp_path, "a", STACK_LOCK), workdir(tmp_path, "b", other)
    review.taggable_types(first)
    review.taggable_types(second)
    assert schema_calls == [first, second]


def test_the_order_of_the_providers_in_the_lock_does_not_matter() -> None:
    assert review.providers_key(STACK_LOCK + RANDOM) == review.providers_key(RANDOM + "\n" + STACK_LOCK)
    assert review.providers_key(STACK_LOCK + RANDOM) != review.providers_key(STACK_LOCK)


def test_a_provider_block_without_hashes_keys_the_whole_file() -> None:
    unhashed = STACK_LOCK.replace('  hashes = [\n    "h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0=",\n  ]\n', "")
    assert "hashes" not in unhashed
    assert review.providers_key(unhashed) == hashlib.sha256(unhashed.encode()).hexdigest()
