"""Structured JSON logs, one object per line, each with the request id.

The request id comes from a valid ``X-Request-ID`` header or is generated, and is
kept in a context variable for the request's duration. Log lines carry only what
the code passes in ``extra={"fields": {...}}``: never a request body, credential,
disclosure, key, serial or passphrase.
"""

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_request_id: ContextVar[str | None] = ContextVar("registry_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> Any:
    """Set the request id of the current context; returns a reset token."""
    return _request_id.set(value)


def reset_request_id(token: Any) -> None:
    _request_id.reset(token)


def request_id_from(header: str | None) -> str:
    """The caller's request id when well formed, else a new one."""
    if header is not None and _REQUEST_ID_SHAPE.match(header):
        return header
    return uuid.uuid4().hex


class JSONFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                line.setdefault(str(key), value)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Send the registry's and uvicorn's logs to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    for name in ("registry", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    # The registry writes its own access log with the request id.
    logging.getLogger("uvicorn.access").disabled = True
