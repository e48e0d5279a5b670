"""The schema proxy in front of the shared providers (tests/support/schema_proxy.py): each run gets the schemas of
the types it can touch, the rest of the answer byte for byte, and a type left out fails the run loudly."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.support.schema_trim import pruned_schema, read_wanted, types_a_run_may_touch
from tests.support.shared_provider import REATTACH_VARIABLE, SharedProviders
from tools.terraform_cli import run_terraform

pytestmark = pytest.mark.integration


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def delimited(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def entry(map_field: int, key: str, schema: bytes) -> bytes:
    return delimited(map_field, delimited(1, key.encode()) + delimited(2, schema))


PROVIDER = delimited(1, b"provider schema")
QUEUE = entry(2, "aws_sqs_queue", b"queue schema")
TOPIC = entry(2, "aws_sns_topic", b"topic schema" * 20)  # a length above 127: a two-byte varint
REGION = entry(3, "aws_region", b"region schema")
CALLER = entry(3, "aws_caller_identity", b"caller schema")
EPHEMERAL = entry(8, "aws_secretsmanager_secret_version", b"ephemeral schema")
FUNCTION = entry(7, "arn_parse", b"function")  # functions are kept whole
CAPABILITIES = delimited(6, varint(1 << 3 | 0) + varint(1))
FIXED = varint(9 << 3 | 1) + bytes(8) + varint(10 << 3 | 5) + bytes(4)  # fields of the other two fixed sizes
ANSWER = PROVIDER + QUEUE + TOPIC + REGION + CALLER + EPHEMERAL + FUNCTION + CAPABILITIES + FIXED


def test_pruning_keeps_the_wanted_types_of_each_map_and_every_other_field_byte_for_byte() -> None:
    kept = pruned_schema(ANSWER, frozenset({"aws_sqs_queue", "aws_region", "arn_parse"}))
    assert kept == PROVIDER + QUEUE + REGION + FUNCTION + CAPABILITIES + FIXED


def test_no_wanted_set_is_the_whole_answer() -> None:
    assert pruned_schema(ANSWER, None) == ANSWER


def test_an_empty_wanted_set_keeps_no_type_and_everything_else() -> None:
    assert pruned_schema(ANSWER, frozenset()) == PROVIDER + FUNCTION + CAPABILITIES + FIXED


def test_a_truncated_answer_is_an_error_not_a_shorter_schema() -> None:
    with pytest.raises(ValueError, match="truncated protobuf message: field 2 ends past its end"):
        pruned_schema(PROVIDER + QUEUE[:-3], frozenset({"aws_sqs_queue"}))


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root module calling a local module, with its state where a local backend's ``path`` puts it."""
    workdir = tmp_path / "root"
    write_json(workdir / "main.tf.json", {"resource": {"aws_sqs_queue": {"q": {"name": "q"}}},
                                          "data": {"aws_region": {"here": {}}}})
    (workdir / "removed.tf").write_text('removed {\n  from = aws_sqs_queue_policy.old\n}\n')
    write_json(tmp_path / "module" / "main.tf.json", {"resource": {"aws_sns_topic": {"t": {}}}})
    write_json(workdir / ".terraform" / "modules" / "modules.json",
               {"Modules": [{"Key": "", "Source": "", "Dir": "."},
                            {"Key": "alarms", "Source": "../module", "Dir": "../module"}]})
    write_json(workdir / ".terraform" / "terraform.tfstate",
               {"backend": {"type": "local", "config": {"path": "state/prior.tfstate"}}})
    write_json(workdir / "state" / "prior.tfstate", {"resources": [{"type": "aws_kms_key", "name": "gone"}]})
    (workdir / "notes.txt").write_text("aws_not_read: only configuration files count\n")
    return workdir


def test_a_run_may_touch_the_types_of_its_configuration_modules_and_state(root: Path) -> None:
    assert types_a_run_may_touch(["validate"], root) == {
        "aws_sqs_queue", "aws_region", "aws_sqs_queue_policy", "aws_sns_topic", "aws_kms_key"}


def test_a_plan_file_and_a_state_argument_add_what_they_name(root: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.tfplan"
    with zipfile.ZipFile(plan, "w") as archive:
        archive.writestr("tfstate", json.dumps({"resources": [{"type": "aws_iam_role"}]}))
        archive.writestr("tfplan", b"\x0a\x17aws_lambda_function.fn")
    write_json(tmp_path / "other.tfstate", {"resources": [{"type": "aws_s3_bucket"}]})
    found = types_a_run_may_touch(["show", "-json", str(plan)], root)
    assert {"aws_iam_role", "aws_lambda_function"} <= found and "aws_s3_bucket" not in found
    assert "aws_s3_bucket" in types_a_run_may_touch(["plan", f"-state={tmp_path / 'other.tfstate'}"], root)


def test_a_remote_backend_gets_every_type(root: Path) -> None:
    # Its state, which may hold types the configuration no longer names, is read only by Terraform.
    write_json(root / ".terraform" / "terraform.tfstate", {"backend": {"type": "s3", "config": {"bucket": "b"}}})
    assert types_a_run_may_touch(["plan"], root) is None


@pytest.fixture
def one_queue(tmp_path: Path) -> Path:
    """An initialized root module with one queue."""
    write_json(tmp_path / "main.tf.json", {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
        "resource": {"aws_sqs_queue": {"q": {"name": "q"}}}})
    run_terraform(["init", "-input=false", "-no-color"], tmp_path)
    return tmp_path


def test_a_run_on_a_shared_provider_tells_the_proxy_its_types(one_queue: Path, providers: SharedProviders) -> None:
    result = providers.run_terraform(["validate", "-no-color"], one_queue, check=False)
    assert "The configuration is valid" in result.stdout, result.stdout + result.stderr
    assert read_wanted(providers.provider(one_queue, {}).wanted_file) == {"aws_sqs_queue"}


def test_a_type_the_run_was_not_told_about_fails_the_run_loudly(one_queue: Path, providers: SharedProviders) -> None:
    provider = providers.provider(one_queue, {})

    def validate() -> str:
        result = run_terraform(["validate", "-no-color"], one_queue, check=False,
                               extra_env={REATTACH_VARIABLE: provider.reattach})
        return result.stdout + result.stderr

    provider.expect(frozenset({"aws_sns_topic"}))
    assert 'The provider hashicorp/aws does not support resource type "aws_sqs_queue"' in validate()
    provider.expect(frozenset({"aws_sqs_queue"}))
    assert "The configuration is valid" in validate()
