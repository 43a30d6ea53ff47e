"""Open-data exports on both stores: the manifest verifies, only public data leaves, a delta
holds exactly the changes since its day, and FollowTheMoney entities validate."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from followthemoney import model
from sqlalchemy import select
from typer.testing import CliRunner

from bonafides.app.exports import make_export
from bonafides.cli import app as cli
from bonafides.context import Context
from bonafides.exchange.export import (
    RECORDS,
    public_content,
    record_columns,
    records_by_copy,
    verify,
)
from bonafides.exchange.ftm import ENTITIES, REMOVED
from bonafides.exchange.sinks import ExportFormat, flat
from bonafides.records import RecordStatus
from bonafides.rules.records import change_status, write_records
from bonafides.settings import Settings, get_settings
from bonafides.store import exports as store
from bonafides.store.tables import ListEntry
from tests import factories
from tests.exchange.conftest import ADULT_NAME, MINOR_NAME, TODAY, World, age_everything, ids_of


def rows_of(directory: Path, stem: str, fmt: ExportFormat) -> list[dict[str, Any]]:
    if fmt is ExportFormat.PARQUET:
        return list(pq.read_table(directory / f"{stem}.parquet").to_pylist())
    if fmt is ExportFormat.JSONL:
        text = (directory / f"{stem}.jsonl").read_text("utf-8")
        return [json.loads(line) for line in text.splitlines()]
    with (directory / f"{stem}.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def all_bytes(directory: Path) -> bytes:
    """Every file of the export, Parquet decoded to text, as one blob to search."""
    parts = []
    for path in sorted(directory.iterdir()):
        if path.suffix == ".parquet":
            parts.append(
                json.dumps(
                    pq.read_table(path).to_pylist(), default=str, ensure_ascii=False
                ).encode()
            )
        else:
            parts.append(path.read_bytes())
    return b"\n".join(parts)


TABLE_FORMATS = [ExportFormat.PARQUET, ExportFormat.CSV, ExportFormat.JSONL]


@pytest.mark.parametrize("fmt", TABLE_FORMATS)
def test_snapshot_holds_exactly_the_public_data(
    ctx: Context, world: World, tmp_path: Path, fmt: ExportFormat
) -> None:
    directory, manifest = make_export(ctx, fmt, out=tmp_path / "out")
    assert verify(directory) == []
    assert manifest["kind"] == "snapshot"
    assert manifest["catalogue_version"] == ctx.catalogue.version
    suffix = fmt.value
    assert set(manifest["files"]) == {
        f"records.{suffix}",
        f"entries.{suffix}",
        f"measures.{suffix}",
    }

    records = rows_of(directory, "records", fmt)
    assert {int(r["id"]) for r in records} == world.public_ids
    assert manifest["files"][f"records.{suffix}"]["rows"] == len(records)
    entries = rows_of(directory, "entries", fmt)
    assert {int(e["id"]) for e in entries} == world.entry_ids
    measures = rows_of(directory, "measures", fmt)
    assert measures
    assert all(m["legal_basis"] for m in measures)

    person = next(r for r in records if r["subject_kind"] == "natural_person")
    assert person["subject_name"] == "张**"
    assert person["subject_code"] in (None, "")
    assert person["subject_ref"].startswith("p:")
    blob = all_bytes(directory)
    for secret in (world.adult.code, world.minor.code, ADULT_NAME, MINOR_NAME):
        assert secret.encode() not in blob
    # The masked form of the ID number is not exported either.
    assert world.adult.code[:6].encode() + b"*" not in blob
    if fmt is ExportFormat.CSV:
        assert b",=HYPERLINK" not in blob
        assert b"'=HYPERLINK" in blob


def test_a_changed_file_fails_verification(ctx: Context, world: World, tmp_path: Path) -> None:
    directory, _manifest = make_export(ctx, ExportFormat.JSONL, out=tmp_path)
    assert verify(directory) == []
    path = directory / "records.jsonl"
    path.write_bytes(path.read_bytes().replace(b"spc", b"spp", 1))
    (directory / "extra.txt").write_text("x")
    assert verify(directory) == [
        "records.jsonl: SHA-256 differs from the manifest",
        "extra.txt: not in the manifest",
    ]


@pytest.mark.parametrize("fmt", [ExportFormat.PARQUET, ExportFormat.CSV])
def test_delta_holds_exactly_the_changes(
    ctx: Context, world: World, tmp_path: Path, fmt: ExportFormat
) -> None:
    age_everything(ctx)
    fresh = factories.penalty(decision_date=TODAY - dt.timedelta(days=2))
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [fresh], actor="test")
        change_status(
            session,
            source="spc",
            decision_no=world.decision_nos["firm"],
            status=RecordStatus.REVOKED,
            actor="test",
            reason="revoked by the court",
        )
    fresh_id = ids_of(ctx, [fresh.decision_no])[fresh.decision_no]
    firm_id = ids_of(ctx, [world.decision_nos["firm"]])[world.decision_nos["firm"]]
    with ctx.sessions() as session:
        firm_entry = session.scalar(
            select(ListEntry.id)
            .where(ListEntry.trigger_record_id == firm_id)
            .order_by(ListEntry.id)
        )
    directory, manifest = make_export(ctx, fmt, out=tmp_path, since=TODAY)
    assert verify(directory) == []
    assert manifest["kind"] == "delta"
    assert manifest["since"] == TODAY.isoformat()
    assert [int(r["id"]) for r in rows_of(directory, "records", fmt)] == [fresh_id]
    assert [int(r["id"]) for r in rows_of(directory, "removed_records", fmt)] == [firm_id]
    assert rows_of(directory, "entries", fmt) == []
    assert [int(r["id"]) for r in rows_of(directory, "removed_entries", fmt)] == [firm_entry]

    # Nothing changed since today in a new store state: an empty delta, not everything.
    age_everything(ctx)
    quiet, _ = make_export(ctx, fmt, out=tmp_path / "quiet", since=TODAY)
    for stem in ("records", "entries", "removed_records", "removed_entries"):
        assert rows_of(quiet, stem, fmt) == []


def _validated(directory: Path, name: str) -> list[dict[str, Any]]:
    lines = (directory / name).read_text("utf-8").splitlines()
    entities = [json.loads(line) for line in lines]
    for data in entities:
        schema = model.get(data["schema"])
        assert schema is not None, data
        proxy = model.get_proxy(data, cleaned=False)
        for prop, values in data["properties"].items():
            assert prop in schema.properties, (data["schema"], prop)
            cleaned = [schema.properties[prop].type.clean(v) for v in values]
            assert None not in cleaned, (prop, values)
        assert all(proxy.get(p) for p in schema.required), data
        assert proxy.to_dict()["properties"]
    return entities


def test_ftm_snapshot_validates(ctx: Context, world: World, tmp_path: Path) -> None:
    directory, manifest = make_export(ctx, ExportFormat.FTM, out=tmp_path)
    assert verify(directory) == []
    entities = _validated(directory, ENTITIES)
    by_id = {e["id"]: e for e in entities}
    firm = by_id[f"bf-{world.firm.code}"]
    assert firm["schema"] == "Company"
    assert firm["properties"]["uscCode"] == [world.firm.code]
    assert firm["properties"]["jurisdiction"] == ["cn"]
    people = [e for e in entities if e["schema"] == "Person"]
    assert [p["properties"]["name"] for p in people] == [["张**"]]
    sanctions = [e for e in entities if e["schema"] == "Sanction"]
    assert {s["properties"]["entity"][0] for s in sanctions} == {firm["id"], people[0]["id"]}
    own = [s for s in sanctions if s["id"] == f"bf-entry-{min(world.entry_ids)}"]
    assert own
    assert own[0]["properties"]["provisions"]
    measures = [
        s for s in sanctions if s["properties"].get("programId", [""])[0] != "courts.defaulters"
    ]
    assert measures, "joint measures of the defaulters' list"
    for s in measures:
        assert s["properties"]["authority"]
        assert s["properties"]["provisions"]
        assert s["properties"]["startDate"]
        assert s["properties"]["endDate"]
    assert manifest["files"][ENTITIES]["rows"] == len(entities)
    blob = all_bytes(directory)
    for secret in (world.adult.code, world.minor.code, ADULT_NAME, MINOR_NAME):
        assert secret.encode() not in blob


def test_ftm_delta_removes_sanctions(ctx: Context, world: World, tmp_path: Path) -> None:
    age_everything(ctx)
    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="spc",
            decision_no=world.decision_nos["adult"],
            status=RecordStatus.REPAIRED,
            actor="test",
            reason="repaired",
        )
    directory, _ = make_export(ctx, ExportFormat.FTM, out=tmp_path, since=TODAY)
    assert _validated(directory, ENTITIES) == []
    removed = [json.loads(line) for line in (directory / REMOVED).read_text().splitlines()]
    entry = max(world.entry_ids)
    assert f"bf-entry-{entry}" in {r["id"] for r in removed}
    assert len(removed) > 1  # the measures' sanctions go with the entry


def test_postgres_copy_path_gives_the_rows_of_the_row_path(ctx: Context, world: World) -> None:
    """On PostgreSQL a Parquet snapshot reads records by COPY into Arrow; it must hold the
    same rows and values as the path every other export takes, as a set (the COPY path
    does not sort; content compared parsed: PostgreSQL orders a JSON object's keys its own
    way)."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    # Every character either COPY format escapes: quote, comma, newline, tab, backslash
    # (and one that reads like COPY's null, ``\N``).
    odd = factories.org(name="引号\"公司\",\n第二行 'x'\t\\N\r")
    extra = dataclasses.replace(
        factories.penalty(odd, decision_date=TODAY - dt.timedelta(days=3)),
        content={
            **factories.penalty(odd).content,
            "not_in_schema": "secret",
            "uscc": odd.code,
            "remarks": "",
        },
    )
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, [extra], actor="test")
    today = ctx.today()
    content = public_content(ctx.catalogue)
    with ctx.sessions() as session:
        by_rows = [
            row
            for rows in store.record_batches(session, today, batch=2)
            for row in pa.Table.from_pydict(
                flat(record_columns(rows, content)), schema=RECORDS
            ).to_pylist()
        ]
        by_copy = [
            row
            for batch in records_by_copy(session, today, ctx.catalogue)
            for row in batch.to_pylist()
        ]
    assert len(by_rows) == len(world.public_ids) + 1
    for row in (*by_rows, *by_copy):
        row["content"] = json.loads(row["content"])
    assert sorted(by_copy, key=lambda r: r["id"]) == by_rows
    shown = next(r for r in by_copy if r["subject_name"] == odd.name)
    assert "not_in_schema" not in shown["content"]
    assert "uscc" not in shown["content"]


def test_the_commands(settings: Settings, world: World, tmp_path: Path) -> None:
    get_settings.cache_clear()
    runner = CliRunner()
    env = {"BONAFIDES_SECRET_KEY": settings.secret_key.get_secret_value()}
    args = ["export", "--format", "jsonl", "--out", str(tmp_path), "--db", settings.db]
    made = runner.invoke(cli, args, env=env)
    assert made.exit_code == 0, made.output
    assert f"snapshot-{TODAY}-jsonl" in made.output
    delta = runner.invoke(cli, [*args, "--since", TODAY.isoformat()], env=env)
    assert delta.exit_code == 0, delta.output
    directory = tmp_path / f"delta-{TODAY}-since-{TODAY}-jsonl"
    checked = runner.invoke(cli, ["export-verify", str(directory)])
    assert checked.exit_code == 0, checked.output
    (directory / "records.jsonl").write_text("{}\n")
    assert runner.invoke(cli, ["export-verify", str(directory)]).exit_code == 1
    future = TODAY + dt.timedelta(days=1)
    refused = runner.invoke(cli, [*args, "--since", future.isoformat()], env=env)
    assert refused.exit_code == 2
    assert "after today" in refused.output
    assert runner.invoke(cli, [*args, "--since", "yesterday"], env=env).exit_code == 2
    get_settings.cache_clear()


def test_what_a_killed_export_left_is_cleared_by_the_next(
    ctx: Context, world: World, tmp_path: Path
) -> None:
    """An export killed mid-way leaves its hidden directory (named after its process);
    the next export of the same name removes it, but not one a running process writes."""
    root = tmp_path / "exports"
    directory, _ = make_export(ctx, ExportFormat.CSV, out=root)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    for kind in ("partial", "old"):
        stale = root / f".{directory.name}.{kind}-{gone.pid}"
        stale.mkdir()
        (stale / "records.csv").write_text("half an export", "utf-8")
    running = root / f".{directory.name}.partial-{os.getppid()}"
    running.mkdir()
    make_export(ctx, ExportFormat.CSV, out=root)
    assert sorted(p.name for p in root.iterdir()) == sorted([directory.name, running.name])


def test_a_store_without_public_records_exports_empty_files(ctx: Context) -> None:
    """PyArrow refuses an empty CSV; PostgreSQL's COPY path must give no batch instead, so
    the scheduled snapshot of a new platform succeeds (it failed on PostgreSQL)."""
    if ctx.engine.dialect.name == "postgresql":
        with ctx.sessions() as session:
            assert list(records_by_copy(session, ctx.today(), ctx.catalogue)) == []
    directory, manifest = make_export(ctx, ExportFormat.PARQUET)
    assert manifest["files"]["records.parquet"]["rows"] == 0
    assert pq.read_table(directory / "records.parquet").num_rows == 0
