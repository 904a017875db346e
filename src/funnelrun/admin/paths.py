"""The debug window's URLs (README "The debug window"); no page of a site may live under them."""

from __future__ import annotations

from ..site.pages import ADMIN_PATH as ADMIN_PATH

HOME = f"{ADMIN_PATH}/"
LOGIN = f"{ADMIN_PATH}/login"
LOGOUT = f"{ADMIN_PATH}/logout"
REQUEST_PAGE = f"{ADMIN_PATH}/requests/"  # + request id
ASSETS = f"{ADMIN_PATH}/assets/"
API = f"{ADMIN_PATH}/api/"
API_REQUESTS = f"{ADMIN_PATH}/api/requests"
LIVE = f"{ADMIN_PATH}/api/live"  # server-sent events; the HTTP server ends these at shutdown


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PATH or path.startswith(HOME)
