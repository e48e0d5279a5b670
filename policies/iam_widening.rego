# Deny IAM widening in an update: a new action or resource, a "*" in an action or resource, a removed
# condition, or a removed Deny statement, in a role, queue, bucket or key policy. Policies are JSON
# strings: before and after are parsed and compared statement by statement.
package main

import rego.v1

policy_attributes := {
	"aws_iam_role_policy": "policy",
	"aws_iam_policy": "policy",
	"aws_iam_role": "assume_role_policy",
	"aws_sqs_queue": "policy",
	"aws_sqs_queue_policy": "policy",
	"aws_s3_bucket_policy": "policy",
	"aws_kms_key": "policy",
}

as_list(x) := x if is_array(x)

as_list(x) := [x] if not is_array(x)

statements(doc) := as_list(doc.Statement)

policy_pairs contains [rc.address, before, after] if {
	some rc in input.resource_changes
	attribute := policy_attributes[rc.type]
	rc.change.actions != ["delete"]
	is_string(rc.change.before[attribute])
	is_string(rc.change.after[attribute])
	before := json.unmarshal(rc.change.before[attribute])
	after := json.unmarshal(rc.change.after[attribute])
}

allowed(doc, key) := {value |
	some s in statements(doc)
	s.Effect == "Allow"
	some value in as_list(object.get(s, key, []))
}

deny contains msg if {
	some [address, before, after] in policy_pairs
	some action in allowed(after, "Action") - allowed(before, "Action")
	msg := sprintf("%s: IAM widening: new allowed action %s", [address, action])
}

deny contains msg if {
	some [address, before, after] in policy_pairs
	some resource in allowed(after, "Resource") - allowed(before, "Resource")
	msg := sprintf("%s: IAM widening: new allowed resource %s", [address, resource])
}

deny contains msg if {
	some [address, before, after] in policy_pairs
	some value in allowed(after, "Action") - allowed(before, "Action")
	contains(value, "*")
	msg := sprintf("%s: IAM widening: wildcard in action %s", [address, value])
}

deny contains msg if {
	some [address, before, after] in policy_pairs
	some value in allowed(after, "Resource") - allowed(before, "Resource")
	contains(value, "*")
	msg := sprintf("%s: IAM widening: wildcard in resource %s", [address, value])
}

# An Allow statement (matched by Sid) that loses a condition key (on a Deny it would deny more).
deny contains msg if {
	some [address, before, after] in policy_pairs
	some old in statements(before)
	old.Effect == "Allow"
	old.Sid
	some operator, keys in object.get(old, "Condition", {})
	some key, _ in keys
	not condition_kept(after, old.Sid, operator, key)
	msg := sprintf("%s: IAM widening: statement %s lost its condition %s %s", [address, old.Sid, operator, key])
}

condition_kept(doc, sid, operator, key) if {
	some s in statements(doc)
	s.Sid == sid
	s.Condition[operator][key]
}

deny contains msg if {
	some [address, before, after] in policy_pairs
	some old in statements(before)
	old.Effect == "Deny"
	not old in statements(after)
	msg := sprintf("%s: IAM widening: Deny statement %s removed or changed", [address, object.get(old, "Sid", "(no Sid)")])
}
