"""funnelrun: a self-hosted runtime for funnel websites.

The names below are the public API for embedding funnelrun in Python: load a site, build the
ASGI app, check a site for problems. The command line (`funnelrun serve | render | new |
check`) is built on the same names. They are imported when first used, so that a process that
needs only a part (a script executor, say) does not load the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    FunnelrunError,
    HandoffError,
    Position,
    ScriptError,
    SettingsError,
    SiteError,
    SiteInvalid,
    SourceError,
    StoreError,
    TemplateError,
    TemplateSyntaxError,
)
from .lazy import lazy_names

if TYPE_CHECKING:
    from .app import Funnelrun, create_app
    from .settings import Settings, load_settings
    from .site import Site, check_site, load_site

__version__ = "0.1.0"

# Public names defined outside errors.py, by the module that defines them.
_LAZY = {
    "Funnelrun": "app", "create_app": "app", "Settings": "settings", "load_settings": "settings",
    "Site": "site", "check_site": "site", "load_site": "site",
}

__all__ = [
    "Funnelrun",
    "FunnelrunError",
    "HandoffError",
    "Position",
    "ScriptError",
    "Settings",
    "SettingsError",
    "Site",
    "SiteError",
    "SiteInvalid",
    "SourceError",
    "StoreError",
    "TemplateError",
    "TemplateSyntaxError",
    "__version__",
    "check_site",
    "create_app",
    "load_settings",
    "load_site",
]


__getattr__ = lazy_names(__name__, _LAZY, globals())
