"""One step of a use case on a unit of work: act, commit, and undo at once on failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from bonafides.app.unit import UnitOfWork

T = TypeVar("T")


def run(
    unit: UnitOfWork,
    act: Callable[[Session], T],
    *,
    then: Callable[[UnitOfWork], None] | None = None,
) -> T:
    """Run ``act`` on the unit's session; ``then`` queues post-commit effects once it has
    succeeded; commit.

    A step that fails is rolled back at once, not when the unit closes: the adapter may
    still read with the same unit to show why (and log that read), and must never commit
    half a step with it.
    """
    try:
        result = act(unit.session)
    except BaseException:
        unit.session.rollback()
        raise
    if then is not None:
        then(unit)
    unit.commit()
    return result
