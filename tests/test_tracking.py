"""The click id of `?click_id=` (or `?clickid=`), kept in the session on first sight."""

from __future__ import annotations

import pytest

from funnelrun.events import PageEvents
from funnelrun.session import MAX_SESSION_BYTES, Session, encode
from funnelrun.tracking import MAX_CLICK_ID_CHARS, REFUSED, click_id, note_click_id


def noted(query: dict[str, str], session: Session | None = None) -> tuple[Session, list]:
    session = session or Session(brand="acme")
    events = PageEvents()
    note_click_id(session, query, events)
    return session, [(e["call"], e["reason"]) for e in events.items if e["type"] == "warning"]


def test_the_first_click_id_is_kept():
    session, warnings = noted({"click_id": "gclid-AbC_123.x~y", "utm_source": "ads"})
    assert session.changes == {"click_id": '"gclid-AbC_123.x~y"'} and warnings == []
    assert click_id(session) == "gclid-AbC_123.x~y"


def test_clickid_counts_too_and_click_id_wins_when_both_are_sent():
    assert click_id(noted({"clickid": "b"})[0]) == "b"
    assert click_id(noted({"clickid": "b", "click_id": "a"})[0]) == "a"


def test_a_later_click_id_does_not_replace_the_first():
    session = Session(brand="acme", id="S" * 27, items={"click_id": encode("first")})
    session, warnings = noted({"click_id": "second"}, session)
    assert session.changes == {} and click_id(session) == "first" and warnings == []


def test_no_click_id_writes_nothing():
    for query in ({}, {"click_id": ""}, {"clickid": ""}, {"CLICK_ID": "x"}):
        session, warnings = noted(query)
        assert not session.dirty and warnings == [] and click_id(session) == ""


@pytest.mark.parametrize("value", [
    "x" * (MAX_CLICK_ID_CHARS + 1), "a b", "a\x00b", "a\r\nSet-Cookie: x=1", "<script>",
    "é", "a/b", "a+b", "a\u2028b", "%41",
])
def test_a_malformed_click_id_is_left_out_with_a_warning(value):
    session, warnings = noted({"click_id": value})
    assert not session.dirty and click_id(session) == ""
    assert warnings == [("?click_id", REFUSED)]


def test_the_longest_click_id_is_kept():
    assert click_id(noted({"clickid": "x" * MAX_CLICK_ID_CHARS})[0]) == "x" * MAX_CLICK_ID_CHARS


def test_a_full_session_refuses_the_click_id_with_a_warning():
    full = Session(brand="acme", id="S" * 27, items={"big": encode("x" * (MAX_SESSION_BYTES - 10))})
    session, warnings = noted({"click_id": "abcdefgh"}, full)
    assert not session.dirty
    assert warnings and warnings[0][0] == "?click_id" and "the limit is" in warnings[0][1]


def test_a_click_id_that_is_not_text_reads_as_empty():
    session = Session(brand="acme", items={"click_id": encode({"x": 1})})
    assert click_id(session) == ""
