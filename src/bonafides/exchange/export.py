"""Open-data exports: public records, list entries and measures as CSV, JSON lines or Parquet.

A snapshot holds everything public today; a delta what changed since a day (rows written
again, and tombstones naming what is no longer public). Each is a directory with a
``manifest.json``: rows, schema and SHA-256 of every file, the catalogue and rules
versions, and when it was made. What is public is asked of the store's one public rule
(``bonafides.store.exports``), content fields of the catalogue's ``public_fields`` only,
and a natural person appears by family name alone, without an ID number or a masked one.

Rows are read and written in batches: Parquet gets a record batch per store batch
through PyArrow, CSV and JSON lines a block of lines, so memory stays flat whatever the
size. The FollowTheMoney format is ``bonafides.exchange.ftm``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.disclosure import mask_name
from bonafides.exchange.ftm import write_entities
from bonafides.exchange.sinks import (
    Columns,
    CsvSink,
    ExportFormat,
    JsonlSink,
    ParquetSink,
    Scope,
    Sink,
    Written,
)
from bonafides.records import SubjectKind
from bonafides.rules.model import MonthsDuration, Rules
from bonafides.store import exports as store
from bonafides.store.backup import sha256_of
from bonafides.store.lists import EntryRow, entries_in_force_public

MANIFEST = "manifest.json"
#: The content field that repeats the subject's name: a person's is masked there too.
SUBJECT_NAME = "subject_name"
MANIFEST_TYPE = "bonafides.export/1"


class ExportError(ValueError):
    """An export that cannot be made or a directory that is not one; says why."""


_SINKS: dict[ExportFormat, Callable[[Path, pa.Schema], Sink]] = {
    ExportFormat.CSV: CsvSink,
    ExportFormat.JSONL: JsonlSink,
    ExportFormat.PARQUET: ParquetSink,
}
_SUFFIX = {ExportFormat.CSV: "csv", ExportFormat.JSONL: "jsonl", ExportFormat.PARQUET: "parquet"}

# --------------------------------------------------------------------------- tables

_DATE = pa.date32()
_TEXT = pa.string()
_ID = pa.int64()

#: One row per public record.
RECORDS = pa.schema(
    [
        ("id", _ID),
        ("type", _TEXT),
        ("field", _TEXT),
        ("polarity", _TEXT),
        ("source", _TEXT),
        ("decision_no", _TEXT),
        ("decision_date", _DATE),
        ("status", _TEXT),
        ("severity", _TEXT),
        ("legal_basis", _TEXT),
        ("published_until", _DATE),
        ("updated_at", pa.timestamp("us", tz="UTC")),
        ("subject_ref", _TEXT),
        ("subject_kind", _TEXT),
        ("subject_code", _TEXT),
        ("subject_name", _TEXT),
        ("subject_name_en", _TEXT),
        ("region", _TEXT),
        ("content", _TEXT),
    ]
)

#: One row per public list entry in force.
ENTRIES = pa.schema(
    [
        ("id", _ID),
        ("list", _TEXT),
        ("rule", _TEXT),
        ("subject_ref", _TEXT),
        ("subject_kind", _TEXT),
        ("subject_code", _TEXT),
        ("subject_name", _TEXT),
        ("subject_name_en", _TEXT),
        ("region", _TEXT),
        ("valid_from", _DATE),
        ("valid_until", _DATE),
        ("until_basis", _TEXT),
        ("reason", _TEXT),
        ("field", _TEXT),
        ("record_type", _TEXT),
        ("source", _TEXT),
        ("decision_no", _TEXT),
        ("decision_date", _DATE),
    ]
)

#: One row per joint reward or sanction measure (the rules, not who they apply to).
MEASURES = pa.schema(
    [
        ("code", _TEXT),
        ("title_zh", _TEXT),
        ("title_en", _TEXT),
        ("effect", _TEXT),
        ("lists", _TEXT),
        ("actions", _TEXT),
        ("department", _TEXT),
        ("duration_months", pa.int32()),
        ("memorandum", _TEXT),
        ("memorandum_title_zh", _TEXT),
        ("memorandum_title_en", _TEXT),
        ("document_no", _TEXT),
        ("legal_basis", _TEXT),
    ]
)

REMOVED_RECORDS = pa.schema([("id", _ID)])
REMOVED_ENTRIES = pa.schema([("id", _ID), ("list", _TEXT)])

# --------------------------------------------------------------------------- shaping


def _subject_columns(
    kind: str, key: str, code: str, name: str, name_en: str | None
) -> tuple[Any, ...]:
    """Ref, code, name and English name as an export shows a subject.

    A natural person: the opaque ref the public pages use, no code at all (not even
    masked), the family name only; bulk data must not become a directory of people.
    """
    if kind == SubjectKind.NATURAL_PERSON:
        return key, None, mask_name(name), None
    return code, code, name, name_en


def _public_content(catalogue: Catalogue) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    fields: dict[str, tuple[str, ...]] = {}

    def shape(type_code: str, content: dict[str, Any]) -> dict[str, Any]:
        names = fields.get(type_code)
        if names is None:
            # The subject's code is in its own column (never a person's); not again here.
            codes = (
                set(catalogue.type(type_code).subject_code_fields)
                if catalogue.has_type(type_code)
                else set()
            )
            names = fields[type_code] = tuple(
                n for n in catalogue.public_fields(type_code) if n not in codes
            )
        return {name: content[name] for name in names if name in content}

    return shape


def record_columns(rows: Sequence[Any], content: Callable[[str, dict[str, Any]], Any]) -> Columns:
    cols: Columns = {name: [] for name in RECORDS.names}
    for r in rows:
        ref, code, name, name_en = _subject_columns(r[13], r[14], r[15], r[16], r[17])
        fields = content(r[1], r[12])
        if code is None and SUBJECT_NAME in fields:
            fields[SUBJECT_NAME] = name
        values = (*r[:12], ref, r[13], code, name, name_en, r[18], fields)
        for column, value in zip(cols.values(), values, strict=True):
            column.append(value)
    return cols


def entry_columns(rows: Sequence[EntryRow]) -> Columns:
    cols: Columns = {name: [] for name in ENTRIES.names}
    for e in rows:
        ref, code, name, name_en = _subject_columns(
            e.subject_kind, e.subject_key, e.code_display, e.name, e.name_en
        )
        values = (
            e.id,
            e.list_code,
            f"{e.list_code}#{e.line}",
            ref,
            e.subject_kind,
            code,
            name,
            name_en,
            e.region,
            e.valid_from,
            e.valid_until,
            e.until_basis,
            e.reason,
            e.field,
            e.record_type,
            e.source,
            e.decision_no,
            e.decision_date,
        )
        for column, value in zip(cols.values(), values, strict=True):
            column.append(value)
    return cols


def measure_columns(rules: Rules) -> Columns:
    cols: Columns = {name: [] for name in MEASURES.names}
    for code in sorted(rules.measures):
        memo, m = rules.measures[code]
        months = m.duration.months if isinstance(m.duration, MonthsDuration) else None
        values = (
            m.code,
            m.title_zh,
            m.title_en,
            m.effect.value,
            list(m.lists),
            list(m.actions),
            m.department,
            months,
            memo.code,
            memo.title_zh,
            memo.title_en,
            memo.document_no,
            [*memo.legal_basis, *m.legal_basis],
        )
        for column, value in zip(cols.values(), values, strict=True):
            column.append(value)
    return cols


def _table(
    written: Written,
    fmt: ExportFormat,
    stem: str,
    schema: pa.Schema,
    batches: Iterable[Columns],
) -> None:
    file_name = f"{stem}.{_SUFFIX[fmt]}"
    sink = _SINKS[fmt](written.directory / file_name, schema)
    try:
        for cols in batches:
            sink.write(cols)
    finally:
        sink.close()
    written.add(file_name, schema, sink.rows)


def _entry_batches(session: Session, scope: Scope, among: Any) -> Iterator[list[EntryRow]]:
    return entries_in_force_public(session, scope.today, among=among)


def write_tables(
    session: Session,
    written: Written,
    fmt: ExportFormat,
    scope: Scope,
    *,
    catalogue: Catalogue,
    rules: Rules,
) -> None:
    """Records, entries and measures (a snapshot), or changed rows and tombstones (a delta)."""
    content = _public_content(catalogue)
    since = scope.since
    records_among = None if since is None else store.changed_records(since, scope.today, scope.zone)
    entries_among = None if since is None else store.changed_entries(since, scope.today, scope.zone)
    _table(
        written,
        fmt,
        "records",
        RECORDS,
        (
            record_columns(rows, content)
            for rows in store.record_batches(session, scope.today, among=records_among)
        ),
    )
    _table(
        written,
        fmt,
        "entries",
        ENTRIES,
        (entry_columns(rows) for rows in _entry_batches(session, scope, entries_among)),
    )
    if since is None:
        _table(written, fmt, "measures", MEASURES, [measure_columns(rules)])
        return
    _table(
        written,
        fmt,
        "removed_records",
        REMOVED_RECORDS,
        ({"id": ids} for ids in store.removed_records(session, since, scope.today, scope.zone)),
    )
    _table(
        written,
        fmt,
        "removed_entries",
        REMOVED_ENTRIES,
        (
            {"id": [r[0] for r in rows], "list": [r[1] for r in rows]}
            for rows in store.removed_entries(session, since, scope.today, scope.zone)
        ),
    )


# --------------------------------------------------------------------------- manifest


def manifest_of(
    written: Written,
    fmt: ExportFormat,
    scope: Scope,
    *,
    name: str,
    catalogue: Catalogue,
    rules: Rules,
    generated_at: dt.datetime,
) -> dict[str, Any]:
    files = {}
    for file_name in sorted(written.rows):
        path = written.directory / file_name
        files[file_name] = {
            "rows": written.rows[file_name],
            "bytes": path.stat().st_size,
            "sha256": sha256_of(path),
            "schema": written.schemas[file_name],
        }
    return {
        "type": MANIFEST_TYPE,
        "name": name,
        "kind": scope.kind,
        "format": fmt.value,
        "as_of": scope.today.isoformat(),
        "since": None if scope.since is None else scope.since.isoformat(),
        "generated_at": generated_at.isoformat(),
        "catalogue_version": catalogue.version,
        "catalogue_digest": catalogue.digest,
        "rules_version": rules.version,
        "files": files,
    }


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of an export directory; ExportError if there is none or it is unreadable."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{directory}: no readable {MANIFEST} ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("type") != MANIFEST_TYPE:
        raise ExportError(f"{directory}: {MANIFEST} is not a bonafides export manifest")
    return manifest


def verify(directory: Path) -> list[str]:
    """What is wrong with an export directory: a file missing, changed or not listed."""
    manifest = read_manifest(directory)
    problems = []
    listed = manifest["files"]
    for file_name, entry in sorted(listed.items()):
        path = directory / file_name
        if not path.is_file():
            problems.append(f"{file_name}: missing")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"{file_name}: SHA-256 differs from the manifest")
    for path in sorted(directory.iterdir()):
        if path.name != MANIFEST and path.name not in listed:
            problems.append(f"{path.name}: not in the manifest")
    return problems


# --------------------------------------------------------------------------- the export


def write_export(
    session: Session,
    root: Path,
    fmt: ExportFormat,
    scope: Scope,
    *,
    catalogue: Catalogue,
    rules: Rules,
    generated_at: dt.datetime,
) -> tuple[Path, dict[str, Any]]:
    """Write one export under ``root`` and return its directory and manifest.

    The files go to a hidden directory first and are renamed into place with the
    manifest last, so a reader (the API, a mirror) never sees half an export; an export
    of the same name made again replaces the old one whole.
    """
    if scope.since is not None and scope.since > scope.today:
        raise ExportError(f"--since {scope.since} is after today ({scope.today})")
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot of the store for every file: records and entries agree.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    name = scope.name(fmt)
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".{name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        written = Written(partial, {}, {})
        if fmt is ExportFormat.FTM:
            write_entities(session, written, scope, catalogue=catalogue, rules=rules)
        else:
            write_tables(session, written, fmt, scope, catalogue=catalogue, rules=rules)
        manifest = manifest_of(
            written,
            fmt,
            scope,
            name=name,
            catalogue=catalogue,
            rules=rules,
            generated_at=generated_at,
        )
        (partial / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8"
        )
        final = root / name
        old = root / f".{name}.old-{os.getpid()}"
        if final.exists():
            final.rename(old)
        partial.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final, manifest


def list_exports(root: Path) -> list[dict[str, Any]]:
    """The manifests of the exports under ``root``, newest first; half-written ones and
    other directories are not exports."""
    found = []
    if not root.is_dir():
        return []
    for directory in root.iterdir():
        if directory.name.startswith(".") or not directory.is_dir():
            continue
        try:
            found.append(read_manifest(directory))
        except ExportError:
            continue
    found.sort(key=lambda m: (m["generated_at"], m["name"]), reverse=True)
    return found
