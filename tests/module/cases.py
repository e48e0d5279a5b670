"""The module inputs the validation tests plan: values pinned by hand at and beyond every bound of every rule.

The expected labels are written out here, not derived from the rules under test.
"""

from __future__ import annotations

from typing import Any

STAGES = ("validator", "enricher", "processor")
TAGS = {"Project": "orders", "CostCenter": "cc-1234", "Owner": "team-orders", "ManagedBy": "terraform"}


def per_stage(**values: Any) -> dict[str, Any]:
    return {f"{stage}_{name}": value for stage in STAGES for name, value in values.items()}


def labels(*names: str) -> list[str]:
    """Per-stage labels for ``names``."""
    return [f"{stage}_{name}" for stage in STAGES for name in names]


BASE = {"environment": "dev", "tags": TAGS, "require_subscriber": False}

# Good values at every bound (and where two settings meet, at the meeting point).
GOOD = {
    "good-low": {
        **BASE, "environment": "a", "name_prefix": "ab", "log_retention_days": 1, "require_subscriber": False,
        **per_stage(memory_mb=128, timeout_s=1, batch_size=1, batching_window_s=0, max_concurrency=2,
                    reserved_concurrency=2, provisioned_concurrency=0),
        "table_billing_mode": "PAY_PER_REQUEST", "table_read_min_capacity": 1, "table_read_max_capacity": 1,
        "table_write_min_capacity": 1, "table_write_max_capacity": 1,
    },
    "good-high": {
        **BASE, "environment": "a" * 20, "name_prefix": "abcdefghij", "log_retention_days": 3653,
        "alarm_email": "a@b.co", "alarm_https_endpoint": "https://example.com/alarms",
        **per_stage(memory_mb=10240, timeout_s=900, batch_size=10000, batching_window_s=300, max_concurrency=1000,
                    reserved_concurrency=1000, provisioned_concurrency=1000),
        "table_billing_mode": "PROVISIONED", "table_read_min_capacity": 7, "table_read_max_capacity": 7,
        "table_write_min_capacity": 9, "table_write_max_capacity": 9,
    },
    "good-edges": {
        **BASE, "tags": {**TAGS, "Environment": "qa"}, "alarm_https_endpoint": "https://example.com",
        "validator_batch_size": 10, "validator_batching_window_s": 0,
        "enricher_batch_size": 11, "enricher_batching_window_s": 1,
        "processor_reserved_concurrency": None, "processor_provisioned_concurrency": 3,
        "validator_reserved_concurrency": 5, "validator_max_concurrency": 5, "validator_provisioned_concurrency": 5,
        "log_retention_days": 14,
    },
}

# Bad values: (inputs, the labels of the blocks that must fail, one per failing block). Terraform 1.11 checks a
# module's inputs in two rounds and reports a failure of the first round alone (what it can decide before it
# knows the other inputs: a block that reads only its own input, or whose other inputs cannot change its
# verdict, as the tags'); in the second round it skips an input's blocks when an input they read failed. So each
# plan holds failures of one round, on inputs whose blocks read no other failing input.
BAD = {
    # Inputs whose every block reads only themselves (and the autoscaling minimum's own bound), below and above.
    "bad-low": (
        {**BASE, "environment": "-dev", "name_prefix": "a", "log_retention_days": 0,
         "alarm_https_endpoint": "http://example.com", "table_billing_mode": "ON_DEMAND",
         "table_read_min_capacity": 0, "table_write_min_capacity": 0,
         **per_stage(memory_mb=127, timeout_s=0, batching_window_s=-1, max_concurrency=1)},
        ["environment", "name_prefix", "log_retention_days", "alarm_https_endpoint", "table_billing_mode",
         "table_read_min_capacity", "table_write_min_capacity",
         *labels("memory_mb", "timeout_s", "batching_window_s", "max_concurrency")],
    ),
    "bad-high": (
        {**BASE, "environment": "a" * 21, "name_prefix": "abcdefghijk", "log_retention_days": 3654,
         "alarm_https_endpoint": "https://", "table_billing_mode": "provisioned",
         **per_stage(memory_mb=10241, timeout_s=901, batching_window_s=301, max_concurrency=1001,
                     reserved_concurrency=None)},
        ["environment", "name_prefix", "log_retention_days", "alarm_https_endpoint", "table_billing_mode",
         *labels("memory_mb", "timeout_s", "batching_window_s", "max_concurrency")],
    ),
    # The own bounds of inputs that also have a block reading another input.
    "bad-own-low": (
        {**BASE, "alarm_email": "oncall", **per_stage(batch_size=0, provisioned_concurrency=-1)},
        ["alarm_email", *labels("batch_size", "provisioned_concurrency")],
    ),
    "bad-own-high": (
        {**BASE, "alarm_email": "a@b", **per_stage(batch_size=10001, batching_window_s=1)},
        ["alarm_email", *labels("batch_size")],
    ),
    "bad-tags": (
        {**BASE, "tags": {"Project": "orders", "Environment": "", "CostCenter": "  ", "ManagedBy": "terraform"}},
        ["tags.Environment", "tags.CostCenter", "tags.Owner"],
    ),
    # Blocks that read another input: each just across the line the two inputs draw.
    "bad-relations": (
        {**BASE, "require_subscriber": True, "alarm_email": None, "alarm_https_endpoint": None,
         "table_read_min_capacity": 11, "table_read_max_capacity": 10,
         "table_write_min_capacity": 11, "table_write_max_capacity": 10,
         **per_stage(batch_size=11, batching_window_s=0, reserved_concurrency=4, max_concurrency=5)},
        ["alarm_email", "table_read_min_capacity", "table_write_min_capacity",
         *labels("batch_size", "reserved_concurrency")],
    ),
    "bad-provisioned-over-reserved": (
        {**BASE, **per_stage(provisioned_concurrency=6, reserved_concurrency=5, max_concurrency=5)},
        labels("provisioned_concurrency"),
    ),
}
