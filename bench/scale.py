"""Scaling benchmark: the typical scripted page under wrk at 1, 2 and 4 workers, on SQLite and on Redis.

Run from the project root (`make bench` runs it after bench/recording.py):

    .venv/bin/python bench/scale.py                                   # 2 rounds, 64 connections
    DURATION=2 WARMUP=1 ROUNDS=1 .venv/bin/python bench/scale.py      # a smoke run
    STORES=sqlite .venv/bin/python bench/scale.py                     # without Redis
    WORKERS=1,4 CONNS=128 .venv/bin/python bench/scale.py

The issue's targets: with 4 workers the CPU per request stays within 10 % of one worker's and
the machine's cores are all busy (on a 2-core machine one worker plus its executors may already
fill both: then it says so, and the CPU figures are the ones to judge); Redis costs no more than
15 % of throughput against SQLite on one machine.

Each configuration (a store and a worker count) gets a fresh copy of bench/load.py's site, the
typical scripted page, and a fresh `funnelrun serve --workers N` of it (load.py's site, server,
page check and measurement, imported from it), checked once, warmed up and measured with
`wrk -t1 -c64` (keep-alive, one shared session). The stores: "sqlite", the default URL (a file in
the site copy); "redis", a redis-server this bench starts on a free port without persistence
(`--save '' --appendonly no`; Debian's redis-server), FLUSHALL before each configuration, the
server given FUNNELRUN_STORE_URL=redis://127.0.0.1:PORT/0. Each round measures every
configuration, the two stores back to back at each worker count, the order reversed from round
to round, so that a machine getting busier or quieter weighs on all; the table shows medians.

Nothing is pinned by default (PIN=0: every core for all, as a user runs it): the point is how
funnelrun uses the cores. wrk shares them, and so does redis-server, whose CPU is counted in the
CPU per request of the Redis runs (on one machine it is part of serving the request) and shown
apart. For each configuration it prints req/s, p50/p99, errors (must be 0), CPU µs per request
(the server's process tree from /proc, plus redis-server's), the cores that kept busy and the
machine's busy cores, throughput and CPU per request against one worker, Redis against SQLite
at each worker count, and the targets, met or not. Exit status 1 if a server does not start, a
page check fails or any request errs; 2 for a set-up problem (as load.py).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # bench/ is not a package: from the path above
from load import BenchFailure, Run, Server, SetupError
from recording import busy_ticks, med, percent

load.PROG = PROG = "scale.py"  # after importing recording, which sets its own
STORES = ("sqlite", "redis")
STORE_ENV = "FUNNELRUN_STORE_URL"
SQLITE_URL = "sqlite:///.funnelrun/state.db"  # funnelrun's default: a file in the site copy
CPU_TARGET = 0.10  # 4 workers' CPU per request within 10 % of one worker's
REDIS_TARGET = 0.85  # Redis keeps at least 85 % of SQLite's throughput
BUSY = 0.9  # "all cores busy": at least 90 % of them, over the measured run
SHARED = 0.25  # cores other processes may take during a run before the bench says the figures are noisy
NEARLY_BUSY = 0.8  # the fewest workers "already keep the cores busy" from 80 % of them on
REDIS_START_S = 10


# ---- Redis -------------------------------------------------------------------------------------

class Redis:
    """This bench's own redis-server on a free port, no persistence, in its own session."""

    def __init__(self, work: Path) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise SetupError("redis-server is not installed: apt-get install redis-server (`make test` "
                             "installs it), or STORES=sqlite")
        self.version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                      check=False).stdout.split(" sha=")[0].strip()
        self.port = load.free_port()
        self.log_path = work / "redis.log"
        command = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                   "--appendonly", "no", "--dir", str(work)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *words: str) -> bytes:
        """One command in RESP, its (short) reply."""
        request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(request.encode())
            return conn.recv(1024).strip()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + REDIS_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if self.command("PING") == b"+PONG":
                    return
            except OSError:
                pass
            time.sleep(0.1)
        log = self.log_path.read_text(errors="replace")[-2000:]
        raise SetupError(f"redis-server did not answer on port {self.port}; its log:\n{log}")

    def flush(self) -> None:
        if (reply := self.command("FLUSHALL")) != b"+OK":
            raise BenchFailure(f"redis-server answered FLUSHALL with {reply!r}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Redis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- the runs ----------------------------------------------------------------------------------

@dataclasses.dataclass
class Scaled(Run):
    """load.py's Run (the server's tree), plus the configuration, redis-server's CPU and the machine's."""

    store: str = ""
    workers: int = 0
    round: int = 0
    redis_us: float = 0.0  # redis-server's CPU per request (0 on SQLite)
    redis_cores: float = 0.0  # redis-server's CPU seconds per wall second
    machine: float = 0.0  # every CPU's busy (and stolen) time per wall second: wrk and others included

    @property
    def total_us(self) -> float:
        """CPU per request of all that serves it: the server's tree and redis-server."""
        return self.cpu_us + self.redis_us

    @property
    def total_cores(self) -> float:
        return self.cores + self.redis_cores

    @property
    def ours(self) -> float:
        """The cores this bench kept busy: the server's tree, redis-server and wrk."""
        return self.cores + self.redis_cores + self.wrk_cpu

    @property
    def others(self) -> float:
        """The cores other processes of the machine kept busy meanwhile."""
        return max(self.machine - self.ours, 0.0)


def measure(server: Server, redis: Redis | None, store: str, workers: int, number: int, cookie: str,
            opts: argparse.Namespace) -> Scaled:
    """load.measure after its warm-up, with redis-server's CPU and the machine's over the same run."""
    warm = load.run_wrk(server.port, opts.connections[0], opts.warmup, cookie) if opts.warmup else None
    redis_before = load.tree(redis.pid) if redis else {}
    machine_before, started = busy_ticks(None), time.monotonic()
    no_warmup = argparse.Namespace(**{**vars(opts), "warmup": 0})
    run = load.measure(server, "script", opts.connections[0], cookie, no_warmup)
    wall = time.monotonic() - started
    machine = (busy_ticks(None) - machine_before) / load.HZ / wall
    redis_s = sum(load.cpu_between(redis_before, load.tree(redis.pid))) if redis else 0.0
    if redis and redis.process.poll() is not None:
        raise BenchFailure(f"redis-server exited during the run (status {redis.process.returncode})")
    fields = {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}
    fields["errors"] += load.errors_of(warm) if warm else 0
    return Scaled(**fields, store=store, workers=workers, round=number + 1,
                  redis_us=redis_s * 1e6 / (run.requests or 1), redis_cores=redis_s / wall, machine=machine)


def bench_one(store: str, workers: int, number: int, redis: Redis | None, work: Path,
              opts: argparse.Namespace) -> Scaled:
    """One configuration: a fresh site copy and server (and an empty Redis), checked, measured."""
    folder = work / f"round{number + 1}-{store}-{workers}w"
    site = load.prepare_sites(opts.site.resolve(), folder, ("script",))["script"]
    if redis:
        redis.flush()
    url = redis.url if redis else SQLITE_URL
    with Server(opts.funnelrun, site, workers=workers, pin=opts.server_pin, env={STORE_ENV: url}) as server:
        server.wait_ready()
        _, cookie = load.check_page("script", server.port)
        return measure(server, redis, store, workers, number, cookie, opts)


def measure_rounds(redis: Redis | None, work: Path, opts: argparse.Namespace) -> list[Scaled]:
    """Every round: each worker count, the stores back to back; the order reversed every other round."""
    configurations = [(store, workers) for workers in opts.workers for store in opts.stores]
    runs = []
    for number in range(opts.rounds):
        for store, workers in configurations if number % 2 == 0 else configurations[::-1]:
            run = bench_one(store, workers, number, redis if store == "redis" else None, work, opts)
            runs.append(run)
            print(f"  round {number + 1}/{opts.rounds}  {store:<6} {workers_text(workers):<9}  "
                  f"{run.rps:8,.0f} req/s  p99 {run.p99_ms:7.1f} ms  {run.total_us:7,.0f} µs CPU/req  "
                  f"cores {run.total_cores:.2f} (machine {run.machine:.2f})  errors {run.errors}",
                  file=sys.stderr, flush=True)
    return runs


# ---- output ------------------------------------------------------------------------------------

def grouped(runs: list[Scaled]) -> dict[tuple[str, int], list[Scaled]]:
    groups: dict[tuple[str, int], list[Scaled]] = {}
    for run in runs:
        groups.setdefault((run.store, run.workers), []).append(run)
    return groups


def workers_text(n: int) -> str:
    return f"{n} worker" + ("" if n == 1 else "s")


def table(groups: dict[tuple[str, int], list[Scaled]], opts: argparse.Namespace) -> list[str]:
    base = opts.workers[0]
    lines = [
        f"| store | workers | req/s | p50 ms | p99 ms | errors | CPU µs/req (tree + redis) | redis µs/req "
        f"| cores busy (tree + redis) | machine busy, of {opts.cores} | req/s vs {workers_text(base)} "
        f"| CPU/req vs {workers_text(base)} |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for store in opts.stores:
        first = groups[(store, base)]
        for workers in opts.workers:
            rs = groups[(store, workers)]
            redis_us = f"{med(rs, 'redis_us'):,.0f}" if store == "redis" else "-"
            lines.append(
                f"| {store} | {workers} | {med(rs, 'rps'):,.0f} | {med(rs, 'p50_ms'):.2f} "
                f"| {med(rs, 'p99_ms'):.2f} | {sum(r.errors for r in rs)} | {med(rs, 'total_us'):,.0f} "
                f"| {redis_us} | {med(rs, 'total_cores'):.2f} | {med(rs, 'machine'):.2f} "
                f"| {load.ratio(med(rs, 'rps'), med(first, 'rps'), 2)} "
                f"| {percent(med(rs, 'total_us') / med(first, 'total_us'))} |")
    if len(opts.stores) == 2:
        lines += ["", "| workers | sqlite req/s | redis req/s | redis / sqlite req/s "
                  "| redis / sqlite CPU µs/req |", "|---|---|---|---|---|"]
        for workers in opts.workers:
            sqlite, redis = groups[("sqlite", workers)], groups[("redis", workers)]
            lines.append(
                f"| {workers} | {med(sqlite, 'rps'):,.0f} | {med(redis, 'rps'):,.0f} "
                f"| {med(redis, 'rps') / med(sqlite, 'rps') * 100:.1f} % "
                f"| {med(redis, 'total_us') / med(sqlite, 'total_us') * 100:.1f} % |")
    return lines


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def cores_text(rs: list[Scaled], cores: int) -> str:
    """The cores the bench kept busy, by whom, and those other processes took."""
    tree, redis, wrk = (med(rs, f) for f in ("cores", "redis_cores", "wrk_cpu"))
    parts = [f"server tree {tree:.2f}"] + ([f"redis {redis:.2f}"] if redis else []) + [f"wrk {wrk:.2f}"]
    return (f"{med(rs, 'ours'):.2f} of {cores} cores ({', '.join(parts)}; other processes "
            f"{med(rs, 'others'):.2f} more)")


def targets(groups: dict[tuple[str, int], list[Scaled]], opts: argparse.Namespace) -> list[str]:
    base, most = opts.workers[0], opts.workers[-1]
    lines = ["", "targets (medians):"]
    if most > base:
        cpu = []
        for store in opts.stores:
            change = med(groups[(store, most)], "total_us") / med(groups[(store, base)], "total_us")
            cpu.append(f"{store} {percent(change)} ({verdict(change <= 1 + CPU_TARGET)})")
        lines.append(f"  CPU per request with {workers_text(most)} within {CPU_TARGET * 100:.0f} % of "
                     f"{workers_text(base)}'s: {'; '.join(cpu)}")
        for store in opts.stores:
            rs = groups[(store, most)]
            met = verdict(med(rs, "ours") >= BUSY * opts.cores)
            lines.append(f"  every core busy with {workers_text(most)}, {store}: "
                         f"{cores_text(rs, opts.cores)} ({met})")
    if len(opts.stores) == 2:
        kept = []
        for workers in opts.workers:
            share = med(groups[("redis", workers)], "rps") / med(groups[("sqlite", workers)], "rps")
            kept.append(f"{workers_text(workers)} {share * 100:.0f} % ({verdict(share >= REDIS_TARGET)})")
        lines.append(f"  Redis throughput at least {REDIS_TARGET * 100:.0f} % of SQLite's: {', '.join(kept)}")
    for store in opts.stores:
        rs = groups[(store, base)]
        if most > base and med(rs, "ours") >= NEARLY_BUSY * opts.cores:
            lines.append(
                f"note: on this {opts.cores}-core machine {workers_text(base)} ({store}) already keeps the "
                f"cores (nearly) busy: {cores_text(rs, opts.cores)}. More workers find little or no idle "
                "core, so throughput cannot grow much with them here; judge by the CPU per request figures.")
    others = max(r.others for rs in groups.values() for r in rs)
    if others > SHARED:
        lines.append(f"note: other processes kept up to {others:.2f} cores busy during a run: the machine is "
                     "shared, so the figures are noisy; run again when it is quiet")
    busy = [f"{store} {workers_text(w)}" for (store, w), rs in groups.items() if med(rs, "wrk_cpu") > 0.8]
    if busy:
        lines.append("note: wrk used more than 80 % of a core in " + ", ".join(busy)
                     + ": the load generator may be the limit")
    return lines


def header(opts: argparse.Namespace, redis: Redis | None) -> list[str]:
    shown = argparse.Namespace(**{**vars(opts), "workers": ", ".join(map(str, opts.workers)) + " in turn"})
    stores = [f"sqlite ({SQLITE_URL}, in a fresh site copy per run)"] if "sqlite" in opts.stores else []
    if redis:
        stores.append(f"redis ({redis.version}, its own at {redis.url}, no persistence, "
                      "FLUSHALL before each run)")
    return [*load.describe(shown),
            f"cores: {opts.cores}, shared by the server, wrk and redis-server (nothing pinned unless PIN "
            "says so)",
            f"stores: {'; '.join(stores)}",
            f"the typical scripted page, {opts.connections[0]} connections; {opts.rounds} round"
            f"{'' if opts.rounds == 1 else 's'}, "
            "the configurations interleaved, the order reversed every other round; medians"]


# ---- set-up and main ---------------------------------------------------------------------------

def bench(opts: argparse.Namespace, work: Path) -> int:
    if not os.access(opts.funnelrun, os.X_OK):
        raise SetupError(f"no funnelrun command at {opts.funnelrun} (run 'make test' or set FUNNELRUN)")
    load.ensure_wrk()
    opts.server_pin = load.pinning(opts)
    opts.cores = len(os.sched_getaffinity(0))
    with Redis(work) if "redis" in opts.stores else contextlib.nullcontext() as redis:
        if redis:
            redis.wait_ready()
        lines = header(opts, redis)
        print("\n".join(lines), file=sys.stderr, flush=True)
        started = time.monotonic()
        runs = measure_rounds(redis, work, opts)
    groups = grouped(runs)
    report = [*table(groups, opts), *targets(groups, opts)]
    print("\n".join(["", *lines, "", *report, "", f"run time {time.monotonic() - started:.0f} s"]))
    if opts.json:
        data = {"header": lines, "report": report,
                "runs": [{**dataclasses.asdict(r), "total_us": r.total_us, "total_cores": r.total_cores,
                          "ours": r.ours, "others": r.others} for r in runs]}
        opts.json.write_text(json.dumps(data, indent=2) + "\n")
    failed = [f"{store} {workers_text(w)}" for (store, w), rs in groups.items()
              if any(r.errors or not r.requests for r in rs)]
    if failed:
        raise BenchFailure("requests failed (socket errors, non-2xx, or pages without their script's "
                           "variables): " + ", ".join(failed))
    return 0


def store_names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    if not names or any(name not in STORES for name in names):
        raise argparse.ArgumentTypeError(f"expected stores among {', '.join(STORES)}, got {text!r}")
    return [store for store in STORES if store in names]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0], epilog="Each option's default comes from the environment "
        "variable named in capitals (DURATION, WARMUP, ROUNDS, CONNS, WORKERS, STORES, PIN, SERVER_CPU, "
        f"LOAD_CPU, BASELINES_SITE, FUNNELRUN). FUNNELRUN_* variables reach funnelrun serve as its "
        f"settings, except {STORE_ENV}, which this sets for each store.")
    load.add_arguments(parser, pages=False, connections="64", pin="0", workers=False)
    parser.add_argument("--workers", type=load.connection_counts, default=env("WORKERS", "1,2,4"),
                        help="funnelrun serve --workers, each in turn, comma-separated (1,2,4)")
    parser.add_argument("--stores", type=store_names, default=env("STORES", ",".join(STORES)),
                        help="stores, comma-separated (sqlite,redis)")
    parser.add_argument("--rounds", type=int, default=env("ROUNDS", "2"),
                        help="rounds, each measuring every configuration (2)")
    opts = load.check_arguments(parser, parser.parse_args(argv))
    if len(opts.connections) != 1:
        parser.error("scale.py measures at one connection count (CONNS=64)")
    if opts.rounds < 1:
        parser.error("--rounds must be at least 1")
    opts.workers = sorted(set(opts.workers))
    return opts


def main(argv: list[str] | None = None) -> int:
    return load.run_main(parse_args(argv), bench, prog=PROG, prefix="funnelrun-scale-")


if __name__ == "__main__":
    sys.exit(main())
