# fixture_passes for OPA's test runner (opa test, conftest verify): whether the policies decide a case
# (fixtures_test.rego) as it expects. Alone in its file because regopy cannot compile `with` over the
# policies' rules: tests/tools/plans/test_rego_unit.py does not give this file to regopy.
package main

import rego.v1

fixture_passes(case) if {
	deny_messages := deny with input as case.input
	warn_messages := warn with input as case.input
	fixture_holds(case, deny_messages, warn_messages)
}
