"""The server log of `funnelrun serve`: one line per record, whatever a visitor sends.

Visitor-controlled text reaches the log in many places (a component name from the query in a
template error, a refused action's reason, a request path in uvicorn's access line). A CR or LF
in it would start a line that looks like a record of its own, so every formatter here escapes
control characters in the message, and indents every line of a traceback behind a marker.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from uvicorn.logging import AccessFormatter, DefaultFormatter

# C0 and C1 controls, DEL, the Unicode line and paragraph separators (str.splitlines breaks on
# them, and so do some log viewers), and the bidirectional overrides that can make a line read
# differently from what it holds ("Trojan Source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
TRACEBACK_MARKER = "  | "  # starts every traceback line, so none can pass for a record


def escape_controls(text: str) -> str:
    """`text` with every unsafe character written as a Python escape (`\\n`, `\\x1b`, `\\u2028`).

    Backslashes are left alone: the aim is that no value can forge a line, and logs stay
    readable; an escaped LF and a visitor's literal backslash-n look alike."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_escape, text)


def indent_lines(text: str) -> str:
    """A multi-line block (a traceback) with each line escaped and behind TRACEBACK_MARKER."""
    return "\n".join(TRACEBACK_MARKER + escape_controls(line) for line in text.splitlines())


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class _OneLinePerRecord(logging.Formatter):
    """Mixed into uvicorn's formatters: the message is one line, tracebacks are indented."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info:
            record.exc_text = None  # a cached traceback may come from a formatter that does not indent
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return indent_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return indent_lines(super().formatStack(stack_info))


class EscapingFormatter(_OneLinePerRecord, DefaultFormatter):
    """uvicorn's `INFO:     message` lines, escaped."""


class EscapingAccessFormatter(_OneLinePerRecord, AccessFormatter):
    """uvicorn's access lines (`client - "GET /path HTTP/1.1" 200`), escaped."""


def log_config(level: str = "INFO") -> dict[str, Any]:
    """The `logging.config.dictConfig` of `funnelrun serve`, given to uvicorn, which applies it
    in the main process and again in every worker and reload process.

    funnelrun's own records (`funnelrun`, `funnelrun.*`) are kept from INFO up, on purpose: a
    refused script action is logged at INFO with its request id, and an operator should see
    it without turning anything on. Everything else that propagates to the root logger
    (asyncio, for one) is kept from WARNING up, through the same escaping."""
    formatter = f"{__name__}.EscapingFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"()": formatter, "fmt": "%(levelprefix)s %(message)s", "use_colors": False},
            "funnelrun": {
                "()": formatter, "fmt": "%(levelprefix)s %(name)s: %(message)s", "use_colors": False,
            },
            "access": {
                "()": f"{__name__}.EscapingAccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
                "use_colors": False,
            },
        },
        "handlers": {
            "default": _stream_handler("default", "ext://sys.stderr"),
            "funnelrun": _stream_handler("funnelrun", "ext://sys.stderr"),
            "access": _stream_handler("access", "ext://sys.stdout"),
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "funnelrun": {"handlers": ["funnelrun"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }


def _stream_handler(formatter: str, stream: str) -> dict[str, str]:
    return {"class": "logging.StreamHandler", "formatter": formatter, "stream": stream}
