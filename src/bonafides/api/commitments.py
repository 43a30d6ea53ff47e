"""Credit commitments on application over HTTP: the templates per licence type, a bound
subject signing one, and the licensing department recording whether it was kept."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from bonafides.api.cases import Answerer, Id, OwnWorkflows, SignedIn
from bonafides.app.due_process import commitments as steps
from bonafides.http.auth import http_error
from bonafides.http.deps import SessionDep, UnitDep
from bonafides.http.desks import DeskDep
from bonafides.http.problems import errors
from bonafides.http.routes import Routes
from bonafides.store.tables import Commitment
from bonafides.workflows.commitments import Breach, Outcome
from bonafides.workflows.common import WorkflowError

router = Routes(tags=["due process"])


class TemplateOut(BaseModel):
    licence_type: str
    licence_zh: str
    licence_en: str
    department: str
    term_months: int
    legal_basis: list[str]
    text: str = Field(description="What is signed: the Chinese text and its legal basis.")
    text_en: str = Field(description="An English rendering, for reading; not what is signed.")
    digest: str = Field(description="SHA-256 of `text`: send it back to sign.")


class SignIn(BaseModel):
    licence_type: str = Field(min_length=1, max_length=64)
    licence_ref: str = Field(min_length=1, max_length=100, description="The application number.")
    digest: str = Field(min_length=64, max_length=64, description="The digest of the text read.")


class CommitmentOut(BaseModel):
    id: int
    licence_type: str | None
    department: str | None
    licence_ref: str | None
    text: str
    digest: str
    signed_at: dt.datetime
    due_on: dt.date | None
    outcome: str | None
    outcome_note: str | None
    record_id: int | None = Field(description="The breach record, when one was found.")


class OutcomeIn(BaseModel):
    outcome: Outcome
    note: str = Field(min_length=1, max_length=2000)
    decision_no: str | None = Field(
        default=None, max_length=100, description="Required for a breach: the finding's number."
    )
    facts: str | None = Field(
        default=None, max_length=20_000, description="Required for a breach: what was not kept."
    )


def _out(c: Commitment) -> CommitmentOut:
    return CommitmentOut(
        id=c.id,
        licence_type=c.template,
        department=c.department,
        licence_ref=c.licence_ref,
        text=c.text,
        digest=c.digest,
        signed_at=c.signed_at,
        due_on=c.due_on,
        outcome=c.outcome,
        outcome_note=c.outcome_note,
        record_id=c.record_id,
    )


@router.get("/commitments/templates", response_model=list[TemplateOut])
def commitment_templates(desk: DeskDep) -> list[TemplateOut]:
    """The commitment each licence type asks for: text, legal basis, term, department."""
    return [
        TemplateOut(
            licence_type=t.code,
            licence_zh=t.licence_zh,
            licence_en=t.licence_en,
            department=t.department,
            term_months=t.term_months,
            legal_basis=list(t.legal_basis),
            text=t.text,
            text_en=t.text_en,
            digest=t.digest,
        )
        for t in steps.templates(desk)
    ]


@router.post(
    "/commitments",
    response_model=CommitmentOut,
    status_code=201,
    responses=errors(401, 403, 409, 422),
)
def sign_commitment(
    body: SignIn, unit: UnitDep, desk: DeskDep, subject: OwnWorkflows
) -> CommitmentOut:
    """Sign the licence type's commitment for one application (a bound subject)."""
    try:
        signed = steps.sign_commitment(
            unit,
            desk,
            subject,
            licence_type=body.licence_type,
            licence_ref=body.licence_ref,
            accept_digest=body.digest,
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(signed)


@router.get("/commitments", response_model=list[CommitmentOut], responses=errors(401, 403))
def list_commitments(
    session: SessionDep, desk: DeskDep, principal: SignedIn
) -> list[CommitmentOut]:
    """One's own licence commitments, the department's, or all (operators)."""
    try:
        return [_out(c) for c in steps.list_commitments(session, desk, principal)]
    except WorkflowError as exc:
        raise http_error(exc) from exc


@router.post(
    "/commitments/{commitment_id}/outcome",
    response_model=CommitmentOut,
    responses=errors(401, 403, 404, 409, 422),
)
def record_outcome(
    commitment_id: Id, body: OutcomeIn, unit: UnitDep, desk: DeskDep, officer: Answerer
) -> CommitmentOut:
    """Kept or breached (the licensing department, once); a breach becomes a
    `general.commitment_breach` record with the finding's number."""
    breach = (
        Breach(body.decision_no or "", body.facts or "")
        if body.outcome is Outcome.BREACHED
        else None
    )
    try:
        done = steps.record_outcome(
            unit, desk, officer, commitment_id, outcome=body.outcome, note=body.note, breach=breach
        )
    except WorkflowError as exc:
        raise http_error(exc) from exc
    return _out(done)
