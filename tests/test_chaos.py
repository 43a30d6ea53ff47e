"""The kill campaign (scripts/chaos.py), short: a few SIGKILLs per operation on each store.

``make chaos`` runs the long campaign; this run proves the script works end to end and
that none of the few kills loses, duplicates or leaves anything behind. The comparison
the campaign rests on is tested on its own, so a campaign that could not see a loss
would fail here.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "chaos.py"


def _chaos() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chaos", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("chaos", module)
    spec.loader.exec_module(module)
    return module


def test_compare_counts_lost_and_duplicated_rows() -> None:
    chaos = _chaos()
    expected = {"records": Counter({("samr", "A-1"): 1, ("samr", "A-2"): 1, ("samr", "A-3"): 1})}
    got = {"records": Counter({("samr", "A-1"): 2, ("samr", "A-3"): 1, ("samr", "B-9"): 1})}
    checked, lost, duplicated, problems = chaos.compare(expected, got)
    assert (checked, lost, duplicated) == (3, 1, 2)
    assert problems == [
        "records: 1 missing, 2 extra, e.g. [('samr', 'A-2'), ('samr', 'A-1'), ('samr', 'B-9')]"
    ]
    assert chaos.compare(expected, expected)[1:] == (0, 0, [])


def test_a_debris_file_is_not_a_row_but_is_counted_apart() -> None:
    chaos = _chaos()
    expected = {"lines": Counter({("1", "clear"): 1}), chaos.DEBRIS: Counter()}
    got = {"lines": Counter({("1", "clear"): 1}), chaos.DEBRIS: Counter({(".out.csv.x1",): 1})}
    assert chaos.compare(expected, got) == (1, 0, 0, [])


def test_a_forked_command_exits_and_prints_as_the_cli_does(tmp_path: Path) -> None:
    chaos = _chaos()
    runner = chaos.Runner(chaos.SqliteStore(tmp_path), tmp_path / "var")
    code, _seconds, printed, _said = runner.output(["catalogue", "--format", "json"])
    assert code == 0
    assert "types" in json.loads(printed)
    with pytest.raises(RuntimeError, match="exited 2"):
        runner.output(["catalogue", "--format", "no-such-format"])


SIXTH, SEVENTH = dt.date(2026, 12, 6), dt.date(2026, 12, 7)


def _one_trial(tmp_path: Path, days: list[dt.date], ran_on: list[dt.date]) -> Any:
    """The trials of an operation whose result is the office day it ran on (as an
    export's snapshot names are), its reference taken on ``days[0]``; then one trial
    after ``ran_on`` moves to the seventh. ``days`` are what the campaign's clock says,
    call by call."""
    chaos = _chaos()
    store = chaos.SqliteStore(tmp_path)
    # New interpreters, not forks: this test may share a worker with a Spark gateway.
    runner = chaos.Runner(store, tmp_path / "var", spawn=True)
    store.fresh()
    runner.run(["init"])
    runner.today = lambda: days.pop(0) if len(days) > 1 else days[0]
    op = chaos.Operation(
        "catalogue",
        ["catalogue", "--format", "json"],
        (0,),
        lambda: {"day": Counter({(ran_on[0].isoformat(),): 1})},
    )
    store.save("start")
    trials = chaos.Trials.reference(store, runner, op, "start", lambda _: None)
    ran_on[0] = SEVENTH
    trials.trial(store, runner, 0, random.Random(1), lambda _: None)
    return trials.tally


def test_a_trial_on_the_next_office_day_is_compared_with_a_reference_of_that_day(
    tmp_path: Path,
) -> None:
    """A campaign running past the office's midnight: yesterday's reference would count
    every snapshot name and entry of the new day as lost and duplicated."""
    tally = _one_trial(tmp_path, [SIXTH, SEVENTH], [SIXTH])
    assert tally.ok, tally.problems
    assert (tally.checked, tally.lost, tally.duplicated) == (1, 0, 0)


def test_a_trial_the_office_midnight_falls_inside_is_not_counted(tmp_path: Path) -> None:
    tally = _one_trial(tmp_path, [SIXTH, SIXTH, SEVENTH], [SIXTH])
    assert tally.ok, tally.problems
    assert (tally.checked, tally.kills, tally.finished_first) == (0, 0, 0)


@pytest.mark.slow
@pytest.mark.timeout(900)  # some forty bonafides commands, forked, and one served peer
@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_short_campaign_loses_and_duplicates_nothing(
    store: str,
    tmp_path: Path,
    pg_admin_url: str | None,
) -> None:
    if store == "postgresql" and pg_admin_url is None:
        pytest.skip("PostgreSQL is not running here (scripts/postgres.sh starts it)")
    chaos = _chaos()
    # One kill per operation keeps make test short; make chaos runs a hundred.
    args = ["--kills", "1", "--store", store, "--subjects", "30", "--work", str(tmp_path)]
    args += ["--seed", "7", "--pg-admin", pg_admin_url or chaos.PG_ADMIN]
    # In a process of its own: the campaign forks its commands, and a fork of a test
    # worker that runs other threads (a Spark gateway, a live server) can hang for ever
    # on a lock one of them held.
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )
    printed = done.stdout
    assert done.returncode == 0, printed + done.stderr[-3000:]
    table = [line.split("|") for line in printed.splitlines() if "|" in line]
    rows = [row for row in table if row[0].strip() == store]
    assert [row[1].strip() for row in rows] == [
        "register load",
        "ingest",
        "lists recompute",
        "screen",
        "export",
        "sync",
    ]
    for row in rows:
        kills, finished_first, reruns = int(row[3]), int(row[6]), int(row[7])
        assert kills + finished_first == 1, printed
        assert reruns == kills, printed
        assert int(row[8].replace(",", "")) > 0, "no row was checked"
