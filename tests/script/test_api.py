"""The public API of funnelrun.script, pinned."""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import json

import pytest

import funnelrun.script as script
from funnelrun.errors import ScriptEngineError, ScriptError
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


def test_the_configuration_parses_to_the_globals_whatever_their_text() -> None:
    """The configuration is orjson's text (non-ASCII as it is) or, for what orjson refuses (an
    unpaired surrogate, an integer beyond 64 bits), the standard library's with ASCII escapes:
    either way JSON.parse reads the same globals, and the text is valid UTF-8 for the frame."""
    bundle = build_bundle([("pages/a.html", find_backend_scripts(
        '<script scope="backend">setVariable("a", 1);</script>'))], lambda name: None)
    ascii_config = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
    for query in ({"q": "é🎉", "n": "1"}, {"q": "a\ud800"}, {"n": 2**64}):
        request = {"path": "/p", "query": query, "body": {"x": [1.5, None, True]}}
        job = script.ScriptJob(bundle, request, stored_session={"cart": '[1,"é"]'},
                               customer={"email": "a@b.c"}, is_customer=True)
        config = job.config()
        config.encode()  # no UnicodeEncodeError
        old = ascii_config({"request": request, "session": {"cart": '[1,"é"]'},
                            "session_bytes": 0, "customer": {"email": "a@b.c"},
                            "is_customer": True, "login_quota": job.login_quota})
        assert json.loads(config) == {**json.loads(old), "brand": None, "i18n": None,
                                      "assets": None}
    assert "\\ud800" in script.ScriptJob(bundle, {"q": "a\ud800"}).config()
    with pytest.raises(ScriptEngineError, match="not JSON data: Object of type date is not"):
        script.ScriptJob(bundle, {"when": datetime.date(2024, 1, 2)}).config()
