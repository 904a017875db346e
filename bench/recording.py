"""Recording benchmark: what recording page events adds to a request, under wrk, record on against off.

Run from the project root (`make bench` runs it after bench/load.py):

    .venv/bin/python bench/recording.py                            # 3 rounds, 1 and 32 connections
    DURATION=2 WARMUP=1 ROUNDS=1 .venv/bin/python bench/recording.py  # a smoke run
    ROUNDS=5 CONNS=32 .venv/bin/python bench/recording.py

Issue 10's target: recording stays off the request's critical path, adding less than 5 % to a
request's CPU and to its median latency.

Two `funnelrun serve` of the typical scripted page (bench/load.py's site, server, checks and
measurement, imported from it), each on its own copy of the site and so its own store: one with
FUNNELRUN_EVENTS_RECORD=true, one with FUNNELRUN_EVENTS_RECORD=false (the request still builds
its page events; nothing goes to the store). Both stay up for the whole run, on the same pinned
core; they are measured in turn, never at once. Each round measures every connection count in
both modes, back to back, the order of the modes alternating from round to round, so that a
machine getting busier or quieter weighs on both. Each measurement is load.py's: a warm-up with
the same connections, then wrk, with CPU summed over the server's process tree from /proc.

It prints, for each mode and connection count, the medians over the rounds of req/s, p50 and
p99 latency and CPU µs per request (and the spread of the rounds, and how much CPU other
processes took meanwhile on the server's core: the machine is shared); then the on/off ratios,
overall and round by round, the CPU recording adds per request, and the verdict against the
5 % target for CPU per request and p50 latency. Then, as an explanation only, the in-process
cost of recording: the typical page requested through the ASGI app (no HTTP), timing (CPU of
the event loop's thread) `request_record` (the record built from the page events) and the
store's `record_request` (queueing it, and the batched writes), per request. Last it checks
that the stores agree with the modes (rows recorded with recording on, none with it off).

Exit status 1 if a server does not start, a page check fails, any request errs or a store
disagrees with its mode; 2 for a set-up problem (as load.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # bench/ is not a package: from the path above
from load import BenchFailure, Run, Server, SetupError

load.PROG = PROG = "recording.py"
MODES = ("on", "off")
ENV = "FUNNELRUN_EVENTS_RECORD"
TARGET = 0.05  # issue 10: recording adds less than 5 % to a request
STORE = Path(".funnelrun") / "state.db"  # the default store URL's file, in the site folder


# ---- the rounds under wrk ----------------------------------------------------------------------

@dataclasses.dataclass
class Measured(Run):
    """load.py's Run, plus what else kept the machine busy meanwhile."""

    others: float = 0.0  # CPU seconds per wall second of other processes (and steal), on the server's core


def measure(server: Server, mode: str, connections: int, cookie: str, opts: argparse.Namespace) -> Measured:
    """load.measure, its warm-up first, and the CPU the rest of the machine used during the run:
    on the server's core when pinned (the tree's own CPU taken off), else everywhere (wrk's too)."""
    warm = load.run_wrk(server.port, connections, opts.warmup, cookie) if opts.warmup else None
    cpus = {opts.server_cpu} if opts.server_pin else None
    before, started = busy_ticks(cpus), time.monotonic()
    no_warmup = argparse.Namespace(**{**vars(opts), "warmup": 0})
    run = load.measure(server, f"record {mode}", connections, cookie, no_warmup)
    busy = (busy_ticks(cpus) - before) / load.HZ / (time.monotonic() - started)
    others = busy - run.cores - (0 if cpus else run.wrk_cpu)
    fields = {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}
    fields["errors"] += load.errors_of(warm) if warm else 0
    return Measured(**fields, others=max(others, 0.0))


def measure_rounds(servers: dict[str, Server], cookies: dict[str, str],
                   opts: argparse.Namespace) -> dict[tuple[str, int], list[Measured]]:
    """Every round: each connection count, both modes back to back, their order alternating."""
    runs: dict[tuple[str, int], list[Measured]] = {}
    for number in range(opts.rounds):
        order = MODES if number % 2 == 0 else MODES[::-1]
        for connections in opts.connections:
            for mode in order:
                run = measure(servers[mode], mode, connections, cookies[mode], opts)
                runs.setdefault((mode, connections), []).append(run)
                print(f"  round {number + 1}/{opts.rounds}  record {mode:<3} c={connections:<3} "
                      f"{run.rps:8,.0f} req/s  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:7.1f} ms  "
                      f"{run.cpu_us:7,.0f} µs CPU/req  others {run.others:.2f} cores  errors {run.errors}",
                      file=sys.stderr, flush=True)
    return runs


def busy_ticks(cpus: set[int] | None) -> int:
    """Clock ticks the CPUs (None: all) spent busy or stolen, from /proc/stat."""
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if (name == "cpu") if cpus is None else (name.removeprefix("cpu").isdigit()
                                                  and int(name.removeprefix("cpu")) in cpus):
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in values[:8])
            total += user + nice + system + irq + softirq + steal
    return total


def stored_requests(site: Path) -> int:
    """Requests recorded in the site's store (read-only; the servers have stopped)."""
    path = site / STORE
    if not path.is_file():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM requests").fetchone()[0])
        except sqlite3.OperationalError:  # no such table
            return 0


# ---- the in-process figure ---------------------------------------------------------------------

@dataclasses.dataclass
class InProcess:
    """Recording's in-process cost per request, µs, over `requests` requests."""

    requests: int
    request_us: float  # a whole request through the ASGI app: this process's CPU (all threads), mean
    request_wall_us: float  # its wall time, median (the script runs in an executor process)
    request_record_us: float  # events.request_record: the record, the events' size checked
    queue_us: float  # store.record_request less the writes it made
    write_us: float  # the batched writes (in record_request or on the store's timer), per request

    @property
    def total_us(self) -> float:
        return self.request_record_us + self.queue_us + self.write_us


def in_process(site: Path, requests: int) -> InProcess:
    return asyncio.run(_in_process(site, requests))


async def _in_process(site: Path, requests: int) -> InProcess:
    from asgi_driver import call
    from funnelrun import app as app_module
    from funnelrun.app import create_app
    from funnelrun.settings import load_settings
    from funnelrun.site import load_site

    settings = load_settings(site, environ={ENV: "true"})
    app = create_app(load_site(site), settings)
    await app.startup()
    spent = {"request_record": 0, "record_request": 0, "write_inside": 0, "write_outside": 0}
    inside = False
    original_record = app_module.request_record
    try:
        store: Any = app._store  # the SQLiteStore the app opened: its calls are timed below
        if not all(hasattr(store, name) for name in ("record_request", "_write_pending")):
            raise SetupError(f"the in-process figure times SQLiteStore.record_request and _write_pending; "
                             f"{type(store).__name__} has not both (IN_PROCESS=0 skips the figure)")

        async def get(cookie: str | None = None) -> tuple[int, dict[str, list[str]], bytes]:
            return await call(app, "GET", "/", host="127.0.0.1", cookie=cookie, query="utm_source=bench")

        status, headers, _ = await get()
        sid = next((c.split(";", 1)[0] for c in headers.get("set-cookie", []) if c.startswith("fr_session=")),
                   None)
        if status != 200 or sid is None:
            raise BenchFailure(f"in process: the first visit got status {status}, session cookie {sid}")
        cookie = f"{sid}; promo_seen=true"
        for _ in range(100):  # warm-up, and the store's retention reached
            await get(cookie)

        def timed_request_record(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time_ns()
            try:
                return original_record(*args, **kwargs)
            finally:
                spent["request_record"] += time.thread_time_ns() - start

        def timed(name: str, method: Callable[..., Awaitable[None]], *, outer: bool) -> Callable[..., Any]:
            async def wrapper(*args: Any, **kwargs: Any) -> None:
                nonlocal inside
                key = name if outer else ("write_inside" if inside else "write_outside")
                start = time.thread_time_ns()
                if outer:
                    inside = True
                try:
                    await method(*args, **kwargs)
                finally:
                    if outer:
                        inside = False
                    spent[key] += time.thread_time_ns() - start
            return wrapper

        await store._write_pending()  # the warm-up's records out of the way
        app_module.request_record = timed_request_record
        store.record_request = timed("record_request", store.record_request, outer=True)
        store._write_pending = timed("write", store._write_pending, outer=False)
        walls = []
        cpu = time.process_time_ns()
        for _ in range(requests):
            start = time.perf_counter_ns()
            status, _, _ = await get(cookie)
            walls.append(time.perf_counter_ns() - start)
            if status != 200:
                raise BenchFailure(f"in process: status {status}")
        await store._write_pending()  # what is still queued belongs to these requests
        cpu = time.process_time_ns() - cpu
    finally:
        app_module.request_record = original_record
        await app.shutdown()
    us = 1000 * requests
    return InProcess(
        requests, cpu / us, statistics.median(walls) / 1000, spent["request_record"] / us,
        (spent["record_request"] - spent["write_inside"]) / us,
        (spent["write_inside"] + spent["write_outside"]) / us,
    )


# ---- output ------------------------------------------------------------------------------------

def med(runs: list[Run], field: str) -> float:
    return float(statistics.median(getattr(r, field) for r in runs))


def spread(values: list[float], fmt: str) -> str:
    return f"{min(values):{fmt}}–{max(values):{fmt}}" if len(values) > 1 else "-"


def percent(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f} %"


def by_round(ratios: list[float]) -> str:
    """The on/off ratios of the rounds (each pair measured back to back): their median, and each."""
    each = ", ".join(percent(r) for r in ratios)
    return f"{percent(statistics.median(ratios))} ({each})" if len(ratios) > 1 else each


def verdict(cost: float) -> str:
    return "met" if cost <= 1 + TARGET else "NOT met"


def report(runs: dict[tuple[str, int], list[Measured]], opts: argparse.Namespace) -> list[str]:
    lines = [
        f"| record | conns | req/s | p50 ms | p99 ms | CPU µs/req (server + executors) | CPU µs/req, "
        f"the {opts.rounds} rounds | p50 ms, the rounds | others' CPU, cores | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for connections in opts.connections:
        for mode in MODES:
            rs = runs[(mode, connections)]
            lines.append(
                f"| {mode} | {connections} | {med(rs, 'rps'):,.0f} | {med(rs, 'p50_ms'):.2f} "
                f"| {med(rs, 'p99_ms'):.2f} | {med(rs, 'cpu_us'):,.0f} ({med(rs, 'server_us'):,.0f} + "
                f"{med(rs, 'executors_us'):,.0f}) | {spread([r.cpu_us for r in rs], ',.0f')} "
                f"| {spread([r.p50_ms for r in rs], '.2f')} | {spread([r.others for r in rs], '.2f')} "
                f"| {sum(r.errors for r in rs)} |")
    lines += [
        "",
        "| on / off | req/s | p50 | p99 | CPU µs/req | server µs/req | recording adds, CPU µs/req "
        "| CPU, round by round: median (each) | p50, round by round: median (each) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for connections in opts.connections:
        on, off = runs[("on", connections)], runs[("off", connections)]
        cpu = med(on, "cpu_us") / med(off, "cpu_us")
        p50 = med(on, "p50_ms") / med(off, "p50_ms")
        paired_cpu = [a.cpu_us / b.cpu_us for a, b in zip(on, off, strict=True)]
        paired_p50 = [a.p50_ms / b.p50_ms for a, b in zip(on, off, strict=True)]
        lines.append(
            f"| {connections} conns | {load.ratio(med(on, 'rps'), med(off, 'rps'), 3)} "
            f"| {load.ratio(med(on, 'p50_ms'), med(off, 'p50_ms'), 3)} "
            f"| {load.ratio(med(on, 'p99_ms'), med(off, 'p99_ms'), 3)} | {cpu:.3f}× "
            f"| {load.ratio(med(on, 'server_us'), med(off, 'server_us'), 3)} "
            f"| {med(on, 'cpu_us') - med(off, 'cpu_us'):+,.0f} "
            f"| {by_round(paired_cpu)} | {by_round(paired_p50)} |")
        noisy = [name for name, ratios in (("CPU", paired_cpu), ("p50", paired_p50))
                 if len(ratios) > 1 and (max(ratios) > 1 + TARGET) != (min(ratios) > 1 + TARGET)]
        verdicts.append(
            f"{connections} conns: CPU per request {percent(cpu)} ({verdict(cpu)}), p50 latency "
            f"{percent(p50)} ({verdict(p50)})"
            + (f"; the rounds fall on both sides of the target for {' and '.join(noisy)}: within the "
               "noise of this machine" if noisy else ""))
    lines += ["", f"verdict (issue 10: recording adds under {TARGET:.0%} to a request, medians):",
              *("  " + v for v in verdicts)]
    busy = [f"record {m} c={c}" for (m, c), rs in runs.items() if med(rs, "wrk_cpu") > 0.8]
    if busy:
        lines += ["", "note: wrk used more than 80 % of its core in " + ", ".join(busy)
                  + ": the load generator may be the limit"]
    return lines


def in_process_lines(figures: InProcess) -> list[str]:
    share = figures.total_us / figures.request_us
    return [
        "",
        f"in process, as an explanation (the typical page through the ASGI app, {figures.requests} "
        "requests one after another, recording on; CPU of the event loop's thread, per request):",
        f"  request_record {figures.request_record_us:.1f} µs + record_request's queueing "
        f"{figures.queue_us:.1f} µs + the batched writes {figures.write_us:.1f} µs "
        f"= {figures.total_us:.1f} µs,",
        f"  {share:.1%} of the process's CPU per request ({figures.request_us:,.0f} µs, all its threads; "
        f"the script's executor not included; {figures.request_wall_us:,.0f} µs wall, median)",
    ]


# ---- set-up and main ---------------------------------------------------------------------------

def bench(opts: argparse.Namespace, work: Path) -> int:
    if not os.access(opts.funnelrun, os.X_OK):
        raise SetupError(f"no funnelrun command at {opts.funnelrun} (run 'make test' or set FUNNELRUN)")
    load.ensure_wrk()
    opts.server_pin = load.pinning(opts)
    source = opts.site.resolve()
    sites = {mode: load.prepare_sites(source, work / mode, ("script",))["script"] for mode in MODES}
    header = [*load.describe(opts),
              f"modes: record on ({ENV}=true) and off ({ENV}=false), the typical scripted page, "
              f"a server and a store each; {opts.rounds} rounds, the modes alternating"]
    print("\n".join(header), file=sys.stderr, flush=True)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        servers = {mode: stack.enter_context(Server(
            opts.funnelrun, sites[mode], workers=opts.workers, pin=opts.server_pin,
            env={ENV: "true" if mode == "on" else "false"})) for mode in MODES}
        cookies = {}
        for mode, server in servers.items():
            server.wait_ready()
            _, cookies[mode] = load.check_page("script", server.port)
        runs = measure_rounds(servers, cookies, opts)
    stored = {mode: stored_requests(sites[mode]) for mode in MODES}
    figures = in_process(sites["on"], opts.in_process) if opts.in_process else None
    took = time.monotonic() - started
    lines = ["", *header, "", *report(runs, opts)]
    if figures:
        lines += in_process_lines(figures)
    lines += ["", f"stores: {stored['on']:,} requests recorded with recording on, {stored['off']:,} with it "
              f"off; run time {took:.0f} s"]
    print("\n".join(lines))
    if opts.json:
        data = {"header": header, "run_time_s": took, "stored": stored,
                "runs": [dataclasses.asdict(r) for rs in runs.values() for r in rs],
                "in_process": dataclasses.asdict(figures) if figures else None}
        opts.json.write_text(json.dumps(data, indent=2) + "\n")
    failed = [f"record {m} c={c}" for (m, c), rs in runs.items()
              if any(r.errors or not r.requests for r in rs)]
    if failed:
        raise BenchFailure("requests failed (socket errors, non-2xx, or pages without their script's "
                           "variables): " + ", ".join(failed))
    if not stored["on"] or stored["off"]:
        raise BenchFailure(f"the stores disagree with the modes: {stored['on']} requests recorded with "
                           f"recording on, {stored['off']} with it off")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0], epilog="Each option's default comes from the environment "
        "variable named in capitals (DURATION, WARMUP, ROUNDS, CONNS, WORKERS, PIN, SERVER_CPU, LOAD_CPU, "
        f"BASELINES_SITE, FUNNELRUN, IN_PROCESS). FUNNELRUN_* variables reach funnelrun serve as its "
        f"settings, except {ENV}, which this sets for each mode.")
    load.add_arguments(parser, pages=False)
    parser.add_argument("--rounds", type=int, default=env("ROUNDS", "3"),
                        help="rounds, each measuring both modes at every connection count (3)")
    parser.add_argument("--in-process", type=int, default=env("IN_PROCESS", "2000"),
                        help="requests for the in-process explanation figure; 0 skips it (2000)")
    opts = load.check_arguments(parser, parser.parse_args(argv))
    if opts.rounds < 1:
        parser.error("--rounds must be at least 1")
    if opts.in_process < 0:
        parser.error("--in-process must be 0 or more")
    return opts


def main(argv: list[str] | None = None) -> int:
    return load.run_main(parse_args(argv), bench, prog=PROG, prefix="funnelrun-recording-")


if __name__ == "__main__":
    sys.exit(main())
