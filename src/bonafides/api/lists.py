"""Red and black lists for the public: definitions, entries a page at a time, CSV download.

Entries are public only while the decision behind them is (``bonafides.store.lists``);
the filters and the paging run in the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.responses import StreamingResponse

from bonafides.app.public import office_today
from bonafides.app.public_lists import (
    EntriesPage,
    ListOut,
    all_lists,
    entries_csv,
    entries_page,
    figures_of,
    list_counts,
    list_out,
)
from bonafides.http.deps import ContextDep, SessionDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.rules.loader import rules_for
from bonafides.rules.model import ListRule
from bonafides.store.lists import EntryFilter

router = Routes(tags=["lists"])

#: Deepest page reachable by offset; a client wanting everything downloads the CSV.
MAX_OFFSET = 100_000

ListCode = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_.]+$",
        description="The list's code, e.g. courts.defaulters.",
        examples=["courts.defaulters"],
    ),
]


def entry_filter(
    code: ListCode,
    ctx: ContextDep,
    region: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{2}(?:[0-9]{2}){0,2}$",
            description="First 2, 4 or 6 digits of the subject's region code.",
        ),
    ] = None,
    field: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[a-z_]+$",
            description="Credit field of the deciding record.",
        ),
    ] = None,
    as_of: Annotated[
        dt.date | None, Query(description="Entries in force on this day; default today.")
    ] = None,
    from_after: Annotated[dt.date | None, Query(description="Listed on or after.")] = None,
    from_before: Annotated[dt.date | None, Query(description="Listed on or before.")] = None,
    until_after: Annotated[dt.date | None, Query(description="Ends on or after.")] = None,
    until_before: Annotated[dt.date | None, Query(description="Ends on or before.")] = None,
) -> EntryFilter:
    """The filter of a list's entries; 404 for an unknown list."""
    if code not in rules_for(ctx.catalogue).lists:
        raise HTTPException(404, f"no list {code!r}")
    today = office_today(ctx)
    return EntryFilter(
        list_code=code,
        today=today,
        as_of=as_of or today,
        region=region,
        field=field,
        from_after=from_after,
        from_before=from_before,
        until_after=until_after,
        until_before=until_before,
    )


Filter = Annotated[EntryFilter, Depends(entry_filter)]


@router.get("/lists", response_model=list[ListOut])
def lists(request: Request, ctx: ContextDep, session: SessionDep) -> list[ListOut]:
    """Every red and black list: owner, legal basis, terms, and public entries in force."""
    today = office_today(ctx)
    return all_lists(figures_of(request), session, rules_for(ctx.catalogue), today=today)


def _rule(ctx: ContextDep, code: str) -> ListRule:
    rule = rules_for(ctx.catalogue).lists.get(code)
    if rule is None:
        raise HTTPException(404, f"no list {code!r}")
    return rule


@router.get("/lists/{code}", response_model=ListOut, responses=errors(404, 422))
def one_list(code: ListCode, request: Request, ctx: ContextDep, session: SessionDep) -> ListOut:
    """One list: who keeps it, on what legal basis, its rule lines and terms."""
    rule = _rule(ctx, code)
    counts = list_counts(figures_of(request), session, office_today(ctx))
    return list_out(rule, ctx.catalogue, counts.get(code, 0))


@router.get("/lists/{code}/entries", response_model=EntriesPage, responses=errors(404, 422))
def list_entries(
    wanted: Filter,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EntriesPage:
    """A list's public entries in force on a day, newest first, with the total."""
    return entries_page(session, wanted, offset=offset, limit=limit)


@router.get(
    "/lists/{code}/entries.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The entries as CSV (UTF-8 with a byte order mark, for Excel).",
        },
        **errors(404, 422),
    },
)
def list_entries_csv(wanted: Filter, ctx: ContextDep) -> StreamingResponse:
    """The same entries as a CSV download, all of them, streamed."""
    name = f"{wanted.list_code}-{wanted.as_of.isoformat()}.csv"
    return StreamingResponse(
        entries_csv(ctx, wanted),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
