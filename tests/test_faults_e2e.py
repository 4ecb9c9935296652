"""Fault injection over real sockets (issue 14, "Proof"): one case per way an upstream, the
detector or a policy file can fail, and for every case the same four promises, asserted by one
helper (``prove``):

1. the client gets a clear OpenAI-style error — or, once a stream has started, an error event
   its SDK raises — or a valid fallback answer;
2. the proxy keeps serving: the same request, once the fault is gone, is answered normally;
3. the metrics and the request's audit line say what happened (every non-zero counter of the
   watched families is expected, so an extra count fails as surely as a missing one);
4. no sensitive value reached the cloud, checked on what the cloud upstream recorded.

Upstream faults come from the recording upstreams' knobs (``tests/upstream.py``); detector faults
from a recognizer that raises or overruns the detection deadline; policy faults from deleting or
spoiling the policy and keys files while the proxy runs. Each upstream fault is tried in every
request scenario it applies to (``SCENARIOS``), streamed and not:

- ``clean``: a clean prompt, cleared for the (faulted) cloud: falls back to local;
- ``clean-no-fallback``: the same with ``cloud_fallback_to_local`` off;
- ``redacted``: a prompt whose e-mail address the policy redacts for the (faulted) cloud: the
  cloud only ever sees the placeholder, a fallback sends local the original;
- ``sensitive``: a prompt the policy keeps local (faulted): the cloud sees nothing at all;
- ``both``: a clean prompt while the cloud refuses connections and local, its fallback, is
  faulted.

A case's id reads ``scenario-fault-json|stream``.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import DEFAULT_POLICY, LOCAL_MODELS, Stack
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from upstream import RecordingUpstream

from proxy.app import METRICS
from proxy.detection.detector import Detector
from proxy.detection.recognizers.base import Hit, PatternRecognizer
from proxy.policy.store import hash_key

EMAIL = "kenji.mori@example-fab.jp"
PLACEHOLDER = "<EMAIL_ADDRESS>"
CLEAN = "Explain how TCP slow start works."
WITH_EMAIL = f"Please write to {EMAIL} about the delayed shipment."

TIMEOUT_S = 0.4
"""connect_timeout_s and upstream_timeout_s (the read timeout): a hang is cut after this."""
HANG_S = 1.5
"""How long a hanging upstream waits: well past TIMEOUT_S."""
RETRIES = 1
"""upstream_retries: a refused connection is tried RETRIES + 1 times."""
OVERSIZE = 256 * 1024 * 1024 + 1
"""One byte more than Sekisho reads of a JSON answer (``pipeline.MAX_UPSTREAM_BODY``)."""

REDACT_POLICY = """\
default: {route: cloud}
rules:
  - name: redact-contacts
    when: {entities: [EMAIL_ADDRESS]}
    route: cloud
    action: redact
"""
LOCKDOWN_POLICY = "default: {route: local}\n"


# --- what a request comes to ------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    """A valid answer, from the upstream of ``route`` (``reply from local``, say)."""

    route: str
    action: str
    rule: str


@dataclass(frozen=True)
class Refused:
    """An OpenAI-style error response: ``{"error": {"message", "type", "code", ...}}``."""

    status: int
    code: str | None
    route: str
    retry_after: str | None = None
    """The ``Retry-After`` the client is given (None: the header is absent)."""


@dataclass(frozen=True)
class Cut:
    """A stream that started (200), then ended with an error event the SDK raises."""

    code: str
    route: str


Outcome = Answered | Refused | Cut


@dataclass
class Got:
    """What the openai SDK made of one answer."""

    status: int
    headers: Mapping[str, str]
    text: str = ""
    error: Any = None
    """The error object of an error response, or of the error event that ended a stream."""
    stream_error: bool = False


@dataclass(frozen=True)
class Request:
    prompt: str
    stream: bool
    api_key: str | None = None


def send(stack: Stack, request: Request) -> Got:
    """One chat completion through the proxy with the official SDK (no retries, 10 s bound:
    a hang in the proxy fails the test instead of stalling it)."""
    keys = {"api_key": request.api_key} if request.api_key else {}
    client = stack.openai(timeout=10.0, **keys)
    kwargs: dict[str, Any] = {"model": "gpt-4o-mini",
                              "messages": [{"role": "user", "content": request.prompt}]}
    try:
        if not request.stream:
            raw = client.chat.completions.with_raw_response.create(**kwargs)
            completion = raw.parse()
            return Got(raw.status_code, raw.headers, completion.choices[0].message.content or "")
        raw = client.chat.completions.with_raw_response.create(stream=True, **kwargs)
        got = Got(raw.status_code, raw.headers)
        try:
            for chunk in raw.parse():
                if chunk.choices:
                    got.text += chunk.choices[0].delta.content or ""
        except openai.APIError as err:  # the error event that ended the stream
            got.error, got.stream_error = err.body, True
        return got
    except openai.APIStatusError as err:
        return Got(err.status_code, err.response.headers, error=err.body)


def assert_outcome(got: Got, expected: Outcome) -> None:
    """Promise 1: a valid answer, or an error an OpenAI client understands."""
    route = got.headers.get("x-sekisho-route")
    if isinstance(expected, Answered):
        assert (got.status, got.error) == (200, None), got.error
        assert got.text == f"reply from {expected.route}"
        assert (route, got.headers.get("x-sekisho-action"), got.headers.get("x-sekisho-rule")) \
            == (expected.route, expected.action, expected.rule)
        return
    assert isinstance(got.error, dict), f"no OpenAI-style error: {got!r}"
    assert isinstance(got.error.get("message"), str) and got.error["message"]
    assert isinstance(got.error.get("type"), str) and got.error["type"]
    assert got.error.get("code") == expected.code
    assert EMAIL not in json.dumps(got.error)
    assert route == expected.route
    if isinstance(expected, Cut):
        assert got.status == 200 and got.stream_error
        # What came before the error is the start of the answer: nothing made up.
        assert f"reply from {expected.route}".startswith(got.text)
        return
    assert got.status == expected.status and not got.stream_error
    assert got.headers.get("retry-after") == expected.retry_after


# --- what the metrics and the audit line say --------------------------------------------------

# Counter families whose every non-zero series a case names: metric name -> short name, labels.
WATCHED: dict[str, tuple[str, tuple[str, ...]]] = {
    "sekisho_upstream_errors_total": ("errors", ("upstream", "kind")),
    "sekisho_upstream_retries_total": ("retries", ("upstream",)),
    "sekisho_fallbacks_total": ("fallbacks", ()),
    "sekisho_fail_closed_total": ("fail_closed", ("reason",)),
    "sekisho_routing_decisions_total": ("decisions", ("route", "action", "rule")),
    "sekisho_client_disconnects_total": ("client_disconnects", ("endpoint",)),
    "sekisho_policy_reloads_total": ("reloads", ("result",)),
}
Counts = dict[tuple[str, ...], float]


def counts(stack: Stack) -> Counts:
    """Every non-zero series of the WATCHED families, keyed (short name, *label values); series
    that differ only in labels not listed (tenant, endpoint …) are summed."""
    text = generate_latest(stack.app[METRICS].registry).decode()
    out: Counts = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name not in WATCHED or not sample.value:
                continue
            short, labels = WATCHED[sample.name]
            key = (short, *(sample.labels[name] for name in labels))
            out[key] = out.get(key, 0.0) + sample.value
    return out


def in_flight(stack: Stack) -> float:
    text = generate_latest(stack.app[METRICS].registry).decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("sekisho_in_flight_requests "))


def settled(stack: Stack) -> None:
    """Until every request is recorded (a stream reaches the client before it is)."""
    wait_for(lambda: in_flight(stack) == 0)


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def audit_lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    assert EMAIL not in text
    return [json.loads(line) for line in text.splitlines()]


# --- what the cloud saw -----------------------------------------------------------------------


def assert_cloud_never_saw_the_address(stack: Stack, *, cloud_may_be_asked: bool) -> None:
    """Promise 4, on what the cloud upstream recorded: never the address; a redacted body (the
    placeholder) where the policy allows the cloud; nothing at all where it does not."""
    posts = stack.posts(stack.cloud)
    if not cloud_may_be_asked:
        assert posts == [], "a request that must stay on-prem was sent to the cloud"
    for post in posts:
        raw = post.raw.decode("utf-8", "replace")
        assert EMAIL not in raw and "kenji.mori" not in raw
    assert EMAIL not in stack.cloud.texts_received()


# --- the four promises ------------------------------------------------------------------------


@dataclass
class Case:
    """One request under one fault, and everything it must come to."""

    request: Request
    outcome: Outcome
    counted: Counts
    """Every non-zero series of the WATCHED families after the request."""
    audit: dict[str, Any]
    """Fields of the request's audit line."""
    healthy: Answered
    """What the same request comes to once the fault is gone."""
    cloud_may_be_asked: bool
    redacted_for_cloud: bool = False
    """The cloud, if it got the request, got the placeholder (proof the check looks at the
    right body)."""
    local_gets_original: bool = False
    """A fallback to local carried the original text."""
    audit_tells: bool = True
    """The audit line differs from the one the same request leaves once the fault is gone (ids
    and timings aside). False where the fault leaves the request itself unchanged (a rejected
    policy reload: the metric says it)."""


VOLATILE = {"time", "request_id", "detection_ms", "upstream_ms", "total_ms"}


def stable(line: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in line.items() if name not in VOLATILE}


def prove(stack: Stack, case: Case, audit: Path, heal: Callable[[], None]) -> None:
    """The four promises for ``case``: its request under the fault, then once healed."""
    earlier = len(audit_lines(audit))
    got = send(stack, case.request)
    settled(stack)
    # 1. A clear answer or error.
    assert_outcome(got, case.outcome)
    # 3. The metrics and the audit line say what happened.
    assert counts(stack) == case.counted
    lines = audit_lines(audit)[earlier:]
    assert len(lines) == 1
    assert {name: lines[0][name] for name in case.audit} == case.audit
    # 4. No sensitive value at the cloud.
    assert_cloud_never_saw_the_address(stack, cloud_may_be_asked=case.cloud_may_be_asked)
    if case.redacted_for_cloud and stack.posts(stack.cloud):
        assert PLACEHOLDER in stack.cloud.texts_received()
    if case.local_gets_original:
        assert EMAIL in stack.local.texts_received()
    # 2. The proxy keeps serving: the same request, the fault gone, is answered as usual.
    heal()
    assert_outcome(send(stack, case.request), case.healthy)
    settled(stack)
    faulted_line, healthy_line = audit_lines(audit)[earlier:]
    assert (stable(faulted_line) != stable(healthy_line)) is case.audit_tells
    assert_cloud_never_saw_the_address(stack, cloud_may_be_asked=case.cloud_may_be_asked)


def base_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "connect_timeout_s": TIMEOUT_S,
        "upstream_timeout_s": TIMEOUT_S,
        "upstream_retries": RETRIES,
        "upstream_retry_backoff_s": 0.01,
        # No model discovery: a faulted local upstream fails the request itself, not a lookup.
        "local_model": LOCAL_MODELS[0],
        "audit_log": str(tmp_path / "audit.jsonl"),
    }


# --- upstream faults ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One way an upstream fails, and what a client gets when no other upstream is left.

    ``before_answer``: it fails before Sekisho has taken any of an answer (a clean request may
    then fall back). ``kind``: what ``sekisho_upstream_errors_total`` counts for it;
    ``status``: the HTTP status the upstream answered (the audit's ``upstream_status``).
    ``last`` is None for a refused connection, whose error depends on the request.
    """

    name: str
    apply: Callable[[RecordingUpstream], None] | None
    """Sets the upstream's knobs; None: the upstream is stopped (connections refused)."""
    streams: tuple[bool, ...]
    """The requests it applies to: JSON (False), streamed (True) or both."""
    before_answer: bool
    kind: str
    status: int | None
    last: Callable[[str], Outcome] | None
    """The outcome on ``route`` when this fault hits the last upstream tried."""

    @property
    def refused(self) -> bool:
        return self.apply is None


def knobs(**values: Any) -> Callable[[RecordingUpstream], None]:
    def apply(up: RecordingUpstream) -> None:
        for name, value in values.items():
            assert hasattr(up, name), name
            setattr(up, name, value)
    return apply


def relayed(status: int, code: str | None, retry_after: str | None = None
            ) -> Callable[[str], Outcome]:
    return lambda route: Refused(status, code, route, retry_after)


def timeout(route: str) -> Outcome:
    return Refused(504, "upstream_timeout", route)


def bad_gateway(route: str) -> Outcome:
    return Refused(502, "bad_gateway", route)


def cut(code: str) -> Callable[[str], Outcome]:
    return lambda route: Cut(code, route)


BOTH_MODES = (False, True)
RA = {"retry-after": "7"}
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"
TRUNCATED_JSON = '{"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"index": 0, '
FIRST_EVENT = (b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
               b'"choices":[{"index":0,"delta":{"role":"assistant","content":"reply"}}]}\n\n')

REFUSED = Fault("refused", None, BOTH_MODES, True, "connect", None, None)
FAULTS = [
    REFUSED,
    Fault("hang-before-headers", knobs(delay=HANG_S), BOTH_MODES, True, "timeout", None,
          timeout),
    Fault("500", knobs(fail_status=500), BOTH_MODES, True, "status_5xx", 500,
          relayed(500, None)),
    Fault("500-retry-after", knobs(fail_status=500, fail_headers=RA), BOTH_MODES, True,
          "status_5xx", 500, relayed(500, None, "7")),
    Fault("429", knobs(fail_status=429), BOTH_MODES, True, "status_4xx", 429,
          relayed(429, "rate_limit_exceeded")),
    Fault("429-retry-after", knobs(fail_status=429, fail_headers=RA), BOTH_MODES, True,
          "status_4xx", 429, relayed(429, "rate_limit_exceeded", "7")),
    Fault("503", knobs(fail_status=503), BOTH_MODES, True, "status_5xx", 503,
          relayed(503, None)),
    Fault("503-retry-after", knobs(fail_status=503, fail_headers=RA), BOTH_MODES, True,
          "status_5xx", 503, relayed(503, None, "7")),
    Fault("502-html-body", knobs(fail_status=502, fail_body=HTML, fail_content_type="text/html"),
          BOTH_MODES, True, "status_5xx", 502, bad_gateway),
    Fault("hang-mid-answer", knobs(body_pause=HANG_S), (False,), False, "timeout", 200, timeout),
    Fault("hang-mid-stream", knobs(stream_pause=HANG_S), (True,), False, "stream_interrupted",
          200, cut("stream_interrupted")),
    Fault("close-mid-answer", knobs(body_abort=True), (False,), False, "protocol", 200,
          bad_gateway),
    Fault("close-mid-stream", knobs(stream_abort_after=2), (True,), False, "stream_interrupted",
          200, cut("stream_interrupted")),
    Fault("malformed-json", knobs(fail_body=TRUNCATED_JSON, fail_content_type="application/json"),
          (False,), False, "protocol", 200, bad_gateway),
    Fault("malformed-sse-garbage", knobs(stream_body=b"<html>upstream proxy error</html>"),
          (True,), False, "protocol", 200, cut("upstream_bad_stream")),
    Fault("malformed-sse-event", knobs(stream_body=FIRST_EVENT + b"data: {\"id\": \"c1\", \"ch\n\n"
                                       + b"data: [DONE]\n\n"),
          (True,), False, "protocol", 200, cut("upstream_bad_stream")),
    Fault("oversize-answer", knobs(oversize_bytes=OVERSIZE), (False,), False, "protocol", 200,
          bad_gateway),
]

SCENARIOS = ("clean", "clean-no-fallback", "redacted", "sensitive", "both")
# The faults tried on local as the fallback of a refused cloud: one of each family.
BOTH_FAULTS = {"refused", "hang-before-headers", "503-retry-after", "502-html-body",
               "close-mid-answer", "close-mid-stream"}

def applies(scenario: str, fault: Fault) -> bool:
    if scenario == "clean-no-fallback":
        return fault.before_answer  # after an answer is taken, fallback plays no part
    if scenario == "both":
        return fault.name in BOTH_FAULTS
    if scenario == "redacted":
        # Not again what ``clean`` shows, with a body the policy rewrote: the answer's handling
        # (a malformed one, the same 256 MiB read) does not depend on the request's body.
        return fault.name not in {"oversize-answer", "malformed-json", "malformed-sse-event"}
    return True


def cells() -> Iterator[Any]:
    for scenario in SCENARIOS:
        for fault in FAULTS:
            if not applies(scenario, fault):
                continue
            for stream in fault.streams:
                yield pytest.param(scenario, fault, stream,
                                   id=f"{scenario}-{fault.name}-{'stream' if stream else 'json'}")


def expect(scenario: str, fault: Fault, stream: bool) -> Case:
    """What a request of ``scenario`` comes to when ``fault`` hits the upstream it goes to."""
    sensitive = scenario in ("redacted", "sensitive")
    prompt = WITH_EMAIL if sensitive else CLEAN
    rule = {"redacted": "redact-contacts", "sensitive": "contact-details"}.get(scenario,
                                                                             "default")
    faulted = "local" if scenario in ("sensitive", "both") else "cloud"
    planned_action = "redact" if scenario == "redacted" else "forward"
    healthy = (Answered("local", "forward", rule) if scenario == "sensitive"
               else Answered("cloud", planned_action, rule))
    attempts = RETRIES + 1 if fault.refused else 1
    counted: Counts = {("errors", faulted, fault.kind): attempts}
    if fault.refused and RETRIES:
        counted[("retries", faulted)] = RETRIES
    fallback = scenario == "both" or (scenario in ("clean", "redacted") and fault.before_answer)
    if scenario == "both":  # the cloud refused first, then local (the fallback) was faulted
        counted[("errors", "cloud", "connect")] = RETRIES + 1
        if RETRIES:
            counted[("retries", "cloud")] = RETRIES
    if fallback:
        counted[("fallbacks",)] = 1
    fail_reason = None
    outcome: Outcome
    if fallback and scenario != "both":
        outcome = Answered("local", "fallback", rule)
    elif fault.refused:
        if scenario == "sensitive":
            fail_reason = "local_unavailable"
            counted[("fail_closed", fail_reason)] = 1
            outcome = Refused(503, "local_unavailable", "block", "2")
        elif scenario == "both":
            outcome = Refused(502, "upstreams_unavailable", "block")
        else:
            outcome = Refused(502, "upstream_unreachable", "block")
    else:
        assert fault.last is not None
        outcome = fault.last(faulted)
    route = outcome.route
    action = ("fail_closed" if fail_reason == "local_unavailable" else
              "fallback" if fallback else planned_action)
    counted[("decisions", route, action, rule)] = 1
    answered_upstream, answered_status = (
        ("local", 200) if isinstance(outcome, Answered)
        else (faulted, fault.status) if fault.status is not None else (None, None))
    audit = {
        "route": route, "action": action, "rule": rule, "fallback": fallback,
        "fail_reason": fail_reason,
        "status": outcome.status if isinstance(outcome, Refused) else 200,
        "upstream": answered_upstream, "upstream_status": answered_status,
        "entities": {"EMAIL_ADDRESS": 1} if sensitive else {},
        # What the upstream that got the request saw: placeholders only if that was the cloud.
        "redacted": 1 if scenario == "redacted" and route == "cloud" else 0,
    }
    return Case(Request(prompt, stream), outcome, counted, audit, healthy,
                cloud_may_be_asked=scenario != "sensitive",
                redacted_for_cloud=scenario == "redacted",
                local_gets_original=scenario == "redacted" and route == "local")


def reset(up: RecordingUpstream) -> None:
    """Every fault knob back to a healthy upstream's value."""
    up.delay, up.stream_pause, up.body_pause = 0.0, 0.0, 0.0
    up.fail_status, up.fail_body, up.fail_headers = None, None, {}
    up.fail_content_type = "text/plain"
    up.stream_body, up.stream_abort_after, up.body_abort = None, None, False
    up.oversize_bytes = None


def faulted(stack: Stack, up: RecordingUpstream, fault: Fault) -> Callable[[], None]:
    """Apply ``fault`` to ``up``; returns what heals it (a refusing upstream comes back on its
    own port)."""
    if fault.apply is not None:
        fault.apply(up)
        return lambda: reset(up)
    port = up.port
    stack.loop.run(up.stop())
    return lambda: stack.loop.run(up.start(port=port))


@pytest.mark.parametrize(("scenario", "fault", "stream"), list(cells()))
def test_an_upstream_fault_keeps_every_promise(
    make_stack: Any, tmp_path: Path, scenario: str, fault: Fault, stream: bool
) -> None:
    settings = base_settings(tmp_path)
    if scenario == "clean-no-fallback":
        settings["cloud_fallback_to_local"] = False
    if scenario == "redacted":
        policy = tmp_path / "redact.yaml"
        policy.write_text(REDACT_POLICY, encoding="utf-8")
        settings["policy"] = policy
    stack = make_stack(**settings)
    case = expect(scenario, fault, stream)
    heals = []
    if scenario == "both":
        heals.append(faulted(stack, stack.cloud, REFUSED))
    heals.append(faulted(stack, stack.local if scenario in ("sensitive", "both") else stack.cloud,
                         fault))

    def heal() -> None:
        for each in heals:
            each()

    prove(stack, case, tmp_path / "audit.jsonl", heal)


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.name in (
    "hang-mid-stream", "close-mid-stream", "malformed-sse-garbage")], ids=lambda f: f.name)
def test_the_audit_line_tells_a_stream_cut_short_from_a_whole_one(
    make_stack: Any, tmp_path: Path, fault: Fault
) -> None:
    stack = make_stack(**base_settings(tmp_path))
    audit, request = tmp_path / "audit.jsonl", Request(WITH_EMAIL, stream=True)
    heal = faulted(stack, stack.local, fault)
    assert send(stack, request).stream_error
    settled(stack)
    heal()
    assert send(stack, request).text == "reply from local"
    settled(stack)
    cut_short, whole = audit_lines(audit)
    assert stable(cut_short) != stable(whole)


# --- detector faults --------------------------------------------------------------------------

DETECTION_DEADLINE_S = 0.4
"""detection_deadline_ms of the overrun cases (a warm detector reads these prompts in ms)."""


class FaultyRecognizer(PatternRecognizer):
    """A recognizer (as a deployment might register) that raises, or takes longer than the
    request's detection deadline, while ``fault`` says so; otherwise finds nothing."""

    ENTITIES = ("PERSON",)
    CONTEXT = ()

    def __init__(self) -> None:
        super().__init__()
        self.fault: str | None = None
        self.idle = threading.Event()
        self.idle.set()

    def find(self, text: str) -> list[Hit]:
        if self.fault == "raise":
            raise RuntimeError("recognizer crashed")
        if self.fault == "overrun":
            self.idle.clear()
            try:
                time.sleep(DETECTION_DEADLINE_S + 0.15)
            finally:
                self.idle.set()
        return []


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[Detector, FaultyRecognizer]]:
    detector = Detector(cache_size=0)  # no cache: every request runs the recognizer
    detector.load()
    recognizer = FaultyRecognizer()
    detector.add_recognizer("faulty", recognizer)
    # Warm: a healthy request's detection stays far inside the short deadline these cases use.
    detector.analyze_texts([CLEAN, WITH_EMAIL])
    yield detector, recognizer


DETECTOR_FAULTS = {"raise": "detection_error", "overrun": "detection_timeout"}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("local_down", [False, True], ids=["local-up", "local-refused"])
@pytest.mark.parametrize("prompt", [CLEAN, WITH_EMAIL], ids=["clean", "sensitive"])
@pytest.mark.parametrize("mode", list(DETECTOR_FAULTS))
def test_a_detector_fault_keeps_every_promise(
    make_stack: Any, tmp_path: Path, faulty: tuple[Detector, FaultyRecognizer], mode: str,
    prompt: str, local_down: bool, stream: bool,
) -> None:
    detector, recognizer = faulty
    deadline = {"detection_deadline_ms": int(DETECTION_DEADLINE_S * 1000)} if mode == "overrun" \
        else {}
    stack = make_stack(detector_override=detector, **deadline, **base_settings(tmp_path))
    reason = DETECTOR_FAULTS[mode]
    counted: Counts = {("fail_closed", reason): 1}
    outcome: Outcome
    if local_down:
        outcome = Refused(503, "local_unavailable", "block", "2")
        counted |= {("fail_closed", "local_unavailable"): 1,
                    ("errors", "local", "connect"): RETRIES + 1, ("retries", "local"): RETRIES,
                    ("decisions", "block", "fail_closed", "fail_closed"): 1}
        upstream, upstream_status, status = None, None, 503
    else:
        outcome = Answered("local", "fail_closed", "fail_closed")
        counted[("decisions", "local", "fail_closed", "fail_closed")] = 1
        upstream, upstream_status, status = "local", 200, 200
    healthy = (Answered("local", "forward", "contact-details") if prompt == WITH_EMAIL
               else Answered("cloud", "forward", "default"))
    case = Case(
        Request(prompt, stream), outcome, counted,
        {"route": outcome.route, "action": "fail_closed", "rule": "fail_closed",
         "fail_reason": reason, "upstream": upstream, "upstream_status": upstream_status,
         "status": status, "fallback": False, "entities": {"DETECTION_FAILED": 1}},
        healthy, cloud_may_be_asked=prompt == CLEAN)
    heal_local = faulted(stack, stack.local, REFUSED) if local_down else (lambda: None)

    def heal() -> None:
        recognizer.fault = None
        assert recognizer.idle.wait(5)  # the overrunning analysis has let go of its thread
        heal_local()

    recognizer.fault = mode
    try:
        prove(stack, case, tmp_path / "audit.jsonl", heal)
    finally:
        recognizer.fault = None
        recognizer.idle.wait(5)


# --- policy file faults -----------------------------------------------------------------------


def spoil(path: Path, how: str) -> Callable[[], None]:
    """Make ``path`` unusable ``how``; returns what restores it."""
    original = path.read_bytes()
    if how == "deleted":
        path.unlink()
    elif how == "unreadable":
        path.chmod(0)
    elif how == "a-directory":
        path.unlink()
        path.mkdir()

    def restore() -> None:
        if path.is_dir():
            shutil.rmtree(path)
        if path.exists():
            path.chmod(0o644)
        path.write_bytes(original)

    return restore


def keys_file(path: Path, lockdown: Path) -> Path:
    path.write_text("tenants:\n"
                    f"  lab:\n    keys: [{hash_key('lab-key')}]\n    policy: {lockdown}\n"
                    f"  ops:\n    keys: [{hash_key('ops-key')}]\n", encoding="utf-8")
    return path


ROOT_READS_ANYTHING = pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root reads a file whatever its mode: 'a-directory' covers an unreadable file")


@pytest.mark.parametrize(("target", "how"), [
    pytest.param("default", "deleted", id="default-policy-deleted"),
    pytest.param("default", "unreadable", id="default-policy-unreadable",
                 marks=ROOT_READS_ANYTHING),
    pytest.param("default", "a-directory", id="default-policy-replaced-by-a-directory"),
    pytest.param("tenant", "deleted", id="tenant-policy-deleted"),
    pytest.param("tenant", "a-directory", id="tenant-policy-replaced-by-a-directory"),
    pytest.param("keys", "deleted", id="keys-file-deleted"),
])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_policy_file_fault_keeps_every_promise(
    make_stack: Any, tmp_path: Path, target: str, how: str, stream: bool
) -> None:
    default = tmp_path / "default.yaml"
    shutil.copy(DEFAULT_POLICY, default)
    lockdown = tmp_path / "lockdown.yaml"
    lockdown.write_text(LOCKDOWN_POLICY, encoding="utf-8")
    keys = keys_file(tmp_path / "keys.yaml", lockdown)
    stack = make_stack(policy=default, keys_file=keys, policy_poll_s=0.05,
                       **base_settings(tmp_path))
    # The request each fault endangers most: a sensitive one under the default policy (which
    # keeps it local), a clean one of the tenant whose own policy keeps everything local.
    if target == "default":
        request = Request(WITH_EMAIL, stream, api_key="ops-key")
        answer = Answered("local", "forward", "contact-details")
    else:
        request = Request(CLEAN, stream, api_key="lab-key")
        answer = Answered("local", "forward", "default")
    version = send(stack, request).headers["x-sekisho-policy-version"]
    settled(stack)
    assert counts(stack) == {("decisions", "local", "forward", answer.rule): 1}
    restore = spoil({"default": default, "tenant": lockdown, "keys": keys}[target], how)

    def rejected() -> bool:
        return counts(stack).get(("reloads", "error"), 0) == 1

    wait_for(rejected)
    case = Case(request, answer,
                {("reloads", "error"): 1, ("decisions", "local", "forward", answer.rule): 2},
                {"route": "local", "rule": answer.rule, "policy_version": version,
                 "status": 200, "fail_reason": None},
                answer, cloud_may_be_asked=False, audit_tells=False)

    def heal() -> None:
        restore()
        wait_for(lambda: counts(stack).get(("reloads", "success"), 0) == 1)

    prove(stack, case, tmp_path / "audit.jsonl", heal)

