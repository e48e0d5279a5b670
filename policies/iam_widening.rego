# Deny IAM widening in an update or replacement of any policy document (documents.rego): whole statements
# are compared, so that a new principal, action or resource, a new combination of them, a lost or
# loosened condition, or a removed Deny is found, whichever field changed. "" and null before mean no
# statements: a policy added where there was none is compared with nothing. A reordered or narrowed policy
# passes.
# input: the plan JSON (terraform show -json plan).
package main

import rego.v1

policy_pairs contains [d.address, d.before, d.after] if {
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
old_grants[address] := grants(before) if some [address, before, _] in policy_pairs

new_grants[address] := grants(after) if some [address, _, after] in policy_pairs

old_principals[address] := {g[0] | some g in old_grants[address]} if some address in object.keys(old_grants)

old_actions[address] := {lower(g[1]) | some g in old_grants[address]} if some address in object.keys(old_grants)

old_resources[address] := {g[2] | some g in old_grants[address]} if some address in object.keys(old_grants)

uncovered contains [address, g] if {
	some address in object.keys(new_grants)
	some g in new_grants[address]
	not covered(g, old_grants[address])
}

# Why a grant is new: each field it brings, or else the combination, or else the conditions it lost.
widening contains [address, reason] if {
	some [address, g] in uncovered
	not lower(g[1]) in old_actions[address]
	reason := sprintf("new allowed action %s", [g[1]])
}

widening contains [address, reason] if {
	some [address, g] in uncovered
	not lower(g[1]) in old_actions[address]
	contains(g[1], "*")
	reason := sprintf("wildcard in action %s", [g[1]])
}

widening contains [address, reason] if {
	some [address, g] in uncovered
	not g[2] in old_resources[address]
	reason := sprintf("new allowed resource %s", [g[2]])
}

widening contains [address, reason] if {
	some [address, g] in uncovered
	not g[2] in old_resources[address]
	contains(g[2], "*")
	reason := sprintf("wildcard in resource %s", [g[2]])
}

widening contains [address, reason] if {
	some [address, g] in uncovered
	not g[0] in old_principals[address]
	reason := sprintf("new allowed principal %s", [g[0]])
}

# Each field was allowed before, but never together.
widening contains [address, reason] if {
	some [address, g] in uncovered
	lower(g[1]) in old_actions[address]
	g[2] in old_resources[address]
	g[0] in old_principals[address]
	not same_grant_before(g, old_grants[address])
	reason := sprintf("statement %s newly allows %s on %s to %s", [g[4], g[1], g[2], g[0]])
}

same_grant_before(g, old) if {
	some o in old
	o[0] == g[0]
	lower(o[1]) == lower(g[1])
	o[2] == g[2]
}

# The same grant existed, under conditions the new statement drops or loosens.
widening contains [address, reason] if {
	some [address, g] in uncovered
	some o in old_grants[address]
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

widening contains [address, reason] if {
	some [address, before, after] in policy_pairs
	some i, old in statements(before)
	object.get(old, "Effect", "") == "Deny"
	not normalized(old) in {normalized(s) | some s in statements(after)}
	reason := sprintf("Deny statement %s removed or changed", [label(old, i)])
}

deny contains msg if {
	some [address, reason] in widening
	msg := sprintf("%s: IAM widening: %s", [address, reason])
}
