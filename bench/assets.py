"""Assets benchmark: a 20 KB stylesheet and a 200 KB image under wrk, next to the typical page.

Run from the project root (`make bench` runs it after bench/scale.py):

    .venv/bin/python bench/assets.py                          # 64 connections, 10 s per run
    DURATION=2 WARMUP=1 .venv/bin/python bench/assets.py      # a smoke run
    STARLETTE=0 .venv/bin/python bench/assets.py              # without the FileResponse rows

Issue 13's target: a static file never costs more CPU per request than a page.

One `funnelrun serve` of the peers' typical scripted page (bench/load.py's site, server, checks
and measurement, imported from it), its brand given an assets folder: css/site.css (20 KB of
generated rules, sent brotli-compressed as a browser asks for it: `Accept-Encoding: gzip,
deflate, br`) and img/hero.webp (200 KB of incompressible bytes). Each of the three requests
is warmed up, then measured with wrk at CONNS keep-alive connections (64), in turn on the same
server: the page (one shared session, as load.py), the stylesheet at its hashed URL (what
`asset()` prints), the image.

Then, unless STARLETTE=0, the decision between serving from memory and Starlette's own file
serving, measured the same way: a bare Starlette app under uvicorn (httptools, uvloop, as
`funnelrun serve`) answering the same 20 KB stylesheet from memory (`Response(bytes)`), with
`FileResponse` (its os.stat given ahead) and through `StaticFiles`.

It prints req/s, p50 and p99, errors (socket errors and non-2xx, warm-up included), CPU µs per
request over the server's process tree, the cores kept busy, and each request's CPU against the
page's, then the verdict. Exit status 1 if a server does not start, a check fails or a request
errs; 2 for a set-up problem (as load.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import http.client
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # bench/ is not a package: from the path above
from load import ROOT, BenchFailure, Run, Server, SetupError

load.PROG = PROG = "assets.py"
STYLESHEET_BYTES = 20 * 1024
IMAGE_BYTES = 200 * 1024
BROWSER_ACCEPT = "gzip, deflate, br"
STARLETTE_APP = '''
import os
from starlette.applications import Starlette
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

FOLDER = os.environ["BENCH_ASSETS"]
PATH = os.path.join(FOLDER, "css", "site.css")
BODY = open(PATH, "rb").read()
STAT = os.stat(PATH)


async def memory(request):
    return Response(BODY, media_type="text/css", headers={"etag": '"x"', "cache-control": "public"})


async def file(request):
    return FileResponse(PATH, stat_result=STAT, media_type="text/css")


app = Starlette(routes=[Route("/memory", memory), Route("/file", file),
                        Mount("/static", StaticFiles(directory=FOLDER))])
'''
STARLETTE_PATHS = {"Starlette Response(bytes)": "/memory", "Starlette FileResponse": "/file",
                   "Starlette StaticFiles": "/static/css/site.css"}


def stylesheet() -> bytes:
    """20 KB of rules that compress as real CSS does (about 5×), the same on every run."""
    rules, n = [], 0
    while sum(map(len, rules)) < STYLESHEET_BYTES:
        rules.append(f".card-{n} > .title {{ color: #{(n * 2654435761) % 0xFFFFFF:06x}; "
                     f"margin: {n % 17}px {n % 5}em; font-weight: {100 * (n % 9 + 1)}; }}\n")
        n += 1
    return "".join(rules).encode()[:STYLESHEET_BYTES]


def add_assets(site: Path) -> dict[str, tuple[str, bytes]]:
    """The brand's assets folder; the URL (the stylesheet's hashed) and body of each."""
    brand = next(site.glob("brands/*/brand.toml")).parent
    css, image = stylesheet(), random.Random(13).randbytes(IMAGE_BYTES)
    for name, data in (("css/site.css", css), ("img/hero.webp", image)):
        path = brand / "assets" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    version = hashlib.sha256(css).hexdigest()[:8]
    return {"stylesheet 20 KB": (f"/assets/css/site.css?v={version}", css),
            "image 200 KB": ("/assets/img/hero.webp", image)}


def check_asset(port: int, path: str, body: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        got = response.read()
    finally:
        conn.close()
    if response.status != 200 or got != body:
        raise BenchFailure(f"{path}: status {response.status}, {len(got)} bytes; expected 200 and "
                           f"the {len(body)} bytes written")


def measure(server: Server, label: str, path: str, headers: dict[str, str], opts: argparse.Namespace) -> Run:
    """load.measure's figures for one path: warm-up, then the measured run, CPU from /proc."""
    run = functools.partial(load.run_wrk, server.port, opts.connections[0], path=path,
                            headers=headers, marker=None)
    warm = run(opts.warmup) if opts.warmup else None
    before, started = load.tree(server.pid), time.monotonic()
    result = run(opts.duration)
    wall = time.monotonic() - started
    after = load.tree(server.pid)
    if server.process.poll() is not None:
        raise BenchFailure(f"the server exited during the {label} run; its log:\n{server.log_tail()}")
    server_s, executors_s = load.cpu_between(before, after)
    requests = int(result["requests"]) or 1
    rss = sum(p.rss_bytes for p in after.values()) / (1024 * 1024)
    rps = result["requests"] / (result["duration_us"] / 1e6)
    run = Run(label, opts.connections[0], int(result["requests"]), rps, result["p50_us"] / 1000,
              result["p99_us"] / 1000,
              load.errors_of(result) + (load.errors_of(warm) if warm else 0),
              (server_s + executors_s) * 1e6 / requests, server_s * 1e6 / requests,
              executors_s * 1e6 / requests, (server_s + executors_s) / wall, rss, rss, 0,
              result["wrk_cpu_s"] / wall, result)
    print(f"  {label:<26} {run.rps:8,.0f} req/s  p99 {run.p99_ms:7.1f} ms  {run.cpu_us:7,.0f} µs CPU/req  "
          f"errors {run.errors}", file=sys.stderr, flush=True)
    return run


class StarletteServer(Server):
    """The bare Starlette app of STARLETTE_APP under uvicorn, pinned as funnelrun serve is."""

    def __init__(self, work: Path, assets: Path, pin: list[str]) -> None:
        self.port = load.free_port()
        self.log_path = work / "starlette.log"
        (work / "starlette_bench_app.py").write_text(STARLETTE_APP)
        uvicorn = ROOT / ".venv" / "bin" / "uvicorn"
        command = [*pin, str(uvicorn), "starlette_bench_app:app", "--app-dir", str(work),
                   "--host", "127.0.0.1", "--port", str(self.port), "--http", "httptools",
                   "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            cwd=work, start_new_session=True,
                                            env={**os.environ, "BENCH_ASSETS": str(assets)})


def table(runs: list[Run], page: Run) -> list[str]:
    lines = ["| request | conns | req/s | p50 ms | p99 ms | errors | CPU µs/req | cores busy "
             "| CPU / page's |", "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r.page} | {r.connections} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
                     f"| {r.errors} | {r.cpu_us:,.0f} | {r.cores:.2f} "
                     f"| {load.ratio(r.cpu_us, page.cpu_us, 2)} |")
    return lines


def bench(opts: argparse.Namespace, work: Path) -> int:
    if not os.access(opts.funnelrun, os.X_OK):
        raise SetupError(f"no funnelrun command at {opts.funnelrun} (run 'make test' or set FUNNELRUN)")
    load.ensure_wrk()
    opts.server_pin = load.pinning(opts)
    site = load.prepare_sites(opts.site.resolve(), work, ("script",))["script"]
    assets = add_assets(site)
    header = [*load.describe(opts), f"requests: the typical scripted page (PATH {load.PATH}), then its "
              f"brand's assets with Accept-Encoding: {BROWSER_ACCEPT}, {opts.connections[0]} connections"]
    print("\n".join(header), file=sys.stderr, flush=True)
    with Server(opts.funnelrun, site, workers=opts.workers, pin=opts.server_pin) as server:
        server.wait_ready()
        _, cookie = load.check_page("script", server.port)
        for path, body in assets.values():
            check_asset(server.port, path, body)
        page = measure(server, "typical page", load.PATH, {"Cookie": cookie}, opts)
        runs = [page] + [measure(server, label, path, {"Accept-Encoding": BROWSER_ACCEPT}, opts)
                         for label, (path, _) in assets.items()]
    compared: list[Run] = []
    if opts.starlette:
        brand_assets = next(site.glob("brands/*/assets"))
        with StarletteServer(work, brand_assets, opts.server_pin) as server:
            server.wait_ready()
            compared = [measure(server, label, path, {"Accept-Encoding": BROWSER_ACCEPT}, opts)
                        for label, path in STARLETTE_PATHS.items()]
    worst = max(runs[1:], key=lambda r: r.cpu_us)
    met = worst.cpu_us <= page.cpu_us
    lines = ["", *header, "", *table(runs, page)]
    if compared:
        lines += ["", "the same 20 KB stylesheet from a bare Starlette app (uvicorn, httptools, uvloop):", "",
                  *table(compared, page)]
    lines += ["", f"target: no asset costs more CPU per request than the page: "
              f"{'met' if met else 'NOT met'} (the costliest, {worst.page}, "
              f"{load.ratio(worst.cpu_us, page.cpu_us, 2)} of the page's {page.cpu_us:,.0f} µs)"]
    print("\n".join(lines))
    if opts.json:
        figures = {"header": header, "runs": [dataclasses.asdict(r) for r in runs],
                   "starlette": [dataclasses.asdict(r) for r in compared]}
        opts.json.write_text(json.dumps(figures, indent=2) + "\n")
    failed = [r.page for r in runs + compared if r.errors or not r.requests]
    if failed:
        raise BenchFailure("requests failed (socket errors or non-2xx): " + ", ".join(failed))
    return 0 if met else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0], epilog="Each option's default comes from the environment "
        "variable named in capitals (DURATION, WARMUP, CONNS, WORKERS, PIN, SERVER_CPU, LOAD_CPU, "
        "BASELINES_SITE, FUNNELRUN, STARLETTE). FUNNELRUN_* variables reach funnelrun serve as its settings.")
    load.add_arguments(parser, pages=False, connections="64")
    parser.add_argument("--starlette", type=int, choices=[0, 1], default=env("STARLETTE", "1"),
                        help="also measure the stylesheet through Starlette's own file serving (1)")
    return load.check_arguments(parser, parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    return load.run_main(parse_args(argv), bench, prog=PROG, prefix="funnelrun-assets-")


if __name__ == "__main__":
    sys.exit(main())
