# Deny IAM widening in an update or replacement of any policy document (documents.rego): whole statements
# are compared, so that a new principal, action or resource, a new combination of them, a lost or
# loosened condition, or a removed Deny is found, whichever field changed. "" and null before mean no
# statements: a policy added where there was none is compared with nothing. A reordered or narrowed policy
# passes.
# input: the plan JSON (terraform show -json plan).
package main

import rego.v1

# [[address, attribute], before, after] for each document an update or replacement changes.
policy_pairs contains [[d.address, d.attribute], d.before, d.after] if {
	some d in documents
	d.before != null
}

# A new grant is covered by an old one on the same principal, action (case-insensitive) and resource whose
# conditions the new one keeps, each with the same or fewer values (more for a negated operator).
covered(g, old) if {
	some o in old
	o[0] == g[0]
	lower(o[1]) == lower(g[1])
	o[2] == g[2]
	every c in o[3] {
		condition_kept(c, g[3])
	}
}

condition_kept(c, conditions) if {
	some n in conditions
	n[0] == c[0]
	n[1] == c[1]
	narrower_values(c[0], c[2], n[2])
}

narrower_values(operator, old, new) if new == old

narrower_values(operator, old, new) if {
	not negated_operator(operator)
	count(new - old) == 0
}

narrower_values(operator, old, new) if {
	negated_operator(operator)
	count(old - new) == 0
}

# Per pair, computed once: the grants before and after, what was allowed before, the new grants no old
# one covers.
old_grants[key] := grants(before) if some [key, before, _] in policy_pairs

new_grants[key] := grants(after) if some [key, _, after] in policy_pairs

old_principals[key] := {g[0] | some g in old_grants[key]} if some key in object.keys(old_grants)

old_actions[key] := {lower(g[1]) | some g in old_grants[key]} if some key in object.keys(old_grants)

old_resources[key] := {g[2] | some g in old_grants[key]} if some key in object.keys(old_grants)

uncovered contains [key, g] if {
	some key in object.keys(new_grants)
	some g in new_grants[key]
	not covered(g, old_grants[key])
}

# Why a grant is new: each field it brings, or else the combination, or else the conditions it lost.
widening contains [key[0], reason] if {
	some [key, g] in uncovered
	not lower(g[1]) in old_actions[key]
	reason := sprintf("new allowed action %s", [g[1]])
}

widening contains [key[0], reason] if {
	some [key, g] in uncovered
	not lower(g[1]) in old_actions[key]
	contains(g[1], "*")
	reason := sprintf("wildcard in action %s", [g[1]])
}

widening contains [key[0], reason] if {
	some [key, g] in uncovered
	not g[2] in old_resources[key]
	reason := sprintf("new allowed resource %s", [g[2]])
}

widening contains [key[0], reason] if {
	some [key, g] in uncovered
	not g[2] in old_resources[key]
	contains(g[2], "*")
	reason := sprintf("wildcard in resource %s", [g[2]])
}

widening contains [key[0], reason] if {
	some [key, g] in uncovered
	not g[0] in old_principals[key]
	reason := sprintf("new allowed principal %s", [g[0]])
}

# Each field was allowed before, but never together.
widening contains [key[0], reason] if {
	some [key, g] in uncovered
	lower(g[1]) in old_actions[key]
	g[2] in old_resources[key]
	g[0] in old_principals[key]
	not same_grant_before(g, old_grants[key])
	reason := sprintf("statement %s newly allows %s on %s to %s", [g[4], g[1], g[2], g[0]])
}

same_grant_before(g, old) if {
	some o in old
	o[0] == g[0]
	lower(o[1]) == lower(g[1])
	o[2] == g[2]
}

# The same grant existed, under conditions the new statement drops or loosens.
widening contains [key[0], reason] if {
	some [key, g] in uncovered
	some o in old_grants[key]
	o[0] == g[0]
	lower(o[1]) == lower(g[1])
	o[2] == g[2]
	some c in o[3]
	not condition_kept(c, g[3])
	reason := condition_change(g, c)
}

condition_change(g, c) := sprintf("statement %s lost its condition %s %s", [g[4], c[0], c[3]]) if {
	not same_condition_key(c, g[3])
}

condition_change(g, c) := sprintf("statement %s loosened its condition %s %s to %v", [g[4], c[0], c[3], sort([v | some n in g[3]; n[0] == c[0]; n[1] == c[1]; some v in n[2]])]) if {
	same_condition_key(c, g[3])
}

same_condition_key(c, conditions) if {
	some n in conditions
	n[0] == c[0]
	n[1] == c[1]
}

widening contains [key[0], reason] if {
	some [key, before, after] in policy_pairs
	some i, old in statements(before)
	object.get(old, "Effect", "") == "Deny"
	not normalized(old) in {normalized(s) | some s in statements(after)}
	reason := sprintf("Deny statement %s removed or changed", [label(old, i)])
}

deny contains msg if {
	some [address, reason] in widening
	msg := sprintf("%s: IAM widening: %s", [address, reason])
}
