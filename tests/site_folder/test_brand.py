import pytest

from funnelrun.errors import SiteError
from funnelrun.site.brand import load_brand_settings


def write_brand(tmp_path, text, name="acme"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "brand.toml").write_text(text)
    return folder


def test_brand_toml_is_read(tmp_path):
    folder = write_brand(tmp_path, """
name = "Acme"
domains = ["Offers.Acme.test", "app.acme.test"]
default = true
[variables]
price = 49
[variables.support]
email = "help@acme.test"
""")
    brand = load_brand_settings(folder, "brands/acme")
    assert brand.id == "acme"
    assert brand.name == "Acme"
    assert brand.domains == ("offers.acme.test", "app.acme.test")
    assert brand.default is True
    assert brand.variables == {"price": 49, "support": {"email": "help@acme.test"}}


def test_missing_brand_toml_gives_defaults(tmp_path):
    folder = tmp_path / "solo"
    folder.mkdir()
    brand = load_brand_settings(folder, "brands/solo")
    assert (brand.name, brand.domains, brand.default, brand.variables) == ("solo", (), False, {})


def test_bad_toml_names_file_line_and_column(tmp_path):
    folder = write_brand(tmp_path, 'name = "Acme"\ndomains = ["a.test",\n  b]\n')
    with pytest.raises(SiteError) as caught:
        load_brand_settings(folder, "brands/acme/brand.toml")
    assert caught.value.headline().startswith("brands/acme/brand.toml:3:3: invalid TOML")


def test_unknown_key_is_named_with_its_line(tmp_path):
    folder = write_brand(tmp_path, 'name = "Acme"\ndomain = ["a.test"]\n')
    with pytest.raises(SiteError) as caught:
        load_brand_settings(folder, "brands/acme/brand.toml")
    assert caught.value.headline() == (
        "brands/acme/brand.toml:2:1: unknown brand.toml key 'domain' (did you mean 'domains'?); "
        "expected one of code, currency, default, domains, i18n, mbg_days, name, support_email, "
        "support_phone, timezone, variables"
    )


def test_wrong_type_is_named(tmp_path):
    folder = write_brand(tmp_path, 'name = "Acme"\ndefault = "yes"\n')
    with pytest.raises(SiteError, match=r"brand.toml:2:1: 'default' must be a boolean, not a string"):
        load_brand_settings(folder, "brands/acme/brand.toml")


@pytest.mark.parametrize("domain", ["https://acme.test", "acme.test:8000", "acme test", ""])
def test_domains_must_be_bare_host_names(tmp_path, domain):
    folder = write_brand(tmp_path, f'domains = ["{domain}"]\n')
    with pytest.raises(SiteError, match="host names without scheme or port"):
        load_brand_settings(folder, "brands/acme/brand.toml")


def test_brand_folder_name_must_be_an_id(tmp_path):
    folder = tmp_path / "bad name"
    folder.mkdir()
    with pytest.raises(SiteError, match="brand folder name 'bad name'"):
        load_brand_settings(folder, "brands/bad name")


# -- brand.* settings (script-library §2.8) ---------------------------------------------------


def test_brand_settings_are_read_and_shown_as_brand(tmp_path):
    folder = write_brand(tmp_path, """
name = "Acme"
code = "ACM"
currency = "eur"
timezone = "Europe/Bucharest"
support_email = "help@acme.test"
support_phone = "+40 21 000 0000"
mbg_days = 60
""")
    brand = load_brand_settings(folder, "brands/acme/brand.toml")
    assert brand.public() == {
        "id": "acme", "name": "Acme", "code": "ACM", "currency": "EUR",
        "timezone": "Europe/Bucharest", "support_email": "help@acme.test",
        "support_phone": "+40 21 000 0000", "mbg_days": 60,
    }


def test_brand_settings_have_defaults(tmp_path):
    brand = load_brand_settings(write_brand(tmp_path, 'name = "Acme"\n'), "brands/acme")
    assert brand.public() == {
        "id": "acme", "name": "Acme", "code": "", "currency": "", "timezone": "UTC",
        "support_email": "", "support_phone": "", "mbg_days": None,
    }


@pytest.mark.parametrize(("line", "message"), [
    ('currency = "dollars"',
     "'currency' must be a 3-letter ISO 4217 code such as 'USD', got 'dollars'"),
    ('currency = "€"', "'currency' must be a 3-letter ISO 4217 code such as 'USD', got '€'"),
    ('timezone = "Mars/Base"',
     "'timezone' must be an IANA time zone name such as 'Europe/Berlin' or 'UTC', got 'Mars/Base'"),
    ('timezone = "../../etc/passwd"',
     "'timezone' must be an IANA time zone name such as 'Europe/Berlin' or 'UTC', got "
     "'../../etc/passwd'"),
    ("mbg_days = -1", "'mbg_days' must be a whole number of days from 0 to 3650, got -1"),
    ("mbg_days = 99999", "'mbg_days' must be a whole number of days from 0 to 3650, got 99999"),
    ("mbg_days = true", "'mbg_days' must be a whole number of days from 0 to 3650, got True"),
    ("mbg_days = 1.5", "'mbg_days' must be an integer, not a number"),
    ("support_email = 1", "'support_email' must be a string, not an integer"),
])
def test_brand_settings_are_checked(tmp_path, line, message):
    folder = write_brand(tmp_path, f'name = "Acme"\n{line}\n')
    with pytest.raises(SiteError) as caught:
        load_brand_settings(folder, "brands/acme/brand.toml")
    assert caught.value.headline() == f"brands/acme/brand.toml:2:1: {message}"
