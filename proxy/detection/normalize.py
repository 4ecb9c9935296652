"""NFKC normalisation with a map back to the original text.

Recognizers see a normalised copy: full-width digits and letters become ASCII, half-width
katakana become full-width, and every dash-like character (ー － ‐ – — ― −, and the middle dot
・) between two digits becomes ``-``, so ``０９０ー１２３４`` is analysed as ``090-1234``. Every
span found in the copy maps back to the exact characters of the original, so redaction cuts
what was written.

A space is also inserted wherever Japanese script touches an ASCII letter or digit
(``番号は4111…です`` → ``番号は 4111… です``). Kana and kanji are word characters to ``re``, so
without it every ``\b``-anchored pattern (Presidio's cards, IBANs, SSNs, e-mail) silently misses
identifiers written inside Japanese sentences. Inserted spaces map to an empty span.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters people type between digit groups instead of a hyphen (after NFKC, which already
# folds U+FF0D to '-'): katakana prolonged sound mark, the hyphen family, the dash family, minus,
# and the katakana middle dot (「090・2231・8874」, half-width ･ becomes ・ under NFKC).
_DASHES = frozenset("ー\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff70\u30fc\u30fb")


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


_DASH_BETWEEN_DIGITS = re.compile(
    "(?<=\\d)[" + "".join(sorted(_DASHES)) + "](?=\\d)"
)
_JA = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
# Where Japanese script touches an ASCII letter or digit, in either order.
_SCRIPT_BOUNDARY = re.compile(f"(?<=[{_JA}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?=[{_JA}])")


def normalize(original: str) -> Normalized:
    n = len(original)
    if original.isascii():
        return Normalized(original, original, tuple(range(n)), tuple(range(1, n + 1)))
    if unicodedata.is_normalized("NFKC", original):
        # The common case for Japanese text typed on a PC: one output character per input one.
        chars = original
        starts: list[int] | range = range(n)
        ends: list[int] | range = range(1, n + 1)
    else:
        out: list[str] = []
        starts, ends = [], []
        i = 0
        while i < n:
            j = i + 1
            while j < n and _joins_previous(original[j]):
                j += 1
            piece = unicodedata.normalize("NFKC", original[i:j])
            out.extend(piece)
            starts.extend([i] * len(piece))
            ends.extend([j] * len(piece))
            i = j
        chars = "".join(out)
    # Fold dashes only between digits: ー inside katakana words (サーバー) must stay a vowel mark.
    text = _DASH_BETWEEN_DIGITS.sub("-", chars)
    cuts = [m.start() for m in _SCRIPT_BOUNDARY.finditer(text)]
    if not cuts:
        return Normalized(original, text, tuple(starts), tuple(ends))
    pieces: list[str] = []
    spaced_starts: list[int] = []
    spaced_ends: list[int] = []
    prev = 0
    for cut in cuts:
        pieces.append(text[prev:cut])
        pieces.append(" ")
        spaced_starts.extend(starts[prev:cut])
        spaced_ends.extend(ends[prev:cut])
        # An inserted space maps to an empty span just before the next original character.
        spaced_starts.append(starts[cut])
        spaced_ends.append(starts[cut])
        prev = cut
    pieces.append(text[prev:])
    spaced_starts.extend(starts[prev:])
    spaced_ends.extend(ends[prev:])
    return Normalized(original, "".join(pieces), tuple(spaced_starts), tuple(spaced_ends))
