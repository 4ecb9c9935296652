"""Shared by the leak tests: synthetic values and the check of what the cloud received.

The decisive assertion of every privacy test is on what the cloud upstream received. ``forms``
are the ways a reader could still recognise a value there: as written, NFKC-folded and
case-folded, without separators, and decoded the ways Sekisho decodes (escapes, percent,
entities, base64), so a value sent encoded still counts as sent.
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
import string
import unicodedata
import urllib.parse
from typing import Any

from upstream import RecordingUpstream


def luhn(partial: str) -> str:
    """``partial`` with its Luhn check digit appended (a valid-looking card number)."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return partial + str((10 - total % 10) % 10)


def my_number(first_eleven: str) -> str:
    """A My Number: 11 digits and their check digit."""
    total = sum(int(first_eleven[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = total % 11
    return first_eleven + str(0 if r <= 1 else 11 - r)


_rng = random.Random(20261201)


def token(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """Random key material (seeded), with every class the alphabet has."""
    while True:
        value = "".join(_rng.choice(alphabet) for _ in range(n))
        if all(any(c(ch) for ch in value) for c in (str.islower, str.isupper, str.isdigit)
               if any(c(ch) for ch in alphabet)):
            return value


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _squeeze(text: str) -> str:
    return re.sub(r"[\s\-‐‑–—ー－・.()（）/_]", "", _fold(text))


def decoded_forms(text: str) -> list[str]:
    forms = [text, urllib.parse.unquote(text), html.unescape(text)]
    forms.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    for candidate in re.findall(r"[A-Za-z0-9+/_-]{12,}={0,2}", text):
        try:
            raw = base64.b64decode(candidate + "=" * (-len(candidate) % 4),
                                   altchars=b"-_" if "-" in candidate or "_" in candidate
                                   else None)
            forms.append(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
    return forms


def readable(value: str, received: str) -> bool:
    """Whether ``value`` can be read in ``received`` in any of its forms."""
    forms = decoded_forms(received)
    if any(value in f or _fold(value) in _fold(f) for f in forms):
        return True
    squeezed = _squeeze(value)
    return len(squeezed) >= 6 and any(squeezed in _squeeze(f) for f in forms)


def readable_values(values: list[str], received: str) -> list[str]:
    """Those of ``values`` readable in ``received`` (``readable`` for many values at once: the
    received text is decoded and folded once)."""
    forms = decoded_forms(received)
    folded = [_fold(f) for f in forms]
    squeezed_forms = [_squeeze(f) for f in forms]
    found = []
    for value in values:
        squeezed = _squeeze(value)
        if (any(value in f for f in forms) or any(_fold(value) in f for f in folded)
                or (len(squeezed) >= 6 and any(squeezed in f for f in squeezed_forms))):
            found.append(value)
    return found


def cloud_text(cloud: RecordingUpstream) -> str:
    """Everything the cloud upstream received in POST bodies, as raw text."""
    return "\n".join(r.raw.decode("utf-8", "replace") for r in cloud.requests
                     if r.method == "POST")


def assert_cloud_never_saw(cloud: RecordingUpstream, *values: str) -> None:
    received = cloud_text(cloud)
    for value in values:
        assert not readable(value, received), "a sensitive value reached the cloud"


def body_json(obj: Any) -> str:
    """``obj`` as Python's json.dumps writes it by default: ASCII, \\u escapes."""
    return json.dumps(obj)
