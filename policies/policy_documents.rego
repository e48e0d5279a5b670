# Deny what a policy allows on its own, whatever it allowed before: every document a resource creates,
# updates or replaces (documents.rego), Lambda permissions and function URLs, managed-policy attachments
# and S3 public access blocks.
# input: the plan JSON (terraform show -json plan).
package main

import rego.v1

# --- Public principals --------------------------------------------------------------------------------

# Condition keys that tie a request to a fixed account, organization, source or network when compared with
# a fixed value (no wildcard) by a positive operator. AWS's list of what makes a policy non-public:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
# (aws:SourceArn, aws:SourceAccount, aws:SourceOwner, aws:SourceVpc, aws:SourceVpce, aws:SourceIp), the
# organization and principal keys of https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
# and KMS's kms:CallerAccount (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html).
restricting_keys := {
	"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
	"aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:principalaccount", "aws:principalarn",
	"aws:principalorgid", "aws:principalorgpaths", "kms:calleraccount",
}

# Operators that restrict to the listed values: not a negation, not ...IfExists (true when the key is
# absent), not Null.
restricting_operator(operator) if {
	not negated_operator(operator)
	not endswith(operator, "IfExists")
	not startswith(operator, "ForAllValues:")
	operator != "Null"
	operator != "Bool"
}

open_values := {"*", "0.0.0.0/0", "::/0"}

fixed_value(v) if {
	not contains(v, "*")
	not contains(v, "?")
	not v in open_values
}

restricted(s) if {
	some condition in normalized_conditions(s)
	restricting_operator(condition[0])
	condition[1] in restricting_keys
	count(condition[2]) > 0
	every v in condition[2] {
		fixed_value(v)
	}
}

public_grant(s) if {
	object.get(s, "Effect", "") == "Allow"
	"*" in principal_tokens(object.get(s, "Principal", {}))
}

deny contains msg if {
	some d in documents
	some i, s in statements(d.after)
	public_grant(s)
	not restricted(s)
	msg := sprintf("%s: public access: statement %s of %s allows anyone (Principal \"*\") without a condition that fixes the caller's account, organization, source or network (aws:SourceAccount, aws:SourceArn, aws:PrincipalOrgID, ...)", [d.address, label(s, i), d.attribute])
}

# --- Negations in an Allow ----------------------------------------------------------------------------

negation_meaning := {
	"NotAction": "every other action",
	"NotResource": "every other resource",
	"NotPrincipal": "everyone else",
}

deny contains msg if {
	some d in documents
	some i, s in statements(d.after)
	object.get(s, "Effect", "") == "Allow"
	some key, meaning in negation_meaning
	object.get(s, key, null) != null
	msg := sprintf("%s: statement %s of %s is an Allow with %s: it allows %s", [d.address, label(s, i), d.attribute, key, meaning])
}

# --- Wildcard actions ---------------------------------------------------------------------------------

# In a policy attached to an identity, any wildcard; elsewhere a whole service ("*", "sqs:*"). Partial
# patterns in resource policies ("kms:GenerateDataKey*", as in AWS's CloudWatch Logs key policy) are named
# by iam_widening.rego when they appear in an update.
wildcard_action(type, action) if {
	type in identity_policy_types
	contains(action, "*")
}

wildcard_action(type, action) if {
	not type in identity_policy_types
	action == "*"
}

wildcard_action(type, action) if {
	not type in identity_policy_types
	endswith(action, ":*")
}

# The key policy statement that lets the account's IAM policies govern the key: kms:* on "*" for the
# account root only. https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
key_policy_root_statement(type, s) if {
	type in key_policy_types
	{lower(a) | some a in as_list(s.Action)} == {"kms:*"}
	tokens := principal_tokens(object.get(s, "Principal", {}))
	count(tokens) > 0
	every t in tokens {
		regex.match(`^AWS:arn:aws[a-z-]*:iam::[0-9]{12}:root$`, t)
	}
}

deny contains msg if {
	some d in documents
	some i, s in statements(d.after)
	object.get(s, "Effect", "") == "Allow"
	not key_policy_root_statement(d.type, s)
	some action in as_list(object.get(s, "Action", []))
	wildcard_action(d.type, action)
	msg := sprintf("%s: statement %s of %s allows the wildcard action %s", [d.address, label(s, i), d.attribute, action])
}

# --- Values that cannot be reviewed -------------------------------------------------------------------

deny contains msg if {
	some [address, attribute, side] in unparseable
	msg := sprintf("%s: the %s value of %s is not a JSON policy document (\"\" and null mean none), so it cannot be reviewed", [address, side, attribute])
}

deny contains msg if {
	some [address, attribute, reasons] in unreviewable
	msg := concat("", [address, ": ", attribute, " cannot be reviewed before apply: its value is known only after apply and ", concat("; ", sort(reasons))])
}

# --- Managed policies ---------------------------------------------------------------------------------

attachment_arns contains [rc.address, rc.change.after.policy_arn] if {
	some rc in input.resource_changes
	rc.change.actions in changing_actions
	rc.type in {"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_policy_attachment"}
	is_string(rc.change.after.policy_arn)
}

attachment_arns contains [rc.address, arn] if {
	some rc in input.resource_changes
	rc.change.actions in changing_actions
	some field in ["managed_policy_arns", "policy_arns"]
	rc.type in {"aws_iam_role", "aws_iam_role_policy_attachments_exclusive", "aws_iam_user_policy_attachments_exclusive", "aws_iam_group_policy_attachments_exclusive"}
	some arn in as_list(object.get(rc.change.after, field, []))
}

# AWS-managed policies that grant administration or every action of a service.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html
broad_managed_policy(arn) if {
	regex.match(`^arn:aws[a-z-]*:iam::aws:policy/`, arn)
	name := regex.replace(arn, `^.*/`, "")
	broad_name(name)
}

broad_name(name) if startswith(name, "AdministratorAccess")

broad_name(name) if name == "PowerUserAccess"

broad_name(name) if endswith(name, "FullAccess")

broad_name(name) if name in {"SystemAdministrator", "NetworkAdministrator", "DatabaseAdministrator"}

deny contains msg if {
	some [address, arn] in attachment_arns
	broad_managed_policy(arn)
	msg := sprintf("%s: attaches the AWS-managed policy %s, which grants administration or a whole service", [address, arn])
}

# --- Lambda: public invoke and function URLs ----------------------------------------------------------

permission_scoped(after) if object.get(after, "source_arn", null) != null

permission_scoped(after) if object.get(after, "source_account", null) != null

permission_scoped(after) if object.get(after, "principal_org_id", null) != null

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_lambda_permission"
	rc.change.actions in changing_actions
	rc.change.after.principal == "*"
	not permission_scoped(rc.change.after)
	msg := sprintf("%s: lets anyone invoke the function (principal \"*\" without source_arn, source_account or principal_org_id)", [rc.address])
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_lambda_function_url"
	rc.change.actions in changing_actions
	rc.change.after.authorization_type == "NONE"
	msg := sprintf("%s: function URL without authentication (authorization_type NONE): anyone on the internet can invoke it", [rc.address])
}

# --- S3 public access blocks --------------------------------------------------------------------------

public_access_settings := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

public_access_block_types := {"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"}

deny contains msg if {
	some rc in input.resource_changes
	rc.type in public_access_block_types
	rc.change.actions in changing_actions
	some setting in public_access_settings
	object.get(rc.change.after, setting, false) != true
	msg := sprintf("%s: public access block with %s off", [rc.address, setting])
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type in public_access_block_types
	rc.change.actions == ["delete"]
	msg := sprintf("%s: deletes a public access block", [rc.address])
}
