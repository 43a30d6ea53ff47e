"""Finding and creating subjects from the codes that decisions name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bonafides.codes import CodeError, ResidentId, Uscc, mask_id, parse_subject_code
from bonafides.records import SubjectKind, SubjectRef
from bonafides.security.identifiers import IdentifierVault
from bonafides.store.tables import Subject, SubjectName
from bonafides.store.types import utcnow

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices small enough for an ``IN (...)`` list on every store."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True, slots=True)
class SubjectKeys:
    """How a code is looked up: organisations by their USCC, persons by a keyed hash."""

    vault: IdentifierVault

    def key(self, code: str, kind: SubjectKind | str) -> str:
        if kind == SubjectKind.NATURAL_PERSON:
            return self.vault.lookup_key(code)
        return code

    def key_for_code(self, code: str) -> str:
        """Keys a code as typed: an all-digit USCC is an organisation, not a person.

        Shape alone cannot tell (a USCC may be 18 digits), so the code is parsed; an
        unparseable code keys to itself and simply finds nothing.
        """
        try:
            parsed = parse_subject_code(code)
        except CodeError:
            return code
        return self.key_for_parsed(parsed)

    def key_for_parsed(self, parsed: Uscc | ResidentId) -> str:
        if isinstance(parsed, ResidentId):
            return self.vault.lookup_key(parsed.number)
        return parsed.code


def find(session: Session, keys: SubjectKeys, code: str) -> Subject | None:
    return session.scalar(select(Subject).where(Subject.key == keys.key_for_code(code)))


def resolve(
    session: Session, keys: SubjectKeys, refs: Sequence[SubjectRef], *, source: str | None
) -> dict[str, int]:
    """Map each referenced subject's key to its id, creating subjects not seen before.

    A name a department uses that the subject does not carry yet is kept as an alias
    (not current), so renamed firms stay findable under what decisions called them.
    """
    wanted: dict[str, SubjectRef] = {}
    for ref in refs:
        wanted.setdefault(keys.key(ref.code, ref.kind), ref)
    found: dict[str, int] = {}
    for chunk in chunks(list(wanted), 500):
        rows = session.execute(select(Subject.key, Subject.id).where(Subject.key.in_(chunk)))
        found.update((key, sid) for key, sid in rows)
    new = [key for key in wanted if key not in found]
    if new:
        now = utcnow()
        rows_in: list[dict[str, Any]] = []
        for key in new:
            ref = wanted[key]
            person = ref.kind == SubjectKind.NATURAL_PERSON
            rows_in.append(
                {
                    "key": key,
                    "kind": ref.kind.value,
                    "code_display": mask_id(ref.code) if person else ref.code,
                    "code_cipher": keys.vault.encrypt(ref.code) if person else None,
                    "name": ref.name,
                    "name_en": ref.name_en,
                    "region": ref.region,
                    "industry": None,
                    "status": "active",
                    "adult_from": ref.adult_from,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        created = session.execute(
            insert(Subject).returning(Subject.key, Subject.id, sort_by_parameter_order=True),
            rows_in,
        )
        found.update((key, sid) for key, sid in created)
    _add_names(session, [(found[keys.key(r.code, r.kind)], r) for r in refs], source)
    return found


def _add_names(
    session: Session,
    pairs: Sequence[tuple[int, SubjectRef]],
    source: str | None,
) -> None:
    """The first name in a language is current; later different ones are aliases."""
    candidates: dict[tuple[int, str, str], None] = {}
    for sid, ref in pairs:
        candidates[(sid, ref.name, "zh")] = None
        if ref.name_en:
            candidates[(sid, ref.name_en, "en")] = None
    known: set[tuple[int, str, str]] = set()
    ids = sorted({sid for sid, _, _ in candidates})
    for chunk in chunks(ids, 500):
        rows = session.execute(
            select(SubjectName.subject_id, SubjectName.name, SubjectName.lang).where(
                SubjectName.subject_id.in_(chunk)
            )
        )
        known.update((sid, name, lang) for sid, name, lang in rows)
    named = {(sid, lang) for sid, _, lang in known}
    rows_in: list[dict[str, Any]] = []
    for sid, name, lang in candidates:
        if (sid, name, lang) in known:
            continue
        current = (sid, lang) not in named
        named.add((sid, lang))
        rows_in.append(
            {
                "subject_id": sid,
                "name": name,
                "lang": lang,
                "current": current,
                "valid_from": None,
                "valid_until": None,
                "source": source,
            }
        )
    if rows_in:
        session.execute(insert(SubjectName), rows_in)


def add_former_names(
    session: Session, subject_id: int, names: Sequence[tuple[str, dt.date]]
) -> None:
    """Names a subject used before a rename, with the date each stopped being used."""
    have = set(
        session.scalars(select(SubjectName.name).where(SubjectName.subject_id == subject_id))
    )
    rows = [
        {
            "subject_id": subject_id,
            "name": name,
            "lang": "zh",
            "current": False,
            "valid_from": None,
            "valid_until": until,
            "source": "registration",
        }
        for name, until in names
        if name not in have
    ]
    if rows:
        session.execute(insert(SubjectName), rows)
