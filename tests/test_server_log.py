"""The server log: every record is one line, whatever text a visitor managed to put in it."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from funnelrun.server_log import (
    TRACEBACK_MARKER,
    EscapingAccessFormatter,
    EscapingFormatter,
    escape_controls,
    indent_lines,
)

FORGED = "x\r\nINFO:     forged"


def record(message: str, *args: object, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("funnelrun.events", logging.WARNING, __file__, 1, message, args, exc_info)


@pytest.mark.parametrize(("text", "escaped"), [
    ("a\r\nb", "a\\r\\nb"),
    ("tab\there", "tab\\there"),
    ("bell\x07 esc\x1b[31m del\x7f", "bell\\x07 esc\\x1b[31m del\\x7f"),
    ("nel\x85 csi\x9b", "nel\\x85 csi\\x9b"),
    ("line\u2028para\u2029", "line\\u2028para\\u2029"),
    ("\u202eevil\u2066", "\\u202eevil\\u2066"),
    ("vt\x0bff\x0cfs\x1c", "vt\\x0bff\\x0cfs\\x1c"),
])
def test_escape_controls_writes_every_line_breaking_or_control_character_as_an_escape(text, escaped):
    assert escape_controls(text) == escaped
    assert len(escape_controls(text).splitlines()) == 1


def test_escape_controls_leaves_ordinary_text_alone():
    text = "Café ✓ 日本 'quoted' \\n stays a backslash-n"
    assert escape_controls(text) is text


def test_a_message_with_crlf_is_one_line():
    formatter = EscapingFormatter(fmt="%(levelprefix)s %(name)s: %(message)s", use_colors=False)
    line = formatter.format(record("template %r not found", FORGED))
    assert line == "WARNING:  funnelrun.events: template 'x\\r\\nINFO:     forged' not found"


def test_traceback_lines_are_indented_so_none_passes_for_a_record():
    formatter = EscapingFormatter(fmt="%(levelprefix)s %(message)s", use_colors=False)
    try:
        raise ValueError(f"bad {FORGED}\u2028WARNING: also forged")
    except ValueError:
        text = formatter.format(record("request failed", exc_info=sys.exc_info()))
    first, *rest = text.split("\n")
    assert first == "WARNING:  request failed"
    assert rest[0] == TRACEBACK_MARKER + "Traceback (most recent call last):"
    assert all(line.startswith(TRACEBACK_MARKER) for line in rest)
    assert TRACEBACK_MARKER + "INFO:     forged" in rest  # the forged text, visibly inside
    assert len(text.splitlines()) == len(rest) + 1  # no hidden separator left (U+2028 split too)


def test_a_traceback_cached_by_another_formatter_is_indented_anyway():
    try:
        raise ValueError(FORGED)
    except ValueError:
        entry = record("failed", exc_info=sys.exc_info())
    logging.Formatter().format(entry)  # caches a plain traceback in entry.exc_text
    text = EscapingFormatter(fmt="%(message)s", use_colors=False).format(entry)
    assert all(line.startswith(TRACEBACK_MARKER) for line in text.split("\n")[1:])


def test_indent_lines_escapes_what_remains_inside_each_line():
    assert indent_lines("a\tb\nc\x1bd") == f"{TRACEBACK_MARKER}a\\tb\n{TRACEBACK_MARKER}c\\x1bd"


def test_access_lines_are_escaped():
    formatter = EscapingAccessFormatter(
        fmt='%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False
    )
    entry = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s - %s %s %s %d",
                              ("127.0.0.1:5000", "GET", f"/p{FORGED}", "1.1", 200), None)
    assert formatter.format(entry) == (
        'INFO:     127.0.0.1:5000 - "GET /px\\r\\nINFO:     forged HTTP/1.1" 200 OK'
    )


def test_the_serve_log_config_keeps_funnelrun_info_lines_escaped():
    """In a fresh interpreter, as a worker applies it: funnelrun's INFO records are kept, on
    stderr, one line each."""
    code = textwrap.dedent("""
        import logging, logging.config
        from funnelrun.server_log import log_config
        logging.config.dictConfig(log_config())
        logging.getLogger("funnelrun.events").info("refused: %s", "a\\r\\nINFO:     forged")
        logging.getLogger("asyncio").warning("from a library: %s", "b\\nc")
        logging.getLogger("asyncio").info("not kept: libraries log from WARNING up")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                          check=True)
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "INFO:     funnelrun.events: refused: a\\r\\nINFO:     forged",
        "WARNING:  from a library: b\\nc",
    ]
