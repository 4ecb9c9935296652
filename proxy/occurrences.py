"""Every place a value occurs in a text, as equal as a reader would take it.

A value found once (a name in the first message) is replaced wherever it occurs in the request:
in other messages and fields, in another case (``GONZALEZ``), inside a longer token
(``maria.gonzalez`` as a username), written with or without its separators (``090-1234-5678``
and ``09012345678``; ``山田太郎`` and ``山田 太郎``). Two values are equal when their keys are:

- a value made of digits only (phones, cards, My Numbers, postal codes) is keyed by its digits,
  a Japanese ``+81`` written as the trunk ``0``, and occurs where a run of digit groups in the
  text (groups joined by one or two separators) has exactly those digits, group-aligned;
- any other value is keyed by its NFKC, case-folded letters, digits and ``@``, and occurs where
  the text's letters, digits and ``@`` (folded alike) hold the key — at word boundaries where
  the key starts or ends with a Latin letter or digit, so ``Li`` is not found in ``List``.

Keys shorter than ``MIN_TEXT_KEY`` characters (two for a key holding CJK characters) or
``MIN_DIGIT_KEY`` digits are found at their detected spans only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MIN_TEXT_KEY = 3
MIN_DIGIT_KEY = 4
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7a3]")
# Digit groups joined by separators people type inside numbers.
_NUMBER = re.compile(r"\+?[0-9]+(?:[\s\-.()/ー‐‑–—−]{1,2}[0-9]+)*")


def value_key(value: str) -> str:
    """The key two equal values share (``#`` + digits for a number)."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    kept = [ch for ch in folded if ch.isalnum() or ch == "@"]
    if kept and all(ch.isdigit() for ch in kept):
        digits = "".join(kept)
        if folded.lstrip().startswith("+81") and len(digits) > 3:
            digits = "0" + digits[2:]
        return "#" + digits
    return "".join(kept)


def searchable(key: str) -> bool:
    """Whether ``key`` is long enough to be looked for beyond its detected spans."""
    if key.startswith("#"):
        return len(key) - 1 >= MIN_DIGIT_KEY
    return len(key) >= (2 if _CJK.search(key) else MIN_TEXT_KEY)


@dataclass(frozen=True, slots=True)
class _Folded:
    """A text folded character by character: the kept characters and where each came from."""

    view: str
    origin: list[int]


def _fold(text: str) -> _Folded:
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for out in unicodedata.normalize("NFKC", ch).casefold():
            if out.isalnum() or out == "@":
                chars.append(out)
                origin.append(i)
    return _Folded("".join(chars), origin)


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def find(text: str, keys: Iterable[str]) -> list[tuple[int, int, str]]:
    """Every occurrence of each key in ``text``: ``(start, end, key)`` in original coordinates."""
    keys = [k for k in keys if searchable(k)]
    found: list[tuple[int, int, str]] = []
    text_keys = [k for k in keys if not k.startswith("#")]
    if text_keys:
        folded = _fold(text)
        for key in text_keys:
            at = folded.view.find(key)
            while at != -1:
                start = folded.origin[at]
                end = folded.origin[at + len(key) - 1] + 1
                if _bounded(text, start, end, key):
                    found.append((start, end, key))
                at = folded.view.find(key, at + 1)
    digit_keys = {k[1:] for k in keys if k.startswith("#")}
    if digit_keys:
        found += _numbers(text, digit_keys)
    return found


def _bounded(text: str, start: int, end: int, key: str) -> bool:
    """Word boundaries where the key starts or ends with a Latin letter or digit."""
    if _word_char(key[0]) and start > 0 and _word_char(text[start - 1]):
        return False
    return not (_word_char(key[-1]) and end < len(text) and _word_char(text[end]))


def _numbers(text: str, keys: set[str]) -> list[tuple[int, int, str]]:
    folded = "".join(unicodedata.normalize("NFKC", ch)[:1] or " " for ch in text)
    found: list[tuple[int, int, str]] = []
    for token in _NUMBER.finditer(folded):
        if token.start() > 0 and folded[token.start() - 1].isalnum():
            continue  # part of an identifier ("A12-345"), not a number
        groups = list(re.finditer(r"[0-9]+", token.group()))
        plus = token.group().startswith("+")
        base = token.start()
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j].group()
                candidates = {digits}
                if i == 0 and plus and digits.startswith("81"):
                    candidates.add("0" + digits[2:])
                hit = candidates & keys
                if hit:
                    start = base + (groups[i].start() - (1 if i == 0 and plus else 0))
                    found.append((start, base + groups[j].end(), "#" + hit.pop()))
                if len(digits) >= max(len(k) for k in keys) + 2:
                    break
    return found
