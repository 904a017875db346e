"""Settings: defaults, funnelrun.toml, environment, flags; errors name key, value and type."""

import base64

import pytest

from funnelrun.errors import SettingsError
from funnelrun.settings import Settings, load_settings


def test_defaults_without_a_file_or_environment(tmp_path):
    settings = load_settings(tmp_path, environ={})
    assert settings == Settings()
    assert (settings.server.port, settings.limits.script_memory_mb, settings.session.lifetime_s) == (
        8000, 8, 10800,
    )
    assert settings.secret_key is None


def test_sources_stack_toml_then_environment_then_flags(tmp_path):
    (tmp_path / "funnelrun.toml").write_text(
        '[server]\nport = 9000\nhost = "0.0.0.0"\ntrusted_proxies = ["10.0.0.1"]\n'
        "[limits]\nscript_cpu_ms = 500\n"
    )
    settings = load_settings(
        tmp_path,
        environ={"FUNNELRUN_SERVER_PORT": "9100", "FUNNELRUN_SERVER_TRUSTED_PROXIES": "10.0.0.2, 10.0.0.3"},
        overrides={"server.port": 9200, "store.url": None},
    )
    assert settings.server.port == 9200
    assert settings.server.host == "0.0.0.0"
    assert settings.server.trusted_proxies == ("10.0.0.2", "10.0.0.3")
    assert settings.limits.script_cpu_ms == 500


def test_unknown_key_names_the_section_and_the_choices(tmp_path):
    (tmp_path / "funnelrun.toml").write_text("[server]\nprot = 1\n")
    with pytest.raises(SettingsError, match=r"unknown setting 'server.prot'; \[server\] takes "
                                            r"access_log, body_timeout_s, header_timeout_s, "):
        load_settings(tmp_path, environ={})


def test_unknown_section_is_an_error(tmp_path):
    (tmp_path / "funnelrun.toml").write_text("[severs]\nport = 1\n")
    with pytest.raises(SettingsError, match=r"unknown settings section \[severs\]"):
        load_settings(tmp_path, environ={})


def test_wrong_type_names_key_value_and_source(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, environ={"FUNNELRUN_LIMITS_SCRIPT_CPU_MS": "ten"})
    assert str(caught.value) == (
        "setting 'limits.script_cpu_ms' must be an integer, got 'ten' "
        "(from FUNNELRUN_LIMITS_SCRIPT_CPU_MS)"
    )


def test_invalid_toml_is_named(tmp_path):
    (tmp_path / "funnelrun.toml").write_text("[server\n")
    with pytest.raises(SettingsError, match=r"funnelrun\.toml: not valid TOML"):
        load_settings(tmp_path, environ={})


def test_secret_key_must_be_32_bytes_of_base64_and_never_prints(tmp_path):
    key = base64.b64encode(b"k" * 32).decode()
    settings = load_settings(tmp_path, environ={"FUNNELRUN_SECRET_KEY": key})
    assert settings.secret_key_bytes() == b"k" * 32
    assert key not in repr(settings) and key not in str(settings.secret_key)
    with pytest.raises(SettingsError, match="decodes to 5 bytes"):
        load_settings(tmp_path, environ={"FUNNELRUN_SECRET_KEY": base64.b64encode(b"short").decode()})
    with pytest.raises(SettingsError, match="it is not base64"):
        load_settings(tmp_path, environ={"FUNNELRUN_SECRET_KEY": "not base64!"})


def test_trusted_proxies_must_be_addresses_or_networks(tmp_path):
    with pytest.raises(SettingsError, match=r"'server.trusted_proxies' must list IP addresses.*'proxy.lan'"):
        load_settings(tmp_path, environ={"FUNNELRUN_SERVER_TRUSTED_PROXIES": "10.0.0.0/8, proxy.lan"})


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("FUNNELRUN_SERVER_HEADER_TIMEOUT_S", "0", "'server.header_timeout_s' must be at least 1, got 0"),
    ("FUNNELRUN_SERVER_MAX_CONNECTIONS", "0", "'server.max_connections' must be at least 1, got 0"),
    ("FUNNELRUN_SERVER_PORT", "70000", "'server.port' must be from 0 to 65535, got 70000"),
    ("FUNNELRUN_LIMITS_SCRIPT_STACK_KB", "65536",
     "'limits.script_stack_kb' must be from 16 to 4096, got 65536"),
    ("FUNNELRUN_SESSION_LOGIN_QUOTA_PER_IP", "-1",
     "'session.login_quota_per_ip' must be at least 0, got -1"),
])
def test_an_integer_out_of_its_range_names_the_setting_the_range_and_the_source(
    variable, value, message
):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: value})
    assert str(caught.value) == f"setting {message} (from {variable})"


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("Yes", True), ("1", True),
                                                ("off", False), ("0", False)])
def test_a_boolean_setting_reads_the_usual_words_from_the_environment(text, expected):
    settings = load_settings(environ={"FUNNELRUN_SERVER_ACCESS_LOG": text})
    assert settings.server.access_log is expected


def test_a_boolean_setting_refuses_anything_else(tmp_path):
    (tmp_path / "funnelrun.toml").write_text("[server]\naccess_log = 1\n")
    with pytest.raises(SettingsError, match=r"'server\.access_log' must be true or false, got 1"):
        load_settings(tmp_path, environ={})


def test_the_admin_token_is_long_url_safe_and_never_prints(tmp_path):
    token = "abcdefghijklmnop-._~"
    settings = load_settings(tmp_path, environ={"FUNNELRUN_ADMIN_TOKEN": token})
    assert settings.admin_token is not None and settings.admin_token.reveal() == token
    assert token not in repr(settings)
    assert load_settings(tmp_path, environ={"FUNNELRUN_ADMIN_TOKEN": "  "}).admin_token is None
    for bad, why in (("short-token", "at least 16 characters; it has 11"),
                     ("sixteen chars ok!", "only letters, digits and - . _ ~"),
                     ("abcdefghijklmnop&x=1", "only letters, digits and - . _ ~")):
        with pytest.raises(SettingsError) as caught:
            load_settings(tmp_path, environ={"FUNNELRUN_ADMIN_TOKEN": bad})
        message = str(caught.value)
        assert message.startswith("FUNNELRUN_ADMIN_TOKEN") and why in message
        assert bad not in message


def test_recording_page_events_can_be_turned_off(tmp_path):
    assert load_settings(tmp_path, environ={}).events.record is True
    (tmp_path / "funnelrun.toml").write_text("[events]\nrecord = false\n")
    assert load_settings(tmp_path, environ={}).events.record is False
    settings = load_settings(tmp_path, environ={"FUNNELRUN_EVENTS_RECORD": "yes"})
    assert settings.events.record is True


@pytest.mark.parametrize(("given", "kept"), [
    ("", ""),
    ("https://cdn.example.com", "https://cdn.example.com"),
    ("https://cdn.example.com/", "https://cdn.example.com"),
    ("https://CDN.Example.com:443/acme//", "https://cdn.example.com/acme"),
    ("http://127.0.0.1:8080/static/", "http://127.0.0.1:8080/static"),
])
def test_the_assets_base_url_is_kept_without_its_trailing_slash(tmp_path, given, kept):
    (tmp_path / "funnelrun.toml").write_text(f'[assets]\nbase_url = "{given}"\n')
    assert load_settings(tmp_path, environ={}).assets.base_url == kept


def test_the_assets_base_url_comes_from_the_environment_too(tmp_path):
    settings = load_settings(tmp_path, environ={"FUNNELRUN_ASSETS_BASE_URL": "https://c.test/"})
    assert settings.assets.base_url == "https://c.test"


@pytest.mark.parametrize(("given", "why"), [
    ("cdn.example.com", "must be an http:// or https:// URL such as 'https://cdn.example.com', "
                        "got 'cdn.example.com'"),
    ("//cdn.example.com", "must be an http:// or https:// URL"),
    ("ftp://cdn.example.com", "must be an http:// or https:// URL"),
    ("HTTPS://cdn.example.com", "must be an http:// or https:// URL"),
    ("https://cdn.example.com/?v=1", "without spaces, credentials, query or fragment"),
    ("https://cdn.example.com/#x", "without spaces, credentials, query or fragment"),
    ("https://user:pw@cdn.example.com", "without spaces, credentials, query or fragment"),
    ("https://cdn.example.com/a b", "without spaces, credentials, query or fragment"),
    ("https://cdn.example.com:99999", "is not a URL a browser can read"),
    ("https://", "is not a URL a browser can read"),
])
def test_the_assets_base_url_must_be_an_http_url_without_query(tmp_path, given, why):
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, environ={"FUNNELRUN_ASSETS_BASE_URL": given})
    assert str(caught.value).startswith("setting 'assets.base_url' ")
    assert why in str(caught.value)
