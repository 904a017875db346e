"""The async host calls (session.getToken / setFromToken): promises settled by a pump loop."""

from __future__ import annotations

import asyncio
from typing import Any

from funnelrun.script.host import HostRelay
from funnelrun.settings import LimitSettings

from .conftest import Sandbox, page_job, warnings_of


class RecordingHost:
    """Answers from a table and remembers every call."""

    def __init__(self, answers: dict[str, Any] | None = None, delay: float = 0.0) -> None:
        self.answers = answers or {"session.getToken": "v1.token", "session.setFromToken": True}
        self.delay = delay
        self.calls: list[tuple[str, list[Any]]] = []

    async def call(self, op: str, args: list[Any]) -> Any:
        self.calls.append((op, args))
        if self.delay:
            await asyncio.sleep(self.delay)
        answer = self.answers[op]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_host_answers_reach_the_script(sandbox: Sandbox) -> None:
    host = RecordingHost()
    result = sandbox("const token = await session.getToken();\n"
                     "const url = 'https://app.example.com/welcome?ef_session=' + "
                     "encodeURIComponent(token);\n"
                     "setVariable('ok', await session.setFromToken('v1.other'));\n"
                     "redirect(url);", host)
    assert result.outcome == "ok", result.error
    assert result.effects.variables == {"ok": True}
    assert result.effects.redirect is not None
    assert result.effects.redirect.url == "https://app.example.com/welcome?ef_session=v1.token"
    assert host.calls == [("session.getToken", [None]), ("session.setFromToken", ["v1.other"])]


def test_get_token_passes_the_ttl(sandbox: Sandbox) -> None:
    host = RecordingHost()
    sandbox("await session.getToken(120);", host)
    assert host.calls == [("session.getToken", [120])]


def test_concurrent_calls_are_answered_in_one_round(sandbox: Sandbox) -> None:
    host = RecordingHost({"session.getToken": "t", "session.setFromToken": False})
    result = sandbox("setVariable('r', await Promise.all([session.getToken(), "
                     "session.setFromToken('x'), session.getToken(5)]));", host)
    assert result.effects.variables == {"r": ["t", False, "t"]}
    assert len(host.calls) == 3


def test_a_login_by_token_updates_customer_globals(sandbox: Sandbox) -> None:
    host = RecordingHost({"session.setFromToken": {"ok": True,
                                                   "customer": {"email": "h@x.test"}}})
    result = sandbox("const ok = await session.setFromToken('v1.t');\n"
                     "setVariable('r', [ok, is_customer, customer]);", host)
    assert result.effects.variables == {"r": [True, True, {"email": "h@x.test"}]}


def test_answers_of_the_wrong_type_become_the_failure_value(sandbox: Sandbox) -> None:
    host = RecordingHost({"session.getToken": 42, "session.setFromToken": "yes"})
    result = sandbox("setVariable('r', [await session.getToken(), "
                     "await session.setFromToken('t')]);", host)
    assert result.effects.variables == {"r": [None, False]}


def test_a_failing_host_means_no_and_a_warning(sandbox: Sandbox) -> None:
    host = RecordingHost({"session.getToken": RuntimeError("store down"),
                          "session.setFromToken": object()})
    result = sandbox("setVariable('r', [await session.getToken(), "
                     "await session.setFromToken('t')]);", host)
    assert result.outcome == "ok"
    assert result.effects.variables == {"r": [None, False]}
    assert [call for call, _ in warnings_of(result)] == ["session.getToken",
                                                         "session.setFromToken"]


def test_a_token_that_is_no_string_never_reaches_the_host(sandbox: Sandbox) -> None:
    host = RecordingHost()
    result = sandbox("setVariable('r', await session.setFromToken(5));", host)
    assert result.effects.variables == {"r": False}
    assert host.calls == []
    assert warnings_of(result) == [("session.setFromToken", "token must be a string")]


def test_a_ttl_that_is_no_number_reaches_the_host_as_a_plain_value(sandbox: Sandbox) -> None:
    """The host reads it as the default lifetime (SPEC §6); only plain values cross over."""
    host = RecordingHost()
    sandbox("await session.getToken('soon'); await session.getToken({toString() { return 9 }});",
            host)
    assert [args for _, args in host.calls] == [["invalid"], ["invalid"]]


def test_a_slow_host_runs_into_the_wall_clock_limit(sandbox: Sandbox) -> None:
    limits = LimitSettings(script_cpu_ms=1000, script_wall_ms=300)
    job = page_job("setVariable('before', 1);\nawait session.getToken();\n"
                   "setVariable('after', 1);", limits=limits)
    result = sandbox(job, RecordingHost(delay=5))
    assert result.outcome == "timeout"
    assert result.error.message == "wall-clock limit of 300 ms exceeded"
    assert result.effects.variables == {"before": 1}
    assert result.duration_ms < 1300


def test_calls_not_awaited_never_run(sandbox: Sandbox) -> None:
    host = RecordingHost()
    result = sandbox("session.setFromToken('t'); setVariable('done', 1);", host)
    assert host.calls == []
    assert warnings_of(result) == [("script", "1 session.getToken/setFromToken calls were not "
                                              "awaited and never ran")]


def test_host_calls_per_run_are_capped(sandbox: Sandbox) -> None:
    host = RecordingHost()
    result = sandbox("for (let i = 0; i < 40; i++) await session.getToken();", host)
    assert result.outcome == "ok"
    assert len(host.calls) == 32
    assert warnings_of(result)[0] == ("session.getToken", "more than 32 host calls in one run")


def test_the_server_answers_forged_host_calls_with_failure_values() -> None:
    """The executor is not trusted either: past 32 calls, and for malformed ones, the host is
    never asked, and each kind of refusal is one warning, not one per call."""
    host = RecordingHost()
    calls = [{"id": n, "op": "session.getToken", "args": [None]} for n in range(40)]
    calls += ["junk", {"id": 99, "op": ["session.getToken"], "args": []}]

    async def relay() -> tuple[list[dict[str, Any]] | None, HostRelay]:
        relay = HostRelay(host, asyncio.get_running_loop().time() + 5)
        return await relay.answer(calls), relay

    answers, relay = asyncio.run(relay())
    assert answers is not None and len(answers) == 42
    assert [a["value"] for a in answers] == ["v1.token"] * 32 + [None] * 10
    assert len(host.calls) == 32
    assert [(w.call, w.reason) for w in relay.warnings] == [
        ("session.getToken", "more than 32 host calls in one run; the rest were refused"),
        ("script", "malformed host calls refused")]
