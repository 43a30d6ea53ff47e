"""The register of subjects as the platform understands it: statuses, events and columns.

A register (企业登记, 社会组织登记, 事业单位登记, 机关赋码) says who a subject is and whether
it still exists. Its exports name columns and statuses in many spellings; those live in
``data/register.yaml`` so an operator can add one without touching code. This module
holds the vocabulary the store, the loader and the matcher share.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import unicodedata
from dataclasses import dataclass, fields
from enum import StrEnum
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator


class SubjectStatus(StrEnum):
    """Where a subject stands in its register; ``active`` is also the status of a subject
    known only from records."""

    ACTIVE = "active"  # 存续, 在业
    DEREGISTERED = "deregistered"  # 注销: the subject no longer exists
    REVOKED = "revoked"  # 吊销: licence revoked, not yet deregistered
    SUSPENDED = "suspended"  # 歇业: business suspended, registration kept
    CANCELLED = "cancelled"  # 撤销: the registration itself was annulled
    MOVED_OUT = "moved_out"  # 迁出: registered elsewhere now
    MERGED = "merged"  # absorbed by another subject


class EventKind(StrEnum):
    """What a register load changed about a subject; each is one ``subject_events`` row."""

    REGISTERED = "registered"  # first register data for the subject
    RENAMED = "renamed"
    STATUS_CHANGED = "status_changed"
    DEREGISTERED = "deregistered"
    REVOKED = "revoked"
    MERGED = "merged"
    UPDATED = "updated"  # another register field (address, representative, ...) changed


#: The event a move into a status is, when it is not a plain ``status_changed``.
STATUS_EVENTS = {
    SubjectStatus.DEREGISTERED: EventKind.DEREGISTERED,
    SubjectStatus.REVOKED: EventKind.REVOKED,
    SubjectStatus.MERGED: EventKind.MERGED,
}

#: The fields of a register row, in the order the store and reports list them.
FIELDS = (
    "uscc",
    "name",
    "former_names",
    "name_en",
    "entity_type",
    "legal_rep",
    "status",
    "registered_on",
    "authority",
    "address",
    "reg_no",
    "org_code",
    "merged_into",
)
REQUIRED = ("uscc", "name")


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One subject as a register export gives it, with every value normalised."""

    uscc: str
    name: str
    former_names: tuple[str, ...] = ()
    name_en: str | None = None
    entity_type: str | None = None
    legal_rep: str | None = None
    status: SubjectStatus = SubjectStatus.ACTIVE
    #: The status as the register wrote it; None when the file gave none.
    status_raw: str | None = None
    registered_on: dt.date | None = None
    authority: str | None = None
    address: str | None = None
    reg_no: str | None = None
    org_code: str | None = None
    #: The USCC of the subject this one was merged into, when the register names it.
    merged_into: str | None = None

    def digest(self) -> str:
        """The same for the same register data however the file spelled it: a reload
        of an unchanged subject is recognised by this alone."""
        values = [getattr(self, f) for f in _ROW_FIELDS]
        values[_FORMER] = sorted(set(self.former_names))
        text = json.dumps(values, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


_ROW_FIELDS = tuple(f.name for f in fields(RegisterRow))
_FORMER = _ROW_FIELDS.index("former_names")


_SEPARATORS = str.maketrans("", "", "_-")


def fold(text: str) -> str:
    """A header or status as looked up: NFKC, lower case, without spaces, underscores or
    hyphens, so "Legal Representative", "legal_representative" and "legal-representative"
    are one column."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower().translate(_SEPARATORS)


class RegisterFormat(BaseModel):
    """``data/register.yaml``, checked when loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: dict[str, list[str]]
    statuses: dict[SubjectStatus, list[str]]
    status_words: list[tuple[str, SubjectStatus]]
    _aliases: dict[str, str] = PrivateAttr(default_factory=dict)
    _statuses: dict[str, SubjectStatus] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._aliases = {fold(a): name for name, aliases in self.columns.items() for a in aliases}
        self._statuses = {fold(t): status for status, texts in self.statuses.items() for t in texts}

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown register fields: {', '.join(unknown)}")
        missing = [f for f in FIELDS if f not in value]
        if missing:
            raise ValueError(f"register fields without columns: {', '.join(missing)}")
        seen: dict[str, str] = {}
        for name, aliases in value.items():
            for alias in aliases:
                other = seen.setdefault(fold(alias), name)
                if other != name:
                    raise ValueError(f"column {alias!r} is given for both {other} and {name}")
        return value

    def field_of(self, column: str) -> str | None:
        """The register field a file's column holds, or None for a column not read."""
        return self._aliases.get(fold(column))

    def status_of(self, raw: str) -> SubjectStatus | None:
        """The status a register's text means, or None when it cannot be told."""
        key = fold(raw)
        exact = self._statuses.get(key)
        if exact is not None:
            return exact
        for word, status in self.status_words:
            if fold(word) in key:
                return status
        return None

    def column_names(self, name: str) -> list[str]:
        return self.columns[name]


@functools.cache
def register_format() -> RegisterFormat:
    """The package's own ``data/register.yaml``."""
    text = resources.files("bonafides.catalogue").joinpath("data/register.yaml").read_text("utf-8")
    return RegisterFormat.model_validate(yaml.safe_load(text))
