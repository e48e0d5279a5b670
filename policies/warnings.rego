# Warn on changes that alter capacity, cost or alerting, and on every replacement: allowed, but a
# person should see them in the review.
package main

import rego.v1

watched := {
	"aws_lambda_function": {"memory_size", "timeout", "reserved_concurrent_executions"},
	"aws_lambda_provisioned_concurrency_config": {"provisioned_concurrent_executions"},
	"aws_lambda_event_source_mapping": {"batch_size", "maximum_batching_window_in_seconds", "scaling_config"},
	"aws_cloudwatch_log_group": {"retention_in_days"},
	"aws_dynamodb_table": {"billing_mode", "read_capacity", "write_capacity"},
	"aws_appautoscaling_target": {"min_capacity", "max_capacity"},
	"aws_cloudwatch_metric_alarm": {"threshold", "evaluation_periods", "period", "datapoints_to_alarm"},
}

warn contains msg if {
	some rc in input.resource_changes
	rc.change.actions == ["update"]
	some attribute in watched[rc.type]
	rc.change.before[attribute] != rc.change.after[attribute]
	msg := sprintf("%s: %s changes from %v to %v", [rc.address, attribute, rc.change.before[attribute], rc.change.after[attribute]])
}

warn contains msg if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
	"create" in rc.change.actions
	msg := sprintf("%s: will be replaced (destroyed and created again)", [rc.address])
}
