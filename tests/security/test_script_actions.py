"""The sandbox boundary and what a hostile site author's script may do with its actions (issue
6, items 6, 8, 10 and 14): attacked through the real executor pool and a real `funnelrun serve`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import TEST_ENVIRONMENT, recorded_events, running_server, write_site
from funnelrun.jsondata import MAX_DEPTH
from funnelrun.script import ScriptResult
from funnelrun.script.engine import RULES
from funnelrun.script.job import make_result
from funnelrun.script.limits import MAX_RECORDS
from script.conftest import Sandbox, page_job, started_sandbox, warnings_of

DROPPED = f"{{}} actions beyond the first {MAX_RECORDS} were dropped"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with started_sandbox(processes=1, max_processes=2) as sandbox:
        yield sandbox


def variables(result: ScriptResult) -> dict[str, Any]:
    assert result.outcome == "ok", result.error
    return dict(result.effects.variables)


# -- item 8: the prelude's private functions stay out of reach ----------------------------------

# The attack as it was found: V8's stack-trace API hands every function on the stack to
# Error.prepareStackTrace; with the prelude's `control`, new rules lift the record cap.
GRAB = """
const grabbed = [], stacks = [];
try {
  Error.prepareStackTrace = (error, sites) => {
    for (const site of sites) grabbed.push(site.getFunction());
    return 'hooked';
  };
} catch (refused) {}
const probe = () => stacks.push(new Error('probe').stack);
probe();                                                   // beneath the script's first line
setVariable('probe', { toJSON() { probe(); return 1; } });  // inside an action
await session.getToken();
probe();                                                   // in a promise job after a host call
const control = grabbed.find((f) => typeof f === 'function' && f.name === 'control');
try { control('rules', FORGED_RULES); } catch (refused) {}
setVariable('grabbed', grabbed.map((f) => typeof f === 'function' ? f.name : typeof f));
setVariable('hooked', stacks.filter((stack) => stack === 'hooked').length);
for (let i = 0; i < 20000; i++) setHeader('X-N' + i, 'v');
"""


def test_the_stack_trace_api_hands_no_prelude_function_to_a_script(sandbox: Sandbox) -> None:
    forged = json.dumps(json.dumps({**json.loads(RULES), "max_records": 10**9}))
    result = sandbox(GRAB.replace("FORGED_RULES", forged))
    assert variables(result)["grabbed"] == [] and variables(result)["hooked"] == 0
    assert len(result.effects.headers) == MAX_RECORDS - 3  # the three setVariable came first
    assert ("script", DROPPED.format(20000 - MAX_RECORDS + 3)) in warnings_of(result)


def test_the_stack_trace_api_stays_closed_whatever_a_script_tries(sandbox: Sandbox) -> None:
    result = sandbox("""
        const ran = [], outcomes = [];
        const hook = () => { ran.push('hook'); return 'hooked'; };
        for (const attempt of [
          () => { Error.prepareStackTrace = hook; },
          () => { 'use strict'; Error.prepareStackTrace = hook; },
          () => Object.defineProperty(Error, 'prepareStackTrace', { value: hook }),
          () => Reflect.set(Error, 'prepareStackTrace', hook),
          () => delete Error.prepareStackTrace,
          () => Object.setPrototypeOf(Error, { set prepareStackTrace(v) {} }) && undefined,
          () => { Error.stackTraceLimit = { valueOf() { ran.push('valueOf'); return 64; } }; },
        ]) {
          try { outcomes.push(String(attempt())); } catch (error) { outcomes.push(error.name); }
        }
        const target = {};
        Error.captureStackTrace(target);
        setVariable('r', [outcomes, ran, typeof new Error('x').stack, typeof target.stack,
                          Error.stackTraceLimit, (function f() { return typeof f.caller; })()]);
    """)
    assert variables(result)["r"] == [
        ["undefined", "TypeError", "TypeError", "false", "false", "undefined", "undefined"],
        [], "string", "string", 10, "undefined"]


def test_no_prelude_frame_lies_beneath_the_script(sandbox: Sandbox) -> None:
    result = sandbox("""
        const names = (stack) => stack.trim().split('\\n').map((line) => line.trim().split(' ')[1]);
        const stacks = [names(new Error().stack)];
        setVariable('x', { toJSON() { stacks.push(names(new Error().stack)); return 1; } });
        await session.getToken();
        stacks.push(names(new Error().stack));
        setVariable('stacks', stacks);
    """)
    top, in_action, after_host_call = variables(result)["stacks"]
    assert top == ["<anonymous>"] and after_host_call == ["<anonymous>"]
    assert not {"control", "start"} & set(in_action)


def test_the_prelude_runs_no_script_code_while_python_drives_it(sandbox: Sandbox) -> None:
    result = sandbox("""
        let reads = 0;
        Object.defineProperty(Object.prototype, 'toJSON',
                              { get() { reads++; return undefined; }, configurable: true });
        await session.getToken(60);                  // handed over, then settled
        delete Object.prototype.toJSON;
        let constructor = 'fixed';
        try {
          Object.defineProperty(Promise.prototype, 'constructor', { get() { return Promise; } });
          constructor = 'replaced';
        } catch (error) {}
        setVariable('r', [reads, constructor]);
    """)
    assert variables(result)["r"] == [0, "fixed"]


# -- item 8: Python holds every cap, whatever the sandbox sends ----------------------------------


def forged(drained: dict[str, Any] | str) -> ScriptResult:
    text = drained if isinstance(drained, str) else json.dumps(drained)
    return make_result(page_job(""), {"outcome": "ok"}, text)


def test_twenty_thousand_forged_records_are_capped_by_python() -> None:
    records = [{"op": "setHeader", "args": [f"X-N{n}", "v"], "missing": []}
               for n in range(20000)]
    records.append({"op": "redirect", "args": ["/done"], "missing": []})
    result = forged({"records": records, "console": [], "records_dropped": 0})
    assert len(result.effects.headers) == MAX_RECORDS
    assert result.effects.redirect is not None and result.effects.redirect.url == "/done"
    assert warnings_of(result) == [("script", DROPPED.format(20000 - MAX_RECORDS))]


def deep_text(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize("drained", [
    '{"records": [{"op": "setVariable", "args": ["v", ' + deep_text(5000) + "]}]}",
    '{"records": [{"op": "setVariable", "args": ["v", ' + deep_text(900, '"\\ud800"') + "]}]}",
    {"records": [], "console": [{"level": [], "text": [[["x"]]], "time": 1e300},
                                {"level": "log", "text": "kept", "time": 10**400}]},
    {"records": [{"op": ["redirect"], "args": []}] * (MAX_RECORDS + 1)},
], ids=["too-deep-to-parse", "deep-with-surrogates", "malformed-console", "unhashable-op"])
def test_forged_drained_text_never_breaks_the_server(drained: dict[str, Any] | str) -> None:
    result = forged(drained)
    assert result.outcome == "ok"
    assert result.effects.variables == {} and result.effects.redirect is None
    assert [entry.text for entry in result.console] in ([], ["kept"])
    assert all(entry.time == 0.0 for entry in result.console)


# -- items 6, 10 and 14 over HTTP: a real server --------------------------------------------------

NEST = "const nest = (n) => { let v = 1; for (let i = 0; i < n; i++) v = [v]; return v; };"
FILES = {
    "brands/acme/pages/go.html": """
        <script scope="backend">
          setVariable('v', 'before'); redirect(getVariable('to')); setVariable('v', 'after');
        </script>
        page {{ var.v }}
    """,
    "brands/acme/pages/refresh.html": """
        <script scope="backend">setHeader('Refresh', '0; url=javascript:alert(1)');</script>
        refresh page
    """,
    "brands/acme/pages/deep.html": f"""
        <script scope="backend">
          {NEST}
          const depth = Number(getVariable('depth'));
          setVariable('ok', session.set('deep', nest(depth)));
          setVariable('deep', nest(depth));
          setVariable('after', 'kept');
        </script>
        ok={{{{ var.ok }}}} after={{{{ var.after }}}} deep={{{{ var.deep }}}} stored={{{{ session.deep }}}}
    """,
    "brands/acme/pages/json.html": f"""
        <script scope="backend">{NEST} response.json(nest(Number(getVariable('depth'))));</script>
        json page
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    root = write_site(tmp_path_factory.mktemp("script-actions") / "site", FILES)
    with running_server(root, **TEST_ENVIRONMENT) as (base, _), \
            httpx.Client(base_url=base, timeout=30) as http:
        yield http, root


def page_warnings(root: Path, response: httpx.Response) -> list[tuple[str, str]]:
    events = asyncio.run(recorded_events(root, response.headers["x-request-id"]))
    return [(e["call"], e["reason"]) for e in events if e["type"] == "warning"]


@pytest.mark.parametrize(("target", "reason"), [
    ("http://472.314.470.462", "'472.314.470.462' is not a valid host and port"),
    ("http://[::1", "'[::1' is not a valid host and port"),
    ("https://a.test:99999/", "'a.test:99999' is not a valid host and port"),
    ("/.//evil.test", "target's path resolves to '//evil.test', which would leave the site"),
])
def test_redirect_targets_a_browser_cannot_parse_or_would_read_elsewhere_are_refused(
        server: tuple[httpx.Client, Path], target: str, reason: str) -> None:
    http, root = server
    response = http.get("/go", params={"to": target})
    assert response.status_code == 200 and "location" not in response.headers
    assert response.text.strip() == "page before"  # the refused redirect still ended the script
    [(call, given)] = page_warnings(root, response)
    assert call == "redirect" and given.startswith(reason)


@pytest.mark.parametrize(("target", "location"), [
    ("https://EXAMPLE.test:443/x/../y", "https://example.test/y"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("/a/./b/../c?q=é", "/a/c?q=%C3%A9"),
])
def test_redirect_sends_the_form_a_browser_parses_its_target_to(
        server: tuple[httpx.Client, Path], target: str, location: str) -> None:
    http, _ = server
    response = http.get("/go", params={"to": target})
    assert response.status_code == 302 and response.headers["location"] == location


def test_a_refresh_header_is_refused_with_its_reason(server: tuple[httpx.Client, Path]) -> None:
    http, root = server
    response = http.get("/refresh")
    assert response.status_code == 200 and "refresh" not in response.headers
    assert page_warnings(root, response) == [("setHeader", (
        "'Refresh' cannot be set by a script: it redirects the visitor without redirect()'s "
        "checks; use redirect()"))]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 600, 1500, 5000])
def test_values_nested_too_deep_are_refused_and_the_page_renders(
        server: tuple[httpx.Client, Path], depth: int) -> None:
    http, root = server
    response = http.get("/deep", params={"depth": depth})
    assert response.status_code == 200
    assert response.text.strip() == "ok=false after=kept deep= stored="
    assert [call for call, _ in page_warnings(root, response)] == ["session.set", "setVariable"]


def test_values_nested_to_the_limit_are_kept(server: tuple[httpx.Client, Path]) -> None:
    http, _ = server
    response = http.get("/deep", params={"depth": MAX_DEPTH})
    assert response.text.strip() == "ok=true after=kept deep=1 stored=1"
    assert http.get("/json", params={"depth": MAX_DEPTH}).json() == json.loads(
        deep_text(MAX_DEPTH))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_a_json_response_nested_too_deep_is_refused_and_the_page_renders(
        server: tuple[httpx.Client, Path], depth: int) -> None:
    http, root = server
    response = http.get("/json", params={"depth": depth})
    assert response.status_code == 200 and response.text.strip() == "json page"
    [(call, reason)] = page_warnings(root, response)
    assert call == "response.json" and reason.endswith("; the page is shown instead")
