"""Subjects for the public: by code, by name, and their public records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, TypeVar

from anyio import to_thread
from fastapi import Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bonafides.app.public import (
    PublicRecord,
    PublicSubject,
    office_today,
    public_subject,
    read_public_subject_json,
)
from bonafides.app.public_lists import (
    GradeOut,
    MembershipOut,
    subject_grades,
    subject_memberships,
)
from bonafides.context import Context
from bonafides.errors import NotFound
from bonafides.http.auth import SearchLimit
from bonafides.http.deps import ContextDep, ReaderDep, ReadSessionDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.rules.loader import rules_for
from bonafides.store.search import MAX_QUERY, SearchResult, search_subjects

T = TypeVar("T")

router = Routes(tags=["subjects"])

#: A USCC, a resident ID number, or a person's ref (``p:`` and the keyed hash of it).
CODE_PATTERN = r"^(?:[0-9A-Za-z]{15,18}|p:[0-9a-f]{64})$"

Code = Annotated[
    str,
    Path(
        min_length=15,
        max_length=66,
        pattern=CODE_PATTERN,
        description="18-character USCC, or the ref of a subject or search hit; a resident "
        "ID number is still accepted here, but belongs in POST /subjects/lookup.",
        examples=["91110000600037341L"],
    ),
]


class LookupIn(BaseModel):
    code: str = Field(
        min_length=15,
        max_length=66,
        pattern=CODE_PATTERN,
        description="18-character USCC or resident ID number, or the ref of a subject.",
        examples=["91110000600037341L"],
    )


class SearchIn(BaseModel):
    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY,
        description="A USCC or resident ID (exact), or a name in Chinese or English "
        "(current or former; a typo is tolerated).",
    )
    limit: int = Field(default=20, ge=1, le=50)


class SearchHitOut(BaseModel):
    ref: str = Field(description="Opens the subject: GET /subjects/{ref}.")
    code: str = Field(description="USCC, or a resident ID masked.")
    kind: str
    name: str
    name_en: str | None
    region: str | None
    matched: str = Field(description="The name that matched: current, former or English.")
    matched_current: bool
    score: float = Field(ge=0, le=1)
    how: str = Field(description="code, exact, prefix, contains or similar.")
    status: str = Field(
        default="active",
        description="The register status: active, deregistered, revoked, suspended, cancelled, "
        "moved_out or merged (docs/register.md).",
    )


class SearchOut(BaseModel):
    query: str
    mode: str = Field(description="code, name, or empty for a blank query.")
    problem: str | None = Field(description="Why a code-shaped query is not a valid code.")
    hits: list[SearchHitOut]


class ListsOut(BaseModel):
    code: str
    as_of: dt.date
    memberships: list[MembershipOut] = Field(
        description="Entries whose deciding record is public, latest start first."
    )


class GradesOut(BaseModel):
    code: str
    as_of: dt.date
    grades: list[GradeOut] = Field(
        description="Per-field grades of an organisation whose records are all public; "
        "natural persons are never graded."
    )


class RecordsPage(BaseModel):
    code: str
    total: int
    offset: int
    limit: int
    records: list[PublicRecord]


def _found(found: T | None) -> T:
    """A subject the public may not see is answered like an unknown code; a malformed
    code is an ``InvalidCodeError`` (422), answered by the problem handler."""
    if found is None:
        raise NotFound("no such subject")
    return found


def _subject(ctx: ContextDep, session: Session, code: str) -> PublicSubject:
    return _found(public_subject(session, ctx, code, today=office_today(ctx)))


async def _public_file(ctx: Context, reader: ReaderDep, code: str) -> Response:
    body = await read_public_subject_json(reader, ctx, code, today=office_today(ctx))
    return Response(_found(body), media_type="application/json")


@router.get("/subjects/{code}", response_model=PublicSubject, responses=errors(404, 422))
async def subject(code: Code, ctx: ContextDep, reader: ReaderDep) -> Response:
    """A subject's public file: identity and the records the law makes public today.

    By USCC or by ``ref``. A person's ID number in the path still answers, for existing
    clients, but a URL is written to logs and histories: send the number in the body of
    ``POST /subjects/lookup`` instead, and use the ``ref`` it answers with for this and
    the ``/records``, ``/lists`` and ``/grades`` routes.
    """
    return await _public_file(ctx, reader, code)


@router.post("/subjects/lookup", response_model=PublicSubject, responses=errors(404, 422))
async def subject_lookup(body: LookupIn, ctx: ContextDep, reader: ReaderDep) -> Response:
    """A subject's public file, as ``GET /subjects/{code}`` answers it, for a code sent in
    the body, so that a person's ID number never appears in a URL or an access log."""
    return await _public_file(ctx, reader, body.code)


@router.get("/subjects/{code}/records", response_model=RecordsPage, responses=errors(404, 422))
def subject_records(
    code: Code,
    ctx: ContextDep,
    session: ReadSessionDep,
    field: Annotated[
        str | None, Query(max_length=32, description="Only records of this credit field.")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RecordsPage:
    """A subject's public records, newest decision first, a page at a time."""
    found = _subject(ctx, session, code)
    records = [r for r in found.records if field is None or r.field == field]
    return RecordsPage(
        code=found.code,
        total=len(records),
        offset=offset,
        limit=limit,
        records=records[offset : offset + limit],
    )


@router.get("/subjects/{code}/lists", response_model=ListsOut, responses=errors(404, 422))
def subject_lists(code: Code, ctx: ContextDep, session: ReadSessionDep) -> ListsOut:
    """A subject's red and black list entries, from and until when, and why."""
    found = _subject(ctx, session, code)
    held = subject_memberships(session, ctx, rules_for(ctx.catalogue), found)
    return ListsOut(code=found.code, as_of=found.as_of, memberships=held)


@router.get("/subjects/{code}/grades", response_model=GradesOut, responses=errors(404, 422))
def grades(code: Code, ctx: ContextDep, session: ReadSessionDep) -> GradesOut:
    """An organisation's grades today, each with the rule line that decided it."""
    found = _subject(ctx, session, code)
    held = subject_grades(session, ctx, rules_for(ctx.catalogue), found)
    return GradesOut(code=found.code, as_of=found.as_of, grades=held)


def _search(ctx: Context, q: str, limit: int) -> SearchResult:
    """The whole search in one trip to the thread pool, not one per dependency."""
    with ctx.sessions() as session:
        return search_subjects(session, ctx.keys, q, today=office_today(ctx), limit=limit)


def _search_out(result: SearchResult) -> SearchOut:
    return SearchOut(
        query=result.query,
        mode=result.mode,
        problem=result.problem,
        hits=[
            SearchHitOut(
                ref=h.ref,
                code=h.code,
                kind=h.kind,
                name=h.name,
                name_en=h.name_en,
                region=h.region,
                matched=h.matched,
                matched_current=h.matched_current,
                score=h.score,
                how=h.how,
                status=h.status,
            )
            for h in result.hits
        ],
    )


@router.get(
    "/search",
    response_model=SearchOut,
    responses=errors(422, 429),
    dependencies=[SearchLimit],
)
async def search(
    ctx: ContextDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY,
            description="A USCC or a name in Chinese or English (current or former; a typo "
            "is tolerated). A resident ID is still found, but belongs in POST /search.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchOut:
    """Subjects by code or by name, best match first. A query that may hold a person's
    ID number goes in the body of ``POST /search``, which answers the same."""
    return _search_out(await to_thread.run_sync(_search, ctx, q, limit))


@router.post(
    "/search",
    response_model=SearchOut,
    responses=errors(422, 429),
    dependencies=[SearchLimit],
)
async def search_posted(ctx: ContextDep, body: SearchIn) -> SearchOut:
    """``GET /search`` with the query in the body, so that a person's ID number never
    appears in a URL or an access log."""
    return _search_out(await to_thread.run_sync(_search, ctx, body.q, body.limit))
