"""The register's blocking keys kept in the store, so a process reads only what it needs.

bonafides-names finds candidates by exact keys (``bonafides.matching.register``). With
the keys of every name in ``match_keys``, a process matching rows without a code reads
the postings of its rows' keys and the few subjects they name, instead of building the
whole register in memory (about 45 s and 2 GB per process for a million subjects). The
candidates, their order and so every score and decision are the same as the in-memory
index gives: a key shared by too many names finds nothing either way, and the postings
are read in the order the index holds them (subject, then the subject's names).

``sync`` keys what was created or changed since the last sync (``match_key_state``):
``register load`` runs it in its last unit of work, and so does an ingest run that matched
rows or created many subjects (``sync_due``). Between syncs, a matcher
keys the subjects created or changed since (few) in memory and skips their stored keys;
when they are many, or the store was never keyed, it falls back to the whole register in
memory, so a result never depends on whether a sync ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bonafides import collector
from bonafides.catalogue.models import SubjectKind
from bonafides.matching import names, packed
from bonafides.matching.model import (
    MATCH_AT,
    MAX_PREFIX_POSTINGS,
    REVIEW_AT,
    V2,
    Candidate,
    Matcher,
    Query,
    Version,
)
from bonafides.matching.register import (
    CORE,
    LOOK,
    MASK,
    MAX_POSTINGS,
    MIN_MASKED_CORE,
    ORG_CODE,
    PREFIX,
    REG_NO,
    SOUND,
    RegisterEntry,
    RegisterIndex,
    clean_identifier,
    entry_keys,
    masks,
    variants_of,
)
from bonafides.matching.store import load_entries
from bonafides.store.subjects import chunks, in_size, one_of
from bonafides.store.tables import (
    MatchEntry,
    MatchKey,
    MatchKeyState,
    Subject,
    SubjectEvent,
    SubjectName,
)
from bonafides.store.types import utcnow

STATE_ID = 1
#: Subjects created or changed since the last sync that a matcher keys in memory; more,
#: and it reads the whole register into memory instead.
MAX_DELTA = 50_000
#: Subjects keyed before and changed since whose stored keys a query must skip.
MAX_CHANGED = 2_000
#: Subjects created since the last sync after which an ingest run syncs even if it
#: matched nothing.
SYNC_BEHIND = 10_000
#: Subjects keyed per round of a sync.
_SYNC_ROUND = 20_000

Upto = tuple[int, int, int]


def _maxima(session: Session) -> Upto:
    subjects = session.scalar(select(func.max(Subject.id)))
    named = session.scalar(select(func.max(SubjectName.id)))
    events = session.scalar(select(func.max(SubjectEvent.id)))
    return int(subjects or 0), int(named or 0), int(events or 0)


def _state(session: Session, *, lock: bool = False) -> MatchKeyState | None:
    return session.get(MatchKeyState, STATE_ID, with_for_update=lock)


def _upto(state: MatchKeyState) -> Upto:
    return state.subjects_upto, state.names_upto, state.events_upto


def _changed(session: Session, upto: Upto) -> set[int]:
    """Subjects keyed before with a name or a register event since: their keys are stale."""
    subjects, named, events = upto
    found = set(
        session.scalars(
            select(SubjectName.subject_id).where(
                SubjectName.id > named, SubjectName.subject_id <= subjects
            )
        )
    )
    found.update(
        session.scalars(
            select(SubjectEvent.subject_id).where(
                SubjectEvent.id > events, SubjectEvent.subject_id <= subjects
            )
        )
    )
    return found


def _rows(entries: Iterable[tuple[int, RegisterEntry]]) -> list[tuple[int, str, int, int]]:
    return [
        (kind, key, sid, variant)
        for sid, entry in entries
        for kind, key, variant in entry_keys(entry)
    ]


def _write(
    session: Session,
    found: Sequence[tuple[int, RegisterEntry]],
    keyed: dict[int, int] | None = None,
) -> None:
    """The keys and the packed entries of ``found``: COPY on PostgreSQL (ten keys a
    subject: millions for a national register), executemany elsewhere. A subject in
    ``keyed`` has the keys of that many of its names already: only its later names'
    are written."""
    if keyed:
        rows = [
            (kind, key, sid, variant)
            for sid, entry in found
            for kind, key, variant in entry_keys(entry)
            if sid not in keyed or variant >= keyed[sid]
        ]
    else:
        rows = _rows(found)
    entries = [(sid, packed.pack(entry)) for sid, entry in found]
    if not entries:
        return
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        if rows:
            conn.execute(
                insert(MatchKey),
                [{"kind": k, "key": key, "subject_id": s, "variant": v} for k, key, s, v in rows],
            )
        conn.execute(insert(MatchEntry), [{"subject_id": s, "data": d} for s, d in entries])
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        statement = "COPY match_keys (kind, key, subject_id, variant) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        with cursor.copy("COPY match_entries (subject_id, data) FROM STDIN") as copy:
            for entry_row in entries:
                copy.write_row(entry_row)


def sync(session: Session) -> int:
    """Key the subjects created, named or changed since the last sync, in the caller's
    transaction; the number of subjects keyed. Concurrent syncs wait for each other."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("LOCK TABLE match_key_state IN EXCLUSIVE MODE")
    state = _state(session, lock=True)
    maxima = _maxima(session)
    if state is not None and _upto(state) == maxima:
        return 0
    keyed = 0
    if state is None:
        session.execute(delete(MatchKey))
        session.execute(delete(MatchEntry))
        upto: Upto = (0, 0, 0)
    else:
        upto = _upto(state)
        for part in chunks(sorted(_changed(session, upto)), _SYNC_ROUND):
            found = load_entries(session, ids=part)
            grown = _grown(session, found)
            again = [sid for sid in part if sid not in grown]
            for few in chunks(again, in_size(session)):
                session.execute(delete(MatchKey).where(one_of(session, MatchKey.subject_id, few)))
            for few in chunks(part, in_size(session)):
                session.execute(
                    delete(MatchEntry).where(one_of(session, MatchEntry.subject_id, few))
                )
            _write(session, found, grown)
            keyed += len(found)
    start = upto[0]
    while start < maxima[0]:
        found = load_entries(session, after=start, upto=start + _SYNC_ROUND)
        _write(session, found)
        keyed += len(found)
        start += _SYNC_ROUND
    if state is None:
        state = MatchKeyState(id=STATE_ID)
        session.add(state)
    state.subjects_upto, state.names_upto, state.events_upto = maxima
    state.synced_at = utcnow()
    session.flush()
    return keyed


def _grown(session: Session, found: Sequence[tuple[int, RegisterEntry]]) -> dict[int, int]:
    """The subjects whose stored keys still hold, names only added after them (a matched
    row's name kept as an alias, a former name the register reports), with how many of
    their names are keyed: their keys are kept and the new names' added. Any other
    change (a rename, another identifier) keys the subject again."""
    stored = _stored(session, [sid for sid, _ in found])
    grown: dict[int, int] = {}
    for sid, entry in found:
        if sid not in stored:
            continue
        before, parsed = stored[sid]
        if _identifiers(before) == _identifiers(entry) and (
            variants_of(entry)[: len(parsed)] == parsed
        ):
            grown[sid] = len(parsed)
    return grown


def _stored(session: Session, ids: Sequence[int]) -> dict[int, tuple[RegisterEntry, packed.Parsed]]:
    """The packed entries of these subjects that the store holds, unpacked."""
    found: dict[int, tuple[RegisterEntry, packed.Parsed]] = {}
    for part in chunks(ids, in_size(session)):
        rows = session.execute(
            select(MatchEntry.subject_id, MatchEntry.data).where(
                one_of(session, MatchEntry.subject_id, part)
            )
        ).all()
        unpacked = packed.unpack_all(data for _, data in rows)
        found.update(zip((sid for sid, _ in rows), unpacked, strict=True))
    return found


def _identifiers(entry: RegisterEntry) -> tuple[str, str]:
    return clean_identifier(entry.reg_no), clean_identifier(entry.org_code)


def sync_due(session: Session, *, matched: bool) -> bool:
    """Whether an ingest run should end with a sync: it matched rows (the keys then cover
    what it created before the next run matches), or the keys lag far behind."""
    if matched:
        return True
    state = _state(session)
    if state is None:
        return False
    newest = session.scalar(select(func.max(Subject.id)))
    return int(newest or 0) - state.subjects_upto > SYNC_BEHIND


Key = tuple[int, str]
Posting = tuple[int, int]


@dataclass
class _Delta:
    """Subjects created or changed since the last sync, keyed in memory."""

    index: RegisterIndex = field(default_factory=RegisterIndex)
    #: Entry number -> subject id.
    ids: list[int] = field(default_factory=list)
    #: Variant number -> its place among its entry's names.
    ordinal: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, entries: list[tuple[int, RegisterEntry]]) -> _Delta:
        delta = cls(RegisterIndex.build(e for _, e in entries), [sid for sid, _ in entries])
        for own in delta.index.names_of:
            delta.ordinal.extend(range(len(own)))
        return delta

    def postings(self, kind: int, key: str) -> list[Posting]:
        index = self.index
        if kind in (REG_NO, ORG_CODE):
            table = index.by_reg_no if kind == REG_NO else index.by_org_code
            return [(self.ids[n], -1) for n in table.get(key, ())]
        tables = {
            CORE: index.by_core,
            SOUND: index.by_sound,
            MASK: index.by_mask,
            LOOK: index.by_look,
        }
        numbers = tables.get(kind, index.by_prefix).get(key, ())
        return [(self.ids[index.variants[n].entry], self.ordinal[n]) for n in numbers]


class StoreMatcher(Matcher):
    """bonafides-names (v2 unless told) finding its candidates through ``match_keys``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        changed: frozenset[int],
        delta: _Delta,
        *,
        match_at: float = MATCH_AT,
        review_at: float = REVIEW_AT,
        version: Version = V2,
    ) -> None:
        super().__init__(RegisterIndex(), match_at=match_at, review_at=review_at, version=version)
        self._sessions = sessions
        self._changed = changed
        self._delta = delta

    @classmethod
    def open(cls, sessions: sessionmaker[Session], version: Version = V2) -> StoreMatcher | None:
        """A matcher over the store's keys, or None when they were never synced or too
        much changed since for the few to be keyed in memory."""
        with sessions() as session:
            state = _state(session)
            if state is None:
                return None
            upto = _upto(state)
            if upto == _maxima(session):
                return cls(sessions, frozenset(), _Delta(), version=version)
            changed = _changed(session, upto)
            if len(changed) > MAX_CHANGED:
                return None
            fresh = session.scalar(
                select(func.count())
                .select_from(Subject)
                .where(Subject.id > upto[0], Subject.kind != SubjectKind.NATURAL_PERSON.value)
            )
            if len(changed) + int(fresh or 0) > MAX_DELTA:
                return None
            entries = load_entries(session, ids=changed) + load_entries(session, after=upto[0])
        entries.sort(key=lambda pair: pair[0])
        return cls(sessions, frozenset(changed), _Delta.of(entries), version=version)

    def candidates(self, query: Query) -> list[Candidate]:
        return self.candidates_for([query])[0]

    def candidates_for(self, queries: Sequence[Query]) -> list[list[Candidate]]:
        with collector.paused():
            return self._candidates_for(queries)

    def _candidates_for(self, queries: Sequence[Query]) -> list[list[Candidate]]:
        parsed = [names.parse(q.name) for q in queries]
        with self._sessions() as session:
            ranked = self._candidates(session, queries, parsed)
            doubtful = [i for i, found in enumerate(ranked) if self.doubtful(parsed[i], found)]
            if doubtful:
                wider = self._candidates(
                    session,
                    [queries[i] for i in doubtful],
                    [parsed[i] for i in doubtful],
                    wide=True,
                )
                for i, found in zip(doubtful, wider, strict=True):
                    ranked[i] = found
        return ranked

    def _postings(
        self, session: Session, wanted: dict[Key, int | None]
    ) -> dict[Key, list[Posting]]:
        """Each key's postings, in the index's order; a key with more than its cap finds
        nothing (an empty list).

        One query a part: each posting comes with its key's count (a window); of a key
        over its kind's cap only one row leaves the database, to say so.
        """
        caps: dict[int, int | None] = {}
        for (kind, _), cap in wanted.items():
            known = caps.get(kind, cap)
            caps[kind] = None if cap is None or known is None else max(cap, known)
        if self._delta.ids:
            found = {key: self._delta.postings(*key) for key in wanted}
        else:
            found = {key: [] for key in wanted}
        in_delta = {key: len(postings) for key, postings in found.items()}
        counts = dict(in_delta)
        stale = sorted(self._changed)
        for part in chunks(sorted({text for _, text in wanted}), in_size(session)):
            inner = select(
                MatchKey.kind,
                MatchKey.key,
                MatchKey.subject_id,
                MatchKey.variant,
                func.count().over(partition_by=(MatchKey.kind, MatchKey.key)).label("n"),
                func.row_number().over(partition_by=(MatchKey.kind, MatchKey.key)).label("at"),
            ).where(one_of(session, MatchKey.key, part), MatchKey.kind.in_(sorted(caps)))
            if stale:
                inner = inner.where(~one_of(session, MatchKey.subject_id, stale))
            rows = inner.subquery()
            kept = [
                rows.c.kind == kind
                if cap is None
                else and_(rows.c.kind == kind, or_(rows.c.n <= cap, rows.c.at == 1))
                for kind, cap in caps.items()
            ]
            query = select(rows.c.kind, rows.c.key, rows.c.subject_id, rows.c.variant, rows.c.n)
            for kind, text, sid, variant, n in session.execute(query.where(or_(*kept))):
                key = (kind, text)
                if key in found:
                    found[key].append((sid, variant))
                    counts[key] = in_delta[key] + int(n)
        for key, cap in wanted.items():
            if cap is not None and counts[key] > cap:
                found[key] = []
            else:
                found[key].sort()
        return found

    def _entries(
        self, session: Session, needed: set[int]
    ) -> dict[int, tuple[RegisterEntry, packed.Parsed]]:
        """Each candidate with its parsed names: those keyed in memory from the delta,
        the rest as the sync packed them (one primary-key read each); a subject whose
        entry is missing (a store keyed before entries were kept) read and parsed."""
        delta = dict(zip(self._delta.ids, self._delta.index.entries, strict=True))
        entries = {sid: (delta[sid], variants_of(delta[sid])) for sid in needed if sid in delta}
        wanted = sorted(needed - set(entries))
        entries.update(_stored(session, wanted))
        missing = [sid for sid in wanted if sid not in entries]
        if missing:
            for sid, entry in load_entries(session, ids=missing):
                entries[sid] = (entry, variants_of(entry))
        return entries

    def _plan(
        self, name: names.ParsedName, query: Query, wide: bool
    ) -> list[tuple[Key, int | None]]:
        """The keys a query reads first, with their caps, in the in-memory index's order;
        v2's masks come later, only for a core no name has (``_masks``), unless ``wide``."""
        version = self.version
        plan: list[tuple[Key, int | None]] = []
        if name.core:
            plan.append(((CORE, name.core), None))
            plan.append(((SOUND, names.sound(name.core)), MAX_POSTINGS))
            look = names.folded(name.core) if version.rare_first else None
            if look is not None:
                plan.append(((LOOK, look), MAX_POSTINGS))
            if wide or not version.rare_first:
                plan.extend(self._masks(name, MAX_POSTINGS if wide else version.mask_postings))
        return plan

    def _masks(self, name: names.ParsedName, cap: int) -> list[tuple[Key, int | None]]:
        if len(name.core) < MIN_MASKED_CORE:
            return []
        return [((MASK, m), cap) for m in masks(name.core)]

    def _candidates(
        self,
        session: Session,
        queries: Sequence[Query],
        parsed: list[names.ParsedName],
        *,
        wide: bool = False,
    ) -> list[list[Candidate]]:
        plans: list[list[tuple[Key, int | None]]] = []
        ids: list[list[tuple[Key, int | None]]] = []
        wanted: dict[Key, int | None] = {}
        for name, query in zip(parsed, queries, strict=True):
            plan = self._plan(name, query, wide)
            given: list[tuple[Key, int | None]] = []
            for kind, value in ((REG_NO, query.reg_no), (ORG_CODE, query.org_code)):
                cleaned = clean_identifier(value) if value else ""
                if cleaned:
                    given.append(((kind, cleaned), None))
            plans.append(plan)
            ids.append(given)
            wanted.update(plan)
            wanted.update(given)
        postings = self._postings(session, wanted) if wanted else {}
        if self.version.rare_first and not wide:
            later: dict[Key, int | None] = {}
            for name, plan in zip(parsed, plans, strict=True):
                if name.core and not postings[(CORE, name.core)]:
                    extra = self._masks(name, self.version.mask_postings)
                    plan.extend(extra)
                    later.update(extra)
            if later:
                postings.update(self._postings(session, later))
        found: list[dict[int, None]] = []
        prefixes: dict[Key, int | None] = {}
        for name, plan, given in zip(parsed, plans, ids, strict=True):
            sids: dict[int, None] = {}
            for key, _ in plan + given:
                for sid, _variant in postings[key]:
                    sids[sid] = None
            found.append(sids)
            if not sids and len(name.core) >= 2:
                prefixes[(PREFIX, name.core[:2])] = MAX_PREFIX_POSTINGS
        by_prefix = self._postings(session, prefixes) if prefixes else {}
        needed = {sid for sids in found for sid in sids} | {
            sid for ps in by_prefix.values() for sid, _ in ps
        }
        entries = self._entries(session, needed)
        order = sorted(entries)
        mini = RegisterIndex()
        for sid in order:
            mini.add_parsed(*entries[sid], keyed=False)
        number = {sid: n for n, sid in enumerate(order)}
        scorer = Matcher(
            mini, match_at=self.match_at, review_at=self.review_at, version=self.version
        )
        ranked: list[list[Candidate]] = []
        for name, query, sids in zip(parsed, queries, found, strict=True):
            if not sids and len(name.core) >= 2:
                for sid, variant in by_prefix[(PREFIX, name.core[:2])]:
                    if sid not in number:
                        continue
                    own = mini.names_of[number[sid]]
                    if variant >= len(own):
                        continue
                    core = mini.variants[own[variant]].parsed.core
                    if name.core in core or core in name.core:
                        sids[sid] = None
            numbers = [number[sid] for sid in sids if sid in number]
            ranked.append(scorer.rank(name, query, numbers))
        return ranked
