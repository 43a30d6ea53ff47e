"""The unit of work commits once, runs effects only after a commit, and rolls back otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bonafides.app.unit import UnitOfWork
from bonafides.store.tables import Department
from tests import factories


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(db_url)
    yield sessionmaker(engine, info=factories.audit_anchor().info())
    engine.dispose()


def _department(code: str) -> Department:
    return Department(code=code, name_zh="测试", name_en="Test", level="city", region="110100")


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Department)) or 0


def test_commit_makes_changes_durable_then_runs_effects_in_order(
    sessions: sessionmaker[Session],
) -> None:
    before = _count(sessions)
    seen: list[str] = []
    with UnitOfWork(sessions) as uow:
        uow.session.add(_department("uow.test"))
        uow.after_commit(lambda: seen.append(f"first:{_count(sessions)}"))
        uow.after_commit(lambda: seen.append("second"))
        assert seen == []
        uow.commit()
    assert seen == [f"first:{before + 1}", "second"]
    assert _count(sessions) == before + 1


def test_leaving_without_commit_rolls_back_and_drops_effects(
    sessions: sessionmaker[Session],
) -> None:
    before = _count(sessions)
    seen: list[str] = []
    with UnitOfWork(sessions) as uow:
        uow.session.add(_department("uow.none"))
        uow.after_commit(lambda: seen.append("mail"))
    assert seen == []
    assert _count(sessions) == before


def test_an_error_rolls_back_and_mails_nobody(sessions: sessionmaker[Session]) -> None:
    before = _count(sessions)
    seen: list[str] = []

    def step() -> None:
        with UnitOfWork(sessions) as uow:
            uow.session.add(_department("uow.fail"))
            uow.after_commit(lambda: seen.append("mail"))
            uow.session.flush()
            raise LookupError("the step failed half way")

    with pytest.raises(LookupError):
        step()
    assert seen == []
    assert _count(sessions) == before


def test_a_failing_effect_neither_undoes_the_commit_nor_stops_the_next(
    sessions: sessionmaker[Session],
) -> None:
    before = _count(sessions)
    seen: list[str] = []

    def broken() -> None:
        raise OSError("smtp down")

    with UnitOfWork(sessions) as uow:
        uow.session.add(_department("uow.effect"))
        uow.after_commit(broken)
        uow.after_commit(lambda: seen.append("next"))
        uow.commit()
    assert seen == ["next"]
    assert _count(sessions) == before + 1


def test_the_session_exists_only_inside_the_block(sessions: sessionmaker[Session]) -> None:
    uow = UnitOfWork(sessions)
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.session
