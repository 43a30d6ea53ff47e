"""The portal served by a real uvicorn process on a free loopback port, for browser tests.

A subprocess, not an in-process server: the browser then talks to the app exactly as
it would in production, and the test's own threads never share its event loop.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bonafides.workdays import package_years


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("uvicorn did not answer within 30 s")


def weekend_years(folder: Path) -> Path:
    """A holiday file that gives the years after the package's last published arrangement
    as plain weekends: the served app runs on the real clock, and a browser test must not
    start failing when its deadlines reach a year whose holidays are not published yet."""
    first = max(package_years()) + 1
    last = dt.datetime.now(dt.UTC).year + 2
    path = folder / "weekend-years.yaml"
    path.write_text(f"years: [{', '.join(str(y) for y in range(first, last + 1))}]\n")
    return path


@contextmanager
def running_portal(settings: Mapping[str, str], log: Path | None = None) -> Iterator[str]:
    """The base URL of the app started with these ``BONAFIDES_*`` settings added to the
    environment; stopped when the block ends. With ``log``, uvicorn's own output, its
    access log included, is written to that file."""
    with tempfile.TemporaryDirectory() as folder:
        calendar = {"BONAFIDES_HOLIDAYS": str(weekend_years(Path(folder)))}
        with _serving({**calendar, **settings}, log) as url:
            yield url


@contextmanager
def _serving(settings: Mapping[str, str], log: Path | None) -> Iterator[str]:
    port = free_port()
    output = None if log is None else log.open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bonafides.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning" if log is None else "info",
        ],
        env={**os.environ, **settings},
        stdout=output,
        stderr=output,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        if output is not None:
            output.close()
