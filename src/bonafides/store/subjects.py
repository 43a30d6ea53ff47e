"""Finding and creating subjects from the codes that decisions name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam, insert, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from bonafides.codes import CodeError, ResidentId, Uscc, mask_id, parse_subject_code
from bonafides.records import SubjectKind, SubjectRef
from bonafides.security.identifiers import IdentifierVault
from bonafides.store import staging
from bonafides.store.tables import Subject, SubjectName
from bonafides.store.types import UTCDateTime, utcnow

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices small enough for an ``IN (...)`` list on every store."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_size(session: Session) -> int:
    """Values one ``one_of`` may take: PostgreSQL takes one array, others one parameter
    a value."""
    return 20_000 if session.get_bind().dialect.name == "postgresql" else 500


def one_of(
    session: Session, column: InstrumentedAttribute[T], values: Sequence[T]
) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``= ANY(array)``, one parameter however many
    values (binding and converting hundreds of parameters costs more than the query)."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


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
    return resolve_sourced(session, keys, [(ref, source) for ref in refs])


def resolve_sourced(
    session: Session, keys: SubjectKeys, refs: Sequence[tuple[SubjectRef, str | None]]
) -> dict[str, int]:
    """``resolve`` for refs that each name the department that used them, set-based.

    The refs are staged (``staging``) and merged with a few statements, not looked up
    and inserted in slices of Python lists: a new file's subjects cost the database a
    join and an ``INSERT ... SELECT``. The first ref of a key describes a new subject;
    a ref's names are its department's, the first one used in a language current.

    Two writers may create the same subject at once: the second waits for the first's
    key (``ON CONFLICT DO NOTHING``) and then finds the first's subject.
    """
    wanted: dict[str, SubjectRef] = {}
    ref_keys: list[str] = []
    for ref, _ in refs:
        key = keys.key(ref.code, ref.kind)
        ref_keys.append(key)
        wanted.setdefault(key, ref)
    if not wanted:
        return {}
    session.flush()
    conn = session.connection()
    staging.load_subjects(conn, ("pos", "key"), list(enumerate(wanted)))
    found: dict[str, int] = dict(conn.execute(_FOUND).all())
    new = [key for key in wanted if key not in found]
    if new:
        # Only a new person's number is encrypted: a stored one has its cipher.
        staging.load_subjects(
            conn,
            staging.SUBJECT_COLUMNS,
            [_subject_row(pos, key, wanted[key], keys) for pos, key in enumerate(new)],
        )
        conn.execute(_CREATE, {"at": utcnow()})
        found.update((key, sid) for key, sid in conn.execute(_FOUND))
    names: dict[tuple[int, str, str], str | None] = {}
    for (ref, source), key in zip(refs, ref_keys, strict=True):
        sid = found[key]
        names.setdefault((sid, ref.name, "zh"), source)
        if ref.name_en:
            names.setdefault((sid, ref.name_en, "en"), source)
    staging.load_names(
        conn,
        [(pos, sid, name, lang, src) for pos, ((sid, name, lang), src) in enumerate(names.items())],
    )
    conn.execute(_NAME)
    return found


def _subject_row(pos: int, key: str, ref: SubjectRef, keys: SubjectKeys) -> tuple[Any, ...]:
    """A new subject as ``staging.SUBJECT_COLUMNS`` lists them; a person's ID number
    only encrypted and masked."""
    person = ref.kind == SubjectKind.NATURAL_PERSON
    return (
        pos,
        key,
        ref.kind.value,
        mask_id(ref.code) if person else ref.code,
        keys.vault.encrypt(ref.code) if person else None,
        ref.name,
        ref.name_en,
        ref.region,
        ref.adult_from,
    )


_FOUND = text("SELECT st.key, s.id FROM subject_stage AS st JOIN subjects AS s ON s.key = st.key")
_CREATE = text(
    "INSERT INTO subjects (key, kind, code_display, code_cipher, name, name_en, region, "
    "industry, status, adult_from, created_at, updated_at) "
    "SELECT key, kind, code_display, code_cipher, name, name_en, region, NULL, 'active', "
    "adult_from, :at, :at FROM subject_stage WHERE kind IS NOT NULL ORDER BY pos "
    "ON CONFLICT (key) DO NOTHING"
).bindparams(bindparam("at", type_=UTCDateTime()))
#: A staged name the subject does not carry yet: current if it is the first in its
#: language the subject gets, else an alias.
_NAME = text(
    "INSERT INTO subject_names (subject_id, name, lang, current, valid_from, valid_until, "
    "source) "
    "SELECT c.subject_id, c.name, c.lang, c.nth = 1 AND NOT EXISTS (SELECT 1 FROM "
    "subject_names AS o WHERE o.subject_id = c.subject_id AND o.lang = c.lang), NULL, "
    "NULL, c.source FROM (SELECT n.pos, n.subject_id, n.name, n.lang, n.source, "
    "ROW_NUMBER() OVER (PARTITION BY n.subject_id, n.lang ORDER BY n.pos) AS nth "
    "FROM subject_name_stage AS n WHERE NOT EXISTS (SELECT 1 FROM subject_names AS o "
    "WHERE o.subject_id = n.subject_id AND o.name = n.name AND o.lang = n.lang)) AS c "
    "ORDER BY c.pos ON CONFLICT (subject_id, name, lang) DO NOTHING"
)


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
