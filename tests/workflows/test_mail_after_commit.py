"""Each due-process step mails the same people the same thing whether it was taken in the
portal or through the API, right after its commit; a step that fails mails nobody.

Mail goes through a real SMTP server on loopback (aiosmtpd). Ids and decision numbers
differ between the two cases of a pair, so the subjects are compared with digits masked.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bonafides.records import SubjectRef
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import Notification
from tests import factories
from tests.security.test_portal_pages import _sign_in
from tests.security.world import World, api
from tests.workflows.conftest import Inbox

GROUNDS = "The decision names the wrong branch of the company."
REASONS = "The branch was checked against the licence register."
EVIDENCE = "The fine was paid in full on 2026-01-02, receipt attached."
COMMITMENT = "本单位承诺依法诚信经营，按时履行行政处罚决定，如有违反愿承担相应责任。"
REPORT = "Sells counterfeit brand goods from the back room every evening."
ANSWER = "Inspected on the 3rd; the goods were seized and a case opened."
RECEIPT = [("files", ("receipt.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))]
Mails = list[tuple[str, str]]


def _taken(inbox: Inbox) -> Mails:
    """The mails received since the last call, as (recipient, subject with digits masked)."""
    got = sorted(
        (rcpt, re.sub(r"\d+", "#", str(message["Subject"])))
        for rcpts, message in inbox.messages
        for rcpt in rcpts
    )
    inbox.messages.clear()
    return got


@pytest.fixture
def mailing(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    _, port = smtp
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_from": "office@credit.example.cn",
        }
    )


def _people(world: World) -> tuple[SubjectRef, SubjectRef]:
    one, two = factories.org(name="甲公司"), factories.org(name="乙公司")
    world.account("one", Role.SUBJECT, subject=one, email="legal@one.example.cn")
    world.account("two", Role.SUBJECT, subject=two, email="legal@two.example.cn")
    world.account("clerk", Role.OFFICER, department="samr", email="clerk@samr.example.cn")
    return one, two


def _bearer(world: World, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.key(username)}"}


def _portal(client: TestClient, username: str) -> str:
    client.cookies.clear()
    return _sign_in(client, username)


def _mask(mails: Mails, **names: str) -> Mails:
    """The two cases of a pair have different subjects: name them alike."""
    out = []
    for rcpt, subject in mails:
        for real, alias in names.items():
            rcpt = rcpt.replace(real, alias)
        out.append((rcpt, subject))
    return sorted(out)


def test_objection_steps_mail_alike_from_the_portal_and_the_api(
    world: World, mailing: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    one, two = _people(world)
    by_api, by_portal = world.penalty(one), world.penalty(two)
    with api(mailing, world) as client:
        opened = client.post(
            "/api/v1/objections",
            headers=_bearer(world, "one"),
            data={"record_id": str(by_api), "grounds": GROUNDS},
        )
        assert opened.status_code == 201, opened.text
        api_opened = _mask(_taken(inbox), one="someone")
        csrf = _portal(client, "two")
        page = client.post(
            "/objections",
            data={"csrf": csrf, "record": str(by_portal), "grounds": GROUNDS},
            follow_redirects=False,
        )
        assert page.status_code == 303, page.text
        portal_opened = _mask(_taken(inbox), two="someone")
        assert api_opened == portal_opened
        assert ("clerk@samr.example.cn", "Objection # to decision 京市监罚〔#〕#号") in api_opened
        assert ("legal@someone.example.cn", "Your objection # was received") in api_opened

        decided = client.post(
            f"/api/v1/objections/{opened.json()['id']}/decision",
            headers=_bearer(world, "clerk"),
            json={"outcome": "upheld", "reasons": REASONS},
        )
        assert decided.status_code == 200, decided.text
        api_decided = _mask(_taken(inbox), one="someone")
        clerk = _portal(client, "clerk")
        number = page.headers["location"].rsplit("/", 1)[1]
        answer = client.post(
            f"/objections/{number}/decision",
            data={"csrf": clerk, "outcome": "upheld", "reasons": REASONS},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        assert _mask(_taken(inbox), two="someone") == api_decided
        assert api_decided == [("legal@someone.example.cn", "Your objection # was decided: upheld")]


def test_repair_steps_mail_alike_from_the_portal_and_the_api(
    world: World, mailing: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    one, two = _people(world)
    by_api, by_portal = world.penalty(one, days_ago=150), world.penalty(two, days_ago=150)
    with api(mailing, world) as client:
        applied = client.post(
            "/api/v1/repairs",
            headers=_bearer(world, "one"),
            data={"record_id": str(by_api), "evidence": EVIDENCE, "commitment": COMMITMENT},
            files=RECEIPT,
        )
        assert applied.status_code == 201, applied.text
        api_applied = _mask(_taken(inbox), one="someone")
        csrf = _portal(client, "two")
        page = client.post(
            "/repairs",
            data={
                "csrf": csrf,
                "record": str(by_portal),
                "evidence": EVIDENCE,
                "commitment": COMMITMENT,
                "sign": "yes",
            },
            files=RECEIPT,
            follow_redirects=False,
        )
        assert page.status_code == 303, page.text
        assert _mask(_taken(inbox), two="someone") == api_applied
        assert ("clerk@samr.example.cn", "Credit repair application #") in api_applied

        decided = client.post(
            f"/api/v1/repairs/{applied.json()['id']}/decision",
            headers=_bearer(world, "clerk"),
            json={"approve": True, "reasons": REASONS},
        )
        assert decided.status_code == 200, decided.text
        api_decided = _mask(_taken(inbox), one="someone")
        clerk = _portal(client, "clerk")
        number = page.headers["location"].rsplit("/", 1)[1]
        answer = client.post(
            f"/repairs/{number}/decision",
            data={"csrf": clerk, "decision": "approve", "reasons": REASONS},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        assert _mask(_taken(inbox), two="someone") == api_decided
        assert api_decided == [
            ("legal@someone.example.cn", "Your credit repair application #: repaired")
        ]


def test_complaint_steps_mail_alike_from_the_portal_and_the_api(
    world: World, mailing: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    _people(world)
    report: dict[str, Any] = {
        "kind": "report",
        "text": REPORT,
        "about": "北京测试有限公司",
        "type": "market.penalty",
    }
    with api(mailing, world) as client:
        filed = client.post("/api/v1/complaints", headers=_bearer(world, "one"), json=report)
        assert filed.status_code == 201, filed.text
        api_filed = _mask(_taken(inbox), one="someone")
        csrf = _portal(client, "two")
        page = client.post(
            "/complaints",
            data={"csrf": csrf, **report, "code": "", "subject": ""},
            follow_redirects=False,
        )
        assert page.status_code == 303, page.text
        assert _mask(_taken(inbox), two="someone") == api_filed
        assert api_filed == [("clerk@samr.example.cn", "New report #")]

        answered = client.post(
            f"/api/v1/complaints/{filed.json()['id']}/answer",
            headers=_bearer(world, "clerk"),
            json={"answer": ANSWER},
        )
        assert answered.status_code == 200, answered.text
        api_answered = _mask(_taken(inbox), one="someone")
        clerk = _portal(client, "clerk")
        number = page.headers["location"].rsplit("/", 1)[1]
        answer = client.post(
            f"/complaints/{number}/answer",
            data={"csrf": clerk, "answer": ANSWER},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        assert _mask(_taken(inbox), two="someone") == api_answered
        assert [rcpt for rcpt, _ in api_answered] == ["legal@someone.example.cn"]


def test_a_step_that_fails_mails_nobody(
    world: World, mailing: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    one, _two = _people(world)
    record = world.penalty(one)
    with api(mailing, world) as client:
        csrf = _portal(client, "one")
        short = client.post(
            "/objections", data={"csrf": csrf, "record": str(record), "grounds": "no"}
        )
        assert short.status_code == 422
        assert _taken(inbox) == []
        opened = client.post(
            "/objections",
            data={"csrf": csrf, "record": str(record), "grounds": GROUNDS},
            follow_redirects=False,
        )
        assert opened.status_code == 303
        assert len(_taken(inbox)) == 2
        again = client.post(
            "/api/v1/objections",
            headers=_bearer(world, "one"),
            data={"record_id": str(record), "grounds": GROUNDS},
        )
        assert again.status_code == 409, "one open objection per record"
        number = opened.headers["location"].rsplit("/", 1)[1]
        clerk = _portal(client, "clerk")
        first = client.post(
            f"/objections/{number}/decision",
            data={"csrf": clerk, "outcome": "upheld", "reasons": REASONS},
            follow_redirects=False,
        )
        assert first.status_code == 303
        assert len(_taken(inbox)) == 1
        second = client.post(
            f"/objections/{number}/decision",
            data={"csrf": clerk, "outcome": "revoked", "reasons": REASONS},
            follow_redirects=False,
        )
        assert second.status_code == 200, "the decision on file, shown"
        assert _taken(inbox) == []
    with world.ctx.sessions() as session:
        statuses = session.scalars(select(Notification.mail_status)).all()
    assert set(statuses) == {"sent"}, "nothing left waiting for `bonafides notifications send`"
