"""Batch screening: a file of codes in, one answer per line out, under one certificate.

The file is read with the ingest readers (CSV, JSON Lines, XLSX, Parquet). Codes are
checked in bulk; bad lines are answered "invalid" with the reason and never dropped;
valid codes are looked up and joined with the stored list entries in SQL (entries that
the compiled rules recomputed and the write path keeps current). Every line gets a status
and a digest under the batch's certificate (``CERT.LINE`` verifies one line); the output
file is written whole or not at all. Only the lines that need Python (an entry in force,
an invalid code) pass through it one by one: the clear and unknown lines, most of a batch,
are answered as columns, and every line is stored and written in one ordered pass.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import polars as pl
import psycopg
from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    select,
)
from sqlalchemy.orm import Session

from bonafides.codes import (
    CodeError,
    ResidentId,
    known_regions,
    mask_id,
    mask_id_expr,
    normalise_expr,
    parse_subject_code,
    ric_valid_expr,
    uscc_valid_expr,
)
from bonafides.context import Context
from bonafides.csvcells import csv_cell
from bonafides.errors import Conflict
from bonafides.ingest.readers import UnusableInputError, open_table
from bonafides.partials import clear_killed, partial_name
from bonafides.progress import ProgressFn
from bonafides.records import canonical_json, digest
from bonafides.rules.facts import Entry
from bonafides.rules.loader import rules_for
from bonafides.rules.model import EVALUATOR, Rules
from bonafides.rules.service import CURRENT, ensure_current, entries_current, no_jit
from bonafides.screening.answer import (
    CLEAR,
    INVALID,
    MEASURES_APPLY,
    STATUSES,
    UNKNOWN,
    SubjectInfo,
    invalid_answer,
    subject_answer,
)
from bonafides.screening.common import new_certificate_id, record_details, require_action, today
from bonafides.screening.listed import listed_answers
from bonafides.security import audit
from bonafides.security.identifiers import IdentifierVault
from bonafides.store.access import subjects_digest
from bonafides.store.answer_parts import keep_parts
from bonafides.store.details import cited_records
from bonafides.store.frames import read_frame
from bonafides.store.subjects import chunks
from bonafides.store.tables import Check, CheckLine, ListEntry, Subject
from bonafides.store.types import utcnow

#: Column names taken for the code when ``column`` is not given, in this order.
CODE_COLUMNS = (
    "code",
    "subject_code",
    "uscc",
    "统一社会信用代码",
    "统一社会信用代码/身份证号码",
    "证件号码",
    "身份证号码",
)
OUT_FORMATS = ("csv", "jsonl")
CSV_COLUMNS = (
    "line",
    "code",
    "status",
    "measure",
    "effect",
    "until",
    "department",
    "legal_basis",
    "list",
    "entry_from",
    "entry_until",
    "records",
    "reason",
    "certificate",
)
_INSERT_CHUNK = 20_000


@dataclass
class Keyed:
    """The input lines, column by column (a million small objects would cost seconds):
    each line's number, its store key and shown code when valid, else why not."""

    lines: list[int]
    keys: list[str | None]
    shown: list[str]
    reasons: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)


@dataclass
class ScreenReport:
    cert_id: str
    action: str
    as_of: dt.date
    file: str
    counts: dict[str, int]
    invalid: list[tuple[int, str]]
    out: Path | None
    seconds: float
    recomputed: bool
    lines_digest: str = ""

    @property
    def lines(self) -> int:
        return sum(self.counts.values())

    @property
    def exit_code(self) -> int:
        return 1 if self.invalid else 0


def _shown_invalid(raw: str) -> str:
    """A bad code as the report shows it: never a readable ID number, never too long."""
    text = raw.strip()[:40]
    return mask_id(text) if len(text) >= 8 else "*" * len(text)


@functools.cache
def _uscc_provinces() -> frozenset[str]:
    """First two digits of a plausible USCC region: central bodies (10) and provinces."""
    return frozenset({"10", *(region[:2] for region in known_regions())})


def classify(
    lines: Sequence[int],
    raws: Sequence[str | None],
    vault: IdentifierVault,
    day: dt.date,
    broken: dict[int, str] | None = None,
) -> Keyed:
    """Key every code. The checks run vectorised; only persons (keyed by a keyed hash)
    and codes the checks refuse or cannot settle (to name the reason) go through Python,
    so a million codes take seconds, not minutes."""
    provinces = sorted(_uscc_provinces())
    frame = (
        pl.LazyFrame({"raw": [raw or "" for raw in raws]}, schema={"raw": pl.String})
        .with_columns(
            code=normalise_expr(pl.col("raw")),
            ric=ric_valid_expr(pl.col("raw"), today=day),
            uscc=uscc_valid_expr(pl.col("raw")),
        )
        .with_columns(
            # parse_subject_code reads an all-digit code as a USCC when its region is
            # plausible; only the implausible ones need it to decide.
            org=pl.col("uscc")
            & ~pl.col("ric")
            & (
                ~pl.col("code").str.contains(r"^[0-9]+$")
                | pl.col("code").str.slice(2, 2).is_in(provinces)
            )
        )
        .with_columns(key=pl.when(pl.col("org")).then(pl.col("code")))
        .collect()
    )
    keys: list[str | None] = frame["key"].to_list()
    shown: list[str] = frame.select(pl.col("key").fill_null(""))["key"].to_list()
    reasons: dict[int, str] = {}
    persons = frame.select(
        pos=pl.arg_where(pl.col("ric")),
        code=pl.col("code").filter(pl.col("ric")),
        shown=mask_id_expr(pl.col("code").filter(pl.col("ric"))),
    )
    for pos, code, masked in persons.iter_rows():
        keys[pos], shown[pos] = vault.lookup_key(code), masked
    others = frame.select(pl.arg_where(~pl.col("ric") & ~pl.col("org")))["ric"].to_list()
    for pos in others:
        raw = raws[pos]
        if broken and lines[pos] in broken:
            reasons[pos] = broken[lines[pos]]
        elif raw is None or not raw.strip():
            reasons[pos] = "no code on this line"
        else:
            try:
                parsed = parse_subject_code(raw)
            except CodeError as exc:
                shown[pos], reasons[pos] = _shown_invalid(raw), exc.reason
                continue
            if isinstance(parsed, ResidentId):
                keys[pos], shown[pos] = vault.lookup_key(parsed.number), parsed.masked
            else:
                keys[pos] = shown[pos] = parsed.code
    return Keyed(list(lines), keys, shown, reasons)


def _code_column(columns: Sequence[str], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise UnusableInputError(f"no column {wanted!r}; the file has {', '.join(columns)}")
        return wanted
    for name in CODE_COLUMNS:
        if name in columns:
            return name
    if len(columns) == 1:
        return columns[0]
    raise UnusableInputError(
        f"which column holds the codes? name it with --column (the file has {', '.join(columns)})"
    )


def read_codes(
    path: Path, *, column: str | None, fmt: str | None, encoding: str | None
) -> tuple[list[int], list[str | None], dict[int, str]]:
    """Every line's number and code, and the lines that could not be read, with why.

    ``open_table`` detects the format, encoding and header; a CSV file is then read by
    the ingest reader's rules (blank rows skipped, rows of the wrong width reported) taking
    only the code cell, which is several times faster than whole rows for large batches.
    """
    table = open_table(path, fmt=fmt, encoding=encoding)
    name = _code_column(table.columns, column)
    found: list[tuple[int, str | None]] = []
    broken: dict[int, str] = {}
    if table.format == "csv":
        found, broken = _csv_codes(table.path, table.encoding or "utf-8", table.columns, name)
    else:
        for chunk in table.chunks(size=50_000):
            found.extend((number, cells.get(name)) for number, cells in chunk.rows)
            for number, reason in chunk.broken:
                found.append((number, None))
                broken[number] = reason
        found.sort()
    return [n for n, _ in found], [raw for _, raw in found], broken


def _csv_codes(
    path: Path, encoding: str, columns: Sequence[str], name: str
) -> tuple[list[tuple[int, str | None]], dict[int, str]]:
    index = list(columns).index(name)
    width = len(columns)
    found: list[tuple[int, str | None]] = []
    broken: dict[int, str] = {}
    row_no = 1
    try:
        with path.open(encoding=encoding, newline="", errors="strict") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row_no, cells in enumerate(reader, 2):
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) == width:
                    found.append((row_no, cells[index]))
                else:
                    broken[row_no] = f"has {len(cells)} cells, the header has {width}"
                    found.append((row_no, None))
    except UnicodeDecodeError:
        raise UnusableInputError(
            f"{path.name}: row {row_no + 1} is not valid {encoding} text"
        ) from None
    except csv.Error as exc:
        raise UnusableInputError(f"{path.name}: row {row_no + 1}: {exc}") from None
    return found, broken


# --------------------------------------------------------------------------- bulk SQL


def _input_table() -> Table:
    """The valid lines of a batch: position, line number, store key, and the code as the
    answer shows it when that is not the key itself (a person's masked number)."""
    return Table(
        "screen_input",
        MetaData(),
        Column("pos", Integer, primary_key=True),
        Column("line", Integer),
        Column("key", String(80)),
        Column("shown", String(64)),
        prefixes=["TEMPORARY"],
    )


def _copy_rows(
    session: Session, table: str, rows: pl.DataFrame, *, not_null: Sequence[str] = ()
) -> None:
    """Bulk insert of the frame's columns in the session's transaction: COPY on
    PostgreSQL, executemany on SQLite.

    COPY takes the rows as one CSV text written by polars (a null becomes an empty field,
    which is NULL; ``not_null`` names the text columns whose empty strings must stay
    empty strings): formatting rows in C is several times faster than in Python.
    """
    if not rows.height:
        return
    conn = session.connection()
    raw = conn.connection.driver_connection
    columns = rows.columns
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        options = "FORMAT csv" + (f", FORCE_NOT_NULL ({', '.join(not_null)})" if not_null else "")
        with (
            raw.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(f"COPY {table} ({names}) FROM STDIN ({options})") as copy,
        ):
            copy.write(rows.write_csv(include_header=False))
        return
    marks = ", ".join("?" for _ in columns)
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        # Table and column names are this module's constants, never input.
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows.rows())  # noqa: S608
    finally:
        cursor.close()


#: The columns ``collect`` takes, and those of ``Found.listed``.
_JOINED: dict[str, pl.DataType] = {
    "pos": pl.Int64(),
    "subject_id": pl.Int64(),
    "kind": pl.String(),
    "name": pl.String(),
    "list_code": pl.String(),
    "rule_line": pl.Int64(),
    "trigger_record_id": pl.Int64(),
    "valid_from": pl.Date(),
    "valid_until": pl.Date(),
    "until_basis": pl.String(),
    "record_ids": pl.List(pl.Int64),
}
#: The columns the store's join reads: the record ids as the entry keeps them.
_FETCHED: dict[str, pl.DataType] = {**_JOINED, "record_ids": pl.String()}


@dataclass
class Found:
    """Each valid line's subject (0 when unknown), and for the lines with entries in
    force for the action's lists, one row per such entry with the subject's details
    (the columns of ``_JOINED``): a batch answers them as columns (``screening.listed``)."""

    subjects: pl.Series
    listed: pl.DataFrame

    @functools.cached_property
    def entries(self) -> dict[int, list[Entry]]:
        """The listed lines' entries as objects, for answers built one by one."""
        out: dict[int, list[Entry]] = {}
        for pos, sid, _, _, code, line, trig, start, until, basis, ids in self.listed.iter_rows():
            out.setdefault(pos, []).append(
                Entry(code, line, sid, trig, start, until, basis, tuple(ids))
            )
        return out

    @functools.cached_property
    def info(self) -> dict[int, SubjectInfo]:
        return {
            pos: SubjectInfo(sid, kind, name)
            for pos, sid, kind, name in self.listed.select(
                "pos", "subject_id", "kind", "name"
            ).iter_rows()
        }


def _load_input(session: Session, keyed: Keyed) -> Table:
    """The temporary ``screen_input`` table, filled with the valid lines; the caller drops it."""
    table = _input_table()
    conn = session.connection()
    table.create(conn)
    _copy_rows(
        session,
        "screen_input",
        _shown(keyed)
        .with_columns(key=pl.Series(keyed.keys, dtype=pl.String))
        .filter(pl.col("key").is_not_null())
        .select(
            "pos",
            "line",
            "key",
            shown=pl.when(pl.col("code_display") != pl.col("key")).then("code_display"),
        ),
    )
    if conn.dialect.name == "sqlite":
        # After the rows, so the load is not slowed by it. SQLite joins through it;
        # PostgreSQL hashes the input instead, and building it there cost over a second
        # per million lines.
        Index("ix_screen_input_key", table.c.key).create(conn)
    return table


def _joined(
    session: Session, table: Table, rules: Rules, action: str, as_of: dt.date, *, listed: bool
) -> pl.DataFrame:
    """Each input line's subject beside its entries in force for the action's lists, as the
    plain join reads them (the columns of ``_FETCHED``); with ``listed``, only the lines
    with such an entry (the rest are answered in the store, ``_answer_plain_lines``), else
    every line whose subject is stored (none: nulls)."""
    s, e = Subject.__table__, ListEntry.__table__
    in_force = and_(
        e.c.subject_id == s.c.id,
        e.c.status == CURRENT,
        e.c.list_code.in_(rules.lists_for(action) or [""]),
        e.c.valid_from <= as_of,
        e.c.valid_until >= as_of,
    )
    subjects = table.join(s, s.c.key == table.c.key)
    statement = select(
        table.c.pos,
        s.c.id,
        s.c.kind,
        s.c.name,
        e.c.list_code,
        e.c.line,
        e.c.trigger_record_id,
        e.c.valid_from,
        e.c.valid_until,
        e.c.until_basis,
        e.c.record_ids,
    ).select_from(subjects.join(e, in_force) if listed else subjects.outerjoin(e, in_force))
    return read_frame(session, statement, _FETCHED)


def collect(rows: pl.DataFrame, lines: int) -> Found:
    """``Found`` from the columns of ``_JOINED`` (position, subject id, kind, name, then
    the entry's list code, line, trigger record, valid from, valid until, until basis,
    record ids, all null when the line has no entry) in that order, as a lookup's join
    gives them; the record ids may come as the store keeps them, one text of ids joined
    by commas."""
    rows = rows.rename(dict(zip(rows.columns, _JOINED, strict=True)))
    if rows["record_ids"].dtype == pl.String:
        rows = rows.with_columns(
            pl.col("record_ids")
            .str.split(",")
            .list.eval(pl.element().filter(pl.element() != "").cast(pl.Int64))
        )
    rows = rows.select(pl.col(name).cast(dtype) for name, dtype in _JOINED.items())
    subjects = pl.zeros(lines, pl.Int64, eager=True).scatter(rows["pos"], rows["subject_id"])
    return Found(subjects, rows.filter(pl.col("list_code").is_not_null()))


def lookup(session: Session, rules: Rules, action: str, as_of: dt.date, keyed: Keyed) -> Found:
    """Subjects for the keys, and their entries in force for the action's lists, in SQL."""
    no_jit(session)
    table = _load_input(session, keyed)
    try:
        return collect(_joined(session, table, rules, action, as_of, listed=False), len(keyed))
    finally:
        table.drop(session.connection())


#: Finds the subjects and entries of a batch's valid lines for an action on a day: the
#: lines' ``Found`` and a frame of (pos, subject_id) for every line whose subject is stored.
Lookup = Callable[[Session, Rules, str, dt.date, Keyed], tuple[Found, pl.DataFrame]]


class EntriesNotCurrentError(Conflict):
    """The stored list entries were not made by the current rules, and the engine asked
    for reads only what is committed, so it cannot recompute them in its transaction."""

    def __init__(self) -> None:
        super().__init__(
            "the list entries were not recomputed with the current rules: "
            "run `bonafides lists recompute --engine spark` first"
        )


def sql_lookup(
    session: Session, rules: Rules, action: str, as_of: dt.date, keyed: Keyed
) -> tuple[Found, pl.DataFrame]:
    """The store's own ``Lookup``, in the session's transaction (so it sees entries the
    transaction recomputed)."""
    no_jit(session)
    table = _load_input(session, keyed)
    try:
        found = collect(_joined(session, table, rules, action, as_of, listed=True), len(keyed))
        return found, _subjects_of(session, table)
    finally:
        table.drop(session.connection())


def _subjects_of(session: Session, table: Table) -> pl.DataFrame:
    """Each valid line's subject, for the lines whose subject is stored (the others are
    unknown): the plain join itself, read as columns."""
    s = Subject.__table__
    statement = select(table.c.pos, s.c.id).select_from(table.join(s, s.c.key == table.c.key))
    return read_frame(session, statement, {"pos": pl.Int64, "subject_id": pl.Int64})


# --------------------------------------------------------------------------- output


class AnswerFile:
    """Writes to a temporary file beside the target, renamed into place only when done."""

    def __init__(self, out: Path, fmt: str) -> None:
        self.out = out
        self.fmt = fmt
        clear_killed(out.parent, out.name)
        fd, name = tempfile.mkstemp(prefix=f"{partial_name(out.name)}-", dir=out.parent)
        self.tmp = Path(name)
        self.handle: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="")
        if fmt == "csv":
            csv.writer(self.handle).writerow(CSV_COLUMNS)

    def text(self, cert: str, answer: dict[str, Any], kept: str) -> str:
        """The text of one answered line; ``kept`` is its canonical JSON, which sorts
        "certificate" before every other key, so the JSONL line is that text with the
        certificate added. A CSV line has a row per list entry behind each measure."""
        if self.fmt != "csv":
            return f'{{"certificate":"{cert}",{kept[1:]}\n'
        buffer = io.StringIO()
        out = csv.writer(buffer)
        base = [answer["line"], answer["code"], answer["status"]]
        measures = answer.get("measures") or []
        if not measures:
            out.writerow([csv_cell(v) for v in [*base, *[""] * 9, answer.get("reason", ""), cert]])
            return buffer.getvalue()
        for measure in measures:
            for entry in measure["entries"]:
                out.writerow(
                    [
                        csv_cell(v)
                        for v in [
                            *base,
                            measure["measure"],
                            measure["effect"],
                            measure["until"],
                            measure["department"],
                            "；".join(measure["legal_basis"]),
                            entry["list"],
                            entry["valid_from"],
                            entry["valid_until"],
                            " ".join(str(r.get("decision_no", r["id"])) for r in entry["records"]),
                            entry["reason"],
                            cert,
                        ]
                    ]
                )
        return buffer.getvalue()

    def plain_text(self, cert: str) -> pl.Expr:
        """The text of each clear or unknown line, as a column over ``line``,
        ``code_display`` and ``status``: the same as ``text`` gives for such a line, whose
        code is a validated (or masked) code, safe as is."""
        line, code, status = (pl.col(name) for name in ("line", "code_display", "status"))
        if self.fmt != "csv":
            return pl.concat_str(
                pl.lit(f'{{"certificate":"{cert}.'),
                line.cast(pl.String),
                pl.lit('","code":"'),
                code,
                pl.lit('","line":'),
                line.cast(pl.String),
                pl.lit(',"status":"'),
                status,
                pl.lit('"}\n'),
            )
        return pl.concat_str(
            line.cast(pl.String),
            pl.lit(","),
            code,
            pl.lit(","),
            status,
            pl.lit(f",,,,,,,,,,,{cert}."),
            line.cast(pl.String),
            pl.lit("\r\n"),
        )

    def write(self, text: str) -> None:
        self.handle.write(text)

    def commit(self) -> None:
        """Publish the file under its name: after the answers it lists are committed."""
        self.handle.close()
        self.tmp.replace(self.out)

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the service


def screen_file(
    session: Session,
    ctx: Context,
    path: Path,
    *,
    action: str,
    inquirer: str,
    purpose: str,
    as_of: dt.date | None = None,
    department: str | None = None,
    out: Path | None = None,
    out_format: str | None = None,
    column: str | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    rules: Rules | None = None,
    progress: ProgressFn | None = None,
    lookup: Lookup | None = None,
) -> tuple[ScreenReport, AnswerFile | None]:
    """Screen every code of a file for one action; raises UnusableInputError before any write.

    The answers are written in ``session`` and, with ``out``, to a temporary file beside
    it: the caller commits the session, then publishes the file (``AnswerFile.commit``)
    or drops it (``abort``), so no file ever lists answers that were not stored.
    ``progress`` hears the lines answered after each stored chunk, out of the file's lines.

    ``lookup`` finds the lines' subjects and entries elsewhere than in this session (the
    Spark engine, ``spark.screening``); it reads only committed entries, so they must
    already come from these rules (``EntriesNotCurrentError`` if not), where the store's
    own lookup recomputes them first in this transaction.
    """
    started = time.perf_counter()
    rules = rules or rules_for(ctx.catalogue)
    require_action(rules, action)
    if out is not None:
        out_format = out_format or out.suffix.lstrip(".").lower()
        if out_format not in OUT_FORMATS:
            raise UnusableInputError(f"--out must end in .csv or .jsonl, not {out.name!r}")
        if not out.parent.is_dir():
            raise UnusableInputError(f"no directory {out.parent} to write {out.name} into")
    day = as_of or today(ctx)
    lines, raws, broken = read_codes(path, column=column, fmt=fmt, encoding=encoding)
    keyed = classify(lines, raws, ctx.vault, today(ctx), broken)
    writer = AnswerFile(out, out_format or "csv") if out is not None else None
    try:
        if lookup is None:
            recomputed = ensure_current(session, rules, zone=ctx.settings.timezone, actor=inquirer)
            found, subjects = sql_lookup(session, rules, action, day, keyed)
        else:
            if not entries_current(session, rules):
                raise EntriesNotCurrentError
            recomputed = None
            found, subjects = lookup(session, rules, action, day, keyed)
        report = _answer_all(
            session,
            rules,
            keyed,
            found,
            subjects,
            writer,
            path,
            action,
            day,
            inquirer,
            purpose,
            department,
            progress,
        )
        report.recomputed = recomputed is not None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    report.out = out
    report.seconds = time.perf_counter() - started
    return report, writer


def _answer_all(
    session: Session,
    rules: Rules,
    keyed: Keyed,
    found: Found,
    subjects: pl.DataFrame,
    writer: AnswerFile | None,
    path: Path,
    action: str,
    day: dt.date,
    inquirer: str,
    purpose: str,
    department: str | None,
    progress: ProgressFn | None = None,
) -> ScreenReport:
    """Answer every line under one new certificate.

    Python answers the lines that need it (a subject with entries in force, an invalid
    code); the clear and unknown lines, most of a batch, are answered as columns
    (``_plain_lines``). All lines then go to the store and the answer file together, in
    line order, a chunk at a time; the counts, the trail that pins them and the subjects
    screened come from the same columns, so nothing is read back.
    """
    cert = new_certificate_id()
    stored = Check(
        cert_id=cert,
        kind="batch",
        inquirer=inquirer,
        department=department,
        purpose=purpose,
        action=action,
        as_of=day,
        subject_id=None,
        lines=len(keyed),
        answer={},
        digest="",
        evaluator=EVALUATOR,
        rules_version=rules.version,
        rules_digest=rules.digest,
        created_at=utcnow(),
    )
    session.add(stored)
    session.flush()
    details = cited_records(session, found.listed["record_ids"].explode().drop_nulls())
    invalid: list[tuple[int, str]] = []
    if progress is not None:
        progress(0, len(keyed))
    answered: list[tuple[Any, ...]] = []
    for pos in (pos for pos, key in enumerate(keyed.keys) if key is None):
        line, shown = keyed.lines[pos], keyed.shown[pos]
        reason = keyed.reasons.get(pos, "invalid code")
        invalid.append((line, reason))
        answer = {"line": line, **invalid_answer(shown, reason)}
        kept = canonical_json(answer)
        answered.append(
            (
                pos,
                line,
                shown,
                None,
                INVALID,
                hashlib.sha256(kept.encode()).hexdigest(),
                kept,
                None if writer is None else writer.text(f"{cert}.{line}", answer, kept),
            )
        )
    listed, parts = listed_answers(
        rules,
        action,
        day,
        found.listed,
        _shown(keyed).join(found.listed.select("pos").unique(), on="pos", how="semi"),
        details,
        cert,
        None if writer is None else writer.fmt,
    )
    keep_parts(session, parts)
    lines = _plain_lines(keyed, subjects, answered, listed, cert, writer)
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    counts.update(lines["status"].value_counts().iter_rows())
    trail = hashlib.sha256()
    with _LineSink(session) as sink:
        for done in range(0, lines.height, _INSERT_CHUNK):
            chunk = lines.slice(done, _INSERT_CHUNK)
            sink.add(
                chunk.select(pl.lit(stored.id, pl.Int64).alias("check_id"), *_LINE_COLUMNS[1:])
            )
            trail.update(
                chunk.select(
                    pl.concat_str(
                        pl.col("line").cast(pl.String), pl.lit(":"), "digest", pl.lit(";")
                    ).str.join("")
                )
                .item()
                .encode()
            )
            if writer is not None:
                writer.write(chunk["text"].str.join("").item())
            if progress is not None and done + chunk.height < len(keyed):
                progress(done + chunk.height, len(keyed))
    screened = lines["subject_id"].drop_nulls().unique().to_list()
    if progress is not None:
        progress(len(keyed), len(keyed))
    summary: dict[str, Any] = {
        "action": action,
        "as_of": day.isoformat(),
        "file": path.name,
        "lines": len(keyed),
        "counts": counts,
        "lines_digest": trail.hexdigest(),
    }
    stored.answer = summary
    stored.digest = digest(summary)
    event = audit.append(
        session,
        actor=inquirer,
        tag="screening:check:issued",
        object_ref=f"certificate {cert}",
        purpose=purpose,
        detail={
            "batch": True,
            "action": action,
            "as_of": day.isoformat(),
            "department": department,
            "lines": len(keyed),
            "counts": counts,
            "digest": stored.digest,
            "subjects": len(screened),
            "subjects_digest": subjects_digest(screened),
        },
    )
    # The stored lines are the batch's access record: each screened subject's log reads
    # them through the event named here (``store.access``), and the event's subjects
    # digest pins them; no row per subject is written.
    stored.event_id = event.id
    return ScreenReport(
        cert_id=cert,
        action=action,
        as_of=day,
        file=path.name,
        counts=counts,
        invalid=invalid,
        out=None,
        seconds=0.0,
        recomputed=False,
        lines_digest=summary["lines_digest"],
    )


_ANSWERED = {
    "pos": pl.Int64,
    "line": pl.Int64,
    "code_display": pl.String,
    "subject_id": pl.Int64,
    "status": pl.String,
    "digest": pl.String,
    "answer": pl.String,
    "text": pl.String,
}


def _shown(keyed: Keyed) -> pl.DataFrame:
    """Each line's position, line number and code as its answer shows it."""
    return pl.DataFrame(
        {"line": keyed.lines, "code_display": keyed.shown},
        schema={"line": pl.Int64, "code_display": pl.String},
    ).with_columns(pos=pl.int_range(len(keyed), dtype=pl.Int64))


def _plain_lines(
    keyed: Keyed,
    subjects: pl.DataFrame,
    answered: list[tuple[Any, ...]],
    listed: pl.DataFrame,
    cert: str,
    writer: AnswerFile | None,
) -> pl.DataFrame:
    """Every line of the batch in order, as the columns of ``_ANSWERED``: the invalid
    lines Python ``answered``, the ``listed`` ones, and the others answered here as
    columns, clear when ``subjects`` names their subject and unknown when not, each with
    its digest and its text in the answer file (none without one)."""
    done = pl.concat([pl.DataFrame(answered, schema=_ANSWERED, orient="row"), listed])
    plain = (
        _shown(keyed)
        .with_columns(key=pl.Series(keyed.keys, dtype=pl.String))
        .filter(pl.col("key").is_not_null())
        .join(done.select("pos"), on="pos", how="anti")
        .join(subjects, on="pos", how="left")
        .with_columns(
            status=pl.when(pl.col("subject_id").is_null())
            .then(pl.lit(UNKNOWN))
            .otherwise(pl.lit(CLEAR)),
            answer=pl.lit(None, pl.String),
        )
    )
    plain = plain.with_columns(
        digest=pl.Series(
            plain_digests(plain["line"], plain["code_display"], plain["status"]), dtype=pl.String
        ),
        text=pl.lit(None, pl.String) if writer is None else writer.plain_text(cert),
    )
    return pl.concat([plain.select(list(_ANSWERED)), done]).sort("pos")


def plain_digests(lines: pl.Series, codes: pl.Series, statuses: pl.Series) -> list[str]:
    """``digest({"line": line, "code": code, "status": status})`` of each clear or unknown
    line, without building a dict or JSON per line: most lines of a batch are such lines.
    The canonical JSON is spelled as columns; codes are validated or masked, so they need
    no escaping. One hash per line is then the only Python work."""
    bodies = pl.select(
        pl.concat_str(
            pl.lit('{"code":"'),
            codes,
            pl.lit('","line":'),
            lines.cast(pl.String),
            pl.lit(',"status":"'),
            statuses,
            pl.lit('"}'),
        )
    ).to_series()
    sha = hashlib.sha256
    return [sha(body.encode()).hexdigest() for body in bodies]


_LINE_COLUMNS = ("check_id", "line", "code_display", "subject_id", "status", "digest", "answer")


class _LineSink:
    """Where a batch's answered lines go, a chunk at a time.

    PostgreSQL gets one COPY for the whole batch, fed through psycopg's queued writer: a
    worker thread sends one chunk while Python prepares the next, so with two cores the
    server's storing and the answering overlap instead of taking turns. Nothing else may
    use the connection until the sink is closed. SQLite inserts each chunk in turn.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._stack = ExitStack()
        self._copy: Copy | None = None

    def __enter__(self) -> _LineSink:
        conn = self.session.connection()
        if conn.dialect.name == "postgresql":
            raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
            cursor = self._stack.enter_context(raw.cursor())
            self._copy = self._stack.enter_context(
                cursor.copy(
                    f"COPY check_lines ({', '.join(_LINE_COLUMNS)}) FROM STDIN "
                    "(FORMAT csv, FORCE_NOT_NULL (code_display))",
                    writer=QueuedLibpqWriter(cursor),
                )
            )
        return self

    def add(self, rows: pl.DataFrame) -> None:
        """Store ``rows``, whose columns are ``_LINE_COLUMNS`` in that order."""
        if not rows.height:
            return
        if self._copy is None:
            _copy_rows(self.session, "check_lines", rows)
            return
        # Nulls are empty and unquoted (NULL to COPY); FORCE_NOT_NULL keeps an empty code.
        self._copy.write(rows.write_csv(include_header=False))

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)


# --------------------------------------------------------------------------- verification


def _stored_lines(session: Session, check_id: int) -> Iterator[CheckLine]:
    last = -1
    while True:
        rows = session.scalars(
            select(CheckLine)
            .where(CheckLine.check_id == check_id, CheckLine.line > last)
            .order_by(CheckLine.line)
            .limit(20_000)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].line


def rescreen(session: Session, rules: Rules, stored: Check) -> list[int]:
    """The lines of a batch whose answer differs now (same question, same day)."""
    lines = list(_stored_lines(session, stored.id))
    wanted = sorted({row.subject_id for row in lines if row.subject_id is not None})
    keys: dict[int, str] = {}
    for part in chunks(wanted, 900):
        for sid, found_key in session.execute(
            select(Subject.id, Subject.key).where(Subject.id.in_(part))
        ):
            keys[sid] = found_key
    keys_of: list[str | None] = []
    for row in lines:
        key: str | None = None if row.subject_id is None else keys.get(row.subject_id)
        if key is None and row.status != INVALID and "*" not in row.code_display:
            key = row.code_display  # an organisation unknown then: its code is its key
        keys_of.append(key if row.status != INVALID else None)
    keyed = Keyed([row.line for row in lines], keys_of, [row.code_display for row in lines])
    found = lookup(session, rules, stored.action, stored.as_of, keyed)
    details = record_details(
        session, (rid for es in found.entries.values() for e in es for rid in e.record_ids)
    )
    changed = []
    subjects = found.subjects.to_list()
    for pos, row in enumerate(lines):
        if row.status == INVALID:
            continue
        subject_id = subjects[pos] or None
        if subject_id is None:
            body: dict[str, Any] = {"code": row.code_display, "status": UNKNOWN}
        elif pos not in found.entries:
            body = {"code": row.code_display, "status": CLEAR}
        else:
            body = subject_answer(
                rules,
                stored.action,
                stored.as_of,
                code=row.code_display,
                subject=found.info[pos],
                entries=found.entries[pos],
                records=details,
            )
        if digest({"line": row.line, **body}) != row.digest:
            changed.append(row.line)
    return changed


def results_text(report: ScreenReport) -> str:
    """A one-paragraph summary for the terminal."""
    buffer = io.StringIO()
    counts = ", ".join(f"{report.counts.get(s, 0):,} {s}" for s in STATUSES)
    buffer.write(
        f"certificate {report.cert_id}: {report.lines:,} lines screened for {report.action} "
        f"as of {report.as_of.isoformat()} ({counts}) in {report.seconds:.1f} s"
    )
    if report.recomputed:
        buffer.write("; list entries were recomputed first (rules changed or never run)")
    if report.out is not None:
        buffer.write(f"; results in {report.out}")
    return buffer.getvalue()


__all__ = [
    "CODE_COLUMNS",
    "MEASURES_APPLY",
    "EntriesNotCurrentError",
    "Found",
    "Keyed",
    "Lookup",
    "ScreenReport",
    "classify",
    "collect",
    "read_codes",
    "rescreen",
    "results_text",
    "screen_file",
    "sql_lookup",
]
