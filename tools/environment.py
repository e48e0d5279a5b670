"""The environment an operator command acts on: its settings, and on `local` the emulator's endpoint."""

from __future__ import annotations

import os
from typing import Any


def read_environment(env_name: str) -> tuple[Any, str | None]:
    """The settings of ``env_name`` (a declared environment or a preview suffix) and, when it runs on the
    emulator, the endpoint of the running local session (else None); SettingsError names what is wrong.

    Read for names, regions and switches only: the example account and subscriber satisfy the validation
    where the environment names none.
    """
    from main import environments_file
    from modules.environments_file import with_account_for_reading

    env = with_account_for_reading(os.environ)
    environments = environments_file(env)
    settings = (environments.environment(env_name, env) if env_name in environments.names
                else environments.preview(env_name, env))
    endpoint = None
    if settings.emulator:
        from tools.local.session import Session

        endpoint = Session.load().endpoint
    return settings, endpoint
