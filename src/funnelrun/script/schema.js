// Schema: the Joi-like validator backend scripts find as a global (reference/script-library.md
// §2.1; the decisions where the docs are silent are in the top-level README).
//
// Not part of the prelude's closure: engine.py loads it after the prelude, once per executor,
// into the context every run is restored to, from bytecode compiled once per process and
// stripped of positions (a run that never validates pays nothing for it). No frame of this
// file carries a line that could be taken for one of the script's: an error raised here is
// reported where the script called in, and one raised in a script's custom function where
// that function is.
// Its value is one function, which Python calls with the depth limit; it defines the frozen
// global and returns nothing. It shares no closure with the prelude and holds no capability:
// the worst a script can do to it is mislead its own validation. Still, the intrinsics it
// relies on are captured on load, before any user code runs, so a script that later replaces
// globals, prototypes or Object.prototype setters does not change how validation works; the
// values a script hands in (data, defaults, regular expressions, custom functions) are its own.
(function (maxDepth) {
  "use strict";
  const O = Object, freeze = O.freeze, create = O.create, keysOf = O.keys, hasOwn = O.hasOwn;
  const define = O.defineProperty, getPrototypeOf = O.getPrototypeOf;
  const setPrototypeOf = O.setPrototypeOf, ObjectProto = O.prototype, isArray = Array.isArray;
  const stringify = JSON.stringify, finite = Number.isFinite, isInteger = Number.isInteger;
  const toNumber = Number, Str = String, TypeErr = TypeError, Re = RegExp, Prox = Proxy;
  const reflectGet = Reflect.get;
  const uncurry = (fn) => Function.prototype.bind.call(Function.prototype.call, fn);
  const exec = uncurry(Re.prototype.exec), trim = uncurry(Str.prototype.trim);
  const lowerCase = uncurry(Str.prototype.toLowerCase), charCode = uncurry(Str.prototype.charCodeAt);
  const indexOf = uncurry(Str.prototype.indexOf), slice = uncurry(Str.prototype.slice);
  const getter = (proto, key) => uncurry(O.getOwnPropertyDescriptor(proto, key).get);
  const regexSource = getter(Re.prototype, "source"), regexFlags = getter(Re.prototype, "flags");
  // Each schema's spec, out of the script's reach: schemas themselves are empty frozen objects.
  const specs = new WeakMap(), specOf = uncurry(WeakMap.prototype.get);
  const remember = uncurry(WeakMap.prototype.set);
  // Arrays without a prototype: index writes cannot reach setters put on Array.prototype.
  const list = () => setPrototypeOf([], null);
  const push = (array, value) => { array[array.length] = value; };
  // A property of a value handed back, defined (no setter of Object.prototype or
  // Array.prototype sees it, and "__proto__" is a key like any other) through a descriptor
  // without a prototype (so an inherited `get` cannot spoil it).
  const put = (object, key, value) => define(object, key,
    { __proto__: null, value: value, writable: true, enumerable: true, configurable: true });
  const WRONG = freeze(create(null));  // a value of the wrong type
  const EMPTY = freeze(list());
  const TOO_DEEP = "is nested too deep (more than " + maxDepth + " levels of arrays and objects)";

  const TYPES = ["string", "number", "boolean", "array", "object", "any"];
  const COMMON = ["required", "optional", "default", "label", "valid", "strip", "custom"];
  const OWN = { __proto__: null, string: ["min", "max", "email", "url", "pattern", "lowercase"],
    number: ["min", "max", "integer", "positive", "negative"], boolean: [],
    array: ["min", "max", "items"], object: ["pattern_values"], any: [] };
  const ARTICLES = { __proto__: null, string: "a string", number: "a number",
    boolean: "a boolean", array: "an array", object: "an object" };

  function joined(items, separator) {
    let text = "";
    for (let i = 0; i < items.length; i++) text += (i ? separator : "") + items[i];
    return text;
  }

  function modifiers(type) {
    const names = list();
    for (let i = 0; i < COMMON.length; i++) push(names, COMMON[i]);
    for (let i = 0; i < OWN[type].length; i++) push(names, OWN[type][i]);
    return names;
  }

  // A value as an error message names it: short, and never running the script's code.
  function shown(value) {
    const kind = typeof value;
    if (kind === "string") return value.length > 40 ? slice(value, 0, 40) + "…" : value;
    if (value === null || (kind !== "object" && kind !== "function")) return Str(value);
    return isArray(value) ? "an array" : kind === "function" ? "a function" : "an object";
  }

  function described(value) {
    return typeof value === "string" ? stringify(shown(value)) : shown(value);
  }

  // -- misspelt names: the end of every schema's prototype chain -------------------------------
  // A property no schema has (`Schema.string().requird()`) is a mistake in the script: the
  // proxy at the end of the chain throws a TypeError naming it, at the script's line. Names of
  // Object.prototype, symbols, and the names runtimes probe for (`then`, `toJSON`) pass.

  function closest(name, names) {
    if (name.length > 32) return null;
    let best = null, bestDistance = 3;
    for (let i = 0; i < names.length; i++) {
      const d = distance(lowerCase(name), lowerCase(names[i]));
      if (d < bestDistance) { best = names[i]; bestDistance = d; }
    }
    return best;
  }

  function distance(a, b) {  // edit distance, of short names only
    let previous = list();
    for (let j = 0; j <= b.length; j++) push(previous, j);
    for (let i = 1; i <= a.length; i++) {
      const row = list();
      push(row, i);
      for (let j = 1; j <= b.length; j++) {
        const replace = previous[j - 1] + (charCode(a, i - 1) === charCode(b, j - 1) ? 0 : 1);
        const shorter = (previous[j] < row[j - 1] ? previous[j] : row[j - 1]) + 1;
        push(row, replace < shorter ? replace : shorter);
      }
      previous = row;
    }
    return previous[b.length];
  }

  function mistake(owner, what, name, names) {
    const near = closest(name, names);
    return owner + " has no " + what + " '" + shown(name) + "'"
      + (near === null ? "" : "; did you mean " + near + "()?");
  }

  function guard(message) {
    const target = freeze(create(ObjectProto)), probes = { __proto__: null, then: 1, toJSON: 1 };
    return new Prox(target, { __proto__: null, get(object, key, receiver) {
      const text = typeof key === "string" && !(key in object) && probes[key] === undefined
        ? message(receiver, key) : null;
      if (text === null) return reflectGet(object, key, receiver);
      throw new TypeErr(text);
    } });
  }

  function noModifier(receiver, name) {
    const spec = specOf(specs, receiver);
    if (spec === undefined) return null;
    const names = modifiers(spec.type), text = " (" + spec.type + " modifiers: "
      + joined(names, ", ") + "; and validate())";
    push(names, "validate");
    return mistake("Schema." + spec.type + "()", "modifier", name, names) + text;
  }

  function noType(receiver, name) {
    return receiver !== Schema ? null : mistake("Schema", "type", name, TYPES)
      + " (types: " + joined(TYPES, ", ") + ")";
  }

  // -- schemas: immutable; every modifier makes a new one ------------------------------------

  const modifierGuard = guard(noModifier);
  const protos = { __proto__: null };

  // A schema is an empty frozen object; what it checks, its spec, is kept in `specs`, out of
  // the script's reach (so specs need no freezing, which would cost QuickJS a copy of their
  // shape). A spec is copied whole, by one literal, and then changed: the quickest way.
  function make(spec) {
    const schema = create(protos[spec.type]);
    remember(specs, schema, spec);
    return freeze(schema);
  }

  function copied(from) {
    return { __proto__: null, type: from.type, required: from.required,
      hasDefault: from.hasDefault, fallback: from.fallback, label: from.label,
      checks: from.checks, customs: from.customs, items: from.items, keys: from.keys,
      names: from.names, patternValues: from.patternValues, strip: from.strip };
  }

  const BLANK = { __proto__: null, type: "", required: false, hasDefault: false,
    fallback: undefined, label: null, checks: EMPTY, customs: EMPTY, items: null, keys: null,
    names: EMPTY, patternValues: null, strip: false };

  function base(type) {
    const spec = copied(BLANK);
    spec.type = type;
    return spec;
  }

  // The spec of the schema a modifier was called on.
  function own(schema, name) {
    const spec = specOf(specs, schema);
    if (spec === undefined) {
      throw new TypeErr(name + "() must be called on a schema, as in Schema.string()." + name + "()");
    }
    if (!hasOwn(protos[spec.type], name) && !hasOwn(shared, name)) {  // another type's method
      throw new TypeErr(noModifier(schema, name));
    }
    return spec;
  }

  function derive(spec, key, value) {
    const next = copied(spec);
    next[key] = value;
    return make(next);
  }

  function refuse(spec, name, wanted, value) {
    throw new TypeErr("Schema." + spec.type + "()." + name + "() needs " + wanted + ", got "
      + described(value));
  }

  // A check added, or put in the place of an earlier one of its name (`many`: both kept).
  function withCheck(spec, name, arg, many) {
    const checks = list();
    let placed = false;
    for (let i = 0; i < spec.checks.length; i++) {
      const check = spec.checks[i];
      if (!many && check.name === name) {
        push(checks, { __proto__: null, name: name, arg: arg });
        placed = true;
      } else {
        push(checks, check);
      }
    }
    if (!placed) push(checks, { __proto__: null, name: name, arg: arg });
    return derive(spec, "checks", checks);
  }

  function childSpec(spec, name, rule) {
    const child = specOf(specs, rule);
    return child !== undefined ? child : refuse(spec, name, "a schema such as Schema.string()", rule);
  }

  function bound(schema, name, n) {
    const spec = own(schema, name);
    if (spec.type === "number" ? !finite(n) : !(isInteger(n) && n >= 0)) {
      refuse(spec, name, spec.type === "number" ? "a finite number" : "a whole number, 0 or more", n);
    }
    return withCheck(spec, name, n, false);
  }

  function flag(name) {
    return function () { return withCheck(own(this, name), name, null, false); };
  }

  // Made with literals: defining the methods one by one costs a run that loads Schema more.
  const shared = freeze({
    __proto__: modifierGuard,
    required() { return derive(own(this, "required"), "required", true); },
    optional() { return derive(own(this, "optional"), "required", false); },
    default(value) {
      const spec = own(this, "default");
      const next = copied(spec);
      next.hasDefault = value !== undefined;
      next.fallback = quietCopy(value);
      return make(next);
    },
    label(name) {
      const spec = own(this, "label");
      if (typeof name !== "string" || name === "") refuse(spec, "label", "a name (a string)", name);
      return derive(spec, "label", name);
    },
    valid() {
      const spec = own(this, "valid"), values = list();
      let given = arguments;
      if (given.length === 1 && isArray(given[0])) given = given[0];
      for (let i = 0; i < spec.checks.length; i++) {
        const check = spec.checks[i];
        if (check.name === "valid") for (let j = 0; j < check.arg.length; j++) push(values, check.arg[j]);
      }
      if (given.length === 0) refuse(spec, "valid", "at least one value", undefined);
      for (let i = 0; i < given.length; i++) push(values, given[i]);
      return withCheck(spec, "valid", values, false);
    },
    strip() { return derive(own(this, "strip"), "strip", true); },
    custom(fn) {
      const spec = own(this, "custom"), customs = list();
      if (typeof fn !== "function") refuse(spec, "custom", "a function (value, label)", fn);
      for (let i = 0; i < spec.customs.length; i++) push(customs, spec.customs[i]);
      push(customs, fn);
      return derive(spec, "customs", customs);
    },
    validate(data) {
      const spec = own(this, "validate");
      const run = { __proto__: null, errors: list(), stack: list() };
      const absent = data === undefined || data === null || data === "";
      const value = node(spec, absent && spec.type === "object" && !spec.hasDefault ? {} : data,
        "", 0, run, false);
      const errors = [];
      for (let i = 0; i < run.errors.length; i++) put(errors, i, run.errors[i]);
      return { valid: errors.length === 0, value: spec.strip ? undefined : value, errors: errors };
    },
  });

  function min(n) { return bound(this, "min", n); }
  function max(n) { return bound(this, "max", n); }

  protos.string = freeze({
    __proto__: shared, min: min, max: max, email: flag("email"), url: flag("url"),
    pattern(regex) {
      const spec = own(this, "pattern");
      let source, flags = "";
      try {
        source = regexSource(regex);
      } catch (error) {
        refuse(spec, "pattern", "a regular expression such as /^[a-z]+$/", regex);
      }
      const given = regexFlags(regex);
      // A copy without "g" and "y", whose lastIndex would make every other test fail.
      for (let i = 0; i < given.length; i++) if (given[i] !== "g" && given[i] !== "y") flags += given[i];
      return withCheck(spec, "pattern", new Re(source, flags), true);
    },
    lowercase: flag("lowercase"),
  });
  protos.number = freeze({ __proto__: shared, min: min, max: max, integer: flag("integer"),
    positive: flag("positive"), negative: flag("negative") });
  protos.boolean = freeze({ __proto__: shared });
  protos.array = freeze({
    __proto__: shared, min: min, max: max,
    items(rule) {
      const spec = own(this, "items");
      return derive(spec, "items", childSpec(spec, "items", rule));
    },
  });
  protos.object = freeze({
    __proto__: shared,
    pattern_values(rule) {
      const spec = own(this, "pattern_values");
      return derive(spec, "patternValues", childSpec(spec, "pattern_values", rule));
    },
  });
  protos.any = freeze({ __proto__: shared });

  function object(keys) {
    if (keys === undefined) return make(base("object"));
    if (keys === null || typeof keys !== "object" || isArray(keys) || specOf(specs, keys) !== undefined) {
      throw new TypeErr("Schema.object() needs an object of schemas, such as "
        + "Schema.object({ email: Schema.string() }), got " + described(keys));
    }
    const names = keysOf(keys), map = { __proto__: null }, ordered = list();
    for (let i = 0; i < names.length; i++) {
      const name = names[i], child = specOf(specs, keys[name]);
      if (child === undefined) {
        throw new TypeErr("Schema.object(): '" + shown(name) + "' must be a schema such as "
          + "Schema.string(), got " + described(keys[name]));
      }
      map[name] = child;
      push(ordered, name);
    }
    const spec = base("object");
    spec.keys = map;
    spec.names = ordered;
    return make(spec);
  }

  const Schema = create(guard(noType));
  const factories = { __proto__: null, string: () => make(base("string")),
    number: () => make(base("number")), boolean: () => make(base("boolean")),
    array: () => make(base("array")), object: object, any: () => make(base("any")) };
  for (let t = 0; t < TYPES.length; t++) {
    define(Schema, TYPES[t], { __proto__: null, value: factories[TYPES[t]], enumerable: true });
  }
  freeze(Schema);

  // -- validation ------------------------------------------------------------------------------
  // node() validates one value against one spec: it returns the (coerced, copied) value, with
  // undefined meaning "leave the key out", and adds its errors to run.errors. `depth` counts
  // the arrays and objects around the value.

  function fail(run, label, text) {
    push(run.errors, label + " " + text);
  }

  function node(spec, input, path, depth, run, defaulted) {
    const label = spec.label !== null ? spec.label : path === "" ? "value" : path;
    if (input === undefined || input === null || input === "") {
      if (spec.hasDefault && !defaulted) return node(spec, spec.fallback, path, depth, run, true);
      if (spec.required) return void fail(run, label, "is required");
      if (input !== "") return input;
      return spec.type === "string" || spec.type === "any" ? "" : undefined;
    }
    const before = run.errors.length;
    const value = spec.type === "object" ? objectValue(spec, input, path, depth, run, label)
      : spec.type === "array" ? arrayValue(spec, input, path, depth, run, label)
        : spec.type === "any" ? copy(input, path, depth, run)
          : scalar(spec.type, input);
    if (value === WRONG) {
      fail(run, label, "must be " + ARTICLES[spec.type]);
      return quietCopy(input);
    }
    if (value === undefined) return undefined;  // nested too deep, or containing itself
    for (let i = 0; i < spec.checks.length; i++) {
      const check = spec.checks[i], test = CHECKS[check.name];
      const problem = test(value, check.arg, spec.type);
      if (problem !== null) fail(run, label, problem);
    }
    if (run.errors.length !== before) return value;
    for (let i = 0; i < spec.customs.length; i++) {
      const custom = spec.customs[i];  // called on its own, not as a method of our list
      answered(run, label, custom(value, label));
    }
    return value;
  }

  // A custom function's answer: nothing (undefined, null, true, "") passes, a string is the
  // message, anything else fails with a message of ours.
  function answered(run, label, answer) {
    if (answer === undefined || answer === null || answer === true || answer === "") return;
    push(run.errors, typeof answer === "string" ? answer : label + " is invalid");
  }

  function scalar(type, input) {
    const kind = typeof input;
    if (type === "string") return kind === "string" ? input : WRONG;
    if (type === "number") {
      if (kind === "number") return finite(input) ? input : WRONG;
      return kind === "string" ? numberOf(input) : WRONG;
    }
    if (kind === "boolean") return input;
    return input === "true" || input === "1" ? true : input === "false" || input === "0" ? false : WRONG;
  }

  // A number written in decimal ("42", " -3.5 ", "1e3"), else WRONG: no "0x10", "Infinity",
  // or anything else Number() would also take.
  function numberOf(text) {
    const trimmed = trim(text);
    for (let i = 0; i < trimmed.length; i++) {
      const c = charCode(trimmed, i);  // 0-9 . + - e E
      if (!((c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69)) return WRONG;
    }
    const number = toNumber(trimmed);
    return trimmed !== "" && finite(number) ? number : WRONG;
  }

  function child(path, name) {
    return path === "" ? name : path + "." + name;
  }

  function objectValue(spec, input, path, depth, run, label) {
    if (typeof input !== "object" || isArray(input)) return WRONG;
    if (spec.keys === null && spec.patternValues === null) return copy(input, path, depth, run);
    if (depth >= maxDepth) return void fail(run, label, TOO_DEEP);
    const out = {};
    for (let i = 0; i < spec.names.length; i++) {
      const name = spec.names[i], rule = spec.keys[name];
      const value = node(rule, hasOwn(input, name) ? input[name] : undefined, child(path, name),
        depth + 1, run, false);
      if (value !== undefined && !rule.strip) put(out, name, value);
    }
    const rule = spec.patternValues;
    if (rule !== null) {
      const names = keysOf(input);
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        if (spec.keys !== null && hasOwn(spec.keys, name)) continue;
        const value = node(rule, input[name], child(path, name), depth + 1, run, false);
        if (value !== undefined && !rule.strip) put(out, name, value);
      }
    }
    return out;
  }

  function arrayValue(spec, input, path, depth, run, label) {
    if (!isArray(input)) return WRONG;
    const prefix = path === "" ? label : path, rule = spec.items;
    if (rule === null) return copy(input, path, depth, run);
    if (depth >= maxDepth) return void fail(run, label, TOO_DEEP);
    const out = [], length = input.length;
    for (let i = 0; i < length; i++) {
      const value = node(rule, hasOwn(input, i) ? input[i] : undefined, prefix + "[" + i + "]",
        depth + 1, run, false);
      if (!rule.strip) put(out, out.length, value);
    }
    return out;
  }

  // A deep copy of plain data (arrays, and objects whose prototype is Object.prototype or
  // null); other objects (a Date, a function) are kept as they are. Bounded: no deeper than
  // the depth limit, and a value that contains itself is an error, not an endless copy.
  function copy(value, path, depth, run) {
    if (value === null || typeof value !== "object") return value;
    const array = isArray(value), proto = array ? null : getPrototypeOf(value);
    if (!array && proto !== ObjectProto && proto !== null) return value;
    const label = path === "" ? "value" : path;
    if (depth >= maxDepth) return void fail(run, label, TOO_DEEP);
    for (let i = 0; i < run.stack.length; i++) {
      if (run.stack[i] === value) return void fail(run, label, "contains itself");
    }
    push(run.stack, value);
    let out;
    if (array) {
      out = [];
      const length = value.length;
      for (let i = 0; i < length; i++) {
        put(out, i, copy(hasOwn(value, i) ? value[i] : undefined, label + "[" + i + "]", depth + 1, run));
      }
    } else {
      out = {};
      const names = keysOf(value);
      for (let i = 0; i < names.length; i++) {
        const item = copy(value[names[i]], child(path, names[i]), depth + 1, run);
        if (item !== undefined) put(out, names[i], item);
      }
    }
    run.stack.length = run.stack.length - 1;
    return out;
  }

  function quietCopy(value) {
    return copy(value, "", 0, { __proto__: null, errors: list(), stack: list() });
  }

  // -- the checks: each answers null, or what is wrong after the label -------------------------

  // Linear patterns (no quantified group can match the same text two ways), on text whose
  // length is checked first.
  const EMAIL_PATTERN = /^[^\s@<>()[\]\\,;:"\x00-\x1f\x7f]+@[^\s@<>()[\]\\,;:".\x00-\x1f\x7f]+(?:\.[^\s@<>()[\]\\,;:".\x00-\x1f\x7f]+)+$/;
  const URL_PATTERN = /^https?:\/\/(?:[^\s/?#@\\:[\]\x00-\x1f\x7f]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(?:[/?#]\S*)?$/i;

  function isEmail(text) {
    const at = indexOf(text, "@");
    return text.length <= 254 && at <= 64 && exec(EMAIL_PATTERN, text) !== null;
  }

  function isUrl(text) {
    const match = text.length <= 2048 ? exec(URL_PATTERN, text) : null;
    return match !== null && (match[1] === undefined || toNumber(match[1]) <= 65535);
  }

  function units(n, type) {
    const unit = type === "string" ? "character" : "item";
    return n + " " + unit + (n === 1 ? "" : "s");
  }

  function oneOf(value, values) {
    for (let i = 0; i < values.length; i++) {
      if (values[i] === value || (values[i] !== values[i] && value !== value)) return true;
    }
    return false;
  }

  function listed(values) {
    let text = "";
    for (let i = 0; i < values.length; i++) text += (i ? ", " : "") + shown(values[i]);
    return text;
  }

  const CHECKS = {
    __proto__: null,
    min: (value, n, type) => (type === "number" ? (value < n ? "must be at least " + n : null)
      : value.length >= n ? null
        : (type === "string" ? "must be at least " : "must have at least ") + units(n, type)),
    max: (value, n, type) => (type === "number" ? (value > n ? "must be at most " + n : null)
      : value.length <= n ? null
        : (type === "string" ? "must be at most " : "must have at most ") + units(n, type)),
    email: (value) => (isEmail(value) ? null : "must be a valid email address"),
    url: (value) => (isUrl(value) ? null : "must be a valid http or https URL"),
    pattern: (value, regex) => (exec(regex, value) !== null ? null : "has an invalid format"),
    lowercase: (value) => (lowerCase(value) === value ? null : "must be lowercase"),
    integer: (value) => (isInteger(value) ? null : "must be an integer"),
    positive: (value) => (value > 0 ? null : "must be positive"),
    negative: (value) => (value < 0 ? null : "must be negative"),
    valid: (value, values) => (oneOf(value, values) ? null : "must be one of: " + listed(values)),
  };

  define(globalThis, "Schema", { __proto__: null, value: Schema });
})
