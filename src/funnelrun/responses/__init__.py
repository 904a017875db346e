"""Responses the runtime makes itself: plain error pages, redirects, and header-safe URLs."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from string import Template
from urllib.parse import quote

from markupsafe import escape
from starlette.responses import HTMLResponse, Response

ERRORS = {
    400: ("Bad Request", "The request could not be understood."),
    404: ("Not Found", "There is no page at this address."),
    405: ("Method Not Allowed", "This page answers GET, HEAD and POST."),
    413: ("Content Too Large", "The request body is too large."),
    500: ("Internal Server Error", "Something went wrong on our side. Please try again later."),
    503: ("Service Unavailable", "The site is unavailable for a moment. Please try again shortly."),
}
RETRY_AFTER_S = 5  # the Retry-After of a 503: the state store is down (app.py)


@cache
def _error_template() -> Template:
    return Template(files(__package__).joinpath("error.html").read_text(encoding="utf-8"))


def error_page(status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A plain page for an error status; it never shows internals."""
    title, message = ERRORS[status]
    html = _error_template().substitute(
        status=status, title=escape(title), message=escape(message)
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def redirect(location: str, status: int = 302) -> Response:
    return Response(status_code=status, headers={"location": header_safe_url(location)})


def header_text(value: str) -> str:
    """A header value whose characters Starlette writes as the UTF-8 bytes of `value`
    (it encodes header values as latin-1, which cannot hold most non-ASCII text)."""
    return value.encode("utf-8").decode("latin-1")


# Every printable ASCII character may stand in a header value as it is.
_HEADER_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))


def header_safe_url(url: str) -> str:
    """Percent-encode what may not appear in a Location header (spaces, control and non-ASCII
    characters), leaving the rest as it is: a script's redirect target arrives in the URL
    parser's canonical form (funnelrun.script.redirects), which must reach the browser
    unchanged."""
    return quote(url, safe=_HEADER_SAFE)
