"""The host side of a script's async calls (session.getToken / setFromToken)."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any, Protocol

from .actions import ActionWarning
from .limits import MAX_HOST_CALLS

# Every async host call a script can make, with the answer it gets when the call fails.
HOST_OPS: dict[str, Any] = {"session.getToken": None, "session.setFromToken": False}


class Host(Protocol):
    """Answers a script's async host calls for one request; must not raise for a refusal."""

    async def call(self, op: str, args: list[Any]) -> Any: ...


class NullHost:
    """Answers every call with its failure value: no token, no login (handoff off)."""

    async def call(self, op: str, args: list[Any]) -> Any:
        return HOST_OPS.get(op)


class HostRelay:
    """Answers one run's host calls through `host`, before the run's wall-clock deadline
    (`asyncio` loop time); never trusts the calls the sandbox hands over."""

    def __init__(self, host: Host, deadline: float) -> None:
        self.host = host
        self.deadline = deadline
        self.calls = 0
        self.warnings: list[ActionWarning] = []

    async def answer(self, calls: Any) -> list[dict[str, Any]] | None:
        """Answers for `calls` ([{id, op, args}]), or None when the deadline passed."""
        if not isinstance(calls, list):
            calls = []
        timeout = self.deadline - asyncio.get_running_loop().time()
        if timeout <= 0:
            return None
        try:
            async with asyncio.timeout(timeout):
                return [await self._answer(call) for call in calls if isinstance(call, dict)]
        except TimeoutError:
            return None

    async def _answer(self, call: dict[str, Any]) -> dict[str, Any]:
        op, args = call.get("op"), call.get("args")
        if op not in HOST_OPS or not isinstance(args, list):
            return {"id": call.get("id"), "value": None}
        self.calls += 1
        refusal = _args_refusal(op, args)
        if refusal is None and self.calls > MAX_HOST_CALLS:
            refusal = f"more than {MAX_HOST_CALLS} host calls in one run"
        value = HOST_OPS[op]
        if refusal is None:
            value = await self._call(op, args)
        else:
            self.warnings.append(ActionWarning(op, refusal))
        return {"id": call.get("id"), "value": value}

    async def _call(self, op: str, args: list[Any]) -> Any:
        try:
            value = await self.host.call(op, args)
            json.dumps(value, allow_nan=False)
        except (TimeoutError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a failing host means "no", never a failed request
            self.warnings.append(ActionWarning(op, f"the host failed: {exc!r}"))
            return HOST_OPS[op]
        return value


def _args_refusal(op: str, args: list[Any]) -> str | None:
    if op == "session.getToken":
        ttl = args[0] if args else None
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)
                                or not math.isfinite(ttl)):
            return "ttlSeconds must be a number"
    elif not args or not isinstance(args[0], str):
        return "token must be a string"
    return None
