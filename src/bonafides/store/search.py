"""Finding subjects by code or by name, with the work done by the database's index.

A code is an exact lookup. A name is looked up through trigrams, which tolerate a
wrong or missing character: SQLite's FTS5 ``trigram`` tokenizer and PostgreSQL's
pg_trgm (migration ``0004_search``). Both are asked only for the query's rarer
trigrams: those most names hold (有限公, 限公司) would have the index hand over nearly
every company. SQLite counts its trigrams exactly; PostgreSQL's ANALYZE estimates them
(``name_stats``). The index returns a bounded number of names and only those are ranked
here, so the cost does not grow with the number of subjects.

Queries shorter than three characters have no trigram (a two-character Chinese
name is common), so they go to the name B-tree for exact and prefix matches and,
only if that finds too few, to names holding them further on (on PostgreSQL through
an index of each name's one- and two-character substrings, migration ``0011``).

Principle 5 applies to search too: a natural person is found only while at least
one of their records is public (``bonafides.store.disclosure.subject_is_public``: a
minor's never is, nor a decision taken while the person was one); a name is itself a
disclosure.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    Text,
    and_,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from bonafides.codes import CodeError, parse_subject_code
from bonafides.records import SubjectKind
from bonafides.security.identifiers import PERSON_KEY_PREFIX
from bonafides.store.disclosure import subject_is_public
from bonafides.store.name_stats import WindowCounts, window_counts
from bonafides.store.profiles import IDENTITY_COLUMNS, SubjectIdentity
from bonafides.store.register import subjects_by_codes
from bonafides.store.subjects import SubjectKeys, chunks, find
from bonafides.store.tables import Subject, SubjectName

#: Names the index may hand over for ranking; a bound, not a page size.
CANDIDATES = 200
#: Below this score a name is not shown (pg_trgm's own default threshold).
THRESHOLD = 0.3
#: From this length on a query is most likely a whole name; a name that close to it
#: must be half similar as a whole. One wrong character costs a name of eight characters
#: or more at most three trigrams, so it stays above that.
LONG_QUERY = 8
LONG_THRESHOLD = 0.5
#: On PostgreSQL the index is asked for the names holding a query's rare windows (three
#: characters of a word): those ANALYZE does not list as common, and of the listed ones
#: as many as together with them about this many names hold by its estimate
#: (store/name_stats.py); each name it hands over is read from the table to be scored,
#: a few microseconds each.
WINDOW_BUDGET = 4000
#: Names read from the table for one look-up at most, whatever the estimate said: a
#: query made only of what most names hold (有限公司) is answered from the first of them.
SCAN_CAP = 8000
#: Of those, the names ranked here: the count of windows held orders them well enough
#: that more did not find the name sought more often (1M names, one typo per query).
WINDOW_CANDIDATES = 100
#: On SQLite, a trigram held by more than this share of all names (and more than
#: ``COMMON_FLOOR`` of them) is left out of the index query while rarer ones remain.
COMMON_SHARE = 0.02
COMMON_FLOOR = 200
#: Longest query looked at; longer input is cut, as no name is longer than this.
MAX_QUERY = 100
#: Sentinels around each name in the SQLite index (migration 0004_search).
_START, _END = "\x02", "\x03"
_CODE_SHAPE = re.compile(r"[0-9A-Za-z]{15,18}")
#: Legacy codes the register keeps: a registration number (注册号) and an organisation
#: code (组织机构代码), typed with or without its hyphen.
_REG_NO = re.compile(r"[0-9]{15}")
_ORG_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]")
_WORD_SPLIT = re.compile(r"[^\w]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PERSON_REF = re.compile(re.escape(PERSON_KEY_PREFIX) + r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class SearchHit:
    subject_id: int
    #: What a link to the subject's page carries: the USCC for an organisation, and for
    #: a person the keyed hash of their ID number, which reveals nothing of it.
    ref: str
    code: str
    kind: str
    name: str
    name_en: str | None
    region: str | None
    #: The name that matched, which may be a former name or the English one.
    matched: str
    matched_current: bool
    score: float
    how: str  # code | exact | prefix | contains | similar
    #: The subject's register status (``catalogue.register.SubjectStatus``).
    status: str = "active"


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    mode: str  # code | name | empty
    hits: list[SearchHit]
    #: Why a code-shaped query found nothing it could look up (a wrong check digit).
    problem: str | None = None


def normalise_query(raw: str) -> str:
    """Full-width letters and digits to half-width, no control characters, one space."""
    text_ = unicodedata.normalize("NFKC", raw)
    text_ = _CONTROL.sub(" ", text_)
    return " ".join(text_.split())[:MAX_QUERY]


def subject_ref(subject: SubjectIdentity) -> str:
    return subject.key if subject.kind == SubjectKind.NATURAL_PERSON else subject.code_display


def find_by_ref(session: Session, keys: SubjectKeys, ref: str) -> Subject | None:
    """A subject by the ``ref`` of a search hit, or by its code."""
    if PERSON_REF.fullmatch(ref):
        return session.scalar(
            select(Subject).where(
                Subject.key == ref, Subject.kind == SubjectKind.NATURAL_PERSON.value
            )
        )
    return find(session, keys, ref)


def search_subjects(
    session: Session, keys: SubjectKeys, raw: str, *, today: dt.date, limit: int = 20
) -> SearchResult:
    """Subjects whose code is ``raw``, or whose names are like it, best first."""
    query = normalise_query(raw)
    if not query:
        return SearchResult(query, "empty", [])
    compact = query.replace(" ", "").replace("-", "")
    legacy = _by_legacy_code(session, compact.upper(), today=today)
    if legacy is not None:
        return legacy
    if _CODE_SHAPE.fullmatch(compact) and any(ch.isdigit() for ch in compact):
        return _by_code(session, keys, compact, today=today)
    return SearchResult(query, "name", _by_name(session, query, today=today, limit=limit))


def _by_legacy_code(session: Session, code: str, *, today: dt.date) -> SearchResult | None:
    """A registration number (15 digits) or organisation code (9 characters) that the
    register holds: the subjects registered under it, deregistered ones included. None
    when the query is no such code or the register does not know it."""
    if _REG_NO.fullmatch(code):
        found = subjects_by_codes(session, reg_nos=[code])
    elif _ORG_CODE.fullmatch(code):
        found = subjects_by_codes(session, org_codes=[code])
    else:
        return None
    ids = found.get(code)
    if not ids:
        return None
    subjects = list(session.scalars(select(Subject).where(Subject.id.in_(ids))))
    visible = publicly_findable(session, subjects, today=today)
    hits = [_code_hit(subject, matched=code) for subject in subjects if subject.id in visible]
    return SearchResult(code, "code", hits)


def _code_hit(subject: Subject, *, matched: str) -> SearchHit:
    return SearchHit(
        subject_id=subject.id,
        ref=subject_ref(subject),
        code=subject.code_display,
        kind=subject.kind,
        name=subject.name,
        name_en=subject.name_en,
        region=subject.region,
        matched=matched,
        matched_current=True,
        score=1.0,
        how="code",
        status=subject.status,
    )


def _by_code(session: Session, keys: SubjectKeys, code: str, *, today: dt.date) -> SearchResult:
    try:
        parse_subject_code(code)
    except CodeError as exc:
        return SearchResult(code, "code", [], problem=exc.reason)
    subject = find(session, keys, code)
    if subject is None:
        return SearchResult(code, "code", [])
    visible = publicly_findable(session, [subject], today=today)
    hits = [_code_hit(subject, matched=subject.code_display)] if subject.id in visible else []
    return SearchResult(code, "code", hits)


# --------------------------------------------------------------------------- ranking


@lru_cache(maxsize=4096)
def trigrams(value: str) -> frozenset[str]:
    """pg_trgm's trigrams: lower-cased words, each padded with two spaces before, one after.

    Cached: a search ranks a couple of hundred names against one query, and the same
    names come back for similar queries.
    """
    grams: set[str] = set()
    for word in _WORD_SPLIT.split(value.lower()):
        if not word:
            continue
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def whole_similarity(query: str, name: str) -> float:
    """pg_trgm's ``similarity``: shared trigrams over all trigrams of both."""
    q, n = trigrams(query), trigrams(name)
    return len(q & n) / len(q | n) if q and n else 0.0


def similarity(query: str, name: str) -> float:
    """The better of pg_trgm's ``similarity`` and (approximately) ``word_similarity``.

    Whole-name similarity rewards a full name typed with a slip; the share of the
    query's trigrams found in the name rewards a distinctive part of a long name.
    """
    q, n = trigrams(query), trigrams(name)
    if not q or not n:
        return 0.0
    shared = len(q & n)
    return max(shared / len(q | n), shared / len(q))


def _rank(query: str, name: str, how: str) -> float:
    lowered_q, lowered_n = query.lower(), name.lower()
    if lowered_q == lowered_n:
        return 1.0
    if how == "prefix" or lowered_n.startswith(lowered_q):
        return 0.9 - min(len(name) - len(query), 40) / 1000
    if how == "contains" or lowered_q in lowered_n:
        return 0.8 - min(len(name) - len(query), 40) / 1000
    return min(similarity(query, name), 0.79)


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True, slots=True)
class _Candidate:
    subject: SubjectIdentity
    name: str
    current: bool
    how: str


#: What a hit shows of its subject, fetched with the candidate names in one query.
#: Who each candidate is, and where it stands in its register: a deregistered subject
#: is still found, and shown as such.
_SUBJECT = (*IDENTITY_COLUMNS, Subject.status)


def _candidate(row: Any, how: str) -> _Candidate:
    return _Candidate(row, row.matched_name, row.matched_current, how)


_NAME_COLUMNS = (
    SubjectName.name.label("matched_name"),
    SubjectName.current.label("matched_current"),
)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _short_candidates(session: Session, query: str) -> list[_Candidate]:
    """One or two characters: exact and prefix through the B-tree, then names holding
    them further on: on PostgreSQL through the index of each name's one- and
    two-character substrings (migration ``0011_short_name_grams``), on SQLite by a scan
    that stops at ``CANDIDATES``."""
    base = select(*_SUBJECT, *_NAME_COLUMNS).join(Subject, Subject.id == SubjectName.subject_id)
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        upper = query + "\U0010ffff"
        prefix = base.where(SubjectName.name >= query, SubjectName.name < upper).order_by(
            SubjectName.name
        )
    else:
        # In the pattern index's own order, which it reads the first names in without a
        # sort: 重庆 is the prefix of sixty thousand names in a million.
        prefix = base.where(SubjectName.name.like(_like_escape(query) + "%", escape="\\")).order_by(
            text("subject_names.name USING ~<~")
        )
    found = [_candidate(row, "prefix") for row in session.execute(prefix.limit(CANDIDATES))]
    if len(found) < CANDIDATES:
        contains: ColumnElement[bool] = SubjectName.name.ilike(
            "%" + _like_escape(query) + "%", escape="\\"
        )
        if not sqlite:
            contains = and_(contains, _NAME_GRAMS.contains(short_grams(query)))
        seen = {(c.subject.id, c.name) for c in found}
        for row in session.execute(base.where(contains).limit(CANDIDATES)):
            if (row.id, row.matched_name) not in seen:
                found.append(_candidate(row, "contains"))
    return found


#: The indexed expression of migration 0011_short_name_grams, as the index was made on it.
_NAME_GRAMS = func.name_grams(SubjectName.name, type_=postgresql.ARRAY(Text))


def short_grams(query: str) -> list[str]:
    """What ``name_grams`` of a name holding ``query`` holds: its two-character
    substrings, lower-cased, or the one character itself."""
    lowered = query.lower()
    if len(lowered) < 2:
        return [lowered]
    return list(dict.fromkeys(lowered[i : i + 2] for i in range(len(lowered) - 1)))


def _fts_query(session: Session, query: str) -> str | None:
    """The query's trigrams as FTS5 phrases joined by OR, sentinels included.

    Trigrams that a large share of all names hold (有限公, 限公司) are left out while
    rarer ones remain: they would make the index rank nearly every name, and a name that
    shares nothing but them with the query is no match anyway. None when no name holds
    any of the query's trigrams.
    """
    padded = _START + query.lower() + _END
    grams = list(dict.fromkeys(padded[i : i + 3] for i in range(len(padded) - 2)))
    found = session.execute(
        text("SELECT term, doc FROM subject_name_search_terms WHERE term IN :grams").bindparams(
            bindparam("grams", expanding=True)
        ),
        {"grams": grams},
    )
    docs: dict[str, int] = {str(row[0]): int(row[1]) for row in found}
    held = [g for g in grams if docs.get(g)]
    if not held:
        return None
    names = session.scalar(select(func.max(SubjectName.id))) or 0
    rare = [g for g in held if docs[g] <= max(COMMON_FLOOR, names * COMMON_SHARE)]
    chosen = rare if len(rare) >= 2 else held
    return " OR ".join('"' + gram.replace('"', '""') + '"' for gram in chosen)


def _trigram_candidates(session: Session, query: str) -> list[_Candidate]:
    if session.get_bind().dialect.name == "sqlite":
        base = select(*_SUBJECT, *_NAME_COLUMNS).join(Subject, Subject.id == SubjectName.subject_id)
        match = _fts_query(session, query)
        if match is None:
            return []
        ids = list(
            session.scalars(
                text(
                    "SELECT rowid FROM subject_name_search WHERE subject_name_search MATCH :q "
                    "ORDER BY rank LIMIT :n"
                ),
                {"q": match, "n": CANDIDATES},
            )
        )
        return [
            _candidate(row, "similar")
            for row in session.execute(base.where(SubjectName.id.in_(ids)))
        ]
    found = _pg_window_candidates(session, query)
    # Enough when a name is as close as a whole-name look-up would require. Otherwise the
    # wrong character was in the rarer windows, or the query is too short to have any
    # that survive one: pg_trgm's own operators also count the padded trigrams at the
    # start and end of each word (张伟墙 finds 张伟强 only through those).
    if any(similarity(query, c.name) >= LONG_THRESHOLD for c in found):
        return found
    if len(query) < LONG_QUERY:
        return found + _pg_candidates(session, query, "word", THRESHOLD)
    return found + _pg_candidates(session, query, "whole", LONG_THRESHOLD)


def query_windows(query: str) -> list[str]:
    """The query's three-character windows, within each lower-cased word, in order."""
    windows: dict[str, None] = {}
    for word in _WORD_SPLIT.split(query.lower()):
        for i in range(len(word) - 2):
            windows[word[i : i + 3]] = None
    return list(windows)


def rare_windows(windows: Sequence[str], counts: WindowCounts, budget: float) -> list[str]:
    """Every window ANALYZE did not list as common, and the rarest listed ones while all
    chosen together fit ``budget`` names; the rarest one at least.

    A window only few names hold is what tells the name sought from its neighbours; the
    ones nearly every name holds add cost and no distinction. A window not listed is
    rarer than every listed one, whatever its estimate: with far more names than the
    statistics list windows, that estimate alone would leave out the very windows that
    tell a name apart. Measured at 1M names with a tenth of the default statistics
    target: the right name first in 89% rather than 82% of one-typo queries, in the
    first five in 98% rather than 88%, at a p95 of 41 ms rather than 15 (``SCAN_CAP``
    bounds it); with the default target, nothing changes.
    """
    chosen = [w for w in windows if w not in counts.listed]
    total = sum(map(counts.estimate, chosen))
    for window in sorted((w for w in windows if w in counts.listed), key=counts.estimate):
        total += counts.estimate(window)
        if chosen and total > budget:
            break
        chosen.append(window)
    return chosen


def _pg_window_candidates(session: Session, query: str) -> list[_Candidate]:
    """The names holding any of the query's rarer windows, those holding most of its
    windows first.
    """
    windows = query_windows(query)
    chosen = rare_windows(windows, window_counts(session), WINDOW_BUDGET)
    if not chosen:
        return []
    cased = any(w != w.upper() for w in windows)
    params = {"patterns": [f"%{_like_escape(w)}%" for w in chosen], "windows": windows}
    return _pg_run(session, "windows, cased" if cased else "windows", params, WINDOW_CANDIDATES)


def _pg_candidates(session: Session, query: str, how: str, threshold: float) -> list[_Candidate]:
    """pg_trgm through the GIN index: names ``query`` is a word-similar part of, or whole
    names similar to it, at ``threshold`` (set for this transaction only).
    """
    setting = "word_similarity_threshold" if how == "word" else "similarity_threshold"
    session.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": f"pg_trgm.{setting}", "value": str(threshold)},
    )
    return _pg_run(session, how, {"q": query})


def _pg_run(
    session: Session, how: str, params: dict[str, Any], ranked: int = CANDIDATES
) -> list[_Candidate]:
    rows = session.execute(_pg_statement(how), {**params, "cap": SCAN_CAP, "ranked": ranked})
    return [_candidate(row, "similar") for row in rows]


@cache
def _pg_statement(how: str) -> Select[Any]:
    """The best names that match, with their subjects; built once, prepared by psycopg.

    ``windows``: names holding any of ``:patterns`` (``LIKE``, through the trigram
    index), ordered by how many of ``:windows`` they hold. That count chooses which
    names to rank well enough, at half the cost of pg_trgm's similarity functions, which
    hash each name's trigrams again for every row (4.6 ms against 9.3 over 2,000 names).
    ``word`` and ``whole``: pg_trgm's ``<%`` and ``%`` operators with ``:q``, ordered by
    its similarity functions.

    At most ``:cap`` names are read, and only the best are joined to their subjects:
    a common query passes thousands, and joining them all first cost a fifth of the query.
    """
    name = SubjectName.name
    q = bindparam("q", type_=String)
    if how.startswith("windows"):
        cased = how.endswith("cased")
        patterns = any_(bindparam("patterns", type_=ARRAY(String)))
        match = name.ilike(patterns) if cased else name.like(patterns)

        def score(found: ColumnElement[str]) -> ColumnElement[Any]:
            window = (
                func.unnest(bindparam("windows", type_=ARRAY(String)))
                .table_valued("w")
                .render_derived("window")
            )
            text_ = func.lower(found) if cased else found
            return (
                select(func.count())
                .select_from(window)
                .where(func.strpos(text_, window.c.w) > 0)
                .scalar_subquery()
            )
    elif how == "word":
        match = q.op("<%")(name)

        def score(found: ColumnElement[str]) -> ColumnElement[Any]:
            return func.word_similarity(q, found)
    else:
        match = name.op("%")(q)

        def score(found: ColumnElement[str]) -> ColumnElement[Any]:
            return func.similarity(found, q)

    held = (
        select(SubjectName.subject_id, name, SubjectName.current)
        .where(match)
        .limit(bindparam("cap"))
        .subquery()
    )
    scored = score(held.c.name).label("score")
    best = (
        select(held.c.subject_id, held.c.name, held.c.current, scored)
        .order_by(scored.desc(), func.length(held.c.name))
        .limit(bindparam("ranked"))
        .subquery()
    )
    return (
        select(
            *_SUBJECT,
            best.c.name.label("matched_name"),
            best.c.current.label("matched_current"),
        )
        .join(best, best.c.subject_id == Subject.id)
        .order_by(best.c.score.desc(), func.length(best.c.name))
    )


# --------------------------------------------------------------------------- disclosure


def publicly_findable(
    session: Session, subjects: Sequence[SubjectIdentity], *, today: dt.date
) -> set[int]:
    """The ids of ``subjects`` the public may find: organisations always; persons only
    while a record of theirs is public (which a minor's, or a decision taken while the
    person was one, never is)."""
    allowed: set[int] = set()
    for part in chunks([s.id for s in subjects], 500):
        allowed.update(
            session.scalars(
                select(Subject.id).where(Subject.id.in_(part), subject_is_public(today))
            )
        )
    return allowed


def _by_name(session: Session, query: str, *, today: dt.date, limit: int) -> list[SearchHit]:
    short = len(query.replace(" ", "")) < 3
    candidates = _short_candidates(session, query) if short else _trigram_candidates(session, query)
    best: dict[int, tuple[float, _Candidate]] = {}
    for cand in candidates:
        score = _rank(query, cand.name, cand.how)
        if score < THRESHOLD:
            continue
        held = best.get(cand.subject.id)
        if held is None or (score, cand.current) > (held[0], held[1].current):
            best[cand.subject.id] = (score, cand)
    visible = publicly_findable(session, [c.subject for _, c in best.values()], today=today)
    hits = []
    for subject_id, (score, cand) in best.items():
        if subject_id not in visible:
            continue
        subject = cand.subject
        hits.append(
            SearchHit(
                subject_id=subject_id,
                ref=subject.key
                if subject.kind == SubjectKind.NATURAL_PERSON
                else subject.code_display,
                code=subject.code_display,
                kind=subject.kind,
                name=subject.name,
                name_en=subject.name_en,
                region=subject.region,
                matched=cand.name,
                matched_current=cand.current,
                score=round(score, 4),
                how="exact" if score == 1.0 else cand.how,
                status=getattr(subject, "status", "active"),
            )
        )
    hits.sort(key=lambda h: (-h.score, not h.matched_current, len(h.name), h.subject_id))
    return hits[:limit]
