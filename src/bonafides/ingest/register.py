"""Loading a register export: who the subjects are, their names, status and legacy codes.

The file goes through the same readers as a department's records (CSV in UTF-8 or
GB18030, JSON Lines, XLSX, Parquet), its columns are recognised by the spellings in
``catalogue/data/register.yaml``, and each row is checked and normalised here; a bad row
is reported by row, column and reason and the good rows of the file are stored. Each
chunk is one transaction (``bonafides.app.register.load_register``): a run cut short
leaves whole chunks, and running the file again finishes it, since an unchanged row
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bonafides import normalise
from bonafides.catalogue import Catalogue
from bonafides.catalogue.register import (
    REQUIRED,
    RegisterFormat,
    RegisterRow,
    SubjectStatus,
    register_format,
)
from bonafides.codes import CodeError, gb11714_check_char, parse_uscc
from bonafides.ingest import characters
from bonafides.ingest.readers import Cells, Chunk, UnusableInputError, open_table
from bonafides.ingest.service import file_digest
from bonafides.ingest.validate import Rejection, shorten
from bonafides.normalise import BadValueError
from bonafides.security import audit
from bonafides.store.register import RegisterResult, store_register

DEFAULT_CHUNK_ROWS = 5_000
COUNT_KEYS = ("rows", "accepted", "new_subjects", "changed", "unchanged", "rejected")
_NAME_SPLIT = re.compile(r"[;；]")
_REG_NO = re.compile(r"[0-9]{15}")
_ORG_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]")
#: Fields whose few distinct values repeat down a register.
_REPEATED = frozenset({"entity_type", "status", "authority", "legal_rep"})
#: Longest value kept per field, as the store's columns allow.
_LIMITS = {
    "name": 300,
    "former_names": 300,
    "name_en": 300,
    "entity_type": 100,
    "legal_rep": 100,
    "status": 100,
    "authority": 200,
    "address": 300,
}


@dataclass
class RegisterReport:
    file: str
    source: str | None
    format: str
    encoding: str | None
    counts: dict[str, int]
    events: dict[str, int]
    rejections: list[Rejection]
    ignored_columns: list[str]
    seconds: float
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.counts.get("rejected", 0) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "summary": self.counts,
            "events": self.events,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "seconds": round(self.seconds, 3),
            "rejections": [
                {"row": r.row, "field": r.field, "value": r.value, "reason": r.reason}
                for r in self.rejections
            ],
        }


class RegisterValidator:
    """Maps a file's header to register fields and turns each row into a ``RegisterRow``."""

    def __init__(
        self,
        header: list[str],
        *,
        today: dt.date,
        encoding: str | None = None,
        fmt: RegisterFormat | None = None,
    ) -> None:
        self.format = fmt or register_format()
        self.today = today
        self.encoding = encoding or "utf-8"
        #: Register field -> the file's column holding it.
        self.columns: dict[str, str] = {}
        self.ignored: list[str] = []
        for column in header:
            name = self.format.field_of(column)
            if name is None:
                self.ignored.append(column)
            elif name in self.columns:
                raise UnusableInputError(
                    f"columns {self.columns[name]!r} and {column!r} both hold {name}; keep one"
                )
            else:
                self.columns[name] = column
        missing = [n for n in REQUIRED if n not in self.columns]
        if missing:
            wanted = "; ".join(
                f"{n}: one of {', '.join(self.format.column_names(n))}" for n in missing
            )
            raise UnusableInputError(f"the file has no column for {wanted}")

    def check(self, row_no: int, cells: Cells) -> tuple[RegisterRow | None, list[Rejection]]:
        rejections: list[Rejection] = []
        values: dict[str, Any] = {}
        for name, column in self.columns.items():
            raw = cells.get(column)
            if normalise.is_empty(raw):
                continue
            assert raw is not None
            try:
                values[name] = self._parse(name, raw, values)
            except BadValueError as exc:
                rejections.append(Rejection(row_no, column, shorten(raw), exc.reason))
        for name in REQUIRED:
            if name not in values and not any(r.field == self.columns[name] for r in rejections):
                rejections.append(Rejection(row_no, self.columns[name], "", "is required"))
        if rejections:
            return None, rejections
        code: str = values["uscc"]
        org_code = values.get("org_code")
        if org_code is not None and org_code != code[8:17]:
            reason = f"is not the organisation code within the USCC ({code[8:17]}, positions 9-17)"
            expected = gb11714_check_char(org_code[:8])
            if org_code[8] != expected:
                reason += f"; its check character should be {expected!r}, not {org_code[8]!r}"
            rejections.append(Rejection(row_no, self.columns["org_code"], org_code, reason))
            return None, rejections
        if values.get("merged_into") == code:
            rejections.append(
                Rejection(row_no, self.columns["merged_into"], code, "is the subject's own USCC")
            )
            return None, rejections
        status_raw = values.get("status")
        former = tuple(n for n in values.get("former_names", ()) if n != values["name"])
        return (
            RegisterRow(
                uscc=code,
                name=values["name"],
                former_names=former,
                name_en=values.get("name_en"),
                entity_type=values.get("entity_type"),
                legal_rep=values.get("legal_rep"),
                status=values.get("status_value", SubjectStatus.ACTIVE),
                status_raw=status_raw,
                registered_on=values.get("registered_on"),
                authority=values.get("authority"),
                address=values.get("address"),
                reg_no=values.get("reg_no"),
                org_code=org_code or code[8:17],
                merged_into=values.get("merged_into"),
            ),
            [],
        )

    def _text(self, name: str, raw: str) -> str:
        if name in _REPEATED:
            return self._repeated(name, raw)
        return self._clean_text(name, raw)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one validator per file
    def _repeated(self, name: str, raw: str) -> str:
        """Fields whose values repeat down a register (type, status, authority): each
        distinct value is checked once."""
        return self._clean_text(name, raw)

    def _clean_text(self, name: str, raw: str) -> str:
        cleaned = normalise.text(characters.clean(raw, encoding=self.encoding).value).value
        limit = _LIMITS.get(name)
        if limit is not None and len(cleaned) > limit:
            raise BadValueError(f"is longer than {limit} characters")
        return cleaned

    def _parse(self, name: str, raw: str, values: dict[str, Any]) -> Any:
        if name in ("uscc", "merged_into"):
            try:
                return parse_uscc(characters.clean(raw, encoding=self.encoding).value).code
            except CodeError as exc:
                raise BadValueError(f"is not a valid USCC: {exc}") from None
        if name == "former_names":
            names: list[str] = []
            for part in _NAME_SPLIT.split(raw):
                if not normalise.is_empty(part):
                    value = self._text(name, part)
                    if value not in names:
                        names.append(value)
            return names
        if name == "status":
            text = self._text(name, raw)
            status = self.format.status_of(text)
            if status is None:
                raise BadValueError(
                    f"{text!r} is not a register status (such as 存续, 在业, 注销, 吊销; "
                    "the spellings read are in register.yaml)"
                )
            values["status_value"] = status
            return text
        if name == "registered_on":
            day = normalise.date(raw).value
            if day > self.today:
                raise BadValueError(f"{day.isoformat()} is in the future")
            return day
        if name == "reg_no":
            number = "".join(unicodedata.normalize("NFKC", raw).split())
            if not _REG_NO.fullmatch(number):
                raise BadValueError("a registration number (注册号) has 15 digits")
            return number
        if name == "org_code":
            code = "".join(unicodedata.normalize("NFKC", raw).split()).replace("-", "").upper()
            if not _ORG_CODE.fullmatch(code):
                raise BadValueError(
                    "an organisation code (组织机构代码) is 8 digits or capital letters "
                    "and a check character"
                )
            # Its own GB 11714 check is not enforced: the code must be positions 9-17 of
            # the (checked) USCC, and a USCC whose embedded code fails that check is still
            # valid (codes.Uscc.org_code_valid).
            return code
        return self._text(name, raw)


class RegisterLoad:
    """One register file being loaded: its reader, its checks and the running tally.

    The use case (``bonafides.app.register.load_register``) drives it chunk by chunk,
    each chunk stored in a unit of work of its own; this class writes to the session it
    is given and never commits.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        path: Path,
        *,
        source: str | None,
        actor: str,
        today: dt.date,
        fmt: str | None = None,
        encoding: str | None = None,
    ) -> None:
        """Raises ``UnusableInputError`` (nothing written) for a file or source that cannot
        be used at all."""
        self.started = time.perf_counter()
        if source is not None:
            try:
                catalogue.department(source)
            except KeyError:
                raise UnusableInputError(f"unknown department {source!r}") from None
        self.path = path
        self.source = source
        self.actor = actor
        self.today = today
        self.table = open_table(path, fmt=fmt, encoding=encoding)
        self.validator = RegisterValidator(
            self.table.columns, today=today, encoding=self.table.encoding
        )
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.events: Counter[str] = Counter()
        self.rejections: list[Rejection] = []

    def check(self, chunk: Chunk) -> list[RegisterRow]:
        """The chunk's good rows; its bad ones are counted and kept as rejections."""
        good: list[RegisterRow] = []
        for row_no, cells in chunk.rows:
            row, problems = self.validator.check(row_no, cells)
            if row is None:
                self.counts["rejected"] += 1
                self.rejections.extend(problems)
            else:
                good.append(row)
        for row_no, reason in chunk.broken:
            self.counts["rejected"] += 1
            self.rejections.append(Rejection(row_no, "(row)", "", reason))
        self.counts["rows"] += chunk.size
        self.counts["accepted"] += len(good)
        return good

    def store(self, session: Session, good: list[RegisterRow]) -> None:
        """Store one chunk's good rows on ``session``."""
        for batch in _rounds(good):
            result: RegisterResult = store_register(
                session, batch, source=self.source, actor=self.actor, today=self.today
            )
            self.counts["new_subjects"] += result.created
            self.counts["changed"] += result.changed
            self.counts["unchanged"] += result.unchanged
            self.events.update(result.events)

    def finish(self, session: Session) -> None:
        """The load's audit event, once every chunk is stored."""
        audit.append(
            session,
            actor=self.actor,
            tag="register:load:finished",
            object_ref=f"register {self.source or 'register'}",
            detail={
                "file": self.path.name,
                "sha256": file_digest(self.path),
                "source": self.source,
                **self.counts,
                "events": dict(sorted(self.events.items())),
            },
        )

    def report(self) -> RegisterReport:
        return RegisterReport(
            file=self.path.name,
            source=self.source,
            format=self.table.format,
            encoding=self.table.encoding,
            counts=self.counts,
            events=dict(sorted(self.events.items())),
            rejections=sorted(self.rejections, key=lambda r: r.row),
            ignored_columns=self.validator.ignored,
            seconds=time.perf_counter() - self.started,
            columns=dict(self.validator.columns),
        )


def _rounds(rows: list[RegisterRow]) -> list[list[RegisterRow]]:
    """Rows split so each round names a USCC once, in file order: a subject listed twice
    in a file ends as its last row says, with each row's change recorded."""
    rounds: list[list[RegisterRow]] = []
    seen: Counter[str] = Counter()
    for row in rows:
        n = seen[row.uscc]
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(row)
        seen[row.uscc] += 1
    return rounds
