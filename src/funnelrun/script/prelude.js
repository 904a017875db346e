// The host API of a backend script: read-only globals and recorded actions (SPEC §3.2-§3.3).
//
// A function of the rules (funnelrun.session's, and the caps of funnelrun.script.limits), which
// engine.py compiles applied to them, written in as literals. Evaluated once per executor, in the
// context every run is restored to (engine.Engine), it defines the API before any user code; its
// value is one `control` function that only Python holds. Actions are recorded, as JSON text made
// at call time, in a closure the script cannot reach: no frame of this file is beneath the script
// when it starts (Python calls the bundle itself), the stack-trace API that would hand out the
// functions on the stack is closed below, and `control` refuses to be set up twice. Python
// re-validates every record and enforces every cap again (funnelrun.script.actions), so this file
// checks only what a call must answer synchronously (session.get/set, setCustomer) and otherwise
// records arguments. Its size costs each executor once (loading bytecode takes about 3 µs per KB)
// and every run only the few µs it adds to restoring the snapshot.
(function (rules, keyPattern) {
  "use strict";
  // Intrinsics, captured before user code can replace globals or prototypes.
  const O = Object, freeze = O.freeze, names = O.getOwnPropertyNames, hasOwn = O.hasOwn;
  const assign = O.assign, define = O.defineProperty, defineAll = O.defineProperties;
  const setPrototypeOf = O.setPrototypeOf;
  const isArray = Array.isArray, stringify = JSON.stringify, parse = JSON.parse, Str = String;
  const P = Promise, Err = Error, finite = Number.isFinite, now = Date.now;
  const escape = encodeURIComponent, ErrorProto = Err.prototype;
  const uncurry = (fn) => Function.prototype.bind.call(Function.prototype.call, fn);
  const then = uncurry(P.prototype.then), exec = uncurry(RegExp.prototype.exec);
  const indexOf = uncurry(Str.prototype.indexOf), slice = uncurry(Str.prototype.slice);
  const split = uncurry(Str.prototype.split);
  const charCode = uncurry(Str.prototype.charCodeAt);
  const isError = uncurry(O.prototype.isPrototypeOf), symbolText = uncurry(Symbol.prototype.toString);
  const join = uncurry(Array.prototype.join);
  // Arrays without a prototype: index writes cannot reach setters put on Array.prototype.
  const list = () => setPrototypeOf([], null);
  const push = (array, value) => { array[array.length] = value; };

  // QuickJS-ng implements V8's stack-trace API: a function in `Error.prepareStackTrace` gets
  // CallSites whose getFunction() returns every function on the stack, this file's included.
  // The engine keeps the hook and the frame limit in slots of its own, reached only through
  // these two accessors: fixed data properties in their place leave them at their defaults
  // (no hook, 10 frames) for good. Stacks stay strings, and no user code runs while an error
  // is built (a stackTraceLimit with a valueOf would).
  const fixed = (object, key, value) =>
    define(object, key, { value: value, writable: false, configurable: false });
  fixed(Err, "prepareStackTrace", undefined);
  fixed(Err, "stackTraceLimit", 10);
  // Promise.prototype.then looks up the promise's constructor and its species: fixed, so that
  // attaching to the script's promise (below) runs no user code either.
  fixed(P.prototype, "constructor", P);
  const species = O.getOwnPropertyDescriptor(P, Symbol.species).get;
  define(P, Symbol.species, { get: species, configurable: false });

  const records = list(), logs = list(), writes = { __proto__: null }, waiting = { __proto__: null };
  let request, snapshot, bytes, customer, isCustomer, quota, main, stage = 0;
  let calls = list(), dropped = 0, logsDropped = 0, logChars = 0, callCount = 0;
  let ended = null, stop = null, outcome = { __proto__: null, state: "pending", error: null };

  function record(text, terminal) {
    if (records.length < rules.max_records || terminal) push(records, text);
    else dropped++;
  }

  // A refusal: the call and why. Returns `answer`, what the refused call gives back.
  function warn(call, reason, answer) {
    record(stringify({ __proto__: null, op: "warning", call: call, reason: reason }));
    return answer;
  }

  // After a terminal action every action is ignored, and the script is stopped again.
  function guard(call) {
    if (ended !== null) throw warn(call, "ignored: the script already ended with " + ended + "()", stop);
  }

  // JSON text of a value, or an object with the reason it has none.
  function toJson(value) {
    const kind = typeof value;
    if (kind === "number" && !finite(value)) return { reason: "value must be a finite number" };
    if (kind === "bigint") return { reason: "value must be JSON data, got bigint" };
    try {
      const text = stringify(value);
      return typeof text === "string" ? text : { reason: "value must be JSON data, got " + kind };
    } catch (error) {
      if (stop !== null && error === stop) throw error;
      return { reason: "value could not be converted to JSON: " + describe(error) };
    }
  }

  // -- depth: data nested deeper than jsondata.MAX_DEPTH is refused here as in Python (a record
  // deep enough would be more than Python can parse, and every action lost).

  function depthReason() {
    return "value is nested deeper than " + rules.max_depth + " levels of arrays and objects";
  }

  // Cheap first: JSON text with no more "[" and "{" than the limit cannot nest deeper. Counted
  // with split, capped at limit + 1 of each: QuickJS's indexOf compares at every position, its
  // split scans for the character (a third of the time for a 1 KB record).
  function tooDeep(text) {
    const limit = rules.max_depth;
    if (text.length <= 2 * limit) return false;
    const brackets = split(text, "[", limit + 2).length - 1;
    const count = brackets > limit ? brackets
      : brackets + split(text, "{", limit + 2 - brackets).length - 1;
    return count > limit && deeper(parse(text), limit);
  }

  // Whether JSON data (own data properties only: no getter runs) nests more than `room` levels;
  // it recurses at most `room` calls deep.
  function deeper(value, room) {
    if (value === null || typeof value !== "object") return false;
    if (room === 0) return true;
    const keys = names(value);
    for (let i = 0; i < keys.length; i++) if (deeper(value[keys[i]], room - 1)) return true;
    return false;
  }

  // A call's arguments as Python reads them: JSON, with `missing` listing those JSON would
  // lose or change (undefined, NaN, functions, cyclic objects, data nested too deep...) as
  // [index, type, reason].
  function recorder(call, terminal) {
    return function () {
      guard(call);
      const args = list(), missing = list();
      for (let i = 0; i < arguments.length; i++) {
        const value = arguments[i], kind = typeof value;
        const bad = kind === "object" || kind === "string" || kind === "boolean" ? null
          : kind === "number" ? (finite(value) ? null : "non-finite number") : kind;
        push(args, bad === null ? value : null);
        if (bad !== null) push(missing, [i, bad, "value must be JSON data, got " + bad]);
      }
      let text = null;
      try {
        text = stringify({ __proto__: null, op: call, args: args, missing: missing });
      } catch (error) {  // a cyclic or BigInt-holding object: find it, and send without it
        if (stop !== null && error === stop) throw error;
        for (let i = 0; i < args.length; i++) {
          const json = args[i] !== null && typeof args[i] === "object" ? toJson(args[i]) : "";
          if (typeof json !== "string") {
            args[i] = null;
            push(missing, [i, "object", json.reason]);
          }
        }
        text = stringify({ __proto__: null, op: call, args: args, missing: missing });
      }
      if (tooDeep(text)) text = withoutDeepArgs(call, text, args, missing);
      record(text, terminal);
      if (terminal) {
        ended = call;
        throw (stop = freeze(new Err("the script ended with " + call + "()")));
      }
    };
  }

  // The record again, with the arguments nested too deep left out (as `missing`).
  function withoutDeepArgs(call, text, args, missing) {
    const sent = parse(text).args;
    let changed = false;
    for (let i = 0; i < args.length; i++) {
      if (deeper(sent[i], rules.max_depth)) {
        args[i] = null;
        push(missing, [i, "object", depthReason()]);
        changed = true;
      }
    }
    return changed ? stringify({ __proto__: null, op: call, args: args, missing: missing }) : text;
  }

  function deepFreeze(value) {
    if (value !== null && typeof value === "object") {
      const keys = names(value);
      for (let i = 0; i < keys.length; i++) deepFreeze(value[keys[i]]);
      freeze(value);
    }
    return value;
  }

  function utf8Length(text) {
    const encoded = escape(text);
    let escapes = 0;
    for (let at = indexOf(encoded, "%"); at !== -1; at = indexOf(encoded, "%", at + 1)) escapes++;
    return encoded.length - 2 * escapes;
  }

  // -- session ---------------------------------------------------------------------------------

  function keyRefusal(key) {
    if (typeof key !== "string") return "key must be a string";
    if (exec(keyPattern, key) === null) return "key must be 1-128 characters of A-Z a-z 0-9 _ . -";
    if (hasOwn(rules.reserved, key) || slice(key, 0, rules.prefix.length) === rules.prefix) {
      return "'" + key + "' is a reserved key";
    }
    return null;
  }

  function current(key) {
    return hasOwn(writes, key) ? writes[key] : hasOwn(snapshot, key) ? snapshot[key] : null;
  }

  function get(key) {
    const refusal = keyRefusal(key), text = refusal === null ? current(key) : null;
    if (refusal !== null) warn("session.get", refusal);
    return text === null ? null : parse(text);
  }

  function set(key, value) {
    return setAs("session.set", key, value);
  }

  // session.set under the name of the call that made it (warnings name that call).
  function setAs(call, key, value) {
    guard(call);
    let refusal = keyRefusal(key), text = null, total = bytes;
    if (refusal === null && value !== null) {
      text = toJson(value);
      const size = typeof text === "string" ? utf8Length(text) : 0;
      if (typeof text !== "string") refusal = text.reason;
      else if (tooDeep(text)) refusal = depthReason();
      else if (size > rules.max_value) refusal = "value is " + size + " bytes; the limit is " + rules.max_value;
      else total += utf8Length(key) + size;
    }
    const old = refusal === null ? current(key) : null;
    if (old !== null) total -= utf8Length(key) + utf8Length(old);
    if (refusal === null && text !== null && total > rules.max_session) {
      refusal = "session would be " + total + " bytes; the limit is " + rules.max_session;
    }
    if (refusal !== null) return warn(call, refusal, false);
    bytes = total;
    writes[key] = text;
    // The value's JSON text goes in as it is: not escaped into a string and parsed twice.
    record('{"op":"session.set","key":' + stringify(key) + ',"value":' + (text === null ? "null" : text) + "}");
    return true;
  }

  // -- script aliases (script-library §2.8) ------------------------------------------------------

  // Session items, shared with the template's @setSessionItem: the session key is `custom_` and
  // the key's A-Z a-z 0-9 _ characters (funnelrun.session.sanitize_item_key), written as
  // session.set writes (undefined, like null, deletes).
  function itemKey(key) {
    const text = Str(key);
    let kept = "";
    for (let i = 0; i < text.length; i++) {
      const c = charCode(text, i);
      if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) kept += text[i];
    }
    return "custom_" + kept;
  }

  function setSessionItem(key, value) {
    return setAs("setSessionItem", itemKey(key), value === undefined ? null : value);
  }

  function clearSessionItem(key) {
    return setAs("clearSessionItem", itemKey(key), null);
  }

  function getSessionItem(key) {
    const name = itemKey(key), refusal = keyRefusal(name), text = refusal === null ? current(name) : null;
    if (refusal !== null) warn("getSessionItem", refusal);
    return text === null ? "" : parse(text);
  }

  // Always an object: '' for each field without a customer.
  function getUser() {
    const field = (key) => customer !== null && hasOwn(customer, key) && typeof customer[key] === "string"
      ? customer[key] : "";
    return { name: field("name"), email: field("email") };
  }

  function setCustomer(fields) {
    guard("session.setCustomer");
    const refusal = customerRefusal(fields) || (quota > 0 ? null : "login quota spent");
    if (refusal !== null) return warn("session.setCustomer", refusal, false);
    const given = { __proto__: null }, keys = names(fields);
    for (let i = 0; i < keys.length; i++) {
      const value = fields[keys[i]];
      if (!hasOwn(rules.fields, keys[i])) warn("session.setCustomer", "unknown field '" + keys[i] + "' ignored");
      else if (value !== undefined && value !== null) given[keys[i]] = value;
    }
    quota--;
    record(stringify({ __proto__: null, op: "session.setCustomer", fields: given }));
    // As funnelrun.session.Session.login: merged over the customer, `name` derived.
    const merged = assign({ __proto__: null }, isCustomer ? customer : null, given);
    if (!given.name && (given.first_name || given.last_name)) {
      merged.name = ((merged.first_name || "") + " " + (merged.last_name || "")).trim();
    }
    customer = deepFreeze(parse(stringify(merged)));
    isCustomer = true;
    return true;
  }

  function customerRefusal(fields) {
    if (fields === null || typeof fields !== "object" || isArray(fields)) return "fields must be an object";
    if (typeof fields.email !== "string" || indexOf(fields.email, "@") === -1) {
      return "email is required and must contain '@'";
    }
    for (const name of ["email", "name", "first_name", "last_name", "id"]) {
      const value = fields[name], isId = name === "id";
      if (value === undefined || value === null || (isId && finite(value))) continue;
      if (typeof value !== "string") {
        return isId ? "id must be a string or a finite number" : name + " must be a string";
      }
      if (value.length > rules.max_field_chars) return name + " is too long";
    }
    return null;
  }

  // Async host calls: a promise Python settles from its pump loop (engine.py). The one
  // argument is a plain value (null, a number or a string): handing it over runs no user code.
  function hostCall(call, arg, failure, convert) {
    guard(call);
    if (callCount >= rules.max_host_calls) {
      warn(call, "more than " + rules.max_host_calls + " host calls in one run");
      return new P((resolve) => resolve(failure));
    }
    const args = list();
    push(args, arg);
    push(calls, { __proto__: null, id: ++callCount, op: call, args: args });
    return new P((resolve) => { waiting[callCount] = (value) => resolve(convert(value)); });
  }

  function getToken(ttl) {
    // Only plain values go to Python, which refuses anything but a number (or nothing).
    const given = ttl === undefined || ttl === null || (typeof ttl === "number" && finite(ttl))
      ? (ttl === undefined ? null : ttl) : "invalid";
    return hostCall("session.getToken", given, null,
      (token) => (typeof token === "string" ? token : null));
  }

  function setFromToken(token) {
    return hostCall("session.setFromToken", typeof token === "string" ? token : null, false, (answer) => {
      // Python's JSON, parsed: own properties only are read, so no inherited getter runs.
      const own = (key) => answer !== null && typeof answer === "object" && hasOwn(answer, key)
        ? answer[key] : undefined;
      const login = own("ok") === true, found = own("customer"), kept = own("session");
      if (login && found !== null && typeof found === "object") {
        customer = deepFreeze(found);
        isCustomer = true;
      }
      if (login && kept !== null && typeof kept === "object") handedIn(kept, own("session_bytes"));
      return login || answer === true;
    });
  }

  // The session as the server kept it after a handoff (only its tracking keys, a new id); this
  // run's own writes still stand on top of it, as they will be applied after the run.
  function handedIn(kept, keptBytes) {
    const keys = names(writes);
    snapshot = setPrototypeOf(kept, null);
    bytes = typeof keptBytes === "number" ? keptBytes : 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i], text = writes[key], old = hasOwn(snapshot, key) ? snapshot[key] : null;
      if (old !== null) bytes -= utf8Length(key) + utf8Length(old);
      if (text !== null) bytes += utf8Length(key) + utf8Length(text);
    }
  }

  // A logout (an addition to the reference API): the identity goes, the rest stays.
  function clearCustomer() {
    guard("session.clearCustomer");
    if (!isCustomer) return false;
    record('{"op":"session.clearCustomer"}');
    customer = null;
    isCustomer = false;
    return true;
  }

  // -- console ---------------------------------------------------------------------------------

  function describe(value) {
    const kind = typeof value;
    if (kind === "string") return value;
    if (kind === "symbol") return symbolText(value);
    if (kind === "function") return "[Function]";
    if (value === null || kind !== "object") return Str(value) + (kind === "bigint" ? "n" : "");
    try {
      if (isError(ErrorProto, value)) return Str(value.name) + ": " + Str(value.message);
      const text = stringify(value);
      return typeof text === "string" ? text : "[object]";
    } catch (error) {
      if (stop !== null && error === stop) throw error;
      return "[unprintable object]";
    }
  }

  function logger(level) {
    return function () {
      if (logs.length >= rules.max_console_entries || logChars >= rules.max_console_chars) {
        return void logsDropped++;
      }
      let text = "";
      for (let i = 0; i < arguments.length; i++) text += (i ? " " : "") + describe(arguments[i]);
      text = slice(text, 0, rules.max_console_chars - logChars);
      logChars += text.length;
      push(logs, { __proto__: null, level: level, time: now(), text: text });
    };
  }

  // -- translations (README "Translations") ----------------------------------------------------
  // Answered from the run's configuration, with no host call: the resolved language, the
  // brand's codes and default, and the entries of the dictionary the script can ask for
  // (funnelrun.script.bundle). Async, as in the reference runtime: each returns a promise.

  const lastIndexOf = uncurry(Str.prototype.lastIndexOf), entries = O.entries, fromEntries = O.fromEntries;
  let language = "", locales = list(), defaultLocale = "", dictionary = { __proto__: null };
  const answer = (value) => new P((resolve) => resolve(value));

  function startTranslations(i18n) {
    if (i18n === null || typeof i18n !== "object") return;
    language = i18n.locale;
    locales = setPrototypeOf(i18n.locales, null);
    defaultLocale = i18n.default;
    dictionary = setPrototypeOf(i18n.dictionary, null);
  }

  // The text of a key, '' when there is none (a key that is not a string or number has none).
  function lookup(key) {
    const name = typeof key === "string" ? key : typeof key === "number" ? Str(key) : null;
    return name !== null && hasOwn(dictionary, name) ? dictionary[name] : "";
  }

  function translate(key, params) {
    const text = lookup(key), fills = params !== null && typeof params === "object" && !isArray(params);
    return fills ? interpolate(text, params) : text;
  }

  // `{{ name }}` placeholders filled from the own properties of `params` (null and undefined
  // as ''), the rest left as written; one linear pass, as funnelrun.i18n.interpolate does.
  function interpolate(text, params) {
    if (indexOf(text, "{{") === -1) return text;
    let out = "", at = 0, end = indexOf(text, "}}", at);
    for (; end !== -1; at = end + 2, end = indexOf(text, "}}", at)) {
      const segment = slice(text, at, end), start = lastIndexOf(segment, "{{");
      const name = start === -1 ? null : trimSpaces(slice(segment, start + 2));
      if (name !== null && hasOwn(params, name)) {
        const value = params[name];
        out += slice(segment, 0, start) + (value === null || value === undefined ? "" : Str(value));
      } else {
        out += slice(text, at, end + 2);
      }
    }
    return out + slice(text, at);
  }

  function trimSpaces(text) {
    let from = 0, to = text.length;
    while (from < to && text[from] === " ") from++;
    while (to > from && text[to - 1] === " ") to--;
    return slice(text, from, to);
  }

  const t = (key, params) => new P((resolve) => resolve(translate(key, params)));
  const getTranslation = (key) => answer(lookup(key));
  const getTranslations = () => answer(fromEntries(entries(dictionary)));  // 3x JSON's speed
  const getLocale = () => answer(language);
  const getLocales = () => answer(parse(stringify(locales)));  // strings, in a list without prototype
  const getDefaultLocale = () => answer(defaultLocale);
  const getResolvedLanguage = () => answer(language);

  // -- assets: asset(path) as funnelrun.asset_urls makes it, from the run's configuration -------
  // (`urls`: those of the literal paths the code names; else `versions`, keyed by URL path).

  const wellFormed = uncurry(Str.prototype.toWellFormed);
  let assets = { base: "/assets/", urls: { __proto__: null }, versions: { __proto__: null } };

  function asset(path) {
    const text = path === undefined || path === null ? "" : Str(path), parts = list();
    if (hasOwn(assets.urls, text)) return assets.urls[text];
    const segments = split(text, "/");
    for (let i = 0; i < segments.length; i++) {
      if (segments[i] === "..") parts.length = parts.length ? parts.length - 1 : 0;
      else if (segments[i] !== "" && segments[i] !== ".") push(parts, escape(wellFormed(segments[i])));
    }
    const name = join(parts, "/"), url = assets.base + name;
    return hasOwn(assets.versions, name) ? url + "?v=" + assets.versions[name] : url;
  }

  // -- globals and the run -----------------------------------------------------------------------

  function getVariable(name) {
    const body = request.body, query = request.query;
    if (body !== null && typeof body === "object" && !isArray(body) && hasOwn(body, name)) return body[name];
    return query !== null && typeof query === "object" && hasOwn(query, name) ? query[name] : null;
  }

  const getCustomer = () => customer;

  // The API, defined while the context is made ahead of its run; `request` and the session
  // follow at start. Each global a constant (not writable, enumerable or configurable), all
  // in one call: a defineProperty per name takes 1.6 times as long. The arrow functions are
  // named by their consts above, as a script sees them (`getCustomer.name`).
  function defineApi() {
    const constant = (value) => ({ value: value });
    defineAll(globalThis, {
      getVariable: constant(getVariable), redirect: constant(recorder("redirect", true)),
      session: constant(freeze({ get: get, set: set, setCustomer: setCustomer, getToken: getToken,
        setFromToken: setFromToken, clearCustomer: clearCustomer })),
      cookie: constant(freeze({ set: recorder("cookie.set"), delete: recorder("cookie.delete") })),
      setVariable: constant(recorder("setVariable")), setHeader: constant(recorder("setHeader")),
      response: constant(freeze({ status: recorder("response.status"),
        json: recorder("response.json", true), send: recorder("response.send", true) })),
      console: constant(freeze({ log: logger("log"), info: logger("info"), warn: logger("warn"),
        error: logger("error"), debug: logger("debug") })),
      getCustomer: constant(getCustomer), getUser: constant(getUser),
      setSessionItem: constant(setSessionItem), getSessionItem: constant(getSessionItem),
      clearSessionItem: constant(clearSessionItem), asset: constant(asset),
      t: constant(t), getTranslation: constant(getTranslation),
      getTranslations: constant(getTranslations), getLocale: constant(getLocale),
      getLocales: constant(getLocales), getDefaultLocale: constant(getDefaultLocale),
      getResolvedLanguage: constant(getResolvedLanguage),
      customer: { get: () => customer }, is_customer: { get: () => isCustomer },
    });
  }

  // The request's globals and the session, before any user code runs.
  function start(text) {
    const config = parse(text);
    define(globalThis, "request", { value: request = deepFreeze(config.request) });
    define(globalThis, "query", { value: request.query });
    define(globalThis, "brand", { value: deepFreeze(config.brand === undefined ? null : config.brand) });
    snapshot = setPrototypeOf(config.session, null);
    bytes = config.session_bytes;
    customer = deepFreeze(config.customer);
    isCustomer = config.is_customer === true;
    quota = config.login_quota;
    startTranslations(config.i18n);
    if (config.assets !== null) {
      assets = config.assets;
      setPrototypeOf(assets.urls, null);
      setPrototypeOf(assets.versions, null);
    }
  }

  // Python calls the bundle itself (so no frame of this file is beneath the script's code)
  // and hands its promise here. then() reads the promise's constructor and species, fixed
  // above, so no user code runs beneath this frame. Also called when the pump finds nothing
  // to do: a reaction lost to an out-of-memory failure is queued again, so a rejected run is
  // not taken for one that waits forever.
  function attach() {
    then(main, () => settled(true), (error) => settled(stop !== null && error === stop, error));
  }

  // A promise reaction: reading the error (name, message, stack) can run the script's own
  // getters above this frame; with the stack-trace API closed they cannot reach it, and if
  // they could, they could only misreport the script's own outcome.
  function settled(ok, error) {
    if (outcome.state !== "pending") return;
    let info = null;
    try {
      info = ok ? null : error === null ? { __proto__: null, kind: "null" }
        : typeof error !== "object" || !isError(ErrorProto, error)
          ? { __proto__: null, kind: "value", message: describe(error) }
          : { __proto__: null, kind: "error", name: Str(error.name), message: Str(error.message),
            stack: typeof error.stack === "string" ? error.stack : "" };
    } catch (inner) {
      info = { __proto__: null, kind: "value", message: "[unprintable exception]" };
    }
    outcome = { __proto__: null, state: ok ? "ok" : "error", error: info };
  }

  // Setting up happens once, in order: start, attach. Anything else means the caller is not
  // Python (a script that reached this function), and is refused.
  function step(expected) {
    if (stage++ !== expected) throw new Err("control: step " + expected + " out of order");
  }

  defineApi();

  // Python's handle on the run. Its text arguments are JSON that Python wrote, parsed into
  // plain data, so apart from `attach` (see there) no operation reads a value the script made.
  // Once started, only the script itself could be harmed by another caller: `poll`, `settle`
  // and `finish` reach nothing but this run's own calls and records, which Python checks again.
  return function control(op, text, promise) {
    switch (op) {
      case "start": return step(0), start(text);
      case "attach": return step(1), main = promise, attach();
      case "reattach": return attach();
      case "poll": {
        if (outcome.state !== "pending") return "done";
        if (calls.length === 0) return "idle";
        const handed = calls;
        calls = list();
        return stringify(handed);
      }
      case "settle": {
        const answers = parse(text);
        for (let i = 0; i < answers.length; i++) {  // Python always sends both id and value
          const resolve = waiting[answers[i].id];
          delete waiting[answers[i].id];
          if (resolve !== undefined) resolve(answers[i].value);
        }
        return;
      }
      case "finish": // how the script ended (its state, then its error), then the records and the
        // console; joined, not concatenated: Python cannot read a rope string
        return join([outcome.state, "\n", stringify(outcome.error), "\n",
          '{"records":[', join(records, ","), '],"console":', stringify(logs),
          ',"records_dropped":', dropped, ',"console_dropped":', logsDropped,
          ',"unsent_host_calls":', calls.length, "}"], "");
    }
  };
})
