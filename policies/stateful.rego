# Deny deleting or replacing a resource that holds data: its data would be lost.
# input: the plan JSON (terraform show -json plan). Run with conftest or OPA as well.
package main

import rego.v1

stateful_types := {
	"aws_dynamodb_table",
	"aws_sqs_queue",
	"aws_s3_bucket",
	"aws_cloudwatch_log_group",
	"aws_kms_key",
}

deny contains msg if {
	some rc in input.resource_changes
	rc.mode == "managed"
	stateful_types[rc.type]
	"delete" in rc.change.actions
	verb := removal_verb(rc.change.actions)
	msg := sprintf("%s: %s of a stateful %s would lose its data", [rc.address, verb, rc.type])
}

removal_verb(actions) := "replacement" if "create" in actions

removal_verb(actions) := "deletion" if not "create" in actions
