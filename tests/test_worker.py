"""The start of a `funnelrun serve` worker: the site loaded, or its problems listed."""

from __future__ import annotations

import pytest

from conftest import write_site
from funnelrun.script import syntax
from funnelrun.worker import load_site_or_report


def test_script_syntax_is_checked_only_where_asked(tmp_path, capsys, monkeypatch):
    root = write_site(tmp_path, {"brands/acme/pages/a.html": '<script scope="backend">\nlet = ;</script>'})
    load_site_or_report(root, check_syntax=True)  # what `serve` does once at start-up
    assert capsys.readouterr().err == \
        "warning: brands/acme/pages/a.html:2:7: SyntaxError: unexpected token in expression: ';'\n"
    monkeypatch.setattr(syntax, "executor_command", lambda memory_mb: pytest.fail("checked"))
    load_site_or_report(root)  # what each worker does
    assert capsys.readouterr().err == ""
