"""Counterparty checks for companies (plan §39, §70): an enterprise's account uploads its
counterparties' codes and gets the public status of each under one certificate, and may
keep the codes as a watchlist (``bonafides.app.watchlists``) to be told when a status
changes. One use case: authorise, act, audit, commit once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bonafides.app import watchlists
from bonafides.app.steps import run
from bonafides.app.unit import UnitOfWork
from bonafides.codes import CodeError, Uscc, parse_subject_code
from bonafides.context import Context
from bonafides.screening import counterparties
from bonafides.screening.counterparties import CounterpartyCheck, CounterpartyFileError
from bonafides.security.roles import Principal
from bonafides.workflows.common import ForbiddenError, InvalidError

#: The rate-limit bucket of counterparty checks, per account: the page and the API share it.
BUCKET = "counterparties"


@dataclass(frozen=True)
class Checked:
    check: CounterpartyCheck
    #: The watchlist the valid codes were kept as, with its signing secret (shown once).
    watchlist: watchlists.Created | None


def require_enterprise(principal: Principal) -> None:
    """Only an organisation's bound account: the check is a company's tool, and a person's
    account must not become a way to screen others in bulk."""
    key = principal.bound_subject
    if key is None:
        raise ForbiddenError("only a company's account, bound to its code, checks counterparties")
    try:
        is_org = isinstance(parse_subject_code(key), Uscc)
    except CodeError:
        is_org = False
    if not is_org:
        raise ForbiddenError("only a company's account checks counterparties")


def check_counterparties(
    unit: UnitOfWork,
    ctx: Context,
    principal: Principal,
    data: bytes,
    *,
    day: dt.date,
    keep_as: str | None = None,
) -> Checked:
    """Answer each code of the file with its public status, under one certificate; with
    ``keep_as``, keep the valid codes as a watchlist of that name."""
    require_enterprise(principal)
    try:
        codes = counterparties.read_codes(data)
    except CounterpartyFileError as exc:
        raise InvalidError(str(exc)) from None

    def act(session: Session) -> Checked:
        done = counterparties.check(session, ctx, inquirer=principal.actor, codes=codes, day=day)
        kept = None
        if keep_as is not None and keep_as.strip():
            valid = [
                code
                for code, line in zip(codes, done.lines, strict=True)
                if line["status"] != counterparties.INVALID
            ]
            kept = watchlists.created_in(
                session, ctx, principal, name=keep_as, url=None, codes=valid
            )
        return Checked(done, kept)

    return run(unit, act)
