"""The debug window (SPEC §7): recorded requests in the browser, live, behind an admin login."""

from __future__ import annotations

from .access import ADMIN_COOKIE, AdminAccess
from .window import DebugWindow, with_panel

__all__ = ["ADMIN_COOKIE", "AdminAccess", "DebugWindow", "with_panel"]
