"""Unusual-reading alerts for the credit office's operators (plan §67)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, HTTPException, Query
from pydantic import BaseModel, Field

from bonafides.app.alerts import acknowledge_alert, list_alerts
from bonafides.http.auth import require
from bonafides.http.deps import ContextDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.security.roles import Principal, Role, Scope
from bonafides.store.tables import ReadingAlert
from bonafides.workflows.common import ConflictError, NotFoundError

router = Routes(tags=["alerts"])

Operator = Annotated[Principal, Depends(require(Role.OPERATOR, scope=Scope.ADMIN))]


class AlertOut(BaseModel):
    id: int
    reader: str = Field(description="The account (user:NAME) or key (key:ID:NAME) that read.")
    day: dt.date = Field(description="The office day of the reads.")
    reads: int = Field(description="Non-public files read that day.")
    baseline: float = Field(description="The reader's median reads a day over the window.")
    threshold: int = Field(description="Reads above this raised the alert.")
    created_at: dt.datetime
    acknowledged_by: str | None = None
    acknowledged_at: dt.datetime | None = None
    note: str | None = None


class AcknowledgeIn(BaseModel):
    note: str = Field(min_length=3, max_length=500, description="What checking the log found.")


def _out(alert: ReadingAlert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        reader=alert.actor,
        day=alert.day,
        reads=alert.reads,
        baseline=alert.baseline,
        threshold=alert.threshold,
        created_at=alert.created_at,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        note=alert.note,
    )


@router.get("/alerts", response_model=list[AlertOut], responses=errors(401, 403))
def alerts(
    ctx: ContextDep,
    principal: Operator,
    include_acknowledged: Annotated[
        bool, Query(description="Also the alerts already acknowledged.")
    ] = False,
) -> list[AlertOut]:
    """Readers of non-public files far above their own baseline, newest day first."""
    return [_out(a) for a in list_alerts(ctx, include_acknowledged=include_acknowledged)]


@router.post(
    "/alerts/{alert_id}/acknowledge", response_model=AlertOut, responses=errors(401, 403, 404, 409)
)
def acknowledge(
    alert_id: int, body: AcknowledgeIn, ctx: ContextDep, principal: Operator
) -> AlertOut:
    """Close an alert with what checking the access log found (audited; once)."""
    try:
        alert = acknowledge_alert(ctx, alert_id, actor=principal.actor, note=body.note)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except ConflictError as exc:
        raise HTTPException(409, str(exc)) from exc
    return _out(alert)
