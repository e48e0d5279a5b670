"""The provider processes the tests' offline plans share (tests/support/shared_provider.py): the same plans,
one process per environment and thread, nothing left running."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import shared_provider
from tests.support.debug_provider import NoAttachLine, attach_config
from tests.support.shared_provider import REATTACH_VARIABLE, SharedProviderError, SharedProviders
from tools.plans.layout import PROJECT_ROOT, PlanFolder, terraform_variables
from tools.plans.plan import make_plan

pytestmark = pytest.mark.integration

#: What differs between two plans of the same configuration and state, whoever made them.
WHEN_MADE = "timestamp"


def comparable(plan: dict) -> dict:
    """The plan without its time, and ``relevant_attributes`` (which Terraform lists in no fixed order) sorted."""
    kept = {key: value for key, value in plan.items() if key != WHEN_MADE}
    kept["relevant_attributes"] = sorted(json.dumps(a, sort_keys=True) for a in plan["relevant_attributes"])
    return kept


def plan_args(out: str) -> list[str]:
    return ["plan", "-input=false", "-no-color", "-refresh=false", f"-out={out}"]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_plan_on_a_shared_provider_is_the_plan_terraform_makes_with_a_provider_of_its_own(
        fresh_plan: tuple[PlanFolder, dict], prod_stack_dir: Path, tmp_path: Path, providers: SharedProviders) -> None:
    _, own = fresh_plan  # as `make plan` makes it (tests/tools/plans/conftest.py)
    with providers.in_make_plan():
        shared = make_plan(prod_stack_dir, PlanFolder.for_stack("tap-pipeline-prod", tmp_path), offline_mode=True)
    assert len(providers.pids()) == 1, "the plan did not run on a shared provider"
    assert comparable(shared) == comparable(own)
    assert shared["resource_changes"], "two empty plans would compare equal"


def test_plan_show_and_validate_run_on_the_shared_provider_and_init_on_its_own(
        fresh_plan: tuple[PlanFolder, dict], monkeypatch: pytest.MonkeyPatch, providers: SharedProviders) -> None:
    folder, _ = fresh_plan
    seen: list[tuple[str, dict]] = []
    monkeypatch.setattr(shared_provider, "run_terraform",
                        lambda args, cwd, **kw: seen.append((args[0], dict(kw.get("extra_env") or {}))))
    for command in ("init", "plan", "show", "apply", "validate"):
        providers.run_terraform([command], folder.workdir, extra_env={"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9"})
    reattached = {command for command, env in seen if REATTACH_VARIABLE in env}
    assert reattached == {"plan", "show", "validate"}
    assert all(env["AWS_ENDPOINT_URL_SSM"] == "http://127.0.0.1:9" for _, env in seen), "the run's own variables kept"


def test_one_process_serves_consecutive_runs_with_one_environment(fresh_plan: tuple[PlanFolder, dict],
                                                                   providers: SharedProviders) -> None:
    folder, _ = fresh_plan
    env = terraform_variables(folder.settings())
    first = providers.reattach(folder.workdir, env)
    for _ in range(2):
        shown = providers.run_terraform(["show", "-json", str(folder.plan_file)], folder.workdir, extra_env=env)
        assert json.loads(shown.stdout)["resource_changes"]
    assert providers.reattach(folder.workdir, env) == first
    assert len(providers.pids()) == 1


def test_other_endpoints_or_another_thread_get_a_process_of_their_own(fresh_plan: tuple[PlanFolder, dict],
                                                                       providers: SharedProviders) -> None:
    folder, _ = fresh_plan
    one = providers.reattach(folder.workdir, {"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:1"})
    other = providers.reattach(folder.workdir, {"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:2"})
    from_a_thread: list[str] = []
    thread = threading.Thread(target=lambda: from_a_thread.append(
        providers.reattach(folder.workdir, {"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:1"})))
    thread.start()
    thread.join()
    assert len({one, other, *from_a_thread}) == 3
    pid = json.loads(other)["registry.terraform.io/hashicorp/aws"]["Pid"]
    environ = dict(entry.split("=", 1) for entry in Path(f"/proc/{pid}/environ").read_text().split("\0") if entry)
    assert environ["AWS_ENDPOINT_URL_SSM"] == "http://127.0.0.1:2"
    assert REATTACH_VARIABLE not in environ
    providers.close()
    assert providers.pids() == set()


def test_a_ca_bundle_in_the_environment_does_not_break_the_second_configuration(
        fresh_plan: tuple[PlanFolder, dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        providers: SharedProviders) -> None:
    # Given to the provider, AWS_CA_BUNDLE fails its second configuration ("unable to add custom RootCAs").
    import certifi

    folder, _ = fresh_plan
    monkeypatch.setenv("AWS_CA_BUNDLE", certifi.where())
    env = terraform_variables(folder.settings())
    for round_ in range(2):
        result = providers.run_terraform(plan_args(str(tmp_path / f"{round_}.tfplan")), folder.workdir,
                                         check=False, extra_env=env)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert len(providers.pids()) == 1


def test_a_provider_ends_with_the_process_that_started_it(fresh_plan: tuple[PlanFolder, dict]) -> None:
    folder, _ = fresh_plan
    child = """
import json, sys
from tests.support.shared_provider import SharedProviders
from pathlib import Path
proxy = json.loads(SharedProviders().reattach(Path(sys.argv[1]), {}))["registry.terraform.io/hashicorp/aws"]["Pid"]
print(proxy, Path(f"/proc/{proxy}/task/{proxy}/children").read_text())
"""
    # No close(), no atexit: the child leaves as a crashed worker would.
    started = subprocess.run([sys.executable, "-c", child + "import os; os._exit(0)", str(folder.workdir)],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True)
    proxy, *behind = map(int, started.stdout.split())
    assert len(behind) == 1, "the schema proxy runs the provider as its one child"
    deadline = time.monotonic() + 30
    while (alive(proxy) or alive(behind[0])) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(proxy), f"schema proxy {proxy} outlived the process that started it"
    assert not alive(behind[0]), f"provider {behind[0]} outlived the schema proxy that started it"


def test_a_folder_terraform_init_never_ran_in_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SharedProviderError, match=r"no AWS provider under .*: run terraform init there first"):
        SharedProviders().reattach(tmp_path, {})



def printing(text: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", f"print({text!r}, flush=True)"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_the_attach_line_a_debug_provider_prints_is_read_as_its_configuration() -> None:
    process = printing("starting\nTF_REATTACH_PROVIDERS='{\"p\": {\"Pid\": 7}}'\n")
    assert attach_config(process, timeout_s=30) == {"p": {"Pid": 7}}
    process.wait()


def test_a_process_that_ends_without_an_attach_line_is_an_error_naming_what_it_printed() -> None:
    process = printing("Error: the plugin failed to start")
    with pytest.raises(NoAttachLine, match=r"printed no TF_REATTACH_PROVIDERS within 30 s \(exit code 0\):\n"
                                           r"Error: the plugin failed to start"):
        attach_config(process, timeout_s=30)
