"""Shared helpers for the template tests: an in-memory loader and session items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from funnelrun.template import Environment, TemplateSource


class MemoryItems:
    """A SessionItems implementation over a dict, recording every call."""

    def __init__(self, **items: Any) -> None:
        self.items: dict[str, Any] = dict(items)
        self.calls: list[tuple] = []

    def get_item(self, key: str) -> Any:
        self.calls.append(("get", key))
        return self.items.get(key, "")

    def set_item(self, key: str, value: Any) -> None:
        self.calls.append(("set", key, value))
        if value is None:
            self.items.pop(key, None)
        else:
            self.items[key] = value

    def clear_item(self, key: str) -> None:
        self.calls.append(("clear", key))
        self.items.pop(key, None)


def make_env(templates: dict[str, str] | None = None) -> Environment:
    """An environment whose loader serves `templates` as components/<name>.html."""
    sources = {
        name: TemplateSource(text, f"components/{name}.html")
        for name, text in (templates or {}).items()
    }
    return Environment(loader=sources.get)


@pytest.fixture
def render() -> Callable[..., str]:
    """render(source, context=None, templates=None, session=None) -> the HTML."""

    def render(
        source: str,
        context: dict[str, Any] | None = None,
        templates: dict[str, str] | None = None,
        session: MemoryItems | None = None,
    ) -> str:
        env = make_env(templates)
        return env.compile(source, "pages/test.html").render(context or {}, session=session)

    return render


@pytest.fixture
def items() -> MemoryItems:
    """Empty session items."""
    return MemoryItems()


@pytest.fixture
def env_with() -> Callable[[dict[str, str] | None], Environment]:
    """env_with({"name": "template text"}) -> an Environment serving them by name."""
    return make_env
