"""The names `import funnelrun` offers are a promise: this pins them."""

import funnelrun


def test_public_names_are_pinned():
    assert sorted(funnelrun.__all__) == sorted([
        "Funnelrun", "FunnelrunError", "HandoffError", "Position", "ScriptError", "Settings",
        "SettingsError", "Site", "SiteError", "SiteInvalid", "SourceError", "StoreError",
        "TemplateError", "TemplateSyntaxError", "__version__", "check_site", "create_app",
        "load_settings", "load_site",
    ])
    for name in funnelrun.__all__:
        assert hasattr(funnelrun, name), name


def test_every_error_is_a_funnelrun_error():
    for name in funnelrun.__all__:
        value = getattr(funnelrun, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, funnelrun.FunnelrunError), name
