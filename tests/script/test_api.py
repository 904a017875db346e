"""The public API of funnelrun.script, pinned."""

from __future__ import annotations

import dataclasses
import inspect
import json

import pytest

import funnelrun.script as script
from funnelrun.errors import ScriptError
from funnelrun.script import build_bundle, find_backend_scripts


def test_public_names() -> None:
    assert sorted(script.__all__) == sorted([
        "HOST_OPS", "ActionWarning", "Bundle", "ConsoleEntry", "CookieEffect", "CustomResponse",
        "Effects", "ExecutorPool", "Host", "HostRefusal", "NullHost", "Redirect", "ScriptBlock",
        "ScriptFailure", "ScriptJob", "ScriptResult", "SessionOp", "build_bundle",
        "check_script_syntax", "collect_effects", "find_backend_scripts", "module_name",
        "run_inline",
    ])
    for name in script.__all__:
        assert getattr(script, name) is not None


def fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]


def test_result_and_job_fields() -> None:
    assert fields(script.ScriptResult) == ["outcome", "error", "effects", "console",
                                           "console_dropped", "duration_ms", "cpu_ms"]
    assert fields(script.ScriptJob) == ["bundle", "request", "session", "session_bytes",
                                        "customer", "is_customer", "login_quota", "limits",
                                        "brand", "i18n", "assets", "stored_session"]
    assert fields(script.Effects) == ["session", "cookies", "headers", "variables", "status",
                                      "redirect", "response", "warnings"]
    assert fields(script.CookieEffect) == ["name", "value", "max_age", "path", "delete"]
    assert fields(script.ScriptBlock) == ["code", "start", "end", "line", "column"]
    assert fields(script.ConsoleEntry) == ["level", "text", "time"]


def test_script_failures_belong_to_the_exception_tree() -> None:
    assert issubclass(script.ScriptFailure, ScriptError)


def test_pool_signatures() -> None:
    assert list(inspect.signature(script.ExecutorPool).parameters) == \
        ["limits", "executor_settings", "command"]
    assert list(inspect.signature(script.ExecutorPool.run).parameters) == ["self", "job", "host"]
    assert list(inspect.signature(script.find_backend_scripts).parameters) == \
        ["source", "first_line", "filename"]
    assert list(inspect.signature(script.check_script_syntax).parameters) == \
        ["pages", "timeout_s"]
    assert list(inspect.signature(script.build_bundle).parameters) == \
        ["parts", "resolve_module"]


def test_a_job_takes_the_session_as_stored_or_as_values() -> None:
    bundle = build_bundle([("pages/a.html", find_backend_scripts(
        '<script scope="backend">setVariable("a", 1);</script>'))], lambda name: None)
    stored = {"cart": '[1,"é"]', "visits": "3", "email": '"a@b.c"', "_quota_id": '"q"'}
    from_texts = script.ScriptJob(bundle, {}, stored_session=stored)
    from_values = script.ScriptJob(bundle, {}, session={"cart": [1, "é"], "visits": 3})
    assert from_texts.session_texts() == {"cart": '[1,"é"]', "visits": "3"}  # reserved left out
    assert from_texts.config() == from_values.config()
    with pytest.raises(ValueError, match="not both"):
        script.ScriptJob(bundle, {}, session={"visits": 3}, stored_session=stored)


def test_a_job_takes_the_brand_global_as_data_or_as_its_json_text() -> None:
    bundle = build_bundle([("pages/a.html", find_backend_scripts(
        '<script scope="backend">setVariable("a", 1);</script>'))], lambda name: None)
    brand = {"id": "acme", "name": "Acmé", "mbg_days": None}
    as_data = script.ScriptJob(bundle, {}, brand=brand)
    as_text = script.ScriptJob(bundle, {}, brand=json.dumps(brand, separators=(",", ":")))
    assert json.loads(as_data.config())["brand"] == brand
    assert json.loads(as_text.config()) == json.loads(as_data.config())
