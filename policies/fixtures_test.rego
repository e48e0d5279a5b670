# Test cases for the policies: each case_<name> is a plan (input) with what the policies must decide on
# it, and each test_<name> checks it under OPA (`opa test policies/`, `conftest verify -p policies`).
# tests/tools/plans/test_rego_unit.py evaluates every case on regopy too, through the review's own path,
# and on the OPA engine, and fails naming each case that does not hold. regopy 1.5.2 cannot run the test_
# rules (any `with input as` over these rules makes it fail every query, and crash in some forms), so
# fixture_passes, the one rule with `with`, is in opa_runner_test.rego, which regopy is not given; the
# test_ rules only refer to it, and regopy never evaluates them.
#
# A case: {"input": plan JSON, "denies": [prefixes each matched by a deny message], "denies_nothing": true
# (no deny at all), "no_denies_for": [addresses no deny message is about], "warns": [...],
# "warns_nothing": true}. Policy documents are JSON string literals, as
# in a plan.
package main

import rego.v1

fixture_met(prefixes, nothing, messages) if {
	every prefix in prefixes {
		some m in messages
		startswith(m, prefix)
	}
	not fixture_unexpected(nothing, messages)
}

fixture_unexpected(nothing, messages) if {
	nothing == true
	count(messages) > 0
}

fixture_plan(changes) := {"resource_changes": changes}

fixture_change(type, actions, before, after) := {
	"address": concat(".", [type, "x"]), "mode": "managed", "type": type, "name": "x",
	"change": {"actions": actions, "before": before, "after": after, "after_unknown": {}},
}

# One resource's policy attribute going from `before` to `after` (JSON strings, "" or null).
fixture_policy_update(type, attribute, before, after) := fixture_plan([fixture_change(type, ["update"], {attribute: before}, {attribute: after})])

fixture_policy_create(type, attribute, after) := fixture_plan([fixture_change(type, ["create"], null, {attribute: after})])

fixture_holds(case, deny_messages, warn_messages) if {
	fixture_met(object.get(case, "denies", []), object.get(case, "denies_nothing", false), deny_messages)
	every address in object.get(case, "no_denies_for", []) {
		not fixture_denied_for(address, deny_messages)
	}
	fixture_met(object.get(case, "warns", []), object.get(case, "warns_nothing", false), warn_messages)
}

# A role policy whose new value Terraform knows only after apply: it is `${data.aws_iam_policy_document.d.json}`,
# whose read waits for the table's new ARN (the table is replaced). `actions` are the document's planned
# actions; the old policy allowed PutItem on the table.
fixture_deferred_policy(actions) := {
	"resource_changes": [
		{
			"address": "aws_iam_role_policy.x", "mode": "managed", "type": "aws_iam_role_policy", "name": "x",
			"change": {
				"actions": ["update"],
				"before": {"policy": `{"Statement": [{"Sid": "Write", "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/t"}]}`},
				"after": {}, "after_unknown": {"policy": true},
			},
		},
		{
			"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "name": "d",
			"change": {
				"actions": ["read"], "before": null,
				"after": {"statement": [{"sid": "Write", "effect": "Allow", "actions": actions, "resources": [null], "principals": [], "not_principals": [], "condition": []}]},
				"after_unknown": {"json": true, "statement": [{"resources": [true]}]},
			},
		},
		{
			"address": "aws_dynamodb_table.t", "mode": "managed", "type": "aws_dynamodb_table", "name": "t",
			"change": {"actions": ["delete", "create"], "before": {"arn": "arn:aws:dynamodb:us-east-1:111122223333:table/t"}, "after": {"name": "t"}, "after_unknown": {"arn": true}},
		},
	],
	"prior_state": {"values": {"root_module": {"resources": [{"address": "aws_dynamodb_table.t", "mode": "managed", "type": "aws_dynamodb_table", "name": "t", "values": {"arn": "arn:aws:dynamodb:us-east-1:111122223333:table/t"}}]}}},
	"configuration": {"root_module": {"resources": [
		{"address": "aws_iam_role_policy.x", "mode": "managed", "type": "aws_iam_role_policy", "name": "x", "expressions": {"policy": {"constant_value": "${data.aws_iam_policy_document.d.json}", "references": ["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]}}},
		{"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "name": "d", "expressions": {"statement": [{"sid": {"constant_value": "Write"}, "actions": {"constant_value": actions}, "resources": {"constant_value": ["${aws_dynamodb_table.t.arn}"], "references": ["aws_dynamodb_table.t.arn", "aws_dynamodb_table.t"]}}]}},
	]}},
}

fixture_denied_for(address, messages) if {
	some m in messages
	startswith(m, concat("", [address, ": "]))
}

# `plan` (a root module's plan, as the cases above write them) as Terraform shows it when that configuration
# is a module the root calls as `call`, planned as the module instance `instance` (module.<call>, or with its
# key: module.<call>["eu"]): addresses under the instance, the configuration (relative addresses and
# references) under configuration.root_module.module_calls.<call>.module, the prior state in a child module.
# (Arguments are used in comprehension bodies only: regopy 1.5.2 yields nothing for one in a head.)
fixture_in_module(plan, call, instance) := {
	"resource_changes": [moved |
		some rc in plan.resource_changes
		moved := object.union(rc, {"address": concat(".", [instance, rc.address]), "module_address": instance})
	],
	"prior_state": {"values": {"root_module": {"child_modules": [{"address": instance, "resources": [moved |
		some r in object.get(object.get(object.get(object.get(plan, "prior_state", {}), "values", {}), "root_module", {}), "resources", [])
		moved := object.union(r, {"address": concat(".", [instance, r.address])})
	]}]}}},
	"configuration": {"root_module": {"module_calls": {call: {
		"source": "./pipeline",
		"module": object.get(object.get(plan, "configuration", {}), "root_module", {}),
	}}}},
}
