"""A lexicon of given names and family names in Latin script, from pinned packages.

Why: spaCy's small English NER tags ordinary capitalised words as people ("Summarise",
"Convert", "Kaizen", "Python") and misses real names in prose ("Priya Raghunathan") or in lower
case ("d. patel"). A list of names that people actually carry confirms the first kind of guess
and finds the second kind without a model.

Sources (both pinned in pyproject, read from site-packages at start, never downloaded):

- Faker's person providers: given and family names for about eighty locales, romanised Japanese
  names included. Only Latin-script entries are kept.
- gender-guesser's ``nam_dict.txt`` (Jörg Michael's dictionary, GNU FDL): about 45,000 given
  names from 55 countries, India, West Africa and the Nordic countries among them.

The lexicon holds case-folded single words; multi-word entries ("De la Cruz", "Anne+Marie") are
split into their parts, and parts shorter than three letters or written in lower case (particles
such as "de", "van") are dropped, because they say nothing about a person on their own.
The common words (Faker's 971-word English lorem list, spaCy's English stop words, month and
day names) mark names that are also everyday words ("Will", "May", "Young", "March"): they
still confirm a span that NER already calls a person, but never start a name on their own.
"""

from __future__ import annotations

import importlib
import pkgutil
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from proxy.detection import quickre

__all__ = ["LATIN_LOWER", "LATIN_UPPER", "SENTENCE_END", "Lexicon", "is_product_name",
           "is_thing_word", "lexicon"]

# Letters of Latin-script names for regex character classes: ASCII, Latin-1, Latin Extended-A
# and -B and Latin Extended Additional, split by case ("Łukasz", "Wiśniewska", "Nguyễn Văn
# Hùng", "Đặng"). ASCII-only classes cut such names at the first accented letter.
_LATIN_LETTERS = [chr(c) for c in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))
                  if chr(c).isalpha()]
LATIN_UPPER = "A-Z" + "".join(ch for ch in _LATIN_LETTERS if ch.isupper())
LATIN_LOWER = "a-z" + "".join(ch for ch in _LATIN_LETTERS if ch.islower())

# Where a sentence ends: a line break, Japanese end punctuation, or . ! ? before a space —
# but not after an initial or a title ("W. Edwards Deming", "Dr. Hassan"), which would cut a
# name in two, nor after the abbreviations that stand inside a sentence ("浴衣ver. セット",
# "No. 5", "vs. Acme"), nor inside a quotation (「江戸川コナンくんも愛読！？」というキャッチで).
# A run of . ! ? is tried from its first two characters only (a try from further in ends where
# the one from its second did): tried from every character, a long run of dots cost the square
# of its length. The lookahead first: without it every lookbehind was
# tried at every character of the text (0.38 ms a kilobyte, now 0.05). The canonical text
# writes ！？ as ! ?: between Japanese words they end a sentence with no space after them
# (「本当ですか?あと、うちの…」) — not after a Latin word (Yahoo!ショッピング).
SENTENCE_END = quickre.compile(
    r"\n+|[。！？]+(?![」』）)])|(?<![A-Za-z!?])[!?]+(?=[\u3041-\u30ff\u4e00-\u9fff])|"
    r"(?=[.!?])(?<![A-Z])(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bMrs)(?<!\bProf)"
    r"(?<!\bver)(?<!\bVer)(?<!\bvol)(?<!\bVol)(?<!\bvs)(?<!\bNo)(?<!\bfig)(?<!\bFig)(?<!\bapprox)"
    r"(?<![.!?]{2})[.!?]++(?=\s)"
)
# Head nouns that make a name-looking phrase a thing, not a person: "Phoenix Logistics",
# "Victoria Falls", "Austin office", "Jenkins pipelines", "Aurora cluster", a law named after
# someone ("… Food Donation Act"), a road ("Cheetham Hill Rd"), a ground or a club
# ("Lord Nelson Playing Fields", "Victoria Wanderers"). Checked on the word right after a
# candidate name (capitalised or not).
_THING_WORDS = frozenset("""
    ab ag academy agency airlines airport associates avenue bank bay beach branch bridge building
    bv bros campus co eood gmbh inc kg kk llc llp oy plc pte sa sarl sas spa srl
    capital center centre church ci cinema city clinic cloud cluster college company consulting
    corp corporation council county court dam database district engine estate falls farm
    foods foundation framework fund gallery garden gardens group hall harbour harbor highway
    holdings hospital hotel industries institute instance island lab labs lake lane library
    logistics ltd mall market media motors mountain museum office offices park partners
    pharma pipeline pipelines plant plaza port press project province railway region river
    road school server servers services software solutions square stadium station store
    street studio studios systems team technologies tower town university valley ventures
    warehouse
    aquarium boulevard blvd cathedral memorial monument parkway place terrace theater theatre zoo
    observatory planetarium arboretum deck ropeway cableway funicular
    administration association authority bureau commission department federation ministry
    organisation organization society
    award awards drive fellowship fellowships medal medals prize prizes scholarship scholarships
    act rd ave ln fields rec rovers wanderers rangers athletic albion harriers fc afc
""".split())


# Software, services, AI assistants, companies, car makes, places and lean-manufacturing words
# named like people. Standing alone they name the product in the prompts an LLM gateway sees
# ("Ask Claude to summarise", "We use Okta for SSO", "an Andon cord", "call Dell support"); next
# to another name they are still a person ("Julia Roberts", "Claude Monet"). Only names that
# collide with the lexicon and are not English words matter. Japanese given names that also
# name trains or seasons (Sakura, Nozomi, Hikari) stay names: people carry them far more often.
_PRODUCT_NAMES = frozenset("""
    alexa andon astro aurelia bento boeing bosch cassandra claude cortana dacia dell ferrari
    ford haskell jasmine jenkins julia kafka konami lexus luigi mercedes mizuho mura nikko okta
    philips porsche siemens siri suse tauri travis trino
""".split())


def is_product_name(word: str) -> bool:
    """A product or service named like a person ("Claude", "Okta", "Julia")."""
    return word.casefold() in _PRODUCT_NAMES


_LATIN_NAME = quickre.compile(rf"[{LATIN_UPPER}{LATIN_LOWER}'’\- ]+")
_PART = quickre.compile(r"[ \-+]")

# Provider attributes that hold names. Locales spell them differently ("first_names_female",
# "unisex_last_names", "last_romanized_names"); formats, prefixes and suffixes are not names.
_NAME_ATTR = quickre.compile(r"(first|last|middle)_(romanized_)?names")


@dataclass(frozen=True, slots=True)
class Lexicon:
    given: frozenset[str]
    family: frozenset[str]
    common: frozenset[str]
    english: frozenset[str]
    """English dictionary words (WordNet's, as spaCy's English lemmatizer ships them), which
    includes many names ("john", "smith", "grace") but few that are only names ("sandra")."""

    def is_given(self, word: str) -> bool:
        key = word.casefold()
        return key in self.given or (not key.isascii() and _unaccented(key) in self.given)

    def is_family(self, word: str) -> bool:
        key = word.casefold()
        return key in self.family or (not key.isascii() and _unaccented(key) in self.family)

    def is_name(self, word: str) -> bool:
        return self.is_given(word) or self.is_family(word)

    def is_common(self, word: str) -> bool:
        return word.casefold() in self.common

    def is_english(self, word: str) -> bool:
        return word.casefold() in self.english

    def is_english_form(self, word: str) -> bool:
        """An English word or a plural of one ("Shortcuts", "Policies"): WordNet lists lemmas."""
        key = word.casefold()
        return key in self.english or any(
            key.endswith(suffix) and key[: -len(suffix)] + base in self.english
            for suffix, base in (("s", ""), ("es", ""), ("ies", "y"))
        )


def _unaccented(key: str) -> str:
    """"siobhán" → "siobhan", "seán" → "sean": the sources list many names only without their
    accents, and people write them with (Irish fadas, French and Spanish accents)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", key)
                   if not unicodedata.combining(ch))


def is_thing_word(word: str) -> bool:
    """A head noun of organisation, place and system names ("Logistics", "Falls", "cluster")."""
    return word.casefold() in _THING_WORDS


def _parts(entry: str) -> list[str]:
    if not _LATIN_NAME.fullmatch(entry):
        return []
    return [
        p.casefold() for p in _PART.split(entry.replace("’", "'"))
        if len(p) >= 3 and p[0].isupper()
    ]


def _provider_names(provider: type) -> tuple[list[str], list[str]]:
    """(given, family) names a Faker person provider lists, over its whole class hierarchy.

    Values are tuples, lists or weighted dicts; properties and functions are skipped.
    """
    given: list[str] = []
    family: list[str] = []
    for klass in provider.__mro__:
        for attr, value in vars(klass).items():
            match = _NAME_ATTR.search(attr)
            if match is None or not isinstance(value, (dict, list, tuple, set, frozenset)):
                continue
            entries = [k for k in value if isinstance(k, str)]
            (family if match.group(1) == "last" else given).extend(entries)
    return given, family


def _faker_names() -> tuple[set[str], set[str]]:
    import faker.providers.person as person

    given: set[str] = set()
    family: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = getattr(
            importlib.import_module(f"{person.__name__}.{module.name}"), "Provider", None
        )
        if provider is None:
            continue
        given_names, family_names = _provider_names(provider)
        for entry in given_names:
            given.update(_parts(entry))
        for entry in family_names:
            family.update(_parts(entry))
    return given, family


# Polish family names change with gender (Wiśniewski, Wiśniewska); Faker lists many only in
# the masculine form.
_POLISH_MASCULINE = quickre.compile(r"(?:s|c|dz)ki$")


def _with_feminine_forms(family: set[str]) -> set[str]:
    return family | {f[:-1] + "a" for f in family if _POLISH_MASCULINE.search(f)}


def _nam_dict_names() -> set[str]:
    """Given names from nam_dict.txt: a gender code in columns 1-2, the name in columns 4-29.

    Lines starting with '#' are comments and '=' lines list equivalent spellings, whose names
    also appear on lines of their own.
    """
    text = (resources.files("gender_guesser") / "data" / "nam_dict.txt").read_text("utf-8")
    names: set[str] = set()
    for line in text.splitlines():
        if len(line) < 30 or line[0] in "#=":
            continue
        names.update(_parts(line[3:29].strip()))
    return names


def _common_words() -> set[str]:
    import calendar

    from faker.providers.lorem.en_US import Provider
    from spacy.lang.en.stop_words import STOP_WORDS

    months_and_days = [*calendar.month_name, *calendar.month_abbr, *calendar.day_name,
                       *calendar.day_abbr]
    # Name lists hold the words their sources wrote where a name was missing ("Unknown" is a
    # given name of one of them): the words of a record with no name, never a person's.
    missing = ["unknown", "unnamed", "anonymous", "none", "null", "nil", "baby", "infant"]
    return {w.casefold() for w in [*Provider.word_list, *STOP_WORDS, *months_and_days, *missing]
            if w}


def _english_words() -> set[str]:
    """The word lists of the English model's lemmatizer (WordNet nouns, verbs, adjectives and
    adverbs, and the irregular forms)."""
    from spacy.lookups import Lookups

    from proxy.detection.nlp import EN_MODEL

    package = importlib.import_module(EN_MODEL)
    model_dir = next(Path(str(package.__file__)).parent.glob(f"{EN_MODEL}-*"))
    lookups = Lookups().from_disk(model_dir / "lemmatizer" / "lookups")
    words: set[str] = set()
    index = lookups.get_table("lemma_index")
    for key in index:
        words.update(index[key])
    exceptions = lookups.get_table("lemma_exc")
    for key in exceptions:
        words.update(exceptions[key])
    return words


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The lexicon, built once per process (about 1 s)."""
    given, family = _faker_names()
    given |= _nam_dict_names()
    return Lexicon(frozenset(given), frozenset(_with_feminine_forms(family)),
                   frozenset(_common_words()), frozenset(_english_words()))
