"""Several workers and several machines on one store, against real `funnelrun serve` processes:
nothing a visitor writes is lost, a token is spent once, login quotas hold — on SQLite (one
machine) and on Redis (any number)."""

from __future__ import annotations

import asyncio
import base64
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import recorded_events, running_server, write_site
from redis_server import RedisServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KEY = base64.b64encode(os.urandom(32)).decode()
ADMIN_TOKEN = "scale-out-admin-token-0123456789"
WORKERS = 4
WRITES = 200
PER_IP = 5  # logins per client address per hour, in this test site
FILES = {
    "brands/acme/brand.toml": 'name = "Acme"\ndomains = ["a.test", "b.test"]\n',
    "brands/acme/pages/write.html": """
        <script scope="backend">session.set("k" + request.query.n, request.query.n);</script>
        wrote
    """,
    "brands/acme/pages/count.html": f"""
        <script scope="backend">
          let present = 0;
          for (let n = 0; n < {WRITES}; n++) if (session.get("k" + n) === String(n)) present++;
          setVariable("present", present);
        </script>
        present={{{{ var.present }}}}
    """,
    "brands/acme/pages/login.html": """
        <script scope="backend">
          if (request.method === "POST") session.setCustomer({ email: "ann@example.test", id: 7 });
        </script>
        login
    """,
    "brands/acme/pages/me.html": "customer={{ is_customer }}",
    "brands/acme/pages/mint.html": """
        <script scope="backend">setVariable("token", await session.getToken());</script>
        [{{ var.token }}]
    """,
    "brands/acme/pages/members.html": "+++\nrequires_login = true\n+++\nmembers\n",
}
ENVIRONMENT = {
    "FUNNELRUN_SECRET_KEY": KEY,
    "FUNNELRUN_ADMIN_TOKEN": ADMIN_TOKEN,
    "FUNNELRUN_SESSION_LOGIN_QUOTA_PER_IP": str(PER_IP),
    "FUNNELRUN_SERVER_MAX_CONNECTIONS": "1000",
    "FUNNELRUN_SERVER_TRUSTED_PROXIES": "127.0.0.1",  # so a test can come from an address of its own
}


@dataclass
class Served:
    base: str
    root: Path
    store_url: str | None  # None: the site's own SQLite file

    def client(self, host: str = "a.test", **options: object) -> httpx.AsyncClient:
        """A visitor of its own (a cookie jar), speaking to `host` on this server."""
        port = urlsplit(self.base).port
        headers = {"host": f"{host}:{port}", **options.pop("headers", {})}  # type: ignore[dict-item]
        return httpx.AsyncClient(base_url=self.base, headers=headers, timeout=30,
                                 **options)  # type: ignore[arg-type]

    async def workers_of(self, responses: list[httpx.Response]) -> Counter[int]:
        """Which worker process answered each response (from its recorded page events)."""
        workers: Counter[int] = Counter()
        for response in responses:
            events = await recorded_events(self.root, response.headers["x-request-id"],
                                           self.store_url)
            workers[events[-1]["worker"]] += 1
        return workers


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           redis_server: RedisServer) -> Iterator[Served]:
    """`funnelrun serve --workers 4` of the test site, on each store in turn."""
    root = write_site(tmp_path_factory.mktemp(f"scale-{request.param}") / "site", FILES)
    flags = ["--workers", str(WORKERS)]
    store_url = None
    if request.param == "redis":
        if not redis_server.is_running():
            redis_server.start()
        redis_server.flush()
        store_url = redis_server.url
        flags += ["--store", store_url]
    with running_server(root, *flags, **ENVIRONMENT) as (base, _):
        yield Served(base, root, store_url)


async def test_concurrent_writes_of_one_visitor_all_land(served: Served) -> None:
    limits = httpx.Limits(max_connections=WRITES)
    async with served.client(limits=limits) as visitor:
        first = await visitor.get("/write", params={"n": "start"})
        assert first.status_code == 200 and "fr_session" in visitor.cookies
        answers = await asyncio.gather(
            *(visitor.get("/write", params={"n": n}) for n in range(WRITES))
        )
        assert [answer.status_code for answer in answers] == [200] * WRITES
        assert not any("set-cookie" in answer.headers for answer in answers)  # one session
        counted = await visitor.get("/count")
    assert counted.text.strip() == f"present={WRITES}"
    workers = await served.workers_of(answers)
    assert len(workers) > 1, f"one worker took every request: {workers}"


async def test_one_token_sent_to_every_worker_at_once_logs_in_exactly_once(
    served: Served,
) -> None:
    async with served.client() as ann:
        await ann.post("/login")
        tokens = [(await ann.get("/mint")).text.strip()[1:-1] for _ in range(20)]
    assert all(token.startswith("v1.") for token in tokens)

    async def visit(token: str) -> httpx.Response:
        # A new visitor on a connection of its own: any worker may take it.
        async with served.client("b.test") as visitor:
            return await visitor.get("/members", params={"ef_session": token})

    bursts_across_workers = 0
    for token in tokens:
        at_once = await asyncio.gather(*(visit(token) for _ in range(2 * WORKERS)))
        assert sorted(answer.status_code for answer in at_once) == [303] + [404] * (2 * WORKERS - 1)
        if len(await served.workers_of(at_once)) > 1:
            bursts_across_workers += 1
    # The kernel, not the test, spreads connections over the workers, so how many take part
    # varies; the claim raced between processes as long as some bursts were split.
    assert bursts_across_workers > 0, "every token's burst went to one worker: nothing raced"


async def test_the_login_quota_per_address_holds_across_workers(served: Served) -> None:
    address = {"x-forwarded-for": "198.51.100.7"}  # no other test logs in from there

    async def log_in() -> bool:
        async with served.client(headers=address) as visitor:  # a new visitor each
            await visitor.post("/login")
            return (await visitor.get("/me")).text.strip() == "customer=true"

    logged_in = await asyncio.gather(*(log_in() for _ in range(6 * PER_IP)))
    assert logged_in.count(True) == PER_IP


async def test_two_servers_on_one_redis_are_one_site(
    tmp_path: Path, redis_url: str
) -> None:
    """Two `funnelrun serve` processes, as on two machines (each its own copy of the site),
    behind no shared disk: a login, a spent token and the debug window are the same on both."""
    roots = [write_site(tmp_path / name / "site", FILES) for name in ("one", "two")]
    flags = ["--store", redis_url]
    with running_server(roots[0], *flags, **ENVIRONMENT) as (base_one, _), \
            running_server(roots[1], *flags, **ENVIRONMENT) as (base_two, _):
        one, two = Served(base_one, roots[0], redis_url), Served(base_two, roots[1], redis_url)
        async with one.client() as ann:
            await ann.post("/login")
            token = (await ann.get("/mint")).text.strip()[1:-1]
            cookie = ann.cookies["fr_session"]
        async with two.client() as same_ann:  # the load balancer sent her to the other one
            same_ann.cookies.set("fr_session", cookie)
            assert (await same_ann.get("/me")).text.strip() == "customer=true"

        async with two.client("b.test") as visitor:
            spent = await visitor.get("/members", params={"ef_session": token})
        async with one.client("b.test") as replayer:
            replay = await replayer.get("/members", params={"ef_session": token})
        assert (spent.status_code, replay.status_code) == (303, 404)
        events = await recorded_events(roots[0], replay.headers["x-request-id"], redis_url)
        handoff = next(event for event in events if event["type"] == "handoff")
        assert handoff["reason"] == "replayed"

        admin = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=base_two, headers=admin) as window:
            shown = await window.get(f"/_funnelrun/api/requests/{spent.headers['x-request-id']}")
            listed = await window.get("/_funnelrun/api/requests", params={"path": "/members"})
        assert shown.status_code == 200
        ids = {request["request_id"] for request in listed.json()["requests"]}
        assert {spent.headers["x-request-id"], replay.headers["x-request-id"]} <= ids

        # The live view of one machine follows what the other serves (woken by pub/sub).
        async with httpx.AsyncClient(base_url=base_two, headers=admin, timeout=30) as window, \
                window.stream("GET", "/_funnelrun/api/live", params={"path": "/me"}) as live:
            lines = live.aiter_lines()
            assert (await anext(lines)).startswith("retry:")
            async with one.client() as visitor:
                served_id = (await visitor.get("/me")).headers["x-request-id"]
            async with asyncio.timeout(10):
                async for line in lines:
                    if line.startswith("data:") and served_id in line:
                        break
