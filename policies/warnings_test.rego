# A warn and a quiet case for each rule of warnings.rego (format: fixtures_test.rego).
package main

import rego.v1

case_a_memory_change_warns := {
	"input": fixture_plan([fixture_change("aws_lambda_function", ["update"], {"memory_size": 128}, {"memory_size": 512})]),
	"warns": ["aws_lambda_function.x: memory_size changes from 128 to 512"],
	"denies_nothing": true,
}

test_a_memory_change_warns if fixture_passes(case_a_memory_change_warns)

case_an_unwatched_change_is_quiet := {
	"input": fixture_plan([fixture_change("aws_lambda_function", ["update"], {"memory_size": 128, "description": "a"}, {"memory_size": 128, "description": "b"})]),
	"warns_nothing": true,
}

test_an_unwatched_change_is_quiet if fixture_passes(case_an_unwatched_change_is_quiet)

case_a_replacement_warns := {
	"input": fixture_plan([fixture_change("aws_lambda_alias", ["delete", "create"], {}, {})]),
	"warns": ["aws_lambda_alias.x: will be replaced (destroyed and created again)"],
}

test_a_replacement_warns if fixture_passes(case_a_replacement_warns)

case_an_update_in_place_does_not_warn_of_replacement := {
	"input": fixture_plan([fixture_change("aws_lambda_alias", ["update"], {}, {})]),
	"warns_nothing": true,
}

test_an_update_in_place_does_not_warn_of_replacement if fixture_passes(case_an_update_in_place_does_not_warn_of_replacement)
