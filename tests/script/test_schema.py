"""The global `Schema` validator (schema.js), run through real executor processes: every type,
modifier, coercion and message, the docs' examples, and what a hostile script cannot change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelrun.errors import Position
from funnelrun.jsondata import MAX_DEPTH

from .conftest import PAGE, REQUEST, Sandbox


def variables(result) -> dict[str, Any]:
    assert result.outcome == "ok", result.error
    return dict(result.effects.variables)


def check(sandbox: Sandbox, schema: str, data: Any = None, *, js: str | None = None
          ) -> dict[str, Any]:
    """`schema.validate(data)` in a script: {valid, value, errors} (no "value" when undefined).
    `js` is the data as JavaScript, for what JSON cannot say (undefined, NaN)."""
    argument = js if js is not None else json.dumps(data)
    result = sandbox(f"setVariable('r', ({schema}).validate({argument}));")
    return variables(result)["r"]


def errors(sandbox: Sandbox, schema: str, data: Any = None, **options: Any) -> list[str]:
    return check(sandbox, schema, data, **options)["errors"]


def value(sandbox: Sandbox, schema: str, data: Any = None, **options: Any) -> Any:
    result = check(sandbox, schema, data, **options)
    assert result["valid"], result["errors"]
    return result["value"]


# -- types and coercion --------------------------------------------------------------------------


def test_string_accepts_strings_only(sandbox: Sandbox) -> None:
    assert value(sandbox, "Schema.string()", "hi") == "hi"
    assert errors(sandbox, "Schema.object({ name: Schema.string() })", {"name": 42}) == [
        "name must be a string"]
    assert errors(sandbox, "Schema.string()", True) == ["value must be a string"]


@pytest.mark.parametrize(("given", "expected"), [
    (42, 42), (-3.5, -3.5), ("42", 42), ("3.14", 3.14), (" 7 ", 7), ("-1e3", -1000),
    ("+.5", 0.5), ("0", 0), ("007", 7),
])
def test_number_accepts_numbers_and_coerces_decimal_text(sandbox: Sandbox, given: Any,
                                                         expected: float) -> None:
    assert value(sandbox, "Schema.number()", given) == expected


@pytest.mark.parametrize("given", [
    '"hello"', '"0x10"', '"Infinity"', '"1,5"', '"1.2.3"', '" "', "NaN", "Infinity", "true",
    "[1]", "({})", '"1e999"',
])
def test_number_refuses_what_is_not_a_finite_decimal_number(sandbox: Sandbox, given: str) -> None:
    assert errors(sandbox, "Schema.object({ age: Schema.number() })", js=f"{{ age: {given} }}") \
        == ["age must be a number"]


@pytest.mark.parametrize(("given", "expected"), [
    (True, True), (False, False), ("true", True), ("1", True), ("false", False), ("0", False),
])
def test_boolean_accepts_booleans_and_four_words(sandbox: Sandbox, given: Any,
                                                 expected: bool) -> None:
    assert value(sandbox, "Schema.boolean()", given) is expected


@pytest.mark.parametrize("given", ["yes", "on", "TRUE", 1, 0, "2"])
def test_boolean_refuses_anything_else(sandbox: Sandbox, given: Any) -> None:
    assert errors(sandbox, "Schema.object({ ok: Schema.boolean() })", {"ok": given}) == [
        "ok must be a boolean"]


def test_array_and_object_refuse_each_other(sandbox: Sandbox) -> None:
    schema = "Schema.object({ tags: Schema.array(), user: Schema.object({}) })"
    assert errors(sandbox, schema, {"tags": {"a": 1}, "user": [1]}) == [
        "tags must be an array", "user must be an object"]
    assert errors(sandbox, schema, {"tags": "a,b", "user": "ann"}) == [
        "tags must be an array", "user must be an object"]


def test_object_keeps_only_its_keys(sandbox: Sandbox) -> None:
    schema = "Schema.object({ email: Schema.string(), age: Schema.number() })"
    assert value(sandbox, schema, {"email": "a@b.co", "age": "30", "is_admin": True}) == {
        "email": "a@b.co", "age": 30}


def test_object_without_a_key_map_keeps_every_key_and_an_empty_map_none(sandbox: Sandbox) -> None:
    data = {"a": 1, "b": {"c": [1, "x"]}}
    assert value(sandbox, "Schema.object()", data) == data
    assert value(sandbox, "Schema.object({})", data) == {}


def test_any_accepts_every_value(sandbox: Sandbox) -> None:
    result = sandbox("""
        const any = Schema.any();
        setVariable('r', [1, 'x', true, [1, {a: 2}], {b: null}].map((v) => any.validate(v)));
    """)
    assert [r["value"] for r in variables(result)["r"]] == [1, "x", True, [1, {"a": 2}],
                                                             {"b": None}]


# -- presence: required, optional, default -------------------------------------------------------


def test_required_refuses_missing_null_and_empty_text(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ a: Schema.string().required(), b: Schema.number().required(), "
              "c: Schema.any().required(), d: Schema.boolean().required() })")
    assert errors(sandbox, schema, {"a": "", "b": None, "c": ""}) == [
        "a is required", "b is required", "c is required", "d is required"]


def test_false_and_zero_are_present(sandbox: Sandbox) -> None:
    schema = "Schema.object({ ok: Schema.boolean().required(), n: Schema.number().required() })"
    assert value(sandbox, schema, {"ok": False, "n": 0}) == {"ok": False, "n": 0}


def test_optional_is_the_default_and_undoes_required(sandbox: Sandbox) -> None:
    schema = "Schema.object({ a: Schema.string(), b: Schema.string().required().optional() })"
    assert value(sandbox, schema, {}) == {}


def test_absent_optional_values_are_left_out_null_kept_empty_text_kept_for_strings(
        sandbox: Sandbox) -> None:
    schema = ("Schema.object({ a: Schema.number(), b: Schema.number(), c: Schema.string(), "
              "d: Schema.number(), e: Schema.any() })")
    assert value(sandbox, schema, {"b": None, "c": "", "d": "", "e": ""}) == {
        "b": None, "c": "", "e": ""}


def test_empty_text_is_absent_so_checks_skip_and_defaults_apply(sandbox: Sandbox) -> None:
    """A form posts "" for a field left empty: an optional field must accept it."""
    schema = ("Schema.object({ email: Schema.string().email(), age: Schema.number().min(18), "
              "plan: Schema.string().valid('basic', 'pro').default('basic'), "
              "news: Schema.boolean().default(false) })")
    assert value(sandbox, schema, {"email": "", "age": "", "plan": "", "news": ""}) == {
        "email": "", "plan": "basic", "news": False}


def test_default_applies_to_missing_and_null_only(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ a: Schema.number().default(1), b: Schema.number().default(1), "
              "c: Schema.number().default(1) })")
    assert value(sandbox, schema, {"b": None, "c": 5}) == {"a": 1, "b": 1, "c": 5}


def test_a_default_is_validated_so_nested_defaults_apply(sandbox: Sandbox) -> None:
    schema = """Schema.object({
        preferences: Schema.object({
            notifications: Schema.boolean().default(true),
            theme: Schema.string().valid('light', 'dark').default('light'),
        }).default({}),
    })"""
    assert value(sandbox, schema, {}) == {"preferences": {"notifications": True,
                                                          "theme": "light"}}
    assert value(sandbox, schema, {"preferences": {"theme": "dark"}}) == {
        "preferences": {"notifications": True, "theme": "dark"}}


def test_a_wrong_default_is_reported_like_a_wrong_value(sandbox: Sandbox) -> None:
    assert errors(sandbox, "Schema.object({ n: Schema.number().default('many') })", {}) == [
        "n must be a number"]


def test_a_default_is_copied_every_time(sandbox: Sandbox) -> None:
    result = sandbox("""
        const fallback = { tags: ['a'] };
        const schema = Schema.object({ prefs: Schema.object().default(fallback) });
        const first = schema.validate({}).value;
        first.prefs.tags.push('changed');
        fallback.tags.push('later');
        setVariable('r', [schema.validate({}).value, first]);
    """)
    assert variables(result)["r"] == [{"prefs": {"tags": ["a"]}},
                                      {"prefs": {"tags": ["a", "changed"]}}]


def test_validating_null_or_nothing_with_an_object_schema_validates_an_empty_object(
        sandbox: Sandbox) -> None:
    """On a GET, request.body is null: required keys report, nothing throws."""
    schema = "Schema.object({ email: Schema.string().required(), n: Schema.number().default(2) })"
    for data in ("null", "undefined", "request.body"):
        assert check(sandbox, schema, js=data) == {
            "valid": False, "value": {"n": 2}, "errors": ["email is required"]}


def test_validating_nothing_with_other_schemas(sandbox: Sandbox) -> None:
    assert check(sandbox, "Schema.string()", js="undefined") == {"valid": True, "errors": []}
    assert errors(sandbox, "Schema.string().required()", js="undefined") == [
        "value is required"]
    assert value(sandbox, "Schema.number().default(3)", None) == 3


# -- labels and paths ----------------------------------------------------------------------------


def test_errors_name_the_key_path(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ user: Schema.object({ email: Schema.string().required(), "
              "address: Schema.object({ zip: Schema.string() }) }), "
              "tags: Schema.array().items(Schema.string()) })")
    data = {"user": {"address": {"zip": 12345}}, "tags": ["a", "b", 3]}
    assert errors(sandbox, schema, data) == [
        "user.email is required", "user.address.zip must be a string", "tags[2] must be a string"]


def test_a_label_replaces_the_path_in_its_own_messages(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ email: Schema.string().email().required().label('E-mail'), "
              "address: Schema.object({ zip: Schema.number() }).label('Address') })")
    assert errors(sandbox, schema, {"address": {"zip": "x"}}) == [
        "E-mail is required", "address.zip must be a number"]
    assert errors(sandbox, schema, {"email": "x", "address": 5}) == [
        "E-mail must be a valid email address", "Address must be an object"]


def test_a_top_level_value_is_called_value_or_its_label(sandbox: Sandbox) -> None:
    assert errors(sandbox, "Schema.array().items(Schema.number())", ["x"]) == [
        "value[0] must be a number"]
    assert errors(sandbox, "Schema.array().label('Scores').items(Schema.number())", ["x"]) == [
        "Scores[0] must be a number"]
    assert errors(sandbox, "Schema.number().min(1).label('Qty')", 0) == ["Qty must be at least 1"]


# -- valid, min, max -----------------------------------------------------------------------------


def test_valid_lists_the_allowed_values(sandbox: Sandbox) -> None:
    schema = "Schema.object({ plan: Schema.string().valid('basic', 'pro') })"
    assert value(sandbox, schema, {"plan": "pro"}) == {"plan": "pro"}
    assert errors(sandbox, schema, {"plan": "gold"}) == ["plan must be one of: basic, pro"]


def test_valid_takes_an_array_adds_up_and_compares_the_coerced_value(sandbox: Sandbox) -> None:
    assert value(sandbox, "Schema.number().valid([1, 2]).valid(3)", "3") == 3
    assert errors(sandbox, "Schema.number().valid([1, 2]).valid(3)", "4") == [
        "value must be one of: 1, 2, 3"]
    assert value(sandbox, "Schema.any().valid('a', 1, null, true)", True) is True
    assert errors(sandbox, "Schema.boolean().valid(true)", "0") == [
        "value must be one of: true"]


@pytest.mark.parametrize(("schema", "given", "message"), [
    ("Schema.string().min(2)", "a", "value must be at least 2 characters"),
    ("Schema.string().min(1).min(3)", "ab", "value must be at least 3 characters"),
    ("Schema.string().max(1)", "ab", "value must be at most 1 character"),
    ("Schema.number().min(18)", 17, "value must be at least 18"),
    ("Schema.number().max(0.5)", "0.6", "value must be at most 0.5"),
    ("Schema.array().min(2)", [1], "value must have at least 2 items"),
    ("Schema.array().max(1)", [1, 2], "value must have at most 1 item"),
])
def test_min_and_max(sandbox: Sandbox, schema: str, given: Any, message: str) -> None:
    assert errors(sandbox, schema, given) == [message]


def test_bounds_are_inclusive(sandbox: Sandbox) -> None:
    assert value(sandbox, "Schema.string().min(2).max(2)", "ab") == "ab"
    assert value(sandbox, "Schema.number().min(18).max(18)", 18) == 18
    assert value(sandbox, "Schema.array().min(1).max(1)", [0]) == [0]


def test_string_length_counts_utf16_code_units(sandbox: Sandbox) -> None:
    assert value(sandbox, "Schema.string().max(2)", "😀") == "😀"
    assert errors(sandbox, "Schema.string().max(1)", "😀") == ["value must be at most 1 character"]
    assert value(sandbox, "Schema.string().min(3).max(3)", "é😀") == "é😀"


# -- string checks ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [
    "ann@example.com", "first.last+tag@sub.example.co.uk", "x@y.io", "ünï@exämple.de",
    "a" * 64 + "@example.com",
])
def test_email_accepts(sandbox: Sandbox, email: str) -> None:
    assert value(sandbox, "Schema.string().email()", email) == email


@pytest.mark.parametrize("email", [
    "plain", "@example.com", "ann@", "ann@example", "ann@@example.com", "ann@exa mple.com",
    "an n@example.com", "ann@example..com", "ann@.example.com", "ann@example.com.",
    "<ann>@example.com", "ann@example.com\n", "a" * 65 + "@example.com",
    "ann@" + "a" * 250 + ".com",
])
def test_email_refuses(sandbox: Sandbox, email: str) -> None:
    assert errors(sandbox, "Schema.string().email()", email) == [
        "value must be a valid email address"]


@pytest.mark.parametrize("url", [
    "https://example.com", "http://example.com/a/b?c=1#d", "HTTPS://EXAMPLE.COM",
    "http://localhost:8080/", "https://[2001:db8::1]/x", "https://münchen.de/ä",
])
def test_url_accepts_http_and_https(sandbox: Sandbox, url: str) -> None:
    assert value(sandbox, "Schema.string().url()", url) == url


@pytest.mark.parametrize("url", [
    "ftp://example.com", "javascript:alert(1)", "//example.com", "example.com", "https://",
    "https:///path", "http://user:pw@example.com/", "https://exa mple.com", "http://x:99999/",
    "https://example.com/a b", "data:text/html,x", "http:\\\\example.com",
])
def test_url_refuses_other_schemes_and_malformed_urls(sandbox: Sandbox, url: str) -> None:
    assert errors(sandbox, "Schema.string().url()", url) == [
        "value must be a valid http or https URL"]


def test_pattern(sandbox: Sandbox) -> None:
    schema = "Schema.string().pattern(/^[A-Z]{2}\\d{3}$/)"
    assert value(sandbox, schema, "AB123") == "AB123"
    assert errors(sandbox, schema, "AB12") == ["value has an invalid format"]


def test_patterns_add_up(sandbox: Sandbox) -> None:
    schema = "Schema.string().pattern(/a/).pattern(/b/)"
    assert errors(sandbox, schema, "a") == ["value has an invalid format"]
    assert errors(sandbox, schema, "c") == ["value has an invalid format"] * 2


def test_a_global_pattern_answers_the_same_every_time(sandbox: Sandbox) -> None:
    result = sandbox("""
        const regex = /^a+$/g, schema = Schema.string().pattern(regex);
        setVariable('r', [1, 2, 3].map(() => schema.validate('aaa').valid));
        setVariable('i', regex.lastIndex);
    """)
    assert variables(result) == {"r": [True, True, True], "i": 0}


def test_lowercase_checks_and_does_not_convert(sandbox: Sandbox) -> None:
    assert value(sandbox, "Schema.string().lowercase()", "ann-42") == "ann-42"
    assert check(sandbox, "Schema.string().lowercase()", "Ann") == {
        "valid": False, "value": "Ann", "errors": ["value must be lowercase"]}


# -- number checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(("schema", "good", "bad", "message"), [
    ("Schema.number().integer()", "42", 4.5, "value must be an integer"),
    ("Schema.number().positive()", 0.1, 0, "value must be positive"),
    ("Schema.number().negative()", "-1", 0, "value must be negative"),
])
def test_integer_positive_negative(sandbox: Sandbox, schema: str, good: Any, bad: Any,
                                   message: str) -> None:
    assert check(sandbox, schema, good)["valid"]
    assert errors(sandbox, schema, bad) == [message]


# -- arrays and objects --------------------------------------------------------------------------


def test_items_validates_and_coerces_every_element(sandbox: Sandbox) -> None:
    schema = "Schema.array().items(Schema.number().min(1)).max(3)"
    assert value(sandbox, schema, ["1", 2, "3.5"]) == [1, 2, 3.5]
    assert errors(sandbox, schema, ["0", "x", 1, 2]) == [
        "value[0] must be at least 1", "value[1] must be a number",
        "value must have at most 3 items"]


def test_items_of_objects(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ lines: Schema.array().min(1).items(Schema.object({ "
              "sku: Schema.string().required(), qty: Schema.number().integer().default(1) })) })")
    assert value(sandbox, schema, {"lines": [{"sku": "a"}, {"sku": "b", "qty": "2", "x": 1}]}) \
        == {"lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}
    assert errors(sandbox, schema, {"lines": [{"qty": 1.5}]}) == [
        "lines[0].sku is required", "lines[0].qty must be an integer"]


def test_pattern_values_validates_every_value_whatever_its_key(sandbox: Sandbox) -> None:
    schema = "Schema.object({ scores: Schema.object({}).pattern_values(Schema.number().min(0)) })"
    assert value(sandbox, schema, {"scores": {"math": "90", "art": 75}}) == {
        "scores": {"math": 90, "art": 75}}
    assert errors(sandbox, schema, {"scores": {"math": -1, "art": "x"}}) == [
        "scores.math must be at least 0", "scores.art must be a number"]


def test_pattern_values_leaves_named_keys_to_their_own_rules(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ id: Schema.string() })"
              ".pattern_values(Schema.number())")
    assert value(sandbox, schema, {"id": "x", "a": "1"}) == {"id": "x", "a": 1}


def test_strip_validates_but_leaves_the_key_out(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ email: Schema.string(), "
              "terms: Schema.boolean().valid(true).required().strip(), "
              "tags: Schema.array().items(Schema.string()) })")
    assert value(sandbox, schema, {"email": "a@b.co", "terms": "1"}) == {"email": "a@b.co"}
    assert check(sandbox, schema, {"email": "a@b.co", "terms": "0"}) == {
        "valid": False, "value": {"email": "a@b.co"}, "errors": ["terms must be one of: true"]}
    assert value(sandbox, "Schema.array().items(Schema.any().strip())", [1, 2]) == []
    assert check(sandbox, "Schema.string().strip()", "x") == {"valid": True, "errors": []}


# -- custom ------------------------------------------------------------------------------------


def test_custom_gets_the_coerced_value_and_the_label(sandbox: Sandbox) -> None:
    result = sandbox("""
        const seen = [];
        const schema = Schema.object({
          age: Schema.number().custom((value, label) => { seen.push([value, label]); }),
          start: Schema.string().label('Start date').custom((value, label) => {
            seen.push([value, label]);
            if (isNaN(Date.parse(value))) return label + ' must be a valid date';
          }),
        });
        setVariable('r', [schema.validate({ age: '42', start: 'soon' }), seen]);
    """)
    assert variables(result)["r"] == [
        {"valid": False, "value": {"age": 42, "start": "soon"},
         "errors": ["Start date must be a valid date"]},
        [[42, "age"], ["soon", "Start date"]]]


def test_custom_runs_only_after_the_built_in_checks_pass(sandbox: Sandbox) -> None:
    result = sandbox("""
        let calls = 0;
        const schema = Schema.string().min(3).custom((v) => { calls++; return 'custom said no'; });
        setVariable('r', [schema.validate(5).errors, schema.validate('ab').errors,
                          schema.validate('').errors, schema.validate('abc').errors, calls]);
    """)
    assert variables(result)["r"] == [["value must be a string"],
                                      ["value must be at least 3 characters"], [],
                                      ["custom said no"], 1]


def test_custom_answers(sandbox: Sandbox) -> None:
    result = sandbox("""
        const answers = [undefined, null, true, '', 'too short', false, 0, {}];
        setVariable('r', answers.map((a) => Schema.any().label('x').custom(() => a)
                                                  .validate(1).errors));
    """)
    assert variables(result)["r"] == [[], [], [], [], ["too short"], ["x is invalid"],
                                      ["x is invalid"], ["x is invalid"]]


def test_customs_add_up_and_an_object_custom_sees_the_whole_value(sandbox: Sandbox) -> None:
    result = sandbox("""
        const schema = Schema.object({ password: Schema.string().min(8), again: Schema.string() })
          .custom((v) => (v.password === v.again ? undefined : 'the passwords differ'))
          .custom((v) => (v.password === 'password' ? 'too easy' : undefined));
        setVariable('r', [schema.validate({ password: 'password', again: 'passw0rd' }).errors,
                          schema.validate({ password: 'short', again: 'x' }).errors]);
    """)
    assert variables(result)["r"] == [["the passwords differ", "too easy"],
                                      ["password must be at least 8 characters"]]


def test_an_error_thrown_in_a_custom_function_points_at_that_function(sandbox: Sandbox) -> None:
    result = sandbox("const schema = Schema.string().custom((v) => {\n"
                     "  throw new Error('custom broke');\n"
                     "});\n"
                     "schema.validate('x');")
    assert result.outcome == "error"
    assert result.error.message == "Error: custom broke"
    assert result.error.position == Position(PAGE, 2, 13)


def test_frames_of_schema_js_carry_no_position_and_no_prelude_frame_lies_beneath(
        sandbox: Sandbox) -> None:
    """Only the script's own frames have a line: schema.js is loaded stripped of positions, so
    none of its frames can be mapped onto a line of the script's files."""
    result = sandbox("let stack = '';\n"
                     "Schema.object({ a: Schema.string().custom(() => { stack = new Error().stack; "
                     "}) })\n"
                     "  .validate({ a: 'x' });\n"
                     "setVariable('frames', stack.trim().split('\\n').map((l) => l.trim()));")
    frames = variables(result)["frames"]
    positioned = [frame for frame in frames if "<input>:" in frame]
    assert len(positioned) == 2 and frames[0] == positioned[0] and frames[-1] == positioned[1]
    assert [frame.split(" ")[1] for frame in frames[1:-1]] == [
        "node", "objectValue", "node", "validate"]
    assert all(frame.endswith("(<null>:0:1)") for frame in frames[1:-1])


# -- what validate() hands back -----------------------------------------------------------------


def test_every_error_is_collected_in_order(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ email: Schema.string().email().required(), "
              "name: Schema.string().min(2).pattern(/^[a-z]+$/).lowercase(), "
              "age: Schema.number().integer().min(18) })")
    assert errors(sandbox, schema, {"email": "x", "name": "A", "age": "12.5"}) == [
        "email must be a valid email address", "name must be at least 2 characters",
        "name has an invalid format", "name must be lowercase", "age must be an integer",
        "age must be at least 18"]


def test_an_invalid_value_comes_back_partly_coerced(sandbox: Sandbox) -> None:
    schema = ("Schema.object({ age: Schema.number(), n: Schema.number(), "
              "list: Schema.array().items(Schema.number()) })")
    assert check(sandbox, schema, {"age": "42", "n": "many", "list": ["1", "x"], "z": 1}) == {
        "valid": False, "value": {"age": 42, "n": "many", "list": [1, "x"]},
        "errors": ["n must be a number", "list[1] must be a number"]}


def test_the_input_is_never_changed_and_the_value_is_a_copy(sandbox: Sandbox) -> None:
    result = sandbox("""
        const input = { age: '42', tags: ['a'], meta: { x: [1] }, extra: 1 };
        const schema = Schema.object({ age: Schema.number(), tags: Schema.array(),
                                       meta: Schema.any() });
        const { value } = schema.validate(input);
        value.tags.push('b');
        value.meta.x.push(2);
        setVariable('r', [input, value]);
    """)
    assert variables(result)["r"] == [
        {"age": "42", "tags": ["a"], "meta": {"x": [1]}, "extra": 1},
        {"age": 42, "tags": ["a", "b"], "meta": {"x": [1, 2]}}]


def test_request_body_is_validated_as_it_is_and_left_alone(sandbox: Sandbox) -> None:
    result = sandbox("""
        const result = Schema.object({ qty: Schema.number() }).validate(request.body);
        result.value.qty++;
        setVariable('r', [result.value, request.body]);
    """, request={**REQUEST, "method": "POST", "body": {"qty": "2", "x": "y"}})
    assert variables(result)["r"] == [{"qty": 3}, {"qty": "2", "x": "y"}]


def test_schemas_are_immutable(sandbox: Sandbox) -> None:
    result = sandbox("""
        const name = Schema.string();
        const required = name.required(), short = name.max(2);
        name.required = 1;  // sloppy mode: ignored
        setVariable('r', [name.validate(undefined).valid, required.validate(undefined).valid,
                          name.validate('abc').valid, short.validate('abc').valid,
                          Object.isFrozen(name), Object.isFrozen(Schema)]);
    """)
    assert variables(result)["r"] == [True, False, True, False, True, True]


def test_keys_like_proto_are_ordinary_keys(sandbox: Sandbox) -> None:
    result = sandbox("""
        const schema = Schema.object({ ['__proto__']: Schema.object({ x: Schema.number() }),
                                       constructor: Schema.string().required() });
        const result = schema.validate(JSON.parse('{"__proto__": {"x": "1"}}'));
        setVariable('r', [result.errors, Object.keys(result.value),
                          Object.getPrototypeOf(result.value) === Object.prototype,
                          result.value.__proto__ === Object.prototype]);
    """)
    assert variables(result)["r"] == [["constructor is required"], ["__proto__"], True, False]


# -- misspelt modifiers and wrong arguments: a TypeError at the script's line --------------------


def failure(sandbox: Sandbox, code: str):
    result = sandbox(code)
    assert result.outcome == "error"
    return result.error


def test_a_misspelt_modifier_names_itself_the_modifiers_and_the_line(sandbox: Sandbox) -> None:
    error = failure(sandbox, "const ok = Schema.string();\nconst s = Schema.string().requird();")
    assert error.message == (
        "TypeError: Schema.string() has no modifier 'requird'; did you mean required()? "
        "(string modifiers: required, optional, default, label, valid, strip, custom, min, max, "
        "email, url, pattern, lowercase; and validate())")
    assert error.position == Position(PAGE, 2, 18)  # QuickJS points into the chain


@pytest.mark.parametrize(("code", "message"), [
    ("Schema.number().lowercase()",
     "Schema.number() has no modifier 'lowercase' (number modifiers: required, optional, "
     "default, label, valid, strip, custom, min, max, integer, positive, negative; "
     "and validate())"),
    ("Schema.object({}).patternValues(Schema.any())",
     "Schema.object() has no modifier 'patternValues'; did you mean pattern_values()? "
     "(object modifiers: required, optional, default, label, valid, strip, custom, "
     "pattern_values; and validate())"),
    ("Schema.any().validat(1)",
     "Schema.any() has no modifier 'validat'; did you mean validate()? (any modifiers: "
     "required, optional, default, label, valid, strip, custom; and validate())"),
    ("Schema.strng()", "Schema has no type 'strng'; did you mean string()? "
     "(types: string, number, boolean, array, object, any)"),
    ("Schema.string().min(-1)",
     "Schema.string().min() needs a whole number, 0 or more, got -1"),
    ("Schema.number().max('9')", "Schema.number().max() needs a finite number, got \"9\""),
    ("Schema.string().pattern('^a$')",
     "Schema.string().pattern() needs a regular expression such as /^[a-z]+$/, got \"^a$\""),
    ("Schema.object({ a: Schema.string(), b: 'text' })",
     "Schema.object(): 'b' must be a schema such as Schema.string(), got \"text\""),
    ("Schema.object([Schema.string()])",
     "Schema.object() needs an object of schemas, such as Schema.object({ email: "
     "Schema.string() }), got an array"),
    ("Schema.array().items(String)",
     "Schema.array().items() needs a schema such as Schema.string(), got a function"),
    ("Schema.string().custom('no')",
     "Schema.string().custom() needs a function (value, label), got \"no\""),
    ("Schema.string().label(3)", "Schema.string().label() needs a name (a string), got 3"),
    ("Schema.string().valid()", "Schema.string().valid() needs at least one value, got undefined"),
    ("const { validate } = Schema.string(); validate(1)",
     "validate() must be called on a schema, as in Schema.string().validate()"),
    ("Schema.string().email.call(Schema.number())",
     "Schema.number() has no modifier 'email' (number modifiers: required, optional, default, "
     "label, valid, strip, custom, min, max, integer, positive, negative; and validate())"),
])
def test_mistakes_in_building_a_schema_are_type_errors(sandbox: Sandbox, code: str,
                                                       message: str) -> None:
    error = failure(sandbox, "\n\n" + code)
    assert error.message == "TypeError: " + message
    assert error.position is not None and (error.position.filename, error.position.line) == (PAGE, 3)


def test_names_of_ordinary_objects_still_work_on_schemas(sandbox: Sandbox) -> None:
    result = sandbox("""
        const s = Schema.string();
        setVariable('r', [String(s), JSON.stringify(s), typeof s.then, s.hasOwnProperty('x'),
                          s instanceof Object, typeof s[Symbol.iterator], Object.keys(Schema)]);
        console.log(s);
        return s;  // a promise resolving to it reads its `then`
    """)
    assert variables(result)["r"] == ["[object Object]", "{}", "undefined", False, True,
                                      "undefined", ["string", "number", "boolean", "array",
                                                    "object", "any"]]


# -- bounded ------------------------------------------------------------------------------------


NEST = "const nest = (n) => { let v = 1; for (let i = 0; i < n; i++) v = [v]; return v; };"


def test_values_nested_deeper_than_the_limit_are_an_error(sandbox: Sandbox) -> None:
    result = sandbox(f"""{NEST}
        const any = Schema.object({{ data: Schema.any() }});
        setVariable('r', [any.validate({{ data: nest({MAX_DEPTH - 1}) }}).valid,
                          any.validate({{ data: nest({MAX_DEPTH}) }}).errors,
                          Schema.any().validate(nest(1000)).errors]);
    """)
    too_deep = f"is nested too deep (more than {MAX_DEPTH} levels of arrays and objects)"
    assert variables(result)["r"] == [
        True, ["data" + "[0]" * (MAX_DEPTH - 1) + " " + too_deep],
        ["value" + "[0]" * MAX_DEPTH + " " + too_deep]]


def test_a_value_that_contains_itself_is_an_error(sandbox: Sandbox) -> None:
    result = sandbox("""
        const a = { name: 'a' }; a.self = a; a.again = a; a.list = [a, a];
        setVariable('r', Schema.any().validate(a).errors);
    """)
    assert variables(result)["r"] == ["self contains itself", "again contains itself",
                                      "list[0] contains itself", "list[1] contains itself"]


def test_a_deep_schema_stops_at_the_limit(sandbox: Sandbox) -> None:
    result = sandbox(f"""{NEST}
        let schema = Schema.number();
        for (let i = 0; i < 80; i++) schema = Schema.array().items(schema);
        setVariable('r', schema.validate(nest(80)).errors);
    """)
    assert variables(result)["r"] == ["value" + "[0]" * MAX_DEPTH + " is nested too deep (more "
                                      f"than {MAX_DEPTH} levels of arrays and objects)"]


# -- a script that tampers with the built-ins first ----------------------------------------------


def test_replaced_globals_and_prototypes_do_not_change_validation(sandbox: Sandbox) -> None:
    result = sandbox("""
        const schema = Schema.object({
          email: Schema.string().email().required(),
          age: Schema.number().integer().min(18),
          tags: Schema.array().items(Schema.string().lowercase()),
          site: Schema.string().url(),
          code: Schema.string().pattern(/^[a-z]+$/),
        });
        const define = Object.defineProperty;
        const calls = Object.create(null);  // no array: its push and index setter are spied on
        const spy = (name) => function () { calls[name] = (calls[name] || 0) + 1; };
        Array.prototype.push = spy('push');
        Array.isArray = spy('isArray');
        Object.keys = spy('keys');
        Object.hasOwn = spy('hasOwn');
        Object.defineProperty = spy('defineProperty');
        Object.freeze = spy('freeze');
        String.prototype.trim = spy('trim');
        String.prototype.toLowerCase = spy('toLowerCase');
        RegExp.prototype.exec = spy('exec');
        RegExp.prototype.test = spy('test');
        Function.prototype.call = spy('call');
        Function.prototype.apply = spy('apply');
        Number.isFinite = spy('isFinite');
        Number.isInteger = spy('isInteger');
        globalThis.Number = spy('Number');
        globalThis.JSON = { stringify: spy('stringify') };
        WeakMap.prototype.get = spy('get');
        Reflect.get = spy('Reflect.get');
        define(Object.prototype, 'email', { set(v) { calls.setter = 1; }, configurable: true });
        define(Object.prototype, 'get', { value: () => 1, configurable: true });
        define(Array.prototype, '0', { set(v) { calls.index = 1; }, configurable: true });
        const good = schema.validate({ email: 'a@b.co', age: ' 20 ', tags: ['x'],
                                       site: 'https://a.test', code: 'abc' });
        const bad = schema.validate({ age: '17.5', tags: ['X'], site: 'ftp://a', code: '1' });
        delete Object.prototype.get;
        delete Object.prototype.email;
        delete Array.prototype[0];
        setVariable('r', [good.valid, good.value.email, good.value.age, good.value.tags,
                          bad.errors, calls]);
    """)
    assert variables(result)["r"] == [
        True, "a@b.co", 20, ["x"],
        ["email is required", "age must be an integer", "age must be at least 18",
         "tags[0] must be lowercase", "site must be a valid http or https URL",
         "code has an invalid format"], {}]


def test_the_global_cannot_be_replaced(sandbox: Sandbox) -> None:
    result = sandbox("""
        Schema = null;
        let thrown = null;
        try { (() => { 'use strict'; Schema = null; })(); } catch (e) { thrown = e.name; }
        delete globalThis.Schema;
        setVariable('r', [typeof Schema.string, thrown]);
    """)
    assert variables(result)["r"] == ["function", "TypeError"]


# -- loading: part of every run's snapshot ---------------------------------------------------------


def test_every_run_has_it_even_through_a_computed_name(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('r', typeof globalThis['Sch' + 'ema'].object);")
    assert variables(result) == {"r": "function"}


def test_a_module_may_export_a_schema(sandbox: Sandbox) -> None:
    modules = {"forms": """
        export const signup = Schema.object({
          email: Schema.string().email().required(),
          plan: Schema.string().valid('basic', 'pro').default('basic'),
        });
        export function check(data) { return signup.validate(data); }
    """}
    result = sandbox("""import { signup, check } from "forms";
        setVariable('r', [signup.validate({ email: 'a@b.co' }), check({}).errors]);
    """, modules=modules)
    assert variables(result)["r"] == [
        {"valid": True, "value": {"email": "a@b.co", "plan": "basic"}, "errors": []},
        ["email is required"]]


# -- the docs' examples (backend-scripts/validation.mdx) -----------------------------------------


def test_docs_example_validating_a_post_body(sandbox: Sandbox) -> None:
    code = """
        const schema = Schema.object({
          email: Schema.string().email().required(),
          name: Schema.string().min(2).max(100).required(),
          age: Schema.number().integer().min(18),
        });

        const result = schema.validate(request.body);

        if (!result.valid) {
          response.status(400);
          response.json({ ok: false, errors: result.errors });
        }

        // result.value contains the validated, coerced data
        setVariable('user', result.value);
    """
    post = {**REQUEST, "method": "POST"}
    bad = sandbox(code, request={**post, "body": {"email": "nope", "age": "12"}})
    assert bad.effects.status == 400
    assert bad.effects.response is not None
    assert json.loads(bad.effects.response.body) == {"ok": False, "errors": [
        "email must be a valid email address", "name is required", "age must be at least 18"]}
    good = sandbox(code, request={**post, "body": {"email": "ann@example.com", "name": "Ann",
                                                   "age": "42", "admin": "1"}})
    assert variables(good) == {"user": {"email": "ann@example.com", "name": "Ann", "age": 42}}


def test_docs_example_nested_objects_and_arrays(sandbox: Sandbox) -> None:
    result = sandbox("""
        const schema = Schema.object({
          user: Schema.object({
            name: Schema.string().required(),
            email: Schema.string().email().required(),
          }).required(),
          tags: Schema.array().items(Schema.string()).max(5),
          preferences: Schema.object({
            notifications: Schema.boolean().default(true),
            theme: Schema.string().valid('light', 'dark').default('light'),
          }).default({}),
        });
        const result = schema.validate(request.body);
        // result.value.preferences.theme is guaranteed to be 'light' or 'dark'
        setVariable('r', result);
    """, request={**REQUEST, "method": "POST",
                  "body": {"user": {"name": "Ann", "email": "ann@example.com"},
                           "tags": ["a", "b"]}})
    assert variables(result)["r"] == {"valid": True, "errors": [], "value": {
        "user": {"name": "Ann", "email": "ann@example.com"}, "tags": ["a", "b"],
        "preferences": {"notifications": True, "theme": "light"}}}


def test_docs_example_dynamic_keys(sandbox: Sandbox) -> None:
    result = sandbox("""
        const schema = Schema.object({}).pattern_values(Schema.number().min(0).max(100));
        setVariable('r', [schema.validate({ math: 90, science: '85' }),
                          schema.validate({ math: 120 }).errors]);
    """)
    assert variables(result)["r"] == [
        {"valid": True, "value": {"math": 90, "science": 85}, "errors": []},
        ["math must be at most 100"]]


def test_docs_example_custom_validator(sandbox: Sandbox) -> None:
    result = sandbox("""
        const schema = Schema.object({
          start_date: Schema.string().required().custom((value, label) => {
            if (isNaN(Date.parse(value))) {
              return label + ' must be a valid date';
            }
          }),
        });
        setVariable('r', [schema.validate({ start_date: 'tomorrow' }).errors,
                          schema.validate({ start_date: '2026-01-31' }).valid]);
    """)
    assert variables(result)["r"] == [["start_date must be a valid date"], True]


# -- properties ---------------------------------------------------------------------------------


COERCE = """
    const body = request.body;
    setVariable('r', [Schema.number().validate(String(body.n)), Schema.number().validate(body.text),
                      Schema.boolean().validate(body.flag)]);
"""


@settings(max_examples=60, deadline=None)
@given(number=st.one_of(st.integers(-(2**53), 2**53),
                        st.floats(allow_nan=False, allow_infinity=False)),
       flag=st.sampled_from(["true", "1", "false", "0", True, False]))
def test_numbers_written_as_text_and_boolean_words_round_trip(
        sandbox: Sandbox, number: float, flag: Any) -> None:
    body = {"n": number, "text": repr(float(number)), "flag": flag}
    result = sandbox(COERCE, request={**REQUEST, "method": "POST", "body": body})
    from_js, from_python, boolean = variables(result)["r"]
    assert from_js["valid"] and float(from_js["value"]) == float(number)
    assert from_python["valid"] and float(from_python["value"]) == float(number)
    assert boolean == {"valid": True, "value": flag in ("true", "1", True), "errors": []}


# A schema described as data (so that the script stays the same and its bytecode is reused),
# built by the script, and a value that satisfies it.
BUILD = """
    const build = (d) => {
      let schema = d.type === 'object'
        ? Schema.object(Object.fromEntries(Object.entries(d.keys).map(([k, v]) => [k, build(v)])))
        : Schema[d.type]();
      if (d.items) schema = schema.items(build(d.items));
      for (const [name, ...args] of d.modifiers) schema = schema[name](...args);
      return schema;
    };
    setVariable('r', build(request.body.schema).validate(request.body.value));
"""
NAMES = st.text(alphabet="abcxyz_", min_size=1, max_size=6)


@st.composite
def strings(draw: st.DrawFn) -> tuple[dict[str, Any], Any, Any]:
    lowercase = draw(st.booleans())
    alphabet = "abcé 😀-" if lowercase else "abcAZé 😀-@."
    text = draw(st.text(alphabet=alphabet, min_size=1, max_size=8))
    units = len(text.encode("utf-16-le")) // 2  # JavaScript's length
    low, high = draw(st.integers(1, units)), draw(st.integers(units, units + 4))
    modifiers = [["min", low], ["max", high]] + ([["lowercase"]] if lowercase else [])
    if draw(st.booleans()):
        modifiers.append(["valid", text, "other"])
    return {"type": "string", "modifiers": modifiers}, text, text


@st.composite
def numbers(draw: st.DrawFn) -> tuple[dict[str, Any], Any, Any]:
    low = draw(st.integers(-1000, 1000))
    high = draw(st.integers(low, low + 5000))
    integer = draw(st.booleans())
    number = draw(st.integers(low, high) if integer else st.floats(low, high))
    modifiers = [["min", low], ["max", high]] + ([["integer"]] if integer else [])
    if number > 0 and draw(st.booleans()):
        modifiers.append(["positive"])
    if number < 0 and draw(st.booleans()):
        modifiers.append(["negative"])
    as_text = draw(st.booleans())
    return {"type": "number", "modifiers": modifiers}, repr(number) if as_text else number, number


@st.composite
def booleans(draw: st.DrawFn) -> tuple[dict[str, Any], Any, Any]:
    flag = draw(st.booleans())
    return {"type": "boolean", "modifiers": []}, flag, flag


JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=8)


@st.composite
def anything(draw: st.DrawFn) -> tuple[dict[str, Any], Any, Any]:
    data = draw(JSON_DATA.filter(lambda v: v is not None and v != ""))
    return {"type": "any", "modifiers": []}, data, data


def arrays(inner: st.SearchStrategy) -> st.SearchStrategy:
    @st.composite
    def build(draw: st.DrawFn) -> tuple[dict[str, Any], Any, Any]:
        items = draw(st.lists(inner, max_size=3))
        if not items:
            return {"type": "array", "modifiers": [["max", 0]]}, [], []
        schemas = [schema for schema, _, _ in items]
        schema = schemas[0]  # every item validated by the first item's schema: keep only those
        kept = [(given, expected) for s, given, expected in items if s == schema]
        modifiers = [["min", len(kept)], ["max", len(kept)]]
        return ({"type": "array", "items": schema, "modifiers": modifiers},
                [given for given, _ in kept], [expected for _, expected in kept])
    return build()


def objects(inner: st.SearchStrategy) -> st.SearchStrategy:
    @st.composite
    def build(draw: st.DrawFn) -> tuple[dict[str, Any], Any, Any]:
        fields = draw(st.dictionaries(NAMES, inner, max_size=4))
        keys, given, expected = {}, {}, {}
        for name, (schema, value, result) in fields.items():
            presence = draw(st.sampled_from(["required", "optional", "missing", "strip"]))
            modifiers = schema["modifiers"] + ([] if presence in ("optional", "missing")
                                               else [[presence]])
            keys[name] = {**schema, "modifiers": modifiers}
            if presence != "missing":
                given[name] = value
            if presence in ("required", "optional"):
                expected[name] = result
        given.update(draw(st.dictionaries(NAMES.map(lambda n: n + "_extra"), JSON_DATA,
                                          max_size=2)))
        return {"type": "object", "keys": keys, "modifiers": []}, given, expected
    return build()


LEAVES = strings() | numbers() | booleans() | anything()
CASES = st.recursive(LEAVES, lambda inner: arrays(inner) | objects(inner), max_leaves=6)


@settings(max_examples=80, deadline=None)
@given(case=CASES)
def test_valid_input_round_trips(sandbox: Sandbox, case: tuple[dict[str, Any], Any, Any]) -> None:
    """A value made to satisfy a schema validates, and comes back as it went in (coerced
    where it was text, stripped keys and unknown keys left out)."""
    schema, given, expected = case
    body = {"schema": schema, "value": given}
    result = sandbox(BUILD, request={**REQUEST, "method": "POST", "body": body})
    assert variables(result)["r"] == {"valid": True, "value": expected, "errors": []}
