"""The start of a `funnelrun serve` worker process: the site folder it is handed, the site
loaded (or its problems listed), and the app uvicorn calls for."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .app import Funnelrun, create_app
from .errors import FunnelrunError, SiteInvalid
from .settings import load_settings
from .site import Site, check_scripts, load_site

SITE_ENV = "FUNNELRUN_SITE"  # the site folder, set by `serve` for its workers
# Set under `serve --reload`: each new worker (one per edit) checks script syntax, as start-up does.
CHECK_SCRIPTS_ENV = "FUNNELRUN_CHECK_SCRIPTS"


def load_site_or_report(root: Path, *, check_syntax: bool = False) -> Site:
    """Load the site or print its problems; script problems are printed but do not stop it.

    `check_syntax` also lists script syntax errors, compiling every page's script in an
    executor process: `serve` asks for it once at start-up, its workers do not (but under
    `--reload` each worker does, since each follows an edit)."""
    try:
        site = load_site(root)
    except SiteInvalid as exc:
        for problem in exc.problems:
            print(problem.headline(), file=sys.stderr)
        raise FunnelrunError(f"{root}: not serving: {exc.message}") from None
    for problem in [*site.problems, *(check_scripts(site) if check_syntax else [])]:
        print(f"warning: {problem.headline()}", file=sys.stderr)
    return site


def app_from_environment() -> Funnelrun:
    """The app of one worker: the site folder comes from FUNNELRUN_SITE.

    Under `--reload` an edit can break the site: the worker then lists the problems, as
    `serve` does, and exits; the next edit starts a new one."""
    root = Path(os.environ[SITE_ENV])
    check_syntax = os.environ.get(CHECK_SCRIPTS_ENV) == "1"
    try:
        return create_app(load_site_or_report(root, check_syntax=check_syntax),
                          load_settings(root))
    except FunnelrunError as exc:
        print(f"funnelrun: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
