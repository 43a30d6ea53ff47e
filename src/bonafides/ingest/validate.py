"""Row validation against the catalogue schema of one record type.

A ``RowValidator`` is built once per file (header mapped, field parsers chosen) and then
checks each row: every problem names the row, the field and a reason; what is
unambiguous is normalised and noted. A row that names a subject without a code is not
guessed at: it goes to the review queue for entity matching.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from bonafides import normalise
from bonafides.catalogue import Catalogue, ContentField, FieldType, RecordType, Severity
from bonafides.codes import (
    CodeError,
    ResidentId,
    Uscc,
    mask_id,
    parse_subject_code,
    parse_uscc,
)
from bonafides.ingest import characters
from bonafides.ingest.readers import UnusableInputError
from bonafides.normalise import BadValueError, Cleaned
from bonafides.records import RecordInput, SubjectKind, SubjectRef, kind_of_uscc

MAX_SHOWN = 60
#: Distinct values remembered per column (see ``RowValidator._memo``).
MEMO_SIZE = 4096
#: Header spellings of the column in which a row names the objection or repair case it
#: deliberately amends (see ``workflows.protection``); recognised in every record type.
AMENDS_COLUMNS = frozenset({"amends_case", "更正依据"})
_LIST_SPLIT = re.compile(r"[;；,，]")
#: The field in which a row names the department that submits it (its own USCC).
SOURCE_USCC_FIELD = "data_source_unit_uscc"


def shorten(value: str | None) -> str:
    """A submitted value as a report shows it: short, and with no character that could
    break the store, the response or the operator's terminal (see ``characters``)."""
    if value is None:
        return ""
    value = characters.printable(value)
    return value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"


@dataclass(frozen=True, slots=True)
class Rejection:
    row: int
    field: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReviewItem:
    row: int
    source: str
    subject_name: str
    decision_no: str | None
    reason: str
    raw: dict[str, str | None]


@dataclass(slots=True)
class RowOutcome:
    record: RecordInput | None = None
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    review: ReviewItem | None = None
    #: The case the row says it amends (``amends_case``), as given.
    amends: str | None = None
    #: A row sent to review without rejections: its values, cells and department, so a
    #: subject found by name matching can still make it a record (``linked_record``).
    unlinked: tuple[dict[str, Any], Mapping[str, str | None], str] | None = None


def _header_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower()


Parser = Callable[[str], Cleaned[Any]]


class RowValidator:
    """Checks rows of one file of one record type from one department."""

    def __init__(
        self,
        catalogue: Catalogue,
        type_code: str,
        source: str | None,
        header: list[str],
        *,
        today: dt.date,
        seal: Callable[[str], str],
        encoding: str | None = None,
    ) -> None:
        if not catalogue.has_type(type_code):
            raise UnusableInputError(f"unknown record type {type_code!r}")
        if source is not None:
            try:
                catalogue.department(source)
            except KeyError:
                raise UnusableInputError(f"unknown department {source!r}") from None
        if source is not None and not catalogue.may_submit(type_code, source):
            raise UnusableInputError(
                f"department {source!r} is not a source of {type_code!r}; "
                f"its sources are {', '.join(catalogue.type(type_code).sources)}"
            )
        self.catalogue = catalogue
        self.rtype: RecordType = catalogue.type(type_code)
        self.source = source
        self.today = today
        self.seal = seal
        #: Named when a cell has bytes the file's encoding could not decode.
        self.encoding = encoding or "utf-8"
        #: Fields that carry a person's ID number: kept sealed in the raw submission
        #: and masked in the content (principle 5).
        self.sensitive = frozenset(
            f.name
            for f in self.rtype.fields
            if f.name.endswith("id_number")
            or (f.name in self.rtype.subject_code_fields and f.type is not FieldType.USCC)
        )
        known = {_header_key(k): v for k, v in self.rtype.column_map().items()}
        self.columns: dict[str, str] = {}
        self.ignored: list[str] = []
        #: Ignored header -> the nearest catalogue column, when one is near enough.
        self.suggestions: dict[str, str] = {}
        self.amends_column: str | None = None
        for column in header:
            if _header_key(column) in AMENDS_COLUMNS and self.amends_column is None:
                self.amends_column = column
                continue
            name = known.get(_header_key(column))
            if name is None or name in self.columns.values():
                self.ignored.append(column)
            else:
                self.columns[column] = name
        present = set(self.columns.values())
        self._suggest(present)
        if source is None and (
            SOURCE_USCC_FIELD not in self.rtype.field_names or SOURCE_USCC_FIELD not in present
        ):
            column = (
                self.rtype.content_field(SOURCE_USCC_FIELD).column_zh
                if SOURCE_USCC_FIELD in self.rtype.field_names
                else "数据来源单位统一社会信用代码"
            )
            raise UnusableInputError(
                f"no submitting department: give --source, or a {column} column naming it by row"
            )
        missing = [
            f.name
            for f in self.rtype.fields
            if f.required and f.name not in present and f.name not in self.rtype.subject_code_fields
        ]
        if missing:
            raise UnusableInputError(f"missing required column(s): {self._describe(missing)}")
        # Everything a row check needs, computed once per file: the hot loop touches no
        # pydantic model attribute (those are slow) and parses repeated codes once.
        self._column_zh = {f.name: f.column_zh for f in self.rtype.fields}
        self._plan = [
            (
                column,
                name,
                self._column_zh[name],
                self._memo(name, self._parser(self.rtype.content_field(name))),
                _meaningful_empties(self.rtype.content_field(name)),
            )
            for column, name in self.columns.items()
        ]
        self._defaults = [(f.name, f.default) for f in self.rtype.fields if f.default is not None]
        self._required = [
            (f.name, f.column_zh)
            for f in self.rtype.fields
            if f.required and f.name not in self.rtype.subject_code_fields
        ]
        self._dates = [(f.name, f.column_zh) for f in self.rtype.fields if f.type is FieldType.DATE]
        self._periods = lru_cache(maxsize=MEMO_SIZE)(self._periods_of)
        self._code_fields = frozenset(self.rtype.subject_code_fields)
        #: The file's columns whose raw value is kept sealed.
        self._sealed_columns = frozenset(c for c, n in self.columns.items() if n in self.sensitive)

    def _suggest(self, present: set[str]) -> None:
        """Each ignored header paired with the nearest column of the type not already
        mapped (a typo, or a template's own wording), so the report can ask "did you mean"."""
        spellings: dict[str, str] = {}
        for spec in self.rtype.fields:
            if spec.name not in present:
                for header in spec.headers:
                    spellings.setdefault(_header_key(header), spec.column_zh)
        for column in self.ignored:
            near = difflib.get_close_matches(_header_key(column), list(spellings), n=1, cutoff=0.5)
            if near:
                self.suggestions[column] = spellings[near[0]]

    def _describe(self, names: list[str]) -> str:
        """Missing columns as the report names them, with the ignored header that is most
        likely each one ("did you mean")."""
        guessed = {v: k for k, v in self.suggestions.items()}
        parts = []
        for name in names:
            column_zh = self.rtype.content_field(name).column_zh
            part = f"{column_zh} ({name})"
            if column_zh in guessed:
                part += f" (header {guessed[column_zh]!r}: did you mean {column_zh}?)"
            parts.append(part)
        return ", ".join(parts)

    @staticmethod
    def _memo(name: str, parse: Parser) -> Parser:
        """Each distinct value of a column parsed once: dates, amounts, labels, codes and
        most texts repeat down a department's file. A parser is a pure function of the
        cell, so a remembered answer is the answer (a refusal is not remembered, and is
        worked out again with the same reason). Decision numbers are unique: not kept."""
        if name == "decision_no":
            return parse
        return lru_cache(maxsize=MEMO_SIZE)(parse)

    def _parser(self, spec: ContentField) -> Parser:
        kind = spec.type
        if spec.name == "decision_no":
            limit = spec.max_length

            def parse_number(raw: str) -> Cleaned[Any]:
                cleaned = normalise.decision_number(raw)
                if not cleaned.value:
                    raise BadValueError("is empty")
                if limit is not None and len(cleaned.value) > limit:
                    raise BadValueError(f"is {len(cleaned.value)} characters long; at most {limit}")
                return cleaned

            return parse_number
        if kind in (FieldType.STRING, FieldType.TEXT):
            limit = spec.max_length

            def parse_text(raw: str) -> Cleaned[Any]:
                cleaned = normalise.text(raw)
                if limit is not None and len(cleaned.value) > limit:
                    raise BadValueError(f"is {len(cleaned.value)} characters long; at most {limit}")
                return cleaned

            return parse_text
        if kind is FieldType.DATE:
            return normalise.date
        if kind is FieldType.DECIMAL:
            return normalise.decimal
        if kind is FieldType.INTEGER:
            return normalise.integer
        if kind is FieldType.BOOLEAN:
            return normalise.boolean
        if kind is FieldType.ENUM:
            lookup = {_header_key(k): v for k, v in spec.enum_lookup().items()}
            # Named by their labels, which a file may use, with the English for a reader
            # who has none: the stored codes are not words a clerk should have to read.
            allowed = "、".join(f"{e.label_zh} ({e.label_en})" for e in spec.enum or ())
            multiple = spec.multiple

            def one(part: str) -> str:
                value = lookup.get(_header_key(part))
                if value is None:
                    raise BadValueError(f"{part.strip()!r} is not one of {allowed}")
                return value

            def parse_enum(raw: str) -> Cleaned[Any]:
                whole = lookup.get(_header_key(raw))
                if whole is not None or not multiple:
                    values = [whole if whole is not None else one(raw)]
                else:
                    # Labels may themselves contain 、, so it separates values only where
                    # the stronger separators leave a part that is not a label.
                    values = []
                    for part in filter(str.strip, _LIST_SPLIT.split(raw)):
                        if _header_key(part) in lookup:
                            values.append(one(part))
                        else:
                            values.extend(one(p) for p in part.split("、") if p.strip())
                joined = ";".join(values)
                return Cleaned(
                    joined, None if joined == raw else f"enum label {raw!r} read as {joined}"
                )

            return parse_enum
        if kind is FieldType.USCC:

            def parse_code(raw: str) -> Cleaned[Any]:
                try:
                    parsed = parse_uscc(raw)
                except CodeError as exc:
                    raise BadValueError(exc.reason) from None
                return Cleaned(
                    parsed, None if parsed.code == raw else f"code {raw!r} read as {parsed.code}"
                )

            return parse_code

        def parse_any_code(raw: str) -> Cleaned[Any]:
            try:
                parsed = parse_subject_code(raw)
            except CodeError as exc:
                raise BadValueError(exc.reason) from None
            text = parsed.code if isinstance(parsed, Uscc) else parsed.number
            return Cleaned(parsed, None if text == raw else "code normalised")

        return parse_any_code

    def _characters(
        self, row_no: int, cells: Mapping[str, str | None], outcome: RowOutcome
    ) -> tuple[dict[str, str | None], set[str]]:
        """Every cell, mapped or not, checked for characters that are not text (they could
        not be stored, or would reach a terminal); invisible ones removed and noted."""
        checked: dict[str, str | None] = {}
        refused: set[str] = set()
        for column, raw in cells.items():
            if raw is None or raw.isprintable():
                checked[column] = raw
                continue
            try:
                cleaned = characters.clean(raw, encoding=self.encoding)
            except BadValueError as exc:
                name = self.columns.get(column)
                shown = self._column_zh[name] if name else characters.printable(column)
                outcome.rejections.append(Rejection(row_no, shown, shorten(raw), exc.reason))
                refused.add(column)
                continue
            if cleaned.note:
                outcome.notes.append(cleaned.note)
            checked[column] = cleaned.value
        return checked, refused

    def check(self, row_no: int, cells: Mapping[str, str | None]) -> RowOutcome:
        outcome = RowOutcome()
        values: dict[str, Any] = {}
        raw_by_field: dict[str, str | None] = {}
        rejected: set[str] = set()
        text, refused = self._characters(row_no, cells, outcome)
        if self.amends_column is not None:
            outcome.amends = (text.get(self.amends_column) or "").strip() or None
        for column, name, column_zh, parse, meaningful in self._plan:
            if column in refused:
                rejected.add(name)
                continue
            raw = text.get(column)
            raw_by_field[name] = raw
            if raw is None or (
                raw.strip() in normalise.EMPTY_MARKERS and raw.strip() not in meaningful
            ):
                if raw is not None and raw.strip():
                    outcome.notes.append(f"empty marker {raw.strip()!r} read as empty")
                continue
            try:
                cleaned = parse(raw)
            except BadValueError as exc:
                outcome.rejections.append(Rejection(row_no, column_zh, shorten(raw), exc.reason))
                rejected.add(name)
                continue
            if cleaned.note:
                outcome.notes.append(cleaned.note)
            values[name] = cleaned.value
        for name, default in self._defaults:
            if name not in values and name not in rejected:
                values[name] = default
                if name in raw_by_field:
                    outcome.notes.append(f"empty {name} read as default {default}")
        for name, column_zh in self._required:
            if name not in values and name not in rejected:
                outcome.rejections.append(
                    Rejection(
                        row_no, column_zh, shorten(raw_by_field.get(name)), "is required but empty"
                    )
                )
        self._check_dates(row_no, values, outcome)
        source = self._row_source(row_no, values, rejected, outcome)
        subject = self._subject(row_no, values, raw_by_field, outcome, source or "")
        if outcome.rejections or subject is None:
            if subject is None and not outcome.rejections and outcome.review is None:
                outcome.rejections.append(
                    Rejection(row_no, self._code_column, "", "no subject code and no name")
                )
            if outcome.review is not None and not outcome.rejections and source is not None:
                outcome.unlinked = (values, cells, source)
            return outcome
        if outcome.review is not None:
            return outcome
        assert source is not None
        outcome.record = self._record(values, cells, subject, source)
        return outcome

    def _row_source(
        self, row_no: int, values: dict[str, Any], rejected: set[str], outcome: RowOutcome
    ) -> str | None:
        """The department that submits a row. Without ``--source`` it is the department
        whose USCC the row gives as its data source; with it, a row that names another
        department of the catalogue is refused (a department submits only its own rows).
        A code the catalogue does not know is accepted under ``--source`` (departments'
        codes are filled in by operators, see docs/catalogue.md)."""
        code = values.get(SOURCE_USCC_FIELD)
        named = self.catalogue.department_by_uscc(code.code) if isinstance(code, Uscc) else None
        if self.source is not None:
            if named is not None and named.code != self.source:
                outcome.rejections.append(
                    Rejection(
                        row_no,
                        self._column_zh[SOURCE_USCC_FIELD],
                        named.uscc or "",
                        f"names department {named.code!r}; a submission of {self.source!r} "
                        "may carry only its own rows",
                    )
                )
                return None
            return self.source
        if not isinstance(code, Uscc):
            if SOURCE_USCC_FIELD not in rejected and not any(
                r.field == self._column_zh[SOURCE_USCC_FIELD] for r in outcome.rejections
            ):
                outcome.rejections.append(
                    Rejection(
                        row_no, self._column_zh[SOURCE_USCC_FIELD], "", "is required but empty"
                    )
                )
            return None
        column = self._column_zh[SOURCE_USCC_FIELD]
        if named is None:
            outcome.rejections.append(
                Rejection(row_no, column, code.code, "no department in the catalogue has this code")
            )
            return None
        if not self.catalogue.may_submit(self.rtype.code, named.code):
            outcome.rejections.append(
                Rejection(
                    row_no,
                    column,
                    code.code,
                    f"department {named.code!r} is not a source of {self.rtype.code}; its "
                    f"sources are {', '.join(self.rtype.sources)}",
                )
            )
            return None
        return named.code

    def _check_dates(self, row_no: int, values: dict[str, Any], outcome: RowOutcome) -> None:
        """Dates must be real (done by parsing), not in the future, and in a possible order."""
        for name, column_zh in self._dates:
            value = values.get(name)
            if isinstance(value, dt.date) and name in PAST_DATE_FIELDS and value > self.today:
                outcome.rejections.append(
                    Rejection(row_no, column_zh, value.isoformat(), "is in the future")
                )
        decided = values.get("decision_date")
        if not isinstance(decided, dt.date):
            return
        for name, column_zh in self._dates:
            value = values.get(name)
            if not isinstance(value, dt.date):
                continue
            if name in AFTER_DECISION_FIELDS and value < decided:
                outcome.rejections.append(
                    Rejection(
                        row_no,
                        column_zh,
                        value.isoformat(),
                        f"is before the decision date {decided.isoformat()}",
                    )
                )
            elif name in BEFORE_DECISION_FIELDS and value > decided:
                outcome.rejections.append(
                    Rejection(
                        row_no,
                        column_zh,
                        value.isoformat(),
                        f"is after the decision date {decided.isoformat()}",
                    )
                )
        for first, last in DATE_RANGES:
            start, end = values.get(first), values.get(last)
            if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
                outcome.rejections.append(
                    Rejection(
                        row_no,
                        self._column_zh[last],
                        end.isoformat(),
                        f"is before the start {start.isoformat()}",
                    )
                )

    def _subject(
        self,
        row_no: int,
        values: dict[str, Any],
        raw: dict[str, str | None],
        outcome: RowOutcome,
        source: str,
    ) -> SubjectRef | None:
        code: Uscc | ResidentId | None = None
        for name in self.rtype.subject_code_fields:
            value = values.get(name)
            if isinstance(value, Uscc | ResidentId):
                code = value
                break
            if isinstance(value, str):
                try:
                    code = parse_subject_code(value)
                except CodeError as exc:
                    spec = self.rtype.content_field(name)
                    outcome.rejections.append(
                        Rejection(row_no, spec.column_zh, shorten(value), exc.reason)
                    )
                    return None
                break
        subject_name: Any = values.get("subject_name")
        if code is None:
            if any(r.field in self._code_columns for r in outcome.rejections):
                return None
            if isinstance(subject_name, str) and subject_name:
                outcome.review = ReviewItem(
                    row=row_no,
                    source=source,
                    subject_name=subject_name,
                    decision_no=values.get("decision_no"),
                    reason="no subject code: kept for entity matching",
                    raw=dict(raw),
                )
            return None
        if isinstance(code, ResidentId):
            kind = SubjectKind.NATURAL_PERSON
            if code.birth_date > self.today:
                outcome.rejections.append(
                    Rejection(row_no, self._code_column, code.masked, "birth date is in the future")
                )
                return None
            adult_from = code.adult_from
            ref_code, region = code.number, code.region
        else:
            kind = kind_of_uscc(code.registration_authority, code.institution_type)
            adult_from = None
            ref_code, region = code.code, code.region
        if kind not in self.rtype.subject_kinds:
            allowed = ", ".join(k.value for k in self.rtype.subject_kinds)
            shown = code.masked if isinstance(code, ResidentId) else code.code
            outcome.rejections.append(
                Rejection(
                    row_no,
                    self._code_column,
                    shown,
                    f"a {kind.value.replace('_', ' ')} cannot be the subject of {self.rtype.code} "
                    f"(allowed: {allowed})",
                )
            )
            return None
        if not isinstance(subject_name, str) or not subject_name:
            return None
        name_en = values.get("subject_name_en")
        return SubjectRef(
            code=ref_code,
            kind=kind,
            name=subject_name,
            name_en=name_en if isinstance(name_en, str) else None,
            region=region,
            adult_from=adult_from,
        )

    def linked_record(self, outcome: RowOutcome, subject: SubjectRef) -> RecordInput | None:
        """The record of a row without a code, about the subject name matching linked it
        to: as if the row had carried that code. None if the row cannot be a record, or the
        record type does not admit that kind of subject."""
        if outcome.unlinked is None or subject.kind not in self.rtype.subject_kinds:
            return None
        values, cells, source = outcome.unlinked
        return self._record(values, cells, subject, source)

    @property
    def _code_columns(self) -> set[str]:
        return {self.rtype.content_field(n).column_zh for n in self.rtype.subject_code_fields}

    @property
    def _code_column(self) -> str:
        return self.rtype.content_field(self.rtype.subject_code_fields[0]).column_zh

    def _record(
        self,
        values: dict[str, Any],
        cells: Mapping[str, str | None],
        subject: SubjectRef,
        source: str,
    ) -> RecordInput:
        severity_value = values.get("severity")
        severity = Severity(severity_value) if isinstance(severity_value, str) else None
        decided: dt.date = values["decision_date"]
        published_until, retention_until = self._periods(decided, severity)
        codes = self._code_fields
        sensitive = self.sensitive
        # Most values are already text: only the rest go through the conversions.
        content = {
            name: _masked(value)
            if name in sensitive
            else (value if type(value) is str else _jsonable(value))
            for name, value in values.items()
            if name not in codes
        }
        sealed = self._sealed_columns
        raw = {
            column: self.seal(value) if column in sealed else value
            for column, value in cells.items()
            if value is not None and value.strip() not in normalise.EMPTY_MARKERS
        }
        return RecordInput(
            type_code=self.rtype.code,
            source=source,
            decision_no=str(values["decision_no"]),
            decision_date=decided,
            subject=subject,
            content=content,
            raw=raw,
            severity=severity.value if severity else None,
            legal_basis=str(values.get("legal_basis") or "；".join(self.rtype.legal_basis)) or None,
            published_until=published_until,
            retention_until=retention_until,
            shared_decision_no=self.rtype.shared_decision_no,
        )

    def _periods_of(
        self, decided: dt.date, severity: Severity | None
    ) -> tuple[dt.date | None, dt.date]:
        """(published until, retained until) of a decision: the same for every row of a day."""
        published = (
            self.rtype.publication_ends(decided, severity)
            if self.rtype.has_severity is False or severity is not None
            else None
        )
        return published, self.rtype.retention_ends(decided)


#: Dates that report something that has happened: they cannot lie in the future.
PAST_DATE_FIELDS = frozenset(
    {"decision_date", "filing_date", "incident_date", "removal_date", "lifted_date"}
)
#: Dates a decision sets going forward: they cannot precede it.
AFTER_DECISION_FIELDS = frozenset(
    {
        "publication_until",
        "penalty_valid_until",
        "valid_until",
        "ban_until",
        "bid_ban_until",
        "listing_until",
        "removal_date",
        "lifted_date",
        "rectification_deadline",
    }
)
#: Dates of what led to a decision: they cannot follow it.
BEFORE_DECISION_FIELDS = frozenset({"filing_date", "incident_date"})
#: (start, end) pairs that must be in order.
DATE_RANGES = (("valid_from", "valid_until"), ("ban_from", "ban_until"))


def _masked(value: Any) -> str:
    if isinstance(value, ResidentId):
        return value.masked
    text = str(_jsonable(value))
    return mask_id(text) if len(text) >= 8 else "*" * len(text)


def _meaningful_empties(spec: ContentField) -> frozenset[str]:
    """Spellings of "empty" that an enum field uses as a real value (无 = "none")."""
    if spec.type is not FieldType.ENUM:
        return frozenset()
    return frozenset(k for k in spec.enum_lookup() if k in normalise.EMPTY_MARKERS)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Uscc):
        return value.code
    if isinstance(value, ResidentId):
        return value.masked
    return value
