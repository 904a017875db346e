"""`open_store`: which store a `[store] url` setting names, and where its file goes."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import funnelrun.store
from funnelrun.errors import StoreError
from funnelrun.settings import StoreSettings
from funnelrun.store import RedisStore, SQLiteStore, Store, open_store, sqlite_path


@pytest.mark.anyio
async def test_default_url_opens_sqlite_under_the_site(tmp_path: Path) -> None:
    store = open_store(StoreSettings().url, tmp_path)
    try:
        assert isinstance(store, SQLiteStore)
        assert store.path == tmp_path / ".funnelrun" / "state.db"
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///state.db", "SITE/state.db"),
        ("sqlite:///.funnelrun/state.db", "SITE/.funnelrun/state.db"),
        ("sqlite:///../shared/state.db", "SITE/../shared/state.db"),
        ("sqlite:////var/lib/funnelrun/state.db", "/var/lib/funnelrun/state.db"),
        ("sqlite:///my%20site/state.db", "SITE/my site/state.db"),
        ("SQLite:///state.db", "SITE/state.db"),
    ],
)
def test_sqlite_path(url: str, expected: str, tmp_path: Path) -> None:
    assert sqlite_path(url, tmp_path) == Path(expected.replace("SITE", str(tmp_path)))


def test_relative_site_root_gives_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_path("sqlite:///state.db", "site") == tmp_path / "site" / "state.db"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://host/state.db",
        "sqlite:state.db",
        "sqlite:///state.db?timeout=5",
        "sqlite:///state.db#x",
        "sqlite://",
        "sqlite:///",
    ],
)
def test_malformed_sqlite_url_is_refused_with_the_expected_forms(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url, "/site")
    assert caught.value.reason == "store_url"
    assert "sqlite:///relative/to/site.db or sqlite:////absolute/path.db" in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "rediss://:hunter2@cache.example:6380/1", "REDIS://cache"],
)
async def test_redis_urls_open_the_redis_store_without_showing_the_password(url: str) -> None:
    store = open_store(url, "/site")  # connects on first use
    try:
        assert isinstance(store, RedisStore)
        assert "hunter2" not in repr(store)
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("postgres://db/funnel", "postgres"),
        ("memcached://:hunter2@cache.example:11211", "memcached"),
    ],
)
def test_other_schemes_are_unsupported(url: str, scheme: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url, "/site")
    message = str(caught.value)
    assert message.startswith(f"unsupported store URL scheme '{scheme}'; supported: sqlite")
    assert "redis and rediss" in message
    assert caught.value.reason == "store_url"
    assert "hunter2" not in message


def test_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("state.db", "/site")
    assert "has no scheme" in str(caught.value)
    assert caught.value.reason == "store_url"


def test_public_api() -> None:
    assert sorted(funnelrun.store.__all__) == [
        "Clock", "Cursor", "REQUEST_LIMIT", "REQUEST_MAX_AGE_S", "RedisStore", "RequestRecord",
        "RequestSummary", "SQLiteStore", "SaveResult", "SessionWrite", "Store", "StoredSession",
        "open_store", "redacted_url", "sqlite_path",
    ]
    assert (funnelrun.store.REQUEST_LIMIT, funnelrun.store.REQUEST_MAX_AGE_S) == (1000, 86400)


@pytest.mark.parametrize("backend", [SQLiteStore, RedisStore])
def test_each_store_has_every_method_of_the_protocol_with_its_signature(backend: type) -> None:
    methods = [name for name, _ in inspect.getmembers(Store, inspect.iscoroutinefunction)]
    assert sorted(methods) == [
        "claim", "close", "count", "delete_session", "get_request", "increment",
        "list_requests", "load_session", "ping", "purge", "record_request", "save_session",
        "wait_for_requests",
    ]
    for name in methods:
        assert inspect.iscoroutinefunction(getattr(backend, name)), name
        assert inspect.signature(getattr(backend, name)) == inspect.signature(
            getattr(Store, name)
        ), name
