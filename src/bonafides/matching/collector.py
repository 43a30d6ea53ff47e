"""The cyclic garbage collector held off while a chunk of rows is matched.

Matching a chunk at a million subjects builds some 150,000 objects that live until the
chunk is decided (candidates, their parsed names, scores and explanations). Their
allocation triggers full collections that walk every object of the process, pypinyin's
and OpenCC's tables included: three a chunk, a third of matching's CPU. The objects are
freed by reference counting; what cycles a chunk leaves go in the next collection after
it. The collector is turned off by the first matching to start and on again (if it was
on) by the last to end, so concurrent callers (a server's threads) nest. The same pause
as report rendering's (``bonafides.reports.render``), which this layer cannot import.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _CollectorPause:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._was_enabled:
                    gc.enable()


paused = _CollectorPause()
