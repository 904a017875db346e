"""The script stage alone: a typical backend script through the executor pool (target: median
under 0.5 ms), an empty script for comparison, and where the time goes.

The typical script is bench/typical_script.js: 3 session reads, 2 writes, four setVariable
calls (one an object with a 20-item array), a cookie and two console.log calls. In process
only, bench/schema_script.js: a signup form validated with `Schema` (which a run loads only
when its code names it). Also in process: the typical script with three `asset()` calls,
literal (the run is given their URLs) and computed (it is given every version of a brand with
100 assets).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import statistics
import time
from pathlib import Path
from typing import Any

from funnelrun.asset_urls import AssetLinks
from funnelrun.script import ExecutorPool, ScriptJob, build_bundle, find_backend_scripts
from funnelrun.script.engine import Engine, EngineLimits, _fresh_context
from funnelrun.settings import ExecutorSettings, LimitSettings

HERE = Path(__file__).parent
ROUNDS = 3000
WARMUP = 300
PACE_S = 0.002  # "paced": one run every 2 ms or so, instead of back to back
REQUEST = {
    "method": "GET", "path": "/offer", "query": {"utm_source": "mail"}, "body": None,
    "headers": {"user-agent": "bench", "host": "bench.test"}, "cookies": {}, "ip": "127.0.0.1",
    "ip6": "", "is_mobile": False, "is_tablet": False, "route_params": {},
}
SESSION = {"visits": 41, "utm_source": "mail", "cart": {"items": [{"sku": "a", "qty": 1}]}}
ASSETS = {f"img/products/product-{number:03d}.webp": hashlib.sha256(bytes([number])).hexdigest()[:8]
          for number in range(97)} | {"css/site.css": "3f2a9c1e", "img/logo.svg": "0badc0de",
                                      "js/app.js": "12345678"}
LITERAL_ASSETS = ('\nsetVariable("links", '
                  '[asset("css/site.css"), asset("img/logo.svg"), asset("js/app.js")]);')
OWN_LINKS = ('\nfunction link(path) { return "/assets/" + path; }\nsetVariable("links", '
             '[link("css/site.css"), link("img/logo.svg"), link("js/app.js")]);')
COMPUTED_ASSETS = ('\nvar f = asset;\nsetVariable("links", '
                   '[f("css/site.css"), f("img/logo.svg"), f("js/app.js")]);')
FORM = {"email": "ann@example.com", "name": "Ann", "age": "42", "plan": "", "newsletter": "1"}


def job(code: str, request: dict[str, Any] = REQUEST) -> ScriptJob:
    source = f'<script scope="backend">\n{code}</script>'
    bundle = build_bundle([("pages/bench.html", find_backend_scripts(source))], lambda _: None)
    return ScriptJob(bundle, request, session=SESSION, session_bytes=200)


class AssetIndex:
    """A brand's asset index as asset() sees it (funnelrun.site.assets.AssetIndex)."""

    def version(self, path: str) -> str | None:
        return ASSETS.get(path)

    def __iter__(self) -> Any:
        return iter(ASSETS)


def asset_job(code: str) -> ScriptJob:
    """A job whose configuration carries what its `asset()` calls need, as the app gives it."""
    script = job(code)
    config = AssetLinks(AssetIndex()).script_config(script.bundle.asset_paths)
    return dataclasses.replace(script, assets=config)


async def through_pool(pool: ExecutorPool, script: ScriptJob, rounds: int,
                       gap_s: float = 0.0) -> dict[str, list]:
    """Per run: the whole pool.run call, and the engine's own wall and CPU time. With `gap_s`,
    runs are spaced out as a server's would be (it renders, parses, waits between scripts)."""
    stage, engine, cpu = [], [], []
    for _ in range(rounds):
        if gap_s:
            await asyncio.sleep(gap_s)
        started = time.perf_counter()
        result = await pool.run(script)
        stage.append((time.perf_counter() - started) * 1000)
        if not result.ok:
            raise SystemExit(f"bench script failed: {result.error}")
        engine.append(result.duration_ms)
        cpu.append(result.cpu_ms)
    return {"stage": stage, "engine": engine, "cpu": cpu}


def prepare_cost(script: ScriptJob, rounds: int = 500) -> float:
    """Putting the executor's context back to its snapshot after a run of `script`: paid per
    run, after the executor has answered."""
    engine, limits, config = Engine(), EngineLimits.from_settings(LimitSettings()), script.config()
    samples = []
    for _ in range(rounds):
        engine.run(script.bundle.code, config, limits)
        started = time.perf_counter()
        engine.prepare()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def fresh_context_cost(rounds: int = 200) -> float:
    """What the snapshot saves: a new context made with the prelude and Schema loaded."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        _fresh_context()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def in_process_cost(script: ScriptJob, rounds: int = 500) -> float:
    """engine.run alone (the prelude already evaluated), without any pipe."""
    engine, limits, config = Engine(), EngineLimits.from_settings(LimitSettings()), script.config()
    total = 0.0
    for _ in range(rounds):
        engine.prepare()
        started = time.perf_counter()
        engine.run(script.bundle.code, config, limits)
        total += time.perf_counter() - started
    return total / rounds * 1000


def asset_costs(rounds: int = 2000) -> dict[str, float]:
    """engine.run of the typical script alone, with three calls of a link function of its own,
    and with three asset() calls instead, literal or computed; interleaved run by run (the
    differences are a few µs, and sequential loops drift more than that); CPU time, medians."""
    code = (HERE / "typical_script.js").read_text()
    jobs = {"typical": job(code), "own function": job(code + OWN_LINKS),
            "literal": asset_job(code + LITERAL_ASSETS),
            "computed": asset_job(code + COMPUTED_ASSETS)}
    engine, limits = Engine(), EngineLimits.from_settings(LimitSettings())
    configs = {name: (script.bundle.code, script.config()) for name, script in jobs.items()}
    samples: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, (bundle, config) in configs.items():
            engine.prepare()
            started = time.process_time()
            engine.run(bundle, config, limits)
            samples[name].append((time.process_time() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median": statistics.median(ordered), "p90": ordered[int(len(ordered) * 0.9)]}


async def measure(rounds: int) -> dict[str, Any]:
    typical = job((HERE / "typical_script.js").read_text())
    empty = job("")
    figures: dict[str, Any] = {}
    async with ExecutorPool(LimitSettings(), ExecutorSettings(processes=2, max_processes=2)) as pool:
        for name, script, gap in (("typical", typical, 0.0), ("empty", empty, 0.0),
                                  ("typical paced", typical, PACE_S)):
            await through_pool(pool, script, WARMUP, gap)
            samples = await through_pool(pool, script, rounds, gap)
            figures[name] = {key: summary(values) for key, values in samples.items()}
    figures["prepare_ms"] = prepare_cost(typical)
    figures["fresh_context_ms"] = fresh_context_cost()
    figures["typical_in_process_ms"] = in_process_cost(typical)
    figures["empty_in_process_ms"] = in_process_cost(empty)
    form = job((HERE / "schema_script.js").read_text(), {**REQUEST, "method": "POST", "body": FORM})
    figures["schema_in_process_ms"] = in_process_cost(form)
    figures["assets_in_process_ms"] = asset_costs()
    return figures


def main() -> dict[str, Any]:
    figures = asyncio.run(measure(ROUNDS))
    for name in ("typical", "empty", "typical paced"):
        stage, engine, cpu = (figures[name][k] for k in ("stage", "engine", "cpu"))
        print(f"{name:13} script stage  median {stage['median']:.3f} ms  p90 {stage['p90']:.3f} ms"
              f"   (engine {engine['median']:.3f} ms, CPU {cpu['median']:.3f} ms, "
              f"pipe + validation {stage['median'] - engine['median']:.3f} ms)")
    print(f"the context restored after each run: {figures['prepare_ms']:.3f} ms "
          f"(a new one with the prelude and Schema: {figures['fresh_context_ms']:.3f} ms)")
    print(f"engine.run in process: typical {figures['typical_in_process_ms']:.3f} ms, "
          f"empty {figures['empty_in_process_ms']:.3f} ms, "
          f"signup form with Schema {figures['schema_in_process_ms']:.3f} ms")
    costs = figures["assets_in_process_ms"]
    print("engine.run in process, CPU medians of interleaved runs: typical "
          f"{costs['typical']:.3f} ms; + 3 links made by a function of its own "
          f"{costs['own function']:.3f} ms, by literal asset() calls {costs['literal']:.3f} ms, "
          f"by computed ones (100 assets' versions) {costs['computed']:.3f} ms")
    return figures


if __name__ == "__main__":
    main()
