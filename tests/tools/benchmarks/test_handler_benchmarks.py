"""bench-coldstart and bench-throughput: budgets and ratios from the runs, the PutItem comparison, bad
arguments, and one short run of each against the emulator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tools.benchmarks import coldstart, throughput
from tools.benchmarks.memory import stage_bodies
from tools.benchmarks.pipeline_env import BenchmarkError
from tools.records_table import create_records_table

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("import_ms", "first_ms", "within"),
    [(150.0, 400.0, (True, True)), (150.1, 400.0, (False, True)), (150.0, 400.1, (True, False))],
)
def test_coldstart_budgets_apply_to_the_medians(import_ms: float, first_ms: float, within: tuple) -> None:
    # One run far over each budget: only the median counts.
    figures = {"import_ms": [import_ms, 10.0, 900.0], "first_invocation_ms": [first_ms, 20.0, 2000.0],
               "call_ms": [1.0, 2.0, 3.0], "import_cpu_ms": [1.0, 1.0, 1.0], "first_invocation_cpu_ms": [2.0, 2.0, 2.0]}

    result = coldstart.summarize(figures)

    assert (result["import_ms_median"], result["first_invocation_ms_median"]) == (import_ms, first_ms)
    assert (result["import_within_budget"], result["first_invocation_within_budget"]) == within


def test_throughput_ratio_is_of_the_medians() -> None:
    raw = {
        "rounds": [
            {"batched_records_per_s": 300.0, "put_item_records_per_s": 100.0, "validator_cpu_ms_per_record": 1.0},
            {"batched_records_per_s": 200.0, "put_item_records_per_s": 80.0, "validator_cpu_ms_per_record": 3.0},
            {"batched_records_per_s": 900.0, "put_item_records_per_s": 50.0, "validator_cpu_ms_per_record": 2.0},
        ],
        "records_per_round": 30,
        "items_in_table": 30,
    }

    result = throughput.summarize(raw)

    assert result["medians"]["validator_cpu_ms_per_record"] == 2.0
    assert result["batched_vs_put_item_ratio"] == pytest.approx(300.0 / 80.0), "median 300 over median 80"


def test_throughput_refuses_a_table_missing_records() -> None:
    raw = {"rounds": [{"batched_records_per_s": 1.0, "put_item_records_per_s": 1.0}],
           "records_per_round": 30, "items_in_table": 29}

    with pytest.raises(BenchmarkError, match="holds 29 items after writing 30"):
        throughput.summarize(raw)


def test_put_each_stores_every_record_with_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bodies = stage_bodies("processor", 3)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_records_table(dynamodb, "bench")
        requests: list[str] = []
        dynamodb.meta.events.register("before-call", lambda model, **_: requests.append(model.name))

        throughput.put_each(dynamodb, "bench", bodies)
        assert requests == ["PutItem"] * 3, "one PutItem per record"

        items = dynamodb.scan(TableName="bench")["Items"]
    expected = sorted((json.loads(b)["id"], str(json.loads(b)["timestamp"])) for b in bodies)
    assert sorted((item["id"]["S"], item["timestamp"]["N"]) for item in items) == expected


def test_coldstart_refuses_a_root_without_handlers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        coldstart.main(["--root", str(tmp_path)])

    assert exit_info.value.code == 2
    assert "no handlers/ directory there" in capsys.readouterr().err


@pytest.mark.parametrize("module", [coldstart, throughput])
def test_benchmarks_refuse_zero_runs(module, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit):
        module.main(["--runs", "0"])

    assert "must be at least 1" in capsys.readouterr().err


def test_one_short_run_of_each_against_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    cold = coldstart.measure(["processor"], 1, PROJECT_ROOT)["processor"]
    assert 0 < cold["import_ms_median"] < cold["first_invocation_ms_median"], "the first call adds to the import"

    parser = argparse.ArgumentParser()
    throughput.configure(parser)
    assert throughput.run(parser, parser.parse_args(["--runs", "1", "--batches", "1", "--format", "json"])) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["items_in_table"] == result["records_per_round"] == 10
    assert result["medians"]["batched_records_per_s"] > 0 and result["medians"]["enricher_cpu_ms_per_record"] > 0
