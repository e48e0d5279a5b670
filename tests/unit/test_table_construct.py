"""DataTable in on-demand and provisioned modes, synthesized alone."""

from __future__ import annotations

import pytest

from modules.monitoring import AlarmProps
from modules.settings import AutoscalingSettings, BillingMode, TableSettings
from modules.table import DataTable, TableProps
from tests.support.synth import synth_scope
from tools.policy.stack_json import StackJson

TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"


def synth_table(table: TableSettings, name: str = "data-table-dev") -> StackJson:
    props = TableProps(name=name, billing_mode=BillingMode(table.billing_mode),
                       read_autoscaling=table.read_autoscaling, write_autoscaling=table.write_autoscaling,
                       deletion_protection=table.deletion_protection,
                       point_in_time_recovery=table.point_in_time_recovery)
    return synth_scope(lambda scope: DataTable(scope, "data-table", props=props,
                                               alarms=AlarmProps(topic_arn=TOPIC, period_s=60)))


@pytest.fixture(scope="module")
def on_demand() -> StackJson:
    return synth_table(TableSettings(deletion_protection=False))


@pytest.fixture(scope="module")
def provisioned() -> StackJson:
    return synth_table(TableSettings(
        billing_mode=BillingMode.PROVISIONED,
        read_autoscaling=AutoscalingSettings(min_capacity=3, max_capacity=30),
        write_autoscaling=AutoscalingSettings(min_capacity=4, max_capacity=40, target_utilization=60),
    ), name="data-table-prod")


def table(stack: StackJson) -> dict:
    [found] = stack.resources("aws_dynamodb_table")
    return found.body


def test_keys_are_the_drafts_id_string_and_timestamp_number(on_demand: StackJson) -> None:
    body = table(on_demand)
    assert (body["hash_key"], body["range_key"]) == ("id", "timestamp")
    assert {(a["name"], a["type"]) for a in body["attribute"]} == {("id", "S"), ("timestamp", "N")}


def test_on_demand_is_the_default_and_has_no_capacity_or_autoscaling(on_demand: StackJson) -> None:
    assert TableSettings().billing_mode is BillingMode.PAY_PER_REQUEST
    body = table(on_demand)
    assert body["billing_mode"] == "PAY_PER_REQUEST"
    assert "read_capacity" not in body and "write_capacity" not in body
    assert not on_demand.resources("aws_appautoscaling_target")


def test_point_in_time_recovery_and_encryption_are_on(on_demand: StackJson) -> None:
    body = table(on_demand)
    assert body["point_in_time_recovery"] == {"enabled": True}
    assert body["server_side_encryption"] == {"enabled": True}


def test_deletion_protection_follows_the_settings(on_demand: StackJson, provisioned: StackJson) -> None:
    assert table(on_demand)["deletion_protection_enabled"] is False
    assert table(provisioned)["deletion_protection_enabled"] is True


def test_provisioned_mode_autoscales_reads_and_writes_within_bounds(provisioned: StackJson) -> None:
    targets = {r.body["scalable_dimension"]: r.body for r in provisioned.resources("aws_appautoscaling_target")}
    assert set(targets) == {"dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"}
    read, write = targets["dynamodb:table:ReadCapacityUnits"], targets["dynamodb:table:WriteCapacityUnits"]
    assert (read["min_capacity"], read["max_capacity"]) == (3, 30)
    assert (write["min_capacity"], write["max_capacity"]) == (4, 40)
    assert {t["resource_id"] for t in targets.values()} == {"table/data-table-prod"}


def test_provisioned_mode_tracks_the_target_utilization(provisioned: StackJson) -> None:
    policies = {
        provisioned.referenced(r.body["scalable_dimension"]).body["scalable_dimension"]: r.body
        for r in provisioned.resources("aws_appautoscaling_policy")
    }
    assert {p["policy_type"] for p in policies.values()} == {"TargetTrackingScaling"}
    targets = {d: p["target_tracking_scaling_policy_configuration"]["target_value"] for d, p in policies.items()}
    assert targets == {"dynamodb:table:ReadCapacityUnits": 70, "dynamodb:table:WriteCapacityUnits": 60}


def test_terraform_ignores_capacities_so_it_never_fights_the_autoscaler(provisioned: StackJson) -> None:
    assert set(table(provisioned)["lifecycle"]["ignore_changes"]) == {"read_capacity", "write_capacity"}


def test_switching_billing_mode_keeps_the_same_table_resource(on_demand: StackJson, provisioned: StackJson) -> None:
    # Same address and no replacement-forcing attribute change: billing_mode is updated in place.
    [a], [b] = on_demand.resources("aws_dynamodb_table"), provisioned.resources("aws_dynamodb_table")
    assert a.name == b.name
    forcing = ("hash_key", "range_key", "attribute")
    assert {k: a.body[k] for k in forcing} == {k: b.body[k] for k in forcing}


def test_alarms_on_read_and_write_throttles(on_demand: StackJson) -> None:
    metrics = sorted(r.body["metric_name"] for r in on_demand.resources("aws_cloudwatch_metric_alarm"))
    assert metrics == ["ReadThrottleEvents", "WriteThrottleEvents"]
