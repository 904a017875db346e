"""Page events stay small whatever a request does (issue 6, item 7), against a real server."""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
import pytest

from conftest import running_server, write_site
from funnelrun.events import MAX_RECORD_BYTES, MAX_TEXT_CHARS, MAX_WARNINGS

FLOOD = """
<script scope="backend">
  var name = "bad name " + "x".repeat(1000);
  for (var i = 0; i < 5000; i++) cookie.set(name + i, "v");
  for (var j = 0; j < 5000; j++) setVariable("v" + j, j);
  console.log("y".repeat(70000));
</script>
flooded
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("events") / "site", {
        "brands/acme/pages/flood.html": FLOOD,
    })
    with running_server(root) as (base, _):
        yield base, root


def stored(root, request_id: str) -> tuple[str, int, list[dict]]:
    """(path, size of the events' JSON, events) of a recorded request."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # recorded just after the response is sent
        with sqlite3.connect(root / ".funnelrun" / "state.db") as db:
            row = db.execute("SELECT path, length(CAST(events AS BLOB)), events FROM requests"
                             " WHERE request_id = ?", (request_id,)).fetchone()
        if row is not None:
            return row[0], row[1], json.loads(row[2])
        time.sleep(0.05)
    raise AssertionError(f"request {request_id} was not recorded")


def test_thousands_of_refused_actions_store_a_bounded_record(server):
    base, root = server
    response = httpx.get(base + "/flood", timeout=60)
    assert response.status_code == 200
    _, size, events = stored(root, response.headers["x-request-id"])
    assert size <= MAX_RECORD_BYTES
    warnings = [event for event in events if event["type"] == "warning"]
    assert len(warnings) == MAX_WARNINGS
    assert warnings[0]["call"] == "cookie.set"
    final = events[-1]
    assert final["type"] == "response"
    assert final["warnings_dropped"] == 5000 - MAX_WARNINGS
    script = next(event for event in events if event["type"] == "script")
    assert len(script["applied"]) == 200
    assert script["applied_dropped"] == 5000 - 200


def test_a_long_path_is_stored_clipped_once(server):
    base, root = server
    path = "/" + "p" * 20000
    response = httpx.get(base + path, timeout=30)
    assert response.status_code == 404
    stored_path, size, events = stored(root, response.headers["x-request-id"])
    assert stored_path.startswith(path[:MAX_TEXT_CHARS])
    assert len(stored_path) < MAX_TEXT_CHARS + 100
    assert size < 2 * MAX_TEXT_CHARS + 1000
    resolve = next(event for event in events if event["type"] == "resolve")
    assert resolve["path"] == stored_path
