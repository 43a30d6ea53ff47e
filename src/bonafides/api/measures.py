"""Actions, joint memoranda and measures: what follows from a list entry, and on what basis.

Public reference data from the rule set; nothing here reads a subject.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from bonafides.app.public_measures import (
    ActionOut,
    MeasureFilter,
    MeasureOut,
    MemorandumOut,
    actions,
    measures,
    memoranda,
)
from bonafides.http.deps import ContextDep
from bonafides.http.routes import Routes
from bonafides.rules.loader import rules_for
from bonafides.rules.model import Effect

router = Routes(tags=["measures"])

CODE = r"^[a-z0-9_.]+$"


@router.get("/actions", response_model=list[ActionOut])
def list_actions(ctx: ContextDep) -> list[ActionOut]:
    """Every action a measure may affect, with the measures that do and their legal basis."""
    return actions(rules_for(ctx.catalogue))


@router.get("/memoranda", response_model=list[MemorandumOut])
def list_memoranda(ctx: ContextDep) -> list[MemorandumOut]:
    """Every joint memorandum: signatories, document number, legal basis, measures."""
    return memoranda(rules_for(ctx.catalogue))


@router.get("/measures", response_model=list[MeasureOut])
def list_measures(
    ctx: ContextDep,
    action: Annotated[
        str | None,
        Query(max_length=64, pattern=CODE, description="Only measures affecting this action."),
    ] = None,
    list_code: Annotated[
        str | None,
        Query(
            alias="list",
            max_length=64,
            pattern=CODE,
            description="Only measures triggered by this list.",
        ),
    ] = None,
    department: Annotated[
        str | None,
        Query(max_length=32, pattern=CODE, description="Only measures this department applies."),
    ] = None,
    effect: Annotated[Effect | None, Query(description="Only measures of this effect.")] = None,
) -> list[MeasureOut]:
    """Reward and sanction measures, strongest effect first, each with its legal basis."""
    wanted = MeasureFilter(
        action=action,
        list=list_code,
        department=department,
        effect=effect.value if effect else None,
    )
    return measures(rules_for(ctx.catalogue), wanted)
