"""Backend scripts: extract them from templates, bundle them, run them in a sandbox.

The pipeline (SPEC §2 step 5-6): `find_backend_scripts` per template, `build_bundle` for the
page, then `ExecutorPool.run(ScriptJob(...))` gives a `ScriptResult` whose `effects` the app
applies; `check_script_syntax` compiles bundles in an executor process to list syntax errors.
See README.md in this folder for the design.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .actions import collect_effects
    from .bundle import Bundle, build_bundle
    from .console import ConsoleEntry
    from .cookies import CookieEffect
    from .effects import ActionWarning, CustomResponse, Effects, Redirect, SessionOp
    from .extract import ScriptBlock, find_backend_scripts
    from .host import HOST_OPS, Host, HostRefusal, NullHost
    from .job import ScriptFailure, ScriptJob, ScriptResult, run_inline
    from .modules import module_name
    from .pool import ExecutorPool
    from .syntax import check_script_syntax

# Imported when first used, like the package's own names: an executor process imports only the
# engine and its framing, not the pool, the bundler and asyncio (about 10 MB less per executor).
_LAZY = {
    "collect_effects": "actions", "Bundle": "bundle", "build_bundle": "bundle",
    "ConsoleEntry": "console", "CookieEffect": "cookies", "ActionWarning": "effects",
    "CustomResponse": "effects", "Effects": "effects", "Redirect": "effects",
    "SessionOp": "effects", "ScriptBlock": "extract", "find_backend_scripts": "extract",
    "HOST_OPS": "host", "Host": "host", "HostRefusal": "host", "NullHost": "host",
    "ScriptFailure": "job", "ScriptJob": "job", "ScriptResult": "job", "run_inline": "job",
    "module_name": "modules", "ExecutorPool": "pool", "check_script_syntax": "syntax",
}

__all__ = [
    "HOST_OPS",
    "ActionWarning",
    "Bundle",
    "ConsoleEntry",
    "CookieEffect",
    "CustomResponse",
    "Effects",
    "ExecutorPool",
    "Host",
    "HostRefusal",
    "NullHost",
    "Redirect",
    "ScriptBlock",
    "ScriptFailure",
    "ScriptJob",
    "ScriptResult",
    "SessionOp",
    "build_bundle",
    "check_script_syntax",
    "collect_effects",
    "find_backend_scripts",
    "module_name",
    "run_inline",
]


__getattr__ = lazy_names(__name__, _LAZY, globals())
