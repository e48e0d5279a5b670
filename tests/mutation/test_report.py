"""The mutation report: statuses from mutmut's exit codes, per-file score, equivalents left out and kept honest."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.mutation import report


def write_meta(mutants: Path, source: str, exit_codes: dict[str, int | None]) -> None:
    meta = mutants / f"{source}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": exit_codes, "durations_by_key": {},
                                "estimated_durations_by_key": {}}))


@pytest.fixture
def mutants(tmp_path: Path) -> Path:
    # mutmut's exit codes: 1 killed, 0 survived, 36 / -24 timeout, 33 no tests, None not checked yet.
    write_meta(tmp_path, "pkg/a.py", {"pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 0,
                                      "pkg.a.x_f__mutmut_3": 36, "pkg.a.x_f__mutmut_4": 0})
    write_meta(tmp_path, "pkg/b.py", {"pkg.b.x_g__mutmut_1": 33, "pkg.b.x_g__mutmut_2": -24,
                                      "pkg.b.x_g__mutmut_3": None})
    write_meta(tmp_path, "pkg/empty.py", {})
    return tmp_path


def test_counts_each_file_by_mutmut_status_and_marks_listed_survivors_equivalent(mutants: Path) -> None:
    by_file = report.counts_by_file(mutants, {"pkg.a.x_f__mutmut_4", "pkg.a.x_f__mutmut_1"})
    assert by_file == {
        "pkg/a.py": Counter({"killed": 2, "timeout": 1, "equivalent": 1}) - Counter({"killed": 1})
        + Counter({"survived": 1}),
        "pkg/b.py": Counter({"no tests": 1, "timeout": 1, "other": 1}),
    }


@pytest.mark.parametrize(("counts", "expected"), [
    (Counter({"killed": 9, "survived": 1}), 90.0),
    (Counter({"killed": 8, "timeout": 1, "survived": 1, "equivalent": 5}), 90.0),
    (Counter({"killed": 1, "no tests": 1}), 50.0),
    (Counter({"equivalent": 2}), 100.0),
    (Counter(), 100.0),
])
def test_score_counts_timeouts_as_killed_and_leaves_equivalents_out(counts: Counter, expected: float) -> None:
    assert report.score(counts) == expected


def test_listed_equivalent_that_no_longer_survives_is_stale(mutants: Path) -> None:
    assert report.stale_equivalents(mutants, {"pkg.a.x_f__mutmut_2", "pkg.a.x_f__mutmut_1", "gone__mutmut_1"}) == [
        "gone__mutmut_1", "pkg.a.x_f__mutmut_1"]


def test_equivalents_are_read_from_list_lines_only(tmp_path: Path) -> None:
    listing = tmp_path / "eq.md"
    listing.write_text("# Equivalent\n\nsee `not.this__mutmut_1`\n- `pkg.a.x_f__mutmut_2`: same output\n")
    assert report.equivalent_mutants(listing) == {"pkg.a.x_f__mutmut_2"}


def test_the_shipped_equivalents_file_parses() -> None:
    assert all("__mutmut_" in name for name in report.equivalent_mutants())


def test_command_prints_a_table_and_fails_under_the_threshold(mutants: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(report, "equivalent_mutants", lambda: {"pkg.a.x_f__mutmut_4"})
    assert report.main(["--mutants", str(mutants)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "| file | killed | survived | timeout | no tests | equivalent | other | score |"
    assert out[2:] == ["| `pkg/a.py` | 1 | 1 | 1 | 0 | 1 | 0 | 66.7 % |",
                       "| `pkg/b.py` | 0 | 0 | 1 | 1 | 0 | 1 | 33.3 % |",
                       "| total | 1 | 1 | 2 | 1 | 1 | 1 | 50.0 % |"]
    assert report.main(["--mutants", str(mutants), "--fail-under", "50"]) == 1
    assert "below 50 %: ['pkg/b.py 33.3 %']" in capsys.readouterr().out
    assert report.main(["--mutants", str(mutants), "--fail-under", "33.3"]) == 0


def test_command_fails_on_a_stale_equivalent(mutants: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(report, "equivalent_mutants", lambda: {"pkg.a.x_f__mutmut_1"})
    assert report.main(["--mutants", str(mutants)]) == 1
    assert "not surviving (remove them from equivalent_mutants.md): ['pkg.a.x_f__mutmut_1']" in (
        capsys.readouterr().out)


def test_command_without_results_says_what_to_run(tmp_path: Path, capsys) -> None:
    assert report.main(["--mutants", str(tmp_path / "none")]) == 1
    assert "run `make mutation`" in capsys.readouterr().out
