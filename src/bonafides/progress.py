"""Progress a person can watch, without services knowing who watches.

Services that can run longer than a few seconds take a ``progress(done, total)``
callback and call it once per chunk (never per row): ``done`` only grows, ``total`` is
the expected count when it is known (an estimate may be refined from call to call) and
the last call has ``done == total``. The CLI turns the callback into a Rich bar with
:func:`watch`; the API and tests pass their own, or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

ProgressFn = Callable[[int, int | None], None]


class RateColumn(ProgressColumn):
    """Items done per second since the task started, in the task's own unit (Rich's
    transfer-speed column speaks bytes)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if elapsed <= 0 or not task.completed:
            return Text(f"– {self.unit}/s", style="progress.data.speed")
        return Text(f"{task.completed / elapsed:,.0f} {self.unit}/s", style="progress.data.speed")


@contextmanager
def watch(console: Console, description: str, *, unit: str = "rows") -> Iterator[ProgressFn]:
    """A transient bar on ``console`` (stderr in the CLI) fed by the callback it yields:
    description, bar, done/total, ``unit``/s and time left.

    Where the console is not a terminal (a CI log, a pipe), Rich draws nothing while it
    runs and, the bar being transient, nothing when it ends: logs get the command's own
    summary only. A total still unknown shows a pulsing bar and no time left.
    """
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        RateColumn(unit),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update
