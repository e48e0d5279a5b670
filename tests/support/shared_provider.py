"""terraform-provider-aws processes kept running and shared by the tests' offline plans, shows and validations.

Terraform starts the provider anew for every run: three processes in a ``plan``, one in a ``show``, and
each spends about a CPU second starting (the Go initialization of a binary that serves every AWS service)
before it answers. The tests plan and validate the same stacks dozens of times, so they keep one provider
process running and point ``plan``, ``show`` and ``validate`` at it with ``TF_REATTACH_PROVIDERS``, which
Terraform documents for a provider started with ``-debug``
(https://developer.hashicorp.com/terraform/plugin/debugging#running-terraform-with-a-provider-in-debug-mode).
An offline plan + show of ``prod``: 5.4 CPU s with the provider started by Terraform, 3.3 with a shared one;
``terraform validate`` of ``dev``: 2.8-3.1 -> 1.4-1.5 (docs/performance.md). Each process runs behind a schema
proxy (tests/support/schema_proxy.py) that gives each run the schemas of only the AWS types it can touch: a
``show`` of ``prod`` then costs 0.18 CPU s instead of 1.3, a ``validate`` 0.3 instead of 1.4.

What stays as users run it: ``terraform init`` installs the provider from the mirror and writes the lock file
that the plan records and ``apply`` checks (under :meth:`SharedProviders.in_make_plan`, once per set of
settings: tests/support/shared_init.py); ``apply`` and every run not given
:meth:`SharedProviders.run_terraform` start their own provider.

Each process is started with the environment the run would have given the provider (the project's
Terraform environment and the run's own variables, its endpoints among them), serves only runs with that
environment, and only the runs of one thread, one at a time: a process holds one provider configuration,
which each run sets again. ``AWS_CA_BUNDLE`` is left out of its environment: the provider adds the bundle's
roots to its HTTP client at every configuration, and the second configuration in one process fails
("unable to add custom RootCAs HTTPClient, has no WithTransportOptions"); the offline runs' endpoints are
plain-HTTP stand-ins, and Go reads the system's roots without it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from tests.support.debug_provider import NoAttachLine, attach_config
from tests.support.schema_trim import types_a_run_may_touch, write_wanted
from tests.support.shared_init import shared_inits
from tools.child_process import die_with_parent
from tools.terraform_cli import PROJECT_ROOT, run_terraform, terraform_env

REATTACH_VARIABLE = "TF_REATTACH_PROVIDERS"
PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
#: The runs that use a shared provider; the others start their own.
SHARED_BY = frozenset({"plan", "show", "validate"})
#: What the provider's environment leaves out (see the module's docstring), and what does not make two
#: environments different (pytest names the current test in its own variable).
LEFT_OUT = frozenset({"AWS_CA_BUNDLE", REATTACH_VARIABLE})
IGNORED = LEFT_OUT | {"PYTEST_CURRENT_TEST"}


class SharedProviderError(RuntimeError):
    """A shared provider could not be found or started; the message says which and what it printed."""


def provider_binary(workdir: Path) -> Path:
    """The AWS provider ``terraform init`` installed for ``workdir`` (a link into the mirror or a download)."""
    found = sorted((workdir / ".terraform" / "providers" / PROVIDER_ADDRESS).glob("*/*/terraform-provider-aws*"))
    if not found:
        raise SharedProviderError(f"no AWS provider under {workdir}/.terraform/providers: run terraform init there "
                                  "first (the shared provider is the one init installed)")
    return found[-1].resolve()


@dataclass
class ProviderProcess:
    """One provider started with ``-debug`` behind a schema proxy (tests/support/schema_proxy.py), the
    ``TF_REATTACH_PROVIDERS`` value that attaches to the proxy, and the file that tells the proxy which types
    the next run may touch."""

    process: subprocess.Popen[str]
    reattach: str
    wanted_file: Path

    @classmethod
    def start(cls, binary: Path, env: Mapping[str, str]) -> ProviderProcess:
        wanted_file = Path(tempfile.mkdtemp(prefix="tap-schema-wanted-")) / "wanted.json"
        write_wanted(wanted_file, None)
        process = subprocess.Popen([sys.executable, "-m", "tests.support.schema_proxy", str(binary),
                                    str(wanted_file)], cwd=PROJECT_ROOT, env=dict(env), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, preexec_fn=die_with_parent)
        try:
            attach = attach_config(process)
        except NoAttachLine as error:
            process.kill()
            raise SharedProviderError(f"{binary} -debug behind the schema proxy {error}") from None
        if PROVIDER_ADDRESS not in attach:
            process.kill()
            raise SharedProviderError(f"{binary} -debug offered {sorted(attach)}, not {PROVIDER_ADDRESS}")
        return cls(process, json.dumps(attach), wanted_file)

    def expect(self, wanted: frozenset[str] | None) -> None:
        """The next run may touch the types in ``wanted`` (None: any)."""
        write_wanted(self.wanted_file, wanted)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.wanted_file.parent, ignore_errors=True)


def environment_key(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """What tells two provider environments apart."""
    return tuple(sorted((name, value) for name, value in env.items() if name not in IGNORED))


@dataclass
class SharedProviders:
    """The provider processes of this pytest worker, by binary, environment and thread."""

    started: dict[tuple[Any, ...], ProviderProcess] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reattach(self, workdir: Path, extra_env: Mapping[str, str]) -> str:
        """The ``TF_REATTACH_PROVIDERS`` value of the process for a run in ``workdir`` with ``extra_env``."""
        return self.provider(workdir, extra_env).reattach

    def provider(self, workdir: Path, extra_env: Mapping[str, str]) -> ProviderProcess:
        """The process for a run in ``workdir`` with ``extra_env``, started if there is none yet."""
        binary = provider_binary(workdir)
        env = {name: value for name, value in terraform_env().items() if name not in LEFT_OUT}
        env.update(extra_env)
        key = (binary, environment_key(env), threading.get_ident())
        with self._lock:
            provider = self.started.get(key)
            if provider is None or provider.process.poll() is not None:
                provider = self.started[key] = ProviderProcess.start(binary, env)
        return provider

    def run_terraform(self, args: Sequence[str], cwd: Path | str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """:func:`tools.terraform_cli.run_terraform`, with ``plan``, ``show`` and ``validate`` on a shared
        provider."""
        if args and args[0] in SHARED_BY:
            extra = dict(kwargs.get("extra_env") or {})
            provider = self.provider(Path(cwd), extra)
            provider.expect(types_a_run_may_touch(args, Path(cwd)))
            kwargs["extra_env"] = {**extra, REATTACH_VARIABLE: provider.reattach}
        return run_terraform(args, cwd, **kwargs)

    @contextlib.contextmanager
    def in_make_plan(self) -> Iterator[None]:
        """``tools.plans.plan.make_plan`` runs its plan and show on a shared provider meanwhile, and its init
        once per set of Terraform settings (tests/support/shared_init.py)."""
        from tools.plans import plan

        def run(args: Sequence[str], cwd: Path | str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
            if args and args[0] == "init":
                return shared_inits().init(args, cwd, **kwargs)
            return self.run_terraform(args, cwd, **kwargs)

        with mock.patch.object(plan, "run_terraform", run):
            yield

    def close(self) -> None:
        with self._lock:
            for provider in self.started.values():
                provider.stop()
            self.started.clear()

    def pids(self) -> set[int]:
        return {provider.process.pid for provider in self.started.values() if provider.process.poll() is None}


@functools.cache
def shared_providers() -> SharedProviders:
    """This process's providers, stopped when it exits (and, failing that, by the kernel: tools/child_process.py)."""
    providers = SharedProviders()
    atexit.register(providers.close)
    return providers
