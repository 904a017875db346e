"""funnelrun: a self-hosted runtime for funnel websites.

The names below are the public API for embedding funnelrun in Python: load a site, build the
ASGI app, check a site for problems. The command line (`funnelrun serve | render | new |
check`) is built on the same names.
"""

from .app import Funnelrun, create_app
from .errors import (
    FunnelrunError,
    HandoffError,
    Position,
    ScriptError,
    SettingsError,
    SiteError,
    SourceError,
    StoreError,
    TemplateError,
    TemplateSyntaxError,
)
from .settings import Settings, load_settings
from .site import Site, SiteInvalid, check_site, load_site

__version__ = "0.1.0"

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
