"""NFKC normalisation with a map back to the original text.

Recognizers see a normalised copy: full-width digits and letters become ASCII, half-width
katakana become full-width, and every dash-like character (ー － ‐ – — ― −) between two
digits becomes ``-``, so ``０９０ー１２３４`` is analysed as ``090-1234``. Every span found in
the copy maps back to the exact characters of the original, so redaction cuts what was written.

A space is also inserted wherever Japanese script touches an ASCII letter or digit
(``番号は4111…です`` → ``番号は 4111… です``). Kana and kanji are word characters to ``re``, so
without it every ``\b``-anchored pattern (Presidio's cards, IBANs, SSNs, e-mail) silently misses
identifiers written inside Japanese sentences. Inserted spaces map to an empty span.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Characters people type between digit groups instead of a hyphen (after NFKC, which already
# folds U+FF0D to '-'): katakana prolonged sound mark, the hyphen family, the dash family, minus.
_DASHES = frozenset("ー\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff70\u30fc")


def _joins_previous(ch: str) -> bool:
    # Combining marks and half-width (semi-)voiced sound marks compose with the character before
    # them under NFKC (ｶﾞ → ガ), so they must be normalised together with it.
    return unicodedata.combining(ch) != 0 or ch in "\uff9e\uff9f"


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text and, per normalised character, the original span it came from."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span ``[start, end)`` of the normalised text to the original text."""
        if start >= end:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], max(self.ends[end - 1], self.starts[start])


def normalize(original: str) -> Normalized:
    if original.isascii():
        n = len(original)
        return Normalized(original, original, tuple(range(n)), tuple(range(1, n + 1)))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(original)
    while i < n:
        j = i + 1
        while j < n and _joins_previous(original[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", original[i:j])
        for ch in piece:
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    # Fold dashes only between digits: ー inside katakana words (サーバー) must stay a vowel mark.
    for k in range(1, len(out) - 1):
        if out[k] in _DASHES and out[k - 1].isdigit() and out[k + 1].isdigit():
            out[k] = "-"
    spaced: list[str] = []
    spaced_starts: list[int] = []
    spaced_ends: list[int] = []
    prev_kind = 0
    for ch, st, en in zip(out, starts, ends, strict=True):
        kind = _script(ch)
        if kind and prev_kind and kind != prev_kind:
            spaced.append(" ")
            spaced_starts.append(st)
            spaced_ends.append(st)
        prev_kind = kind
        spaced.append(ch)
        spaced_starts.append(st)
        spaced_ends.append(en)
    return Normalized(original, "".join(spaced), tuple(spaced_starts), tuple(spaced_ends))


_ASCII_ALNUM = 1
_JAPANESE = 2


def _script(ch: str) -> int:
    if ch.isascii():
        return _ASCII_ALNUM if ch.isalnum() else 0
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
        return _JAPANESE
    return 0
