"""Progress a person can watch, without services knowing who watches.

Services that can run longer than a few seconds take a ``progress(done, total)``
callback and call it once per chunk (never per row): ``done`` only grows, ``total`` is
the expected count when it is known (an estimate may be refined from call to call) and
the last call has ``done == total``. The first call, before the work it counts, starts
the clock of the rate and of the time left (a resumed run's first ``done`` is where it
resumes, not work done now). The CLI turns the callback into a Rich bar with
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
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

ProgressFn = Callable[[int, int | None], None]


class RateColumn(ProgressColumn):
    """Items done per second since the first call, in the task's own unit: Rich's
    transfer-speed column speaks bytes, and its estimate is empty until several samples."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if elapsed <= 0 or task.completed <= task.fields.get("first", 0):
            return Text(f"– {self.unit}/s", style="progress.data.speed")
        rate = (task.completed - task.fields.get("first", 0)) / elapsed
        return Text(f"{rate:,.0f} {self.unit}/s", style="progress.data.speed")


@contextmanager
def watch(console: Console, description: str, *, unit: str = "rows") -> Iterator[ProgressFn]:
    """A transient bar on ``console`` (stderr in the CLI) fed by the callback it yields:
    description, bar, done/total, ``unit``/s and time left.

    The bar, and Rich's refresh thread, start at the first call, so a service can fork its
    worker processes before any thread runs. Where the console is not a terminal (a CI
    log, a pipe, Typer's test runner) the bar is off: Rich would not animate there but
    would still leave a blank line, and logs should hold the command's summary only. A
    total still unknown shows a pulsing bar and no time left.
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
        disable=not console.is_terminal,
    )
    task: TaskID | None = None

    def update(done: int, total: int | None) -> None:
        nonlocal task
        if task is None:
            task = bar.add_task(description, total=total, completed=done, first=done)
            bar.start()
        else:
            bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()


class Steps:
    """Progress of a service made of a few long set-based statements rather than chunks:
    it counts the statements done, since no count of rows is known until each ends."""

    def __init__(self, progress: ProgressFn | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.count = 0

    def start(self) -> None:
        if self.progress is not None:
            self.progress(0, self.total)

    def step(self) -> None:
        self.count = min(self.total, self.count + 1)
        if self.progress is not None:
            self.progress(self.count, self.total)

    def finish(self) -> None:
        self.count = self.total - 1
        self.step()
