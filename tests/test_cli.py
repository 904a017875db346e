"""The command line: new, check, render, and serve refusing a broken site."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from conftest import recorded_events, running_server, write_site
from funnelrun import cli
from funnelrun.cli import main
from funnelrun.settings import Secret, Settings


def test_new_writes_a_site_that_checks_clean(tmp_path, capsys):
    target = tmp_path / "mysite"
    assert main(["new", str(target)]) == 0
    assert (target / "brands/acme/pages/index.html").is_file()
    assert main(["check", str(target)]) == 0
    assert capsys.readouterr().out == ""


def test_new_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("keep me")
    assert main(["new", str(tmp_path)]) == 1
    assert "already exists and is not empty" in capsys.readouterr().err


def test_check_prints_one_line_per_problem_with_position(tmp_path, capsys):
    root = write_site(tmp_path, {
        "brands/acme/pages/a.html": "<p>\n  @if(x)\n",
        "brands/acme/pages/b.html": "{{ x | uper }}",
        "brands/acme/pages/c.html": '<script scope="backend">\nlet = ;\n</script>',
    })
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0] for line in out] == [
        "brands/acme/pages/a.html:3:1",
        "brands/acme/pages/b.html:1:8",
        "brands/acme/pages/c.html:2:7",
    ]
    assert out[0].endswith("unclosed @if opened at 2:3; expected @elseif, @else or @endif")
    assert out[1].endswith("unknown filter 'uper'; did you mean 'upper'?")


def test_serve_refuses_a_broken_site_and_says_why(tmp_path, capsys):
    root = write_site(tmp_path, {"brands/acme/pages/a.html": "@foreach(x in y)"})
    assert main(["serve", str(root), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "brands/acme/pages/a.html:1:17: unclosed @foreach opened at 1:1" in err
    assert "not serving" in err


def test_serve_refuses_a_zero_deadline_and_names_the_setting(tmp_path, capsys, monkeypatch):
    root = write_site(tmp_path, {"brands/acme/pages/a.html": "a"})
    monkeypatch.setenv("FUNNELRUN_SERVER_HEADER_TIMEOUT_S", "0")
    assert main(["serve", str(root), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err == ("funnelrun: setting 'server.header_timeout_s' must be at least 1, got 0 "
                   "(from FUNNELRUN_SERVER_HEADER_TIMEOUT_S)\n")


def test_missing_site_folder_is_one_line_not_a_traceback(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"funnelrun: {tmp_path / 'nope'}: no such site folder"


def test_render_prints_status_headers_and_body(tmp_path, capsys):
    root = write_site(tmp_path, {"brands/acme/pages/hi.html": "<p>{{ query.name }}</p>"})
    assert main(["render", str(root), "/hi?name=Ann"]) == 0
    out = capsys.readouterr().out
    head, _, body = out.partition("\n\n")
    assert head.splitlines()[0] == "HTTP/1.1 200 OK"
    assert "content-type: text/html; charset=utf-8" in head
    assert body == "<p>Ann</p>"


def test_render_posts_form_data_and_prints_events(tmp_path, capsys):
    root = write_site(tmp_path, {
        "brands/acme/pages/form.html": """
            <script scope="backend">
              console.log("got", getVariable("email"));
              response.json({ email: request.body.email, cookie: request.cookies.k });
            </script>
        """,
    })
    assert main(["render", str(root), "/form", "--data", "email=a@b.test", "--cookie", "k=v",
                 "--events"]) == 0
    out = capsys.readouterr().out
    body, _, events = out.partition("\n-- page events of request ")
    assert json.loads(body.partition("\n\n")[2]) == {"email": "a@b.test", "cookie": "v"}
    recorded = json.loads(events.partition("\n")[2])
    script = next(e for e in recorded if e["type"] == "script")
    assert script["outcome"] == "ok"
    assert script["console"][0]["text"] == "got a@b.test"


def test_render_bad_header_flag_is_a_clear_error(tmp_path, capsys):
    root = write_site(tmp_path, {"brands/acme/pages/index.html": "x"})
    assert main(["render", str(root), "/", "--header", "nocolon"]) == 1
    assert "expected 'Name: value'" in capsys.readouterr().err


COUNTER = {
    "brands/acme/pages/index.html": """
        <script scope="backend">session.set("n", (session.get("n") || 0) + 1);</script>
        <p>{{ session.n }}</p>
    """,
}


def answering_worker(root: Path, response: httpx.Response) -> int:
    """The pid of the worker that answered, from the request's `response` page event."""
    events = asyncio.run(recorded_events(root, response.headers["x-request-id"]))
    return next(event["worker"] for event in events if event["type"] == "response")


def test_serve_with_several_workers_shares_one_store_and_escapes_the_log(tmp_path):
    root = write_site(tmp_path / "site", {**COUNTER, "brands/acme/pages/c.html": "@component(query.c)"})
    answers: list[tuple[int, str]] = []  # (worker, the count it showed), one per request
    with running_server(root, "--workers", "2") as (base, _), httpx.Client(base_url=base) as client:
        deadline = time.monotonic() + 30
        # One visitor, one connection per request, until a second worker has answered (the
        # first requests often all go to the worker that came up first).
        while len({worker for worker, _ in answers}) < 2 and time.monotonic() < deadline:
            response = client.get("/", headers={"connection": "close"})
            answers.append((answering_worker(root, response), response.text.strip()))
        for _ in range(4):  # whichever worker answers logs through the escaping formatter
            client.get("/c?c=x%0d%0aFORGED", headers={"connection": "close"})
    log = (tmp_path / "server.log").read_text()
    workers = [worker for worker, _ in answers]
    assert len(set(workers)) == 2, f"one worker answered all {len(workers)} requests"
    # Every request saw the count its predecessor saved; the last one, through a worker that had
    # not answered before, read what the other worker wrote.
    assert [count for _, count in answers] == [f"<p>{n}</p>" for n in range(1, len(answers) + 1)]
    assert workers[-1] not in workers[:-1]
    assert log.count("Started server process") == 2
    assert log.count("FUNNELRUN_SECRET_KEY is not set") == 1  # said once, not once per worker
    assert "base64.b64encode(os.urandom(32))" in log  # and how to make one
    assert log.count("template 'x\\r\\nFORGED' not found") == 4
    assert not [line for line in log.splitlines() if line.startswith("FORGED")]


@pytest.mark.parametrize("key", ["c2hvcnQ=", "not base64!", base64.b64encode(b"k" * 33).decode()])
def test_serve_refuses_a_secret_key_that_is_not_32_bytes_without_printing_it(
    tmp_path, capsys, monkeypatch, key
):
    root = write_site(tmp_path, {"brands/acme/pages/a.html": "a"})
    monkeypatch.setenv("FUNNELRUN_SECRET_KEY", key)
    assert main(["serve", str(root), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("funnelrun: FUNNELRUN_SECRET_KEY must be base64 of 32 bytes")
    assert key not in err


def wait_for_page(url: str, text: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).text == text:
                return
        except httpx.HTTPError:
            pass  # restarting
        time.sleep(0.2)
    pytest.fail(f"{url} never served {text!r}")


def test_serve_reload_picks_up_edits_and_reports_a_broken_one(tmp_path):
    root = write_site(tmp_path / "site", {"brands/acme/pages/index.html": "<p>before</p>"})
    page = root / "brands/acme/pages/index.html"
    log = tmp_path / "server.log"
    with running_server(root, "--reload") as (base, _):
        wait_for_page(base + "/", "<p>before</p>")
        page.write_text("<p>after</p>")
        wait_for_page(base + "/", "<p>after</p>")
        page.write_text("@if(x)\n")
        deadline = time.monotonic() + 20
        while "not serving" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        page.write_text("<p>fixed</p>")
        wait_for_page(base + "/", "<p>fixed</p>")
        page.write_text('<script scope="backend">\nlet = ;</script><p>scripted</p>')
        wait_for_page(base + "/", "<p>scripted</p>")  # a syntax error does not stop the page
    output = log.read_text()
    assert "brands/acme/pages/index.html:2:1: unclosed @if opened at 1:1" in output
    assert "warning: brands/acme/pages/index.html:2:7: SyntaxError" in output  # checked again
    assert "Traceback" not in output


def test_serve_prints_a_login_link_with_a_new_token_or_the_placeholder(monkeypatch):
    environment = {k: v for k, v in os.environ.items() if k != "FUNNELRUN_ADMIN_TOKEN"}
    monkeypatch.setattr(os, "environ", environment)
    line = cli._debug_window_line("http://127.0.0.1:8000", Settings())
    token = os.environ["FUNNELRUN_ADMIN_TOKEN"]  # for the workers to read
    assert len(token) >= 32
    assert line.startswith(f"funnelrun: debug window: http://127.0.0.1:8000/_funnelrun/login"
                           f"?token={token}\n")
    kept = cli._debug_window_line("http://h:1", Settings(admin_token=Secret("s" * 20)))
    assert kept == "funnelrun: debug window: http://h:1/_funnelrun/login?token=<FUNNELRUN_ADMIN_TOKEN>"
    assert "s" * 20 not in kept


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:80"), ("0.0.0.0", "http://127.0.0.1:80"),
    ("::", "http://[::1]:80"), ("::1", "http://[::1]:80"), ("shop.test", "http://shop.test:80"),
])
def test_the_printed_address_is_one_a_browser_here_can_open(host, url):
    assert cli._base_url(host, 80) == url
