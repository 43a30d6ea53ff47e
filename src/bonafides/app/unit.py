"""One unit of work per request or command: the only place that commits.

Services change the session and never commit; a use case runs inside a ``UnitOfWork``,
which commits once at the end (or rolls back on any exception) and only then runs the
effects queued with ``after_commit``: mail, feed pushes, anything the outside world must
not see for a change that was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

Effect = Callable[[], None]


class UnitOfWork:
    """A session, its one commit, and the effects that wait for that commit.

    Use as a context manager; ``commit()`` inside the block makes the changes durable and
    runs the queued effects. Leaving the block without ``commit()`` rolls back and drops
    them, so a step that fails half way leaves nothing behind and mails nobody.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._session: Session | None = None
        self._effects: list[Effect] = []
        self.committed = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a with block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._sessions()
        self._effects = []
        self.committed = False
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if not self.committed:
                session.rollback()
                self._effects = []
        finally:
            session.close()

    def after_commit(self, effect: Effect) -> None:
        """Queue ``effect`` to run once the commit has succeeded, in the order queued."""
        self._effects.append(effect)

    def commit(self) -> None:
        """Make the changes durable, then run the effects.

        An effect that fails is logged and does not undo the commit: whatever it was
        for (a mail, say) stays queued in the store for its own retry.
        """
        self.session.commit()
        self.committed = True
        effects, self._effects = self._effects, []
        for effect in effects:
            try:
                effect()
            except Exception:
                log.exception("post-commit effect %r failed", effect)
