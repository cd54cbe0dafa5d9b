"""One JSON line per request, with a request id; never a token, a password or a query."""

import json
import logging
import re
import secrets
import sys
import time
from typing import Any
from urllib.parse import unquote_plus

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.wiring.tracing import current_trace_id

REQUEST_ID = "x-request-id"
# Query pairs are split at `&`, `;`, `?`, quotes and spaces, and named up to `=`; each also
# percent-encoded, as uvicorn re-encodes a decoded path before logging it.
_SEPARATOR = re.compile(r"""([\s"'&;?]|%3[fF]|%26)""")
_EQUALS = re.compile(r"=|%3[dD]")
REDACTED = "[redacted]"


def _decoded(text: str) -> str:
    for _ in range(4):  # %2574oken decodes to %74oken, then to token
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    return text.lower()


def _redact_segment(segment: str) -> str:
    for equals in _EQUALS.finditer(segment):
        if "token" in _decoded(segment[:equals.start()]):
            return segment[:equals.end()] + REDACTED
    return segment


def redact_tokens(text: str) -> str:
    """The text with the value of every pair whose name, percent-decoded, says `token`
    (`token`, `access_token`, `%74oken`, which a server reads as `token`) blanked."""
    if "token" not in _decoded(text):
        return text
    return "".join(_redact_segment(part) for part in _SEPARATOR.split(text))


class RedactTokens(logging.Filter):
    """Blanks tokens in uvicorn's lines: it logs the path with its query on every WebSocket
    handshake (connection tokens travel there) and on every request in its access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        return True


def redact_tokens_in_server_logs() -> None:
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3), "level": record.levelname.lower(),
            "logger": record.name, "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        trace_id = current_trace_id()
        if trace_id is not None:
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """One line a person reads: time, level, logger, message, then the fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = dict(getattr(record, "fields", {}))
        trace_id = current_trace_id()
        if trace_id is not None:
            fields["trace_id"] = trace_id
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{clock} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if fields:
            line += "  " + " ".join(f"{key}={value}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def use_log_format(choice: str) -> str:
    """`json`, `text`, or `auto` (text on a terminal, JSON otherwise) for every handler
    configure_logging installed; answers the format in use."""
    chosen = choice if choice != "auto" else ("text" if sys.stderr.isatty() else "json")
    formatter = TextFormatter() if chosen == "text" else JsonFormatter()
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    return chosen


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "aiobotocore", "botocore", "httpx",
                  "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact_tokens_in_server_logs()


class RequestLogMiddleware:
    """ASGI middleware: request id in and out, one access line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("atelier.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID.encode(), b"").decode("latin-1")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isprintable() else (
            secrets.token_hex(8))
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (REQUEST_ID.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            self.log.info("request", extra={"fields": {
                "request_id": request_id, "method": scope["method"],
                "path": redact_tokens(scope["path"]),
                "status": status, "ms": round((time.perf_counter() - started) * 1000, 2),
                "client": client[0] if client else None,
            }})
