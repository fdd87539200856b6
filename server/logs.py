"""Logging that never carries credentials."""

import logging
import re

_SECRET_RE = re.compile(
    r"((?:token|access_token|refresh_token|api_key|apikey|password)=)[^&\s\"']+", re.IGNORECASE
)


class RedactSecrets(logging.Filter):
    """Masks credentials in query strings (`/ws?token=…`) of a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                _SECRET_RE.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        if isinstance(record.msg, str):
            record.msg = _SECRET_RE.sub(r"\1[redacted]", record.msg)
        return True


def configure_logging() -> None:
    """Redact uvicorn's access and error logs; leave GraphQL errors to ours.

    Ariadne logs every GraphQL error (a NOT_FOUND, a refused query) at ERROR with a
    traceback; server/errors.py already logs the unexpected ones, with the request id.
    """
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
    logging.getLogger("apollonia.graphql").setLevel(logging.CRITICAL)
