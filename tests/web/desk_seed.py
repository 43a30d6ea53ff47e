"""A store for the browser tests of the office's desk (issue 20): a company with an
account, a licensing department's clerk, an operator, a company on a black list, a
penalty whose publication has ended but whose retention has not, and one past its
retention, expired by the retention job."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from bonafides.app.records import expire
from bonafides.context import Context
from bonafides.rules.records import write_records
from bonafides.security import apikeys
from bonafides.security.accounts import bind_subject, create_account, principal_of
from bonafides.security.clock import SystemClock
from bonafides.security.roles import Role
from bonafides.store.db import migrate
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import Account
from tests import factories
from tests.security.world import record_of

PASSWORD = "correct horse battery staple"
FIRM_NAME = "甲食品有限公司"
LISTED_NAME = "乙失信示例有限公司"
#: The decision number of the firm's penalty published in 2022 and no longer published.
OLD_DECISION = "京市监罚〔2022〕7号"
#: The decision number of the firm's penalty of 2019, past its retention and expired.
EXPIRED_DECISION = "京市监罚〔2019〕3号"


@dataclass(frozen=True)
class Desk:
    firm: str
    listed: str
    unknown: str
    clerk_key: str


def seed(ctx: Context, *, today: dt.date) -> Desk:
    """Fill an empty store; the accounts are ``firm`` (bound to the company), ``clerk``
    (market regulation, which licenses food businesses) and ``operator``."""
    migrate(ctx.engine)
    clock = SystemClock()
    firm = factories.org(region="330106", name=FIRM_NAME)
    listed = factories.org(region="320104", name=LISTED_NAME)
    old = factories.penalty(firm, decision_no=OLD_DECISION, decision_date=dt.date(2022, 3, 1))
    recent = factories.penalty(firm, decision_date=today - dt.timedelta(days=20))
    ancient = factories.penalty(
        firm, decision_no=EXPIRED_DECISION, decision_date=dt.date(2019, 1, 2)
    )
    defaulter = record_of(
        "courts.defaulter", listed, source="spc", decided=today - dt.timedelta(days=15)
    )
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
        write_records(session, ctx.keys, [old, recent, ancient, defaulter], actor="seed")
        for username, role, department in (
            ("firm", Role.SUBJECT, None),
            ("clerk", Role.OFFICER, "samr"),
            ("operator", Role.OPERATOR, None),
        ):
            create_account(
                session,
                ctx.catalogue,
                ctx.keys,
                clock,
                username=username,
                role=role,
                display_name=username.title(),
                password=PASSWORD,
                actor="seed",
                department=department,
                subject_code=firm.code if role is Role.SUBJECT else None,
            )
        bind_subject(
            session,
            ctx.keys,
            clock,
            username="firm",
            code=firm.code,
            evidence="licence seen at the counter",
            actor="seed",
        )
        clerk = session.scalars(select(Account).where(Account.username == "clerk")).one()
        scopes = sorted(principal_of(clerk, via="key").scopes)
        issued = apikeys.issue_key(session, clock, clerk, name="desk", scopes=scopes, actor="seed")
    expire(ctx, as_of=today, actor="seed")  # the worker's daily retention job
    return Desk(firm.code, listed.code, factories.org().code, issued.token)
