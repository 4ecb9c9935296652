"""Detection cost bounded by construction (issue 14).

Each crafted input here once made a pattern super-linear or slow by a millisecond a character:
Presidio's URL pattern on "a.a.a.…", its e-mail pattern on a run before an "@", header-only
tables, runs of punctuation in spaCy's tokenizer, duplicate removal and the context step on
thousands of findings. Each is now analysed in linear time: the CPU time of 100 KB is at most
``LINEAR`` times that of 10 KB (a quadratic cost makes it a hundred), and no recognizer spends
more than ``BUDGET_100K_MS`` on 100 KB (a recognizer at a millisecond a character would spend
100 s). Runs of digits and separators stay costly in libphonenumber: they are read in bounded
windows, and the recognizer budget stops them, failing the request closed. What a flood
surrounds is still found.

Times are CPU times of this thread (``time.thread_time``), so other work on the machine does
not change them much; the analysis also gets a deadline, so a regression fails fast instead of
running for minutes.
"""

from __future__ import annotations

import asyncio
import gc
import random
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import phonenumbers
import pytest
import regex
from conftest import Stack
from presidio_analyzer.predefined_recognizers import EmailRecognizer, UrlRecognizer

from proxy.detection import stock
from proxy.detection.budget import OverBudget
from proxy.detection.detector import Detector
from proxy.detection.engine import _dedupe
from proxy.detection.recognizers.secrets import pem_blocks
from proxy.detection.recognizers.tables import column_cells
from proxy.detection.runner import DetectionOverBudget, Runner
from proxy.detection.subjects import Detected, Subject
from proxy.values import Segment

KB = 1000
LINEAR = 20
BUDGET_100K_MS = 3000
DEADLINE_S = 60.0


def repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def scattered(alphabet: str) -> Callable[[int], str]:
    return lambda n: "".join(random.Random(n).choice(alphabet) for _ in range(n))


BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30FB))

# name: how to make n characters of it (what it once cost at 10 KB, and where).
CRAFTED: dict[str, Callable[[int], str]] = {
    "a.a.a.": repeat("a."),  # 16 s: Presidio's URL pattern
    "eyJa. repeated": repeat("eyJa."),  # 4.9 s: the URL pattern
    "eyJ and a base64 run": lambda n: "eyJ" + scattered(BASE64)(n - 3),
    "dots": repeat("."),  # 30 s: the URL pattern; 1.3 s: sentence ends
    "a@a.a.a.": lambda n: "a@" + repeat("a.")(n - 2),  # 13 s: the URL pattern
    "a run before an @": lambda n: repeat("a/")(n - 1) + "@",  # e-mail pattern, quadratic
    "local parts before @s": repeat("a." * 48 + "@"),
    "at-signs": repeat("@"),
    "x at b dot at dot": lambda n: "x at b" + repeat(" dot at")(n - 6),  # spelled addresses
    "blanks before at": lambda n: " " * (n - 4) + "x @",
    "www.": repeat("www."),  # 6.4 s: the URL pattern
    "header-only table": repeat("| name | dob | mrn |\n"),  # rows read under every header
    "header-only csv": repeat("dob,patient_id\n"),  # 0.4 s, 46 s at 100 KB
    "very many columns": lambda n: repeat("| name ")(n - 2) + "|\n",
    "PEM BEGIN lines": repeat("-----BEGIN PRIVATE KEY-----\n"),  # lazy search per BEGIN
    "colons": repeat(":"),  # 12 s: spaCy's tokenizer
    "percent signs": repeat("%"),  # spaCy's tokenizer
    "brackets": repeat("(("),  # spaCy's tokenizer
    "O'O'": repeat("O'"),  # capitalised name pairs
    "decoded escapes": repeat("\\u0041"),  # 16,000 findings: context step, duplicates
    "addresses": repeat("東京都1-"),  # 20,000 findings: 70 s removing duplicates
    "names": repeat("John "),
    # A list or a table of people is one cast (arbiter's _list_block, _table_block): read per
    # block, not per name.
    "a list of names": repeat("- John Smith\n"),
    "a list of Japanese names": repeat("・田中 太郎\n"),
    "a table of names": repeat("| John Smith | Emily Hall |\n"),
    "Japanese without punctuation": repeat("東京都港区の会社で働いている田中さんは毎日確認する"),
    "katakana": scattered(KATAKANA),
    "birth labels": repeat("誕生日"),
    "digits": repeat("1234567890"),
    "base64": scattered(BASE64),
}

# Runs of digits and separators: libphonenumber's matcher costs up to 2 ms a character there.
DIGIT_FLOODS: dict[str, Callable[[int], str]] = {
    "1/1/1/": repeat("1/"),
    "1 1 1": repeat("1 "),
    "1-1-1-": repeat("1-"),
    "card-like groups": repeat("4111 1111 1111 1111 "),
    "IBAN-like groups": lambda n: "DE89 " + repeat("3704 0044 0532 0130 00 ")(n - 5),
}


def cpu_seconds(detector: Detector, text: str, budget_ms: int) -> float:
    """CPU time of one analysis, with the cyclic garbage collector paused: its full collections
    scan every live object, so their cost grows with the allocations of the whole test session,
    not with the text (measured: ±50% on the same 100 KB), which is not what linearity is about."""
    gc.collect()
    gc.disable()
    try:
        started = time.thread_time()
        detector.engine.analyze_subjects([Subject(text)], deadline=time.monotonic() + DEADLINE_S,
                                         budget_ms=budget_ms)
        return time.thread_time() - started
    finally:
        gc.enable()


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_input_costs_linear_time(detector: Detector, name: str) -> None:
    make = CRAFTED[name]
    small = cpu_seconds(detector, make(10 * KB), BUDGET_100K_MS)
    large = cpu_seconds(detector, make(100 * KB), BUDGET_100K_MS)
    assert large <= LINEAR * max(small, 0.05), (small, large)


@pytest.mark.parametrize("name", list(DIGIT_FLOODS))
def test_a_digit_flood_fails_closed_within_the_budget(detector: Detector, name: str) -> None:
    started = time.thread_time()
    with pytest.raises(OverBudget) as info:
        detector.engine.analyze_subjects([Subject(DIGIT_FLOODS[name](100 * KB))],
                                         deadline=time.monotonic() + DEADLINE_S, budget_ms=300)
    # The phone matcher, usually; on card-like groups the card recognizer spends its 300 ms
    # about as fast, and which one passes first is a matter of timing. Either way the failure
    # names a recognizer, never the text.
    assert info.value.recognizer in {"WindowedPhoneRecognizer", "CardRecognizer"}
    assert DIGIT_FLOODS[name](64) not in str(info.value)
    # Unbounded, the phone numbers of these 100 KB cost 15 to 60 s.
    assert time.thread_time() - started < 4.0


def test_the_phone_matcher_never_reads_more_than_a_window(
    detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    lengths: list[int] = []
    matcher = phonenumbers.PhoneNumberMatcher

    def spy(text: str, *args: Any, **kwargs: Any) -> Any:
        lengths.append(len(text))
        return matcher(text, *args, **kwargs)

    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", spy)
    text = "call +1 415-555-0100 or " + repeat("1/")(20 * KB)
    with pytest.raises(OverBudget):
        detector.engine.analyze_subjects([Subject(text)], budget_ms=200)
    assert lengths and max(lengths) <= stock._MAX_STRETCH + 2


# --- the budget fails the request closed ----------------------------------------------------


def test_a_recognizer_over_its_budget_fails_the_analysis_with_reason_budget(
    detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detector, "recognizer_budget_ms", 0)
    runner = Runner(detector, threads=1, max_pending=2)
    segments = [Segment("messages[0].content", "The budget test: write to rin.abe@example.jp")]
    try:
        with pytest.raises(DetectionOverBudget) as info:
            asyncio.run(runner.analyze(segments, timeout=30))
    finally:
        runner.close()
    assert info.value.reason == "budget"
    assert re.fullmatch(r"\w+Recognizer spent [0-9.]+ s of CPU time, over its budget of 0.000 s",
                        str(info.value))


def test_a_request_over_budget_never_reaches_the_cloud(
    detector: Detector, make_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detector, "recognizer_budget_ms", 0)
    stack: Stack = make_stack()
    raw = stack.openai().chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Over budget: explain TCP slow start."}])
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "fail_closed"
    assert stack.posts(stack.cloud) == []
    with urllib.request.urlopen(stack.metrics_url, timeout=5) as resp:
        metrics = resp.read().decode()
    assert 'sekisho_fail_closed_total{reason="detection_budget"} 1.0' in metrics


# --- what a flood surrounds is still found --------------------------------------------------

PEM = ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
       "-----END PRIVATE KEY-----")
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")


@pytest.mark.parametrize(
    ("flood", "tail", "entity", "value"),
    [
        ("a.", " write to hana.ito@example.jp", "EMAIL_ADDRESS", "hana.ito@example.jp"),
        ("a.", " card 4111 1111 1111 1111", "CREDIT_CARD", "4111 1111 1111 1111"),
        ("a.", " see https://example.com/orders/7", "URL", "https://example.com/orders/7"),
        ("a.", " call me on 090-1234-5678", "JP_PHONE_NUMBER", "090-1234-5678"),
        ("eyJa.", f" token {JWT}", "SECRET_JWT", JWT),
        ("@", " and mail ken.sato@example.co.jp", "EMAIL_ADDRESS", "ken.sato@example.co.jp"),
        ("| name | dob |\n", "| Taro Yamada | 1970-03-12 |", "DATE_OF_BIRTH", "1970-03-12"),
        ("-----BEGIN PRIVATE KEY-----\n", f"\n{PEM}", "SECRET_PRIVATE_KEY", PEM),
        (" ", "mail taro at example dot co dot jp", "EMAIL_ADDRESS",
         "taro at example dot co dot jp"),
        ("O'", " contact JOHN SMITH", "PERSON", "JOHN SMITH"),
        ("東京都の", "電話は090-1234-5678です", "JP_PHONE_NUMBER", "090-1234-5678"),
    ],
)
def test_what_a_flood_surrounds_is_still_found(
    detector: Detector, flood: str, tail: str, entity: str, value: str
) -> None:
    text = repeat(flood)(50 * KB) + tail
    start = text.rindex(value)
    found = detector.analyze([Segment("messages[0].content", text)])
    assert any(f.entity_type == entity and f.start <= start and start + len(value) <= f.end
               for f in found), [(f.entity_type, f.start, f.end) for f in found][-5:]


# --- the bounded mechanisms find what the unbounded ones found ------------------------------

URL_TEXTS = [
    "see https://docs.example.com/a/b?c=d and 'www.test.org' or (http://x.io)",
    '"https://Example.COM/path" and example.community and www12.shop.co.uk/x',
    "mail a.b@c.co.uk, host foo.bar.baz, 1.2.3.4 and a.a.a.a.a",
    "'" + "a" * 250 + ".com' " + "b" * 260 + ".jp/" + "c" * 270 + ".org",
    "xn--bcher-kva.ch/über 'http://www1." + "ab" * 126 + ".io'",
]


def test_url_windows_hold_every_match_of_presidios_url_patterns() -> None:
    flags = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
    patterns = [regex.compile(p.regex, flags) for p in UrlRecognizer.PATTERNS]
    for text in URL_TEXTS:
        windows = stock.url_windows(text)
        for pattern in patterns:
            everywhere = [m.span() for m in pattern.finditer(text)]
            windowed = [(m.start() + start, m.end() + start)
                        for start, end in windows for m in pattern.finditer(text[start:end])]
            assert windowed == everywhere, text


def test_the_windowed_url_recognizer_reports_what_presidios_does() -> None:
    for text in URL_TEXTS:
        ours = stock.WindowedUrlRecognizer().analyze(text, ["URL"])
        theirs = UrlRecognizer().analyze(text, ["URL"])
        assert (sorted((r.start, r.end, r.score) for r in ours)
                == sorted((r.start, r.end, r.score) for r in theirs)), text


def test_email_windows_hold_every_match_of_presidios_email_pattern() -> None:
    flags = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
    pattern = regex.compile(EmailRecognizer.PATTERNS[0].regex, flags)
    texts = ["a@b.co x.y+z@mail.example.jp", "@@a@b.c@d.e", "1/2/3@x.com ab.@c.com",
             "user.name@sub-domain.example.com.", "東京taro@example.jp。", "a-@b--c.d_e"]
    for text in texts:
        everywhere = [m.span() for m in pattern.finditer(text)]
        windowed = [(m.start() + start, m.end() + start)
                    for start, end in stock.email_windows(text)
                    for m in pattern.finditer(text[start:end])]
        assert windowed == everywhere, text


def test_duplicate_removal_keeps_what_the_pairwise_rule_keeps() -> None:
    shadowed_by = {"URL": ("EMAIL_ADDRESS",), "PHONE_NUMBER": ("JP_PHONE_NUMBER",),
                   "PERSON": ("EMAIL_ADDRESS",)}

    def pairwise(hits: list[Detected]) -> list[Detected]:
        best: dict[tuple[str, int, int], Detected] = {}
        for h in hits:
            key = (h.entity_type, h.start, h.end)
            if key not in best or h.score > best[key].score:
                best[key] = h
        kept = [h for h in best.values() if not any(
            o is not h and o.start <= h.start and h.end <= o.end
            and (o.entity_type in shadowed_by.get(h.entity_type, ())
                 or o.entity_type == h.entity_type and o.score >= h.score)
            for o in best.values())]
        return sorted(kept, key=lambda h: (h.start, h.end, h.entity_type))

    rng = random.Random(14)
    types = ["URL", "EMAIL_ADDRESS", "PHONE_NUMBER", "JP_PHONE_NUMBER", "PERSON"]
    for _ in range(500):
        hits = []
        for _ in range(rng.randint(0, 25)):
            start = rng.randint(0, 20)
            hits.append(Detected(rng.choice(types), rng.choice([0.4, 0.6, 0.6, 1.0]), start,
                                 start + rng.randint(1, 8), "r", "en"))
        assert _dedupe(hits) == pairwise(hits)


def test_pem_blocks_are_those_of_the_lazy_pattern() -> None:
    label = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
    lazy = re.compile(
        r"-----BEGIN " + label + r"-----(?:.*?-----END " + label + r"-----"
        r"|(?P<rest>(?:(?:\r?\n|\\n)[ \t]*(?:(?:Proc-Type|DEK-Info):[^\n\\]*"
        r"|[A-Za-z0-9+/=]{4,}))+))", re.DOTALL)
    parts = ["-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
             "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", "\n", "\\n", "MIIEab",
             "Proc-Type: 4", " ", "-----", "\n\n"]
    rng = random.Random(14)
    for _ in range(2000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 10)))
        assert list(pem_blocks(text)) == [(m.start(), m.end(), m.group("rest") is not None)
                                          for m in lazy.finditer(text)], text


def test_a_repeated_header_starts_its_table_again() -> None:
    text = "name,dob\nTaro,1970-03-12\nname,dob\nHana,1985-04-01\n"

    def kind(cell: str) -> str | None:
        return "DOB" if cell == "dob" else None

    assert list(column_cells(text, kind)) == [("DOB", 14, "1970-03-12"),
                                               ("DOB", 39, "1985-04-01")]
