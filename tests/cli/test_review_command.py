"""``bonafides review ...`` and ``bonafides subjects merge|split`` as operators type them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bonafides.catalogue import load_catalogue
from bonafides.cli import app
from bonafides.matching.store import forget_indexes
from tests import factories
from tests.cli.test_commands import env
from tests.ingest.test_service import write_csv

__all__ = ["env"]

runner = CliRunner()


def _ingest(env: str, path: Path) -> None:
    args = ["ingest", str(path), "--type", "market.penalty", "--source", "samr", "--db", env]
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output


def test_review_list_show_and_judge(env: str, tmp_path: Path) -> None:
    forget_indexes()
    rtype = load_catalogue().type("market.penalty")
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    _ingest(env, write_csv(tmp_path / "known.csv", [factories.content_row(rtype, huaxin)]))
    rows = []
    for name in ("北京华信科技集团有限公司", "华信有限公司"):
        row = factories.content_row(rtype, factories.org())
        row[rtype.content_field("uscc").column_zh] = ""
        row[rtype.content_field("subject_name").column_zh] = name
        rows.append(row)
    _ingest(env, write_csv(tmp_path / "names.csv", rows))

    listed = runner.invoke(app, ["review", "list", "--db", env])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("samr") == 2
    shown = runner.invoke(app, ["review", "show", "1", "--db", env])
    assert shown.exit_code == 0, shown.output
    item = json.loads(shown.output)
    assert item["candidates"][0]["code"] == huaxin.code
    assert item["candidates"][0]["explanation"]

    accepted = runner.invoke(
        app, ["review", "accept", "1", huaxin.code, "--reason", "同一主体", "--db", env]
    )
    assert accepted.exit_code == 0, accepted.output
    assert "accepted, record" in accepted.output
    again = runner.invoke(
        app, ["review", "accept", "1", huaxin.code, "--reason", "同一主体", "--db", env]
    )
    assert again.exit_code == 2
    assert "already judged" in again.output

    rejected = runner.invoke(
        app, ["review", "reject", "2", huaxin.code, "--reason", "另一家", "--db", env]
    )
    assert rejected.exit_code == 0, rejected.output
    assert "0 candidate(s) left, rejected" in rejected.output
    unsure = runner.invoke(app, ["review", "unsure", "2", "--reason", "再看看", "--db", env])
    assert unsure.exit_code == 2
    missing = runner.invoke(app, ["review", "show", "99", "--db", env])
    assert missing.exit_code == 2
    assert "no review item 99" in missing.output
    assert "samr" not in runner.invoke(app, ["review", "list", "--db", env]).output
    everything = runner.invoke(app, ["review", "list", "--status", "all", "--db", env])
    assert everything.output.count("samr") == 2


def test_subjects_merge_and_split(env: str, tmp_path: Path) -> None:
    rtype = load_catalogue().type("market.penalty")
    old, new = factories.org(), factories.org()
    rows = [factories.content_row(rtype, old), factories.content_row(rtype, new)]
    _ingest(env, write_csv(tmp_path / "two.csv", rows))
    merged = runner.invoke(
        app, ["subjects", "merge", old.code, new.code, "--reason", "吸收合并", "--db", env]
    )
    assert merged.exit_code == 0, merged.output
    assert "1 record(s)" in merged.output
    subject = runner.invoke(app, ["subject", old.code, "--db", env])
    assert subject.exit_code == 0, subject.output
    split = runner.invoke(app, ["subjects", "split", old.code, "--reason", "撤销合并", "--db", env])
    assert split.exit_code == 0, split.output
    assert "1 record(s) back" in split.output
    twice = runner.invoke(app, ["subjects", "split", old.code, "--reason", "撤销合并", "--db", env])
    assert twice.exit_code == 2
    unknown = runner.invoke(
        app, ["subjects", "merge", "91110000000000000X", new.code, "--reason", "无", "--db", env]
    )
    assert unknown.exit_code == 2
