"""Regular expressions that skip, at C speed, the characters no match can start with.

Python's ``re`` tries a pattern at every position of the text unless it can tell what the
pattern's first character must be — and it cannot for an alternation of words under
``IGNORECASE``, or one whose branches begin with ``\\b`` or a look-behind: then each position
walks every branch. The detection's context patterns are such alternations (hundreds of
words, both languages) and are searched over whole sentences and texts, several per finding.

``compile`` reads the parsed pattern for the set of characters a match can begin with and
puts a look-ahead for that set in front: a position outside it fails at one class test, and
every match is the same as the plain pattern's (the look-ahead is zero-width and the set is
a superset of what can be first). Patterns whose first character cannot be bounded — one
that can match the empty string, or begins with a negated class or ``.`` — compile as they
are. ``tests/detection/test_quickre.py`` compares every pattern built here with the plain
one on the corpora's texts.
"""

from __future__ import annotations

import re

# The parser ``re`` compiles with (typeshed has no stubs for these private modules).
import re._constants as _c  # type: ignore[import-not-found]
import re._parser as _p  # type: ignore[import-not-found]
from typing import Any

_CATEGORIES = {_c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_SPACE: r"\s", _c.CATEGORY_WORD: r"\w"}
_REPEATS = tuple(op for op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT",
                                                                       None)) if op is not None)
_ZERO_WIDTH = (_c.AT, _c.ASSERT, _c.ASSERT_NOT)

# Every pattern built here, plain and quick, for the test that compares them.
BUILT: list[tuple[re.Pattern[str], re.Pattern[str]]] = []


def _class_item(op: Any, av: Any) -> str | None:
    if op is _c.LITERAL:
        return re.escape(chr(av))
    if op is _c.RANGE:
        return f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}"
    if op is _c.CATEGORY:
        return _CATEGORIES.get(av)
    return None


def _first(items: Any, fold: bool) -> tuple[set[tuple[str, bool]], bool] | None:
    """The class items a match of ``items`` can begin with, each with whether it is read
    ignoring case (``fold``: under ``(?i:…)``), and whether the match can be empty; None when
    they cannot be bounded."""
    out: set[tuple[str, bool]] = set()
    for op, av in items:
        if op is _c.LITERAL:
            out.add((re.escape(chr(av)), fold))
            return out, False
        if op is _c.CATEGORY:
            item = _CATEGORIES.get(av)
            if item is None:
                return None
            out.add((item, fold))
            return out, False
        if op is _c.IN:
            for o, a in av:
                item = _class_item(o, a)
                if item is None:  # a negated class, a negated category
                    return None
                out.add((item, fold))
            return out, False
        if op in _ZERO_WIDTH:
            continue  # \b, a look-around: the next item still consumes the first character
        if op is _c.SUBPATTERN:
            _, add, remove, sub = av
            inner = _first(sub, (fold or bool(add & re.IGNORECASE))
                           and not remove & re.IGNORECASE)
        elif op is _c.BRANCH:
            inner = None
            results = [_first(b, fold) for b in av[1]]
            if all(r is not None for r in results):
                inner = (set().union(*(r[0] for r in results if r)),
                         any(r[1] for r in results if r))
        elif op in _REPEATS:
            minimum, _, sub = av
            found = _first(sub, fold)
            inner = None if found is None else (found[0], found[1] or minimum == 0)
        else:
            return None  # ANY, NOT_LITERAL, a group reference …
        if inner is None:
            return None
        out |= inner[0]
        if not inner[1]:
            return out, False
    return out, True


_GLOBAL_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")


def compile(pattern: str, flags: int = 0) -> re.Pattern[str]:  # noqa: A001 - re's own name
    """``re.compile(pattern, flags)``, with a look-ahead for the characters a match can begin
    with when they can be bounded."""
    plain = re.compile(pattern, flags)
    found = _first(list(_p.parse(pattern, flags)), False)
    if found is None or found[1] or not found[0]:
        return plain
    # Items read ignoring case only under a scoped (?i:…) keep that flag in the look-ahead; the
    # pattern's own flags apply to the rest as to the pattern.
    plain_items = "".join(sorted(item for item, fold in found[0] if not fold))
    folded = "".join(sorted(item for item, fold in found[0] if fold))
    ahead = "|".join(([f"[{plain_items}]"] if plain_items else [])
                     + ([f"(?i:[{folded}])"] if folded else []))
    head = _GLOBAL_FLAGS.match(pattern)
    lead = head.group() if head else ""
    quick = re.compile(f"{lead}(?={ahead})(?:{pattern[len(lead):]})", flags)
    BUILT.append((plain, quick))
    return quick
