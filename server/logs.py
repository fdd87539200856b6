"""Logging: JSON lines (production) or plain text (development), each line carrying the
request id, and never a credential.

One handler on the root logger and on uvicorn's loggers (their own handlers are
replaced), so the access log, our loggers and the libraries' share one format. Secrets
are masked by filters on the handler, whatever logger a record comes from, and on
uvicorn's loggers themselves:
- credentials in query strings (`?token=`, `access_token=`, `password=`, …) and
  `Bearer …` values anywhere in a message;
- in the access log, every query-string value except a few harmless ones (a GraphQL
  document sent by GET may hold a password literal).
Uvicorn does not log request headers, and no logger of ours does.
"""

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import parse_qsl

import orjson

from server.errors import request_id_var

_SECRET_RE = re.compile(
    r"((?:token|access_token|refresh_token|api_key|apikey|password|secret)=)[^&\s\"']+",
    re.IGNORECASE,
)
_BEARER_RE = re.compile(r"(bearer\s+)[^\s\"',;]+", re.IGNORECASE)
# `"password": "…"` in JSON and `password: "…"` in a GraphQL document.
_FIELD_RE = re.compile(
    r"((?:password|token|secret|apikey|api_key)\"?\s*:\s*\")(?:[^\"\\]|\\.)*", re.IGNORECASE
)
REDACTED = "[redacted]"
# Query parameters whose values the access log keeps: paging, sorting, names.
_SAFE_PARAMS = frozenset(
    {"operationName", "first", "after", "before", "last", "limit", "offset", "page", "sort"}
)
ACCESS_LOGGER = "uvicorn.access"
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", ACCESS_LOGGER)


def redact(text: str) -> str:
    """`text` with credentials in query strings and bearer values masked."""
    text = _SECRET_RE.sub(rf"\1{REDACTED}", text)
    text = _FIELD_RE.sub(rf"\1{REDACTED}", text)
    return _BEARER_RE.sub(rf"\1{REDACTED}", text)


def redact_path(path: str) -> str:
    """A request path with every query-string value masked but harmless ones."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [f"{k}={v if k in _SAFE_PARAMS else REDACTED}" for k, v in pairs]
    return f"{base}?{'&'.join(kept)}" if kept else f"{base}?{REDACTED}"


class RedactSecrets(logging.Filter):
    """Masks credentials in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
            # uvicorn's access record: (client, method, path, http version, status),
            # under its own constant format. Only the path can hold a secret: the
            # client is an address, the method and version tokens httptools checked.
            # (Every argument and the format through the three patterns was 15 regex
            # passes a request, ~2.5% of a `track(id)`'s CPU in the API process.)
            client, method, path, version, status = args
            if isinstance(path, str):
                path = redact(redact_path(path))
            record.args = (client, method, path, version, status)
        else:
            if args:
                args = args if isinstance(args, tuple) else (args,)
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
            if isinstance(record.msg, str):
                record.msg = redact(record.msg)
        setattr(record, "_redacted", True)  # noqa: B010  (not a LogRecord field)
        return True


class RequestId(logging.Filter):
    """Puts the current request's id (or `-`) on the record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            setattr(record, "request_id", request_id_var.get())  # noqa: B010
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id; the access
    log's fields as their own keys; a traceback as `exc_info` (text)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        if (
            record.name == ACCESS_LOGGER
            and isinstance(record.args, tuple)
            and len(record.args) == 5
        ):
            client, method, path, http, status = record.args
            line.update(client=client, method=method, path=path, http=http, status=status)
        if record.exc_info:
            line["exc_info"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the time (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


class ApolloniaHandler(_StderrHandler):
    """The one handler the app installs (recognised to stay idempotent)."""


def make_handler(log_format: str) -> logging.Handler:
    handler = ApolloniaHandler()
    handler.addFilter(RequestId())
    handler.addFilter(RedactSecrets())
    handler.setFormatter(
        JSONFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    return handler


def configure_logging(log_format: str = "text", level: str = "info") -> None:
    """Install the handler on the root logger and uvicorn's (idempotent; call it again
    once uvicorn has configured its own loggers, at the app's start-up).

    Ariadne logs every GraphQL error (a NOT_FOUND, a refused query) at ERROR with a
    traceback; server/errors.py already logs the unexpected ones, with the request id.
    """
    handler = make_handler(log_format)
    root = logging.getLogger()
    _replace(root, handler, keep_others=True)
    root.setLevel(level.upper())
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if name != "uvicorn.error":  # it propagates to "uvicorn"
            _replace(logger, handler, keep_others=False)
        for kind in (RedactSecrets, RequestId):
            if not any(isinstance(f, kind) for f in logger.filters):
                logger.addFilter(kind())
    logging.getLogger("apollonia.graphql").setLevel(logging.CRITICAL)


def _replace(logger: logging.Logger, handler: logging.Handler, keep_others: bool) -> None:
    """Put `handler` in place of ours (and, unless `keep_others`, of every handler that
    writes to a stream: uvicorn's). Handlers that tests attach are kept."""
    for old in list(logger.handlers):
        if isinstance(old, ApolloniaHandler) or (
            not keep_others and type(old) is logging.StreamHandler
        ):
            logger.removeHandler(old)
    logger.addHandler(handler)
