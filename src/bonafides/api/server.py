"""Running the ASGI app under uvicorn, each worker on a listening socket of its own.

Two things about the socket matter for throughput:

- uvicorn makes its socket with protocol 0, and asyncio turns Nagle's algorithm off
  only on sockets whose protocol says TCP; with Nagle on, a response written as head
  and body waits for the client's delayed ACK, about 40 ms per request. Sockets are
  made here with ``IPPROTO_TCP``.
- With one socket shared by all workers, the worker that wakes first accepts a whole
  burst of new connections: sixteen keep-alive clients were seen split 16/0 and 14/2
  between two workers, which then served them at half the machine's rate. Each worker
  here binds its own socket with ``SO_REUSEPORT``, and the kernel spreads connections
  over the workers by hash. A worker that dies takes its socket with it, so no
  connection waits on a socket nobody accepts from; the supervisor starts another.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

APP = "bonafides.api.app:create_app"
#: A worker that keeps dying is restarted at most this often, so a broken deployment
#: (no database, say) does not spin.
RESTART_PAUSE = 1.0


def listening_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _config(host: str, port: int, log_level: str, access_log: bool) -> uvicorn.Config:
    """uvicorn's config. uvicorn's own proxy headers are off: the app believes
    ``X-Forwarded-For``/``-Proto`` only from ``BONAFIDES_FORWARDED_ALLOW_IPS``
    (``http.observability.TrustedProxies``), where it also learns that the request id
    such a proxy sends may be kept."""
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=False,
    )


def _logging(config: uvicorn.Config) -> None:
    """uvicorn's loggers, then the platform's format over them (text or JSON, with
    request ids and ID numbers masked)."""
    from bonafides.logs import configure_logging
    from bonafides.settings import Settings

    config.configure_logging()
    configure_logging(Settings().log_format)


def _worker(host: str, port: int, log_level: str, access_log: bool) -> None:
    """One worker process: its own socket on the shared port, one uvicorn server."""
    config = _config(host, port, log_level, access_log)
    _logging(config)
    sock = listening_socket(host, port, reuse_port=True)
    uvicorn.Server(config).run(sockets=[sock])


def run(
    host: str,
    port: int,
    *,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    options = (log_level, access_log)
    if workers == 1:
        sock = listening_socket(host, port)
        config = _config(host, port, *options)
        _logging(config)
        uvicorn.Server(config).run(sockets=[sock])
        return
    # Bound once here, before any worker starts, so that a port in use fails at once
    # and in this process; the workers' own sockets join it on the same port.
    guard = listening_socket(host, port, reuse_port=True)
    try:
        _supervise(host, port, workers, options)
    finally:
        guard.close()


def _forget_metrics(pid: int | None) -> None:
    """A dead worker's gauges leave the multiprocess metrics (its counters stay summed)."""
    if pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _supervise(host: str, port: int, workers: int, options: tuple[str, bool]) -> None:
    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> BaseProcess:
        process = spawn.Process(target=_worker, args=(host, port, *options))
        process.start()
        return process

    running = [start() for _ in range(workers)]
    try:
        while not stopping:
            ended = wait([p.sentinel for p in running], timeout=0.5)
            for process in [p for p in running if p.sentinel in ended]:
                process.join()
                running.remove(process)
                _forget_metrics(process.pid)
                if not stopping:
                    time.sleep(RESTART_PAUSE)
                    running.append(start())
    finally:
        for process in running:
            process.terminate()
        for process in running:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
