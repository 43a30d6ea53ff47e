"""Counterparty checks for companies: a file of codes in, each code's public status out
(public records and lists only), under a certificate that verifies; rate limited; the
codes kept as a watchlist on request. Both stores."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bonafides.app.public import public_subject
from bonafides.app.screening import verify
from bonafides.screening import counterparties
from bonafides.screening.counterparties import CounterpartyFileError, read_codes
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import AuditEvent, Check, CheckLine
from tests import factories
from tests.security.test_portal_pages import _sign_in
from tests.security.world import World, api, cheap_passwords, ctx, record_of, settings, world

__all__ = ["cheap_passwords", "ctx", "settings", "world"]

BAD = "91110000000000000X"


def test_read_codes_skips_a_header_and_names_the_bad_row() -> None:
    assert read_codes("统一社会信用代码\r\nA1\r\n\r\n B2 ,x\n".encode("utf-8-sig")) == ["A1", "B2"]
    assert read_codes(b"code\nA1\n") == ["A1"]
    with pytest.raises(CounterpartyFileError, match="binary"):
        read_codes(b"PK\x03\x04\x00\x00")
    with pytest.raises(CounterpartyFileError, match="row 2: not UTF-8"):
        read_codes(b"A1\n\xff\xfe\n")
    with pytest.raises(CounterpartyFileError, match="row 4: at most 3 codes"):
        read_codes(b"A\nB\nC\nD\n", max_codes=3)
    with pytest.raises(CounterpartyFileError, match="no codes"):
        read_codes(b"code\n\n")


@pytest.fixture
def firms(world: World) -> dict[str, str]:
    """A defaulter (black list), a penalised firm, a firm with a shared record only, one
    unknown to the platform, and the checking company itself."""
    listed, penalised, shared, unknown, me = (factories.org() for _ in range(5))
    world.store(
        record_of(
            "courts.defaulter",
            listed,
            source="spc",
            decided=world.today - dt.timedelta(days=30),
            content={"performance": "none"},
        )
    )
    world.penalty(penalised)
    world.store(
        record_of(
            "ip.abnormal_patent_application",
            shared,
            source="cnipa",
            decided=world.today - dt.timedelta(days=20),
        )
    )
    world.account("buyer", Role.SUBJECT, subject=me)
    world.account("person", Role.SUBJECT, subject=factories.person())
    world.account("clerk", Role.OFFICER, department="samr")
    return {
        "listed": listed.code,
        "penalised": penalised.code,
        "shared": shared.code,
        "unknown": unknown.code,
    }


def _csv(firms: dict[str, str]) -> bytes:
    rows = ["code", firms["listed"], firms["penalised"], firms["shared"], firms["unknown"], BAD]
    return "\n".join(rows).encode()


def test_public_status_of_each_counterparty_under_a_certificate(
    world: World, settings: Settings, firms: dict[str, str]
) -> None:
    with api(settings, world) as client:
        buyer = {"Authorization": f"Bearer {world.key('buyer')}"}
        files = {"file": ("codes.csv", _csv(firms), "text/csv")}
        answer = client.post("/api/v1/counterparties", headers=buyer, files=files)
        assert answer.status_code == 201, answer.text
        body = answer.json()
    statuses = [(line["code"], line["status"]) for line in body["lines"]]
    assert statuses == [
        (firms["listed"], "black_listed"),
        (firms["penalised"], "negative_records"),
        (firms["shared"], "clear"),
        (firms["unknown"], "unknown"),
        (BAD, "invalid"),
    ]
    listed = body["lines"][0]
    assert [item["kind"] for item in listed["lists"]] == ["black"]
    assert body["lines"][1]["negative_records"] == 1
    assert "check character" in body["lines"][4]["reason"]
    assert body["counts"]["unknown"] == 1
    assert body["watchlist"] is None
    cert = body["certificate"]
    with world.ctx.sessions() as session:
        stored = session.scalars(select(Check).where(Check.cert_id == cert)).one()
        assert (stored.kind, stored.lines) == ("parties", 5)
        assert len(list(session.scalars(select(CheckLine)))) == 5
        tags = list(session.scalars(select(AuditEvent.tag)))
    assert "screening:counterparties:issued" in tags
    whole = verify(world.ctx, cert, actor="test")
    assert whole.intact
    assert whole.same_now
    line = verify(world.ctx, f"{cert}.2", actor="test")
    assert line.answer["status"] == "negative_records"
    assert line.same_now


def test_a_shared_record_only_is_not_disclosed(
    world: World, settings: Settings, firms: dict[str, str]
) -> None:
    """A firm whose only record is shared among authorities answers as its public page
    does: a company, nothing public against it; the record is not counted."""
    with world.ctx.sessions() as session:
        shared = counterparties.line_answer(session, world.ctx, 1, firms["shared"], world.today)
        page = public_subject(session, world.ctx, firms["shared"], today=world.today)
    assert page is not None
    assert page.records == []
    assert (shared["status"], shared["negative_records"], shared["lists"]) == ("clear", 0, [])
    assert shared["name"] == page.name


def test_only_a_company_checks_and_it_is_rate_limited(
    world: World, settings: Settings, firms: dict[str, str]
) -> None:
    files = {"file": ("codes.csv", _csv(firms), "text/csv")}
    with api(settings, world) as client:
        assert client.post("/api/v1/counterparties", files=files).status_code == 401
        for who in ("person", "clerk"):
            headers = {"Authorization": f"Bearer {world.key(who)}"}
            refused = client.post("/api/v1/counterparties", headers=headers, files=files)
            assert refused.status_code == 403, who
        buyer = {"Authorization": f"Bearer {world.key('buyer')}"}
        binary = {"file": ("codes.csv", b"\x00\x01", "text/csv")}
        bad = client.post("/api/v1/counterparties", headers=buyer, files=binary)
        assert bad.status_code == 422
        assert "binary" in bad.json()["title"]
        answers = [
            client.post("/api/v1/counterparties", headers=buyer, files=files).status_code
            for _ in range(settings.search_rate_per_minute)
        ]
    assert answers[-1] == 429
    assert set(answers[:-1]) == {201}


def test_the_codes_are_kept_as_a_watchlist(
    world: World, settings: Settings, firms: dict[str, str]
) -> None:
    with api(settings, world) as client:
        buyer = {"Authorization": f"Bearer {world.key('buyer')}"}
        files = {"file": ("codes.csv", _csv(firms), "text/csv")}
        answer = client.post(
            "/api/v1/counterparties", headers=buyer, files=files, data={"watchlist": "suppliers"}
        )
        assert answer.status_code == 201, answer.text
        kept = answer.json()["watchlist"]
        assert kept["name"] == "suppliers"
        assert kept["secret"]
        mine = client.get("/api/v1/watchlists", headers=buyer).json()
    assert [(w["id"], w["name"], w["codes"]) for w in mine] == [(kept["id"], "suppliers", 4)]


def test_counterparty_checks_in_the_portal(
    world: World, settings: Settings, firms: dict[str, str]
) -> None:
    with api(settings, world) as client:
        assert client.get("/counterparties", follow_redirects=False).status_code == 303
        csrf = _sign_in(client, "buyer")
        page = client.get("/counterparties")
        assert page.status_code == 200
        assert 'type="file"' in page.text
        done = client.post(
            "/counterparties",
            data={"csrf": csrf, "watchlist": ""},
            files={"file": ("codes.csv", _csv(firms), "text/csv")},
        )
        assert done.status_code == 200, done.text
        assert firms["listed"] in done.text
        with world.ctx.sessions() as session:
            cert = session.scalars(select(Check.cert_id)).one()
        assert cert in done.text
        binary = client.post(
            "/counterparties",
            data={"csrf": csrf},
            files={"file": ("codes.csv", b"\x00", "text/csv")},
        )
        assert binary.status_code == 422
        assert 'role="alert"' in binary.text
        client.cookies.clear()
        _sign_in(client, "person")
        assert client.get("/counterparties").status_code == 403
