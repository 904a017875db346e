"""The click id a visit brings in its query (`?click_id=` or `?clickid=`), kept in the session
on first sight: `{{ click_id }}` in templates, `session.get('click_id')` in scripts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from .events import PageEvents
from .session import Session, encode

CLICK_ID_KEY = "click_id"  # kept through a login handoff (session.HANDOFF_KEPT_KEYS)
CLICK_ID_PARAMETERS = ("click_id", "clickid")  # the first one present counts
MAX_CLICK_ID_CHARS = 256
# Trackers' ids (gclid, fbclid, Voluum's, …) are letters, digits and a few URL-safe marks.
_CLICK_ID = re.compile(rf"[A-Za-z0-9_.~-]{{1,{MAX_CLICK_ID_CHARS}}}")
REFUSED = f"ignored: a click id is 1-{MAX_CLICK_ID_CHARS} characters of A-Z a-z 0-9 _ . ~ -"


def note_click_id(session: Session, query: Mapping[str, str], events: PageEvents) -> None:
    """Write the query's click id under `click_id` when the session has none yet (the first
    click wins until the session ends); a malformed one is left out, with a warning."""
    if CLICK_ID_KEY in session.items:
        return
    for name in CLICK_ID_PARAMETERS:
        value = query.get(name)
        if not value:
            continue
        if not _CLICK_ID.fullmatch(value):
            events.warn(f"?{name}", REFUSED)
            return
        text = encode(value)
        refusal = session.refusal_for_write(CLICK_ID_KEY, text)
        if refusal:
            events.warn(f"?{name}", refusal)
            return
        session.write(CLICK_ID_KEY, text)
        return


def click_id(session: Session) -> str:
    """`{{ click_id }}`: the session's click id, or ''."""
    text = session.items.get(CLICK_ID_KEY)
    if text is None:
        return ""
    value = json.loads(text)
    return value if isinstance(value, str) else ""
