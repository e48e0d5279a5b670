"""Lambda's log levels for the settings' Python level names.

With JSON logs, Lambda filters the function's records at ``application_log_level`` and its own at
``system_log_level``, and sets ``AWS_LAMBDA_LOG_LEVEL``, which Powertools prefers to
``POWERTOOLS_LOG_LEVEL``; so the setting must reach ``logging_config`` to have any effect on AWS.
Lambda names the levels its own way and offers fewer system ones:
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
"""

from __future__ import annotations

from dataclasses import dataclass

APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
# Python's level names that Lambda spells differently.
_LAMBDA_SPELLING = {"WARNING": "WARN", "CRITICAL": "FATAL"}


@dataclass(frozen=True)
class LambdaLogLevels:
    """The two levels of a function's ``logging_config``."""

    application: str
    system: str


def lambda_log_levels(level: str) -> LambdaLogLevels:
    """Lambda's application and system levels for a Python level name (DEBUG, INFO, WARNING, ERROR...).

    The system level is the same one where Lambda has it, else its highest (WARN): an ERROR setting
    still shows Lambda's own warnings, such as timeouts.
    """
    application = _LAMBDA_SPELLING.get(level, level)
    if application not in APPLICATION_LOG_LEVELS:
        raise ValueError(f"log level {level!r} has no Lambda equivalent: use one of DEBUG, INFO, WARNING, ERROR")
    system = application if application in SYSTEM_LOG_LEVELS else "DEBUG" if application == "TRACE" else "WARN"
    return LambdaLogLevels(application=application, system=system)
