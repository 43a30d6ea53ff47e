"""Log lines as text or JSON, each with the request id, none with an ID number.

The request id lives in a context variable that the HTTP middleware sets for each
request (``bonafides.http.observability``); every line logged while the request is
handled, uvicorn's access line included, carries it, and lines outside a request carry
``-``. ``RedactIdentifiers`` masks ID numbers in the message and its arguments; the
formatters mask the finished line once more, so an exception's text cannot carry one
either.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from typing import Literal

from bonafides.security.logredact import RedactIdentifiers, install, redact

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

LogFormat = Literal["text", "json"]

#: The loggers that get the one handler: the platform's, uvicorn's (its error logger
#: passes its lines up to ``uvicorn``) and the scheduler's.
HANDLED = ("bonafides", "uvicorn", "uvicorn.access", "apscheduler")


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, request id, message (and the
    exception's traceback, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return redact(super().format(record))


def formatter_for(kind: LogFormat) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure_logging(kind: LogFormat, *, level: int = logging.INFO) -> None:
    """One stderr handler in the chosen format for the platform's and uvicorn's loggers.

    Called by the app factory in each worker (after uvicorn set up its own logging) and
    by ``bonafides worker``; calling it again replaces the handler, never adds one.
    """
    install()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(kind))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactIdentifiers())
    for name in HANDLED:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        if logger.level == logging.NOTSET or name == "bonafides":
            logger.setLevel(level)
    # APScheduler says "running job" at every tick; the runs' own lines say what they did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # uvicorn.error hands its lines up to uvicorn's handler, which is now ours.
    logging.getLogger("uvicorn.error").handlers = []
    logging.getLogger("uvicorn.error").propagate = True
