"""The review desk's pages and routes, as a browser without JavaScript and an API client
use them: the queue, an item with its candidates and their explanation, the three
judgements; another department's officer sees none of it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bonafides.app.ingest import ingest_file
from bonafides.catalogue import load_catalogue
from bonafides.matching.store import forget_indexes
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.tables import Record, ReviewItem, Subject
from tests import factories
from tests.ingest.test_service import write_csv
from tests.security.test_portal_pages import _csrf, _sign_in
from tests.security.world import World, api, cheap_passwords, ctx, settings, world

__all__ = ["cheap_passwords", "ctx", "settings", "world"]

KNOWN = "北京华信科技有限公司"


def _queue(world: World, tmp_path: Path, *names: str) -> tuple[str, list[int]]:
    """A known organisation, then rows naming it without a code: their review items."""
    forget_indexes()
    rtype = load_catalogue().type("market.penalty")
    huaxin = factories.org("110105", name=KNOWN)
    rows = []
    for name in names:
        row = factories.content_row(rtype, factories.org())
        row[rtype.content_field("uscc").column_zh] = ""
        row[rtype.content_field("subject_name").column_zh] = name
        rows.append(row)
    for path in (
        write_csv(tmp_path / "known.csv", [factories.content_row(rtype, huaxin)]),
        write_csv(tmp_path / "names.csv", rows),
    ):
        ingest_file(world.ctx, path, type_code="market.penalty", source="samr", actor="test")
    with world.ctx.sessions() as s:
        return huaxin.code, list(s.scalars(select(ReviewItem.id).order_by(ReviewItem.id)))


def test_the_desk_pages_list_explain_and_judge(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    code, (group, short) = _queue(world, tmp_path, "北京华信科技集团有限公司", "华信有限公司")
    world.account("samr-desk", Role.OFFICER, department="samr")
    with api(settings, world) as client:
        _sign_in(client, "samr-desk")
        queue = client.get("/review")
        assert queue.status_code == 200
        assert "北京华信科技集团有限公司" in queue.text
        assert f'href="/review/{group}"' in queue.text
        page = client.get(f"/review/{group}")
        assert page.status_code == 200
        assert code in page.text
        assert "same_core" in page.text or "place" in page.text, "the explanation is shown"
        for action in ('value="accept"', 'value="reject"', 'value="unsure"'):
            assert action in page.text
        token = _csrf(page.text)
        too_short = client.post(
            f"/review/{group}/judgement",
            data={"csrf": token, "action": "accept", "code": code, "reason": ""},
        )
        assert too_short.status_code == 422
        done = client.post(
            f"/review/{group}/judgement",
            data={"csrf": token, "action": "accept", "code": code, "reason": "同一集团主体"},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        after = client.get(f"/review/{group}")
        assert 'value="accept"' not in after.text
        assert "同一集团主体" in after.text
        again = client.post(
            f"/review/{group}/judgement",
            data={"csrf": token, "action": "reject", "code": code, "reason": "晚了一步"},
        )
        assert again.status_code == 409
        forged = client.post(
            f"/review/{short}/judgement",
            data={"csrf": "forged-token-forged-token", "action": "unsure", "reason": "再核实"},
        )
        assert forged.status_code == 403
        kept = client.post(
            f"/review/{short}/judgement",
            data={"csrf": token, "action": "unsure", "reason": "再核实一下"},
            follow_redirects=False,
        )
        assert kept.status_code == 303
        assert "再核实一下" in client.get(f"/review/{short}").text
        assert "待审核" in client.get("/review?status=all").text
        client.cookies.set("bonafides_lang", "en")
        english = client.get(f"/review/{short}")
        assert "Unsure, kept for review" in english.text
        assert "Records without a code" in english.text
    with world.ctx.sessions() as s:
        subject = s.scalar(select(Subject.id).where(Subject.key == code))
        linked = s.scalars(select(Record.decision_no).where(Record.subject_id == subject)).all()
        assert len(linked) == 2


def test_another_departments_officer_sees_nothing(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    _, (group,) = _queue(world, tmp_path, "北京华信科技集团有限公司")
    world.account("mee-desk", Role.OFFICER, department="mee")
    with api(settings, world) as client:
        _sign_in(client, "mee-desk")
        assert "北京华信科技集团有限公司" not in client.get("/review").text
        assert client.get(f"/review/{group}").status_code == 404


def test_the_api_routes_judge_as_the_pages_do(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    code, (group, short) = _queue(world, tmp_path, "北京华信科技集团有限公司", "华信有限公司")
    world.account("ops", Role.OPERATOR)
    world.account("mee-api", Role.OFFICER, department="mee")
    ops = {"authorization": f"Bearer {world.key('ops')}"}
    mee = {"authorization": f"Bearer {world.key('mee-api')}"}
    with api(settings, world) as client:
        assert client.get("/api/v1/review").status_code == 401
        listed = client.get("/api/v1/review", headers=ops)
        assert listed.status_code == 200, listed.text
        assert [i["id"] for i in listed.json()] == [group, short]
        assert client.get("/api/v1/review", headers=mee).json() == []
        reader = {"authorization": f"Bearer {world.key('mee-api', 'files:read')}"}
        assert client.get("/api/v1/review", headers=reader).status_code == 403
        assert client.get(f"/api/v1/review/{group}", headers=mee).status_code == 404
        item = client.get(f"/api/v1/review/{group}", headers=ops).json()
        assert item["candidates"][0]["code"] == code
        assert item["candidates"][0]["explanation"]
        bad = client.post(
            f"/api/v1/review/{group}/accept",
            headers=ops,
            json={"code": "91110000000000000X", "reason": "不在候选中"},
        )
        assert bad.status_code == 422
        rejected = client.post(
            f"/api/v1/review/{short}/reject", headers=ops, json={"code": code, "reason": "另一家"}
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["status"] == "rejected"
        assert rejected.json()["judgements"][0]["by"].endswith(":ops")
        accepted = client.post(
            f"/api/v1/review/{group}/accept", headers=ops, json={"code": code, "reason": "同一主体"}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["judgements"][-1]["record"] > 0
        unsure = client.post(
            f"/api/v1/review/{group}/unsure", headers=ops, json={"reason": "已判断过"}
        )
        assert unsure.status_code == 409
        done = client.get("/api/v1/review?status=all", headers=ops).json()
        assert {i["status"] for i in done} == {"accepted", "rejected"}
