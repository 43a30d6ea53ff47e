"""Open-data exports: public records, list entries and measures as CSV, JSON lines or Parquet.

A snapshot holds everything public today; a delta what changed since a day (rows written
again, and tombstones naming what is no longer public). Each is a directory with a
``manifest.json``: rows, schema and SHA-256 of every file, the catalogue and rules
versions, and when it was made. What is public is asked of the store's one public rule
(``bonafides.store.exports``), content fields of the catalogue's ``public_fields`` only,
and a natural person appears by family name alone, without an ID number or a masked one.

Rows are read and written in batches: Parquet gets a record batch per store batch
through PyArrow, CSV and JSON lines a block of lines, so memory stays flat whatever the
size. On PostgreSQL a Parquet snapshot reads its records by ``COPY ... TO STDOUT`` (text
format) straight into PyArrow's CSV reader (``records_by_copy``), Python touching only
the content that needs cutting and persons' names; a test holds it to the same rows as
the row path. The FollowTheMoney format is ``bonafides.exchange.ftm``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pydantic_core import from_json, to_json
from sqlalchemy.orm import Session

from bonafides.catalogue import Catalogue
from bonafides.digests import sha256_of
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
from bonafides.partials import clear_killed, partial_name
from bonafides.records import SubjectKind
from bonafides.rules.model import MonthsDuration, Rules
from bonafides.store import exports as store
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


def exported_fields(catalogue: Catalogue, type_code: str) -> tuple[str, ...]:
    """The content fields an export keeps: the catalogue's public fields, less the subject's
    code, which has its own column (and is never a person's)."""
    codes = (
        set(catalogue.type(type_code).subject_code_fields)
        if catalogue.has_type(type_code)
        else set()
    )
    return tuple(n for n in catalogue.public_fields(type_code) if n not in codes)


def public_content(catalogue: Catalogue) -> Callable[[str, str | None], dict[str, Any]]:
    """Content as stored (JSON text) to the fields the public may read, per type."""
    fields: dict[str, tuple[str, ...]] = {}

    def shape(type_code: str, text: str | None) -> dict[str, Any]:
        names = fields.get(type_code)
        if names is None:
            names = fields[type_code] = exported_fields(catalogue, type_code)
        content = from_json(text) if text else {}
        return {name: content[name] for name in names if name in content}

    return shape


def record_columns(rows: Sequence[Any], content: Callable[[str, str | None], Any]) -> Columns:
    """A batch of ``store.exports.RECORD_COLUMNS`` rows as the columns of ``RECORDS``,
    built a column at a time."""
    cols = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(19)]
    kinds, keys, codes, names, names_en = cols[13:18]
    subjects = [_subject_columns(*s) for s in zip(kinds, keys, codes, names, names_en, strict=True)]
    shown = [content(t, text) for t, text in zip(cols[1], cols[12], strict=True)]
    for (_, code, name, _), fields in zip(subjects, shown, strict=True):
        if code is None and SUBJECT_NAME in fields:
            fields[SUBJECT_NAME] = name
    out = dict(zip(RECORDS.names[:12], cols[:12], strict=True))
    out["subject_ref"] = [s[0] for s in subjects]
    out["subject_kind"] = kinds
    out["subject_code"] = [s[1] for s in subjects]
    out["subject_name"] = [s[2] for s in subjects]
    out["subject_name_en"] = [s[3] for s in subjects]
    out["region"] = cols[18]
    out["content"] = shown
    return out


# ------------------------------------------------------------ PostgreSQL: COPY into Arrow

#: The columns ``store.exports.records_copy_sql`` sends, and the Arrow type each is read as.
_COPY_TYPES = {
    "id": _ID,
    "type": _TEXT,
    "field": _TEXT,
    "polarity": _TEXT,
    "source": _TEXT,
    "decision_no": _TEXT,
    "decision_date": _DATE,
    "status": _TEXT,
    "severity": _TEXT,
    "legal_basis": _TEXT,
    "published_until": _DATE,
    "updated_at": pa.timestamp("us"),
    "content": _TEXT,
    "subject_kind": _TEXT,
    "key": _TEXT,
    "code": _TEXT,
    "name": _TEXT,
    "name_en": _TEXT,
    "region": _TEXT,
    "whole": pa.bool_(),
}


class _CopyStream(io.RawIOBase):
    """The bytes of a psycopg ``COPY ... TO STDOUT`` as a file, for PyArrow's CSV reader.

    The driver hands over one row per ``read()``; PyArrow asks for blocks of megabytes.
    Each block is the rows appended to one buffer, not a row per call through a buffered
    reader, which cost the client as much again as reading the rows (and joining the
    driver's row buffers cost more than appending them).
    """

    def __init__(self, copy: Any) -> None:
        self.copy = copy
        self.pending = bytearray()

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """``size`` bytes, or what is left when the rows run out first (all of it when
        ``size`` is negative)."""
        buffer = self.pending
        read = self.copy.read
        while size is None or size < 0 or len(buffer) < size:
            chunk = read()
            if not chunk:
                break
            buffer += chunk
        if size is None or size < 0 or len(buffer) <= size:
            self.pending = bytearray()
            return bytes(buffer)
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    def peek(self) -> bool:
        """Whether there is a row (read ahead, kept for the next ``read``)."""
        if not self.pending:
            self.pending += self.copy.read()
        return bool(self.pending)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


#: What a backslash stands for in COPY's text format (any other character: itself).
_UNESCAPED = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape(text: str) -> str:
    """A value of COPY's text format as stored: ``\\`` a backslash, ``\\n`` a newline and
    the other control characters COPY writes so."""
    return _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), text)


def _unescaped(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with each text value that holds a backslash unescaped (``_unescape``):
    few do (a JSON string with a quote in it, a name with a line break), and Arrow finds
    them without Python."""
    arrays = []
    for field, array in zip(batch.schema, batch.columns, strict=True):
        if field.type == _TEXT:
            escaped = pc.fill_null(pc.match_substring(array, "\\"), False)
            if pc.any(escaped).as_py():
                values = pc.filter(array, escaped).to_pylist()
                array = pc.replace_with_mask(
                    array, escaped, pa.array([_unescape(v) for v in values], _TEXT)
                )
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def _cut(fields: Callable[[str], frozenset[str]], type_code: str, text: str | None) -> str:
    """Content JSON cut to the exported fields, as JSON: the text as it came when it holds
    nothing else (most records: no parse of a new object, no encoding)."""
    if not text:
        return "{}"
    parsed = from_json(text)
    if not isinstance(parsed, dict):
        return "{}"
    keep = fields(type_code)
    if parsed.keys() <= keep:
        return text
    return to_json({k: v for k, v in parsed.items() if k in keep}).decode()


def _shaped(batch: pa.RecordBatch, fields: Callable[[str], frozenset[str]]) -> pa.RecordBatch:
    """The columns of ``RECORDS`` as ``record_columns`` makes them: content cut to its
    exported fields, and for natural persons the opaque ref, no code and ``mask_name`` (in
    the content too). Everything else stays in Arrow; Python touches only the content that
    holds more than its exported fields (the store says which: ``whole``) and persons'
    rows."""
    kinds = batch.column("subject_kind")
    person = pc.fill_null(pc.equal(kinds, str(SubjectKind.NATURAL_PERSON)), False)
    code = batch.column("code")
    name = batch.column("name")
    name_en = batch.column("name_en")
    content = batch.column("content")
    redo = pc.or_(pc.invert(pc.fill_null(batch.column("whole"), False)), person)
    if pc.any(redo).as_py():
        rows = pc.indices_nonzero(redo)
        texts = [
            _cut(fields, t, text)
            for t, text in zip(
                pc.take(batch.column("type"), rows).to_pylist(),
                pc.take(content, rows).to_pylist(),
                strict=True,
            )
        ]
        persons = pc.take(person, rows).to_pylist()
        for index, (text, of_person, alias) in enumerate(
            zip(texts, persons, pc.take(name, rows).to_pylist(), strict=True)
        ):
            if of_person:
                shown = from_json(text)
                if SUBJECT_NAME in shown:
                    shown[SUBJECT_NAME] = mask_name(alias)
                    texts[index] = to_json(shown).decode()
        content = pc.replace_with_mask(content, redo, pa.array(texts, _TEXT))
    ref = code
    if pc.any(person).as_py():
        rows = pc.indices_nonzero(person)
        masked = [mask_name(n) for n in pc.take(name, rows).to_pylist()]
        nothing = pa.nulls(len(rows), _TEXT)
        ref = pc.replace_with_mask(code, person, pc.take(batch.column("key"), rows))
        code = pc.replace_with_mask(code, person, nothing)
        name = pc.replace_with_mask(name, person, pa.array(masked, _TEXT))
        name_en = pc.replace_with_mask(name_en, person, nothing)
    updated = batch.column("updated_at").cast(pa.timestamp("us", tz="UTC"))
    arrays = [batch.column(n) for n in RECORDS.names[:11]]
    arrays += [updated, ref, kinds, code, name, name_en, batch.column("region"), content]
    return pa.RecordBatch.from_arrays(arrays, schema=RECORDS)


def records_by_copy(
    session: Session, today: dt.date, catalogue: Catalogue
) -> Iterator[pa.RecordBatch]:
    """PostgreSQL: public records as Arrow batches, sent by ``COPY ... TO STDOUT`` (text
    format) in the export's transaction and parsed by PyArrow; the same rows and values as
    ``record_batches`` through ``record_columns`` (tests hold the two equal), at the speed
    of COPY instead of a Python object per value."""
    exported = {code: exported_fields(catalogue, code) for code in catalogue.index.types}
    sql = store.records_copy_sql(session, today, exported)
    cache: dict[str, frozenset[str]] = {}

    def fields(type_code: str) -> frozenset[str]:
        found = cache.get(type_code)
        if found is None:
            found = cache[type_code] = frozenset(exported_fields(catalogue, type_code))
        return found

    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
        stream = _CopyStream(copy)
        if not stream.peek():
            return  # no public record: PyArrow refuses an empty CSV, an empty export is fine
        # COPY's text format (cheaper on the server than CSV, which costs it 40% more):
        # tab-separated, one line a row (a line break in a value is escaped), null as
        # ``\N``; a backslash starts an escape, undone by ``_unescaped``.
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=list(_COPY_TYPES), block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types=_COPY_TYPES,
                null_values=["\\N"],
                strings_can_be_null=True,
                true_values=["t"],
                false_values=["f"],
            ),
        )
        for batch in reader:
            yield _shaped(_unescaped(batch), fields)


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


def write_table(
    written: Written,
    fmt: ExportFormat,
    stem: str,
    schema: pa.Schema,
    batches: Iterable[Columns] | Iterable[pa.RecordBatch],
) -> None:
    """Write one file of the export from ``batches`` and add it to ``written``."""
    file_name = f"{stem}.{_SUFFIX[fmt]}"
    sink = _SINKS[fmt](written.directory / file_name, schema)
    try:
        for cols in batches:
            sink.write(cols)
    finally:
        sink.close()
    written.add(file_name, schema, sink.rows)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _entry_batches(session: Session, scope: Scope, among: Any) -> Iterator[list[EntryRow]]:
    return entries_in_force_public(session, scope.today, among=among)


#: Writes an export's tables (``write_tables``'s signature): the store's own, or another
#: engine's (``spark.export``).
TablesWriter = Callable[..., None]


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
    content = public_content(catalogue)
    since = scope.since
    records_among = None if since is None else store.changed_records(since, scope.today, scope.zone)
    entries_among = None if since is None else store.changed_entries(since, scope.today, scope.zone)
    if fmt is ExportFormat.PARQUET and since is None and _postgres(session):
        write_table(
            written, fmt, "records", RECORDS, records_by_copy(session, scope.today, catalogue)
        )
    else:
        write_table(
            written,
            fmt,
            "records",
            RECORDS,
            (
                record_columns(rows, content)
                for rows in store.record_batches(session, scope.today, among=records_among)
            ),
        )
    write_table(
        written,
        fmt,
        "entries",
        ENTRIES,
        (entry_columns(rows) for rows in _entry_batches(session, scope, entries_among)),
    )
    if since is None:
        write_table(written, fmt, "measures", MEASURES, [measure_columns(rules)])
        return
    write_table(
        written,
        fmt,
        "removed_records",
        REMOVED_RECORDS,
        ({"id": ids} for ids in store.removed_records(session, since, scope.today, scope.zone)),
    )
    write_table(
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
    tables: TablesWriter | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write one export under ``root`` and return its directory and manifest.

    The files go to a hidden directory first and are renamed into place with the
    manifest last, so a reader (the API, a mirror) never sees half an export; an export
    of the same name made again replaces the old one whole. ``tables`` writes the
    tables of a CSV, JSON lines or Parquet export in place of ``write_tables``.
    """
    if scope.since is not None and scope.since > scope.today:
        raise ExportError(f"--since {scope.since} is after today ({scope.today})")
    if _postgres(session):
        # One snapshot of the store for every file: records and entries agree.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    name = scope.name(fmt)
    root.mkdir(parents=True, exist_ok=True)
    clear_killed(root, name)
    partial = root / partial_name(name)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        written = Written(partial, {}, {})
        if fmt is ExportFormat.FTM:
            write_entities(session, written, scope, catalogue=catalogue, rules=rules)
        else:
            (tables or write_tables)(session, written, fmt, scope, catalogue=catalogue, rules=rules)
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
        old = root / partial_name(name, "old")
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
