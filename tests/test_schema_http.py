"""Schema over HTTP: a signup form posted to a page whose script validates it with a schema a
module exports, the errors shown by the page's template."""

from __future__ import annotations

import json

import pytest

from conftest import serve

pytestmark = pytest.mark.anyio

FILES = {
    "brands/acme/modules/forms.js": """
export const signup = Schema.object({
  email: Schema.string().email().required().label("Email"),
  name: Schema.string().min(2).max(100).required(),
  age: Schema.number().integer().min(18),
  plan: Schema.string().valid("basic", "pro").default("basic"),
  newsletter: Schema.boolean().default(false),
  terms: Schema.boolean().required().strip()
    .custom((accepted) => (accepted ? undefined : "Please accept the terms")),
});
""",
    "brands/acme/pages/signup.html": """
<script scope="backend">
  import { signup } from "forms";

  if (request.method === "POST") {
    const result = signup.validate(request.body);
    if (result.valid) {
      session.set("signup", result.value);
      redirect("/welcome", 303);
    }
    response.status(422);
    setVariable("errors", result.errors);
    setVariable("form", result.value);
  }
</script>
@if(var.errors)
<ul class="errors">
@foreach(error in var.errors)
<li>{{ error }}</li>
@endforeach
</ul>
@endif
<form method="post"><input name="email" value="{{ var.form.email }}"></form>
""",
    "brands/acme/pages/welcome.html": """
<script scope="backend">setVariable("signup", session.get("signup"));</script>
<pre>{{ var.signup | json | raw }}</pre>
""",
}


def listed_errors(html: str) -> list[str]:
    return [line[4:-5] for line in html.splitlines() if line.startswith("<li>")]


async def test_a_signup_form_is_validated_and_its_errors_rendered(site):
    async with serve(site(FILES)) as client:
        empty = await client.get("/signup")
        invalid = await client.post("/signup", data={
            "email": "ann<at>example.com", "name": "A", "age": "17", "plan": "gold",
            "newsletter": "", "terms": "0"})
        valid = await client.post("/signup", data={
            "email": "ann@example.com", "name": "Ann", "age": "42", "plan": "",
            "newsletter": "1", "terms": "true", "is_admin": "1"})
        welcome = await client.get("/welcome")
    assert empty.status_code == 200 and "errors" not in empty.text
    assert invalid.status_code == 422
    assert listed_errors(invalid.text) == [
        "Email must be a valid email address", "name must be at least 2 characters",
        "age must be at least 18", "plan must be one of: basic, pro", "Please accept the terms"]
    assert 'value="ann&lt;at&gt;example.com"' in invalid.text  # echoed back, escaped
    assert valid.status_code == 303 and valid.headers["location"] == "/welcome"
    shown = welcome.text.split("<pre>")[1].split("</pre>")[0]
    assert json.loads(shown) == {"email": "ann@example.com", "name": "Ann", "age": 42,
                                 "plan": "basic", "newsletter": True}


async def test_a_json_post_to_a_validating_endpoint(site):
    files = {"brands/acme/pages/api/lead.html": """
<script scope="backend">
  const schema = Schema.object({
    email: Schema.string().email().required(),
    tags: Schema.array().items(Schema.string().lowercase()).max(3),
  });
  const result = schema.validate(request.body);
  if (!result.valid) {
    response.status(400);
    response.json({ ok: false, errors: result.errors });
  }
  response.json({ ok: true, data: result.value });
</script>
"""}
    async with serve(site(files)) as client:
        bad = await client.post("/api/lead", json={"tags": ["A", 1]})
        good = await client.post("/api/lead", json={"email": "a@b.co", "tags": ["x"], "y": 1})
        get = await client.get("/api/lead")
    assert bad.status_code == 400
    assert bad.json() == {"ok": False, "errors": [
        "email is required", "tags[0] must be lowercase", "tags[1] must be a string"]}
    assert good.json() == {"ok": True, "data": {"email": "a@b.co", "tags": ["x"]}}
    assert get.status_code == 400 and get.json()["errors"] == ["email is required"]


async def test_a_misspelt_modifier_is_reported_at_its_line_and_the_page_still_renders(site):
    files = {"brands/acme/pages/t.html":
             '<script scope="backend">\nconst s = Schema.object({\n'
             '  email: Schema.string().requird(),\n});\n</script>\npage'}
    async with serve(site(files)) as client:
        response = await client.get("/t")
        event = await client.event(response, "script")
    assert response.status_code == 200 and response.text.strip() == "page"
    assert event["outcome"] == "error"
    assert event["error"]["message"].startswith(
        "TypeError: Schema.string() has no modifier 'requird'; did you mean required()?")
    assert (event["error"]["file"], event["error"]["line"]) == ("brands/acme/pages/t.html", 3)
