"""Running the ASGI app under uvicorn on a listening socket made as TCP.

uvicorn makes its shared socket with protocol 0, and asyncio turns Nagle's algorithm
off only on sockets whose protocol says TCP; with Nagle on, a response written as head
and body waits for the client's delayed ACK, about 40 ms per request. Binding the
socket here, with ``IPPROTO_TCP``, avoids that for one worker and for many.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "bonafides.api.app:create_app"


def listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.set_inheritable(True)
    return sock


def run(
    host: str, port: int, *, workers: int = 1, log_level: str = "info", access_log: bool = True
) -> None:
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
    )
    sock = listening_socket(host, port)
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
