"""Render one realistic page with funnelrun's template engine and with Jinja2, and compare.

Run: .venv/bin/python bench/bench_template.py [--rounds N] [--renders N]

The page: a layout via @extends / {% extends %}, about 6 KB of HTML, 15 interpolations with
filters, and a loop over 20 items with a condition inside. Both engines escape HTML. Rounds
alternate which engine goes first so the noise of a shared machine hits both; the figures are
medians of the per-round means.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import jinja2

from funnelrun.template import FILTERS, Environment, TemplateSource

LAYOUT = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>@yield("title")</title>
  <link rel="stylesheet" href="/assets/site.css">
  <style>
    @media (max-width: 600px) { .grid { display: block; } .hero h1 { font-size: 28px; } }
    .badge { background: #ffcc00; border-radius: 4px; padding: 2px 6px; font-weight: 600; }
  </style>
</head>
<body class="{{ is_mobile ? 'mobile' : 'desktop' }}">
  <header class="site-header">
    <a class="logo" href="/">{{ brand.name | upper }}</a>
    <nav><a href="/pricing">Pricing</a> <a href="/faq">FAQ</a> <a href="/login">Log in</a></nav>
  </header>
  <main>
@block("content")
    <p>Nothing here yet.</p>
@endblock
  </main>
  <footer class="site-footer">
    <p>Questions? Write to {{ var.support.email | lower }} — we answer within one business day.</p>
    <p>&copy; {{ var.year }} {{ brand.name }}. All rights reserved. Prices in {{ var.currency }}.</p>
  </footer>
</body>
</html>
"""

PAGE = """@extends("layout")
@set(headline = var.offer_name + " — " + (var.tagline | default:'Start today'))
@block("title"){{ headline }}@endblock
@block("content")
    <section class="hero">
      <h1>{{ headline | title }}</h1>
      <p class="lead">{{ var.lead | truncate:120 }}</p>
      <p class="price">Only {{ var.price | currency:var.currency }} today,
         instead of {{ var.list_price | number_format:2 }}.</p>
      <p class="welcome">Welcome back, {{ customer.first_name | default:'friend' }}!</p>
      <a class="cta" href="/checkout?plan={{ query.plan | url_encode }}">Get {{ var.offer_name }}</a>
    </section>
    <section class="grid">
@foreach(item in var.items)
      <article class="card">
        <h3>{{ item.name }}</h3>
        <p class="summary">{{ item.summary | truncate:40 }}</p>
        <p class="meta">Rated {{ item.rating | round:1 }} by {{ item.reviews }} customers</p>
@if(item.featured)
        <span class="badge">Featured</span>
@endif
      </article>
@endforeach
    </section>
    <p class="fine-print">Offer ends {{ var.ends_at | date:'MMMM d, yyyy' }}. {{ var.terms }}</p>
@endblock
"""

JINJA_LAYOUT = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{% endblock %}</title>
  <link rel="stylesheet" href="/assets/site.css">
  <style>
    @media (max-width: 600px) { .grid { display: block; } .hero h1 { font-size: 28px; } }
    .badge { background: #ffcc00; border-radius: 4px; padding: 2px 6px; font-weight: 600; }
  </style>
</head>
<body class="{{ 'mobile' if is_mobile else 'desktop' }}">
  <header class="site-header">
    <a class="logo" href="/">{{ brand.name | upper }}</a>
    <nav><a href="/pricing">Pricing</a> <a href="/faq">FAQ</a> <a href="/login">Log in</a></nav>
  </header>
  <main>
{% block content %}
    <p>Nothing here yet.</p>
{% endblock %}
  </main>
  <footer class="site-footer">
    <p>Questions? Write to {{ var.support.email | lower }} — we answer within one business day.</p>
    <p>&copy; {{ var.year }} {{ brand.name }}. All rights reserved. Prices in {{ var.currency }}.</p>
  </footer>
</body>
</html>
"""

JINJA_PAGE = """{% extends "layout" %}
{% set headline = var.offer_name ~ " — " ~ (var.tagline | default('Start today', true)) %}
{% block title %}{{ headline }}{% endblock %}
{% block content %}
    <section class="hero">
      <h1>{{ headline | fr_title }}</h1>
      <p class="lead">{{ var.lead | fr_truncate(120) }}</p>
      <p class="price">Only {{ var.price | currency(var.currency) }} today,
         instead of {{ var.list_price | number_format(2) }}.</p>
      <p class="welcome">Welcome back, {{ customer.first_name | default('friend', true) }}!</p>
      <a class="cta" href="/checkout?plan={{ query.plan | urlencode }}">Get {{ var.offer_name }}</a>
    </section>
    <section class="grid">
{% for item in var["items"] %}
      <article class="card">
        <h3>{{ item.name }}</h3>
        <p class="summary">{{ item.summary | fr_truncate(40) }}</p>
        <p class="meta">Rated {{ item.rating | round(1) }} by {{ item.reviews }} customers</p>
{% if item.featured %}
        <span class="badge">Featured</span>
{% endif %}
      </article>
{% endfor %}
    </section>
    <p class="fine-print">Offer ends {{ var.ends_at | date('MMMM d, yyyy') }}. {{ var.terms }}</p>
{% endblock %}
"""


def make_context() -> dict[str, Any]:
    items = [
        {
            "name": f"Module {n}: <Growth> & \"Scale\"",
            "summary": "A practical walk-through of the tactics our customers use to grow, "
            f"step {n}, with checklists you can reuse.",
            "rating": 4 + (n % 10) / 10 + 0.04,
            "reviews": 100 + n * 17,
            "featured": n % 3 == 0,
        }
        for n in range(20)
    ]
    return {
        "var": {
            "offer_name": "Acme Pro",
            "tagline": "grow faster with less effort",
            "lead": "Everything you need to launch, sell and deliver your online course: pages, "
            "checkout, members area and email, in one place, without writing code.",
            "price": 49,
            "list_price": 1299.5,
            "currency": "USD",
            "items": items,
            "ends_at": "2025-12-31T23:59:00Z",
            "terms": "Cancel any time. 30-day money-back guarantee, no questions asked.",
            "support": {"email": "Help@Acme.test"},
            "year": 2025,
        },
        "request": {"path": "/", "method": "GET"},
        "query": {"plan": "pro yearly"},
        "customer": {"first_name": "Ada <script>"},
        "is_customer": True,
        "is_mobile": False,
        "is_tablet": False,
        "session": {},
        "route_params": {},
        "brand": {"id": "acme", "name": "Acme"},
    }


def funnelrun_renderer() -> Callable[[dict[str, Any]], str]:
    sources = {"layout": TemplateSource(LAYOUT, "components/layout.html")}
    env = Environment(loader=sources.get)
    page = env.compile(PAGE, "pages/index.html")
    return page.render


def jinja_renderer() -> Callable[[dict[str, Any]], str]:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"layout": JINJA_LAYOUT, "page": JINJA_PAGE}),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The filters Jinja lacks, or has with other rules, are funnelrun's own functions, so the
    # comparison measures the engines and not two implementations of `currency`.
    for name in ("currency", "number_format", "date"):
        env.filters[name] = FILTERS[name]
    env.filters["fr_title"] = FILTERS["title"]
    env.filters["fr_truncate"] = FILTERS["truncate"]
    template = env.get_template("page")
    return template.render


def _time_round(render: Callable[[dict[str, Any]], str], context: dict, renders: int) -> float:
    """Mean microseconds per render over `renders` renders."""
    start = time.perf_counter()
    for _ in range(renders):
        render(context)
    return (time.perf_counter() - start) / renders * 1e6


def main(rounds: int = 60, renders: int = 100, *, quiet: bool = False) -> dict[str, float]:
    """Time both engines, print the figures (unless `quiet`) and return them: medians in µs
    per render, their ratio, and the output sizes."""
    context = make_context()
    engines = {"funnelrun": funnelrun_renderer(), "jinja2": jinja_renderer()}
    sizes = {name: len(render(context).encode()) for name, render in engines.items()}
    for render in engines.values():  # warm up
        _time_round(render, context, renders)
    samples: dict[str, list[float]] = {name: [] for name in engines}
    order = list(engines)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for number in range(rounds):
            for name in order if number % 2 == 0 else reversed(order):
                samples[name].append(_time_round(engines[name], context, renders))
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    ours = statistics.median(samples["funnelrun"])
    theirs = statistics.median(samples["jinja2"])
    figures = {
        "funnelrun_us": round(ours, 2),
        "jinja2_us": round(theirs, 2),
        "ratio": round(ours / theirs, 3),
        "funnelrun_bytes": sizes["funnelrun"],
        "jinja2_bytes": sizes["jinja2"],
        "rounds": rounds,
        "renders_per_round": renders,
    }
    if not quiet:
        print(f"funnelrun: {ours:.1f} µs/render ({sizes['funnelrun']} B)")
        print(f"jinja2:    {theirs:.1f} µs/render ({sizes['jinja2']} B)")
        print(f"ratio:     {ours / theirs:.2f}× (funnelrun / jinja2; target ≤ 1.5)")
    return figures


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--renders", type=int, default=100)
    args = parser.parse_args()
    main(args.rounds, args.renders)


if __name__ == "__main__":
    _cli()
