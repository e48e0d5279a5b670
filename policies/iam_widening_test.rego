# A deny and an allow case for each rule of iam_widening.rego (format: fixtures_test.rego): whole
# statements are compared, whichever field changes.
package main

import rego.v1

case_a_new_action_is_denied := {
	"input": fixture_policy_update("aws_iam_role_policy", "policy",
		`{"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`,
		`{"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:PurgeQueue"], "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_iam_role_policy.x: IAM widening: new allowed action sqs:PurgeQueue"],
}

test_a_new_action_is_denied if fixture_passes(case_a_new_action_is_denied)

case_a_reordered_narrowed_or_recased_policy_is_allowed := {
	"input": fixture_policy_update("aws_iam_role_policy", "policy",
		`{"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}, {"Sid": "Tls", "Effect": "Deny", "Action": "sqs:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}`,
		`{"Statement": [{"Sid": "Tls", "Effect": "Deny", "Action": ["sqs:*"], "Resource": ["*"], "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}, {"Sid": "Read", "Effect": "Allow", "Action": "SQS:ReceiveMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies_nothing": true,
}

test_a_reordered_narrowed_or_recased_policy_is_allowed if fixture_passes(case_a_reordered_narrowed_or_recased_policy_is_allowed)

case_a_new_resource_and_wildcards_are_denied := {
	"input": fixture_policy_update("aws_iam_role_policy", "policy",
		`{"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`,
		`{"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "sqs:Receive*", "Resource": "arn:aws:sqs:us-east-1:111122223333:*"}]}`),
	"denies": [
		"aws_iam_role_policy.x: IAM widening: new allowed resource arn:aws:sqs:us-east-1:111122223333:*",
		"aws_iam_role_policy.x: IAM widening: wildcard in resource arn:aws:sqs:us-east-1:111122223333:*",
		"aws_iam_role_policy.x: IAM widening: wildcard in action sqs:Receive*",
	],
}

test_a_new_resource_and_wildcards_are_denied if fixture_passes(case_a_new_resource_and_wildcards_are_denied)

case_a_principal_widened_to_anyone_is_denied := {
	"input": fixture_policy_update("aws_sqs_queue", "policy",
		`{"Statement": [{"Sid": "Send", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`,
		`{"Statement": [{"Sid": "Send", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_sqs_queue.x: IAM widening: new allowed principal *"],
}

test_a_principal_widened_to_anyone_is_denied if fixture_passes(case_a_principal_widened_to_anyone_is_denied)

case_a_trust_policy_opened_to_another_account_is_denied := {
	"input": fixture_policy_update("aws_iam_role", "assume_role_policy",
		`{"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}`,
		`{"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com", "AWS": "444455556666"}, "Action": "sts:AssumeRole"}]}`),
	"denies": ["aws_iam_role.x: IAM widening: new allowed principal AWS:arn:aws:iam::444455556666:root"],
}

test_a_trust_policy_opened_to_another_account_is_denied if fixture_passes(case_a_trust_policy_opened_to_another_account_is_denied)

case_an_account_id_written_as_its_root_arn_is_allowed := {
	"input": fixture_policy_update("aws_sqs_queue", "policy",
		`{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`,
		`{"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies_nothing": true,
}

test_an_account_id_written_as_its_root_arn_is_allowed if fixture_passes(case_an_account_id_written_as_its_root_arn_is_allowed)

case_a_new_combination_of_allowed_fields_is_denied := {
	"input": fixture_policy_update("aws_iam_role_policy", "policy",
		`{"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:a"}, {"Sid": "B", "Effect": "Allow", "Action": "sqs:PurgeQueue", "Resource": "arn:aws:sqs:us-east-1:111122223333:b"}]}`,
		`{"Statement": [{"Sid": "A", "Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:PurgeQueue"], "Resource": "arn:aws:sqs:us-east-1:111122223333:a"}, {"Sid": "B", "Effect": "Allow", "Action": "sqs:PurgeQueue", "Resource": "arn:aws:sqs:us-east-1:111122223333:b"}]}`),
	"denies": ["aws_iam_role_policy.x: IAM widening: statement A newly allows sqs:PurgeQueue on arn:aws:sqs:us-east-1:111122223333:a to (the identity)"],
}

test_a_new_combination_of_allowed_fields_is_denied if fixture_passes(case_a_new_combination_of_allowed_fields_is_denied)

case_a_lost_condition_is_denied := {
	"input": fixture_policy_update("aws_sqs_queue_policy", "policy",
		`{"Statement": [{"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}`,
		`{"Statement": [{"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_sqs_queue_policy.x: IAM widening: statement Alarms lost its condition StringEquals aws:SourceAccount"],
}

test_a_lost_condition_is_denied if fixture_passes(case_a_lost_condition_is_denied)

case_a_loosened_condition_is_denied := {
	"input": fixture_policy_update("aws_sqs_queue_policy", "policy",
		`{"Statement": [{"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}`,
		`{"Statement": [{"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringEquals": {"aws:SourceAccount": ["111122223333", "444455556666"]}}}]}`),
	"denies": ["aws_sqs_queue_policy.x: IAM widening: statement Alarms loosened its condition StringEquals aws:SourceAccount"],
}

test_a_loosened_condition_is_denied if fixture_passes(case_a_loosened_condition_is_denied)

case_a_kept_or_tightened_condition_is_allowed := {
	"input": fixture_policy_update("aws_sqs_queue_policy", "policy",
		`{"Statement": [{"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringEquals": {"aws:SourceAccount": ["111122223333", "444455556666"]}}}]}`,
		`{"Statement": [{"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}, "ArnEquals": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a"}}}]}`),
	"denies_nothing": true,
}

test_a_kept_or_tightened_condition_is_allowed if fixture_passes(case_a_kept_or_tightened_condition_is_allowed)

case_a_removed_deny_is_denied := {
	"input": fixture_policy_update("aws_sqs_queue", "policy",
		`{"Statement": [{"Sid": "Tls", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}`,
		""),
	"denies": ["aws_sqs_queue.x: IAM widening: Deny statement Tls removed or changed"],
}

test_a_removed_deny_is_denied if fixture_passes(case_a_removed_deny_is_denied)

case_a_policy_where_there_was_none_is_compared_with_nothing := {
	"input": fixture_policy_update("aws_sqs_queue", "policy", "",
		`{"Statement": [{"Sid": "Send", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": [
		"aws_sqs_queue.x: IAM widening: new allowed action sqs:SendMessage",
		"aws_sqs_queue.x: IAM widening: new allowed principal AWS:arn:aws:iam::444455556666:root",
	],
}

test_a_policy_where_there_was_none_is_compared_with_nothing if fixture_passes(case_a_policy_where_there_was_none_is_compared_with_nothing)

case_a_deny_only_policy_where_there_was_none_is_allowed := {
	"input": fixture_policy_update("aws_sqs_queue", "policy", null,
		`{"Statement": [{"Sid": "Tls", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}`),
	"denies_nothing": true,
}

test_a_deny_only_policy_where_there_was_none_is_allowed if fixture_passes(case_a_deny_only_policy_where_there_was_none_is_allowed)

case_a_created_policy_is_judged_on_its_own_not_compared := {
	"input": fixture_policy_create("aws_iam_role_policy", "policy",
		`{"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies_nothing": true,
}

test_a_created_policy_is_judged_on_its_own_not_compared if fixture_passes(case_a_created_policy_is_judged_on_its_own_not_compared)

case_a_widening_known_only_after_apply_is_found_in_the_configuration := {
	"input": fixture_deferred_policy(["dynamodb:DeleteTable", "dynamodb:PutItem"]),
	"denies": ["aws_iam_role_policy.x: IAM widening: new allowed action dynamodb:DeleteTable"],
}

test_a_widening_known_only_after_apply_is_found_in_the_configuration if fixture_passes(case_a_widening_known_only_after_apply_is_found_in_the_configuration)

case_the_same_grants_known_only_after_apply_are_allowed := {
	"input": fixture_deferred_policy(["dynamodb:PutItem"]),
	"no_denies_for": ["aws_iam_role_policy.x"],
}

test_the_same_grants_known_only_after_apply_are_allowed if fixture_passes(case_the_same_grants_known_only_after_apply_are_allowed)

# The same inside a module call: the policy's document, the data source and the table are the module's, its
# references name them relative to the module instance (here one of a for_each), and the table's ARN is in the
# prior state's child module.
case_a_widening_known_only_after_apply_inside_a_module_is_found_in_the_modules_configuration := {
	"input": fixture_in_module(fixture_deferred_policy(["dynamodb:DeleteTable", "dynamodb:PutItem"]), "pipeline", `module.pipeline["eu"]`),
	"denies": [`module.pipeline["eu"].aws_iam_role_policy.x: IAM widening: new allowed action dynamodb:DeleteTable`],
}

test_a_widening_known_only_after_apply_inside_a_module_is_found_in_the_modules_configuration if fixture_passes(case_a_widening_known_only_after_apply_inside_a_module_is_found_in_the_modules_configuration)

case_the_same_grants_known_only_after_apply_inside_a_module_are_allowed := {
	"input": fixture_in_module(fixture_deferred_policy(["dynamodb:PutItem"]), "pipeline", `module.pipeline["eu"]`),
	"no_denies_for": [`module.pipeline["eu"].aws_iam_role_policy.x`],
}

test_the_same_grants_known_only_after_apply_inside_a_module_are_allowed if fixture_passes(case_the_same_grants_known_only_after_apply_inside_a_module_are_allowed)

# A module's reference names the module's own resources: a table of the same name in the root module is
# another table, so the grant on the module's (its ARN unknown) is a new one.
case_a_modules_reference_is_not_resolved_in_the_root_module := {
	"input": json.patch(fixture_in_module(fixture_deferred_policy(["dynamodb:PutItem"]), "pipeline", "module.pipeline"), [
		{"op": "add", "path": "/prior_state/values/root_module/resources", "value": [{"address": "aws_dynamodb_table.t", "mode": "managed", "type": "aws_dynamodb_table", "name": "t", "values": {"arn": "arn:aws:dynamodb:us-east-1:111122223333:table/t"}}]},
		{"op": "replace", "path": "/prior_state/values/root_module/child_modules/0/resources", "value": []},
	]),
	"denies": ["module.pipeline.aws_iam_role_policy.x: IAM widening: new allowed resource ${aws_dynamodb_table.t.arn}"],
}

test_a_modules_reference_is_not_resolved_in_the_root_module if fixture_passes(case_a_modules_reference_is_not_resolved_in_the_root_module)

case_a_widened_role_inline_policy_is_denied := {
	"input": fixture_plan([fixture_change("aws_iam_role", ["update"],
		{"inline_policy": [{"name": "app", "policy": `{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}`}]},
		{"inline_policy": [{"name": "app", "policy": `{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}]}`}]},
	)]),
	"denies": ["aws_iam_role.x: IAM widening: new allowed action s3:PutObject"],
}

test_a_widened_role_inline_policy_is_denied if fixture_passes(case_a_widened_role_inline_policy_is_denied)
