"""One long text cut into pieces that detection workers read in parallel.

A 100 KB prompt (a RAG context, a pasted document) analysed by one worker leaves the others
idle while the request waits. ``plan`` cuts such a text into at most ``parts`` regions, each
read with some of its neighbours' text around it (``CONTEXT`` characters of context, up to
whole lines), and ``merge`` keeps, of each piece's findings, those that start in its own
region: every finding is found by exactly one piece, with the surroundings the rules read
(a label on the line before, a context word, the rest of a value that runs past the region's
end).

A cut is made only where nothing can straddle it: at a blank line, or after a line of prose
that ends a sentence (a blank or a Japanese character in it, a sentence mark at its end) when
the next line does not continue a table. Never inside a line, so never inside a word, a key,
a number or a base64 run; never between a table's rows, whose header names their columns. A
text with no such place (one long CSV, one long line) stays whole.

What is given up: a declaration that the data are made up ("dummy data" at the top) clears
only placeholder-shaped values of its own piece, so a long text may be kept on-prem where the
whole would not — the safe direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from proxy.detection import quickre
from proxy.detection.subjects import Detected

# Below this a text is read whole: the cost of another round trip outweighs the parallelism.
MIN_CHARS = 16_000
CONTEXT = 400
_SENTENCE_MARK = quickre.compile(r"[。！？.!?」』）)]\s*$")
_PROSE = quickre.compile(r"[ \u3000\u3040-\u30ff\u3400-\u9fff]")
_TABLE_SEPARATORS = ("\t", "|", ",", ";")


@dataclass(frozen=True, slots=True)
class Piece:
    """``text[start:end]`` is read; findings starting in ``own_start..own_end`` are kept."""

    start: int
    end: int
    own_start: int
    own_end: int


def _continues_table(line: str, following: str) -> bool:
    return any(line.count(s) >= 1 and following.count(s) == line.count(s)
               for s in _TABLE_SEPARATORS if s in ("\t", "|") or line.count(s) >= 2)


def _cuts(text: str) -> list[int]:
    """Every offset where a piece may begin: the start of a line after a safe line end."""
    cuts: list[int] = []
    lines = text.split("\n")
    pos = 0
    for line, following in zip(lines, lines[1:], strict=False):
        pos += len(line) + 1
        if not line.strip() or not following.strip():
            cuts.append(pos)
        elif (_SENTENCE_MARK.search(line) and _PROSE.search(line)
              and not _continues_table(line, following)):
            cuts.append(pos)
    return cuts


def plan(text: str, parts: int) -> list[Piece]:
    """The pieces of ``text`` for ``parts`` workers: one (the whole text) when it is short, when
    ``parts`` < 2, or when it has no safe place to cut."""
    whole = [Piece(0, len(text), 0, len(text))]
    if parts < 2 or len(text) < MIN_CHARS:
        return whole
    cuts = _cuts(text)
    if not cuts:
        return whole
    chosen: list[int] = []
    for k in range(1, parts):
        target = len(text) * k // parts
        i = min(range(len(cuts)), key=lambda j: abs(cuts[j] - target))
        # Not further than half a piece from where it should be, and not twice the same.
        if abs(cuts[i] - target) <= len(text) // (2 * parts) and (
                not chosen or cuts[i] > chosen[-1]):
            chosen.append(cuts[i])
    if not chosen:
        return whole
    bounds = [0, *chosen, len(text)]
    pieces = []
    for own_start, own_end in zip(bounds, bounds[1:], strict=False):
        # Whole lines of context where they fit in ``CONTEXT`` characters, else up to a blank.
        start = max(0, own_start - CONTEXT)
        if start:
            line = text.find("\n", start, own_start - 1)
            blank = text.find(" ", start, own_start)
            start = line + 1 if line >= 0 else (blank + 1 if blank >= 0 else start)
        end = min(len(text), own_end + CONTEXT)
        if end < len(text):
            line = text.rfind("\n", own_end + 1, end)
            blank = text.rfind(" ", own_end + 1, end)
            end = line if line >= 0 else (blank if blank >= 0 else end)
        pieces.append(Piece(start, end, own_start, own_end))
    return pieces


def merge(pieces: Sequence[Piece], found: Iterable[Sequence[Detected]]) -> tuple[Detected, ...]:
    """The findings of the whole text from each piece's (in the piece's coordinates)."""
    out: list[Detected] = []
    for piece, hits in zip(pieces, found, strict=True):
        for hit in hits:
            start = hit.start + piece.start
            if piece.own_start <= start < piece.own_end:
                out.append(replace(hit, start=start, end=hit.end + piece.start))
    return tuple(sorted(out, key=lambda h: (h.start, h.end, h.entity_type)))
