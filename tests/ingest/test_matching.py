"""Rows without a code during ingest: linked by bonafides-names, or queued with candidates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bonafides.app.ingest import ingest_file
from bonafides.catalogue import RecordType, load_catalogue
from bonafides.context import Context
from bonafides.matching.model import ALGORITHM
from bonafides.security import audit
from bonafides.settings import Settings
from bonafides.store.reference import sync_catalogue
from bonafides.store.tables import MatchLink, Record, ReviewItem, Subject, SubjectName
from tests import factories
from tests.ingest.test_service import PENALTY, TODAY, write_csv


@pytest.fixture
def ctx(db_url: str) -> Iterator[Context]:
    context = Context(Settings(db=db_url, secret_key="test-secret-key-123", demo=True))
    with context.sessions.begin() as session:
        sync_catalogue(session, context.catalogue)
    yield context
    context.close()


@pytest.fixture
def penalty() -> RecordType:
    return load_catalogue().type(PENALTY)


def _ingest(ctx: Context, path: Path) -> dict[str, int]:
    report = ingest_file(ctx, path, type_code=PENALTY, source="samr", actor="test", today=TODAY)
    return report.counts


def _without_code(penalty: RecordType, name: str) -> dict[str, str]:
    row = factories.content_row(penalty, factories.org())
    row[penalty.content_field("uscc").column_zh] = ""
    row[penalty.content_field("subject_name").column_zh] = name
    return row


def test_a_name_without_a_code_is_linked_and_the_link_kept(
    ctx: Context, penalty: RecordType, tmp_path: Path
) -> None:
    huaxin = factories.org("110105", name="北京华信科技有限公司")
    _ingest(ctx, write_csv(tmp_path / "known.csv", [factories.content_row(penalty, huaxin)]))
    rows = [
        _without_code(penalty, "華信（北京）科技有限責任公司"),
        _without_code(penalty, "北京华信科技有限公司西城分公司"),  # an unregistered branch
    ]
    path = write_csv(tmp_path / "unlinked.csv", rows)
    counts = _ingest(ctx, path)
    assert counts["matched"] == 1
    assert counts["accepted"] == 1
    assert counts["review"] == 1
    with ctx.sessions() as s:
        subject = s.scalar(select(Subject).where(Subject.key == huaxin.code))
        assert subject is not None
        assert s.scalar(select(func.count()).where(Record.subject_id == subject.id)) == 2
        link = s.scalar(select(MatchLink))
        assert link is not None
        assert link.subject_id == subject.id
        assert (link.row, link.algorithm) == (2, ALGORITHM)
        assert link.score >= 0.95
        assert "same_core" in [e["feature"] for e in link.explanation]
        # The department's spelling stays findable as an alias, not as the current name.
        alias = s.scalar(
            select(SubjectName).where(SubjectName.name == "華信（北京）科技有限責任公司")
        )
        assert alias is not None
        assert not alias.current
        review = s.scalar(select(ReviewItem))
        assert review is not None
        assert review.row == 3
        assert review.algorithm == ALGORITHM
        assert review.candidates is not None
        assert review.candidates[0]["code"] == huaxin.code
        features = [e["feature"] for e in review.candidates[0]["explanation"]]
        assert "branch_vs_parent" in features
        assert s.scalar(select(func.count()).select_from(MatchLink)) == 1
        assert audit.verify(s).ok
    # The same file again changes nothing and links nothing twice.
    again = _ingest(ctx, path)
    assert (again["matched"], again["accepted"], again["unchanged"]) == (0, 0, 1)
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MatchLink)) == 1
        assert s.scalar(select(func.count()).select_from(ReviewItem)) == 1


def test_a_persons_name_is_never_matched(ctx: Context, penalty: RecordType, tmp_path: Path) -> None:
    person = factories.person(name="华信科技")
    stored = _ingest(
        ctx, write_csv(tmp_path / "person.csv", [factories.content_row(penalty, person)])
    )
    assert stored["accepted"] == 1
    counts = _ingest(ctx, write_csv(tmp_path / "name.csv", [_without_code(penalty, "华信科技")]))
    assert counts["matched"] == 0
    assert counts["review"] == 1
