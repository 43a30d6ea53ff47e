"""The multi-worker server: a listening socket per worker, restarts, a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from bonafides.api.server import listening_socket

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listeners(port: int) -> int:
    """Listening TCP sockets on ``port``, from /proc/net/tcp (state 0A is LISTEN)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if int(local.split(":")[1], 16) == port and state == "0A":
            count += 1
    return count


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _until(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(child) for child in found.stdout.split()]


def _gone(pid: int) -> bool:
    """Ended (a zombie waiting for its parent has ended too)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    env = {
        **os.environ,
        "BONAFIDES_DB": f"sqlite:///{tmp_path / 'server.db'}",
        "BONAFIDES_SECRET_KEY": "server-test-secret-0123456789",
    }
    code = (
        "from bonafides.api.server import run; "
        f"run('127.0.0.1', {port}, workers=2, log_level='warning', access_log=False)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    children: list[int] = []
    try:
        assert _until(lambda: _healthy(port) and _listeners(port) == 2), "server did not start"
        children = _children(process.pid)
        yield process, port
    finally:
        # A term, as an operator's service manager sends: killing the supervisor outright
        # would leave its workers and its resource tracker running, orphaned.
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    left = [pid for pid in children if not _until(partial(_gone, pid), 10)]
    assert left == [], f"the server left processes running: {left}"


def test_each_worker_listens_on_its_own_socket(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    _, port = server
    assert _listeners(port) == 2
    assert all(_healthy(port) for _ in range(10))


def test_a_dead_worker_is_replaced_and_a_term_stops_all(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    workers = [
        int(pid)
        for pid in subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
    ]
    listening = [
        pid
        for pid in workers
        if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert listening
    os.kill(listening[0], signal.SIGKILL)
    assert _until(lambda: _listeners(port) == 1, 10)
    assert _until(lambda: _listeners(port) == 2 and _healthy(port), 60), "no worker replaced it"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert _listeners(port) == 0


def test_a_port_in_use_is_refused_at_once() -> None:
    with listening_socket("127.0.0.1", 0) as taken:
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            listening_socket("127.0.0.1", port, reuse_port=True)
