"""Whole requests through the ASGI app, session load and save included (issue 3 target: < 2 ms).

Compares, in one run: a page with no script, a page with the typical script (bench/typical_script.js)
for a visitor with a session. Prints medians and p90 in ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from asgi_driver import call
from funnelrun.app import create_app
from funnelrun.settings import load_settings
from funnelrun.site import load_site

HERE = Path(__file__).parent
PAGE = """<!doctype html><title>{{ var.source }}</title>
<h1>{{ var.catalog.title }} ({{ var.visits }} visits, {{ var.cart_count }} in cart)</h1>
@foreach(p in var.catalog.products)<p>{{ p.name }}: {{ p.price | currency }}</p>@endforeach
"""


def write_site(root: Path) -> None:
    pages = root / "brands" / "bench" / "pages"
    pages.mkdir(parents=True)
    (root / "brands" / "bench" / "brand.toml").write_text('name = "Bench"\ndomains = ["bench.test"]\n')
    script = (HERE / "typical_script.js").read_text()
    (pages / "typical.html").write_text(f'<script scope="backend">\n{script}</script>\n{PAGE}')
    (pages / "empty.html").write_text("<!doctype html><title>empty</title><h1>Hello</h1>\n")


async def measure(rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_site(root)
        app = create_app(load_site(root), load_settings(root, environ={}))
        await app.startup()
        try:
            status, headers, _ = await call(app, "GET", "/typical")
            assert status == 200, status
            cookie = next(c.split(";", 1)[0] for c in headers["set-cookie"] if c.startswith("fr_session"))
            times: dict[str, list[float]] = {"empty": [], "typical": []}
            for _ in range(20):  # warm-up
                await call(app, "GET", "/typical", cookie=cookie)
            for _ in range(rounds):
                for name in times:  # alternate so noise hits both
                    start = time.perf_counter()
                    status, _, _ = await call(app, "GET", f"/{name}", cookie=cookie)
                    times[name].append((time.perf_counter() - start) * 1000)
                    assert status == 200
        finally:
            await app.shutdown()
    figures = {}
    for name, samples in times.items():
        samples.sort()
        figures[f"request_{name}_median_ms"] = statistics.median(samples)
        figures[f"request_{name}_p90_ms"] = samples[int(len(samples) * 0.9)]
    return figures


def main(rounds: int = 1000) -> dict[str, float]:
    figures = asyncio.run(measure(rounds))
    print(f"whole request, empty page      median {figures['request_empty_median_ms']:.3f} ms"
          f"  p90 {figures['request_empty_p90_ms']:.3f} ms")
    print(f"whole request, typical script  median {figures['request_typical_median_ms']:.3f} ms"
          f"  p90 {figures['request_typical_p90_ms']:.3f} ms   (target < 2 ms)")
    return figures


if __name__ == "__main__":
    main()
