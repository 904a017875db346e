"""Turn the actions a script recorded into validated effects; Python has the last word."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..jsondata import MAX_DEPTH, clean_text, depth_refusal, too_deep
from ..login_quota import PER_SESSION as DEFAULT_LOGIN_QUOTA
from ..session import (
    CUSTOMER_FIELDS,
    encode,
    encoded_size,
    key_refusal,
    write_refusal,
)
from . import headers
from .cookies import CookieEffect, read_cookie
from .effects import ActionWarning, CustomResponse, Effects, Redirect, SessionOp
from .limits import MAX_CUSTOMER_FIELD_CHARS, MAX_RECORDS, MAX_VARIABLE_KEY_CHARS
from .redirects import DEFAULT_STATUS, REDIRECT_STATUSES, check_target

MAX_CALL_CHARS = 64
MAX_REASON_CHARS = 1024
TERMINAL_OPS = frozenset({"redirect", "response.json", "response.send"})
# A record holds its values two levels down ({"args": [value]}): checking the record at this
# depth checks every argument against MAX_DEPTH at once. (session.set holds its value one
# level down, {"value": value}, so that value is checked again on its own.)
MAX_RECORD_DEPTH = MAX_DEPTH + 2


def collect_effects(
    records: Iterable[Any],
    *,
    session_items: Mapping[str, str] | None = None,
    session_bytes: int = 0,
    login_quota: int = DEFAULT_LOGIN_QUOTA,
    records_dropped: int = 0,
    depth_checked: bool = False,
) -> Effects:
    """Validate recorded actions (as the prelude records them) into Effects.

    `session_items` (public key -> JSON text) and `session_bytes` (the whole session's size)
    describe the session before the run, for the size rules; `login_quota` is how many more
    successful setCustomer calls the visitor has. Nothing the sandbox says is trusted: every
    rule is applied again here, and every cap — past MAX_RECORDS records only the first
    terminal action is still read, whatever the sandbox sent; the rest are counted with the
    `records_dropped` the sandbox reports. `depth_checked` says the caller knows already that
    no record nests deeper than MAX_RECORD_DEPTH (make_result knows it from the text it parsed),
    so that each record need not be walked to find out.
    """
    collector = _Collector(dict(session_items or {}), session_bytes, login_quota, depth_checked)
    dropped = records_dropped
    for index, record in enumerate(records):
        if index < MAX_RECORDS or (collector.ended is None and _is_terminal(record)):
            collector.add(record)
        else:
            dropped += 1
    if dropped:
        collector.warn("script", f"{dropped} actions beyond the first {MAX_RECORDS} were dropped")
    return collector.effects()


def _is_terminal(record: Any) -> bool:
    op = record.get("op") if isinstance(record, dict) else None
    return isinstance(op, str) and op in TERMINAL_OPS


class _Collector:
    def __init__(self, items: dict[str, str], total: int, quota: int,
                 depth_checked: bool = False) -> None:
        self.items, self.total, self.quota = items, total, quota
        self.depth_checked = depth_checked
        self.session: list[SessionOp] = []
        self.cookies: dict[tuple[str, str], CookieEffect] = {}
        self.headers: dict[str, tuple[str, str]] = {}
        self.variables: dict[str, Any] = {}
        self.status: int | None = None
        self.redirect: Redirect | None = None
        self.response: CustomResponse | None = None
        self.ended: str | None = None
        self.warnings: list[ActionWarning] = []

    def warn(self, call: str, reason: str) -> None:
        # Calls and reasons can come from the sandbox: cleaned, and cut to a sane length.
        self.warnings.append(ActionWarning(clean_text(call[:MAX_CALL_CHARS]),
                                           clean_text(reason[:MAX_REASON_CHARS])))

    def add(self, record: Any) -> None:
        if not isinstance(record, dict) or not isinstance(record.get("op"), str):
            self.warn("script", "malformed action record ignored")
            return
        op = record["op"]
        # So that nothing below walks data nested deeper.
        if not self.depth_checked and too_deep(record, MAX_RECORD_DEPTH):
            self.warn(op, f"value is nested deeper than {MAX_DEPTH} levels of arrays and objects")
            if op in TERMINAL_OPS and self.ended is None:
                self.ended = op
            return
        if op == "warning":
            self.warn(str(record.get("call", "script")), str(record.get("reason", "")))
            return
        if self.ended is not None:
            self.warn(op, f"ignored: the script already ended with {self.ended}()")
            return
        handler = _HANDLERS.get(op)
        if handler is None:
            self.warn("script", f"unknown action '{op}' ignored")
            return
        handler(self, record)

    def effects(self) -> Effects:
        return Effects(
            session=tuple(self.session),
            cookies=tuple(self.cookies.values()),
            headers=tuple(self.headers.values()),
            variables=self.variables,
            status=self.status,
            redirect=self.redirect,
            response=self.response,
            warnings=tuple(self.warnings),
        )

    # -- session -------------------------------------------------------------------------------

    def session_set(self, record: dict[str, Any]) -> None:
        key, value = record.get("key"), record.get("value")
        refusal = key_refusal(key)
        if refusal is not None or not isinstance(key, str):
            self.warn("session.set", refusal or "key must be a string")
            return
        text = None
        if value is not None:
            text, refusal = _canonical(value)
        if refusal is None and text is not None:
            refusal = write_refusal(self.total, key, self.items.get(key), text)
        if refusal:
            self.warn("session.set", refusal)
            return
        old = self.items.pop(key, None)
        if old is not None:
            self.total -= encoded_size(key, old)
        if text is None:
            self.session.append(SessionOp("delete", key))
        else:
            self.items[key] = text
            self.total += encoded_size(key, text)
            self.session.append(SessionOp("set", key, text))

    def clear_customer(self, record: dict[str, Any]) -> None:
        self.session.append(SessionOp("logout"))

    def set_customer(self, record: dict[str, Any]) -> None:
        fields = record.get("fields")
        refusal = customer_refusal(fields)
        if refusal is None and self.quota <= 0:
            refusal = "login quota spent"
        if refusal or not isinstance(fields, dict):
            self.warn("session.setCustomer", refusal or "fields must be an object")
            return
        self.quota -= 1
        given = {name: fields[name] for name in CUSTOMER_FIELDS if fields.get(name) is not None}
        self.session.append(SessionOp("login", fields={
            name: clean_text(value) if isinstance(value, str) else value
            for name, value in given.items()
        }))

    # -- recorded calls: arguments as the prelude passes them ------------------------------------

    def cookie(self, record: dict[str, Any]) -> None:
        call = record["op"]
        delete = call == "cookie.delete"
        args = _args(record)
        value = "" if delete else _text(args[1])
        options = args[1 if delete else 2]
        options = None if _is_undefined(options) else options
        if value is None:
            self.warn(call, f"value must be a string, got {_type_name(args[1])}")
            return
        if options is not None and not isinstance(options, dict):
            self.warn(call, f"options must be an object, got {_type_name(options)}; ignored")
            options = None
        cookie, notes = read_cookie(args[0], value, options, delete=delete)
        for note in notes:
            self.warn(call, note)
        if cookie is not None:
            self.cookies.pop((cookie.name, cookie.path), None)
            self.cookies[(cookie.name, cookie.path)] = cookie

    def header(self, record: dict[str, Any]) -> None:
        args = _args(record)
        name, value = args[0], _text(args[1])
        refusal = headers.header_refusal(name)
        if refusal is None and value is None:
            refusal = f"value must be a string, got {_type_name(args[1])}"
        if refusal is None and isinstance(name, str) and value is not None:
            value = headers.clean_value(value)
            refusal = headers.value_refusal(value)
            if refusal is None:
                self.headers[name.lower()] = (name, value)
                return
        self.warn("setHeader", refusal or "invalid header")

    def variable(self, record: dict[str, Any]) -> None:
        args = _args(record)
        key, value = args[0], args[1]
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_VARIABLE_KEY_CHARS:
            self.warn("setVariable", f"key must be a string of 1-{MAX_VARIABLE_KEY_CHARS} "
                                     "characters")
        elif isinstance(value, _Missing) and not _is_undefined(value):
            self.warn("setVariable", value.reason)
        else:  # undefined (a missing value) is stored as null; depth: see MAX_RECORD_DEPTH
            self.variables[clean_text(key)] = None if isinstance(value, _Missing) else value

    def response_status(self, record: dict[str, Any]) -> None:
        code = _args(record)[0]
        refusal = status_refusal(code)
        if refusal:
            self.warn("response.status", refusal)
        elif isinstance(code, int):
            self.status = code

    def terminal(self, record: dict[str, Any]) -> None:
        call = record["op"]
        self.ended = call  # the first terminal action decides, refused or not
        args = _args(record)
        if call == "redirect":
            self._redirect(args[0], args[1])
        elif call == "response.json":
            self._json(args[0])
        else:
            self._html(args[0])

    def _redirect(self, target: Any, status: Any) -> None:
        url, refusal = check_target(target if isinstance(target, str) else None)
        if refusal or url is None:
            if not isinstance(target, str):
                refusal = f"target must be a string, got {_type_name(target)}"
            self.warn("redirect", f"{refusal}; the page is shown instead")
            return
        if _is_undefined(status) or status is None:
            status = DEFAULT_STATUS
        elif isinstance(status, bool) or status not in REDIRECT_STATUSES:
            self.warn("redirect", "status must be 301, 302, 303, 307 or 308, not "
                                  f"{_shown(status)}; using 302")
            status = DEFAULT_STATUS
        self.redirect = Redirect(url, status)

    def _json(self, data: Any) -> None:
        if isinstance(data, _Missing) and not _is_undefined(data):
            self.warn("response.json", f"{data.reason}; the page is shown instead")
            return
        body, refusal = _json_body(None if isinstance(data, _Missing) else data)
        if body is None:
            self.warn("response.json", f"{refusal}; the page is shown instead")
            return
        self.response = CustomResponse("application/json", body)

    def _html(self, html: Any) -> None:
        text = _text(html)
        if text is None:
            self.warn("response.send", f"body must be a string, got {_type_name(html)}; "
                                       "the page is shown instead")
            return
        self.response = CustomResponse("text/html; charset=utf-8", text)


_HANDLERS = {
    "session.set": _Collector.session_set,
    "session.setCustomer": _Collector.set_customer,
    "session.clearCustomer": _Collector.clear_customer,
    "cookie.set": _Collector.cookie,
    "cookie.delete": _Collector.cookie,
    "setHeader": _Collector.header,
    "setVariable": _Collector.variable,
    "response.status": _Collector.response_status,
    "redirect": _Collector.terminal,
    "response.json": _Collector.terminal,
    "response.send": _Collector.terminal,
}


@dataclass(frozen=True, slots=True)
class _Missing:
    """An argument JSON cannot carry: undefined, a function, NaN, a cyclic object..."""

    type: str
    reason: str


_UNDEFINED = _Missing("undefined", "value is undefined")


def _args(record: dict[str, Any], count: int = 3) -> list[Any]:
    """A recorded call's arguments as Python values (or _Missing), padded to `count`."""
    raw = record.get("args")
    values = raw[:count] if isinstance(raw, list) else []  # a copy: the record is untouched
    values += [_UNDEFINED] * (count - len(values))
    missing = record.get("missing")
    for item in missing if isinstance(missing, list) else []:
        if isinstance(item, list) and len(item) == 3 and isinstance(item[0], int) \
                and 0 <= item[0] < count:
            values[item[0]] = _Missing(str(item[1]), str(item[2]))
    return values


def _is_undefined(value: Any) -> bool:
    return isinstance(value, _Missing) and value.type == "undefined"


def _text(value: Any) -> str | None:
    """A string argument, with numbers and booleans converted as JavaScript's String() does."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value).replace("e-0", "e-").replace("e+0", "e+")
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, _Missing):
        return value.type
    if value is None:
        return "null"
    return {str: "string", bool: "boolean", int: "number", float: "number", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    return value.type if isinstance(value, _Missing) else json.dumps(value)


def _canonical(value: Any) -> tuple[str | None, str | None]:
    """The value as funnelrun.session stores it (its own JSON encoding), or a refusal."""
    if isinstance(value, _Missing):
        return None, value.reason
    refusal = depth_refusal(value)
    if refusal:
        return None, refusal
    try:
        return encode(value), None
    except (TypeError, ValueError):
        return None, "value must be JSON data (no NaN or Infinity)"


def _json_body(data: Any) -> tuple[str | None, str | None]:
    """The body of response.json(data) (its depth checked with the record's), or a refusal."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False), None
    except ValueError:
        return None, "data must be JSON data (no NaN or Infinity)"


def customer_refusal(fields: object) -> str | None:
    """Why setCustomer refuses `fields`, or None (SPEC §3.3)."""
    if not isinstance(fields, dict):
        return "fields must be an object"
    email = fields.get("email")
    if not isinstance(email, str) or "@" not in email:
        return "email is required and must contain '@'"
    for name in ("email", "name", "first_name", "last_name"):
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} must be a string"
        if value is not None and len(value) > MAX_CUSTOMER_FIELD_CHARS:
            return f"{name} is too long"
    id_ = fields.get("id")
    if id_ is None:
        return None
    if isinstance(id_, bool) or not isinstance(id_, str | int | float) or (
        isinstance(id_, float) and not math.isfinite(id_)
    ):
        return "id must be a string or a finite number"
    if isinstance(id_, str) and len(id_) > MAX_CUSTOMER_FIELD_CHARS:
        return "id is too long"
    return None


def status_refusal(code: object) -> str | None:
    """Why `code` cannot be the response status, or None. 1xx statuses are refused too: an
    informational status cannot end a response."""
    if isinstance(code, bool) or not isinstance(code, int):
        return f"status must be an integer, got {code!r}"
    if 100 <= code <= 199:
        return f"{code} is informational (1xx) and cannot be a response's status"
    if not 200 <= code <= 599:
        return f"status must be from 200 to 599, got {code}"
    return None
