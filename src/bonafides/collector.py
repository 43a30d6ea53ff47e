"""The cyclic garbage collector held off while an allocation-heavy piece of work runs.

A report render (styles, boxes, line layouts) and the matching of a chunk of rows
(candidates, parsed names, scores and explanations) each build a few hundred thousand
objects that live until the work ends. The full collections their allocation triggers
walk every object of the process again and again for nothing (pypinyin's and OpenCC's
tables included): a tenth of a render, a third of matching's CPU. The objects are freed
by reference counting; the cycles the work leaves go in the next collection after it.
The collector is turned off by the first piece of work to start and on again (if it was
on) by the last to end, so concurrent callers (a server's threads) nest.
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
