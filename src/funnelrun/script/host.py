"""The host side of a script's async calls (session.getToken / setFromToken)."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

from .effects import ActionWarning
from .limits import MAX_HOST_CALLS

# Every async host call a script can make, with the answer it gets when the call fails.
HOST_OPS: dict[str, Any] = {"session.getToken": None, "session.setFromToken": False}


class Host(Protocol):
    """Answers a script's async host calls for one request. To decline a call, raise
    HostRefusal: the script gets the call's failure value, the page events the reason."""

    async def call(self, op: str, args: list[Any]) -> Any: ...


class HostRefusal(Exception):
    """A host declines a call; its message is the reason shown in the page events."""


class NullHost:
    """Declines every call (no token, no login), saying why: a server without handoff."""

    def __init__(self, reason: str = "cross-domain session handoff is not available yet") -> None:
        self.reason = reason

    async def call(self, op: str, args: list[Any]) -> Any:
        raise HostRefusal(self.reason)


class HostRelay:
    """Answers one run's host calls through `host`, before the run's wall-clock deadline
    (`asyncio` loop time). Trusts nothing the executor hands over: malformed calls and calls
    past MAX_HOST_CALLS get the failure value, each kind with one warning per run."""

    def __init__(self, host: Host, deadline: float) -> None:
        self.host = host
        self.deadline = deadline
        self.calls = 0
        self.warnings: list[ActionWarning] = []
        self._noted: set[str] = set()

    async def answer(self, calls: Any) -> list[dict[str, Any]] | None:
        """Answers for `calls` ([{id, op, args}]), or None when the deadline passed."""
        if not isinstance(calls, list):
            self._note_once("malformed", ActionWarning("script", "malformed host calls refused"))
            calls = []
        timeout = self.deadline - asyncio.get_running_loop().time()
        if timeout <= 0:
            return None
        try:
            async with asyncio.timeout(timeout):
                return [await self._answer(call) for call in calls]
        except TimeoutError:
            return None

    async def _answer(self, call: Any) -> dict[str, Any]:
        if not isinstance(call, dict) or not isinstance(call.get("op"), str) \
                or call["op"] not in HOST_OPS or not isinstance(call.get("args"), list):
            self._note_once("malformed", ActionWarning("script", "malformed host calls refused"))
            return {"id": call.get("id") if isinstance(call, dict) else None, "value": None}
        op, args = call["op"], call["args"]
        value = HOST_OPS[op]
        self.calls += 1
        if self.calls > MAX_HOST_CALLS:
            self._note_once("cap", ActionWarning(op, f"more than {MAX_HOST_CALLS} host calls in "
                                                     "one run; the rest were refused"))
        elif refusal := _args_refusal(op, args):
            self.warnings.append(ActionWarning(op, refusal))
        else:
            value = await self._call(op, args)
        return {"id": call.get("id"), "value": value}

    def _note_once(self, kind: str, warning: ActionWarning) -> None:
        if kind not in self._noted:
            self._noted.add(kind)
            self.warnings.append(warning)

    async def _call(self, op: str, args: list[Any]) -> Any:
        try:
            value = await self.host.call(op, args)
            json.dumps(value, allow_nan=False)
        except (TimeoutError, asyncio.CancelledError):
            raise
        except HostRefusal as refusal:
            self.warnings.append(ActionWarning(op, str(refusal)))
            return HOST_OPS[op]
        except Exception as exc:  # a failing host means "no", never a failed request
            self.warnings.append(ActionWarning(op, f"the host failed: {exc!r}"))
            return HOST_OPS[op]
        return value


def _args_refusal(op: str, args: list[Any]) -> str | None:
    """Why a call's arguments are refused before the host sees them. getToken takes anything
    (a ttl that is no positive number means the default); setFromToken needs a string."""
    if not args:
        return "the call has no argument"
    if op == "session.setFromToken" and not isinstance(args[0], str):
        return "token must be a string"
    return None
