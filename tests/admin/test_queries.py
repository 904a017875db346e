"""The debug window's list questions read from query strings, and the API's JSON shapes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnelrun.admin.queries import (
    DEFAULT_LIMIT,
    ListQuery,
    cursor_text,
    iso_time,
    list_json,
    parse_cursor,
    parse_list_query,
    record_json,
    summary_json,
)
from funnelrun.errors import AdminQueryError
from funnelrun.store import Cursor, RequestRecord, RequestSummary


def summary(request_id: str, started_at: float, **fields: object) -> RequestSummary:
    values: dict = {"brand": "acme", "path": "/", "method": "GET", "status": 200,
                    "duration_ms": 1.25, "error": False, "event_count": 2, "outcome": "ok"}
    return RequestSummary(request_id, started_at=started_at, **{**values, **fields})


def test_no_parameters_ask_for_the_newest_page() -> None:
    assert parse_list_query({}) == ListQuery()
    assert parse_list_query({"brand": "", "path": "", "status": "", "errors": ""}) == ListQuery()


def test_every_filter_is_read() -> None:
    cursor = Cursor(1796539177.7253628, "be0917decc4b5d36")
    query = parse_list_query({"brand": "acme", "path": "/login", "status": "404", "errors": "1",
                              "limit": "10", "before": cursor_text(cursor)})
    assert query == ListQuery("acme", "/login", 404, True, 10, before=cursor)
    assert query.filters() == {"brand": "acme", "path": "/login", "status": "404", "errors": "1",
                               "limit": "10"}
    assert query.store_arguments()["before"] == cursor


@pytest.mark.parametrize(("params", "named"), [
    ({"status": "abc"}, "status"), ({"status": "99"}, "status"), ({"status": "600"}, "status"),
    ({"status": "٢٠٠"}, "status"), ({"status": "2000"}, "status"),
    ({"errors": "maybe"}, "errors"),
    ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "-1"}, "limit"),
    ({"before": "yesterday"}, "before"), ({"after": "1.5"}, "after"),
    ({"after": "nan~abc"}, "after"), ({"after": "1_0~abc"}, "after"), ({"after": "~a"}, "after"),
    ({"after": "1.5~a b"}, "after"), ({"after": "1.5~" + "a" * 65}, "after"),
    ({"path": "/" * 2049}, "path"), ({"brand": "b" * 2049}, "brand"),
])
def test_a_bad_parameter_is_named(params: dict[str, str], named: str) -> None:
    with pytest.raises(AdminQueryError) as caught:
        parse_list_query(params)
    assert caught.value.message.startswith(f"{named}:")


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False),
       st.text(alphabet="0123456789abcdef", max_size=64))
def test_a_cursor_survives_its_text(started_at: float, request_id: str) -> None:
    cursor = Cursor(started_at, request_id)
    assert parse_cursor(cursor_text(cursor)) == cursor


def test_the_summary_shape() -> None:
    shape = summary_json(summary("r1", 1796539177.725, outcome=None, error=True))
    assert shape == {
        "request_id": "r1", "time": "2026-12-06T06:39:37.725Z", "started_at": 1796539177.725,
        "brand": "acme", "method": "GET", "path": "/", "status": 200, "duration_ms": 1.25,
        "outcome": None, "error": True, "event_count": 2, "cursor": "1796539177.725~r1",
    }
    record = RequestRecord("r1", "acme", "/", "GET", 200, 1.0, 1.0, False, 1, "ok",
                           events=[{"type": "response"}])
    assert record_json(record)["events"] == [{"type": "response"}]


def test_a_full_page_has_a_next_cursor_and_the_last_has_none() -> None:
    page = [summary("b", 2.0), summary("a", 1.0)]
    full = list_json(ListQuery(limit=2), page)
    assert [r["request_id"] for r in full["requests"]] == ["b", "a"]
    assert (full["next"], full["newest"]) == ("1.0~a", "2.0~b")
    assert list_json(ListQuery(limit=3), page)["next"] is None
    empty = list_json(ListQuery(), [])
    assert empty == {"requests": [], "next": None, "newest": None}
    following = list_json(ListQuery(after=Cursor(2.0, "b")), [])
    assert following["newest"] == "2.0~b"  # nothing new: follow from the same place


def test_times_are_utc_with_milliseconds() -> None:
    assert iso_time(0) == "1970-01-01T00:00:00.000Z"
    assert iso_time(1796539177.9999) == "2026-12-06T06:39:37.999Z"
    assert DEFAULT_LIMIT == 50
