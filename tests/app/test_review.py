"""The review desk: rows without a code judged by staff, and merge and split of subjects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bonafides.app import merging, review
from bonafides.app.ingest import ingest_file
from bonafides.app.matching import match_names
from bonafides.app.unit import UnitOfWork
from bonafides.catalogue import RecordType, load_catalogue
from bonafides.context import Context
from bonafides.matching.store import forget_indexes
from bonafides.records import SubjectRef
from bonafides.security import audit
from bonafides.security.roles import ROLE_SCOPES, Principal, Role
from bonafides.settings import Settings
from bonafides.store.access import access_log
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import (
    AuditEvent,
    MatchLink,
    Record,
    ReviewItem,
    ReviewJudgement,
    Subject,
    SubjectName,
)
from bonafides.workflows.common import ConflictError, ForbiddenError, InvalidError, NotFoundError
from tests import factories
from tests.ingest.test_service import PENALTY, TODAY, write_csv

#: Also on PostgreSQL partitioned by subject (migration 0031).
pytestmark = pytest.mark.partitioned

OPERATOR = Principal(
    role=Role.OPERATOR, username="desk", scopes=ROLE_SCOPES[Role.OPERATOR], via="session"
)
SAMR = Principal(
    role=Role.OFFICER,
    username="samr-officer",
    department="samr",
    scopes=ROLE_SCOPES[Role.OFFICER],
    via="session",
)
TAX = Principal(
    role=Role.OFFICER,
    username="tax-officer",
    department="sta",
    scopes=ROLE_SCOPES[Role.OFFICER],
    via="session",
)
#: One name matching gives to review with one candidate (a group's name, 集团).
GROUP_NAME = "北京华信科技集团有限公司"


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="test-secret-key-123", demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    forget_indexes()
    yield context
    context.close()


@pytest.fixture
def penalty() -> RecordType:
    return load_catalogue().type(PENALTY)


def _ingest(ctx: Context, path: Path) -> dict[str, int]:
    return ingest_file(
        ctx, path, type_code=PENALTY, source="samr", actor="test", today=TODAY
    ).counts


def _without_code(penalty: RecordType, name: str) -> dict[str, str]:
    row = factories.content_row(penalty, factories.org())
    row[penalty.content_field("uscc").column_zh] = ""
    row[penalty.content_field("subject_name").column_zh] = name
    return row


def _known(ctx: Context, penalty: RecordType, tmp_path: Path, *orgs: SubjectRef) -> None:
    rows = [factories.content_row(penalty, o) for o in orgs]
    assert _ingest(ctx, write_csv(tmp_path / "known.csv", rows))["accepted"] == len(orgs)


def _queued(ctx: Context, penalty: RecordType, tmp_path: Path, name: str) -> tuple[Path, int]:
    path = write_csv(tmp_path / "unlinked.csv", [_without_code(penalty, name)])
    assert _ingest(ctx, path)["review"] == 1
    with ctx.sessions() as s:
        item = s.scalar(select(ReviewItem).order_by(ReviewItem.id.desc()))
        assert item is not None
        return path, item.id


def _subject_id(ctx: Context, code: str) -> int:
    with ctx.sessions() as s:
        found = s.scalar(select(Subject.id).where(Subject.key == code))
        assert found is not None
        return found


def _records_of(ctx: Context, code: str) -> list[int]:
    with ctx.sessions() as s:
        return sorted(
            s.scalars(select(Record.id).where(Record.subject_id == _subject_id(ctx, code)))
        )


def test_the_queue_lists_what_each_may_judge(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    _known(ctx, penalty, tmp_path, huaxin)
    _, item_id = _queued(ctx, penalty, tmp_path, GROUP_NAME)
    with ctx.sessions() as s:
        catalogue = ctx.catalogue
        assert [i.id for i in review.list_queue(s, catalogue, OPERATOR)] == [item_id]
        assert [i.id for i in review.list_queue(s, catalogue, SAMR)] == [item_id]
        assert review.list_queue(s, catalogue, TAX) == []
        assert review.list_queue(s, catalogue, OPERATOR, department="sta") == []
        assert review.list_queue(s, catalogue, OPERATOR, type_code="courts.defaulter") == []
        assert review.list_queue(s, catalogue, OPERATOR, status="accepted") == []
        with pytest.raises(InvalidError):
            review.list_queue(s, catalogue, OPERATOR, status="nonsense")
        with pytest.raises(ForbiddenError):
            review.list_queue(s, catalogue, Principal(role=Role.INQUIRER, department="sta"))
    with UnitOfWork(ctx.sessions) as unit:
        view = review.read_item(unit, ctx, SAMR, item_id)
        assert [c["code"] for c in view.candidates] == [huaxin.code]
        assert view.candidates[0]["explanation"]
        assert view.pending
    with UnitOfWork(ctx.sessions) as unit, pytest.raises(NotFoundError):
        review.read_item(unit, ctx, TAX, item_id)


def test_accept_links_the_row_audited_and_in_the_subjects_file(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    _known(ctx, penalty, tmp_path, huaxin)
    _, item_id = _queued(ctx, penalty, tmp_path, GROUP_NAME)
    before = _records_of(ctx, huaxin.code)
    with UnitOfWork(ctx.sessions) as unit:
        view = review.accept(
            unit, ctx, SAMR, item_id, code=huaxin.code, reason="集团更名前的同一主体"
        )
        assert view.item.status == review.ACCEPTED
    after = _records_of(ctx, huaxin.code)
    assert len(after) == len(before) + 1
    record_id = (set(after) - set(before)).pop()
    with ctx.sessions() as s:
        judgement = s.scalar(select(ReviewJudgement))
        assert judgement is not None
        assert (judgement.verdict, judgement.code, judgement.record_id) == (
            "accept",
            huaxin.code,
            record_id,
        )
        assert judgement.actor == "user:samr-officer"
        record = s.get(Record, record_id)
        assert record is not None
        assert record.version == 1
        assert record.versions[0].changed_by == "user:samr-officer"
        log = access_log(s, _subject_id(ctx, huaxin.code), limit=50)
        assert "review:item:accepted" in [e.tag for e in log]
        assert audit.verify(s).ok
    with UnitOfWork(ctx.sessions) as unit, pytest.raises(ConflictError):
        review.accept(unit, ctx, SAMR, item_id, code=huaxin.code, reason="again, twice")


def test_accept_needs_a_candidate_and_a_reason(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    other = factories.org("310105", name="上海申达物流有限公司")
    _known(ctx, penalty, tmp_path, huaxin, other)
    _, item_id = _queued(ctx, penalty, tmp_path, GROUP_NAME)
    with UnitOfWork(ctx.sessions) as unit, pytest.raises(InvalidError):
        review.accept(unit, ctx, OPERATOR, item_id, code=other.code, reason="not proposed")
    with UnitOfWork(ctx.sessions) as unit, pytest.raises(InvalidError):
        review.accept(unit, ctx, OPERATOR, item_id, code=huaxin.code, reason=" ")
    with UnitOfWork(ctx.sessions) as unit, pytest.raises(NotFoundError):
        review.accept(unit, ctx, TAX, item_id, code=huaxin.code, reason="not my department")
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ReviewJudgement)) == 0


def test_a_rejected_candidate_is_never_proposed_again(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    _known(ctx, penalty, tmp_path, huaxin)
    path, item_id = _queued(ctx, penalty, tmp_path, GROUP_NAME)
    with UnitOfWork(ctx.sessions) as unit:
        view = review.reject(unit, ctx, OPERATOR, item_id, code=huaxin.code, reason="另一家集团")
    assert view.candidates == []
    assert view.item.status == review.REJECTED
    # The register learns the name as a former name of the candidate: name matching alone
    # would now link the row at once. The same row again is not linked to it...
    with ctx.sessions.begin() as s:
        s.add(
            SubjectName(
                subject_id=_subject_id(ctx, huaxin.code), name=GROUP_NAME, lang="zh", current=False
            )
        )
    counts = _ingest(ctx, path)
    assert (counts["matched"], counts["accepted"]) == (0, 0)
    # ... nor is another row spelling the name otherwise, which goes to review without it.
    other = write_csv(tmp_path / "other.csv", [_without_code(penalty, "北京華信科技集團有限公司")])
    counts = _ingest(ctx, other)
    assert (counts["matched"], counts["review"]) == (0, 1)
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MatchLink)) == 0
        latest = s.scalar(select(ReviewItem).order_by(ReviewItem.id.desc()))
        assert latest is not None
        assert [c["code"] for c in latest.candidates or []] == []
    with UnitOfWork(ctx.sessions) as unit:
        assert review.read_item(unit, ctx, OPERATOR, latest.id).candidates == []


def test_unsure_keeps_the_item_on_the_desk_with_the_note(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    _known(ctx, penalty, tmp_path, huaxin)
    _, item_id = _queued(ctx, penalty, tmp_path, GROUP_NAME)
    with UnitOfWork(ctx.sessions) as unit:
        view = review.unsure(unit, ctx, SAMR, item_id, reason="待核实营业执照")
    assert view.item.status == review.UNSURE_STATUS
    assert [(j.verdict, j.reason) for j in view.judgements] == [("unsure", "待核实营业执照")]
    assert [c["code"] for c in view.candidates] == [huaxin.code]
    with ctx.sessions() as s:
        assert [i.id for i in review.list_queue(s, ctx.catalogue, SAMR, status="unsure")] == [
            item_id
        ]
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.tag == "review:item:unsure"))
    with UnitOfWork(ctx.sessions) as unit:
        done = review.accept(unit, ctx, SAMR, item_id, code=huaxin.code, reason="已核实")
    assert done.item.status == review.ACCEPTED


def test_merge_then_split_restores_exactly(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    old = factories.org("110105", name="北京旧华科技有限公司")
    new = factories.org("110105", name="北京新华科技有限公司")
    _known(ctx, penalty, tmp_path, old, new)
    old_records, new_records = _records_of(ctx, old.code), _records_of(ctx, new.code)
    with ctx.sessions() as s:
        status_before = s.scalar(select(Subject.status).where(Subject.key == old.code))
    with UnitOfWork(ctx.sessions) as unit:
        done = merging.merge_subjects(
            unit, ctx, OPERATOR, from_code=old.code, into_code=new.code, reason="登记机关公告合并"
        )
    assert done.records == len(old_records)
    assert _records_of(ctx, old.code) == []
    assert _records_of(ctx, new.code) == sorted(old_records + new_records)
    with ctx.sessions() as s:
        merged = s.scalar(select(Subject).where(Subject.key == old.code))
        assert merged is not None
        assert merged.status == "merged"
        for code in (old.code, new.code):
            tags = [e.tag for e in access_log(s, _subject_id(ctx, code), limit=50)]
            assert "subjects:subject:merged" in tags
    with UnitOfWork(ctx.sessions) as unit, pytest.raises(ConflictError):
        merging.merge_subjects(
            unit, ctx, OPERATOR, from_code=old.code, into_code=new.code, reason="twice over"
        )
    with UnitOfWork(ctx.sessions) as unit, pytest.raises(ForbiddenError):
        merging.split_subject(unit, ctx, SAMR, from_code=old.code, reason="not an operator")
    with UnitOfWork(ctx.sessions) as unit:
        merging.split_subject(unit, ctx, OPERATOR, from_code=old.code, reason="合并公告撤销")
    assert _records_of(ctx, old.code) == old_records
    assert _records_of(ctx, new.code) == new_records
    with ctx.sessions() as s:
        assert s.scalar(select(Subject.status).where(Subject.key == old.code)) == status_before
        assert audit.verify(s).ok
    with UnitOfWork(ctx.sessions) as unit, pytest.raises(ConflictError):
        merging.split_subject(unit, ctx, OPERATOR, from_code=old.code, reason="not merged now")


def test_an_accepted_pair_links_later_rows_of_the_name(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    """Once a person accepted 北京华信科技集团有限公司 as 北京华信科技有限公司, a later row
    naming it however spelled is linked at once, in ingest and in ``bonafides match``,
    saying whose judgement linked it; the algorithm is still named."""
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    _known(ctx, penalty, tmp_path, huaxin)
    _, item_id = _queued(ctx, penalty, tmp_path, GROUP_NAME)
    with UnitOfWork(ctx.sessions) as unit:
        review.accept(unit, ctx, SAMR, item_id, code=huaxin.code, reason="集团更名前的同一主体")
    before = _records_of(ctx, huaxin.code)
    later = write_csv(tmp_path / "later.csv", [_without_code(penalty, "北京華信科技集團有限公司")])
    counts = _ingest(ctx, later)
    assert (counts["matched"], counts["review"]) == (1, 0)
    assert len(_records_of(ctx, huaxin.code)) == len(before) + 1
    with ctx.sessions() as s:
        link = s.scalar(select(MatchLink).order_by(MatchLink.id.desc()))
        assert link is not None
        assert link.subject_id == _subject_id(ctx, huaxin.code)
        assert link.algorithm == "bonafides-names-v2"
        assert link.explanation[0]["feature"] == "accepted_earlier"
        assert f"accepted earlier by review {item_id}" in link.explanation[0]["detail"]
    names = tmp_path / "names.csv"
    names.write_text(
        f"名称,地区代码\n{GROUP_NAME},\n{GROUP_NAME},110105\n{GROUP_NAME},310105\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    match_names(ctx, names, out)
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(a["decision"], a["code"]) for a in answers[:2]] == [("match", huaxin.code)] * 2
    assert all(a["algorithm"] == "bonafides-names-v2" for a in answers)
    assert "accepted_earlier" in [f["feature"] for f in answers[0]["explanation"]]
    # Another region: the pair accepted for Beijing says nothing of a Shanghai firm.
    assert answers[2]["decision"] != "match"
