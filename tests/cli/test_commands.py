"""The CLI as users type it: exit codes 0 / 1 / 2 and what each command prints."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from rich.console import Console
from typer.testing import CliRunner

from bonafides.catalogue import catalogue_table, load_catalogue
from bonafides.cli import app
from bonafides.rules.loader import load_rules
from bonafides.settings import get_settings
from tests import factories

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", "cli-test-secret-123456")
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    result = runner.invoke(app, ["init", "--db", db_url])
    assert result.exit_code == 0, result.output
    yield db_url
    get_settings.cache_clear()


def _penalties(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_ingest_exit_codes_and_report(env: str, tmp_path: Path) -> None:
    rtype = load_catalogue().type("market.penalty")
    good = [factories.content_row(rtype, factories.org()) for _ in range(3)]
    path = _penalties(tmp_path / "ok.csv", good)
    args = ["ingest", str(path), "--type", "market.penalty", "--source", "samr", "--db", env]
    assert runner.invoke(app, args).exit_code == 0

    bad = factories.content_row(rtype, factories.org())
    bad[rtype.content_field("decision_date").column_zh] = "2021-02-30"
    mixed = _penalties(tmp_path / "mixed.csv", [*good, bad])
    report = tmp_path / "report.json"
    args = ["ingest", str(mixed), "--type", "market.penalty", "--source", "samr"]
    result = runner.invoke(app, [*args, "--db", env, "--report", str(report)])
    assert result.exit_code == 1, result.output
    body = json.loads(report.read_text("utf-8"))
    assert body["summary"]["unchanged"] == 3
    assert body["rejections"] == [
        {
            "row": 5,
            "field": "处罚决定日期",
            "value": "2021-02-30",
            "reason": "'2021-02-30' is not a real date",
        }
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "no.such", "--source", "samr"], "unknown record type"),
        (["--type", "market.penalty", "--source", "nobody"], "unknown department"),
        (["--type", "market.penalty", "--source", "sta"], "is not a source of"),
    ],
)
def test_ingest_unusable_arguments_exit_2(
    env: str, tmp_path: Path, args: list[str], message: str
) -> None:
    rtype = load_catalogue().type("market.penalty")
    path = _penalties(tmp_path / "p.csv", [factories.content_row(rtype, factories.org())])
    result = runner.invoke(app, ["ingest", str(path), *args, "--db", env])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_ingest_binary_file_exit_2(env: str, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(bytes(range(256)) * 8)
    result = runner.invoke(
        app, ["ingest", str(path), "--type", "market.penalty", "--source", "samr", "--db", env]
    )
    assert result.exit_code == 2
    assert "binary" in result.output


def test_subject_profile_and_bad_codes(env: str, tmp_path: Path) -> None:
    rtype = load_catalogue().type("market.penalty")
    who = factories.org(name="杭州示例科技有限公司")
    path = _penalties(tmp_path / "p.csv", [factories.content_row(rtype, who)])
    runner.invoke(
        app, ["ingest", str(path), "--type", "market.penalty", "--source", "samr", "--db", env]
    )
    shown = runner.invoke(app, ["subject", who.code, "--db", env, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    profile = json.loads(shown.output)
    assert profile["name"] == "杭州示例科技有限公司"
    assert list(profile["records_by_field"]) == ["market"]

    wrong_check = who.code[:-1] + ("1" if who.code[-1] == "0" else "0")
    invalid = runner.invoke(app, ["subject", wrong_check, "--db", env])
    assert invalid.exit_code == 2
    assert "invalid code" in invalid.output
    unknown = runner.invoke(app, ["subject", factories.org().code, "--db", env])
    assert unknown.exit_code == 2
    assert "unknown subject" in unknown.output


def test_revoke_and_audit_verify(env: str, tmp_path: Path) -> None:
    rtype = load_catalogue().type("market.penalty")
    row = factories.content_row(rtype, factories.org(), decision_no="京市监罚〔2025〕77号")
    path = _penalties(tmp_path / "p.csv", [row])
    runner.invoke(
        app, ["ingest", str(path), "--type", "market.penalty", "--source", "samr", "--db", env]
    )
    revoked = runner.invoke(
        app,
        [
            "revoke",
            "--source",
            "samr",
            "--decision",
            "京市监罚〔2025〕77号",
            "--reason",
            "复议撤销",
            "--db",
            env,
        ],
    )
    assert revoked.exit_code == 0, revoked.output
    assert "now version 2" in revoked.output
    missing = runner.invoke(
        app, ["revoke", "--source", "samr", "--decision", "nope", "--reason", "x", "--db", env]
    )
    assert missing.exit_code == 2
    verified = runner.invoke(app, ["audit", "verify", "--db", env])
    assert verified.exit_code == 0
    assert "audit chain intact" in verified.output


def test_catalogue_json_is_the_machine_readable_document() -> None:
    result = runner.invoke(app, ["catalogue", "--format", "json"])
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["version"] == load_catalogue().version
    assert len(document["types"]) >= 40


def test_catalogue_says_which_lists_each_type_feeds_or_why_none() -> None:
    types = {
        t["code"]: t
        for t in json.loads(runner.invoke(app, ["catalogue", "--format", "json"]).output)["types"]
    }
    assert types["statistics.serious_dishonesty"]["lists"] == ["statistics.serious_dishonesty"]
    assert types["market.penalty"]["lists"] == []
    assert "market.serious_violation_list" in types["market.penalty"]["no_list"]
    assert types["market.penalty"]["no_list_zh"]
    assert runner.invoke(app, ["catalogue"]).exit_code == 0
    console = Console(width=1000, record=True)
    cat = load_catalogue()
    console.print(catalogue_table(cat, load_rules(cat).lists_by_type))
    table = console.export_text()
    assert "lists fed" in table
    assert "no list: An administrative penalty" in table


def test_stats_delay_counts_working_days(env: str, tmp_path: Path) -> None:
    rtype = load_catalogue().type("market.penalty")
    rows = [factories.content_row(rtype, factories.org()) for _ in range(2)]
    path = _penalties(tmp_path / "p.csv", rows)
    runner.invoke(
        app, ["ingest", str(path), "--type", "market.penalty", "--source", "samr", "--db", env]
    )
    result = runner.invoke(app, ["stats", "delay", "--db", env])
    assert result.exit_code == 0, result.output
    assert "samr" in result.output


@pytest.fixture
def kept_logging() -> Iterator[None]:
    """``serve`` and ``worker`` put the platform's log handler on the platform's and
    uvicorn's loggers; the tests after these must find them as they were (pytest's log
    capture listens at the root, which those loggers would no longer reach)."""
    from bonafides.logs import HANDLED

    names = (*HANDLED, "uvicorn.error")
    saved = [
        (n, list(logging.getLogger(n).handlers), logging.getLogger(n).propagate) for n in names
    ]
    yield
    for name, handlers, propagate in saved:
        logging.getLogger(name).handlers = handlers
        logging.getLogger(name).propagate = propagate


@pytest.mark.usefixtures("kept_logging")
def test_serve_passes_the_trusted_proxies_to_the_app(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The option (or BONAFIDES_FORWARDED_ALLOW_IPS) reaches the app's workers through
    their settings; uvicorn's own proxy handling stays off, so the app alone decides whom
    to believe. The server is stopped right before it would listen."""
    seen: list[tuple[uvicorn.Config, str | None]] = []

    def capture(self: uvicorn.Server, sockets: list[object] | None = None) -> None:
        seen.append((self.config, get_settings().forwarded_allow_ips))
        for sock in sockets or []:
            sock.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(uvicorn.Server, "run", capture)
    monkeypatch.setenv("BONAFIDES_DEMO", "1")
    monkeypatch.setenv("BONAFIDES_DB", env)
    monkeypatch.setenv("BONAFIDES_FORWARDED_ALLOW_IPS", "192.168.1.1")
    port = ["--port", "0"]
    try:
        get_settings.cache_clear()
        assert runner.invoke(app, ["serve", *port]).exit_code == 0
        args = ["serve", *port, "--forwarded-allow-ips", "10.0.0.5,10.0.0.6"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()
    (first, first_proxies), (second, second_proxies) = seen
    assert not first.proxy_headers
    assert not second.proxy_headers
    assert first_proxies == "192.168.1.1"
    assert second_proxies == "10.0.0.5,10.0.0.6"


@pytest.mark.usefixtures("kept_logging")
def test_worker_once_runs_each_job_and_lists_the_runs(env: str) -> None:
    result = runner.invoke(app, ["worker", "--once", "--db", env])
    assert result.exit_code == 0, result.output
    assert "workflows:escalate: ok" in result.output
    assert "audit:checkpoint: ok {'signed': 1}" in result.output
    again = runner.invoke(app, ["worker", "--once", "--db", env])
    assert again.exit_code == 0, again.output
    assert "audit:checkpoint: not due" in again.output, "one run per interval"
    listed = runner.invoke(app, ["jobs", "runs", "--db", env, "--job", "audit:checkpoint"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("signed 1") == 1, "one run, and its count"


def test_ingest_without_source_attributes_rows_by_their_data_source(
    env: str, tmp_path: Path
) -> None:
    cat = load_catalogue()
    rtype = cat.type("market.penalty")
    rows = [
        factories.content_row(
            rtype, factories.org(), data_source_unit_uscc=cat.department(code).uscc or ""
        )
        for code in ("samr", "hz_amr")
    ]
    report = tmp_path / "report.json"
    path = _penalties(tmp_path / "p.csv", rows)
    args = ["ingest", str(path), "--type", "market.penalty", "--report", str(report)]
    result = runner.invoke(app, [*args, "--db", env])
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text("utf-8"))["summary"]["accepted"] == 2


def test_ingest_missing_required_column_exits_2_and_writes_nothing(
    env: str, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine, func, select

    from bonafides.store.tables import IngestBatch

    rtype = load_catalogue().type("market.penalty")
    row = factories.content_row(rtype, factories.org())
    del row[rtype.content_field("violation_facts").column_zh]
    path = _penalties(tmp_path / "p.csv", [row])
    args = ["ingest", str(path), "--type", "market.penalty", "--source", "samr", "--db", env]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "missing required column(s): 违法事实" in result.output
    engine = create_engine(env)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(IngestBatch)).scalar() == 0
    finally:
        engine.dispose()
