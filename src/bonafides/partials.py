"""Work files and directories named after the process that writes them.

A command writes its output under a hidden name and renames it into place when done, so
no reader sees half of it. A process killed mid-way (SIGKILL, the OOM killer, a reboot)
never reaches its own clean-up, and its rerun is another process: without a sweep every
kill would leave its hidden file for ever. The name carries the process id, so the next
writer of the same target removes what a process that no longer runs left, and leaves
alone what a running one is writing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

KINDS = ("partial", "old")


def partial_name(target: str, kind: str = "partial") -> str:
    """The hidden name this process writes ``target`` under (a kind of :data:`KINDS`)."""
    return f".{target}.{kind}-{os.getpid()}"


def clear_killed(directory: Path, target: str) -> None:
    """Remove the hidden files and directories of ``target`` whose process is gone."""
    prefix = f".{target}."
    for leftover in directory.glob(f"{prefix}*-*"):
        kind, _, rest = leftover.name[len(prefix) :].partition("-")
        pid = rest.split("-", 1)[0]
        if kind not in KINDS or not pid.isdigit() or _running(int(pid)):
            continue
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
