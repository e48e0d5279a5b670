# The policy documents of a plan, parsed and normalized, for the rules of policy_documents.rego and
# iam_widening.rego. Defines no deny or warn of its own.
#
# A document is the JSON string a resource holds in a policy attribute (document_attributes). Its value
# after the change comes from the plan (resource_changes[].change.after) or, when Terraform knows it only
# after apply, from the aws_iam_policy_document data source the configuration builds it with (the
# data source's planned statements, with the elements still unknown taken from the configuration's
# references: see document_from_source). "" and null mean "no statements" (AWS's own representation of a
# queue or topic without a policy); anything else that is not a JSON object with a Statement cannot be
# reviewed, and blocks (policy_documents.rego).
package main

import rego.v1

# regopy 1.5.2 (rego-cpp) quirks these files avoid, each also checked against the OPA engine by the tests:
# a function's argument in the head of a comprehension yields nothing ([x | ...] with x an argument is
# empty: heads use variables bound in the body); object.union is shallow (OPA's is deep);
# sprintf("%s") of a string made by lower, upper, concat, replace or regex.replace quotes it (messages are
# composed with concat instead); "some k, v in x" inside a comprehension does not compile ("some k" and
# "v := x[k]" instead).

# resource type -> the attributes that hold a JSON policy document.
document_attributes := {
	"aws_iam_role": ["assume_role_policy"],
	"aws_iam_role_policy": ["policy"],
	"aws_iam_user_policy": ["policy"],
	"aws_iam_group_policy": ["policy"],
	"aws_iam_policy": ["policy"],
	"aws_sqs_queue": ["policy"],
	"aws_sqs_queue_policy": ["policy"],
	"aws_sns_topic": ["policy"],
	"aws_sns_topic_policy": ["policy"],
	"aws_s3_bucket": ["policy"],
	"aws_s3_bucket_policy": ["policy"],
	"aws_s3_access_point": ["policy"],
	"aws_kms_key": ["policy"],
	"aws_kms_key_policy": ["policy"],
	"aws_ecr_repository_policy": ["policy"],
	"aws_secretsmanager_secret_policy": ["policy"],
	"aws_cloudwatch_log_resource_policy": ["policy_document"],
	"aws_dynamodb_resource_policy": ["policy"],
	"aws_api_gateway_rest_api_policy": ["policy"],
	"aws_efs_file_system_policy": ["policy"],
	"aws_backup_vault_policy": ["policy"],
	"aws_opensearch_domain_policy": ["access_policies"],
	"aws_elasticsearch_domain_policy": ["access_policies"],
}

# Policies attached to an identity (no Principal: the role, user or group is the principal).
identity_policy_types := {"aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy", "aws_iam_policy"}

key_policy_types := {"aws_kms_key", "aws_kms_key_policy"}

changing_actions := {["create"], ["update"], ["delete", "create"], ["create", "delete"]}

as_list(x) := x if is_array(x)

as_list(x) := [] if x == null

as_list(x) := [x] if {
	not is_array(x)
	x != null
}

# --- Parsing -----------------------------------------------------------------------------------------

no_statements := {"Statement": []}

# A policy value: "" or null -> no statements; a JSON object with a Statement -> that object.
parsed(value) := no_statements if value == null

parsed(value) := no_statements if value == ""

parsed(value) := doc if {
	is_string(value)
	value != ""
	json.is_valid(value)
	doc := json.unmarshal(value)
	well_formed(doc)
}

parsed(value) := value if {
	is_object(value)
	well_formed(value)
}

well_formed(doc) if {
	is_object(doc)
	statements := object.get(doc, "Statement", null)
	statements != null
	every s in as_list(statements) {
		is_object(s)
	}
}

statements(doc) := as_list(doc.Statement)

# "Sid", or "#<position>" (from 1) for a statement without one.
label(s, i) := s.Sid if {
	is_string(s.Sid)
	s.Sid != ""
}

label(s, i) := sprintf("#%d", [i + 1]) if not has_sid(s)

has_sid(s) if {
	is_string(s.Sid)
	s.Sid != ""
}

# --- The documents of the plan's changes --------------------------------------------------------------

# (regopy 1.5.2 evaluates a rule again on every call of a function that refers to it, so the lookups below
# are rules used in rule bodies, and the functions they feed take what they need as arguments.)
changes_by_address := {rc.address: rc | some rc in input.resource_changes}

# --- Modules: a resource inside a module call is judged as one of the root module is -------------------
#
# A plan's addresses are absolute (module.<call>[<key>].<type>.<name>[<key>]); its configuration is a tree
# of module calls (configuration.root_module.module_calls.<call>.module), whose addresses and references
# are relative to their module and carry no instance keys; its prior state nests child_modules. So the
# configuration is read under configuration addresses (an absolute address without instance keys), and a
# reference in a module's configuration is resolved in its scope: the module instance's address prefix
# ("" in the root module, "module.tap_pipeline." in a module call).

configuration_root := object.get(object.get(input, "configuration", {}), "root_module", {})

# scope prefix without instance keys -> the configuration of that module: the root module's, and that of
# every module call a resource change is in, at any depth ("module.a.module.b." is
# root_module.module_calls.a.module.module_calls.b.module).
configuration_modules[""] := configuration_root

configuration_modules[prefix] := module if {
	some prefix in module_prefixes
	module := object.get(configuration_root, module_call_steps(prefix), null)
	is_object(module)
}

# (A set first: a module's configuration is large, and an object rule compares the values it gets for a key.)
module_prefixes := {concat("", [configuration_address(rc.module_address), "."]) |
	some rc in input.resource_changes
	is_string(rc.module_address)
}

module_call_steps(prefix) := [step |
	parts := split(trim_suffix(prefix, "."), ".")
	some i
	name := parts[i]
	i % 2 == 1
	some step in ["module_calls", name, "module"]
]

configuration_by_address := {concat("", [prefix, r.address]): r |
	some prefix
	module := configuration_modules[prefix]
	some r in object.get(module, "resources", [])
}

# An address as the configuration names it: without the instance keys of its modules and of itself. (A key
# with "]" in it is cut short, so its configuration is not found and its unknown policies block; regopy
# 1.5.2's regular expressions see a string's quotes escaped, so the pattern cannot follow quoted keys.)
configuration_address(address) := regex.replace(address, `\[[^\]]*\]`, "")

configuration_of(address) := configuration_by_address[configuration_address(address)]

# The scope a resource's configuration references are resolved in: its module instance's address and ".".
scope_of(rc) := concat("", [rc.module_address, "."]) if rc.module_address

scope_of(rc) := "" if not rc.module_address

# The managed and data resources of the prior state, in every module.
prior_resources := [r |
	walk(object.get(object.get(object.get(input, "prior_state", {}), "values", {}), "root_module", {}), [path, r])
	is_string(r.mode)
	module_resource_path(path)
]

# ["resources", i] in the root module, ["child_modules", j, ..., "resources", i] in a child module.
module_resource_path(path) if {
	n := count(path)
	n >= 2
	n % 2 == 0
	path[n - 2] == "resources"
	every i, step in array.slice(path, 0, n - 2) {
		child_module_step(i, step)
	}
}

child_module_step(i, step) if {
	i % 2 == 0
	step == "child_modules"
}

child_module_step(i, step) if i % 2 == 1

# address -> attribute -> value, for every value known at plan time: the planned one where Terraform
# knows it, else the prior state's (a resource that exists before the change stands for its current value
# also when the plan replaces it: a grant on it stays on the same resource of the configuration).
# (Merged address by address: regopy's object.union is shallow, OPA's deep.)
known_values := {address: object.union(object.get(prior_values, address, {}), object.get(planned_values, address, {})) |
	some address in object.keys(prior_values) | object.keys(planned_values)
}

prior_values := {r.address: r.values | some r in prior_resources}

planned_values := {rc.address: known_after(rc) | some rc in input.resource_changes; is_object(rc.change.after)}

known_after(rc) := {attribute: value |
	some attribute
	value := rc.change.after[attribute]
	value != null
	not rc.change.after_unknown[attribute] == true
}

attribute_unknown(rc, attribute) if rc.change.after_unknown[attribute] == true

# Every policy attribute of a resource the plan creates, updates or replaces:
# {address, type, attribute, actions, before (the old value, or null on create), after (the new value),
#  from ("plan" or "configuration")}.
policy_values contains entry if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.change.actions in changing_actions
	some attribute in document_attributes[rc.type]
	not attribute_unknown(rc, attribute)
	entry := {
		"address": rc.address, "type": rc.type, "attribute": attribute, "actions": rc.change.actions,
		"before": before_value(rc, attribute), "after": object.get(object.get(rc.change, "after", {}), attribute, null),
		"from": "plan",
	}
}

policy_values contains entry if {
	some [address, attribute] in unknown_policies
	not unreviewable_reasons[[address, attribute]]
	source := policy_source[[address, attribute]]
	rc := changes_by_address[address]
	entry := {
		"address": address, "type": rc.type, "attribute": attribute, "actions": rc.change.actions,
		"before": before_value(rc, attribute), "after": document_from_source(source_states[source], scopes[source_states[source].scope]),
		"from": "configuration",
	}
}

# A role's inline policies (the inline_policy blocks of aws_iam_role), each a document of its own: an
# identity policy, so judged as aws_iam_role_policy is; one the role did not have before is compared with
# nothing.
policy_values contains entry if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.type == "aws_iam_role"
	rc.change.actions in changing_actions
	some inline in as_list(object.get(object.get(rc.change, "after", {}), "inline_policy", []))
	is_string(inline.policy)
	entry := {
		"address": rc.address, "type": "aws_iam_role_policy", "attribute": sprintf("inline_policy %s", [inline.name]),
		"actions": rc.change.actions, "before": inline_before(rc, inline.name), "after": inline.policy, "from": "plan",
	}
}

inline_before(rc, name) := null if rc.change.actions == ["create"]

inline_before(rc, name) := policy if {
	rc.change.actions != ["create"]
	policies := [b.policy | some b in as_list(object.get(object.get(rc.change, "before", {}), "inline_policy", [])); b.name == name]
	policy := first_or_null(policies)
}

first_or_null(values) := values[0] if count(values) > 0

first_or_null(values) := null if count(values) == 0

before_value(rc, attribute) := null if rc.change.actions == ["create"]

before_value(rc, attribute) := object.get(object.get(rc.change, "before", {}), attribute, null) if {
	rc.change.actions != ["create"]
}

# The documents that parse: {address, type, attribute, actions, from, before (a document, or null on
# create), after (a document)}.
documents contains doc if {
	some v in policy_values
	after := parsed(v.after)
	doc := {
		"address": v.address, "type": v.type, "attribute": v.attribute, "actions": v.actions,
		"from": v.from, "after": after, "before": before_document(v),
	}
}

before_document(v) := null if v.actions == ["create"]

before_document(v) := parsed(v.before) if v.actions != ["create"]

# An old value that does not parse blocks (unparseable) and is compared as no statements.
before_document(v) := no_statements if {
	v.actions != ["create"]
	not parsed(v.before)
}

# A value that is neither "", null nor a JSON policy document: [address, attribute, side].
unparseable contains [v.address, v.attribute, "new"] if {
	some v in policy_values
	not parsed(v.after)
}

unparseable contains [v.address, v.attribute, "old"] if {
	some v in policy_values
	v.actions != ["create"]
	not parsed(v.before)
}

# --- Unknown values: the document from the configuration ----------------------------------------------

# Policy attributes of changing resources whose new value Terraform knows only after apply, and that the
# configuration sets (one it leaves unset gets AWS's default, e.g. an SNS topic's owner-only policy).
unknown_policies contains [rc.address, attribute] if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.change.actions in changing_actions
	some attribute in document_attributes[rc.type]
	attribute_unknown(rc, attribute)
	not left_to_aws(rc.address, attribute)
}

left_to_aws(address, attribute) if {
	r := configuration_of(address)
	not r.expressions[attribute]
}

# The data source an attribute is exactly `${data.aws_iam_policy_document.X.json}` of (its absolute address:
# in the module instance of the resource that uses it).
policy_source[[address, attribute]] := concat("", [scope_of(changes_by_address[address]), source]) if {
	some [address, attribute] in unknown_policies
	source := document_source(configuration_of(address).expressions[attribute])
}

document_source(expression) := source if {
	some reference in expression.references
	parts := split(reference, ".")
	count(parts) == 4
	parts[0] == "data"
	parts[1] == "aws_iam_policy_document"
	parts[3] in {"json", "minified_json"}
	source := sprintf("data.aws_iam_policy_document.%s", [parts[2]])
	every other in expression.references {
		other in {reference, source}
	}
	object.get(expression, "constant_value", sprintf("${%s}", [reference])) == sprintf("${%s}", [reference])
}

# (A source's address is made with concat: messages name it with concat too, as regopy 1.5.2's sprintf quotes
# such strings.)
# Each such data source: its values as the plan knows them (its deferred read, or what was read while
# planning), which of them are unknown, its configuration, the scope its references are resolved in, and
# ("included") the states of the documents it includes through source_policy_documents when the
# configuration says which (included_documents).
source_states[source] := object.union(state, {"included": included_states[source]}) if {
	state := plain_source_states[source]
	included_states[source]
}

source_states[source] := plain_source_states[source] if not included_states[source]

plain_source_states[source] := state if {
	some key in object.keys(policy_source)
	source := policy_source[key]
	state := data_source_state(source, scope_of(changes_by_address[key[0]]), changes_by_address, prior_values, configuration_by_address)
}

data_source_state(source, scope, changes, prior, configuration) := {
	"source": source, "values": rc.change.after, "unknown": object.get(rc.change, "after_unknown", {}),
	"config": object.get(object.get(configuration, configuration_address(source), {}), "expressions", {}), "scope": scope,
} if {
	rc := changes[source]
}

data_source_state(source, scope, changes, prior, configuration) := {
	"source": source, "values": prior[source], "unknown": {},
	"config": object.get(object.get(configuration, configuration_address(source), {}), "expressions", {}), "scope": scope,
} if {
	not changes[source]
	prior[source]
}

# The documents a data source includes (source_policy_documents), each with its state, when the configuration
# lists them: the generated module's role documents include their key-use document when customer managed
# encryption is on. Only when every one has values in the plan.
included_states[source] := states if {
	state := plain_source_states[source]
	names := included_documents(state)
	states := [included |
		some name in names
		included := data_source_state(concat("", [state.scope, "data.aws_iam_policy_document.", name]), state.scope, changes_by_address, prior_values, configuration_by_address)
	]
	count(states) == count(names)
}

# The names of the aws_iam_policy_document data sources whose JSON source_policy_documents holds, when its
# configuration is a list of exactly such references (["${data.aws_iam_policy_document.a.json}", ...]), or
# `${var.x ? [data.aws_iam_policy_document.a.json, ...] : []}` and the plan holds as many documents as the
# list (so the condition held): any other expression could hold anything, and the document stays unreviewable.
included_documents(state) := names if {
	templates := state.config.source_policy_documents.constant_value
	is_array(templates)
	names := [name |
		some template in templates
		matches := regex.find_all_string_submatch_n(`^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$`, template, 1)
		name := matches[0][1]
	]
	count(names) == count(templates)
	count(names) == count(as_list(object.get(state.values, "source_policy_documents", [])))
}

included_documents(state) := names if {
	template := state.config.source_policy_documents.constant_value
	is_string(template)
	regex.match(`^\$\{var\.[A-Za-z0-9_-]+ \? \[data\.aws_iam_policy_document\.[A-Za-z0-9_-]+\.json(, data\.aws_iam_policy_document\.[A-Za-z0-9_-]+\.json)*\] : \[\]\}$`, template)
	names := [m[1] | some m in regex.find_all_string_submatch_n(`data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json`, template, -1)]
	count(names) == count(as_list(object.get(state.values, "source_policy_documents", [])))
}

# scope -> what a reference in that scope can name: {"prefix": scope, "values": relative address ->
# attribute -> value (known_values)}.
scopes[scope] := {"prefix": scope, "values": values} if {
	some state in source_states
	scope := state.scope
	values := {substring(address, count(scope), -1): attributes |
		some address
		attributes := known_values[address]
		startswith(address, scope)
	}
}

# Why the document behind an unknown attribute cannot be built before apply (a non-empty set of sentences).
unreviewable_reasons[[address, attribute]] := {"its value does not come from an aws_iam_policy_document data source"} if {
	some [address, attribute] in unknown_policies
	not policy_source[[address, attribute]]
}

unreviewable_reasons[[address, attribute]] := {concat("", ["the plan has no values of ", source])} if {
	some [address, attribute] in unknown_policies
	source := policy_source[[address, attribute]]
	not source_states[source]
}

unreviewable_reasons[[address, attribute]] := reasons if {
	some [address, attribute] in unknown_policies
	source := policy_source[[address, attribute]]
	reasons := source_reasons(source_states[source], scopes[source_states[source].scope])
	count(reasons) > 0
}

unreviewable contains [rc.address, "inline_policy", {"inline policies known only after apply are not built from their documents"}] if {
	some rc in input.resource_changes
	rc.type == "aws_iam_role"
	rc.change.actions in changing_actions
	contains_unknown(object.get(object.get(rc.change, "after_unknown", {}), "inline_policy", false))
	not left_to_aws(rc.address, "inline_policy")
}

unreviewable contains [address, attribute, reasons] if {
	some key in object.keys(unreviewable_reasons)
	[address, attribute] := key
	reasons := unreviewable_reasons[key]
}

combining_fields := ["source_policy_documents", "override_policy_documents", "source_json", "override_json"]

# A document's reasons and those of each document it includes (which may not include others in turn).
source_reasons(state, known) := own_reasons(state, known) | {reason |
	some included in object.get(state, "included", [])
	some reason in own_reasons(included, known)
}

own_reasons(state, known) := (combined | whole) | elements if {
	combined := {reason |
		some field in combining_fields
		combining(state.values, state.unknown, field)
		not combined_from_configuration(state, field)
		reason := concat("", [state.source, " combines other documents (", field, ")"])
	}
	whole := {reason |
		state.unknown.statement == true
		reason := concat("", ["the statements of ", state.source, " are known only after apply"])
	}
	elements := {reason |
		some i
		block := object.get(state.values, "statement", [])[i]
		some field in ["actions", "not_actions", "principals", "not_principals", "condition", "effect", "sid"]
		field_unknown(unknown_block(state.unknown, i), field)
		not resolved_from_configuration(object.get(state.config, "statement", [])[i], field, known)
		reason := concat("", [field, " of statement ", statement_name(block, i), " of ", state.source, " are known only after apply"])
	}
}

combined_from_configuration(state, field) if {
	field == "source_policy_documents"
	is_array(state.included)
}

combining(values, unknown, field) if unknown[field] == true

combining(values, unknown, field) if {
	value := object.get(values, field, null)
	value != null
	value != []
}

unknown_block(unknown, i) := unknown.statement[i] if is_array(unknown.statement)

unknown_block(unknown, i) := {} if not is_array(unknown.statement)

statement_name(block, i) := block.sid if {
	is_string(block.sid)
	block.sid != ""
}

statement_name(block, i) := sprintf("#%d", [i + 1]) if not has_block_sid(block)

has_block_sid(block) if {
	is_string(block.sid)
	block.sid != ""
}

# Whether any element of a field is unknown (true for the whole field, or in a list of marks).
field_unknown(marks, field) if marks[field] == true

field_unknown(marks, field) if {
	some mark in marks[field]
	contains_unknown(mark)
}

# (walk, not recursion: OPA rejects recursive rules.)
contains_unknown(mark) if {
	walk(mark, [_, value])
	value == true
}

# Whether the configuration gives every element of a statement's field (resources may stay unresolved:
# an unknown resource is named as such and compared, see field_values).
resolved_from_configuration(config, field, known) if {
	field in {"actions", "not_actions", "effect", "sid"}
	every template in as_list(config[field].constant_value) {
		resolve(template, known)
	}
}

resolved_from_configuration(config, field, known) if {
	field in {"principals", "not_principals"}
	every b in config[field] {
		resolve(b.type.constant_value, known)
		every template in as_list(b.identifiers.constant_value) {
			resolve_principal(template, known)
		}
	}
}

# A principal: resolved like any template, or, when it is the ARN of a resource this configuration manages
# (the GitHub OIDC provider a trust policy federates with, created in the same plan), left as that template:
# unknown until apply, yet one identity of this configuration, never "anyone" (an ARN is never "*").
resolve_principal(template, known) := value if {
	values := [v | v := resolve(template, known)]
	count(values) == 1
	value := values[0]
}

resolve_principal(template, known) := template if {
	count([v | v := resolve(template, known)]) == 0
	managed_arn_reference(template, known)
}

managed_arn_reference(template, known) if {
	is_string(template)
	matches := regex.find_all_string_submatch_n(`^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.arn\}$`, template, 1)
	count(matches) == 1
	resource := configuration_of(concat("", [known.prefix, matches[0][1], ".", matches[0][2]]))
	object.get(resource, "mode", "managed") == "managed"
}

resolved_from_configuration(config, field, known) if {
	field == "condition"
	every b in config.condition {
		resolve(b.test.constant_value, known)
		resolve(b.variable.constant_value, known)
		every template in as_list(b.values.constant_value) {
			resolve(template, known)
		}
	}
}

# The document an unknown policy attribute will hold, in the JSON policy grammar (only built when
# unreviewable_reasons has none for it).
# A document that includes others holds their statements after its own. (Where the including document has a
# statement of the same Sid, AWS's provider keeps only its own: judging both can find a grant too many, never
# one too few.)
document_from_source(state, known) := {"Statement": array.concat(own_statements(state, known), [statement |
	some included in object.get(state, "included", [])
	some statement in own_statements(included, known)
])}

own_statements(state, known) := [statement |
	some i
	block := object.get(state.values, "statement", [])[i]
	statement := statement_from_block(block, unknown_block(state.unknown, i), object.get(state.config, "statement", [])[i], known)
]

statement_from_block(block, marks, config, known) := object.union_n([
	{"Effect": field_value(block, marks, config, known, "effect", "Allow")},
	optional("Sid", field_value(block, marks, config, known, "sid", "")),
	optional("Action", field_values(block, marks, config, known, "actions")),
	optional("NotAction", field_values(block, marks, config, known, "not_actions")),
	optional("Resource", field_values(block, marks, config, known, "resources")),
	optional("NotResource", field_values(block, marks, config, known, "not_resources")),
	optional("Principal", principal_object(principal_blocks(block, marks, config, known, "principals"))),
	optional("NotPrincipal", principal_object(principal_blocks(block, marks, config, known, "not_principals"))),
	optional("Condition", condition_object(condition_blocks(block, marks, config, known))),
])

optional(key, value) := {} if value in {"", [], {}, null}

optional(key, value) := {key: value} if not value in {"", [], {}, null}

field_value(block, marks, config, known, field, fallback) := object.get(block, field, fallback) if {
	not field_unknown(marks, field)
	object.get(block, field, fallback) != null
}

field_value(block, marks, config, known, field, fallback) := fallback if {
	not field_unknown(marks, field)
	object.get(block, field, fallback) == null
}

field_value(block, marks, config, known, field, fallback) := resolve(config[field].constant_value, known) if {
	field_unknown(marks, field)
}

# A list field: as planned when fully known; otherwise every element from the configuration's templates,
# each resolved, or left as its template ("${aws_x.y.arn}") when it names a value known only after apply.
field_values(block, marks, config, known, field) := as_list(object.get(block, field, [])) if {
	not field_unknown(marks, field)
}

field_values(block, marks, config, known, field) := [value |
	some t in as_list(config[field].constant_value)
	value := resolve_or_template(t, known)
] if {
	field_unknown(marks, field)
}

resolve_or_template(template, known) := value if {
	values := [v | v := resolve(template, known)]
	count(values) == 1
	value := values[0]
}

resolve_or_template(template, known) := template if {
	count([v | v := resolve(template, known)]) == 0
}

principal_object(blocks) := {t: ids |
	some b in blocks
	t := b.type
	ids := [id | some other in blocks; other.type == t; some id in other.identifiers]
}

principal_blocks(block, marks, config, known, field) := object.get(block, field, []) if not field_unknown(marks, field)

principal_blocks(block, marks, config, known, field) := [resolved |
	some b in config[field]
	ids := [id | some t in as_list(b.identifiers.constant_value); id := resolve_principal(t, known)]
	resolved := {"type": resolve(b.type.constant_value, known), "identifiers": ids}
] if {
	field_unknown(marks, field)
}

condition_object(blocks) := {test: by_variable |
	some c in blocks
	test := c.test
	by_variable := {variable: values |
		some d in blocks
		d.test == test
		variable := d.variable
		values := [v | some e in blocks; e.test == test; e.variable == variable; some v in e.values]
	}
}

condition_blocks(block, marks, config, known) := object.get(block, "condition", []) if not field_unknown(marks, "condition")

condition_blocks(block, marks, config, known) := [resolved |
	some b in config.condition
	values := [v | some t in as_list(b.values.constant_value); v := resolve(t, known)]
	resolved := {"test": resolve(b.test.constant_value, known), "variable": resolve(b.variable.constant_value, known), "values": values}
] if {
	field_unknown(marks, "condition")
}

# A configuration template with its `${type.name.attribute}` references replaced by their known values in
# the template's scope (scopes); undefined when one is known only after apply (or is an expression, not a reference).
resolve(template, known) := template if {
	is_string(template)
	not contains(template, "${")
}

resolve(template, known) := result if {
	is_string(template)
	contains(template, "${")
	matches := regex.find_all_string_submatch_n(`\$\{([^}]*)\}`, template, -1)
	replacements := {key: value |
		some m in matches
		key := concat("", ["${", m[1], "}"])
		value := reference_value(m[1], known)
	}
	count(replacements) == count({m[1] | some m in matches})
	result := strings.replace_n(replacements, template)
}

resolve(template, known) := sprintf("%v", [template]) if {
	not is_string(template)
	template != null
}

reference_value(reference, known) := as_text(known.values[address][attribute]) if {
	[address, attribute] := reference_parts(reference)
}

as_text(value) := value if is_string(value)

as_text(value) := sprintf("%v", [value]) if is_number(value)

reference_parts(reference) := [sprintf("data.%s.%s", [parts[1], parts[2]]), parts[3]] if {
	parts := split(reference, ".")
	count(parts) == 4
	parts[0] == "data"
}

reference_parts(reference) := [sprintf("%s.%s", [parts[0], parts[1]]), parts[2]] if {
	parts := split(reference, ".")
	count(parts) == 3
	parts[0] != "data"
	regex.match(`^[a-z0-9_]+$`, parts[0])
}

# --- Normalized statements ----------------------------------------------------------------------------

# A principal as a token: "*" for anyone; "<type>:<id>" otherwise (an account id as its root ARN).
principal_tokens(p) := {"*"} if p == "*"

principal_tokens(p) := {token |
	some kind
	ids := p[kind]
	some id in as_list(ids)
	token := principal_token(kind, id)
} if is_object(p)

principal_token(kind, id) := "*" if {
	kind in {"AWS", "*"}
	id == "*"
}

principal_token(kind, id) := sprintf("AWS:arn:aws:iam::%s:root", [id]) if {
	kind == "AWS"
	regex.match(`^[0-9]{12}$`, id)
}

principal_token(kind, id) := sprintf("%s:%s", [kind, id]) if {
	not id == "*"
	not account_id(kind, id)
}

principal_token(kind, id) := "*" if {
	not kind in {"AWS", "*"}
	id == "*"
}

account_id(kind, id) if {
	kind == "AWS"
	regex.match(`^[0-9]{12}$`, id)
}

negated_operator(operator) if startswith(operator, "StringNot")

negated_operator(operator) if startswith(operator, "ArnNot")

negated_operator(operator) if operator == "NotIpAddress"

# [operator, key in lower case (condition keys are case-insensitive), values as a set of strings, key as
# written] (the key as written for messages: regopy 1.5.2's sprintf garbles the result of lower()).
normalized_conditions(s) := {[operator, lower(key), {sprintf("%v", [v]) | some v in as_list(values)}, key] |
	some operator, key
	values := object.get(s, "Condition", {})[operator][key]
}

# What a statement means, without its Sid, for comparing statements (reordering changes nothing).
normalized(s) := {
	"effect": object.get(s, "Effect", ""),
	"action": {lower(a) | some a in as_list(object.get(s, "Action", []))},
	"not_action": {lower(a) | some a in as_list(object.get(s, "NotAction", []))},
	"resource": {r | some r in as_list(object.get(s, "Resource", []))},
	"not_resource": {r | some r in as_list(object.get(s, "NotResource", []))},
	"principal": principal_tokens(object.get(s, "Principal", {})),
	"not_principal": principal_tokens(object.get(s, "NotPrincipal", {})),
	"condition": normalized_conditions(s),
}

# What an Allow statement grants: [principal, action, resource, conditions, statement label] for each
# combination; "(the identity)" for identity policies, "(this resource)" when no Resource is named, and
# NotAction / NotResource / NotPrincipal as one token each (policy_documents.rego blocks them in an Allow).
grants(doc) := {[p, a, r, normalized_conditions(s), label(s, i)] |
	some i
	s := statements(doc)[i]
	object.get(s, "Effect", "") == "Allow"
	some p in grant_principals(s)
	some a in grant_actions(s)
	some r in grant_resources(s)
}

grant_principals(s) := {"(the identity)"} if {
	not s.Principal
	not s.NotPrincipal
}

grant_principals(s) := principal_tokens(s.Principal) if s.Principal

grant_principals(s) := {sprintf("NotPrincipal %v", [s.NotPrincipal])} if {
	not s.Principal
	s.NotPrincipal
}

grant_actions(s) := {a | some a in as_list(s.Action)} if s.Action

grant_actions(s) := {sprintf("NotAction %v", [s.NotAction])} if {
	not s.Action
	s.NotAction
}

grant_actions(s) := {"(no action)"} if {
	not s.Action
	not s.NotAction
}

grant_resources(s) := {r | some r in as_list(s.Resource)} if s.Resource

grant_resources(s) := {sprintf("NotResource %v", [s.NotResource])} if {
	not s.Resource
	s.NotResource
}

grant_resources(s) := {"(this resource)"} if {
	not s.Resource
	not s.NotResource
}
