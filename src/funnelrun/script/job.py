"""What a run takes (ScriptJob) and what it gives back (ScriptResult)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Position, ScriptEngineError, ScriptError
from ..jsondata import clean_text, decode_json, encode_compact, nesting_bound
from ..login_quota import PER_SESSION as DEFAULT_LOGIN_QUOTA
from ..session import encode, is_reserved
from ..settings import LimitSettings
from .actions import MAX_RECORD_DEPTH, collect_effects
from .bundle import Bundle
from .console import ConsoleEntry, collect_console
from .effects import ActionWarning, Effects
from .engine import Engine, EngineLimits, HostCall

OUTCOMES = ("ok", "error", "timeout", "memory", "crash")
# For what orjson refuses (encode_compact). Built once: json.dumps with options builds an
# encoder on every call.
_encode_stdlib = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode


def _encode(value: Any) -> str:
    """The configuration's JSON: by orjson (encode_compact), ten times faster, with non-ASCII
    as it is where the fallback escapes it; JSON.parse reads the same strings either way. The
    fallback writes what orjson refuses, an unpaired surrogate among it, as an ASCII escape:
    the text reaches the executor as UTF-8 (frames.dump), which has no form for it. NaN and
    Infinity would be null, not refused, but a server's globals cannot hold them: a request
    body is parsed strictly (jsondata.parse_strict), the rest of a request is text, booleans
    and null, session values are stored with allow_nan=False, and the brand comes as text."""
    return encode_compact(value, _encode_stdlib)


@dataclass(frozen=True, slots=True)
class ScriptJob:
    """One run: the bundle, the request globals (SPEC §3.2: method, path, query, body, headers,
    cookies, ip, ip6, is_mobile, is_tablet, route_params), the session as the script may see
    it, and the limits (None: the pool's)."""

    bundle: Bundle
    request: Mapping[str, Any]
    session: Mapping[str, Any] = field(default_factory=dict)  # public keys, decoded values
    session_bytes: int = 0  # the whole session's size, reserved keys included
    customer: Mapping[str, Any] | None = None
    is_customer: bool = False
    login_quota: int = DEFAULT_LOGIN_QUOTA  # successful setCustomer calls still allowed
    limits: LimitSettings | None = None
    # The `brand` global: id, name, settings (brand.toml); or its JSON text, made once per
    # brand (the server's), spliced into the configuration as it is.
    brand: Mapping[str, Any] | str | None = None
    # The run's language, locales and perhaps dictionary: JSON text, made once per brand and
    # language (funnelrun.i18n.Translator.script_config), spliced into the configuration.
    i18n: str = "null"
    # The asset base and versions its code can ask for: JSON text, made once per brand and set
    # of paths (funnelrun.asset_urls.AssetLinks.script_config), spliced in likewise.
    assets: str = "null"
    # Instead of `session`: the session as stored (key -> JSON text, reserved keys included),
    # as the server holds it; its texts go in as they are, not decoded and encoded again.
    stored_session: Mapping[str, str] | None = None
    _texts: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.stored_session is not None:
            if self.session:
                raise ValueError("a job takes `session` or `stored_session`, not both")
            texts = {key: text for key, text in self.stored_session.items()
                     if not is_reserved(key)}
        else:
            try:
                texts = {key: encode(value) for key, value in self.session.items()
                         if not is_reserved(key)}
            except (TypeError, ValueError) as exc:
                raise ScriptEngineError(f"the session is not JSON data: {exc}") from exc
        object.__setattr__(self, "_texts", texts)

    def session_texts(self) -> dict[str, str]:
        """The public session items as stored (JSON text); reserved keys never go in."""
        return self._texts

    def config(self) -> str:
        """The prelude's start configuration (JSON text)."""
        try:
            text = _encode({
                "request": self.request,
                "session": self._texts,
                "session_bytes": self.session_bytes,
                "customer": self.customer,
                "is_customer": self.is_customer,
                "login_quota": self.login_quota,
            })
            brand = self.brand if isinstance(self.brand, str) else _encode(self.brand)
        except (TypeError, ValueError) as exc:
            raise ScriptEngineError(f"the script's globals are not JSON data: {exc}") from exc
        return f'{text[:-1]},"brand":{brand},"i18n":{self.i18n},"assets":{self.assets}}}'


class ScriptFailure(ScriptError):
    """Why a run did not end normally, and where (in the page, layout, component or module
    file). Reported in ScriptResult.error, never raised; `outcome` is the run's outcome."""

    def __init__(self, message: str, position: Position | None = None, *,
                 outcome: str = "error") -> None:
        super().__init__(message, position, reason=f"script_{outcome}")
        self.outcome = outcome


@dataclass(slots=True)  # not frozen: see funnelrun.script.effects
class ScriptResult:
    """How a run ended (`outcome`: ok, error, timeout, memory or crash) and what it left:
    validated effects (kept up to a failure), console entries, timings."""

    outcome: str
    error: ScriptFailure | None
    effects: Effects
    console: tuple[ConsoleEntry, ...] = ()
    console_dropped: int = 0
    duration_ms: float = 0.0
    cpu_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def make_result(job: ScriptJob, run: Mapping[str, Any], drained: str | Mapping[str, Any],
                warnings: Iterable[ActionWarning] = ()) -> ScriptResult:
    """The validated result of a run, from what the engine reported (`run`, `drained`)."""
    data = _drained(drained)
    records = data.get("records")
    effects = collect_effects(
        records if isinstance(records, list) else [],
        session_items=job.session_texts(),
        session_bytes=job.session_bytes,
        login_quota=job.login_quota,
        records_dropped=_count(data.get("records_dropped")),
        depth_checked=isinstance(drained, str) and nesting_bound(drained) <= MAX_RECORD_DEPTH,
    )
    extra = list(warnings)
    if data.get("lost"):
        extra.append(ActionWarning("script", "the actions could not be read back; none applied"))
    if unsent := _count(data.get("unsent_host_calls")):
        extra.append(ActionWarning("script", f"{unsent} session.getToken/setFromToken calls "
                                             "were not awaited and never ran"))
    if extra:
        effects = dataclasses.replace(effects, warnings=effects.warnings + tuple(extra))
    entries = data.get("console")
    console, dropped = collect_console(entries if isinstance(entries, list) else [],
                                       data.get("console_dropped", 0))
    outcome = run.get("outcome")
    outcome = outcome if outcome in OUTCOMES else "crash"
    error = None
    if outcome != "ok":
        message = run.get("message")
        error = ScriptFailure(
            clean_text(message) if isinstance(message, str) else outcome,
            job.bundle.position(_int(run.get("line")), _int(run.get("column"))),
            outcome=outcome,
        )
    return ScriptResult(outcome, error, effects, console, dropped,
                        _float(run.get("duration_ms")), _float(run.get("cpu_ms")))


def failed_result(outcome: str, message: str, duration_ms: float = 0.0) -> ScriptResult:
    """A run that left nothing behind: the engine crashed or had to be killed."""
    failure = ScriptFailure(message, outcome=outcome)
    return ScriptResult(outcome, failure, Effects(), (), 0, duration_ms, 0.0)


def _drained(drained: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(drained, Mapping):
        return drained
    try:
        data = decode_json(drained)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for Python to read
        return {"lost": True}
    return data if isinstance(data, dict) else {"lost": True}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def run_inline(job: ScriptJob, host_call: HostCall | None = None) -> ScriptResult:
    """Run a job in this process (no executor): for tools and tests. A crash of the engine
    takes this process with it; servers use ExecutorPool."""
    limits = EngineLimits.from_settings(job.limits or LimitSettings())
    run = Engine().run(job.bundle.code, job.config(), limits, host_call)
    return make_result(job, run.to_json(), run.drained)
