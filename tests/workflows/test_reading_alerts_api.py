"""Unusual-reading alerts over HTTP: operators only; acknowledged once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bonafides.app.alerts import scan_day
from bonafides.security.roles import Role
from bonafides.settings import Settings
from bonafides.store.access import log_read
from bonafides.store.tables import Subject
from tests import factories
from tests.security.world import World, api


def test_operators_list_and_acknowledge_alerts_others_may_not(
    world: World, settings: Settings
) -> None:
    world.account("operator", Role.OPERATOR)
    world.account("clerk", Role.OFFICER, department="samr")
    world.penalty(factories.org())
    today = world.ctx.today()
    with world.ctx.sessions.begin() as session:
        subject_id = session.scalar(select(Subject.id))
        assert subject_id is not None
        for _ in range(120):
            log_read(
                session,
                actor="user:clerk",
                role="officer",
                department="samr",
                subject_id=subject_id,
                purpose="supervision",
                what="file",
                audience="authority",
            )
    (alert,) = scan_day(world.ctx, day=today, actor="cli:test")
    with api(settings, world) as client:
        op = {"Authorization": f"Bearer {world.key('operator')}"}
        clerk = {"Authorization": f"Bearer {world.key('clerk')}"}
        assert client.get("/api/v1/alerts").status_code == 401
        assert client.get("/api/v1/alerts", headers=clerk).status_code == 403
        listed = client.get("/api/v1/alerts", headers=op).json()
        assert [(a["reader"], a["reads"], a["day"]) for a in listed] == [
            ("user:clerk", 120, today.isoformat())
        ]
        url = f"/api/v1/alerts/{alert.id}/acknowledge"
        note = {"note": "audit of the year's files, approved by the director"}
        assert client.post(url, headers=clerk, json=note).status_code == 403
        done = client.post(url, headers=op, json=note)
        assert done.status_code == 200, done.text
        assert done.json()["acknowledged_by"].endswith(":operator")
        assert client.post(url, headers=op, json=note).status_code == 409
        assert (
            client.post("/api/v1/alerts/999/acknowledge", headers=op, json=note).status_code == 404
        )
        assert client.get("/api/v1/alerts", headers=op).json() == []
        everything = client.get("/api/v1/alerts?include_acknowledged=true", headers=op).json()
        assert everything[0]["note"] == note["note"]
        assert dt.date.fromisoformat(everything[0]["day"]) == today
