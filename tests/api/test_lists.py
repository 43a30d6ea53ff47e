"""Lists, entries, measures and a subject's standing over HTTP, on both stores.

The principles under test: an entry is public only while its decision is (a minor's
never, whatever is stored), a person in a list is masked, and every measure names its
legal basis.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

from fastapi.testclient import TestClient
from sqlalchemy import select

from bonafides.context import Context
from bonafides.records import RecordInput, SubjectRef
from bonafides.rules.loader import packaged_rules
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store.tables import ListEntry, Record, Subject
from tests import factories
from tests.api.conftest import Store
from tests.security.world import record_of

TODAY = factories.office_today()
DEFAULTERS = "/api/v1/lists/courts.defaulters"
MINOR_NAME = "李小明"


def _defaulter(who: SubjectRef, days_ago: int = 10) -> RecordInput:
    return record_of(
        "courts.defaulter", who, source="spc", decided=TODAY - dt.timedelta(days=days_ago)
    )


def _listed(store: Store) -> tuple[SubjectRef, SubjectRef]:
    firm = factories.org(region="330106", name="杭州失信测试有限公司")
    adult = factories.person(region="110105", name="张三丰")
    store(_defaulter(firm, 10), _defaulter(adult, 40))
    return firm, adult


def minor_entry(settings: Settings) -> SubjectRef:
    """A minor's decision and an entry for it written straight into the store: the
    evaluator never lists a minor, and the read path must hide one regardless."""
    minor = factories.person(birth=TODAY - dt.timedelta(days=365 * 15), name=MINOR_NAME)
    ctx = Context(settings)
    try:
        with ctx.sessions.begin() as session:
            write_records(session, ctx.keys, [_defaulter(minor, 5)], actor="test")
            subject_id, record_id = session.execute(
                select(Subject.id, Record.id)
                .join(Record, Record.subject_id == Subject.id)
                .where(Subject.name == MINOR_NAME)
            ).one()
            session.add(
                ListEntry(
                    list_code="courts.defaulters",
                    line=1,
                    subject_id=subject_id,
                    trigger_record_id=record_id,
                    valid_from=TODAY - dt.timedelta(days=5),
                    valid_until=TODAY + dt.timedelta(days=700),
                    until_basis="term",
                    record_ids=str(record_id),
                    reason="courts.defaulters#1: planted",
                    status="current",
                    evaluator="rules-v1",
                    rules_version="test",
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
    finally:
        ctx.close()
    return minor


def test_every_list_with_owner_basis_and_count(client: TestClient, store: Store) -> None:
    _listed(store)
    lists = {item["code"]: item for item in client.get("/api/v1/lists").json()}
    assert set(lists) == set(packaged_rules().lists)
    defaulters = lists["courts.defaulters"]
    assert defaulters["kind"] == "black"
    assert defaulters["owner"] == "spc"
    assert defaulters["owner_zh"]
    assert defaulters["legal_basis"]
    assert defaulters["lines"][0]["term"]
    assert defaulters["entries_in_force"] == 2
    assert lists["tax.a_grade"]["kind"] == "red"
    assert all(item["legal_basis"] for item in lists.values())
    one = client.get(DEFAULTERS).json()
    assert one == defaulters
    missing = client.get("/api/v1/lists/no.such")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_entries_filtered_and_paged_in_the_store(client: TestClient, store: Store) -> None:
    firm, adult = _listed(store)
    page = client.get(f"{DEFAULTERS}/entries").json()
    assert page["total"] == 2
    assert next(e["code"] for e in page["entries"]) == firm.code  # newest first
    person = page["entries"][1]
    assert person["name"] == "张**"
    assert adult.code not in person["code"]
    assert "*" in person["code"]
    assert person["ref"].startswith("p:")
    assert person["name_en"] is None
    opened = client.get(f"/api/v1/subjects/{person['ref']}")
    assert opened.status_code == 200

    def codes(**params: str | int) -> list[str]:
        found = client.get(f"{DEFAULTERS}/entries", params=params)
        assert found.status_code == 200, found.text
        return [e["code"] for e in found.json()["entries"]]

    assert codes(region="33") == codes(region="3301") == codes(region="330106") == [firm.code]
    assert codes(region="11") == [person["code"]]
    assert codes(region="44") == []
    assert len(codes(field="courts")) == 2
    assert codes(field="tax") == []
    recent = (TODAY - dt.timedelta(days=20)).isoformat()
    assert codes(from_after=recent) == [firm.code]
    assert codes(from_before=recent) == [person["code"]]
    assert codes(until_before=TODAY.isoformat()) == []
    assert len(codes(until_after=TODAY.isoformat())) == 2
    assert codes(as_of=(TODAY + dt.timedelta(days=3650)).isoformat()) == []
    assert codes(as_of=(TODAY - dt.timedelta(days=30)).isoformat()) == [person["code"]]
    second = client.get(f"{DEFAULTERS}/entries", params={"limit": 1, "offset": 1}).json()
    assert second["total"] == 2
    assert len(second["entries"]) == 1
    for bad in ({"region": "1"}, {"region": "1101x"}, {"as_of": "2026-02-30"}, {"limit": 0}):
        refused = client.get(f"{DEFAULTERS}/entries", params=bad)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"] == "application/problem+json"


def test_csv_download_is_excel_ready_and_neutralised(client: TestClient, store: Store) -> None:
    firm = factories.org(name="=HYPERLINK(1)有限公司")
    store(_defaulter(firm))
    response = client.get(f"{DEFAULTERS}/entries.csv", params={"region": "11"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["code"] == firm.code
    assert rows[0]["name"] == "'=HYPERLINK(1)有限公司"
    assert rows[0]["valid_from"] == (TODAY - dt.timedelta(days=10)).isoformat()
    empty = client.get(f"{DEFAULTERS}/entries.csv", params={"region": "44"})
    assert len(empty.content.decode("utf-8-sig").splitlines()) == 1


def test_an_entry_goes_when_its_decision_is_no_longer_public(
    client: TestClient, store: Store
) -> None:
    firm = factories.org()
    store(dataclasses.replace(_defaulter(firm), published_until=TODAY - dt.timedelta(days=1)))
    assert client.get(f"{DEFAULTERS}/entries").json()["total"] == 0
    assert client.get(f"/api/v1/subjects/{firm.code}/lists").json()["memberships"] == []


def test_a_minor_never_appears_in_lists(
    client: TestClient, store: Store, settings: Settings
) -> None:
    _listed(store)
    minor_entry(settings)
    page = client.get(f"{DEFAULTERS}/entries", params={"limit": 200}).json()
    assert page["total"] == 2
    assert all(not e["name"].startswith("李") for e in page["entries"])
    assert client.get(DEFAULTERS).json()["entries_in_force"] == 2
    download = client.get(f"{DEFAULTERS}/entries.csv").content.decode("utf-8-sig")
    assert MINOR_NAME not in download
    assert "李*" not in download
    assert len(download.splitlines()) == 3


def test_measures_filtered_and_each_with_its_legal_basis(client: TestClient) -> None:
    every = client.get("/api/v1/measures").json()
    assert len(every) == len(packaged_rules().measures)
    assert all(m["legal_basis"] and all(m["legal_basis"]) for m in every)
    bid = client.get("/api/v1/measures", params={"action": "procurement.bid"}).json()
    assert bid
    assert all("procurement.bid" in m["actions"] for m in bid)
    assert "defaulters.procurement" in {m["code"] for m in bid}
    listed = client.get("/api/v1/measures", params={"list": "tax.a_grade"}).json()
    assert listed
    assert all("tax.a_grade" in m["lists"] for m in listed)
    assert all(m["effect"] not in ("prohibit", "restrict", "scrutinise") for m in listed)
    prohibit = client.get("/api/v1/measures", params={"effect": "prohibit"}).json()
    assert prohibit
    assert {m["effect"] for m in prohibit} == {"prohibit"}
    by_mof = client.get("/api/v1/measures", params={"department": "mof"}).json()
    assert by_mof
    assert {m["department"] for m in by_mof} == {"mof"}
    assert client.get("/api/v1/measures", params={"effect": "punish"}).status_code == 422
    actions = {a["code"]: a for a in client.get("/api/v1/actions").json()}
    assert "defaulters.procurement" in actions["procurement.bid"]["measures"]
    assert all(a["legal_basis"] for a in actions.values() if a["measures"])
    memoranda = client.get("/api/v1/memoranda").json()
    assert memoranda
    assert all(m["legal_basis"] and m["departments"] for m in memoranda)


def test_subject_lists_and_grades(client: TestClient, store: Store) -> None:
    firm, _adult = _listed(store)
    taxed = factories.org()
    store(
        record_of("tax.major_violation", taxed, source="sta", decided=TODAY - dt.timedelta(days=9))
    )
    held = client.get(f"/api/v1/subjects/{firm.code}/lists").json()
    (entry,) = held["memberships"]
    assert entry["list"] == "courts.defaulters"
    assert entry["in_force"] is True
    assert entry["valid_from"] == (TODAY - dt.timedelta(days=10)).isoformat()
    assert entry["rule"] == "courts.defaulters#1"
    assert entry["reason"]
    assert entry["legal_basis"]
    grades = client.get(f"/api/v1/subjects/{taxed.code}/grades").json()["grades"]
    tax = next(g for g in grades if g["scheme"] == "tax")
    assert tax["grade"] == "D"
    assert tax["rule"] == "grade:tax#1"
    assert tax["legal_basis"]
    assert client.get(f"/api/v1/subjects/{firm.code}/grades").json()["grades"] == []
    refs = client.get(f"{DEFAULTERS}/entries").json()["entries"]
    person = next(e["ref"] for e in refs if e["kind"] == "natural_person")
    assert client.get(f"/api/v1/subjects/{person}/grades").json()["grades"] == []
    assert client.get(f"/api/v1/subjects/{person}/lists").json()["memberships"]


def test_a_grade_from_a_shared_record_is_not_public(client: TestClient, store: Store) -> None:
    firm = factories.org()
    store(
        record_of(
            "tax.credit_grade",
            firm,
            source="sta",
            decided=TODAY - dt.timedelta(days=30),
            content={"grade": "A", "evaluation_year": TODAY.year - 1},
        )
    )
    assert client.get(f"/api/v1/subjects/{firm.code}/grades").json()["grades"] == []
    unknown = client.get(f"/api/v1/subjects/{factories.org().code}/lists")
    assert unknown.status_code == 404
