"""The debug window of a real `funnelrun serve --workers 2`: the printed login link, one admin
cookie good on every worker, the live stream, and a shutdown that does not wait for it."""

from __future__ import annotations

import time
from collections import Counter

import httpx

from conftest import printed_login_link, running_server, write_site

FILES = {
    "brands/acme/pages/index.html": "<p>home</p>",
    "brands/acme/pages/who.html": """
        <script scope="backend">console.log("worker page");</script><p>who</p>
    """,
}


def test_the_printed_link_logs_in_on_every_worker_and_the_stream_follows(tmp_path):
    root = write_site(tmp_path / "site", FILES)
    with running_server(root, "--workers", "2", FUNNELRUN_ADMIN_TOKEN="") as (base, process):
        link = printed_login_link(tmp_path / "server.log")
        token = link.rsplit("=", 1)[1]
        assert len(token) >= 32 and link.startswith(base)
        with httpx.Client(base_url=base, timeout=10) as admin:
            entered = admin.get(link.removeprefix(base))
            assert entered.status_code == 200 and "fr_admin" in entered.cookies
            workers: Counter[str] = Counter()
            deadline = time.monotonic() + 30
            while len(workers) < 2 and time.monotonic() < deadline:
                page = admin.get("/_funnelrun/", headers={"connection": "close"})
                assert page.status_code == 200  # the cookie is good on whichever worker
                visit = admin.get("/who", headers={"connection": "close"})
                record = admin.get(f"/_funnelrun/api/requests/{visit.headers['x-request-id']}")
                while record.status_code == 404:  # the other worker writes it a moment later
                    time.sleep(0.05)
                    record = admin.get(
                        f"/_funnelrun/api/requests/{visit.headers['x-request-id']}")
                workers[str(record.json()["events"][-1]["worker"])] += 1
            assert len(workers) == 2, f"one worker answered every request: {workers}"

            with admin.stream("GET", "/_funnelrun/api/live",
                              params={"path": "/who"}) as stream:
                lines = stream.iter_lines()
                assert next(lines) == "retry: 2000"
                fresh = httpx.get(base + "/who").headers["x-request-id"]
                seen = []
                for line in lines:
                    if line.startswith("data: "):
                        seen.append(line)
                        if fresh in line:
                            break
                assert fresh in seen[-1]

                started = time.monotonic()
                process.terminate()  # while the stream is open
                process.wait(timeout=20)
                assert time.monotonic() - started < 10, "the shutdown waited for the stream"
