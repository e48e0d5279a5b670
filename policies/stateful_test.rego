# A deny and an allow case for each rule of stateful.rego (format: fixtures_test.rego).
package main

import rego.v1

case_deleting_a_table_is_denied := {
	"input": fixture_plan([fixture_change("aws_dynamodb_table", ["delete"], {}, null)]),
	"denies": ["aws_dynamodb_table.x: deletion of a stateful aws_dynamodb_table would lose its data"],
}

test_deleting_a_table_is_denied if fixture_passes(case_deleting_a_table_is_denied)

case_replacing_a_queue_is_denied := {
	"input": fixture_plan([fixture_change("aws_sqs_queue", ["create", "delete"], {}, {})]),
	"denies": ["aws_sqs_queue.x: replacement of a stateful aws_sqs_queue would lose its data"],
}

test_replacing_a_queue_is_denied if fixture_passes(case_replacing_a_queue_is_denied)

case_updating_a_table_or_deleting_an_alarm_is_allowed := {
	"input": fixture_plan([
		fixture_change("aws_dynamodb_table", ["update"], {}, {}),
		fixture_change("aws_cloudwatch_metric_alarm", ["delete"], {}, null),
	]),
	"denies_nothing": true,
}

test_updating_a_table_or_deleting_an_alarm_is_allowed if fixture_passes(case_updating_a_table_or_deleting_an_alarm_is_allowed)
