"""The reference's script aliases and page variables (script-library §2.8) over HTTP, through the
real sandbox: the docs' own examples unchanged, then hostile input (a huge User-Agent, odd
Referer headers, click ids with control characters or of any length)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from conftest import FakeClock, serve
from funnelrun.site import check_site
from funnelrun.tracking import REFUSED

pytestmark = pytest.mark.anyio

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
BRAND = """
name = "My Company"
code = "MYC"
currency = "usd"
timezone = "America/New_York"
support_email = "support@example.com"
support_phone = "1-800-123-4567"
mbg_days = 60
[variables.company]
name = "My Company"
"""
LOGIN = {"brands/acme/pages/login.html": """
    <script scope="backend">
      session.setCustomer({email: "john@example.com", first_name: "John", last_name: "Doe"});
    </script>
    in
"""}


def page(text: str, name: str = "p") -> dict[str, str]:
    return {"brands/acme/brand.toml": BRAND, f"brands/acme/pages/{name}.html": text}


def script_page(script: str, body: str) -> dict[str, str]:
    return page(f'<script scope="backend">\n{script}\n</script>\n{body}')


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


# -- the docs' examples (pages/page-variables.mdx), unchanged -------------------------------------


async def test_brand_and_system_variables(site):
    files = page("""
        <h1>Welcome to {{ brand_name }}</h1>
        <p>Visit us at {{ domain }}</p>
        <a href="https://{{ domain }}">Home</a>
        <p>© {{ brand_name }} %YEAR%</p>
    """)
    clock = FakeClock()
    clock.now = datetime(2024, 1, 15, 19, 0, tzinfo=UTC).timestamp()
    async with serve(site(files), clock=clock) as client:
        response = await client.get("/p")
    assert lines(response.text) == [
        "<h1>Welcome to My Company</h1>", "<p>Visit us at acme.test</p>",
        '<a href="https://acme.test">Home</a>', "<p>© My Company 2024</p>"]


async def test_the_complete_date_example_in_the_brand_time_zone(site):
    files = page("""
        <div class="date-display">
          <p>Today is %DAY_NAME%, %MONTH_NAME% %DAY%%DAY_POSTFIX%, %YEAR%</p>
          <p>Current time: %HOUR%:00</p>
        </div>
        <p>Month number: %MONTH%</p>
    """)
    clock = FakeClock()
    clock.now = datetime(2024, 1, 15, 19, 0, tzinfo=UTC).timestamp()  # 14:00 in New York
    async with serve(site(files), clock=clock) as client:
        response = await client.get("/p")
    assert lines(response.text) == [
        '<div class="date-display">', "<p>Today is Monday, January 15th, 2024</p>",
        "<p>Current time: 14:00</p>", "</div>", "<p>Month number: 0</p>"]


async def test_customer_variables_with_and_without_a_customer(site):
    files = {**LOGIN, **page("""
        <p>Hello, %CUSTOMER_FNAME%!</p>
        <p>Welcome%CUSTOMER_FNAME%, to our store!</p>
        <h1>Welcome, {{ customer_name }}!</h1>
        <script>
          console.log('Customer: {{ customer_name }}');
        </script>
        @if(request.is_customer)
          <p>Welcome back!</p>
        @endif
    """)}
    async with serve(site(files)) as client:
        before = await client.get("/p")
        await client.get("/login")
        after = await client.get("/p")
    assert lines(before.text) == [
        "<p>Hello, !</p>", "<p>Welcome to our store!</p>", "<h1>Welcome, !</h1>", "<script>",
        "console.log('Customer: ');", "</script>"]
    assert lines(after.text) == [
        "<p>Hello, John!</p>", "<p>Welcome John, to our store!</p>", "<h1>Welcome, John Doe!</h1>",
        "<script>", "console.log('Customer: John Doe');", "</script>", "<p>Welcome back!</p>"]


async def test_brand_variable_defaults(site):
    files = page("""
        <p>Company: {{ var.company.name }}</p>
        <p>Phone: {{ var.company.phone=Not available }}</p>
        <p>Support: {{ var.support.email=support@example.com }}</p>
        <p>{{ var.path=default value }}</p>
    """)
    async with serve(site(files)) as client:
        response = await client.get("/p")
    assert lines(response.text) == [
        "<p>Company: My Company</p>", "<p>Phone: Not available</p>",
        "<p>Support: support@example.com</p>", "<p>default value</p>"]


async def test_queryparams_and_query(site):
    files = page("""
        <a href="/checkout?{{ queryparams }}">Checkout</a>
        <p>Affiliate ID: {{ query.aff_id }}</p>
        <p>Source: {{ query.source }}</p>
    """)
    async with serve(site(files)) as client:
        response = await client.get("/p?aff_id=123&source=facebook")
        none = await client.get("/p")
    assert lines(response.text) == [
        '<a href="/checkout?aff_id=123&amp;source=facebook">Checkout</a>',  # escaped: & is &amp;
        "<p>Affiliate ID: 123</p>", "<p>Source: facebook</p>"]
    assert lines(none.text)[0] == '<a href="/checkout?">Checkout</a>'


async def test_click_id_from_the_first_click(site):
    files = page("""
        <script>
          const clickId = '{{ click_id }}';
        </script>
        <a href="/checkout?c={{ click_id }}">Buy Now</a>
    """)
    async with serve(site(files)) as client:
        none = await client.get("/p")
        first = await client.get("/p?click_id=abc-123")
        later = await client.get("/p?clickid=zzz")
        plain = await client.get("/p")
    assert "set-cookie" not in none.headers and 'c=">' in none.text
    assert "fr_session=" in first.headers["set-cookie"]  # the click id started a session
    for response in (first, later, plain):
        assert lines(response.text) == ["<script>", "const clickId = 'abc-123';", "</script>",
                                        '<a href="/checkout?c=abc-123">Buy Now</a>']


async def test_request_and_device_context(site):
    files = page("""
        @if(request.is_mobile)
          <p>You're on mobile — tap here to buy.</p>
        @endif
        @if(is_mobile && !is_tablet)
          <p>Phone-only offer.</p>
        @endif
        <p>Device: {{ request.device.type }}</p>
        <p>Mobile: {{ request.is_mobile }}</p>
        <p>Referrer: {{ request.referrer }}</p>
        <p>{{ request.device.vendor }} {{ request.device.model }} {{ request.device.os }}
           {{ request.device.browser.name }} {{ request.device.browser.version }}</p>
        <p>{{ request.referer == request.referrer }}</p>
    """)
    headers = {"user-agent": IPHONE, "referer": "https://news.example/story?id=7"}
    async with serve(site(files)) as client:
        response = await client.get("/p", headers=headers)
    assert lines(response.text) == [
        "<p>You're on mobile — tap here to buy.</p>", "<p>Phone-only offer.</p>",
        "<p>Device: mobile</p>", "<p>Mobile: true</p>",
        "<p>Referrer: https://news.example/story?id=7</p>", "<p>Apple iPhone iOS",
        "Mobile Safari 17.1</p>", "<p>true</p>"]


async def test_brand_settings_and_not(site):
    files = page("""
        @set(a = brand.mbg_days gt 30)
        @set(b = brand.support_phone eq '')
        @if(a and not b)
          <p>{{ brand.mbg_days }}-day guarantee: {{ brand.support_email }}, {{ brand.support_phone }}</p>
        @endif
        <p>{{ brand.name }} {{ brand.code }} {{ brand.currency }} {{ brand.timezone }} {{ brand.id }}</p>
    """)
    async with serve(site(files)) as client:
        response = await client.get("/p")
    assert lines(response.text) == [
        "<p>60-day guarantee: support@example.com, 1-800-123-4567</p>",
        "<p>My Company MYC USD America/New_York acme</p>"]


# -- the docs' script examples (backend-scripts/data-functions.mdx), unchanged --------------------


async def test_get_customer_and_get_user(site):
    files = {**LOGIN, **script_page("""
        var c = getCustomer();
        if (c && c.email) {
          console.log('Customer:', c.email);
        }
        var user = getUser();
        if (user.email) {
          setVariable('greeting', 'Welcome, ' + user.name);
        }
    """, "[{{ var.greeting }}]")}
    async with serve(site(files)) as client:
        anonymous = await client.get("/p")
        await client.get("/login")
        customer = await client.get("/p")
        script = await client.event(customer, "script")
    assert anonymous.text.strip() == "[]"
    assert customer.text.strip() == "[Welcome, John Doe]"
    assert [entry["text"] for entry in script["console"]] == ["Customer: john@example.com"]


async def test_session_items_between_scripts_and_templates(site):
    files = {
        "brands/acme/brand.toml": BRAND,
        "brands/acme/pages/quiz.html": """
            <script scope="backend">
              setSessionItem('preferred_plan', 'premium');
              setSessionItem('quiz_score', '85');
            </script>
            saved
        """,
        "brands/acme/pages/offer.html": """
            <script scope="backend">
              var plan = getSessionItem('preferred_plan');
              if (plan === 'premium') {
                setVariable('show_premium_banner', true);
              }
            </script>
            {{ var.show_premium_banner }}|{{ getSessionItem('quiz_score') }}|{{ session.custom_quiz_score }}
        """,
        "brands/acme/pages/template.html": "@setSessionItem('from_template', {n: 1})ok",
        "brands/acme/pages/read.html": """
            <script scope="backend">
              setVariable('t', getSessionItem('from_template'));
              clearSessionItem('preferred_plan');
            </script>
            {{ var.t | json }}|{{ getSessionItem('preferred_plan') }}|{{ getSessionItem('quiz_score') }}
        """,
    }
    async with serve(site(files)) as client:
        await client.get("/quiz")
        offer = await client.get("/offer")
        await client.get("/template")
        read = await client.get("/read")
        again = await client.get("/offer")
    assert offer.text.strip() == "true|85|85"
    assert unescape(read.text.strip()) == '{"n":1}||85'
    assert again.text.strip() == "|85|85"


async def test_a_refused_session_item_warns_and_the_page_still_renders(site):
    files = script_page("setVariable('ok', setSessionItem('big', 'x'.repeat(70000)));",
                        "[{{ var.ok }}]")
    async with serve(site(files)) as client:
        response = await client.get("/p")
        warnings = await client.warnings(response)
    assert response.text.strip() == "[false]"
    assert warnings == [("setSessionItem", "value is 70002 bytes; the limit is 65536")]


async def test_query_brand_and_device_in_scripts(site):
    files = script_page("""
        setVariable('q', query.aff_id);
        setVariable('b', [brand.name, brand.currency, brand.mbg_days, brand.support_email]);
        setVariable('d', [request.device.type, request.device.os, request.referrer]);
    """, "{{ var.q }}|{{ var.b | join:',' }}|{{ var.d | join:',' }}")
    headers = {"user-agent": IPHONE, "referer": "https://a.example/"}
    async with serve(site(files)) as client:
        response = await client.get("/p?aff_id=123", headers=headers)
    assert response.text.strip() == (
        "123|My Company,USD,60,support@example.com|mobile,iOS,https://a.example/")


async def test_a_script_that_never_says_device_gets_no_parse(site):
    files = script_page("setVariable('keys', Object.keys(request).filter((k) => k.length === 6));",
                        "{{ var.keys | join:',' }}")
    async with serve(site(files)) as client:
        response = await client.get("/p", headers={"user-agent": IPHONE})
    assert response.text.strip() == "method"  # and no "device"


async def test_a_script_sees_the_click_id_of_its_own_request(site):
    files = script_page("setVariable('c', session.get('click_id'));", "{{ var.c }}")
    async with serve(site(files)) as client:
        response = await client.get("/p?click_id=from-ad")
    assert response.text.strip() == "from-ad"


async def test_check_knows_every_new_name(site):
    files = {**LOGIN, **script_page("""
        var u = getUser(), c = getCustomer();
        setSessionItem('a', 1); getSessionItem('a'); clearSessionItem('a');
        setVariable('x', [query.a, brand.name, request.device, request.referer, u, c]);
    """, """
        {{ brand_name }} {{ domain }} {{ queryparams }} {{ customer_name }} {{ click_id }}
        {{ request.is_customer }} {{ request.referer }} {{ request.referrer }}
        {{ request.device.type }} {{ brand.support_email }} {{ var.a.b=none }}
        %DAY_NAME% %DAY% %DAY_POSTFIX% %MONTH_NAME% %MONTH% %YEAR% %HOUR% %CUSTOMER_FNAME%,
        @if(is_customer and not is_mobile) x @endif
    """)}
    assert check_site(site(files)) == []


# -- hostile input --------------------------------------------------------------------------------


DEVICE_PAGE = page("{{ request.device.type }}|{{ request.device.os }}|"
                   "{{ request.device.user_agent | length }}|{{ request.referrer }}")


async def test_a_huge_user_agent_is_read_in_part_and_quickly(site):
    huge = IPHONE + " (" * 40_000
    async with serve(site(DEVICE_PAGE)) as client:
        started = datetime.now()
        response = await client.get("/p", headers={"user-agent": huge})
        elapsed = (datetime.now() - started).total_seconds()
    assert response.status_code == 200 and elapsed < 2
    assert response.text == f"mobile|iOS|{len(huge)}|"


@pytest.mark.parametrize(("referer", "shown"), [
    ("javascript:alert(1)", "javascript:alert(1)"),  # text, escaped where printed: no link made
    ('"><script>alert(1)</script>', "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("https://a.example/\x01\x7f?x=1", "https://a.example/?x=1"),
    ("https://a.example/" + "x" * 5000, ""),
])
async def test_odd_referers_are_cleaned_bounded_and_escaped(site, referer, shown):
    async with serve(site(DEVICE_PAGE)) as client:
        response = await client.get("/p", headers={"referer": referer})
    assert response.text.split("|")[-1] == shown


@pytest.mark.parametrize("value", ["a%00b", "a%0D%0ASet-Cookie:%20x=1", "%3Cscript%3E",
                                   "x" * 300, "caf%C3%A9", "a%20b"])
async def test_malformed_click_ids_are_not_kept(site, value):
    files = page("[{{ click_id }}]")
    async with serve(site(files)) as client:
        response = await client.get(f"/p?click_id={value}")
        warnings = await client.warnings(response)
    assert response.text == "[]" and "set-cookie" not in response.headers
    assert warnings == [("?click_id", REFUSED)]


async def test_hostile_query_strings_print_as_url_safe_escaped_text(site):
    files = page('<a href="/next?{{ queryparams }}">next</a>')
    async with serve(site(files)) as client:
        response = await client.get("/p?a=%22%3E%3Cscript%3E&b='x'&c=é")
    href = re.search(r'href="([^"]*)"', response.text)
    assert href is not None
    assert href.group(1) == "/next?a=%22%3E%3Cscript%3E&amp;b=&#39;x&#39;&amp;c=%C3%A9"
