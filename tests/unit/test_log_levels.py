"""The settings' Python log level names as Lambda's application and system levels."""

from __future__ import annotations

import pytest

from modules.log_levels import LambdaLogLevels, lambda_log_levels


@pytest.mark.parametrize(("level", "application", "system"), [
    ("DEBUG", "DEBUG", "DEBUG"),
    ("INFO", "INFO", "INFO"),
    # Lambda spells it WARN, and rejects WARNING.
    ("WARNING", "WARN", "WARN"),
    # Lambda has no ERROR system level: its highest, WARN, keeps its own timeout warnings.
    ("ERROR", "ERROR", "WARN"),
])
def test_each_settings_level_maps_to_lambdas_names(level: str, application: str, system: str) -> None:
    assert lambda_log_levels(level) == LambdaLogLevels(application=application, system=system)


def test_a_level_lambda_does_not_know_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="'LOUD' has no Lambda equivalent: use one of DEBUG, INFO, WARNING, ERROR"):
        lambda_log_levels("LOUD")
