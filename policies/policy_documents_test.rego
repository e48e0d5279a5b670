# A deny and an allow case for each rule of policy_documents.rego (format: fixtures_test.rego).
package main

import rego.v1

# --- public principals

case_public_principal_is_denied := {
	"input": fixture_policy_create("aws_sqs_queue_policy", "policy", `{"Statement": [{"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_sqs_queue_policy.x: public access: statement Anyone of policy allows anyone (Principal \"*\")"],
}

test_public_principal_is_denied if fixture_passes(case_public_principal_is_denied)

case_public_principal_in_an_aws_list_is_denied := {
	"input": fixture_policy_create("aws_sns_topic_policy", "policy", `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}, "Action": "sns:Publish", "Resource": "*"}]}`),
	"denies": ["aws_sns_topic_policy.x: public access: statement #1 of policy"],
}

test_public_principal_in_an_aws_list_is_denied if fixture_passes(case_public_principal_in_an_aws_list_is_denied)

case_public_principal_with_a_fixed_source_account_is_allowed := {
	"input": fixture_policy_create("aws_sqs_queue_policy", "policy", `{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}`),
	"denies_nothing": true,
}

test_public_principal_with_a_fixed_source_account_is_allowed if fixture_passes(case_public_principal_with_a_fixed_source_account_is_allowed)

case_public_principal_with_a_negated_condition_is_denied := {
	"input": fixture_policy_create("aws_sqs_queue_policy", "policy", `{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringNotEquals": {"aws:SourceAccount": "111122223333"}}}]}`),
	"denies": ["aws_sqs_queue_policy.x: public access"],
}

test_public_principal_with_a_negated_condition_is_denied if fixture_passes(case_public_principal_with_a_negated_condition_is_denied)

case_public_principal_with_a_wildcard_source_is_denied := {
	"input": fixture_policy_create("aws_sqs_queue_policy", "policy", `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}}]}`),
	"denies": ["aws_sqs_queue_policy.x: public access"],
}

test_public_principal_with_a_wildcard_source_is_denied if fixture_passes(case_public_principal_with_a_wildcard_source_is_denied)

case_public_principal_with_an_if_exists_condition_is_denied := {
	"input": fixture_policy_create("aws_sqs_queue_policy", "policy", `{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}}]}`),
	"denies": ["aws_sqs_queue_policy.x: public access"],
}

test_public_principal_with_an_if_exists_condition_is_denied if fixture_passes(case_public_principal_with_an_if_exists_condition_is_denied)

case_tls_only_deny_and_a_scoped_service_principal_are_allowed := {
	"input": fixture_policy_create("aws_sqs_queue", "policy", `{"Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q", "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}`),
	"denies_nothing": true,
}

test_tls_only_deny_and_a_scoped_service_principal_are_allowed if fixture_passes(case_tls_only_deny_and_a_scoped_service_principal_are_allowed)

case_public_trust_policy_is_denied := {
	"input": fixture_policy_create("aws_iam_role", "assume_role_policy", `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}`),
	"denies": ["aws_iam_role.x: public access: statement #1 of assume_role_policy"],
}

test_public_trust_policy_is_denied if fixture_passes(case_public_trust_policy_is_denied)

case_service_trust_policy_is_allowed := {
	"input": fixture_policy_create("aws_iam_role", "assume_role_policy", `{"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}`),
	"denies_nothing": true,
}

test_service_trust_policy_is_allowed if fixture_passes(case_service_trust_policy_is_allowed)

# --- negations in an Allow

case_not_action_in_an_allow_is_denied := {
	"input": fixture_policy_create("aws_iam_role_policy", "policy", `{"Statement": [{"Sid": "A", "Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_iam_role_policy.x: statement A of policy is an Allow with NotAction: it allows every other action"],
}

test_not_action_in_an_allow_is_denied if fixture_passes(case_not_action_in_an_allow_is_denied)

case_not_resource_in_an_allow_is_denied := {
	"input": fixture_policy_create("aws_iam_role_policy", "policy", `{"Statement": [{"Sid": "R", "Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_iam_role_policy.x: statement R of policy is an Allow with NotResource"],
}

test_not_resource_in_an_allow_is_denied if fixture_passes(case_not_resource_in_an_allow_is_denied)

case_not_principal_in_an_allow_is_denied := {
	"input": fixture_policy_create("aws_sqs_queue_policy", "policy", `{"Statement": [{"Sid": "P", "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_sqs_queue_policy.x: statement P of policy is an Allow with NotPrincipal: it allows everyone else"],
}

test_not_principal_in_an_allow_is_denied if fixture_passes(case_not_principal_in_an_allow_is_denied)

case_negations_in_a_deny_are_allowed := {
	"input": fixture_policy_create("aws_sqs_queue_policy", "policy", `{"Statement": [{"Effect": "Deny", "Principal": "*", "NotAction": "sqs:SendMessage", "NotResource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies_nothing": true,
}

test_negations_in_a_deny_are_allowed if fixture_passes(case_negations_in_a_deny_are_allowed)

# --- wildcard actions

case_any_wildcard_in_an_identity_policy_is_denied := {
	"input": fixture_policy_create("aws_iam_role_policy", "policy", `{"Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "sqs:Get*", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_iam_role_policy.x: statement Read of policy allows the wildcard action sqs:Get*"],
}

test_any_wildcard_in_an_identity_policy_is_denied if fixture_passes(case_any_wildcard_in_an_identity_policy_is_denied)

case_named_actions_in_an_identity_policy_are_allowed := {
	"input": fixture_policy_create("aws_iam_role_policy", "policy", `{"Statement": [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}, {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}]}`),
	"denies_nothing": true,
}

test_named_actions_in_an_identity_policy_are_allowed if fixture_passes(case_named_actions_in_an_identity_policy_are_allowed)

case_a_whole_service_in_a_resource_policy_is_denied := {
	"input": fixture_policy_create("aws_sqs_queue", "policy", `{"Statement": [{"Sid": "All", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}]}`),
	"denies": ["aws_sqs_queue.x: statement All of policy allows the wildcard action sqs:*"],
}

test_a_whole_service_in_a_resource_policy_is_denied if fixture_passes(case_a_whole_service_in_a_resource_policy_is_denied)

case_partial_wildcards_for_a_key_policy_service_statement_are_allowed := {
	"input": fixture_policy_create("aws_kms_key", "policy", `{"Statement": [{"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": ["kms:Encrypt*", "kms:GenerateDataKey*"], "Resource": "*", "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f"}}}]}`),
	"denies_nothing": true,
}

test_partial_wildcards_for_a_key_policy_service_statement_are_allowed if fixture_passes(case_partial_wildcards_for_a_key_policy_service_statement_are_allowed)

case_the_key_policy_root_statement_is_allowed := {
	"input": fixture_policy_create("aws_kms_key", "policy", `{"Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}`),
	"denies_nothing": true,
}

test_the_key_policy_root_statement_is_allowed if fixture_passes(case_the_key_policy_root_statement_is_allowed)

case_kms_star_for_a_role_is_denied := {
	"input": fixture_policy_create("aws_kms_key", "policy", `{"Statement": [{"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"}, "Action": "kms:*", "Resource": "*"}]}`),
	"denies": ["aws_kms_key.x: statement Role of policy allows the wildcard action kms:*"],
}

test_kms_star_for_a_role_is_denied if fixture_passes(case_kms_star_for_a_role_is_denied)

# --- values that cannot be reviewed

case_a_policy_that_is_not_json_is_denied_naming_the_address := {
	"input": fixture_policy_update("aws_sqs_queue", "policy", "", "{not json"),
	"denies": ["aws_sqs_queue.x: the new value of policy is not a JSON policy document (\"\" and null mean none), so it cannot be reviewed"],
}

test_a_policy_that_is_not_json_is_denied_naming_the_address if fixture_passes(case_a_policy_that_is_not_json_is_denied_naming_the_address)

case_json_that_is_not_a_policy_is_denied := {
	"input": fixture_policy_update("aws_sqs_queue", "policy", `{"Statement": []}`, `["a list"]`),
	"denies": ["aws_sqs_queue.x: the new value of policy is not a JSON policy document"],
}

test_json_that_is_not_a_policy_is_denied if fixture_passes(case_json_that_is_not_a_policy_is_denied)

case_empty_and_null_policies_are_no_statements := {
	"input": fixture_plan([
		fixture_change("aws_sqs_queue", ["update"], {"policy": ""}, {"policy": ""}),
		fixture_change("aws_sns_topic", ["update"], {"policy": null}, {"policy": `{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}`}),
	]),
	"denies_nothing": true,
}

test_empty_and_null_policies_are_no_statements if fixture_passes(case_empty_and_null_policies_are_no_statements)

# --- managed policies

case_an_administrator_attachment_is_denied := {
	"input": fixture_plan([fixture_change("aws_iam_role_policy_attachment", ["create"], null, {"policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"})]),
	"denies": ["aws_iam_role_policy_attachment.x: attaches the AWS-managed policy arn:aws:iam::aws:policy/AdministratorAccess, which grants administration or a whole service"],
}

test_an_administrator_attachment_is_denied if fixture_passes(case_an_administrator_attachment_is_denied)

case_a_full_access_managed_policy_arn_is_denied := {
	"input": fixture_plan([fixture_change("aws_iam_role", ["update"], {"managed_policy_arns": []}, {"managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonSQSFullAccess"]})]),
	"denies": ["aws_iam_role.x: attaches the AWS-managed policy arn:aws:iam::aws:policy/AmazonSQSFullAccess"],
}

test_a_full_access_managed_policy_arn_is_denied if fixture_passes(case_a_full_access_managed_policy_arn_is_denied)

case_a_narrow_managed_policy_is_allowed := {
	"input": fixture_plan([fixture_change("aws_iam_role_policy_attachment", ["create"], null, {"policy_arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"})]),
	"denies_nothing": true,
}

test_a_narrow_managed_policy_is_allowed if fixture_passes(case_a_narrow_managed_policy_is_allowed)

# --- Lambda

case_public_invoke_is_denied := {
	"input": fixture_plan([fixture_change("aws_lambda_permission", ["create"], null, {"principal": "*", "action": "lambda:InvokeFunction"})]),
	"denies": ["aws_lambda_permission.x: lets anyone invoke the function"],
}

test_public_invoke_is_denied if fixture_passes(case_public_invoke_is_denied)

case_invoke_scoped_to_a_source_is_allowed := {
	"input": fixture_plan([
		fixture_change("aws_lambda_permission", ["create"], null, {"principal": "s3.amazonaws.com", "source_arn": "arn:aws:s3:::b"}),
		fixture_change("aws_lambda_permission", ["create"], null, {"principal": "*", "source_account": "111122223333"}),
	]),
	"denies_nothing": true,
}

test_invoke_scoped_to_a_source_is_allowed if fixture_passes(case_invoke_scoped_to_a_source_is_allowed)

case_an_unauthenticated_function_url_is_denied := {
	"input": fixture_plan([fixture_change("aws_lambda_function_url", ["create"], null, {"authorization_type": "NONE"})]),
	"denies": ["aws_lambda_function_url.x: function URL without authentication (authorization_type NONE)"],
}

test_an_unauthenticated_function_url_is_denied if fixture_passes(case_an_unauthenticated_function_url_is_denied)

case_an_iam_authenticated_function_url_is_allowed := {
	"input": fixture_plan([fixture_change("aws_lambda_function_url", ["create"], null, {"authorization_type": "AWS_IAM"})]),
	"denies_nothing": true,
}

test_an_iam_authenticated_function_url_is_allowed if fixture_passes(case_an_iam_authenticated_function_url_is_allowed)

# --- S3 public access blocks

case_a_public_access_block_switched_off_is_denied := {
	"input": fixture_plan([fixture_change(
		"aws_s3_bucket_public_access_block", ["update"],
		{"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true},
		{"block_public_acls": true, "block_public_policy": false, "ignore_public_acls": true, "restrict_public_buckets": true},
	)]),
	"denies": ["aws_s3_bucket_public_access_block.x: public access block with block_public_policy off"],
}

test_a_public_access_block_switched_off_is_denied if fixture_passes(case_a_public_access_block_switched_off_is_denied)

case_a_deleted_public_access_block_is_denied := {
	"input": fixture_plan([fixture_change(
		"aws_s3_bucket_public_access_block", ["delete"],
		{"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}, null,
	)]),
	"denies": ["aws_s3_bucket_public_access_block.x: deletes a public access block"],
}

test_a_deleted_public_access_block_is_denied if fixture_passes(case_a_deleted_public_access_block_is_denied)

case_a_full_public_access_block_is_allowed := {
	"input": fixture_plan([fixture_change(
		"aws_s3_bucket_public_access_block", ["create"], null,
		{"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true},
	)]),
	"denies_nothing": true,
}

test_a_full_public_access_block_is_allowed if fixture_passes(case_a_full_public_access_block_is_allowed)

# --- values known only after apply

case_an_unknown_policy_not_built_by_a_policy_document_is_denied := {
	"input": {
		"resource_changes": [{"address": "aws_iam_role_policy.x", "mode": "managed", "type": "aws_iam_role_policy", "name": "x", "change": {"actions": ["update"], "before": {"policy": `{"Statement": []}`}, "after": {}, "after_unknown": {"policy": true}}}],
		"configuration": {"root_module": {"resources": [{"address": "aws_iam_role_policy.x", "expressions": {"policy": {"references": ["aws_s3_object.p.content", "aws_s3_object.p"]}}}]}},
	},
	"denies": ["aws_iam_role_policy.x: policy cannot be reviewed before apply: its value is known only after apply and its value does not come from an aws_iam_policy_document data source"],
}

test_an_unknown_policy_not_built_by_a_policy_document_is_denied if fixture_passes(case_an_unknown_policy_not_built_by_a_policy_document_is_denied)

case_unknown_actions_cannot_be_reviewed_before_apply := {
	"input": json.patch(fixture_deferred_policy([null]), [
		{"op": "replace", "path": "/resource_changes/1/change/after_unknown/statement/0", "value": {"actions": [true], "resources": [true]}},
		{"op": "replace", "path": "/configuration/root_module/resources/1/expressions/statement/0/actions", "value": {"constant_value": ["${aws_ssm_parameter.p.value}"], "references": ["aws_ssm_parameter.p.value", "aws_ssm_parameter.p"]}},
	]),
	"denies": ["aws_iam_role_policy.x: policy cannot be reviewed before apply: its value is known only after apply and actions of statement Write of data.aws_iam_policy_document.d are known only after apply"],
}

test_unknown_actions_cannot_be_reviewed_before_apply if fixture_passes(case_unknown_actions_cannot_be_reviewed_before_apply)

case_a_policy_the_configuration_leaves_to_aws_is_allowed := {
	"input": {
		"resource_changes": [{"address": "aws_sns_topic.x", "mode": "managed", "type": "aws_sns_topic", "name": "x", "change": {"actions": ["create"], "before": null, "after": {"name": "t"}, "after_unknown": {"policy": true}}}],
		"configuration": {"root_module": {"resources": [{"address": "aws_sns_topic.x", "expressions": {"name": {"constant_value": "t"}}}]}},
	},
	"denies_nothing": true,
}

test_a_policy_the_configuration_leaves_to_aws_is_allowed if fixture_passes(case_a_policy_the_configuration_leaves_to_aws_is_allowed)

# Inside a module call, a document known only after apply is built from the module's configuration and judged
# as the root module's are: a wildcard action blocks.
case_a_wildcard_in_a_modules_policy_known_only_after_apply_is_denied := {
	"input": fixture_in_module(fixture_deferred_policy(["dynamodb:*"]), "tap_pipeline", "module.tap_pipeline"),
	"denies": ["module.tap_pipeline.aws_iam_role_policy.x: statement Write of policy allows the wildcard action dynamodb:*"],
}

test_a_wildcard_in_a_modules_policy_known_only_after_apply_is_denied if fixture_passes(case_a_wildcard_in_a_modules_policy_known_only_after_apply_is_denied)

case_a_policy_a_module_leaves_to_aws_is_allowed := {
	"input": fixture_in_module(case_a_policy_the_configuration_leaves_to_aws_is_allowed.input, "tap_pipeline", "module.tap_pipeline"),
	"denies_nothing": true,
}

test_a_policy_a_module_leaves_to_aws_is_allowed if fixture_passes(case_a_policy_a_module_leaves_to_aws_is_allowed)

# A module instance whose call the configuration does not hold: nothing says how the policy is built.
case_an_unknown_policy_of_a_module_missing_from_the_configuration_is_denied := {
	"input": json.patch(fixture_in_module(fixture_deferred_policy(["dynamodb:PutItem"]), "tap_pipeline", "module.tap_pipeline"), [
		{"op": "replace", "path": "/configuration/root_module/module_calls", "value": {}},
	]),
	"denies": ["module.tap_pipeline.aws_iam_role_policy.x: policy cannot be reviewed before apply: its value is known only after apply and its value does not come from an aws_iam_policy_document data source"],
}

test_an_unknown_policy_of_a_module_missing_from_the_configuration_is_denied if fixture_passes(case_an_unknown_policy_of_a_module_missing_from_the_configuration_is_denied)

# A role created with a trust policy whose principal is `principal` in the configuration (the ARN of the
# OIDC provider this plan creates, in the CI identities' stack): known only after apply.
fixture_federated_trust(principal) := {
	"resource_changes": [
		{
			"address": "aws_iam_role.x", "mode": "managed", "type": "aws_iam_role", "name": "x",
			"change": {"actions": ["create"], "before": null, "after": {"name": "ci-plan"}, "after_unknown": {"assume_role_policy": true}},
		},
		{
			"address": "data.aws_iam_policy_document.t", "mode": "data", "type": "aws_iam_policy_document", "name": "t",
			"change": {
				"actions": ["read"], "before": null,
				"after": {"statement": [{"sid": "GitHub", "effect": "Allow", "actions": ["sts:AssumeRoleWithWebIdentity"], "resources": null, "not_principals": [], "principals": [{"type": "Federated", "identifiers": [null]}], "condition": [{"test": "StringEquals", "variable": "token.actions.githubusercontent.com:sub", "values": ["repo:acme/tap-pipeline:pull_request"]}]}]},
				"after_unknown": {"json": true, "statement": [{"principals": [{"identifiers": [true]}]}]},
			},
		},
		{
			"address": "aws_iam_openid_connect_provider.github", "mode": "managed", "type": "aws_iam_openid_connect_provider", "name": "github",
			"change": {"actions": ["create"], "before": null, "after": {"url": "https://token.actions.githubusercontent.com"}, "after_unknown": {"arn": true}},
		},
	],
	"configuration": {"root_module": {"resources": [
		{"address": "aws_iam_role.x", "mode": "managed", "type": "aws_iam_role", "name": "x", "expressions": {"assume_role_policy": {"constant_value": "${data.aws_iam_policy_document.t.json}", "references": ["data.aws_iam_policy_document.t.json", "data.aws_iam_policy_document.t"]}}},
		{"address": "data.aws_iam_policy_document.t", "mode": "data", "type": "aws_iam_policy_document", "name": "t", "expressions": {"statement": [{"sid": {"constant_value": "GitHub"}, "principals": [{"type": {"constant_value": "Federated"}, "identifiers": {"constant_value": [principal]}}]}]}},
		{"address": "aws_iam_openid_connect_provider.github", "mode": "managed", "type": "aws_iam_openid_connect_provider", "name": "github", "expressions": {"url": {"constant_value": "https://token.actions.githubusercontent.com"}}},
		{"address": "aws_ssm_parameter.p", "mode": "managed", "type": "aws_ssm_parameter", "name": "p", "expressions": {"name": {"constant_value": "p"}}},
	]}},
}

case_a_trust_policy_federating_with_a_provider_this_plan_creates_is_allowed := {
	"input": fixture_federated_trust("${aws_iam_openid_connect_provider.github.arn}"),
	"denies_nothing": true,
}

test_a_trust_policy_federating_with_a_provider_this_plan_creates_is_allowed if fixture_passes(case_a_trust_policy_federating_with_a_provider_this_plan_creates_is_allowed)

case_a_principal_from_a_value_that_is_no_arn_cannot_be_reviewed_before_apply := {
	"input": fixture_federated_trust("${aws_ssm_parameter.p.value}"),
	"denies": ["aws_iam_role.x: assume_role_policy cannot be reviewed before apply: its value is known only after apply and principals of statement GitHub of data.aws_iam_policy_document.t are known only after apply"],
}

test_a_principal_from_a_value_that_is_no_arn_cannot_be_reviewed_before_apply if fixture_passes(case_a_principal_from_a_value_that_is_no_arn_cannot_be_reviewed_before_apply)

case_a_principal_from_the_arn_of_something_outside_the_configuration_cannot_be_reviewed_before_apply := {
	"input": fixture_federated_trust("${aws_iam_role.elsewhere.arn}"),
	"denies": ["aws_iam_role.x: assume_role_policy cannot be reviewed before apply"],
}

test_a_principal_from_the_arn_of_something_outside_the_configuration_cannot_be_reviewed_before_apply if fixture_passes(case_a_principal_from_the_arn_of_something_outside_the_configuration_cannot_be_reviewed_before_apply)

# --- documents that include others (source_policy_documents)

# A role policy created from data.aws_iam_policy_document.d, which includes data.aws_iam_policy_document.k
# through source_policy_documents configured as `sources` and planned as `planned` (elements unknown: both
# reads wait for the ARNs of the queue and the key the plan creates). k allows `actions` on the key.
fixture_including(sources, planned, actions) := {
	"resource_changes": [
		{
			"address": "aws_iam_role_policy.x", "mode": "managed", "type": "aws_iam_role_policy", "name": "x",
			"change": {"actions": ["create"], "before": null, "after": {}, "after_unknown": {"policy": true}},
		},
		{
			"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "name": "d",
			"change": {
				"actions": ["read"], "before": null,
				"after": {"source_policy_documents": planned, "statement": [{"sid": "Read", "effect": "Allow", "actions": ["sqs:ReceiveMessage"], "resources": [null], "principals": [], "not_principals": [], "condition": []}]},
				"after_unknown": {"json": true, "source_policy_documents": [t | some _ in planned; t := true], "statement": [{"resources": [true]}]},
			},
		},
		{
			"address": "data.aws_iam_policy_document.k", "mode": "data", "type": "aws_iam_policy_document", "name": "k",
			"change": {
				"actions": ["read"], "before": null,
				"after": {"source_policy_documents": [], "statement": [{"sid": "UseKey", "effect": "Allow", "actions": actions, "resources": [null], "principals": [], "not_principals": [], "condition": []}]},
				"after_unknown": {"json": true, "statement": [{"resources": [true]}]},
			},
		},
		{
			"address": "aws_sqs_queue.q", "mode": "managed", "type": "aws_sqs_queue", "name": "q",
			"change": {"actions": ["create"], "before": null, "after": {"name": "q"}, "after_unknown": {"arn": true}},
		},
		{
			"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k",
			"change": {"actions": ["create"], "before": null, "after": {}, "after_unknown": {"arn": true}},
		},
	],
	"configuration": {"root_module": {"resources": [
		{"address": "aws_iam_role_policy.x", "mode": "managed", "type": "aws_iam_role_policy", "name": "x", "expressions": {"policy": {"constant_value": "${data.aws_iam_policy_document.d.json}", "references": ["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]}}},
		{"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "name": "d", "expressions": {
			"source_policy_documents": {"constant_value": sources, "references": ["var.encryption", "data.aws_iam_policy_document.k.json", "data.aws_iam_policy_document.k"]},
			"statement": [{"sid": {"constant_value": "Read"}, "actions": {"constant_value": ["sqs:ReceiveMessage"]}, "resources": {"constant_value": ["${aws_sqs_queue.q.arn}"], "references": ["aws_sqs_queue.q.arn", "aws_sqs_queue.q"]}}],
		}},
		{"address": "data.aws_iam_policy_document.k", "mode": "data", "type": "aws_iam_policy_document", "name": "k", "expressions": {"statement": [{"sid": {"constant_value": "UseKey"}, "actions": {"constant_value": actions}, "resources": {"constant_value": ["${aws_kms_key.k.arn}"], "references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}}]}},
		{"address": "aws_sqs_queue.q", "mode": "managed", "type": "aws_sqs_queue", "name": "q", "expressions": {"name": {"constant_value": "q"}}},
		{"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k", "expressions": {}},
	]}},
}

when_encrypted := "${var.encryption ? [data.aws_iam_policy_document.k.json] : []}"

case_a_document_included_on_a_condition_is_judged_with_the_including_one := {
	"input": fixture_including(when_encrypted, [null], ["kms:*"]),
	"denies": ["aws_iam_role_policy.x: statement UseKey of policy allows the wildcard action kms:*"],
}

test_a_document_included_on_a_condition_is_judged_with_the_including_one if fixture_passes(case_a_document_included_on_a_condition_is_judged_with_the_including_one)

case_narrow_included_documents_are_allowed := {
	"input": fixture_including(when_encrypted, [null], ["kms:Decrypt", "kms:GenerateDataKey"]),
	"denies_nothing": true,
}

test_narrow_included_documents_are_allowed if fixture_passes(case_narrow_included_documents_are_allowed)

case_a_listed_document_included_inside_a_module_is_judged := {
	"input": fixture_in_module(fixture_including(["${data.aws_iam_policy_document.k.json}"], [null], ["kms:*"]), "tap_pipeline", "module.tap_pipeline"),
	"denies": ["module.tap_pipeline.aws_iam_role_policy.x: statement UseKey of policy allows the wildcard action kms:*"],
}

test_a_listed_document_included_inside_a_module_is_judged if fixture_passes(case_a_listed_document_included_inside_a_module_is_judged)

case_included_documents_chosen_between_cannot_be_reviewed_before_apply := {
	"input": fixture_including("${var.encryption ? [data.aws_iam_policy_document.k.json] : [data.aws_iam_policy_document.q.json]}", [null], ["kms:Decrypt"]),
	"denies": ["aws_iam_role_policy.x: policy cannot be reviewed before apply: its value is known only after apply and data.aws_iam_policy_document.d combines other documents (source_policy_documents)"],
}

test_included_documents_chosen_between_cannot_be_reviewed_before_apply if fixture_passes(case_included_documents_chosen_between_cannot_be_reviewed_before_apply)

case_more_included_documents_than_the_configuration_lists_cannot_be_reviewed_before_apply := {
	"input": fixture_including(when_encrypted, [null, null], ["kms:Decrypt"]),
	"denies": ["aws_iam_role_policy.x: policy cannot be reviewed before apply: its value is known only after apply and data.aws_iam_policy_document.d combines other documents (source_policy_documents)"],
}

test_more_included_documents_than_the_configuration_lists_cannot_be_reviewed_before_apply if fixture_passes(case_more_included_documents_than_the_configuration_lists_cannot_be_reviewed_before_apply)

case_an_included_document_including_others_cannot_be_reviewed_before_apply := {
	"input": json.patch(fixture_including(when_encrypted, [null], ["kms:Decrypt"]), [
		{"op": "replace", "path": "/resource_changes/2/change/after/source_policy_documents", "value": [null]},
		{"op": "add", "path": "/resource_changes/2/change/after_unknown/source_policy_documents", "value": [true]},
	]),
	"denies": ["aws_iam_role_policy.x: policy cannot be reviewed before apply: its value is known only after apply and data.aws_iam_policy_document.k combines other documents (source_policy_documents)"],
}

test_an_included_document_including_others_cannot_be_reviewed_before_apply if fixture_passes(case_an_included_document_including_others_cannot_be_reviewed_before_apply)

# --- a role's inline policies

case_a_wildcard_in_a_role_inline_policy_is_denied := {
	"input": fixture_plan([fixture_change("aws_iam_role", ["create"], null, {"inline_policy": [{"name": "app", "policy": `{"Statement": [{"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}`}]})]),
	"denies": ["aws_iam_role.x: statement All of inline_policy app allows the wildcard action s3:*"],
}

test_a_wildcard_in_a_role_inline_policy_is_denied if fixture_passes(case_a_wildcard_in_a_role_inline_policy_is_denied)

case_a_narrow_role_inline_policy_is_allowed := {
	"input": fixture_plan([fixture_change("aws_iam_role", ["update"], {"inline_policy": []}, {"inline_policy": [{"name": "app", "policy": `{"Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}`}]})]),
	"denies_nothing": true,
}

test_a_narrow_role_inline_policy_is_allowed if fixture_passes(case_a_narrow_role_inline_policy_is_allowed)

case_inline_policies_the_configuration_does_not_set_are_allowed := {
	"input": {
		"resource_changes": [{"address": "aws_iam_role.x", "mode": "managed", "type": "aws_iam_role", "name": "x", "change": {"actions": ["create"], "before": null, "after": {"assume_role_policy": `{"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}`}, "after_unknown": {"inline_policy": true}}}],
		"configuration": {"root_module": {"resources": [{"address": "aws_iam_role.x", "expressions": {"assume_role_policy": {"constant_value": "{}"}}}]}},
	},
	"denies_nothing": true,
}

test_inline_policies_the_configuration_does_not_set_are_allowed if fixture_passes(case_inline_policies_the_configuration_does_not_set_are_allowed)

case_inline_policies_a_module_does_not_set_are_allowed := {
	"input": fixture_in_module(case_inline_policies_the_configuration_does_not_set_are_allowed.input, "tap_pipeline", "module.tap_pipeline"),
	"denies_nothing": true,
}

test_inline_policies_a_module_does_not_set_are_allowed if fixture_passes(case_inline_policies_a_module_does_not_set_are_allowed)

case_inline_policies_known_only_after_apply_are_denied := {
	"input": {
		"resource_changes": [{"address": "aws_iam_role.x", "mode": "managed", "type": "aws_iam_role", "name": "x", "change": {"actions": ["update"], "before": {"inline_policy": []}, "after": {}, "after_unknown": {"inline_policy": [{"policy": true}]}}}],
		"configuration": {"root_module": {"resources": [{"address": "aws_iam_role.x", "expressions": {"inline_policy": [{"name": {"constant_value": "app"}, "policy": {"references": ["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]}}]}}]}},
	},
	"denies": ["aws_iam_role.x: inline_policy cannot be reviewed before apply"],
}

test_inline_policies_known_only_after_apply_are_denied if fixture_passes(case_inline_policies_known_only_after_apply_are_denied)
