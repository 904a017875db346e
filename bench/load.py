"""Load benchmark: a real `funnelrun serve` under wrk, the typical scripted page and the same page unscripted.

Run from the project root (`make bench` runs this first, then the in-process benches):

    .venv/bin/python bench/load.py                      # 1 and 32 connections, 10 s per run, 4 s warm-up
    DURATION=2 WARMUP=1 .venv/bin/python bench/load.py  # a smoke run
    PIN=0 .venv/bin/python bench/load.py                # no pinning: every core for all, as a user runs it
    FUNNELRUN_EXECUTOR_MAX_PROCESSES=2 .venv/bin/python bench/load.py --workers 2

The site is the peers' "typical funnel page", ../shared/baselines/funnelrun-site (a layout,
~15 filtered values, a loop of 20 items, typical.js as its backend script), copied into a
temporary folder, plus a second copy whose page has no script and whose brand variables hold
what the script sets, so both pages render the same template with the same values (the
session values the script writes print empty there). Each page gets a fresh `funnelrun serve`
(.venv/bin/funnelrun, its defaults plus the site's funnelrun.toml and any FUNNELRUN_* variable
of the environment), is checked (status 200, the rendered markers, the session counter moving),
then for each connection count warmed up and measured with `wrk -t1 -cN` (keep-alive). All
connections share one session cookie, as in ../shared/baselines/run.sh.

For each run it prints req/s, p50 and p99 latency, errors (socket errors, non-2xx responses
and pages rendered without the script's variables, warm-up included), CPU µs per request
summed over the server's whole process tree (utime+stime from /proc, reaped children through
cutime+cstime) and how that splits between the server process and its script executors, the
cores the tree kept busy, and the tree's RSS (the sum of its processes' resident sets, sampled
every 0.2 s: peak and median); then the script/no-script ratios. Exit status 1 if the server
does not start, a page check fails or any request errs; 2 for a set-up problem (no shared
site, no funnelrun, wrk missing and not installable).

Pinning (PIN=auto, the default) puts the server tree on CPU 0 and wrk, with this script, on
CPU 1, as run.sh does, so CPU per request is comparable with the peer table; PIN=0 pins nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "load_report.lua"
DEFAULT_SITE = ROOT.parent / "shared" / "baselines" / "funnelrun-site"
PATH = "/?utm_source=bench"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
SAMPLE_EVERY_S = 0.2
WRK_TIMEOUT = "5s"
MARKER = "Welcome back, SAM!"  # in every page wrk gets; a failed script renders the page without it
EXECUTOR_MARK = b"funnelrun.script.executor"  # in the command line of executors and syntax checkers
HZ = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "KEY")
PROG = "load.py"  # the name in messages; a bench that imports this module sets its own


class SetupError(Exception):
    """The benchmark cannot run here (exit status 2)."""


class BenchFailure(Exception):
    """funnelrun failed under the benchmark (exit status 1)."""


# ---- the two sites ---------------------------------------------------------------------------

def script_variables() -> dict[str, object]:
    """What typical.js passes to the template on every measured request (visit 2 onwards)."""
    items = [
        {"slug": f"product-{i + 1}", "name": f"Product number {i + 1}", "price": js_cents(9.99 + i * 3.5)}
        for i in range(20)
    ]
    return {
        "discount": "50%", "show_banner": True, "user": {"name": "Sam", "email": "sam@example.com"},
        "source": "bench", "cart_count": 0, "items": items,
    }


def js_cents(x: float) -> float:
    """`Math.round(x * 100) / 100`, as typical.js computes prices (half-way rounds up)."""
    return math.floor(x * 100 + 0.5) / 100


def toml_value(value: object) -> str:
    """`value` as an inline TOML value (JSON's string escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def prepare_sites(source: Path, work: Path,
                  pages: tuple[str, ...] = ("script", "no script")) -> dict[str, Path]:
    """Copies of the baseline site, those of `pages` asked for: as it is ("script"), and with the
    script's variables set as brand variables and its backend script removed ("no script")."""
    brands = sorted(source.glob("brands/*/brand.toml"))
    if len(brands) != 1 or not (brands[0].parent / "pages" / "index.html").is_file():
        raise SetupError(
            f"no baseline site at {source} (one brand with pages/index.html expected); "
            "it is ../shared/baselines/funnelrun-site beside the project, or set BASELINES_SITE")
    sites = {}
    for name in pages:
        sites[name] = work / ("site-" + name.replace(" ", "-"))
        shutil.copytree(source, sites[name], ignore=shutil.ignore_patterns(".funnelrun"))
    if "no script" not in sites:
        return sites
    brand = sites["no script"] / brands[0].relative_to(source).parent
    page = brand / "pages" / "index.html"
    text, found = re.subn(r'<script scope="backend">.*?</script>\n?', "", page.read_text(), flags=re.S)
    if found != 1:
        raise SetupError(f"{page}: expected one backend script, found {found}")
    page.write_text(text)
    data = tomllib.loads((brand / "brand.toml").read_text())
    variables = {**data.pop("variables", {}), **script_variables()}
    lines = [f"{key} = {toml_value(value)}" for key, value in data.items()]
    lines += ["", "[variables]"] + [f"{key} = {toml_value(value)}" for key, value in variables.items()]
    (brand / "brand.toml").write_text("\n".join(lines) + "\n")
    return sites


# ---- the server and its process tree ---------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class Proc:
    """One process of the tree as /proc/<pid>/stat shows it (times in clock ticks)."""

    pid: int
    ppid: int
    own_ticks: int  # utime + stime, all threads
    reaped_ticks: int  # cutime + cstime: children that ended and were waited for
    rss_bytes: int
    executor: bool = False  # a script executor (or syntax checker), from its command line


def read_procs() -> dict[int, Proc]:
    procs = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # ended meanwhile
            continue
        rest = stat[stat.rindex(b")") + 2:].split()  # the name may hold spaces and parentheses
        pid = int(entry.name)
        procs[pid] = Proc(pid, int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14]),
                          int(rest[21]) * PAGE_SIZE)
    return procs


def tree(root: int) -> dict[int, Proc]:
    """`root` and its descendants, now."""
    procs = read_procs()
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            found[pid] = dataclasses.replace(procs[pid], executor=is_executor(pid))
            todo += children.get(pid, [])
    return found


def is_executor(pid: int) -> bool:
    try:
        return EXECUTOR_MARK in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # ended meanwhile
        return False


def cpu_between(before: dict[int, Proc], after: dict[int, Proc]) -> tuple[float, float]:
    """CPU seconds the tree used between two snapshots: (server, executors).

    Exact for the whole tree: an executor that ended in between is in its parent's cutime by
    then. Executors' part: their own time, plus what their parents reaped, less what the
    reaped ones had used before the first snapshot."""
    total = sum(p.own_ticks + p.reaped_ticks for p in after.values())
    total -= sum(p.own_ticks + p.reaped_ticks for p in before.values())
    scripts = 0
    for pid, proc in after.items():
        old = before.get(pid)
        if proc.executor:
            scripts += proc.own_ticks - (old.own_ticks if old else 0)
        elif old:
            scripts += proc.reaped_ticks - old.reaped_ticks
    scripts -= sum(p.own_ticks for pid, p in before.items() if pid not in after and p.executor)
    return (total - scripts) / HZ, scripts / HZ


class Sampler(threading.Thread):
    """Samples the tree's RSS and its executor count until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.rss: list[int] = []
        self.executors: list[int] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            procs = tree(self.root)
            self.rss.append(sum(p.rss_bytes for p in procs.values()))
            self.executors.append(sum(1 for p in procs.values() if p.executor))
            if self._stop_event.wait(SAMPLE_EVERY_S):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(port: int, cookie: str = "") -> tuple[int, list[tuple[str, str]], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", PATH, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        conn.close()


class Server:
    """`funnelrun serve SITE` on a free port, in its own session, so Ctrl-C reaches this script
    alone and the tree is stopped here. `env` is added to this process's environment for it."""

    def __init__(self, funnelrun: Path, site: Path, *, workers: int | None, pin: list[str],
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log_path = site.parent / f"{site.name}.log"
        command = [*pin, str(funnelrun), "serve", str(site), "--host", "127.0.0.1", "--port", str(self.port)]
        if workers:
            command += ["--workers", str(workers)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            cwd=site.parent, start_new_session=True,
                                            env={**os.environ, **env} if env else None)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join("    " + line for line in text)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchFailure(f"funnelrun serve exited with status {self.process.returncode}; "
                                   f"its log:\n{self.log_tail()}")
            try:
                fetch(self.port)
                return
            except OSError:
                time.sleep(0.1)
        raise BenchFailure(f"funnelrun serve did not answer within {START_TIMEOUT_S} s; "
                           f"its log:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM to the server, as a service manager sends; whatever of its tree is left after
        STOP_TIMEOUT_S is killed, each by its pid."""
        if self.process.poll() is not None:
            return
        pids = set(tree(self.pid))
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"{PROG}: funnelrun serve ignored SIGTERM for {STOP_TIMEOUT_S} s; killing it",
                  file=sys.stderr)
        deadline = time.monotonic() + 5
        while (left := pids & set(read_procs())) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- checks and runs -------------------------------------------------------------------------

def check_page(page: str, port: int) -> tuple[str, str]:
    """The page as rendered, checked, and the Cookie header wrk sends (one shared session)."""
    status, headers, body = fetch(port)
    cookie = "promo_seen=true"
    if page == "script":
        sid = next((v.split(";")[0].split("=", 1)[1] for k, v in headers
                    if k.lower() == "set-cookie" and v.startswith("fr_session=")), None)
        if not sid:
            raise BenchFailure(f"{page}: the first visit set no fr_session cookie (status {status})")
        cookie = f"fr_session={sid}; {cookie}"
        status, headers, body = fetch(port, cookie)
    problems = [] if status == 200 else [f"status {status}"]
    cards = body.count('class="card"')
    if cards != 20:
        problems.append(f"{cards} items instead of 20")
    if MARKER not in body:
        problems.append(f"no {MARKER!r} banner")
    if page == "script" and "this is visit #2." not in body:
        problems.append("the session counter did not move ('this is visit #2.' missing)")
    if page == "script" and not any(k.lower() == "set-cookie" and v.startswith("promo_seen=true")
                                    for k, v in headers):
        problems.append("no promo_seen cookie")
    if problems:
        raise BenchFailure(f"{page}: the page check failed: {'; '.join(problems)}\n{body[:2000]}")
    return body, cookie


def grid(body: str) -> str:
    """The part of the page that both variants must render identically: the 20 cards."""
    match = re.search(r'<section class="grid">.*?</section>', body, flags=re.S)
    return match.group(0) if match else ""


def run_wrk(port: int, connections: int, seconds: int, cookie: str = "", *, path: str = PATH,
            headers: dict[str, str] | None = None, marker: str | None = MARKER) -> dict[str, float]:
    """wrk on `path` (the page, by default, with the session `cookie`), its report as a dict;
    responses without `marker` in their body count as errors (None: no body check)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT,
               "-s", str(LUA)]
    for name, value in (({"Cookie": cookie} if cookie else {}) | (headers or {})).items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {k: v for k, v in os.environ.items() if k != "LOAD_MARKER"}
    if marker is not None:
        env["LOAD_MARKER"] = marker
    out = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise BenchFailure(f"wrk failed (status {out.returncode}):\n{out.stdout}{out.stderr}")
    result: dict[str, float] = json.loads(lines[-1].removeprefix("RESULT "))
    result["wrk_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def errors_of(result: dict[str, float]) -> int:
    sockets = sum(result[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    return int(sockets + result["non2xx"] + result["unmarked"])


@dataclasses.dataclass
class Run:
    """One page at one connection count: what the table prints."""

    page: str
    connections: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, non-2xx, pages without MARKER: the measured run and its warm-up
    cpu_us: float  # per request, whole tree
    server_us: float
    executors_us: float
    cores: float  # tree CPU seconds per wall second
    rss_peak_mb: float
    rss_median_mb: float
    executors_peak: int
    wrk_cpu: float  # wrk's CPU seconds per wall second
    raw: dict[str, float] = dataclasses.field(repr=False)


def measure(server: Server, page: str, connections: int, cookie: str, opts: argparse.Namespace) -> Run:
    warm = run_wrk(server.port, connections, opts.warmup, cookie) if opts.warmup else None
    sampler = Sampler(server.pid)
    before = tree(server.pid)
    sampler.start()
    started = time.monotonic()
    result = run_wrk(server.port, connections, opts.duration, cookie)
    wall = time.monotonic() - started
    after = tree(server.pid)
    sampler.stop()
    if server.process.poll() is not None:
        raise BenchFailure(f"funnelrun serve exited during the {page} run at {connections} connections "
                           f"(status {server.process.returncode}); its log:\n{server.log_tail()}")
    server_s, executors_s = cpu_between(before, after)
    requests = int(result["requests"]) or 1
    mb = 1024 * 1024
    errors = errors_of(result) + (errors_of(warm) if warm else 0)
    return Run(
        page, connections, int(result["requests"]), result["requests"] / (result["duration_us"] / 1e6),
        result["p50_us"] / 1000, result["p99_us"] / 1000, errors,
        (server_s + executors_s) * 1e6 / requests, server_s * 1e6 / requests, executors_s * 1e6 / requests,
        (server_s + executors_s) / wall, max(sampler.rss) / mb, statistics.median(sampler.rss) / mb,
        max(sampler.executors), result["wrk_cpu_s"] / wall, result,
    )


def bench_page(page: str, site: Path, opts: argparse.Namespace, bodies: dict[str, str]) -> list[Run]:
    runs = []
    with Server(opts.funnelrun, site, workers=opts.workers, pin=opts.server_pin) as server:
        server.wait_ready()
        bodies[page], cookie = check_page(page, server.port)
        if len(bodies) == 2 and grid(bodies["script"]) != grid(bodies["no script"]):
            raise BenchFailure("the two pages render different cards: the no-script variables do not "
                               "match what typical.js sets")
        for connections in opts.connections:
            run = measure(server, page, connections, cookie, opts)
            print(f"  {page:<9} c={connections:<3} {run.rps:8,.0f} req/s  p99 {run.p99_ms:7.1f} ms  "
                  f"{run.cpu_us:7,.0f} µs CPU/req  errors {run.errors}", file=sys.stderr, flush=True)
            runs.append(run)
    return runs


# ---- output ----------------------------------------------------------------------------------

def describe(opts: argparse.Namespace) -> list[str]:
    rev = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                         capture_output=True, text=True, check=False).stdout.strip() or "unknown"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout + wrk.stderr).split(" Copyright")[0].strip()
    settings = [f"{k}={'***' if any(w in k for w in SECRET_WORDS) else v}"
                for k, v in sorted(os.environ.items()) if k.startswith("FUNNELRUN_")]
    pinning = (f"server tree on CPU {opts.server_cpu}, wrk on CPU {opts.load_cpu}" if opts.server_pin
               else "none")
    return [
        f"date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; funnelrun {rev}",
        f"host: {platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} cpus, "
        f"load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}",
        f"load: {wrk_version}; -t1 keep-alive, {opts.duration} s per run "
        f"after {opts.warmup} s warm-up; pinning: {pinning}",
        f"funnelrun: workers {opts.workers or 'as configured'}; settings from the environment: "
        f"{', '.join(settings) or 'none'}",
    ]


def ratio(a: float, b: float, digits: int = 1) -> str:
    return f"{a / b:.{digits}f}×" if b else "n/a"


def table(runs: list[Run]) -> list[str]:
    lines = [
        "| page | conns | req/s | p50 ms | p99 ms | errors | CPU µs/req (server + executors) "
        "| cores busy | RSS MB peak / median | executors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.page} | {r.connections} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} "
            f"| {r.cpu_us:,.0f} ({r.server_us:,.0f} + {r.executors_us:,.0f}) | {r.cores:.2f} "
            f"| {r.rss_peak_mb:.0f} / {r.rss_median_mb:.0f} | {r.executors_peak} |")
    pairs = [(s, n) for s in runs for n in runs
             if s.page == "script" and n.page == "no script" and s.connections == n.connections]
    if pairs:
        lines += ["", "| script / no script | req/s | p50 | p99 | CPU µs/req | RSS peak |",
                  "|---|---|---|---|---|---|"]
        for s, n in pairs:
            lines.append(
                f"| {s.connections} conns | {ratio(s.rps, n.rps, 2)} | {ratio(s.p50_ms, n.p50_ms)} "
                f"| {ratio(s.p99_ms, n.p99_ms)} | {ratio(s.cpu_us, n.cpu_us)} "
                f"| {ratio(s.rss_peak_mb, n.rss_peak_mb)} |")
    busy = [r for r in runs if r.wrk_cpu > 0.8]
    if busy:
        lines += ["", "note: wrk used more than 80 % of its core in " + ", ".join(
            f"{r.page} c={r.connections}" for r in busy) + ": the load generator may be the limit"]
    return lines


# ---- set-up and main -------------------------------------------------------------------------

def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise SetupError("wrk is not installed and this is not root: install it (apt-get install wrk)")
    print(f"{PROG}: installing wrk (apt-get)", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        if subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False).returncode != 0:
            raise SetupError(f"could not install wrk: {' '.join(command)} failed")


def pinning(opts: argparse.Namespace) -> list[str]:
    """The taskset prefix of the server, after pinning this process (and so wrk) to the load CPU."""
    if opts.pin == "0":
        return []
    allowed = os.sched_getaffinity(0)
    if (opts.server_cpu != opts.load_cpu and {opts.server_cpu, opts.load_cpu} <= allowed
            and shutil.which("taskset")):
        os.sched_setaffinity(0, {opts.load_cpu})
        return ["taskset", "-c", str(opts.server_cpu)]
    if opts.pin == "1":
        raise SetupError(f"cannot pin to CPUs {opts.server_cpu} and {opts.load_cpu} "
                         f"(allowed: {sorted(allowed)})")
    return []


def seconds(text: str) -> int:
    try:
        value = int(text.removesuffix("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds such as 10 or 10s, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds, got {text!r}")
    return value


def connection_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected counts such as 1,32, got {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected counts of 1 or more, got {text!r}")
    return counts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0], epilog="Each option's default comes from the environment "
        "variable named in capitals (DURATION, WARMUP, CONNS, WORKERS, PIN, SERVER_CPU, LOAD_CPU, "
        "BASELINES_SITE, FUNNELRUN). FUNNELRUN_* variables reach funnelrun serve as its settings.")
    add_arguments(parser, pages=True)
    return check_arguments(parser, parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser, *, pages: bool, connections: str = "1,32",
                  pin: str = "auto", workers: bool = True) -> None:
    """The options of a load run (bench/recording.py takes them too, without --pages; bench/scale.py
    with its own defaults for CONNS and PIN, and its own --workers)."""
    env = os.environ.get
    parser.add_argument("--duration", type=seconds, default=env("DURATION", "10"),
                        help="seconds per measured run (10)")
    parser.add_argument("--warmup", type=seconds, default=env("WARMUP", "4"),
                        help="seconds of warm-up before each run, same connections (4)")
    parser.add_argument("--connections", type=connection_counts,
                        default=env("CONNS", connections),
                        help=f"keep-alive connection counts, comma-separated ({connections})")
    if workers:
        parser.add_argument("--workers", type=int, default=env("WORKERS", "0"),
                            help="funnelrun serve --workers (default: the site's setting)")
    parser.add_argument("--pin", choices=["auto", "0", "1"], default=env("PIN", pin),
                        help=f"auto: pin when two CPUs are available; 0: never; 1: always, or fail ({pin})")
    parser.add_argument("--server-cpu", type=int, default=env("SERVER_CPU", "0"))
    parser.add_argument("--load-cpu", type=int, default=env("LOAD_CPU", "1"))
    parser.add_argument("--site", type=Path, default=env("BASELINES_SITE", str(DEFAULT_SITE)),
                        help="the baseline site to copy (../shared/baselines/funnelrun-site)")
    parser.add_argument("--funnelrun", type=Path,
                        default=env("FUNNELRUN", str(ROOT / ".venv/bin/funnelrun")),
                        help="the funnelrun command under test (.venv/bin/funnelrun)")
    if pages:
        parser.add_argument("--pages", choices=["both", "script", "no-script"], default="both")
    parser.add_argument("--json", type=Path,
                        help="also write every figure, wrk's raw ones included, to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary sites and server logs")


def check_arguments(parser: argparse.ArgumentParser, opts: argparse.Namespace) -> argparse.Namespace:
    if opts.duration < 1:
        parser.error("--duration must be at least 1 second")
    if opts.pin not in ("auto", "0", "1"):
        parser.error(f"PIN must be auto, 0 or 1, got {opts.pin!r}")
    return opts


def bench(opts: argparse.Namespace, work: Path) -> int:
    if not os.access(opts.funnelrun, os.X_OK):
        raise SetupError(f"no funnelrun command at {opts.funnelrun} (run 'make test' or set FUNNELRUN)")
    ensure_wrk()
    opts.server_pin = pinning(opts)
    sites = prepare_sites(opts.site.resolve(), work)
    pages = ["script", "no script"] if opts.pages == "both" else [opts.pages.replace("-", " ")]
    header = describe(opts)
    print("\n".join(header), file=sys.stderr, flush=True)
    bodies: dict[str, str] = {}
    runs = [run for page in pages for run in bench_page(page, sites[page], opts, bodies)]
    print("\n".join(["", *header, "", *table(runs)]))
    if opts.json:
        figures = {"header": header, "runs": [dataclasses.asdict(r) for r in runs]}
        opts.json.write_text(json.dumps(figures, indent=2) + "\n")
    failed = [f"{r.page} c={r.connections}: {r.errors or 'no request completed'}"
              for r in runs if r.errors or not r.requests]
    if failed:
        raise BenchFailure("requests failed (socket errors, non-2xx, or pages without their script's "
                           "variables): " + ", ".join(failed))
    return 0


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    return run_main(parse_args(argv), bench, prog=PROG, prefix="funnelrun-load-")


def run_main(opts: argparse.Namespace, body: Callable[[argparse.Namespace, Path], int], *,
             prog: str, prefix: str) -> int:
    """`body(opts, work)` in a temporary folder, its failures turned into exit statuses."""
    signal.signal(signal.SIGTERM, _interrupted)
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        return body(opts, work)
    except SetupError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except BenchFailure as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; the server was stopped", file=sys.stderr)
        return 130
    finally:
        if opts.keep:
            print(f"{prog}: sites and server logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
