"""What a finding is, read in its surroundings: the last step of a subject's analysis.

The recognizers say what a span looks like: a phone number, an address, a person's name. Whether
it is personal data depends on what the text says about it, and four kinds of text say it is
not, in every domain (found by blind probes; see the README's detection section):

- **Placeholders.** Values nobody can have: all zeros (``000-0000-0000``, ``0000 0000 0000``),
  where the text speaks of testing, a network's test card (``4111 1111 1111 1111``,
  ``4242 4242 …``), masked characters (``19XX``, ``○○町``). And values marked as examples:
  labelled right before (``記入例：``, ``e.g.``) or right after (``（仮名）``, ``(fictional)``),
  or in a text that declares its data made up (``ダミーデータ``, ``fictional test record``) when
  the value itself has a placeholder's shape: the conventional placeholder people (``John Doe``,
  ``山田 太郎``), a Japanese "name" whose family part is an ordinary noun (``保険 太郎``,
  ``テスト 花子`` — forms are filled in with the form's own subject), 1 January, an address of
  ``Sample Street, Anytown``. A declaration alone never clears a value: "replace these names
  with dummy ones: …" declares nothing about the names that follow.
- **Numbers labelled as something else.** A phone-shaped number right after a label that names
  another identifier (``SN``, ``ref``, ``注文番号``, ``パレットID``, ``lot``) is that identifier.
- **Organisations' contact details.** A switchboard, a head office, a city hall's counter or a
  landmark's address is published by its owner: a number or address labelled as an
  organisation's (``代表``, ``main line``, ``本社``, ``所在地``, ``head office``) or written in
  parentheses right after an organisation's or a place's name (``浅草寺（東京都台東区…）``,
  ``Shinjuku City Office (1-4-1 Kabukicho …)``) becomes ``PUBLIC_CONTACT``, unless the same
  stretch of text names a person, labels the value as someone's (``住所``, ``携帯``, ``home``), or
  the number is a Japanese mobile. A policy can still route ``PUBLIC_CONTACT``; the default does
  not.
- **People written about as public figures or characters.** A Japanese full name that Sudachi's
  dictionary holds as one entry (``坂本龍馬``, ``伊藤博文``: the dictionary lists historical and
  public figures by full name, and ordinary people's names only as a family and a given name),
  a name inside a work's title (``『サザエさん』``), and names in a sentence that names a work
  (``『名探偵コナン』のコナンくん``) or calls them characters become ``PUBLIC_FIGURE`` — unless
  the text also addresses or labels a person in the same line (``様``, ``氏名：``, ``Dear``).

Credentials are never touched: a placeholder-looking key is still a key to someone.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache

from proxy.detection import notable, quickre
from proxy.detection.names import SENTENCE_END, is_thing_word, lexicon
from proxy.detection.nlp import dictionary_entries, name_readings
from proxy.detection.notable import is_common_family, is_notable
from proxy.detection.recognizers.romaji_names import to_romaji
from proxy.detection.recognizers.tables import column_cells
from proxy.detection.spans import SpanIndex
from proxy.detection.stock import FICTIONAL_NUMBER, phone_entered_as_other
from proxy.detection.subjects import Detected, Subject

__all__ = ["RETYPED", "arbitrate", "is_placeholder_number", "is_test_number", "load"]

PUBLIC_CONTACT = "PUBLIC_CONTACT"
PUBLIC_FIGURE = "PUBLIC_FIGURE"
RETYPED = (PUBLIC_CONTACT, PUBLIC_FIGURE)

_PHONES = frozenset({"PHONE_NUMBER", "JP_PHONE_NUMBER"})
_CONTACTS = _PHONES | {"JP_ADDRESS", "STREET_ADDRESS", "JP_POSTAL_CODE"}
# Identifiers read from digits: a placeholder's digits clear them.
_NUMBERED = _PHONES | {
    "CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER", "US_SSN", "US_ITIN", "US_PASSPORT",
    "US_DRIVER_LICENSE", "JP_MY_NUMBER", "JP_POSTAL_CODE", "JP_DRIVER_LICENSE", "JP_PASSPORT",
    "JP_RESIDENCE_CARD",
    "JP_HEALTH_INSURANCE", "JP_BANK_ACCOUNT", "MEDICAL_LICENSE", "MEDICAL_RECORD",
}
_CARDS = frozenset({"CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER", "JP_BANK_ACCOUNT"})
# Values masked characters clear (○○町, 19XX-XX-XX).
_MASKABLE = _NUMBERED | {"DATE_OF_BIRTH", "JP_ADDRESS", "STREET_ADDRESS"}
# What a cue may clear: personal data, never a credential or a content flag.
_CLEARABLE = _MASKABLE | _CONTACTS | {"PERSON", "EMAIL_ADDRESS"}
# What a stated declaration clears without a placeholder's shape: the values forms and examples
# are filled in with. Identifiers that open an account or a record (cards, My Numbers, bank
# accounts) still need a placeholder's digits: a careless test pastes real ones.
_STATED_CLEARABLE = _CONTACTS | {"PERSON", "EMAIL_ADDRESS", "DATE_OF_BIRTH"}

# A name written only in masks (〇〇 〇〇 様, ×× ××).
_MASKED_NAME = quickre.compile(
    r"[Xx×○〇●◯＊*]{2,}(?:[ \u3000・]+[Xx×○〇●◯＊*]{2,})*[ \u3000]*(?:様|さん|殿)?")
# Masked characters; 〇 alone is the kanji zero (〇八〇 is 080).
_MASKED = quickre.compile(r"[Xx×○〇●◯＊*]{2,}|[○●◯]")

# -- placeholders -----------------------------------------------------------------------------

# Words that declare the data of a text made up. "sample"/"test"/"example" alone are too common
# ("test results", "for example") to declare anything; with a data word they do.
_DECLARED = quickre.compile(
    # Not inside another word: ダミーカメラ, 架空請求 and 架空口座 (frauds), 平仮名, テスト用紙.
    r"ダミー(?!カメラ|会社)|架空(?!請求|口座|取引|発注|計上|名義)|記入例|入力例|記入見本|例示用|"
    # 「※実在の人物ではありません」: the negation says the people are not real.
    r"実在の(?:人物|方|個人|人|団体)(?:で|じゃ)(?:は|も)?(?:ありません|ない)|"
    # (Look-behinds after the word they check: a pattern that begins with one is tried at every
    # character of the text, one that begins with a word only where the word's letter is.)
    r"説明用の(?:架空|サンプル)|仮名(?<!読み仮名)(?<!振り仮名)(?<!ふり仮名)(?<!平仮名)(?<!片仮名)(?<!万葉仮名)|"
    r"サンプルデータ|テストデータ|テスト用(?!紙)|実在しない|"
    # English "dummy" is also a thing (a baby's dummy, a tailor's, a crash-test dummy): it
    # declares data only before a data word, as a predicate ("these are dummies") or a label.
    r"\bdumm(?:y|ies)(?=\s+(?:data|records?|values?|names?|entr(?:y|ies)|accounts?|users?|"
    r"customers?|patients?|persons?|people|personas?|profiles?|details|info|addresses|e-?mails?|"
    r"numbers?|rows?|contacts?|guests?|members?|employees?|text|content|inputs?|fields?|cards?|"
    r"phones?|files?|sets?|tables?)\b)|"
    r"dumm(?:y|ies)\b(?:" + "|".join(
        rf"(?<={before}{word})" for word in ("dummy", "dummies")
        for before in (*(rf"\b{w} " for w in ("are", "is", "all", "just", "only", "as", "be",
                                              "use", "with", "of")), r"[\[(【]")) + r")|"
    r"\bdummy(?=\s*[:：-])|"
    r"fictional|fictitious|placeholders?\b|made[- ]up|\bfor\s+illustration(?:\s+only)?\b|"
    r"\billustrative\s+(?:only|purposes)\b|"
    r"fake\b(?!\s+(?:delivery|parcel|text|sms|call|e-?mail|invoice|bill|website|site|account|"
    r"check|cheque|review|job|bank|police|support)s?\b)|"
    r"\bnot\s+(?:a\s+)?real\b|\bnobody\s+real\b|\bno\s+real\s+(?:people|persons?|names?|data)\b|"
    r"\bdemo\s+(?:personas?|data|users?|accounts?|records?)\b|"
    # A developer's seed data (placeholder-shaped values only: not _STRONG). Not "fixture",
    # which a request makes from real rows ("Convert to a CSV fixture: … 'Hannah Schulz'").
    r"\bseed\s+(?:data|files?|records?)\b|"
    r"\b(?:sample|test|example|mock)\s+(?:data|records?|values?|names?|entr(?:y|ies)|renders?|"
    r"outputs?|previews?|payloads?|requests?|responses?|json|"
    r"fixtures?|customers?|users?|residents?|patients?|guests?|tenants?)\b",
    re.IGNORECASE,
)
_TESTING = quickre.compile(
    r"\btest(?:s|ing)?\b|テスト|sandbox|\bQA\b|dummy|placeholder|sample|fictional|ダミー|サンプル|"
    r"記入例|入力例|見本",
    re.IGNORECASE,
)
# A cue attached to the value: a label right before it ("記入例：", "e.g.", "サンプル表記は「")…
# Two kinds. The words that say a value is not real (記入例, dummy, fictional) clear any value
# they label; the words that only say "an example" (例, サンプル, e.g., sample) also introduce a
# real customer's record given as an example ("e.g. 27 Kelvin Drive, Flat 3/2, Glasgow …"), so
# they clear only a value with an example's shape (``_example_shaped``).
_CUE_LABEL_TAIL = (
    r"(?:表記|欄|データ|値|名|\s*(?:values?|numbers?|records?|data|names?|entry|address(?:es)?|"
    r"cards?|accounts?|ibans?|formats?))?"
    r"\s*(?:は|が|として|:|：|=|like|such as)?\s*[「『\"“'(（\[]?(?:\s*(?-i:[A-Z]{2,5}))?\s*$")
_CUE_BEFORE = quickre.compile(
    r"(?:記入例|入力例|ダミー|テスト用|架空|placeholder|dummy|fictional|fake|"
    r"\btest\s+(?=cards?\b|numbers?\b|accounts?\b|ibans?\b))" + _CUE_LABEL_TAIL + "|"
    # A label marked as a sample in brackets, then the value — a family name in capitals may
    # come first ("Name (SAMPLE): KOKUZEI Taro").
    r"[(（\[]\s*(?:sample|example|dummy|fictional|fake|サンプル|記入例|ダミー|架空)\s*[)）\]]"
    r"\s*[:：]\s*(?:[A-Z][A-Za-z'’-]*\s+)?$",
    re.IGNORECASE,
)
_WEAK_CUE_BEFORE = quickre.compile(
    r"(?:例|サンプル|テストケース|sample|example|test\s+(?:cases?|inputs?)|e\.g\.|eg\.)"
    # (… or what a sample shows: 「サンプル画像にある AB12345678CD」.)
    r"(?:(?:画像|データ|値|帳票)?(?:に|の)?(?:ある|載っている|記載の|出ている))?"
    + _CUE_LABEL_TAIL,
                              re.IGNORECASE)
# … or a remark in brackets right after it ("山田 花子 様（仮名）", "555-0123 (fictional)"). An
# example word must be all the bracket says — "（サンプル）", "(example only)" — for a remark
# about something else ("浅野 理沙子 様（サンプルとして1通だけ貼ります）": one e-mail pasted as a
# sample) says nothing about the name.
_CUE_AFTER = quickre.compile(
    r"^\s*(?:様|さん|氏)?\s*[」』\"”']?\s*(?:[（(\[※]\s*※?\s*|(?:のような|みたいな|などの)\s*(?:明らかな|架空の)?)"
    r"(?:仮名|架空|ダミー|記入例|テスト用|"
    r"fictional|fictitious|placeholder|dummy|made[- ]up|fake|not real|"
    r"(?:(?!real\b|actual\b)[A-Za-z][\w-]{0,11}\s+)?"
    r"(?:サンプル|例|sample|example)\s*(?:です|のみ|only|data)?\s*(?:[)）\]]|$))",
    re.IGNORECASE,
)
# … or inside brackets a cue opens: "[SAMPLE: John Sample, sample@example.com, +1 555-0100]",
# "（例：…）" — the cue speaks for everything up to the closing bracket.
_CUE_BRACKET = quickre.compile(
    r"[\[(（［]\s*(?:記入例|入力例|ダミー|架空|placeholder|dummy|fictional|fake)s?(?![a-z])"
    r"[^\])）］\n]*$",
    re.IGNORECASE,
)
# … or given as the shape of a format ("「090-1234-5678」のような3-4-4形式").
_FORMAT_AFTER = quickre.compile(
    r"^\s*[」』\"”']?\s*(?:(?:のような|みたいな|などの)\s*(?:[\d-]+\s*)?)?"
    r"(?:形式|形(?![成態跡])|フォーマット|書式|パターン|(?:ハイフン|スペース)?区切り|表記)")
# … or named as the kind of data a developer's question shows ("emails like …", "numbers such
# as …"), the value first in a list or after other values of it ("例:090-…、080…").
_DATA_LIKE = quickre.compile(
    r"\b(?:numbers?|e-?mails?|e-?mail\s+addresses|addresses|values|strings|inputs|formats?|ids|"
    r"identifiers|mobiles|phones|landlines|postcodes|zip\s+codes|cards|accounts|ibans)\b(?:\s+[\w-]+){0,5}?\s+"
    r"(?:like|such\s+as|in\s+(?:the|a)\s+(?:format|form|shape)(?:\s+of)?)(?:\s+e\.g\.)?\s*[\"'“(]?"
    r"(?:\s*(?-i:[A-Z]{2,5}))?\s*$",
    re.IGNORECASE,
)
# What stands between two values of a list (the text is NFKC-folded: "，" is ",").
_LIST_SEPARATOR = r"(?:、|,|/|\band\b|\bor\b|や|と|及び|[」』\"”]\s*[、,]?\s*[「『\"“])"
# Between two values of a list, a code may name the second's kind ("… or UPC 0-36000-…").
_LIST_GLUE = quickre.compile(rf"\s*{_LIST_SEPARATOR}\s*(?:(?-i:[A-Z]{{2,5}})\s+)?", re.IGNORECASE)
# The conventional placeholder people of forms and documentation, in the languages of the
# product's users. A list, because a convention is a list: nothing in the names themselves says
# "placeholder", and each is also someone's real name, so they count only where the text
# declares its data made up (or, for the Doe family, where nobody's real record would say Doe).
_PLACEHOLDER_PEOPLE = frozenset({
    "山田太郎", "山田花子", "山田一郎", "鈴木太郎", "鈴木花子", "田中太郎", "田中花子",
    "やまだたろう", "やまだはなこ", "ヤマダタロウ", "ヤマダハナコ",
    "taroyamada", "yamadataro", "hanakoyamada", "yamadahanako",
    "johndoe", "janedoe", "johnqpublic", "joebloggs", "maxmustermann", "erikamustermann",
    "richardroe", "johnsmith", "janesmith",
})
_PLACEHOLDER_FAMILY = frozenset({
    "sample", "example", "test", "tester", "testcase", "mock", "placeholder", "dummy", "demo",
    "doe", "user",
    "customer", "guest", "person", "resident", "patient", "student", "applicant"})
# Japanese order puts the form's word first: テスト 花子, サンプル タロウ.
_PLACEHOLDER_FAMILY_JA = frozenset({"テスト", "てすと", "サンプル", "ダミー", "見本"})
# … as do seed files in English ("Test Client One", "Sample Patient 2").
_PLACEHOLDER_FIRST = frozenset({"test", "sample", "dummy", "demo", "placeholder", "example"})
_NAME_REST = quickre.compile(r"(?:[ \t]+(?:[A-Z]\.|[A-Z][a-z]+)){1,2}")
# The law's placeholder parties, Doe and Roe (John Doe, Jane Roe, Richard Roe).
_DOE = quickre.compile(
    r"\b(?:john|jane|richard|j\.)\s+(?:doe|roe)\b|\b(?:doe|roe)[,\t]\s*(?:john|jane|richard)\b",
                  re.IGNORECASE)
_PLACEHOLDER_ADDRESS = quickre.compile(
    r"\b(?:sample|example|anytown|anywhere|placeholder|test|fake|dummy)\b|サンプル|ダミー|架空|テスト",
    re.IGNORECASE,
)
# Domains reserved for documentation and testing: RFC 2606's and RFC 6761's (example.com, .net,
# .org; the .example, .test and .invalid top-level domains) and JPRS's 例示用ドメイン (example.jp
# and example under each of its second-level domains: example.co.jp, example.ne.jp, …).
_RESERVED_DOMAIN = quickre.compile(
    r"(?:^|\.)(?:example\.(?:com|net|org|jp|(?:co|ne|or|ac|ad|ed|go|gr|lg)\.jp)|"
    r"[\w-]+\.(?:example|test|invalid))$", re.IGNORECASE)
_JAN_FIRST = quickre.compile(
    r"(?:^|\D)0?1\s*[-/.月]\s*0?1(?:\D|$)|1月1日|元年1月1日|^\s*1900|19XX", re.IGNORECASE)


def _digits(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())


def is_placeholder_number(value: str) -> bool:
    """Digits nobody is given: zeros in all but two places (all but one in a short number):
    ``03-0000-0000``, ``0000 0000 0000``; a long number whose last six digits are zeros (no
    line has subscriber number 000000: ``01422 000 000``). Other repeated digits are no sign
    (090-1111-1111-like vanity numbers exist; test cards: ``is_test_number``), nor are
    consecutive ones: 090-1234-5678 is someone's."""
    digits = _digits(value)
    n = len(digits)
    if n < 4:
        return False
    if n >= 10 and digits.endswith("000000"):
        return True  # 01422 000 000, +44 (0)118 000 0000: a subscriber number of zeros
    digit, top = Counter(digits).most_common(1)[0]
    return digit == "0" and (top == n or (n >= 7 and top >= n - (2 if n >= 10 else 1)))


_DIGITS_BEFORE = quickre.compile(r"[0-9-]{0,20}$")
_DIGITS_AFTER = quickre.compile(r"[0-9-]{0,20}")


def _counted_digits(text: str, hit: Detected) -> bool:
    """Whether the number ``hit`` is read from (with the digits and hyphens around it: the
    recognizer may read a part) counts up or down: ``1234-567890``, ``987654``."""
    before = _DIGITS_BEFORE.search(text, max(0, hit.start - 20), hit.start)
    after = _DIGITS_AFTER.match(text, hit.end)
    digits = _digits((before.group() if before else "") + text[hit.start:hit.end]
                     + (after.group() if after else ""))
    return len(digits) >= 6 and (digits in "01234567890123456789"
                                 or digits in "98765432109876543210")


_MONTH_ONE = quickre.compile(r"\bjan(?:uary)?\b", re.IGNORECASE)
_DEC = quickre.compile(r"\bdec(?:ember)?\b", re.IGNORECASE)


def _epoch_date(value: str) -> bool:
    """A date systems write where none was given: the first day of their calendars (1900-01-01
    of spreadsheets and SQL Server, 1899-12-30/31 of Excel and Access, 1753-01-01, 0001-01-01).
    Nobody living was born on one; a record showing it shows an empty field."""
    text = unicodedata.normalize("NFKC", value)
    runs = re.findall(r"\d+", text)
    years = [i for i, run in enumerate(runs) if len(run) == 4]
    if len(years) != 1:
        return False
    year = int(runs[years[0]])
    rest = sorted([int(run) for i, run in enumerate(runs) if i != years[0]]
                  + ([1] if _MONTH_ONE.search(text) else [])
                  + ([12] if _DEC.search(text) else []))
    return (year in (1900, 1753, 1) and rest == [1, 1]) or (
        year == 1899 and rest in ([12, 30], [12, 31]))


# The test card numbers the payment networks and processors publish (Stripe, Braintree,
# PayPal, Adyen documentation): a convention, so a list. They count as placeholders only where
# the text speaks of testing, like the repeated-digit ones.
_NETWORK_TEST_CARDS = frozenset({
    "4242424242424242", "4000056655665556", "4012888888881881", "4222222222222",
    "5555555555554444", "2223003122003222", "5200828282828210", "5105105105105100",
    "378282246310005", "371449635398431", "378734493671000", "6011111111111117",
    "6011000990139424", "3056930009020004", "36227206271667", "30569309025904",
    "38520000023237", "3566002020360505", "3530111333300000", "6200000000000005",
})


def is_test_number(value: str) -> bool:
    """A card or account number made of one repeated digit or a repeated block of two to four
    (``4111 1111 1111 1111``, ``4242 4242 4242 4242``), or of consecutive digits (``1234567``,
    a form's example account): the networks' test numbers and the forms' examples, which no
    card carries — but also what a careless test of a real system pastes, so they count as
    placeholders only where the text speaks of testing or examples."""
    digits = _digits(value)
    n = len(digits)
    if digits in _NETWORK_TEST_CARDS:
        return True
    if n >= 6 and (digits in "01234567890123456789" or digits in "98765432109876543210"):
        return True
    if n < 8:
        return False
    top = Counter(digits).most_common(1)[0][1]
    return top >= n - 2 or any(
        digits == (digits[:size] * (n // size + 1))[:n] for size in (2, 3, 4))


@lru_cache(maxsize=4)
def _breaks(text: str) -> tuple[list[int], list[int]]:
    """Where ``text``'s lines and sentences end, found once: each finding's line and sentence is
    then a bisection, so a long text with many findings costs no more than its length."""
    return ([m.start() for m in re.finditer("\n", text)],
            [m.start() for m in SENTENCE_END.finditer(text)])


def _bounds(ends: list[int], length: int, start: int, end: int, keep: int) -> tuple[int, int]:
    i = bisect_left(ends, start) - 1
    j = bisect_left(ends, end)
    return (ends[i] + 1 if i >= 0 else 0), (ends[j] + keep if j < len(ends) else length)


def _index(spans: Sequence[Detected]) -> SpanIndex:
    """``spans`` in a ``SpanIndex``: whether one of them holds a finding, in O(log n)."""
    index = SpanIndex(h.start for h in spans)
    for h in spans:
        index.add(h.start, h.end)
    return index


class _People:
    """Where the private people of a text are: does one overlap ``a..b``, in O(log n)."""

    def __init__(self, people: Sequence[Detected]) -> None:
        self.starts = sorted(h.start for h in people)
        self.index = _index(people)

    def overlap(self, a: int, b: int) -> bool:
        starts_inside = bisect_left(self.starts, b) > bisect_left(self.starts, a)
        return starts_inside or self.index.contains(a, a + 1, itself=True)


def _line(text: str, start: int, end: int) -> tuple[int, int]:
    """The line around ``start..end``: from after the line break before it to the next one."""
    return _bounds(_breaks(text)[0], len(text), start, end, 0)


def _previous_line_start(text: str, head: int) -> int:
    """Where the line before the one starting at ``head`` starts."""
    return _line(text, head - 1, head - 1)[0] if head else 0


def _japanese_common_noun_family(value: str) -> bool:
    """``保険 太郎``, ``テスト 花子``: a "family name" that is an ordinary noun and no family
    name in Sudachi's dictionary, before a given name — the form's own subject, used as a
    placeholder. Real rare family names are in the dictionary as family names (小鳥遊, 四十物)
    or unknown to it, never only ordinary nouns."""
    parts = value.replace("\u3000", " ").split()
    if len(parts) != 2:
        return False
    family, given = parts
    if not any("\u4e00" <= ch <= "\u9fff" for ch in given):
        return False  # a reading in kana (イトウ ナオコ) is a real name's reading
    family_entries = dictionary_entries(family)
    if not family_entries or any(pos[2] in ("人名", "地名") and pos[3] != "一般"
                                  or pos[3] == "姓" for pos in family_entries):
        return False
    if not any(pos[1] == "普通名詞" for pos in family_entries):
        return False
    return any(pos[2] == "人名" and pos[3] == "名" for pos in dictionary_entries(given))


def _fold_name(value: str) -> str:
    """``value`` as ``_PLACEHOLDER_PEOPLE`` spells names: NFKC, case-folded, no separators."""
    return re.sub(r"[\s・.,、_-]", "", unicodedata.normalize("NFKC", value).casefold())


def _placeholder_shaped(entity: str, value: str, following: str = "") -> bool:
    """Whether a value has a placeholder's shape (not enough alone: see ``_DECLARED``);
    ``following``: the text right after it, where the rest of a name may be ("John" of "John Q.
    Sample")."""
    folded = _fold_name(value)
    if entity == "PERSON":
        rest = _NAME_REST.match(following)
        whole = value + (rest.group(0) if rest else "")
        words = re.split(r"[\s・]+", unicodedata.normalize("NFKC", whole).casefold().strip())
        if len(words) >= 2 and (words[-1] in _PLACEHOLDER_FAMILY
                                or words[0] in _PLACEHOLDER_FAMILY_JA
                                or words[0] in _PLACEHOLDER_FIRST):
            return True  # "Jane Sample", "Test User", "Test Client One", "テスト ハナコ"
        head = re.split(r"[（(]", folded)[0]
        return head in _PLACEHOLDER_PEOPLE or _fold_name(whole) in _PLACEHOLDER_PEOPLE or (
            _japanese_common_noun_family(
            re.split(r"[（(]", unicodedata.normalize("NFKC", value))[0].strip()))
    if entity == "EMAIL_ADDRESS":
        local = folded.split("@", 1)[0]
        return local in _PLACEHOLDER_PEOPLE or "example" in folded.split("@")[-1]
    if entity in _PHONES:
        # Reserved for fiction, but test data everywhere writes real-looking numbers this way:
        # a shape, not a placeholder on its own.
        return FICTIONAL_NUMBER.fullmatch(_digits(value)) is not None
    if entity == "DATE_OF_BIRTH":
        return _JAN_FIRST.search(unicodedata.normalize("NFKC", value)) is not None
    if entity in ("JP_ADDRESS", "STREET_ADDRESS"):
        # The town may follow the part the recognizer read ("123 Main Street, Anytown, USA").
        return _PLACEHOLDER_ADDRESS.search(value + following.split("\n", 1)[0]) is not None
    return False


# A sentence that asks for data to be made up, or made from data it is given, or asks whether
# data is real, says nothing about the data it names: "replace these names with dummy ones: …",
# "以下と同じ形式でダミーデータを作って：…", "is this a fake number?".
_MAKING = quickre.compile(
    # (Not what is done already: 「ダミーデータを作ったので」 says the data shown is made up.)
    r"置き?換|置換|差し替|入れ替|変換|匿名|マスク|伏せ|作っ(?!た)|作成(?!した|しました|済)|"
    r"生成(?!した|しました|済)|作れ|作る|作り(?!ました)|同じ形式|"
    r"(?:を|に)(?:元|基|もと)に|参考に|代わりに|ではなく|"
    r"\breplac|\bswap|\bsubstitut|\banonymi[sz]|\bpseudonymi[sz]|\bmask|\bredact|\bobfuscat|"
    r"\bscrub|\bconvert|\bturn\b|\bchange\b|\bgenerat|\bcreat|\bmake\b|\bproduc|\bbased on\b|"
    r"\bsame format\b|\bsimilar to\b|\bmodell?ed on\b|\binstead of\b|\bfrom (?:these|this|the)\b|"
    r"[?？]\s*$|か[。\s]*$",
    re.IGNORECASE,
)


# A template's own token beside the word "placeholder" ("a {guest_name} placeholder",
# "placeholders like [NAME]", "%s placeholders"): the word names that token, and says
# nothing of the data the text holds (a rooming list under "write a welcome letter with a
# {guest_name} placeholder" is the guests' own).
_TEMPLATE_TOKEN = (r"(?:\{\{?\s*[\w.\- ]{1,30}\s*\}\}?|\[[A-Z_ ]{2,30}\]|<[\w\- ]{2,30}>|"
                   r"%\(?\w*\)?s|\$\{?\w{2,30}\}?)")
_TOKEN_BEFORE = quickre.compile(_TEMPLATE_TOKEN + r"\s*(?:(?:as|is)\s+(?:a|the)\s+)?$")
_TOKEN_AFTER = quickre.compile(
    r"(?:\s*(?:like|such as|e\.g\.|for|[:：(（]))?\s*[\"“'「]?" + _TEMPLATE_TOKEN)


def _names_a_token(text: str, start: int, end: int) -> bool:
    """Whether the declaration word at ``start..end`` is "placeholder" naming a template token
    right before or after it (``_TEMPLATE_TOKEN``)."""
    if not text[start:end].lower().startswith("placeholder"):
        return False
    return (_TOKEN_BEFORE.search(text, max(0, start - 40), start) is not None
            or _TOKEN_AFTER.match(text, end) is not None)


class _Declarations:
    """Where ``text`` declares its data made up, and whether one covers a finding.

    Two kinds. A declaration that *states* what the data is, rather than asking for data to be
    made (``_MAKING``), covers every value after it in its sentence (``…so nobody real appears:
    Alex Wilber, …``); as a heading (a line of its own in brackets or before a colon:
    ``【記入例】``, ``[SAMPLE - NOT A REAL PATIENT]``) the rest of its paragraph; as the last
    sentence of a paragraph with no finding after it (``以下はすべて研修用のダミーデータです。``,
    ``The example values are dummies.``) the next paragraph, which it introduces. A line that
    speaks of real data (``Now the real one:``) ends the cover. Any other declaration covers
    values earlier in the finding's paragraph or on its own line, or in the next paragraph when
    no finding follows it in its own, and only those with a placeholder's shape
    (``_placeholder_shaped``). A paragraph (lines up to a blank one) is one
    piece of a prompt; a declaration in another, a pasted sample or an earlier request, says
    nothing about this one's data.
    """

    def __init__(self, text: str, findings: Sequence[Detected]) -> None:
        declarations = [(m.start(), m.end()) for m in _DECLARED.finditer(text)
                        if not _names_a_token(text, m.start(), m.end())]
        self.text = text
        # The law's placeholder parties in the text, written whole ("Doe, Jane"), whose cells a
        # row's finding may be (``in_doe``): found once, so a text of many names stays linear.
        self.does = [m.span() for m in _DOE.finditer(text)]
        self.at = [at for at, _ in declarations]
        self.ends = [end for _, end in declarations]
        self.paragraphs = [m.end() for m in _PARAGRAPH_BREAK.finditer(text)] if self.at else []
        self.stated: list[tuple[int, int]] = []
        # The stated ones that head their paragraph (【架空症例・実在の人物ではありません】).
        self.headed: list[tuple[int, int]] = []
        # Sentences that say the names before them are made up (「名前はすべて当店スタッフが
        # 考えた架空のキャラクター名です」): from their paragraph's start to the declaration.
        self.names_made_up: list[tuple[int, int]] = []
        # The paragraph a declaration that ends its own paragraph's data introduces: the next,
        # where a pasted sample follows its request ("Generate more rows of obviously fake test
        # fixtures in the same JSON shape as this one.", a blank line, the row).
        self.introduces: list[tuple[int, int]] = []
        if not self.at:
            return
        starts = sorted(h.start for h in findings if h.entity_type in _CLEARABLE)
        for at, declared_end in declarations:
            paragraph_end = self._paragraph_end(at, len(text))
            # No finding after the declaration in its paragraph, and a paragraph after it.
            ends_its_data = (paragraph_end < len(text)
                             and bisect_left(starts, paragraph_end) == bisect_left(starts, at))
            if ends_its_data:
                self.introduces.append(
                    (declared_end, self._paragraph_end(paragraph_end, len(text))))
            head, tail = _sentence(text, at, at + 1)
            if (not _STRONG.match(text, at) or _MAKING.search(text, head, tail)
                    or _SOURCED.search(text, head, tail)):
                continue
            if _NAMES_WORD.search(text, head, tail):
                self.names_made_up.append((self._paragraph_start(at), at))
            line_head, line_tail = _line(text, at, at + 1)
            end = tail
            if _HEADING.fullmatch(text, line_head, line_tail):
                end = paragraph_end
                real = _REAL.search(text, declared_end, end)
                self.headed.append((at, real.start() if real is not None else end))
            elif ends_its_data and _INTRODUCES.fullmatch(text, declared_end, paragraph_end):
                # 「記入例では」, a blank line, the sample block: the word ends its paragraph
                # and introduces the next.
                end = self._paragraph_end(paragraph_end, len(text))
            elif _EXAMPLE_LABEL.match(text, at):
                continue  # 「入力例：03-1234-5678、…」 labels the value after it, no more
            elif (ends_its_data and not text[tail:paragraph_end].strip()
                  and not _SOURCED.search(text, self._paragraph_start(at), paragraph_end)):
                end = self._paragraph_end(paragraph_end, len(text))
            real = _REAL.search(text, declared_end, end)
            self.stated.append((at, real.start() if real is not None else end))

    def in_doe(self, hit: Detected) -> bool:
        """Whether ``hit`` lies inside one of the text's Doe placeholders."""
        k = bisect_right(self.does, (hit.start, len(self.text))) - 1
        return k >= 0 and hit.end <= self.does[k][1]

    def _paragraph_start(self, at: int) -> int:
        k = bisect_right(self.paragraphs, at) - 1
        return self.paragraphs[k] if k >= 0 else 0

    def _paragraph_end(self, at: int, length: int) -> int:
        k = bisect_right(self.paragraphs, at)
        return self.paragraphs[k] if k < len(self.paragraphs) else length

    def cover(self, start: int, end: int, tail: int) -> bool:
        """Whether a declaration earlier in the paragraph of ``start..end`` or later on its line
        (up to ``tail``) covers it: one with no real party named between them ("Our dummy
        accounts got merged with a real customer, Fiona Guest"; "could a field be mistaken for
        real data?" names nobody)."""
        if not self.at:
            return False
        k = bisect_right(self.paragraphs, start) - 1
        head = self.paragraphs[k] if k >= 0 else 0
        first, after = bisect_left(self.at, head), bisect_left(self.at, start)
        # The nearest declaration before the value, and the nearest after it on its line.
        if first < after and _REAL_PARTY.search(self.text, self.ends[after - 1], start) is None:
            return True
        if any(end <= head and start < reach and _REAL.search(self.text, end, start) is None
               for end, reach in self.introduces):
            return True
        return (after < bisect_left(self.at, tail)
                and _REAL_PARTY.search(self.text, end, self.at[after]) is None)

    def names(self, start: int, end: int) -> bool:
        """Whether a later sentence of the paragraph of ``start..end`` says its names are made
        up, with no real party named between."""
        return any(head <= start and end <= at
                   and _REAL_PARTY.search(self.text, end, at) is None
                   for head, at in self.names_made_up)

    def state(self, start: int, headed: bool = False) -> bool:
        """Whether a declaration that states the data made up covers ``start``; ``headed``:
        one that heads the paragraph."""
        return any(at < start < end for at, end in (self.headed if headed else self.stated))


# Words that make a declaration one about names (名前, 人名, "the names").
_NAMES_WORD = quickre.compile(r"名前|人名|氏名|キャラクター名|\bnames\b|\bname\s+is\b",
                              re.IGNORECASE)
# The declarations that say the data is not real, which alone may clear values of any shape:
# "sample data", "test data" and "example values" are as often real data sampled for a test.
_STRONG = quickre.compile(
    r"ダミー|架空|記入例|入力例|記入見本|例示用|実在しない|実在の|dumm|fictional|fictitious|placeholder|made|fake|"
    r"not\s|nobody|no\s", re.IGNORECASE)
_EXAMPLE_LABEL = quickre.compile(r"記入例|入力例|記入見本")
# What may follow a declaration word to its paragraph's end when it introduces the next one.
_INTRODUCES = quickre.compile(
    r"[ \t\u3000]*(?:では|は|として|[:：])?[ \t\u3000]*(?:\n[ \t\u3000]*)*")
# A heading line: a short label in brackets, after a markdown "#", or before a colon.
_HEADING = quickre.compile(
    r"[ \t\u3000]*(?:[【\[［(（<＜][^\n]{1,40}[】\]］)）>＞](?:[ \t\u3000]*※[^\n]{1,40})?|"
    r"#{1,4}[^\n]{1,40}|[^\n]{1,40}[:：])"
    r"[ \t\u3000]*")
# 実在の that a negation follows (実在の人物ではありません) speaks of no real party.
_REAL_WORDS = (r"\bactual\b|本物|実在の(?![^\n。]{0,6}?(?:で|じゃ)(?:は|も)?(?:ありません|ない))|"
               r"実際の|本番")
# "no real donors", "not real people" say the opposite.
_REAL = quickre.compile(rf"(?<!\bno )(?<!\bnot )(?<!\bnobody )\breal\b|{_REAL_WORDS}",
                   re.IGNORECASE)
# A real person or record named: "a real customer", "the real one", 実在のお客様.
_REAL_PARTY = quickre.compile(
    r"\b(?:a|an|the|one|our)\s+(?:actual|real)\b|"
    r"\b(?:real|actual)\s+(?:customers?|clients?|persons?|people|patients?|users?|guests?|"
    r"members?|employees?|residents?|ones?|accounts?|records?)\b|"
    # Japanese says "not" after the noun: 実在の社員ではありません names nobody.
    r"(?:本物|実在|実際|本番)の(?:お客様|顧客|患者|利用者|会員|人物?|社員|データ)"
    r"(?!(?:で|じゃ)(?:は|も)?(?:な|あり))",
    re.IGNORECASE)
# A sentence that says where its "sample" came from states that it is real data, sampled:
# "Sample data pulled from our CRM: …", 「本番環境のサンプルデータです：…」.
_SOURCED = quickre.compile(
    rf"(?<!not )(?<!not a )(?<!nobody )(?<!no )\breal\b|{_REAL_WORDS}|"
    r"実データ|顧客データ|抽出|エクスポート|から取得|"
    r"\bproduction\b|\bprod\b|\blive\b|\b(?:pulled|copied|exported|extracted|taken|dumped|"
    r"sampled)\s+from\b|\bfrom\s+(?:our|the|a)\s+(?:crm|database|db|system|export|logs?)\b|"
    r"\bcustomer\s+data\b|\bexport\s+of\b",
    re.IGNORECASE,
)


_PARAGRAPH_BREAK = quickre.compile(r"\n[ \t\u3000]*\n")
# A name written in kana only (a reading), and what stands between two cells of a row.
_KANA_NAME = quickre.compile(r"[ァ-ヶーぁ-ゖ]+(?:[ \u3000・][ァ-ヶーぁ-ゖ]+)*")
_CELL_GAP = quickre.compile(r"[ \t\u3000]*[,\t|、][ \t\u3000]*")


def _cued(text: str, hit: Detected) -> bool:
    """Whether the text right around ``hit`` gives it as an example: a cue right before or
    after it, or a bracket a cue opens; or, for a value with an example's shape
    (``_example_shaped``), the format it shows or the kind of data it is an example of — a
    real customer's number given to show a format is still the customer's."""
    head, tail = _line(text, hit.start, hit.end)
    before = text[max(head, hit.start - 16):hit.start]
    after = text[hit.end:min(tail, hit.end + 24)]
    if (_CUE_BEFORE.search(text, max(head, hit.start - 40), hit.start) or _CUE_AFTER.search(after)
            or _CUE_BRACKET.search(text, max(head, hit.start - 80), hit.start)):
        return True
    return bool(_WEAK_CUE_BEFORE.search(before) or _FORMAT_AFTER.search(after)
                or _DATA_LIKE.search(text, max(head, hit.start - 40), hit.start)
                ) and _example_shaped(hit.entity_type, text[hit.start:hit.end])


_ASCENDING = ("0123", "1234", "2345", "3456", "4567", "5678", "6789")


def _example_shaped(entity: str, value: str) -> bool:
    """Whether a value looks like the examples people write: consecutive digits (1234, 5678),
    zeros, repeats, a range set aside for fiction, an example domain or person."""
    if entity in _NUMBERED:
        digits = _digits(value)
        return (any(run in digits for run in _ASCENDING) or is_placeholder_number(value)
                # Anywhere in the digits: an example's shape is loose ("(555) 010-0199").
                or is_test_number(value) or FICTIONAL_NUMBER.search(digits) is not None)
    return _placeholder_shaped(entity, value)


# A Japanese fixed-line number written with its groups: area code, local exchange, line. No
# exchange begins with 0 (the trunk prefix), so 044-000-1234 and 03-0123-4567 are nobody's:
# the shape of a poster's "fill in later" number. (Mobile and other non-geographic plans are
# not read this way.)
_JP_NO_EXCHANGE = quickre.compile(
    r"\(?0(?![5789]0|120|800)\d{1,4}\)?[ \t\-‐ー－−()（）]+0\d{0,3}[ \t\-‐ー－−]+\d{4}")
# A North American number whose exchange begins with 0 or 1, which no exchange does
# ("(555) 010-0100"): a form's made-up number, like Japan's above.
_NANP_NO_EXCHANGE = quickre.compile(
    r"(?:\+?1[ \t.\-]*)?\(?[2-9]\d\d\)?[ \t.\-]*[01]\d\d[ \t.\-]+\d{4}")
# A US ZIP code of zeros ends no real address (the lowest is 00501).
_NO_ZIP = quickre.compile(r"[^\n]{0,40}?\b00000(?:-0000)?\b")
# A Japanese address whose every number is 0 (ひばりが丘0-0-0, 脇田本町00-0): blocks and lots
# are numbered from 1, so it is a form's or a draft's address, not somebody's.
_DIGIT_RUN = quickre.compile(r"[0-9０-９]+")


def _zero_numbered_address(entity: str, value: str) -> bool:
    if entity != "JP_ADDRESS":
        return False
    runs = _DIGIT_RUN.findall(unicodedata.normalize("NFKC", value))
    return bool(runs) and all(set(run) == {"0"} for run in runs)


def _is_placeholder(text: str, hit: Detected, value: str, declared: _Declarations,
                    testing: bool, listed_after: bool, cued: bool) -> bool:
    """Whether ``hit`` is a placeholder; ``cued``: the text gives it as an example
    (``_cued``); ``listed_after``: it follows, in a list, one the text gives as an example."""
    if hit.entity_type in _NUMBERED and is_placeholder_number(value):
        return True
    if hit.entity_type == "DATE_OF_BIRTH" and _epoch_date(value):
        return True  # DOB: 01/01/1900 — a system's empty date
    if hit.entity_type in _PHONES and _NANP_NO_EXCHANGE.fullmatch(value.strip()):
        return True
    if hit.entity_type == "STREET_ADDRESS" and _NO_ZIP.match(text, hit.end):
        return True  # "123 Main Street, Anytown, USA 00000": no ZIP code is 00000
    if hit.entity_type in _PHONES and _JP_NO_EXCHANGE.fullmatch(
            unicodedata.normalize("NFKC", value).strip()):
        return True
    if _zero_numbered_address(hit.entity_type, value):
        return True
    if hit.entity_type in _CARDS and testing and is_test_number(value):
        return True
    if hit.entity_type in _MASKABLE and _MASKED.search(value):
        return True
    if hit.entity_type == "PERSON" and _MASKED_NAME.fullmatch(value):
        return True  # ご担当者：〇〇 〇〇 様: a form's blank for a name
    if hit.entity_type == "PERSON" and (_DOE.search(value) or declared.in_doe(hit)):
        return True  # … or a cell of one: "Doe,Jane" of a CSV row is the same placeholder
    if hit.entity_type == "EMAIL_ADDRESS" and "@" in value:
        # jane.roe@example.com: the law's placeholder party at a domain reserved for examples.
        local, domain = value.rsplit("@", 1)
        if "example" in domain.lower() and _DOE.search(re.sub(r"[._-]", " ", local)):
            return True
        # A function's mailbox at a domain reserved for documentation (seminar@example.co.jp):
        # English words that name no one, where no mail arrives. A person's mailbox there
        # (kobrien@example.org, maria.gonzalez@mail.example.net) stays a finding: test data
        # and people write real customers' addresses so.
        parts = re.split(r"[._+-]", local)
        names = lexicon()
        if _RESERVED_DOMAIN.search(domain) and all(
                part.isalpha() and names.is_english(part) and not names.is_name(part)
                for part in parts):
            return True
    if listed_after and _example_shaped(hit.entity_type, value) or cued:
        return True
    _, tail = _line(text, hit.start, hit.end)
    if hit.entity_type in _STATED_CLEARABLE and declared.state(hit.start):
        return True
    # An identifier of counted digits (1234-567890) where the text states its data made up:
    # the digits a form's example is filled in with, which no issuer gives out.
    if (hit.entity_type in _NUMBERED and declared.state(hit.start)
            and _counted_digits(text, hit)):
        return True
    # A diagnosis without a record number under a heading that states the case made up
    # (【架空症例・実在の人物ではありません】) is nobody's; not beside a declaration in its own
    # sentence ("Unlike the fictional case, my mother was diagnosed …"). A number still needs
    # a placeholder's digits, as every identifier does.
    if (hit.entity_type == "MEDICAL_RECORD" and not _digits(value)
            and declared.state(hit.start, headed=True)):
        return True
    if hit.entity_type == "PERSON" and declared.names(hit.start, hit.end):
        return True
    # A declaration earlier in the paragraph or on the value's own line, and a placeholder's
    # shape.
    return declared.cover(hit.start, hit.end, tail) and _placeholder_shaped(
        hit.entity_type, value, text[hit.end:hit.end + 24])


# -- numbers labelled as something else -------------------------------------------------------

_OTHER_ID_WORDS = (
    r"(?:\bS/?N|\bserial(?:\s+no\.?|\s+number)?|\bref(?:erence)?(?:\s+no\.?|\s+number)?|"
    r"\bticket(?:\s+no\.?)?|\border(?:\s+no\.?|\s+number|\s+id)?|\binvoice(?:\s+no\.?)?|"
    r"\blot(?:\s+no\.?)?|\bpart(?:\s+no\.?|\s+number)?|\bmodel(?:\s+no\.?)?|\bmeter(?:\s+ids?)?|"
    r"\btracking(?:\s+no\.?|\s+number)?|\bbooking(?:\s+ref)?|\bcase\s+(?:no\.?|id|number)|"
    r"\bbatch(?:\s+(?:no\.?|codes?|numbers?))?|\bbuild(?:\s+(?:no\.?|numbers?))?|"
    r"\b[a-z]+[\s_-]ids?\b|\bP/?N|"
    # A grading report's or a certificate's number ("GIA … report, number 2185473920"), stock
    # and item codes.
    r"\b(?:(?:identification|grading|appraisal|lab)\s+)?(?:report|certificate|cert)"
    r"(?:,?\s+(?:no\.?|number|#)|,)|"
    r"\b(?:stock|item|product)\s+(?:codes?|numbers?|no\.?)|\bsku|"
    # A container's and a shipment's papers ("container number MSKU 7284019-3", "bill of
    # lading MAEU 241836590").
    r"\bcontainer(?:\s+(?:no\.?|numbers?))?|\bbill\s+of\s+lading(?:\s+(?:no\.?|number))?|"
    r"\bB/?L(?:\s+(?:no\.?|number))?|"
    # An organisation's registered numbers: a charity's, a company's, a VAT registration.
    r"\b(?:registered\s+)?(?:charity|company|companies\s+house|vat|registration)"
    r"(?:\s+(?:no\.?|number|reg(?:istration)?\.?))?|"
    # A product's registration ("EPA Reg. No. 62719-608"), and the numbers of engineering and
    # maintenance documents, by the abbreviations their readers write before them: a service
    # bulletin (SB 737-32-1462), a maintenance or component manual (AMM, CMM), an
    # airworthiness directive, a change or non-conformance report, a returns authorisation.
    r"\breg\.?\s*no\b\.?|(?-i:\b(?:SB|ASB|AMM|CMM|IPC|SRM|ECO|ECN|ECR|NCR|RMA|DWG))\b|"
    r"シリアル(?:番号|No\.?)?|製造番号|製番|型番|品番|部品番号|受付番号|注文番号|伝票番号|管理番号|"
    r"問い?合わ?せ番号|追跡番号|予約番号|案件番号|整理番号|請求書番号|契約番号|ロット(?:番号)?|"
    r"図番|図面番号|機番|機体番号|[ァ-ヶー一-龯]+\s?(?:ID|ＩＤ)|[ァ-ヶー一-龯]+コード|"
    # A scheme's code by its acronym (TAISコード, JAN コード).
    r"(?-i:\b[A-Z]{2,6})\s?コード|"
    # A maker's code (製造所固有記号 0906-2411-15) — not an insurance card's bare 記号, which
    # names the insured.
    r"(?:固有|製造|製造所|識別|管理)記号|"
    # The English labels above as katakana writes them (ブッキング番号, オーダーNo.). Not every
    # "…番号": 口座番号 and 会員番号 name a person's identifiers, which must still count.
    r"(?:ブッキング|オーダー|インボイス|トラッキング|チケット|リファレンス|ケース|パーツ|モデル|"
    r"コンテナ)(?:番号|No\.?|ナンバー)|ビルド|バージョン)")
_OTHER_ID_LABEL = quickre.compile(
    _OTHER_ID_WORDS
    # Any label may be plural ("booking refs"), or followed by "No." (ロットNo.:080-…).
    + r"(?-i:s)?(?:\s*(?:No\.?|ナンバー))?"
    r"\s*(?:は|が|:|：|#|=|の形式は|の例)?\s*[「『\"“'(（]?\s*$",
    re.IGNORECASE,
)
# The identifiers an example's paragraph may name as its subject: only names that say
# "number" ("order numbers", 問い合わせ番号), never a person's (account, policy, 会員番号).
_OTHER_ID_NAMED = quickre.compile(
    r"\b(?:order|invoice|ticket|reference|ref|tracking|booking|serial|lot|part|case|batch|build|"
    r"model|shipment|container|job|po|drawing|stock|item|product|report|certificate)\s+"
    r"(?:numbers?|nos?\b\.?|ids?\b|codes?|registers?|"
    r"schemes?|systems?|formats?)\b|"
    r"(?:シリアル|製造|部品|受付|注文|伝票|管理|問い?合わ?せ|追跡|予約|案件|整理|請求書|ロット|図面|"
    r"機体)番号|製番|型番|品番|図番|機番",
    re.IGNORECASE)
# How far back an example's paragraph may name the identifier it shows ("当社の問い合わせ番号は
# 12桁で、… 形式の例：4412-0931-7765").
_EXAMPLE_SUBJECT_REACH = 200
_PHONE_LABEL = quickre.compile(
    r"電話|\bTEL\b|携帯|ケータイ|連絡先|\bFAX\b|ファックス|phone|mobile|\bcell|\bcall|\bcontact|"
    r"dial|ring|text\b|sms|whatsapp",
    re.IGNORECASE,
)


# A phone word the numbers are compared with: "order numbers look like phone numbers",
# 「電話番号と紛らわしい」.
# A value given as an instance of what the sentence speaks of: 「090-1123-4471」のように….
_EXAMPLE_AFTER = quickre.compile(r"[」』\"”']?\s*(?:のよう[なに]|みたいな)")
# (… a place's phone numbers too: "look exactly like Tokyo phone numbers".)
_LIKE_BEFORE = quickre.compile(r"\b(?:like|for|as|with)\s+(?:a\s+|an\s+)?(?:[a-z]+\s+)?$",
                               re.IGNORECASE)
_LIKE_AFTER = quickre.compile(r"\S{0,3}(?:番号)?(?:と|に)(?:紛らわし|間違|似|混同|見間違)")
# Between a label and its value: "invoice numbers look like INV 0207-…"; and a value listed
# after another one under the same label: "品番 04152-YZZA6 と 90915-10003".
_LABEL_GLUE = quickre.compile(
    r"(?:\s*(?:numbers?|nos?\.?|ids?|codes?))?(?:\s+(?:look|looks|are|is|like|such as|e\.g\.|"
    r"formatted as|format)){0,3}(?:\s+(?-i:[A-Z]{2,5}))?\s*[:：]?\s*$", re.IGNORECASE)
# … or the end of a range begun by one (製造ロット 2023-0915-0001〜2023-0915-0840).
_LISTED_AFTER = quickre.compile(
    rf"[\w-]*\d[\w-]*\s*(?:{_LIST_SEPARATOR}|[〜～~–—]|\bto\b|から)\s*$")


# The identifiers a number labelled as another one is misread as: a phone, a My Number
# (twelve digits with a check digit: one booking reference in ten passes it), and a Japanese
# account number (any seven digits: "Registered Charity No. 1150872"), a US licence number
# (a letter and digits: "model NN8411"), a US SSN (3-2-4 digits: "SB 737-32-1462").
_LABELLED_AS_OTHER = _PHONES | {"JP_MY_NUMBER", "JP_BANK_ACCOUNT", "US_DRIVER_LICENSE", "US_SSN"}
# A machine's own number right after its label ("serial 4412-0098-3371-2206", 製造番号): one
# sixteen-digit serial in ten passes a card's check digit. Only the labels of a thing's
# numbers: an order's, an invoice's or a booking's reference may be a card a customer paid by.
_SERIAL_LABEL = quickre.compile(
    r"(?:\bS/?N|\bserial(?:\s+(?:no\.?|numbers?|#))?|\bmodel(?:\s+no\.?)?|\bpart(?:\s+no\.?|"
    r"\s+number)?|\blot(?:\s+no\.?)?|\bmeter(?:\s+no\.?)?|シリアル(?:番号|No\.?)?|製造番号|製番|"
    r"型番|品番|部品番号|ロット(?:番号|No\.?)?|機番|機体番号)\s*[:：#=]?\s*$", re.IGNORECASE)
_MY_NUMBER_LABEL = quickre.compile(r"マイナンバー|個人番号|\bmy\s*number\b|\bindividual\s+number\b",
                              re.IGNORECASE)


def _labelled_other(text: str, hit: Detected) -> bool:
    """Whether a phone-, My-Number- or account-shaped ``hit`` is labelled as another identifier (an
    order, a ticket, a lot) right before it, or given as an example of one its paragraph
    names."""
    head, _ = _line(text, hit.start, hit.end)
    value = text[hit.start:hit.end]
    if hit.entity_type == "JP_MY_NUMBER" and _MY_NUMBER_LABEL.search(
            text, max(0, hit.start - 80), hit.start):
        return False
    if _JP_MOBILE_NUMBER.fullmatch(_digits(value)) and _ACCOUNT_ID.search(
            text, max(head, hit.start - 24), hit.start):
        return False  # a mobile number used as a login or member ID is still the person's
    if phone_entered_as_other(text, hit.start, hit.end):
        return False
    cue = text[max(head, hit.start - 16):hit.start]
    if (_CUE_BEFORE.search(cue) or _WEAK_CUE_BEFORE.search(cue)
            or _DATA_LIKE.search(text, max(head, hit.start - 40), hit.start)
            or _EXAMPLE_AFTER.match(text, hit.end)):
        # An example of an identifier the paragraph names before it, with no phone between.
        lo = max(0, hit.start - _EXAMPLE_SUBJECT_REACH)
        for brk in _PARAGRAPH_BREAK.finditer(text, lo, hit.start):
            lo = brk.end()
        named = list(_OTHER_ID_NAMED.finditer(text, lo, hit.start))
        if named and all(
                _LIKE_BEFORE.search(text[max(0, m.start() - 12):m.start()])
                or _LIKE_AFTER.match(text, m.end())
                for m in _PHONE_LABEL.finditer(text, named[-1].start(), hit.start)):
            return True
    before = text[max(head, hit.start - 40):hit.start]
    if _PHONE_LABEL.search(before):
        return False
    listed = _LISTED_AFTER.search(before)
    if listed is not None:
        before = before[:listed.start()]
    glue = _LABEL_GLUE.search(before)
    if glue is not None and glue.start() < len(before):
        before = before[:glue.start()]
    if _OTHER_ID_LABEL.search(before) is not None:
        return True
    # Any other 番号 a thing's noun heads (校正証明書番号, 計器番号): the number of what the noun
    # names — not a person's (口座番号, 会員番号) nor a phone's (電話番号, 携帯番号).
    kind = _THING_NUMBER_LABEL.search(before)
    return kind is not None and not _PERSON_NUMBER_HEAD.search(kind.group(1))


_THING_NUMBER_LABEL = quickre.compile(
    r"([一-龯ァ-ヶー]{2,10})(?:番号|No\.?|ナンバー)\s*(?:は|:|：)?\s*[「『(（]?\s*$")
# The nouns of a person's own numbers and of phones, as the last word before 番号.
_PERSON_NUMBER_HEAD = quickre.compile(
    r"(?:口座|会員|顧客|お客様|利用者|契約者|加入者|被保険者|保険者|保険証|保険|社員|従業員|職員|"
    r"学籍|生徒|受験|受給者|年金|免許証?|旅券|パスポート|在留カード|個人|マイ|患者|診察券|カルテ|"
    r"電話|携帯|連絡先|ファックス|FAX|ＦＡＸ|住民票|カード|クレジット|ID|ＩＤ|暗証|証券|"
    r"登録|識別)$")


# A table column headed by another identifier's name: its cells are lots, serials, orders —
# whatever their digits look like (a barcode misread as 090-2231-4478 in a ロット column).
_OTHER_ID_HEADER = quickre.compile(
    r"^\s*[\"'#]?\s*(?:(?:order|invoice|ticket|reference|ref|tracking|booking|serial|lot|part|"
    r"case|batch|build|model|shipment|container|job|po|drawing|sku)s?(?:[\s_.-]*(?:numbers?|"
    r"nos?\.?|ids?|codes?|#))?|s/?n|p/?n|"
    r"(?:シリアル|製造|部品|受付|注文|伝票|管理|問い?合わ?せ|追跡|予約|案件|整理|請求書|ロット|図面|"
    r"機体)(?:番号|No\.?)|シリアル|ロット|製番|型番|品番|図番|機番)\s*[\"']?\s*$",
    re.IGNORECASE,
)


def _other_id_cells(text: str) -> list[tuple[int, int]]:
    """The cells of ``text``'s table columns headed by another identifier, in order."""
    if "\n" not in text:
        return []
    return [(start, start + len(value)) for _, start, value in column_cells(
        text, lambda cell: "other" if _OTHER_ID_HEADER.match(cell) else None)]


# A code's letters and a hyphen glued before a number (図面番号 A-03-1120-4458), or a hyphen and
# a letter after it: part of a longer identifier. Not a phone's own label (TEL-03-…).
_CODE_PREFIX = quickre.compile(
    r"(?<![\w+/-])(?!(?i:tel|fax|ph|phone|mob|mobile|cell|tél)[-/])[A-Za-z][A-Za-z0-9]{0,5}[-/]$")
_CODE_SUFFIX = quickre.compile(r"-[A-Za-z]")


def _inside_code(text: str, hit: Detected) -> bool:
    """Whether a number-shaped ``hit`` is glued into a longer code by a hyphen or a slash
    (``A-03-1120-4458``, a file reference ``C/0522/1177``)."""
    return (_CODE_PREFIX.search(text, max(0, hit.start - 8), hit.start) is not None
            or _CODE_SUFFIX.match(text, hit.end) is not None)


# Freephone numbers, an organisation's line by the numbering plans: Japan's 0120 (and 0800
# written 0800-…), the UK's 0800/0808, the NANP's 800, 833, 844, 855, 866, 877 and 888.
# (Japan's 0570 ナビダイヤル is a business's shared-cost number; nobody has one at home.)
_FREEPHONE = quickre.compile(
    r"^(?:\+?81[\s-]*|0)120|^0570[\s-]|^0800[\s-]|^(?:\+?44[\s-]*(?:\(0\))?[\s-]*|0)80[08][\s-]?\d|"
    r"^(?:\+?1[\s.-]*)?\(?8(?:00|33|44|55|66|77|88)\)?[\s.-]*\d{3}[\s.-]*\d{4}$")


def _is_freephone(value: str) -> bool:
    return _FREEPHONE.search(value.strip()) is not None


# Mailboxes of a role, not a person: RFC 2142's and the ones organisations publish.
_ROLE_MAILBOXES = frozenset({
    "info", "contact", "contacts", "support", "help", "helpdesk", "sales", "enquiries",
    "inquiries", "inquiry", "office", "reception", "press", "media", "pr", "hello", "service",
    "customerservice", "webmaster", "postmaster", "hostmaster", "abuse", "noc", "security",
    "marketing", "careers", "recruit", "recruiting", "jobs", "billing", "noreply", "no-reply",
    "investors", "investor.relations",
})


def _is_role_mailbox(value: str) -> bool:
    return value.rsplit("@", 1)[0].casefold() in _ROLE_MAILBOXES


# A table column headed by a kind of place: its cells are stations and towns, whatever
# family names they share (大塚, 大森 under station_name). Or by a kind of product: its cells
# are models named after their makers' founders (スズキ ジムニー, ダイハツ タント under 車名).
_PLACE_HEADER = quickre.compile(
    r"^\s*[\"'#]?\s*(?:(?:from|to|origin|destination|departure|arrival|stop|station|city|"
    r"town|village|prefecture|province|county|region|area|district|ward|venue|location|"
    r"place|port|airport|vehicle|car|product|model|make)(?:[\s_.-]*(?:names?|codes?))?|"
    r"駅名?|発駅|着駅|停車駅|最寄り?駅|"
    r"出発地|到着地|目的地|地名|地域|エリア|都道府県|市区町村|市町村|会場|所在地|港|空港|"
    r"車名|車種|メーカー|商品名|製品名|品名|機種名?)"
    r"\s*[\"']?\s*$",
    re.IGNORECASE,
)


def _place_cells(text: str) -> list[tuple[int, int]]:
    """The cells of ``text``'s table columns headed by a kind of place or product, in order."""
    if "\n" not in text:
        return []
    return [(start, start + len(value)) for _, start, value in column_cells(
        text, lambda cell: "place" if _PLACE_HEADER.match(cell) else None)]


def _in_cell(cells: list[tuple[int, int]], starts: list[int], hit: Detected) -> bool:
    k = bisect_right(starts, hit.start) - 1
    return k >= 0 and hit.end <= cells[k][1]


# -- organisations' contact details -----------------------------------------------------------

_ORG_LABEL = quickre.compile(
    r"代表電話|代表番号|代表|本社|本店|本部|所在地|窓口|お客様センター|コールセンター|"
    # A firm's desk by its katakana name (JR東海テレフォンセンター, チケットセンター).
    r"[ァ-ヶー]{2,12}センター|"
    # An organisation's site and an event's venue (拠点住所, 会場：献血ルーム有楽町).
    r"(?:拠点|会社|店舗|施設|事業所)住所|会場|開催場所|\bvenue\b|"
    r"総合案内|案内所|インフォメーション|寺務所|社務所|"
    r"information\s+(?:desk|cent(?:er|re)|counter)|"
    r"main\s+(?:line|number|switchboard|office|phone|tel|telephone)|switchboard|head\s*office|"
    r"headquarters|\bHQ\b|"
    r"registered\s+office|customer\s+(?:cent(?:er|re)|service|care)|call\s+cent(?:er|re)|"
    r"front\s+desk|reception|hotline|help\s*desk|support\s+line|"
    # A venue's or a carrier's counter: "the hall's box office (020 …)", "ticket office".
    r"\b(?:box|ticket|booking)\s+offices?\b|"
    # A company's own contact page: "General enquiries: 0161 …", "Investor relations: …".
    r"\b(?:general\s+)?(?:enquiries|inquiries)\b|investor\s+relations|press\s+office|"
    r"media\s+(?:enquiries|inquiries|relations)",
    re.IGNORECASE,
)
# An address that ends in a public building's name (…本町一丁目1番1号 市役所本庁舎3階) is that
# building's, whatever label precedes it.
_PUBLIC_FACILITY_IN = quickre.compile(
    r"\d[^\n]{0,12}?(?:市役所|区役所|町役場|村役場|役場|本庁舎|庁舎|県庁|都庁|道庁|府庁|"
    r"公民館|図書館|美術館|博物館|文化会館|市民会館|区民会館|体育館)")
# The same labels in brackets right after the value, as directories write a switchboard:
# 042-000-2525（代表）, 03-3456-7890 (main).
_ORG_LABEL_AFTER = quickre.compile(
    r"[」』\"”]?[ \t\u3000]*[（(][ \t\u3000]*(?:大?代表(?:電話|番号)?|本社|本店|本部|"
    r"main(?:\s+(?:line|number|office))?|switchboard|head\s*office|headquarters|"
    # …or a desk of an organisation the bracket names: （出版社の読者係の番号）, （市役所の窓口）.
    r"[^()（）\n]{0,16}?(?:社|局|庁|署|役所|役場|協会|センター|事務所)の[^()（）\n]{0,10}?"
    r"(?:係|課|窓口|受付|センター|デスク|ダイヤル)(?:の(?:番号|電話(?:番号)?))?)"
    r"[ \t\u3000]*[)）]",
    re.IGNORECASE)
# Names of organisations and public places, by their last word (Japanese suffixes; English
# head nouns come from the name lexicon's thing words).
_JA_ORG_SUFFIXES = (
    r"(?:株式会社|（株）|\(株\)|㈱|有限会社|会社|ホールディングス|グループ|銀行|証券|保険|"
    r"役所|役場|区役所|市役所|県庁|都庁|庁舎|庁|省|局|署|大学|学校|学園|高校|病院|医院|"
    r"クリニック|センター|協会|学会|協議会|連合会|会議所|機構|財団|法人|組合|事務所|支社|支店|営業所|工場|"
    r"駅舎|校舎|駅|空港|港|寺|神社|大社|神宮|城|塔|タワー|ツリー|ホテル|旅館|美術館|博物館|図書館|霊園|墓地|"
    # Works and grounds (旧三河島汚水処分場, 金町浄水場, 豊洲市場, ゴルフ場, スキー場).
    r"処理場|処分場|浄水場|市場|斎場|会場|牧場|農場|飛行場|試験場|展示場|スキー場|ゴルフ場|キャンプ場|"
    # Shrines and temples by their other heads (鶴岡八幡宮, 北野天満宮, 平等院, 三十三間堂,
    # 浅草観音, 川崎大師, 成田山不動尊).
    r"宮|院|堂|観音|大師|不動尊|"
    # Any hall by its 館 (両国国技館, 県民会館) — not 旅館's guests, which 旅館 above owns too.
    r"館|"
    r"公園|ホール|会館|スタジアム|ドーム|モール|百貨店|運輸|工業|製薬|電力|ガス|鉄道|通運|"
    r"記念館|資料館|文学館|科学館|水族館|体育館|公民館|動物園|植物園|庭園|講堂|公会堂|劇場|"
    r"工務店|建設|組(?!合|み|織)|税関|競技場|球場|競馬場|アリーナ|大聖堂|聖堂|教会|礼拝堂|"
    # Facilities by their katakana loanwords (カップヌードルミュージアム, ヨコハマ ギャラリー).
    r"ミュージアム|ギャラリー|パーク|ガーデン|ライブラリー|アクアリウム|"
    r"本社|本店|本部|本所|ビル|ターミナル|店|"
    # Trades a family name heads as a firm's name (金子眼鏡, 菊正宗酒造, 山田商店).
    r"眼鏡|酒造|醸造|商店|商会|工房|農園|書店|書房|薬局|電機|精工|食品|製菓|製作所|印刷|"
    # Cinemas and studios; an organisation's units (京都大学 総務部広報課); offices of a post.
    r"シネマズ?|シアター|スタジオ|プラザ|課|部|室|派出所|出張所|詰所|研究所|保健所|事業所|"
    # A machine named by its part (巻上機), and katakana complexes (東京ミッドタウン八重洲).
    r"機|(?:タウン|ヒルズ|テラス|スクエア)[一-龯]{0,4}|"
    # 投票所, 研究所, 保健所 — not 住所, 居所 or 場所, which anyone has.
    r"(?<![住居場])所)")
# (… or one of its parts right after it: 東京税関本関, 市役所別館, 本庁舎分室.)
_JA_ORG_SUFFIX = quickre.compile(
    _JA_ORG_SUFFIXES + r"(?:[本別新旧分支][一-龯])?\s*(?:の本社|の所在地|の住所)?\s*$")
# A Japanese name right before one of them names the place or the firm (大隈講堂, 田中病院) —
# not when the word goes on to a person's post (佐藤センター長, 鈴木病院職員) or is the start of
# a given name (田中省吾: 省 then another kanji).
_JA_THING_AFTER = quickre.compile(_JA_ORG_SUFFIXES + r"(?![一-龯]|員|スタッフ)")
_EN_NAME_WORDS = quickre.compile(r"([A-Za-z][\w'’.-]*)[\s,]*$")
_PRIVATE_LABEL = quickre.compile(
    r"(?<!拠点)(?<!会社)(?<!店舗)(?<!施設)(?<!本社)(?<!事業所)住所|"
    r"自宅|(?:様|さん|氏|お)宅|携帯|氏名|本人|お客様の|顧客の|患者|契約者|申込者|利用者の|入居者|"
    r"\bhome\b|\bmobile\b|\bcell\b|personal|\bhis\b|\bher\b|\bmy\b|customer'?s|client'?s|"
    r"patient|tenant'?s|guest'?s|resident'?s|employee'?s|"
    # A number to ring someone back on is the caller's ("Front desk message: callback requested
    # on 0161 …"), whoever took the message.
    r"call[- ]?backs?|ring\s+back|call\s+(?:him|her|them)\s+back|折り?返し",
    re.IGNORECASE,
)
# A business that is one person: a freelancer's or a sole proprietor's office is their own
# (「フリーランスのイラストレーターさんへの支払通知書。宛先は小鳥デザイン事務所（…）」), anywhere
# in the value's paragraph.
_FREELANCE = quickre.compile(
    r"フリーランス|個人事業主|個人事業|個人経営|一人親方|\bfreelanc(?:e|er|ers|ing)\b|"
    r"\bself[- ]employed\b|\bsole\s+(?:trader|proprietor(?:ship)?)\b",
    re.IGNORECASE,
)


_PARAGRAPH_REACH = 2000


def _paragraph(text: str, at: int) -> tuple[int, int]:
    """The paragraph (lines up to a blank one) around ``at``, at most ``_PARAGRAPH_REACH``
    characters to each side (a long text's contacts each read a bounded stretch)."""
    lo, hi = max(0, at - _PARAGRAPH_REACH), min(len(text), at + _PARAGRAPH_REACH)
    start = lo
    for m in _PARAGRAPH_BREAK.finditer(text, lo, at):
        start = m.end()
    end = _PARAGRAPH_BREAK.search(text, at, hi)
    return start, end.start() if end is not None else hi


_NAME_BEFORE = quickre.compile(r"[A-Z][\w&'’]*[ -]$")


def _private_label(text: str, start: int, end: int) -> bool:
    """Whether a private label (``_PRIVATE_LABEL``) stands in ``text[start:end]`` — not a
    capitalised word inside an organisation's name ("Northwind Mobile plc", "T-Mobile")."""
    for m in _PRIVATE_LABEL.finditer(text, start, end):
        if not (m.group()[:1].isupper() and m.group().isascii()
                and _NAME_BEFORE.search(text, max(0, m.start() - 30), m.start())):
            return True
    return False


# A business run from its owner's home: its address and number are the owner's ("invoice to
# Rachel Kim Studio, 48 Alder Way, … - she works from home").
_HOME_BUSINESS = quickre.compile(
    r"\b(?:works?|working|run|runs|operates?|based)\s+(?:from|out\s+of|at)\s+(?:her|his|their|"
    r"my|our)?\s*(?:own\s+)?home\b|\bhome[- ](?:office|business|based)\b|\bsole\s+trader\b|"
    r"自宅(?:兼|で営業|から|を事務所)|個人事業",
    re.IGNORECASE,
)
_JP_MOBILE = quickre.compile(r"^(?:\+?81)?0?[789]0")
# A separator, after the building the address ends in (…青海2-7-11 東京港湾合同庁舎、03-…)
# or the suite, unit or floor it goes on to (", Suite 101"). Also a remark in brackets
# ("(reception)", "(lobby level)"), and the next line's phone label ("…152-0035\nTel ").
_CONTACT_GLUE = quickre.compile(
    r"\s*(?:,\s*(?:suite|ste\.?|unit|room|rm\.?|floor|fl\.?|level|#)\s*[\w-]{1,6}\s*)?"
    r"(?:[（(][^()（）\n]{1,20}[)）]\s*)?"
    r"(?:[^\n,、;/]{1,24}?(?:庁舎|ビル|館|タワー|センター|棟|\d+階|building|house|tower|"
    r"floor)\s*)?(?:[,、;/]|\n[ \t]*(?:tel|phone|fax|電話|TEL|FAX|☎)\.?[ \t]*[:：]?)\s*",
    re.IGNORECASE)
_JP_MOBILE_NUMBER = quickre.compile(r"0[789]0\d{8}")
_ACCOUNT_ID = quickre.compile(
    r"(?:ID|ＩＤ|アカウント|ログイン|login|user\s*name|username)\s*[:：=]?\s*$", re.IGNORECASE)


def _is_jp_mobile(entity: str, value: str) -> bool:
    """A Japanese mobile number: a person's, never an organisation's line."""
    return entity in _PHONES and _JP_MOBILE.match(re.sub(r"\D", "", value) or "x") is not None


def _owner_before(text: str, start: int) -> bool:
    """Whether an organisation's or a public place's name ends right before ``start``, where
    an opening bracket (and a label such as ``本社：``) or, in English, a comma leads into the
    value ("American Dental Association, 211 E. Chicago Ave.")."""
    # (Long enough for a ministry's name: "Ministry of Agriculture, Forestry and Fisheries (".)
    prefix = text[max(0, start - 64):start]
    m = re.search(r"(?:[（(]|(?<=[A-Za-z]),)\s*(?:〒\s*)?(?:[^（()）\n]{0,12}[:：]\s*)?$", prefix)
    if m is not None:
        return _is_owner(prefix[:m.start()])
    # A sign's or a letterhead's owner, then its postal mark: 成田国際空港 〒282-0004 千葉県…
    m = re.search(r"[ \t\u3000]*〒[ \t\u3000]*(?:\d{3}[-‐ー－]\d{4}[ \t\u3000]*)?$", prefix)
    if m is not None and _is_owner(prefix[:m.start()]):
        return True
    # "… box for Arlington National Cemetery: 1 Memorial Ave": the owner's name and a colon.
    m = re.search(r"(?<=[A-Za-z])[ \t]*:[ \t]*$", prefix)
    if m is not None and _is_owner(prefix[:m.start()]):
        return True
    # The place's name, then its building's, then the address, in the brackets: 献血ルーム
    # 有楽町（東京交通会館 東京都千代田区…）, 期日前投票所（大宮ソニックシティ、さいたま市…）.
    m = re.search(r"[（(]\s*(?P<building>[^（()）\n:：、,]{2,20}?)[ \t\u3000、,]+$", prefix)
    if m is not None and (_is_owner(m.group("building")) or _is_owner(prefix[:m.start()])):
        return True
    # A list item labelled with its owner's name: "- 横浜税関：神奈川県横浜市中区海岸通1-1".
    head = text.rfind("\n", 0, start) + 1
    item = _OWNER_ITEM.search(text, head, start)
    if item is not None and _is_owner(item.group("owner")):
        return True
    # A value that begins its line, under a line that begins with its owner's name ("Green
    # Hill Animal Hospital — open Mon–Sat" over the address).
    if head == 0 or _POSTAL_LEAD.sub("", text[head:start]).strip(" \t\u3000〒"):
        return False
    heading = _OWNER_HEADING.match(text, text.rfind("\n", 0, head - 1) + 1, head - 1)
    return heading is not None and _is_owner(heading.group("owner"))


def _under_org_name(text: str, start: int) -> bool:
    """Whether the value at ``start`` begins its line, or follows only an address's label
    there, under a line that labels an organisation's name (施設名：国立天文台 三鷹キャンパス,
    then 住所：〒181-8588 …): the form's own word says whose it is, 住所 included."""
    head = text.rfind("\n", 0, start) + 1
    if head == 0:
        return False
    lead = _POSTAL_LEAD.sub("", text[head:start]).strip(" \t\u3000〒")
    above = text.rfind("\n", 0, head - 1) + 1
    return ((not lead or _ADDRESS_LABEL.fullmatch(lead) is not None)
            and _NAME_OF_ORG_LABEL.match(text, above, head - 1) is not None)


# A line that labels an organisation's or a facility's name (施設名：…, "Venue: …").
_NAME_OF_ORG_LABEL = quickre.compile(
    r"[ \t\u3000]*(?:[-・*•]\s*)?(?:施設名|会社名|企業名|団体名|法人名|店名|店舗名|事業所名|学校名|"
    r"病院名|機関名|会場名|見学先|訪問先|(?i:facility|company|organi[sz]ation|venue|institution)"
    r"(?:[ \t]+name)?)[ \t\u3000]*[:：][ \t\u3000]*\S")
# An address's own label at the head of its line (住所：, 所在地：, "Address:").
_ADDRESS_LABEL = quickre.compile(
    r"(?:[-・*•]\s*)?(?:住所|所在地|(?i:address|location))[ \t\u3000]*[:：][ \t\u3000]*"
    r"(?:〒[ \t\u3000]*(?:\d{3}[-‐ー－]\d{4})?[ \t\u3000]*)?")


# An address labelled by the kind of place it is ("Embassy address:", "Office address:").
_OWNED_ADDRESS_LABEL = quickre.compile(r"\b([A-Za-z]+)[ \t]+address[ \t]*[:：][ \t]*$",
                                       re.IGNORECASE)
# A postal code before the address on its line (〒107-8403 東京都港区…).
_POSTAL_LEAD = quickre.compile(r"^[ \t\u3000]*〒?[ \t\u3000]*\d{3}[-‐ー－]\d{4}[ \t\u3000]*")
# The start of a line that names an owner: up to a dash, a colon, a bracket or the line's end.
_OWNER_HEADING = quickre.compile(r"[ \t]*(?P<owner>[^—–:：(（|\n]{2,60}?)[ \t]*(?:[—–:：(（|]|$)")


# A line that is a list item (or a plain line) labelled by a name and a colon, the value after.
_OWNER_ITEM = quickre.compile(
    r"^[ \t\u3000]*(?:[-・*•●■◆▪]|\d{1,2}[.)．）])?[ \t\u3000]*(?P<owner>[^:：\n]{2,40}?)"
    r"[ \t\u3000]*[:：][ \t\u3000]*(?:〒[ \t\u3000]*[\d-]+[ \t\u3000]*)?$", re.MULTILINE)


# An English name whose head noun comes before "of" and capitalised words to its end.
_EN_HEAD_OF = quickre.compile(
    r"\b([A-Z][a-z]+)\s+of\s+(?:the\s+)?[A-Z][\w'’.-]*(?:,?\s+(?:and|&|of|the|[A-Z][\w'’.-]*))*"
    r"\s*$")


def _is_owner(owner: str) -> bool:
    """Whether ``owner`` ends with an organisation's or a public place's name — or does before
    a short word that names its part (東京税関 本関, 東京国立博物館 平成館)."""
    # 「管理所前」「駅構内」: a place by its front or inside is the place's.
    owner = re.sub(r"(?:前|内|横|付近|正面|入口|入り口|構内)$", "", owner.rstrip()).rstrip()
    owner = owner.rstrip("」』\"”'’").rstrip()  # 「公益社団法人日本化学会 年会係」（…）
    parts = owner.rsplit(None, 1)
    if len(parts) == 2 and len(parts[1]) <= 4 and re.fullmatch(r"[一-龯ァ-ヶー]+", parts[1]):
        if _JA_ORG_SUFFIX.search(parts[0]):
            return True
    if _JA_ORG_SUFFIX.search(owner):
        return True
    head = _EN_HEAD_OF.search(owner)
    if head is not None and (is_thing_word(head.group(1))
                             or head.group(1).casefold() in _EN_PLACE_WORDS):
        return True  # "National Museum of Nature and Science", "Bank of Yokohama"
    # A firm's or a park's regional arm: "Universal Studios Japan", "Toyota Motor Europe".
    owner = _REGION_TAIL.sub("", owner)
    # A part by its number or letter: "Narita Airport Terminal 1", "Gate B", "Hall No. 3".
    owner = _PART_NUMBER_TAIL.sub("", owner)
    word = _EN_NAME_WORDS.search(owner)
    if word is None:
        return False
    last = word.group(1).rstrip(".'’")
    if owner == last and re.fullmatch(r"[A-Z]{3,6}", last) and not _FIELD_ACRONYM.fullmatch(last):
        return True  # JAXA（東京都調布市…）: an organisation by its acronym alone
    return is_thing_word(last) or last.casefold() in _EN_PLACE_WORDS or (
        last[:1].isupper() and last.casefold().endswith(("-dera", "-ji", "-jinja", "-gu"))) or (
        # A hall in romaji by its -kan (Ryogoku Kokugikan, Nippon Budokan, Kaikan).
        last[:1].isupper() and len(last) > 4 and last.casefold().endswith("kan"))


_PART_NUMBER_TAIL = quickre.compile(r"(?<=[A-Za-z])[ \t]+(?:No\.?[ \t]*)?(?:\d{1,3}|[A-Z])[ \t]*$")
# Acronyms that label a contact field, not an owner ("TEL: 06-…").
_FIELD_ACRONYM = quickre.compile(
    r"TEL|FAX|MOB|CELL|PHONE|MAIL|EMAIL|ADDR|ZIP|DOB|SSN|URL|WEB|SNS|LINE|ID|PIN|REF")
_REGION_TAIL = quickre.compile(
    r"(?<=[A-Za-z])[ \t]+(?:Japan|Europe|Asia|America|Americas|Africa|Australia|China|Korea|"
    r"India|Canada|USA|UK|EMEA|APAC|International|Worldwide|Global)[ \t]*$")
# Public places and landmarks in English text, beyond the lexicon's organisation head nouns.
_EN_PLACE_WORDS = frozenset({
    "temple", "shrine", "taisha", "jingu", "castle", "tower", "tree", "skytree", "dome",
    "palace", "cathedral", "monument", "memorial", "zoo", "aquarium", "theatre", "theater",
    "arena", "terminal", "pier", "gate", "crossing", "embassy", "consulate", "ministry",
    "hq", "headquarters", "kingdom", "resort", "land", "zone", "cemetery",
    # Japanese spas and their buildings in romaji ("Dogo Onsen Honkan", "Kinosaki Ryokan").
    "onsen", "honkan", "ryokan",
    # An organisation's service line by its name ("TELL Lifeline (03-…)", "Yorisoi Hotline").
    "hotline", "lifeline", "helpline",
})


# A place named after "at", then a comma or a bracket and its address: the venue of what the
# sentence speaks of ("Screenings at BFI IMAX, 1 …", "exhibiting at Tokyo Big Sight (3-11-1
# Ariake …)"). Not a possessive (at John's, …) and not a person; not where someone lives: a
# verb of living before it, or a residential building's name ("at Sakura Heights (…)").
_AT_VENUE = quickre.compile(
    r"\b(?:at|@)[ \t]+(?:the[ \t]+)?(?:[A-Z][\w&.-]*)(?:[ \t]+[A-Z][\w&.-]*){0,4}[ \t]*[,(][ \t]*$")
_RESIDING = quickre.compile(
    r"\b(?:lives?|lived|living|resides?|resided|residing|stay(?:s|ed|ing)?|moved|home|flat|"
    r"apartment|room)\b", re.IGNORECASE)
_RESIDENTIAL = quickre.compile(
    r"\b(?:Heights|Mansion|Maison|Residences?|Court|Apartments?|Apts?|Flats?|Haitsu|Haimu|Corpo|"
    r"Kopo|Villa|House|Homes?|Place|Lodge|Cottage)\W*$", re.IGNORECASE)


_BRACKET_REACH = 80


def _open_bracket(text: str, head: int, at: int) -> int | None:
    """Where the bracket still open at ``at`` opens, after ``head``; None if none."""
    depth = 0
    for i in range(at - 1, head - 1, -1):
        ch = text[i]
        if ch in ")）":
            depth += 1
        elif ch in "(（":
            if depth == 0:
                return i
            depth -= 1
    return None


def _desk_mailbox(text: str, hit: Detected, value: str) -> bool:
    """An address right after an organisation's desk label on its line ("Investor relations:
    ir@…"), whose local part names nobody (no name of the lexicon in it: jane.smith@ after the
    same label is Jane Smith's)."""
    head, _ = _line(text, hit.start, hit.end)
    label = _ORG_LABEL.search(text, max(head, hit.start - 40), hit.start)
    if label is None or text[label.end():hit.start].strip(" \t:：-–") != "":
        return False
    names = lexicon()
    return not any(names.is_name(part) for part in re.findall(r"[A-Za-z]{2,}",
                                                               value.rsplit("@", 1)[0]))


def _organisation_s_by_convention(text: str, hit: Detected, value: str) -> bool:
    """A freephone number (an organisation's by the numbering plan), a role mailbox (info@,
    support@: by RFC 2142's convention) or a desk's mailbox (``_desk_mailbox``)."""
    return hit.entity_type in _PHONES and _is_freephone(value) or (
        hit.entity_type == "EMAIL_ADDRESS" and (_is_role_mailbox(value)
                                                or _desk_mailbox(text, hit, value)))


def _public_by_nature(text: str, hit: Detected, people: _People) -> bool:
    """Whether ``hit`` is a contact detail the arbiter gives to an organisation by itself:
    ``_organisation_s_by_convention``, or ``_public_contact``'s."""
    value = text[hit.start:hit.end]
    if _organisation_s_by_convention(text, hit, value):
        return True
    return hit.entity_type in _CONTACTS and _public_contact(text, hit, value, people)


def _public_contact(text: str, hit: Detected, value: str, people: _People) -> bool:
    """An organisation's or a public place's: in brackets right after its name, or after an
    organisation's label (``代表``, ``main line``) on the same or the line before — with no
    private label (``住所``, ``home``) right before the value and no person named between the
    label and the value."""
    if _is_jp_mobile(hit.entity_type, value):
        return False
    if hit.entity_type == "JP_ADDRESS" and _PUBLIC_FACILITY_IN.search(value):
        return True  # 住所:…一丁目1番1号 市役所本庁舎3階: whatever the label, the building's
    head, tail = _line(text, hit.start, hit.end)
    if hit.entity_type not in _PHONES and _under_org_name(text, hit.start):
        return True
    if _private_label(text, max(head, hit.start - 30), hit.start):
        return False
    if _HOME_BUSINESS.search(text, *_sentence(text, hit.start, hit.end)) or _FREELANCE.search(
            text, *_paragraph(text, hit.start)):
        return False
    if _owner_before(text, hit.start) or _ORG_LABEL_AFTER.match(text, hit.end):
        return True
    owned = _OWNED_ADDRESS_LABEL.search(text, max(head, hit.start - 40), hit.start)
    if (owned is not None and hit.entity_type != "JP_POSTAL_CODE" and hit.entity_type not in _PHONES
            and (is_thing_word(owned.group(1))
                 or owned.group(1).casefold() in _EN_PLACE_WORDS)):
        return True  # "Embassy address: 1-10-5 Akasaka …", "Office address:": a place's
    opened = _open_bracket(text, max(head, hit.start - _BRACKET_REACH), hit.start)
    if (opened is not None
            and _is_owner(text[max(head, opened - 40):opened])
            and not people.overlap(opened, hit.start)
            and not _private_label(text, opened, hit.start)):
        return True  # 京都大学 総務部広報課（〒606-8501 京都市…、電話 075-…）: all the owner's
    venue = _AT_VENUE.search(text, max(head, hit.start - 60), hit.start)
    if (venue is not None and not people.overlap(venue.start(), hit.start)
            and not _RESIDING.search(text, max(head, venue.start() - 24), venue.start())
            and not _RESIDENTIAL.search(venue.group(0))):
        return True  # "Screenings at BFI IMAX, 1 Charlie Chaplin Walk": where an event is
    prev = _previous_line_start(text, head)
    labels = list(_ORG_LABEL.finditer(text, max(prev, hit.start - 60), hit.start))
    if not labels:
        return False
    between = (labels[-1].end(), hit.start)  # from the nearest label to the value
    if people.overlap(*between):
        return False
    return not _private_label(text, *between)


# -- public figures and characters ------------------------------------------------------------

# A work's title: in 『』 or 《》, or in 「」 before シリーズ (「かいけつゾロリ」シリーズ: a
# series of books, films or games — 「」 alone also quotes forms and speech).
_WORK_TITLE = quickre.compile(
    r"『[^』\n]{1,40}』|《[^》\n]{1,40}》|「[^」\n]{1,40}」(?=シリーズ)")
# In English, a quoted title after a verb of reading, watching or playing it ("our book club is
# reading 'Kafka on the Shore'", "we watched \"Spirited Away\"").
# A quoted title that names a work, not a colleague's document: no year, quarter or business
# word inside it ("Emily Hall's 'Q3 Forecast'", "Kenji Watanabe's 'Budget 2025'"), and no
# document's noun after it ('Growth Story' deck).
_QUOTED_WORK = (
    r"(?-i:[\"“'‘](?![^\"“”'‘’\n]{0,60}?(?:\d{4}|\bQ[1-4]\b|\b(?:Budget|Forecast|Plan|Report|"
    r"Proposal|Review|Strategy|Roadmap|Update|Minutes|Agenda|Policy|Draft|Deck|Memo|Analysis|"
    r"Summary|Results|Sales|Pipeline|Project|Kickoff|Kick-off|Onboarding|Offsite|Retro)\b))"
    r"[A-Z0-9][^\"“”'‘’\n]{0,60}[\"”'’]"
    r"(?![ \u00a0]+(?:deck|memo|report|proposal|file|spreadsheet|sheet|e-?mail|slides?|draft|"
    r"doc|document|presentation|plan|notes|ticket|thread|invoice|contract|template|form)\b))")
# … or after its author's name ("inspired by John Steinbeck's 'The Pearl'").
_EN_WORK_TITLE = quickre.compile(
    r"\b(?:read|reads|reading|reread|rereading|watch|watched|watching|rewatch|rewatching|"
    r"play|played|playing|staging|adapting|adapted)\s+(?:the\s+(?:novel|book|film|play|"
    r"series|game|manga|anime)\s+)?([\"“'‘][A-Z][^\"“”'‘’\n]{1,60}[\"”'’])|"
    r"(?-i:\b[A-Z][a-z]+[ \u00a0][A-Z][a-z]+['’]s)[ \u00a0]+(" + _QUOTED_WORK + ")")
# A sentence about a work of fiction, or about the past: its people are characters or figures
# of history. Words that also describe a customer's record ("history", "profile") are not here.
_FRAME_WORDS = quickre.compile(
    # (Not a match's count or a bowling game: 3ゲーム目, 2ゲーム差.)
    r"キャラ|登場人物|主人公|アニメ|漫画|マンガ|小説|(?<![\d０-９一二三四五六七八九十]\s)(?<![\d０-９一二三四五六七八九十])"
    r"ゲーム(?![目差数])|映画|ドラマ|作品|童話|昔話|"
    # 明治/大正 as eras of history, not of a birth (大正15年生まれ).
    # (歴史 is history; a person's record is 履歴 or 経歴: 「ワセリンの歴史」.)
    r"歴史|偉人|武将|幕末|名画|晩年|考案者|[0-9０-９一二三四五六七八九十]+\s?世紀|"
    # 明治/大正 and a year frame the past (明治5年の司法職務定制) — not a birth (大正15年生まれ,
    # 大正15年に生まれた) or a date with its month (生年月日 大正15年3月2日).
    r"(?:明治|大正)(?!\s*[\d０-９一二三四五六七八九十元]+\s*年?[^。\n]{0,12}?(?:生|誕|月))|"
    r"江戸時代|戦国|創業者|将軍|藩主|大名|"
    # A year of three digits is of the first millennium (901年に大宰府へ左遷され).
    # (The text is canonicalised: a blank stands between a digit run and the kanji around it.)
    r"(?<![\d０-９.,])[1-9]\d\d\s?年(?!\s?[\d生〜~])|"
    # … and one before 1920, as the English years below: nobody born then is a customer
    # (1911年にオーストリアのレルヒ少佐が…); not a birth (1919年生まれ) nor a date with its month.
    # A building's year (1915年築の家) is a customer's house's, not history.
    r"(?<![\d０-９.,])(?:1[0-8]\d\d|19[01]\d)\s?年(?!\s?[\d生〜~築])(?![^。\n]{0,12}?(?:生|誕))|"
    # A shrine's enshrined deity is a figure of history or myth (御祭神は菅原道真公).
    r"御?祭神|祀られ|"
    # Institutions of the past (東京帝国大学の上野英三郎博士, 旧制高校).
    r"帝国大学|大日本帝国|旧制|"
    # An event of history by its year (出光佐三と1953年の日章丸事件) — not an accident or a
    # disaster, which have victims who are customers.
    r"\d{4}\s?年の[^。\n、]{0,10}?(?:事件|戦争|革命|条約|万博|暗殺|遷都|維新)|"
    # Detective fiction (「名探偵フェア」のPOP), trivia, the Olympics.
    r"名探偵|推理小説|探偵小説|豆知識|トリビア|オリンピック|パラリンピック|五輪|"
    r"\bfun\s+facts?\b|\btrivia\b|(?-i:\bOlympi(?:cs?|ans?)\b|\bParalympi\w*)|"
    # A month of history or heritage, a tribute ("For Black History Month … a tribute to").
    r"\b(?:history|heritage)\s+month\b|\btributes?\s+to\b|"
    # A public display of history ("a history panel for our base lodge about …"); a record's
    # "history" alone is a customer's.
    r"\bhistory\s+(?:panels?|plaques?|boards?|exhibits?|exhibitions?|displays?|corners?)\b|"
    r"(?:歴史|郷土史)(?:パネル|展示)|"
    # A question what someone was: 「どんな人物だったか」, "who Thomas B. Fitzpatrick was",
    # "who were Gertrude Jekyll and …" — not a relative clause ("Mr. Pryor, who was fitted").
    r"どんな人物|何者だった|"
    r"\bwho\s+(?:was|were)\s+(?-i:[A-Z])|(?-i:\bwho\s+(?:[A-Z][\w.'’-]*\s+){1,4}(?:was|were)\b)|"
    # A theory's or a model's proposer ("Dirty Dozen" を提唱したゴードン・デュポン).
    r"提唱|"
    # A work said to be someone's is history's or legend's (千利休が造ったとされる待庵, 空海が
    # 開いたと伝わる寺).
    r"(?:造|作|建て|築|創|始め|開|考案し|発明し|書|著し|詠|描|残し|創建し|開山し|創始し)"
    r"(?:っ|い|ん)?[ただ]と(?:される|伝わる|伝えられ|言われ)|"
    r"創設|起草|発明|ノーベル|選手|作家|功績|偉業|有名(?!無実)|著名|"
    # An artist's style (ガレとラリックの作風, 相田みつをの書風) and a first of history
    # (女子プロ初のパーフェクト, 日本人初の); a field a figure contributed to (分類学に…貢献).
    # A song's lyrics and a famous saying are their author's public words (やなせたかしさんの
    # 「なんのために生まれて…」という歌詞).
    # Public honours and records (人間国宝, 文化勲章, "world record"), an essayist's essays.
    r"人間国宝|文化勲章|重要無形文化財|世界記録|エッセイ|随筆|(?i:\bworld\s+records?\b)|"
    # … and a designer's (ヴェラ・ウォンと桂由美のドレスのデザインの特徴); a figure's role in an
    # industry (日本のブライダル業界に果たした役割, 医学界に与えた影響).
    r"歌詞|名言|格言|作風|画風|書風|デザインの(?:特徴|傾向|変遷)|"
    # Goods told from their fakes are a brand's (ルイ・ヴィトン、ハリー・ウィンストンの真贋).
    r"真贋|偽物|偽造品|コピー品|正規品|並行輸入品|"
    r"(?:日本人|女性|女子プロ|アジア人|史上|世界)初[のめ]|"
    r"(?:[学界]|分野)に[^。\n]{0,6}(?:貢献|果たした役割|与えた影響)|"
    # A story's premise: 「ベーカー街221B在住という設定」.
    r"という設定|"
    r"詩人|画家|業績|生涯|伝記|"
    # (Not a person's character: "a character reference for …", "a character witness".)
    r"\b(?:the|a|an|main|fictional|game|anime|manga|cartoon|story|his|her|their)\s+characters?\b"
    r"(?!\s+(?:references?|witness(?:es)?|assessments?|evidence|traits?|flaws?|checks?|"
    r"statements?|letters?))|"
    r"\bcharacters?\s+(?:from|in|of)\b|\banime\b|\bmanga\b|\bnovels?\b|\bcartoons?\b|"
    # A person the writer says is invented is nobody's record (「架空の人物で」).
    r"\bfictional\b|架空の(?:人物|キャラ|名前|話|物語|設定)|"
    # A park's or a shop's characters: "character meet-and-greets", "character goods".
    r"\bcharacter\s+(?:meet[- ]and[- ]greets?|greetings?|dining|breakfasts?|parades?|goods|"
    r"merchandise|costumes?|appearances?|shows?)\b|"
    # A game's own people and the famous: nobody real is an NPC, lives in-game or is famous
    # for a customer's record; what is "publicly reported" of someone is a public figure's.
    r"(?-i:\bNPCs?\b)|\bin-game\b|\bfamous\b|\bwell[- ]known\b|\bpublicly\b|\bpop[- ]culture\b|"
    # A voice actor, a life-size panel or a mascot: the names beside them are characters'.
    r"声優|等身大パネル|マスコット|ゆるキャラ|\bmascots?\b|\bvoice actors?\b|"
    # A concert's soloist and conductor are its performers (not "conductor", which trains and
    # buses have, nor "conducted by", which audits and interviews are).
    r"\bsoloists?\b|指揮者|"
    # A work of art's making: "Painted after her divorce from Diego Rivera, this self-portrait".
    r"\bpainted\b|\bself-portraits?\b|\bsculpted\b|"
    r"\bcelebrit(?:y|ies)\b|\bathletes\b|"
    r"\bfairy tales?\b|"
    # A story's people ("In the story, John Blackthorne and Toranaga …"), legends of a sport.
    r"\bin\s+the\s+(?:story|novel|series|book|show|plot|film|game)\b|\blegends\b|"
    # A play for radio, stage or screen ("a 4-minute radio scene where Sherlock Holmes …").
    r"\b(?:radio|stage|tv|television|audio)\s+(?:dramas?|plays?|scenes?|serials?)\b|"
    r"\bvignettes?\b|\bshort\s+stor(?:y|ies)\b|\bdocumentar(?:y|ies)\b|"
    r"\bpicture\s+books?\b|\bchildren['’]s\s+(?:books?|stor(?:y|ies))\b|絵本|"
    # A staging of an author's play ("program notes for our production of Tom Stoppard's …").
    r"(?-i:\b(?:production|staging|revival|performance)s?\s+of\s+[A-Z][a-z]+\s+[A-Z][a-z]+['’]s\b)|"
    r"-themed\b|\bfilm(?:s|ed)?\b|\bmovies?\b|\bstarr(?:ed|ing)\b|\bactors?\b|"
    r"\bactress\b|\bhistorical\b|\bbiography\b|\bcentury\b|\bshaped\b|"
    r"\bfounded\b|\binvent(?:ed|or)\b|\bpioneer(?:ed|s)?\b|\bnobel\b|\blaureate\b|"
    r"\bcredited\s+with\b|"
    # A first of history ("the first woman to reach the summit of Everest"), a star's tour
    # ("Taylor Swift's Eras Tour").
    r"\bthe\s+first\s+(?:woman|man|person|female|male|japanese|asian|american|african|"
    r"european|black)\b(?:\s+[\w-]+){0,3}?\s+to\b|"
    r"(?-i:['’]s\s+(?:[A-Z][\w'’-]*\s+){1,3}(?:World\s+)?Tour\b)|"
    # A work by its author and year ("Osamu Tezuka's Astro Boy (1963)"), not a colleague's
    # document ("Maria's Budget Plan (2024)").
    r"(?-i:['’]s\s+(?![^\n(]{0,60}?\b(?:Budget|Forecast|Plan|Report|Proposal|Review|Strategy|"
    r"Roadmap|Update|Minutes|Agenda|Policy|Draft|Deck|Memo|Analysis|Summary|Results|Sales)\b)"
    r"(?:[A-Z][\w'’-]*\s+){0,4}[A-Z][\w'’-]*\s+\((?:1[89]|20)\d\d\))|"
    # A law or a theorem by its discoverer ("using Kepler's third law").
    r"(?-i:['’]s)\s+(?:(?:first|second|third|[a-z]+(?:-[a-z]+)?)\s+)?(?:laws?|theorem|principle|"
    r"equations?|theory|stages|hierarchy|relation(?!\s+(?:to|with)\b)|catalog(?:ue)?|"
    r"constant|paradox|conjecture|hypothesis)\b|"
    # … or a framework by its count ("Virginia Henderson's 14 basic needs", "Covey's 7
    # habits"; not points, rules or steps, which a colleague makes: "Maria's 3 points").
    r"(?-i:['’]s)\s+\d{1,3}\s+(?:[a-z]+\s+)?(?:needs|principles|habits|theses|laws|stages|"
    r"commandments|pillars|dimensions)\b|"
    r"\bemperor\b|\bshogun\b|\bsamurai\b|\bmeiji\b|\bedo period\b|\brestoration\b|"
    r"\bdynasty\b|\bnovelist\b|\bpoet\b|\bpainter\b|\bcomposer\b|\bphilosopher\b|"
    # A year of the past; after "born", "since", "on" … only before 1920: a customer since 1987,
    # a grandmother born May 14, 1931 are private people's dates (nobody born before 1920 is
    # a customer any more).
    r"\b(?:in|of|by|from|around|circa|until|the)\s+"
    r"(?:[A-Z][a-z]+\s+\d{1,2},\s+)?(?:1[0-8]\d\d|19[0-8]\d)s?\b|"
    # (… or after a possessive: "Charles F. Brush's 1888 turbine".)
    r"(?-i:['’]s)\s+1[0-8]\d\d\b|"
    r"\b(?:since|born|about|on|after|before|during)\s+(?:[A-Z][a-z]+\s+\d{1,2},\s+)?"
    r"(?:1[0-8]\d\d|19[01]\d)s?\b|[(（][^()（）\n]{0,40}?\b(?:1[0-8]\d\d|19[01]\d)[)）]|"
    # Works whose copyright has run out are old authors' ("now that Conan Doyle's works are
    # public domain").
    r"\bpublic[- ]domain\b|"
    r"\b1[0-9]\d\d\s*[–-]\s*1[0-9]\d\d\b|(?<!\d)1[0-8]\d\d\s?年|"
    # 社史, 自分史, 個人史 and 家族史 are histories of the writer's own people.
    r"歴史|(?![社人分族]史)[一-龯]史(?=[のをにでコ])|"
    # Historical fact and a public statue are a figure's (史実の部分は正確に, 駅前の銅像,
    # "the statue of Hachikō's owner").
    r"史実|銅像|(?<![a-z])statues?\s+of\b|"
    # Public words with a source: "quotes … that are well documented (not misattributed)".
    r"\bmisattribut\w*|\bwell[- ]documented\b|\b(?:famous|inspirational|memorable)\s+quotes?\b|"
    # "a bit of history: how did Frits Zernike's …", a synopsis of a titled work.
    r"\b(?:a\s+bit\s+of|a\s+(?:brief|short)|some)\s+history\b|(?-i:\bsynopsis\s+of\s+(?:The|A|An)\s+[A-Z])|"
    # A pioneer (日本の航空の先駆者である二宮忠八), and a role-play's made-up cast.
    r"先駆者|先駆け|草分け|生みの親|の父と呼ばれ|にちなん[でだ]|"
    r"\brole[- ]?play\s+(?:scenarios?|scripts?|exercises?)\b|ロールプレイ(?:の)?(?:台本|シナリオ)|"
    # An anniversary and a heritage listing are history's (放送100年の特番, 生誕150年, 国の
    # 重要文化財, 日本で最初の下水処理場).
    r"(?:創業|創立|設立|開業|開局|放送|誕生|開通|開園|開館|建立|生誕|没後)\s?[0-9０-９]+\s?(?:周年|年)(?!生)|"
    r"重要文化財|国宝|世界遺産|史跡|(?:日本|世界)で(?:最初|初めて)の|"
    # Characters' merchandise: nobody sells a figure of a customer.
    r"フィギュア(?!スケート)|ぬいぐるみ|アクリルスタンド|アクスタ|缶バッジ|コスプレ|ライセンス品|版権|"
    r"\bofficially licensed\b|\baction figures?\b|\bfigurines?\b|\bplush(?:ies)?\b|"
    r"\bcosplay\b|\breplicas?\b|"
    # Children's books, and writing in a persona's voice or after a persona's style.
    r"絵本|\bpicture books?\b|\bstorybooks?\b|\bnursery rhymes?\b|"
    r"\bin the (?:voice|style|manner|spirit) of\b|\binspired by\b|(?-i:[A-Z][a-z]+-style\b)|"
    r"口調で|になりきって|\bstory ?times?\b|\bthemed (?:on|around|after)\b|"
    # A work by its author ("Toni Morrison's \"Beloved\"") or a maxim quoted with its source,
    # a public office, a namesake ("Duke Energy (after James Buchanan Duke)").
    r"(?-i:['’]s\s+)" + _QUOTED_WORK + r"|名言|格言|出典|セリフ|台詞|\bnamed (?:after|for)\b|"
    # … also with what is named between ("We named the three loops after naturalists").
    r"\bnamed\s+(?:[\w'’-]+\s+){1,4}?after\b|"
    r"(?-i:\(after [A-Z])|\b(?:got|gets|took|takes) (?:its|their) names? from\b|名前の由来|"
    r"社名の由来|"
    r"(?-i:\b(?:Chief Justice|Justice|Secretary of State|Prime Minister|Senator|Governor)\s+[A-Z])|"
    # A monarch's or a pope's title before a name ("Queen Elizabeth II", "Pope Francis").
    r"(?-i:\b(?:King|Queen|Prince|Princess|Pope|Emperor|Empress|Tsar|Czar|Sultan|Pharaoh)"
    r"\s+[A-Z][a-z]+)",
    re.IGNORECASE,
)
# Japanese honorifics for characters, written into English text ("Nobita-kun", "Kiki-chan").
# A holder of a numbered office, before or in brackets after the name (初代司法卿の江藤新平,
# 十河信二（第4代国鉄総裁）): the list of an office's holders is public by its nature.
_OFFICE_ORDINAL = r"(?:初代|第\s*[0-9０-９一二三四五六七八九十百]+\s*代)"
_OFFICE_BEFORE = quickre.compile(_OFFICE_ORDINAL + r"[一-龯ァ-ヶー]{1,8}(?:の|・|、)?\s*$")
_OFFICE_AFTER = quickre.compile(
    r"\s*[（(]\s*" + _OFFICE_ORDINAL + r"[一-龯ァ-ヶー]|"
    # A head of state or government by the office after the name (田中角栄首相, 周恩来首相,
    # リンカーン大統領, 明治天皇): nobody's customer is written so.
    r"\s*(?:元|前)?(?:首相|総理(?:大臣)?|大統領|国家主席|天皇|皇帝|国王|女王|皇后|法王|教皇)(?![一-龯])")
_NAME_OF_PLACE = quickre.compile(r"[A-Z][a-z]+[ \u00a0]+of[ \u00a0]+[A-Z][a-z]+")
_CHARACTER_SUFFIX = quickre.compile(r"^-(?:kun|chan)\b", re.IGNORECASE)
_CLASSICAL_NO = quickre.compile(r"[A-Z][a-z]+[ \u00a0]no[ \u00a0][A-Z]")
_CLASSICAL_NO_BEFORE = quickre.compile(r"\b[A-Z][a-z]+[ \u00a0]no[ \u00a0]$")
# An epithet the public gave a person, right after the name: 坂口謹一郎（「酒の博士」と呼ばれた
# 発酵学者）, James Harrison, the Australian "Man with the Golden Arm". Nobody's customer is
# written about by the nickname the press gave them.
_EPITHET_AFTER = quickre.compile(
    r"\s*[（(]?\s*「[^」\n]{1,20}」(?:と(?:呼ばれ|称され|いわれ|言われ)|の(?:異名|愛称))|"
    r",[ \u00a0]+(?:the|known as|nicknamed|dubbed)[ \u00a0]+(?:[A-Z][a-z]+[ \u00a0]+){0,2}"
    r"[\"“][A-Z][^\"“”\n]{3,40}[\"”]|"
    # Someone's style (ジョン・レノン風の丸メガネ) is a known person's.
    r"風(?=の|に|な)|"
    # A lord's or an enshrined figure's honorific (菅原道真公, 家康公): no customer is styled so.
    r"公(?=[はがのをにでとも、。・）」』\s]|$)|"
    # The holder of a numbered peerage ("Anna Russell, 7th Duchess of Bedford").
    r",[ \u00a0]+(?:the[ \u00a0]+)?\d{1,2}(?:st|nd|rd|th)[ \u00a0]+(?:Duke|Duchess|Earl|Countess|"
    r"Marquess|Marchioness|Viscount|Viscountess|Baron|Baroness)[ \u00a0]+of\b|"
    # A composer before a work of music (Elgar: Enigma Variations, ブラームス 交響曲第1番).
    # (Not "Suite", which addresses have.)
    r"[ \t:：]+(?:[^\n;；。]{0,30}?\b(?:Symphony|Concerto|Sonata|Variations|Overture|"
    r"Requiem|Quartet|Quintet|Nocturne|Prelude|Fugue|Op\.|BWV)\b|"
    r"(?:交響曲|協奏曲|ピアノ協奏曲|ヴァイオリン協奏曲|ソナタ|組曲|序曲|変奏曲|前奏曲|夜想曲|レクイエム|弦楽四重奏曲))")
# A performance or a work named by its performer or artist, right after the name: "the Ed
# Sheeran concert", "the Henry Moore sculpture", "a Monet retrospective".
_WORK_NOUN_AFTER = quickre.compile(
    r"[ \u00a0]+(?:concerts?|tour|album|gig|sculptures?|paintings?|portraits?|statue|murals?|"
    r"retrospective|exhibition|biopic|fan\s+club|novels?|(?:first\s+)?editions?|collection|"
    r"biograph(?:y|ies)|installations?|pieces|"
    # "the Dale Chihuly work there": an artist's work (not a work order, a permit, a shift).
    r"works?(?![ \u00a0]+(?:orders?|permits?|schedules?|shifts?|e-?mails?|phones?|address|hours|"
    r"visas?|history|experience|from|with|for|on|at)\b))\b")
# A character cited by the work it is in, after its author's possessive: "Sol Nazerman in
# Edward Lewis Wallant's The Pawnbroker", "Gobseck from Balzac's novella", "Alyona Ivanovna from
# Dostoevsky's Crime and Punishment". The work is a title (an article, or two capitalised words
# joined by "and" or "of") or a word for a work — not a team, a shop or a club ("Mike from Dave's
# book club").
_A_WORK = (
    r"(?:(?:The|A|An)[ \u00a0]+[A-Z]|"
    r"[A-Z][a-z]+[ \u00a0]+(?:and|of)[ \u00a0]+(?:the[ \u00a0]+)?[A-Z]|"
    r"(?:[a-z]+[ \u00a0]+)?(?:novels?|novellas?|plays?|poems?|films?|stor(?:y|ies)|tales?|"
    r"operas?|trilogy|saga|books?|epic)\b(?![ \u00a0]+(?:club|group|shop|store|signing)s?\b))")
_CITED_IN_WORK = quickre.compile(
    # (… or with the character's role between: "Alyona Ivanovna, the pawnbroker in
    # Dostoevsky's Crime and Punishment".)
    r"(?:['’]s?)?(?:,[ \u00a0]+(?:the|a|an)(?:[ \u00a0]+[a-z][a-z-]*){1,3},?)?"
    r"[ \u00a0]+(?:in|from)[ \u00a0]+"
    r"(?P<author>(?:[A-Z][\w.'’-]*[ \u00a0]+){0,3}[A-Z][\w-]*)['’]s[ \u00a0]+" + _A_WORK)
# … and the author alone, where the character is no finding ("as cold as Madame Defarge in
# Charles Dickens's A Tale of Two Cities").
_AUTHOR_BEFORE = quickre.compile(r"\b(?:in|from)[ \u00a0]+$")
# An author before the word for their published work and its title (梅原大吾さんの著書『勝ち
# 続ける意志力』): whoever has published a book is its public author.
_JA_AUTHOR_AFTER = quickre.compile(
    r"[ \u3000]?(?:さん|氏|先生)?の(?:著書|著作|小説|自伝|エッセイ|絵本|詩集|句集|歌集|新刊|代表作|"
    r"ベストセラー)[ \u3000]?『")
_AUTHOR_AFTER = quickre.compile(r"['’]s[ \u00a0]+" + _A_WORK)


# In the same sentence, a person addressed, labelled or related to the writer's business.
# (A role word that modifies another noun addresses nobody: 新入社員研修, 社員向け, 患者数.)
_ADDRESSED = quickre.compile(
    # (神様 and 仏様 are gods, not customers.)
    r"(?:(?<![神仏])様|殿|氏名|名前[:：]|担当|お客様|患者|利用者|契約者|応募者|候補者|社員|従業員|入居者|"
    # A shop's regulars and members are its customers (常連の古川 和夫さん) — not its member
    # ranks, sign-up or site (会員ランク, 会員登録).
    r"常連|会員(?!ランク|登録|制|限定|規約|特典|サイト|ページ))"
    # (… nor a role in a role-play: お客様役, 患者役.)
    r"(?!研修|教育|向け|全員|一同|旅行|食堂|寮|数|層|満足|役)|"
    # "no client specifics" addresses nobody, nor does a role word before the noun it
    # modifies: "counter staff training deck", "customer service hours", "guest Wi-Fi".
    r"\bdear\b|\bname\s*:|"
    r"(?:(?<!\bno )(?<!without )\b(?:patient|customer|client)\b|\bemployee\b|"
    r"\bcandidate\b|\bapplicant\b|\btenant\b|\bguest\b|\bstaff\b|\bcolleagues?\b)"
    r"(?!\s+(?:training|trainings|education|onboarding|handbooks?|manuals?|decks?|meetings?|"
    r"rooms?|waiting|lounges?|portals?|newsletters?|surveys?|safety|experience|services?|"
    r"satisfaction|"
    r"engagement|wi-?fi|parking|polic(?:y|ies)|communications?|journeys?|base|counts?|"
    # A persona is an archetype a team makes up ("a clearly fictional customer persona").
    r"personas?|"
    r"numbers|levels|shortages?|retention|turnover)\b)|"
    # The writer's own people: family, friends, team ("my niece", 「うちの娘」), and someone
    # introduced by "our" and their role ("our new hire Rowan Whitlock"; not a thing named
    # after someone, "our annual Marie Curie Lecture", nor "our production of Tom Stoppard's").
    # (Not a verb between: "a plaque at our hut honouring Junko Tabei".)
    r"(?-i:\b[Oo]ur\s+(?:(?!of\b|honou?ring\b|featuring\b|celebrating\b|commemorating\b|"
    r"remembering\b|about\b|on\b)[a-z-]+\s+){1,2}[A-Z][a-z]+[ \u00a0][A-Z][a-z]+\b"
    r"(?![ \u00a0]+[A-Z]))|"
    # (Not a writer's own characters: "My protagonist, Hana Mori, is a fictional locksmith".)
    # (… nor a title's "My" in mid-sentence: "Hayao Miyazaki's My Neighbor Totoro".)
    r"(?-i:\b(?:my|MY)\b|(?<![a-z,] )\bMy\b)(?!\s+(?:main\s+)?(?:protagonist|characters?|"
    r"heroine|hero|villain|narrator|antagonist|sidekick|detective|novel|story|screenplay|script|"
    r"manuscript)\b)|"
    r"\bteam\s*mates?\b|\bteam\s+members?\b|\bniece\b|\bnephew\b|"
    r"(?-i:\b[Nn]eighbou?r\b(?<![a-z] Neighbor)(?<![a-z] Neighbour))|"
    # (Not another's: "Heidi with her grandfather", "Harry's son" are a story's people.)
    r"(?<!\bher )(?<!\bhis )(?<!\btheir )(?<!['’]s )"
    r"(?:\bgrand(?:mother|father|son|daughter|ma|pa)\b|\bson\b|\bdaughter\b|\bwife\b|"
    r"\bhusband\b)|"
    # (孫 alone, not inside a name: 山岡孫吉, 孫文.)
    # (Not the writer's business and what it makes: 「うちの畳店のブランドストーリー」 — while
    # 「うちの店の佐藤」 is one of its people.)
    r"私の|うちの(?![一-龯ァ-ヶー]{0,8}?(?:店|会社|工場|農園|園|教室|ホテル|旅館|ブランド|商品|製品|"
    r"サービス|施設|会場|館|リンク|ホール|スタジオ|ジム|カフェ|サロン|スクール|クラブ|ショップ|"
    r"プール|センター)(?:の(?:ブランド|商品|製品|ロゴ|サイト|ホームページ|キャッチコピー|ストーリー|広告|"
    r"POP|メニュー|名前|紹介|歴史)|[はがをでにへ、]|向け))|"
    r"娘|息子|姪|甥|(?<![一-龯])孫(?![一-龯])|祖母|祖父|母親|父親|友人|同僚|部下|上司|"
    r"メンバー|"
    # 本人 as a subject or a party is the person a record is about (本人が申告した腱鞘炎, not
    # 本人の言葉 of a quote).
    r"本人(?:が|から|に|へ|と)|"
    # Someone asked to do something is a real person (佐藤 花子さんにノーベル賞の話をしてもらう):
    # nobody asks a character for a talk.
    r"(?:さん|様|氏|先生)(?:に|から)[^。\n]{0,24}?(?:してもら|していただ|お願い|依頼|頼ん|頼む|伺)|"
    # The writer's organisation's units before their people (営業一課の大槻 翔, 第二病棟の).
    r"(?<!日)課の|(?<!関)係の|班の|部署|部門の|事業部の|営業所の|支店の|支社の|病棟の|"
    r"(?:営業|総務|経理|人事|開発|製造|品質|企画|広報|法務|技術|設計|購買|物流|管理)[一-龯]{0,3}部の",
    re.IGNORECASE,
)


# A firm's top officer, by the title a company's own publications give: "Akio Toyoda, Chairman
# of the Board of Toyota Motor Corporation", "Chairman and CEO (as of 2024): Kenichiro
# Yoshida", トヨタ自動車株式会社 代表取締役会長の豊田章男. Who leads a company is in its
# register and on its website.
_OFFICER_TITLE = (r"(?:Chief\s+Executive(?:\s+Officer)?|CEO|Chair(?:man|woman|person)?|"
                  r"President|Founder|Co-?founder|Managing\s+Director)")
_OFFICER_AFTER = quickre.compile(
    rf",[ \u00a0]+(?:the\s+)?{_OFFICER_TITLE}(?:\s+(?:and|&)\s+{_OFFICER_TITLE})?"
    r"(?:\s+of\s+the\s+Board)?\s+(?:of|at)\s+(?:the\s+)?[A-Z]")
_OFFICER_LABEL = quickre.compile(
    rf"(?m:^[ \t]*{_OFFICER_TITLE}(?:\s+(?:and|&)\s+{_OFFICER_TITLE})?(?:\s*\([^)\n]{{0,20}}\))?"
    r"[ \t]*:[ \t]*$)|"
    r"(?:株式会社|（株）|㈱|ホールディングス|グループ)[ \t\u3000]*"
    r"(?:代表取締役(?:会長|社長)?(?:兼(?:社長|CEO|会長))?|取締役会長|取締役社長|会長|社長|CEO)"
    r"(?:の|[ \t\u3000])[ \t\u3000]*$")


# The firm's name and the title right before the name ("Union Carbide CEO Warren Anderson"), not
# the writer's own ("Our CEO …").
_OFFICER_BEFORE = quickre.compile(
    r"(?-i:\b(?!(?:Our|My|Your|Their|His|Her|The|A|An|Former|New|Acting|Interim)\b)"
    rf"[A-Z][\w&'’.-]*(?:[ \u00a0]+[A-Z][\w&'’.-]*){{0,3}})[ \u00a0]+(?i:{_OFFICER_TITLE})"
    r"[ \u00a0]+$")


def _company_officer(text: str, hit: Detected) -> bool:
    """Whether ``hit`` is named as a company's top officer (``_OFFICER_AFTER``, a profile's
    ``_OFFICER_LABEL``) in a sentence that contacts nobody and is about no workplace case."""
    if not (_OFFICER_AFTER.match(text, hit.end)
            or _OFFICER_LABEL.search(text, max(0, hit.start - 48), hit.start)
            or _OFFICER_BEFORE.search(text, max(0, hit.start - 48), hit.start)):
        return False
    sentence = text[slice(*_sentence(text, hit.start, hit.end))]
    return not _CONTACTING.search(sentence) and not _EVERYDAY_CASE.search(sentence)


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around ``start..end``, its end mark included."""
    return _bounds(_breaks(text)[1], len(text), start, end, 1)


def _dictionary_figure(value: str) -> bool:
    """Every name in ``value`` (徳川家康・紫式部) is one entry of Sudachi's dictionary, written
    in kanji: katakana entries are foreign given names (ウィリアム), not people."""
    parts = [p for p in re.split(r"[・･、,\s\u3000]+", value) if p]
    return bool(parts) and all(
        len(p) >= 3 and re.search(r"[一-龯]", p) is not None
        and any(pos[2] == "人名" and pos[3] == "一般" for pos in dictionary_entries(p))
        for p in parts)


def _starts_with_family_name(value: str) -> bool:
    """Whether ``value`` is or begins with a family name of Sudachi's dictionary (後藤,
    近藤恵美)."""
    return any(pos[2] == "人名" and pos[3] == "姓"
               for size in range(1, min(len(value), 3) + 1)
               for pos in dictionary_entries(value[:size]))


def _public_figures(text: str, people: Sequence[Detected], private_data: bool) -> set[Detected]:
    """The people of ``text`` written about as public figures or characters: those of a
    sentence about a work or the past, or that names a work; and, with the others of their
    sentence, a dictionary entry, a name inside a work's title, a character's honorific, a lone
    given name in a text that names a work. None in a sentence that addresses or labels
    someone. And all of them when they are a cast of notable people (``_notable_cast``) in a
    text with no other personal data (``private_data``)."""
    public: set[Detected] = set()
    titles = sorted([(t.start(), t.end()) for t in _WORK_TITLE.finditer(text)]
                    + [t.span(1) if t.group(1) else t.span(2)
                       for t in _EN_WORK_TITLE.finditer(text)])
    title_starts = [start for start, _ in titles]
    by_sentence: dict[tuple[int, int], list[Detected]] = {}
    cited: set[Detected] = set()
    # The words the text's institutions are named by: read once, and only if a name asks.
    namesakes = lru_cache(maxsize=1)(lambda: {m.group(1) for m in _NAMESAKE.finditer(text)})
    by_start = sorted(people, key=lambda h: h.start)
    starts = [h.start for h in by_start]
    for h in people:
        by_sentence.setdefault(_sentence(text, h.start, h.end), []).append(h)
        if (_AUTHOR_AFTER.match(text, h.end)
                and _AUTHOR_BEFORE.search(text, max(0, h.start - 8), h.start)
                or _JA_AUTHOR_AFTER.match(text, h.end)):
            cited.add(h)
        work = _CITED_IN_WORK.match(text, h.end)
        if work is not None:
            # The character and its author, whoever else the sentence speaks of ("want my
            # shopkeeper to feel as haunted as Sol Nazerman in … The Pawnbroker").
            cited.add(h)
            cited.update(a for a in by_start[bisect_left(starts, work.start("author")):
                                             bisect_left(starts, work.end("author"))]
                         if a.end <= work.end("author"))
    for h in cited:
        if not _CONTACTING.search(text[slice(*_sentence(text, h.start, h.end))]):
            public.add(h)
    for (head, tail), group in by_sentence.items():
        sentence = text[head:tail]
        if _ADDRESSED.search(sentence):
            continue
        # Not a sentence that contacts someone: a frame beside "send it to" or "ask … to call
        # me" says what the message is about, not who its recipient is.
        if (_FRAME_WORDS.search(sentence) or bisect_left(title_starts, head) < bisect_left(
                title_starts, tail)) and not _RECIPIENT.search(sentence):
            public.update(group)
            continue
        # A cast listed after the sentence that frames it, on the same line (「名探偵コナンの
        # キャラで5問作って。コナンくん、蘭ねえちゃん、…を登場させて」): two or more people
        # in a sentence of their own take the frame (or the work's title: "Our book club is
        # reading 'Kafka on the Shore'. … Hoshino's road trip, Miss Saeki …") of an earlier
        # one on their line that addresses nobody. One person after a frame is not a cast
        # ("Write about samurai. Then send it to Tom Baker"), nor are people the sentence
        # writes to or contacts. One person is a character of a work the line names before
        # (『シン・ゴジラ』の巨災対を題材に。矢口蘭堂のような若手が…), or a notable person
        # (``_notable_name``) after a frame, in a text with no other personal data ("a mock
        # eulogy using a fictional person … Write a eulogy for Atticus Finch").
        # (The line of the sentence's start: its end mark may be the line break.)
        line_head, line_tail = _line(text, head, head)
        earlier = text[line_head:head]
        titled = bisect_left(title_starts, line_head) < bisect_left(title_starts, head)
        framed = _FRAME_WORDS.search(earlier) is not None
        cast = _distinct_people(group) >= 2
        # (The gazetteer is asked only where a frame makes it matter: a lone word's lookup
        # reads the whole text.)
        if ((titled or framed and (cast or not private_data and all(
                _notable_name(text, h) is not None or _foreign_full_name(text, h)
                for h in group)))
                and not _ADDRESSED.search(earlier) and not _CONTACTING.search(sentence)):
            public.update(group)
            continue
        # A foreign figure's katakana name takes a frame from later on its line too (「ABO式
        # 血液型を発見したカール・ラントシュタイナーの話を…。…ノーベル賞を受けた年」), on a line
        # that addresses nobody — not a gazetteer's name, which is a private person's one time
        # in seven ("Thanks to Maria Lopez for joining. Next week: the Nobel prize history").
        if (not private_data and all(_foreign_full_name(text, h) for h in group)
                and _FRAME_WORDS.search(text, tail, line_tail) is not None
                and not _ADDRESSED.search(text, line_head, line_tail)
                and not _CONTACTING.search(sentence)):
            public.update(group)
            continue
        for h in group:
            value = text[h.start:h.end]
            k = bisect_left(title_starts, h.start + 1) - 1
            inside_title = k >= 0 and h.end <= titles[k][1]
            character = bool(_CHARACTER_SUFFIX.match(text[h.end:h.end + 6])) or (
                value.lower().endswith(("-kun", "-chan")))
            # A given name alone (no family name) on a line that names a work: a character
            # (『ドラえもん』でのび太が…). Not a family name, alone or before a given name
            # (後藤, 近藤恵美), and not a work named on another line of the text: lines of one
            # prompt can be unrelated requests, and a title in one cleared a worker in another.
            line_head, line_tail = _line(text, h.start, h.end)
            lone = (bisect_left(title_starts, line_head) < bisect_left(title_starts, line_tail)
                    and not re.search(r"[\s・\u3000]", value) and len(value) <= 5
                    and not _starts_with_family_name(value))
            office = h in cited or _OFFICE_BEFORE.search(text, max(0, h.start - 16), h.start) or (
                _OFFICE_AFTER.match(text, h.end)) or _WORK_NOUN_AFTER.match(text, h.end) or (
                _EPITHET_AFTER.match(text, h.end)) or _company_officer(text, h) or (
                _namesake(text, h, namesakes))
            # A royal's, a saint's or a noble's style: "Catherine of Braganza", "Joan of Arc".
            # … and a pre-modern Japanese one, clan "no" given name (Sen no Rikyū, Taira no
            # Masakado): nobody living is romanised so.
            styled = _NAME_OF_PLACE.fullmatch(value) is not None or bool(
                _CLASSICAL_NO.match(text, h.start)
                or _CLASSICAL_NO_BEFORE.search(text, max(0, h.start - 20), h.start))
            # A notable name a talk or an essay is on ("a talk on Frank Lloyd Wright's art
            # glass"), in a text with no other personal data.
            talked_of = (not private_data
                         and _TALK_ON.search(text, max(0, h.start - 32), h.start) is not None
                         and _notable_name(text, h) is not None)
            if (inside_title or character or lone or office or styled or talked_of
                    or _dictionary_figure(value)):
                public.update(group)
                break
    rest = [h for h in people if h not in public]
    if not private_data and _notable_cast(text, rest, public):
        public.update(rest)
        return public
    if not private_data:
        # A paragraph that asks for what is publicly known of its people ("Write a piece on
        # Faker (Lee Sang-hyeok) … Stick to publicly known facts"), in a text with no other
        # personal data, writes about public figures — in its sentences that address and
        # contact nobody.
        asks_public: dict[tuple[int, int], bool] = {}
        for h in rest:
            bounds = _paragraph(text, h.start)
            if bounds not in asks_public:
                asks_public[bounds] = _PUBLIC_FRAME.search(text, *bounds) is not None
            sentence = text[slice(*_sentence(text, h.start, h.end))]
            if (asks_public[bounds] and not _ADDRESSED.search(sentence)
                    and not _CONTACTING.search(sentence)):
                public.add(h)
    return public


# What is given on a subject: "a talk on", "an essay about" (not a report or a profile, which
# a colleague's review is).
_TALK_ON = quickre.compile(
    r"\b(?:talks?|lectures?|essays?|presentations?|seminars?|quiz(?:zes)?|blog\s+posts?)"
    r"[ \t]+(?:on|about)[ \t]+$", re.IGNORECASE)


_PUBLIC_FRAME = quickre.compile(
    r"\bpublicly\s+(?:known|available|reported|documented)\b|"
    r"\bpublic\s+(?:records?|information|sources|facts|stat(?:s|istics))\b|公開情報|公知の|"
    r"\bwidely\s+(?:reported|known|publici[sz]ed|covered)\b|"
    # A work out of copyright: its characters are anyone's ("Conan Doyle's works are public
    # domain").
    r"\bpublic[- ]domain\b",
    re.IGNORECASE)


def _parts_of_figures(text: str, people: Sequence[Detected], public: set[Detected]
                      ) -> set[Detected]:
    """The people of ``text`` written by a part of a public figure's name the text writes in
    full (漱石（夏目漱石）, "Holmes" after "Sherlock Holmes"): the same person — not in a
    sentence that addresses someone (夏目様 stays a customer). A set of the parts and one
    search per sentence keep it linear in the text."""
    parts: set[str] = set()
    # … and the whole name again outside its frame (「ルイ・ヴィトンのデートコード」 after the
    # brand's authenticity), in a sentence that contacts nobody either.
    wholes: set[str] = set()
    for h in public:
        name = _part_key(text[h.start:h.end])
        wholes.add(name)
        if name.isascii():
            words = name.split(" ")
            if len(words) >= 2:
                parts.update((words[0], words[-1]))
        else:
            parts.update(name[:k] for k in range(2, len(name)))
            parts.update(name[k:] for k in range(1, len(name) - 1))
    found: set[Detected] = set()
    if not wholes:
        return found
    addressed: dict[tuple[int, int], bool] = {}
    for h in people:
        key = _part_key(text[h.start:h.end])
        if h in public or key not in parts and key not in wholes:
            continue
        bounds = _sentence(text, h.start, h.end)
        if bounds not in addressed:
            addressed[bounds] = _ADDRESSED.search(text[slice(*bounds)]) is not None
        if not addressed[bounds] and (key in parts or not _CONTACTING.search(
                text[slice(*bounds)])):
            found.add(h)
    return found


def figures_across(found: Mapping[Subject, tuple[Detected, ...]]
                   ) -> dict[Subject, tuple[Detected, ...]]:
    """One request's findings, with a name that another of its messages writes as a public
    figure (the assistant's "Johnny Appleseed was the nickname of John Chapman (1774–1845)")
    read as that figure where a message only names it ("Can you tell me a bit about Johnny
    Appleseed?") — not in a sentence that addresses or labels someone (``_ADDRESSED``). The
    messages of a request are one conversation; the per-text cache keeps each text's own
    findings, and this runs on the request's after it."""
    figures = {_figure_key(subject.text[h.start:h.end])
               for subject, hits in found.items() for h in hits
               if h.entity_type == PUBLIC_FIGURE}
    if not figures:
        return dict(found)
    # A word of a figure's name alone ("from Hana's point of view" after "My protagonist, Hana
    # Mori, is a fictional locksmith"), in a sentence that contacts nobody either.
    parts = {word for key in figures if key.isascii() for word in key.split(" ")
             if " " in key}
    out: dict[Subject, tuple[Detected, ...]] = {}
    for subject, hits in found.items():
        if subject.kind == "join":
            out[subject] = hits
            continue
        text = subject.text
        addressed: dict[tuple[int, int], bool] = {}  # one search per sentence: linear
        kept: list[Detected] = []
        for h in hits:
            key = _figure_key(text[h.start:h.end]) if h.entity_type == "PERSON" else ""
            if key in figures or key in parts:
                bounds = _sentence(text, h.start, h.end)
                if bounds not in addressed:
                    addressed[bounds] = _ADDRESSED.search(text, *bounds) is not None
                if not addressed[bounds] and (key in figures or not _CONTACTING.search(
                        text, *bounds)):
                    h = replace(h, entity_type=PUBLIC_FIGURE)
            kept.append(h)
        out[subject] = tuple(kept)
    return out


def _figure_key(value: str) -> str:
    """A name as ``figures_across`` compares it: its words in either order (Shigeru Ishiba is
    Ishiba Shigeru, as Japanese names are written both ways)."""
    return " ".join(sorted(_part_key(value).casefold().split(" ")))


def _part_key(value: str) -> str:
    """A name as ``_parts_of_figures`` compares it: blanks single, no possessive."""
    return re.sub(r"['’]s?$", "", re.sub(r"[\s\u3000・]+", " ", value.strip()))


# A name word of Latin script, for reading the word after a lone given name ("Jack" of "Jack
# Kerouac's").
_NEXT_NAME_WORD = quickre.compile(r"[ \u00a0]+([A-Z][a-z\u00e0-\u024f'’-]+?)(?:['’]s?)?\b")


_PARTICLE_END = quickre.compile(r"[ ](?:van|von|de|da|di|du|del|della|der|den|ten|ter|le|la)$")


def _latin_name(text: str, hit: Detected) -> str | None:
    """The Latin-script name of ``hit`` as the gazetteer spells titles: its words without a
    possessive, a lone word with the capitalised word after it; None for other scripts."""
    value = re.sub(r"['’]s?$", "", text[hit.start:hit.end].strip())
    if not re.fullmatch(r"[A-Za-z\u00c0-\u024f'’ .\-]+", value):
        return None
    if _PARTICLE_END.search(value):
        # "Vincent van" of "Vincent van Gogh": the particle wants the family name after it.
        following = _NEXT_NAME_WORD.match(text, hit.end)
        return f"{value} {following.group(1)}" if following else None
    if " " not in value:
        following = _NEXT_NAME_WORD.match(text, hit.end) or _PARTICLED_REST.match(text, hit.end)
        if following is not None:
            return f"{value} {following.group(1)}"
        # "the Dodge brothers (John and Horace)": the siblings' family name before the brackets,
        # and the family name itself as the first sibling's.
        siblings = _SIBLINGS_BEFORE.search(text, max(0, hit.start - 80), hit.start)
        if siblings is not None:
            return f"{value} {siblings.group(1)}"
        family = _SIBLINGS_AFTER.match(text, hit.end)
        return f"{family.group(1)} {value}" if family else None
    return value


# A family name's particles after a lone given name ("Aristides de Sousa Mendes", "Vasco da
# Gama"), then its first capitalised word.
_PARTICLED_REST = quickre.compile(
    r"[ \u00a0]((?:(?:van|von|de|da|do|dos|das|di|du|del|della|der|den|ten|ter|le|la)[ \u00a0])+"
    r"[A-Z][a-z\u00e0-\u024f'’-]+)")
# Siblings named by their family name before their given names in brackets.
_SIBLINGS_AFTER = quickre.compile(
    r"[ \u00a0]+(?:brothers|sisters|twins)[ \u00a0]*[(（]([A-Z][a-z\u00e0-\u024f'’-]+)")
_SIBLINGS_BEFORE = quickre.compile(
    r"\b[Tt]he[ \u00a0]+([A-Z][a-z\u00e0-\u024f'’-]+)[ \u00a0]+(?:brothers|sisters|twins)[ \u00a0]*"
    r"[(（](?:[A-Z][a-z\u00e0-\u024f'’-]+[ \u00a0]*(?:,|and|&)[ \u00a0]*)*$")


def _japanese_notable(value: str) -> str | None:
    """The romanised title ("keigo higashino") under which the gazetteer knows a Japanese
    name written as a family and a given name (東野圭吾, 村上 春樹), or None. Every reading the
    dictionary gives each part is tried (東野 is トウノ and ヒガシノ), in both orders: titles
    put modern people given name first and historical ones family name first."""
    value = re.sub(r"[\s\u3000・]+", " ", value.strip())
    # Three characters at least: two single kanji read as names make a name of anything
    # (東京 as 東 + 京, "Kyo To").
    if not re.fullmatch(r"[一-龯々ぁ-んァ-ヶー ]{2,12}", value) or len(value.replace(" ", "")) < 3:
        return None
    parts = value.split(" ")
    if len(parts) == 2:
        splits = [(parts[0], parts[1])]
    elif len(parts) == 1:
        splits = [(value[:k], value[k:]) for k in range(1, len(value))]
    else:
        return None
    for family, given in splits:
        for f in name_readings(family, "姓"):
            for g in name_readings(given, "名"):
                fr, gr = to_romaji(f), to_romaji(g)
                if fr and gr and (is_notable(f"{gr} {fr}") or is_notable(f"{fr} {gr}")):
                    return f"{gr} {fr}"
    return None


# A capitalised Latin-script name word: a capital, then lower-case letters ("Serena", "Jornet").
_NAME_WORD = r"[A-Z][a-z\u00e0-\u024f'’-]+"


# A foreign full name in katakana, its parts joined by ・ (ロバート・チーズブロー), with no
# honorific after it.
_KATAKANA_FULL_NAME = quickre.compile(r"[ァ-ヺー]{2,}(?:・[ァ-ヺー]{2,}){1,3}")
_HONORIFIC_NEXT = quickre.compile(r"\s?(?:さん|様|さま|氏|殿|くん|君|ちゃん|先生)")


def _foreign_full_name(text: str, hit: Detected) -> bool:
    """Whether ``hit`` is a foreign full name in katakana with no honorific after it: the
    gazetteer knows names in Latin letters only, and after a frame on its line (「ワセリンの
    歴史」… ロバート・チーズブローが) such a name is the figure the frame speaks of — where
    the text holds no other personal data."""
    return (_KATAKANA_FULL_NAME.fullmatch(text, hit.start, hit.end) is not None
            and _HONORIFIC_NEXT.match(text, hit.end) is None)


def _notable_name(text: str, hit: Detected) -> str | None:
    """The name under which the gazetteer knows ``hit``'s person ("given family"), or None.
    A lone word is the full name the text writes it in elsewhere ("Serena's record" after
    "Serena Williams' serve", "where Holmes first meets" after "Sherlock Holmes")."""
    name = _latin_name(text, hit)
    if name is not None and is_notable(name):
        return name
    value = re.sub(r"['’]s?$", "", text[hit.start:hit.end].strip())
    if re.fullmatch(_NAME_WORD, value):
        for m in re.finditer(rf"(?:\b({_NAME_WORD})[ \u00a0]+)?\b{re.escape(value)}\b"
                             rf"(?:[ \u00a0]+({_NAME_WORD}))?", text):
            after = re.sub(r"['’]s?$", "", m.group(2) or "")
            for full in (f"{m.group(1)} {value}" if m.group(1) else None,
                         f"{value} {after}" if after else None):
                if full is not None and is_notable(full):
                    return full
        return None
    if name is not None:
        return None
    return _japanese_notable(text[hit.start:hit.end])


def _lines_around(text: str, head: int, tail: int,
                  belongs: Callable[[int, int], bool]) -> tuple[int, int] | None:
    """The lines around the one at ``head..tail`` for which ``belongs(start, end)`` holds,
    walking up and down from it; None when no neighbour belongs."""
    lo, hi = head, tail
    while lo > 0:
        prev = text.rfind("\n", 0, lo - 1) + 1
        if not belongs(prev, lo - 1):
            break
        lo = prev
    while hi < len(text):
        nxt = text.find("\n", hi + 1)
        nxt = len(text) if nxt < 0 else nxt
        if not belongs(hi + 1, nxt):
            break
        hi = nxt
    return (lo, hi) if (lo, hi) != (head, tail) else None


def _table_block(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The rows around ``start..end`` when its line is a row of a table (cells split by
    ``|`` or tabs, as its neighbours' are): a table is one piece of a prompt, its people one
    cast (a table of loans by author names one author a row)."""
    head, tail = _line(text, start, end)
    mark = "|" if text.count("|", head, tail) >= 1 else "\t" if "\t" in text[head:tail] else ""
    if not mark:
        return None
    return _lines_around(text, head, tail, lambda lo, hi: mark in text[lo:hi])


# A list item's mark at the start of its line: a bullet, a number, a circled number, or the
# time code of show notes ("02:10 Serena Williams' 23 titles").
_LIST_MARK = quickre.compile(
    r"[ \t\u3000]*(?:[・•●○◆■\-*–—]|[0-9０-９]{1,2}[.)．）]|[①-⑳]|\d{1,2}:\d{2}(?::\d{2})?)"
    r"[ \t\u3000]*")


def _list_block(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The items around ``start..end`` when its line is an item of a list (each line of the
    block begins with a list mark, ``_LIST_MARK``): like a table, a list is one piece of a
    prompt, its people one cast (「以下の出来事を年代順に」 and one athlete an item)."""
    head, tail = _line(text, start, end)
    mark = _LIST_MARK.match(text, head)
    if mark is None or mark.end() == tail:
        return None
    return _lines_around(text, head, tail,
                         lambda lo, hi: lo < hi and _LIST_MARK.match(text, lo) is not None)


# Two or three capitalised words, as a name is written (not after a possessive's "s").
_CAPITALISED_NAME = quickre.compile(
    r"(?<![\w'’])[A-Z][a-z]+(?:[ \u00a0][A-Z][a-z]+){1,2}(?![\w])")


# What an institution or an honour named after a person is called after the family name.
_NAMESAKE_HEADS = (r"(?:Foundation|Institute|Prize|Award|Museum|Memorial|Trust|Library|Lecture|"
                   r"Medal|Cup|Trophy|Fellowship|Scholarship|Society|Centre|Center)")


# … and a rule or an object of science named after them, in lower case ("Zernike polynomials").
_NAMESAKE = quickre.compile(
    rf"\b([A-Z][\w'’-]*?)(?:['’]s)?[ \u00a0]+(?:{_NAMESAKE_HEADS}|polynomials?|equations?|"
    r"theorem|lemma|conjecture|paradox|constant|transforms?|functions?|distribution|"
    r"principle|inequality|diagram|algorithm)\b")


def _namesake(text: str, hit: Detected, namesakes: Callable[[], set[str]]) -> bool:
    """Whether the text names an institution or an honour after ``hit``'s notable person
    ("Johan Cruyff's ideas … promoted by the Cruyff Foundation"): a foundation, a prize or a
    museum is named after the famous, and the name is the gazetteer's. ``namesakes()``: the
    words the text's institutions are named by, found once per text."""
    value = text[hit.start:hit.end].strip()
    words = value.split()
    if len(words) < 2 or not words[-1][:1].isupper():
        return False
    family = re.sub(r"['’]s?$", "", words[-1])
    # (Not a family name many carry: the Carter Foundation is no sign about an Emily Carter.)
    if is_common_family(family) or family not in namesakes():
        return False
    # Not someone written to or thanked: a donor shares the foundation's name ("a thank-you
    # to Emily Carter for her gift to the Carter Foundation").
    sentence = text[slice(*_sentence(text, hit.start, hit.end))]
    if (_CONTACTING.search(sentence) or _WRITTEN_TO.search(sentence)
            or _TO_BEFORE.search(text, max(0, hit.start - 8), hit.start)):
        return False
    return _notable_name(text, hit) is not None


_WRITTEN_TO = quickre.compile(r"\b(?:thank|gift|donat|letter|card|invit|welcome|congratulat)",
                              re.IGNORECASE)
_TO_BEFORE = quickre.compile(r"\b(?:to|for|dear|with)[ \u00a0]+$", re.IGNORECASE)


def _inner_spans(people: Sequence[Detected]) -> set[Detected]:
    """The hits of ``people`` that lie inside another's span (one name read by two
    recognizers: NER's "NGUYEN Van Minh" and the lexicon's "Van Minh")."""
    inner: set[Detected] = set()
    end = -1
    for h in sorted(people, key=lambda h: (h.start, -h.end)):
        if h.end <= end:
            inner.add(h)
        else:
            end = h.end
    return inner


def _distinct_people(people: Sequence[Detected]) -> int:
    """How many people ``people`` name: their spans, less those inside another's."""
    return len({(h.start, h.end) for h in people}) - len(
        {(h.start, h.end) for h in _inner_spans(people)})


def _notable_cast(text: str, people: Sequence[Detected],
                  cleared: Collection[Detected] = ()) -> bool:
    """Whether the people of a text are a cast of notable people: at least two in each
    sentence (or table or list, ``_table_block``, ``_list_block``) that names any, every one a
    notable person's name (``notable``: Latin script, or Japanese read into romaji,
    ``_japanese_notable``), one of each sentence's with a family name outside the commonest
    (the US census's thousand, Japan's fifty: two common names together — Emily Hall and David
    Brown, 鈴木一郎 and 佐藤健 — are as often colleagues), and none in a sentence that
    addresses, labels or contacts someone or places them in a workplace or a case
    (``_EVERYDAY_CASE``).

    Only with no other personal data in the text (the caller's ``private_data``): a name of
    the gazetteer is also a private person's one time in seven, and two of them in a text with
    nothing else about them is the shape of a prompt about people, not of a record."""
    casts: dict[tuple[int, int], set[str]] = {}
    # Two recognizers' spans of one name (NGUYEN Van Minh and its Van Minh) are one person:
    # only the outermost counts toward a cast.
    inner = _inner_spans(people)
    # Each block (a table, a list) is found once and each sentence or block read once: a long
    # list of names costs its length, not its length times its names.
    blocks: list[tuple[int, int]] = []
    for h in people:
        name = _notable_name(text, h)
        if name is None:
            return False
        k = bisect_right(blocks, (h.start, len(text))) - 1
        if k >= 0 and blocks[k][0] <= h.start and h.end <= blocks[k][1]:
            bounds = blocks[k]
        else:
            block = _table_block(text, h.start, h.end) or _list_block(text, h.start, h.end)
            if block is not None:
                insort(blocks, block)
            bounds = block or _sentence(text, h.start, h.end)
        if bounds not in casts:
            sentence = text[slice(*bounds)]
            if (_ADDRESSED.search(sentence) or _CONTACTING.search(sentence)
                    or _EVERYDAY_CASE.search(sentence)):
                return False
            casts[bounds] = set()
        if h not in inner:
            casts[bounds].add(name.casefold())
    # A cast is named together: each sentence's people are one (two famous names on two lines
    # of a joined prompt are two requests, one of which may be about a forklift driver who
    # shares an actor's name).
    # A sentence that names one of them again ("Mention Federer's final… Serena's record")
    # goes on about the cast of an earlier one.
    # The public figures already cleared in a sentence count toward its cast ("Mention Freddie
    # Mercury, Brian May …": one cleared by another rule, the other a notable name).
    for h in cleared:
        bounds = _sentence(text, h.start, h.end)
        if bounds in casts:
            casts[bounds].add(_part_key(text[h.start:h.end]).casefold())
    # A famous name NER did not tag still makes a cast ("compare Hideki Matsuyama's 2021
    # Masters win and Tiger Woods' 1997 one", with Tiger Woods untagged): the capitalised
    # words of a sentence that names one notable person are looked up too.
    # (Not words of a name already found: "Van Minh" of NGUYEN Van Minh is the same person.)
    taken = _People(people)
    for bounds, names in casts.items():
        if len(names) == 1:
            for m in _CAPITALISED_NAME.finditer(text, *bounds):
                candidate = m.group().casefold()
                if (candidate not in names and not taken.overlap(m.start(), m.end())
                        and is_notable(candidate)):
                    names.add(candidate)
    named = {n for names in casts.values() if len(names) >= 2 for n in names}
    return bool(casts) and all(
        (len(names) >= 2 and any(not is_common_family(n.split()[-1]) for n in names))
        or (len(names) == 1 and names <= named)
        for names in casts.values())


# A sentence that places its people in a workplace or an administrative case: their roles to
# each other and the matters a company keeps about them ("the grievance filed by Kateryna
# Bondarenko against her supervisor Paul Richter" — both names are also notable people's). Only
# for the cast of notable names, which nothing else in the text speaks for.
_EVERYDAY_CASE = quickre.compile(
    r"\b(?:supervisors?|managers?|boss|subordinates?|direct\s+reports?|co-?workers?|employers?|"
    r"landlord|lodger|residents?|members?|callers?|claimants?|complainants?|"
    r"grievances?|complaints?|disciplinary|dismiss(?:al|ed)|terminat(?:ion|ed)|appraisals?|"
    r"performance\s+reviews?|(?:sick|annual|parental|maternity|paternity)\s+leave|PTO|"
    r"payroll|salary|wages|overtime|promot(?:ion|ed)|hired|onboarding|interview(?:ed)?|"
    r"diagnos[ei]s|referral|prescri(?:bed|ption)|admitted|discharged|"
    r"claims?|invoices?|refunds?|bookings?|reservations?|appointments?)\b|"
    r"面談|面接|評価|査定|人事考課|給与|給料|残業|休職|退職|解雇|懲戒|異動|昇進|採用|苦情|"
    r"クレーム|診断|処方|入院|退院|通院|予約|請求|返金|契約|申請|問診|カルテ",
    re.IGNORECASE,
)
# "the" before one more capitalised word of the name ("the Royal …"; "the Emily Hall account"
# is Emily Hall's).
_THE_BEFORE = quickre.compile(r"\b[Tt]he\s+[A-Z][a-z]+\s+$")
# "the" (and a given name the hit may leave out) right before a name, and the capitalised words
# of a thing's name right after it.
_THE_AND_NAME_BEFORE = quickre.compile(r"\b[Tt]he[ \u00a0]+(?:[A-Z][\w.]*[ \u00a0]+){0,2}$")
_CAPITALISED_AFTER = quickre.compile(r"[ \u00a0]+([A-Z][a-z]+)\b")
# What ends a name used as a title after "The": a bracket, a colon, a dash or the line's end.
_TITLE_END = quickre.compile(r"[ \t]*(?:[(:—–]|$)", re.MULTILINE)
# Words of a product's model after its maker and name ("Gibson Les Paul Standard 2019").
_MODEL_WORDS = frozenset({
    "standard", "deluxe", "custom", "classic", "special", "limited", "signature", "edition",
    "series", "model", "reissue", "mk", "mkii", "mk2",
    # A hotel's room grades (Sakura Superior King, Fuji Deluxe Twin).
    "superior", "premier", "executive", "suite",
    # A brewery's or a distillery's styles (Samuel Adams Summer Ale) — not those that are also
    # family names (Porter, Stout, Bitter, Lager).
    "ale", "ipa", "pilsner", "bourbon", "whisky", "whiskey",
})
_PLACE_OR_MODEL_WORDS = _EN_PLACE_WORDS | _MODEL_WORDS
# Romanised Japanese heads of shrines' and temples' names.
_ROMAJI_PLACE_HEADS = frozenset({"jingu", "jingū", "taisha", "jinja", "tenmangu", "hachimangu",
                                 "myojin", "myōjin", "gongen",
                                 # A festival is named after its shrine or its town (Kanda
                                 # Matsuri, Gion Matsuri).
                                 "matsuri",
                                 # Japanese merchant ships are named "… Maru" (ひかり丸).
                                 "maru"})
# The kinds of Japanese municipalities and their parts, as romanised addresses end a place's
# name: "Chiyoda-ku", "Gionmachi"; and in English, after a street ("68 Fukakusa Yabunouchicho,
# Fushimi Ward").
_ROMAJI_PLACE_SUFFIXES = ("-ku", "-cho", "-chō", "-machi", "-mura", "-shi", "-dori", "-dōri")
_ADDRESS_PART_HEADS = frozenset({"ward", "ku", "city", "prefecture", "town", "village",
                                 "district"})
# A label that names a kind of thing, right before the value: a rice, a variety, a product,
# a ship, a room (使用米：山田錦, 部屋名：漱石, "Cultivar: Yamada Nishiki").
_THING_LABEL = quickre.compile(
    r"(?:使用米|酒米|原料米|品種|銘柄名?|商品名|製品名|品名|船名|部屋名|会議室名?|車名|機種名?|"
    r"犬種|猫種|(?i:\b(?:product|model|brand|vessel|ship|room|variety|cultivar|breed|strain|"
    r"species)(?:[ \t]+name)?))(?:[ \t\u3000]*[:：][ \t\u3000]*[「『\"“]?|"
    # …or the label's quoted items, one after another (品種「さやまかおり」「おくみどり」).
    r"(?:[「『][^」』\n]{1,20}[」』][ \t\u3000、,・]*)*[「『])$|"
    # A maker's or a brand's label, then its names one after another (メーカーはキュレルとラ
    # ロッシュ ポゼです): firms, whatever they are named after.
    r"(?:メーカー|ブランド|製造元|販売元|(?i:\b(?:makers?|manufacturers?|brands?)\b))[ \t\u3000]*"
    r"(?:名)?(?:は|が|:|：|(?i:like|such\s+as|e\.g\.))[ \t\u3000]*"
    r"(?:[^\s、。,と]{1,20}[ \t\u3000]*(?:と|、|,|や)[ \t\u3000]*)*"
    r"(?:(?:Mr|Mrs|Ms|Dr|Sir)\.?[ \t]+)?$")
# The text says right after the value that it is no person ("— a product name, not a person",
# 「人名ではありません」), on its line.
_NOT_A_PERSON_AFTER = quickre.compile(
    r"[^\n.。!?！？]{0,40}?(?:\bnot\s+(?:an?\s+)?(?:real\s+)?(?:person|people|human)\b|"
    r"\bnot\s+a\s+(?:person|people)['’]?s?\s+name\b|人名ではな|人物ではな|人の名前ではな)",
    re.IGNORECASE)
# A model's code right after a name, then the kind of device (Aurora HD-7 hemodialysis
# machines): a code alone could be a record's (Rowan Whitlock MRN-4411, B12 deficiency).
_MODEL_CODE_AFTER = quickre.compile(
    r"(?:[ \u00a0]+[A-Z][a-z]+)?"  # a line's word before the code ("Taito Type X3 board")
    r"[ \u00a0]+[A-Z][A-Z0-9]*-?\d[\w-]*(?:[ \u00a0]+[a-z][\w-]*){0,2}[ \u00a0]+(?:machines?|"
    r"devices?|units?|pumps?|printers?|monitors?|scanners?|analy[sz]ers?|ventilators?|"
    r"models?|series|boards?|consoles?|cabinets?|controllers?|modules?)\b")
# A word with a capital inside it ("MemoryGel", "PlayStation") — not after the prefixes family
# names have (McDonald, MacArthur, DeAndre, LaToya, DiCaprio, O'Neill, VanDyke).
_PRODUCT_CASE = quickre.compile(
    r"(?!Mc|Mac|De|Di|Da|La|Le|Van|Von|Fitz|O['’])[A-Z][a-z]{2,}[A-Z][a-z]+")
# A street's abbreviated kind ending the "name", and another street across it after & / and.
_INTERSECTION = quickre.compile(r"[ ](?:St|Ave|Rd|Blvd|Dr|Ln|Pl)\.?$")
_CROSS_STREET = quickre.compile(
    r"[ \t]*(?:&|and|/|at)[ \t]+[\w.'’-]+(?:[ \t]+[\w.'’-]+)?[ \t]+(?:St|Ave|Rd|Blvd|Dr|Ln|Pl|"
    r"Street|Avenue|Road|Boulevard|Drive|Lane|Place)\b")
# Goods right after a brand named after its founder, no possessive between (Jane's bag is
# hers): "Tommy Hilfiger men's jacket", "Dr. Martens 1460 boots".
_PRODUCT_AFTER = quickre.compile(
    r"(?:[ \u00a0]+(?:[A-Z0-9][\w-]*|men['’]s|women['’]s|kids['’]?|girls['’]|boys['’])){0,3}?"
    r"[ \u00a0]+(?:jackets?|coats?|boots|shoes|sneakers|trainers|loafers|handbags?|bags|wallets?|"
    r"watch(?:es)?|perfumes?|fragrances?|jeans|shirts?|polos?|dress(?:es)?|sunglasses|"
    r"guitars?|pianos?|bikes?|tins?|minibus(?:es)?|bus(?:es)?|trucks?|vans?|tractors?|"
    r"forklifts?|excavators?|motorcycles?|scooters?|(?i:pale\s+ales?|ales?|lagers?|stouts?|ipas?|pilsners?|"
    r"porters?|ciders?|beers?|bourbons?|whiske?ys?))\b")
# A product's own name in quotes right after the maker's (a polish's shade, a model): "Essie
# 'Wicked'", "Deborah Lippmann 'Fade to Black'".
_QUOTED_PRODUCT_AFTER = quickre.compile(
    r"(?:[ \u00a0]+(?-i:[A-Z])[\w-]+)?[ \u00a0]+['‘\"“](?-i:[A-Z])[^'‘’\"“”\n]{0,40}"
    r"['’\"”](?![a-z])")
# A maker's catalogue number after its name ("Sigma-Aldrich product 452882", "cat. no. 1234").
_MAKER_ITEM_AFTER = quickre.compile(
    r"[ \u00a0]+(?:product|catalog(?:ue)?|cat\.|item|part|SKU)(?:[ \u00a0]+(?:no\.?|number|#))?"
    r"[ \u00a0]*#?[ \u00a0]*[A-Z0-9-]*\d", re.IGNORECASE)
# A railway or transit line named after someone or something, by its trains or stations (the
# Elizabeth line trains): "line" alone could go on to manage someone.
_LINE_AFTER = quickre.compile(
    r"[ \u00a0]+line[ \u00a0]+(?:trains?|services?|stations?|platforms?|timetables?|"
    r"passengers|entrances?)\b")
# A word of travel right before the name: a place departed from, called at, changed at.
_TRAVEL_BEFORE = quickre.compile(
    r"\b(?:depart(?:s|ed|ing)?(?:[ \t]+from)?|arriv(?:e|es|ed|ing)[ \t]+(?:at|in)|"
    r"call(?:s|ing)?[ \t]+at|bound[ \t]+for|change[ \t]+at|"
    # … and a timetable's abbreviations ("Dep Kobe 08:30 -> Arr Takamatsu 12:40").
    r"(?-i:\b(?:Dep|Arr|Dest|ETD|ETA|dep|arr))\.?)[ \t]+$")
# A romanised ward or town right before: the next word is its city ("Chuo-ku, Kobe").
_WARD_BEFORE = quickre.compile(r"[A-Za-z]-(?:ku|shi|cho|machi|gun),[ \t]*$")
# Abbreviations that are also given names, before a number: "Max 160 characters", "Min 3".
_LIMIT_WORD = quickre.compile(r"(?:Max|Min)\.?")
_NUMBER_NEXT = quickre.compile(r"[ \t]*[:=]?[ \t]*\d")
_TIMETABLE_HEAD = quickre.compile(r"(?:Dep|Arr|Dest|ETD|ETA)\.?[ \t]+[A-Z]")
# Lower-case words, then the kind of a place, after "the" and a name.
_PLACE_AFTER = quickre.compile(
    r"(?:[ \u00a0]+[a-z]+){0,2}?[ \u00a0]+(?:district|region|area|valley|coast|peninsula|basin|"
    r"quarter|ward|prefecture|province|county|neighbou?rhood|estate|hills|plain|river|bay)\b")
# Animals of zoos, farms and homes. Named right after their kind (ゾウのジョン, "the elephant
# John", "our dog Max") they are no person; a birth date after one so named is the animal's.
_ANIMALS_JA = (r"(?:ジャイアント|レッサー)?パンダ|ゾウ|象|キリン|ライオン|トラ|虎|ゴリラ|"
               r"チンパンジー|オランウータン|ペンギン|イルカ|シャチ|アザラシ|ラッコ|カバ|サイ|"
               r"(?:ホッキョク)?グマ|クマ|コアラ|カンガルー|ウマ|馬|犬|猫|イヌ|ネコ|子犬|子猫|"
               r"ウサギ|フクロウ|インコ|オウム|カメ|ヒツジ|ヤギ|ウシ|牛|ブタ|豚")
_ANIMALS_EN = (r"(?:giant\s+|red\s+)?pandas?|elephants?|giraffes?|lions?|lioness|tigers?|"
               r"gorillas?|chimpanzees?|chimps?|orangutans?|penguins?|dolphins?|orcas?|seals?|"
               r"otters?|hippos?|rhinos?|bears?|koalas?|kangaroos?|horses?|ponies|pony|dogs?|"
               r"puppy|puppies|cats?|kittens?|rabbits?|owls?|parrots?|tortoises?|turtles?|sheep|"
               r"goats?|cows?|calf|pigs?|foal|cub")
_ANIMAL_BEFORE = quickre.compile(
    rf"(?:{_ANIMALS_JA})の$|(?i:\b(?:the|our|a|their|his|her|my)\s+(?:{_ANIMALS_EN})\s+$)")
_ANIMAL_NAMED = quickre.compile(
    rf"(?:{_ANIMALS_JA})の[ァ-ヶー]{{2,12}}|(?i:\b(?:the|our)\s+(?:{_ANIMALS_EN})\s+)[A-Z]")
# A ship's prefix before its name: MV "Anna Sophia", M/V Clara Jensen, HMS Victoria.
_SHIP_PREFIX = quickre.compile(
    r"(?-i:\b(?:MV|M/V|MS|M/S|MT|M/T|SS|RMS|HMS|USS|HMAS|HMCS|FPSO|LNGC))[ \u00a0]+[\"“'‘]?$")
# … and after it, the number only ships carry: IMO's seven digits, a radio's MMSI ("Emma
# Maersk, IMO 9321483").
_VESSEL_NUMBER_AFTER = quickre.compile(
    r"[ \u00a0]*[,(（]?[ \u00a0]*(?-i:IMO|MMSI)(?:[ \u00a0]*(?:No\.?|number|#))?[ \u00a0:#]*"
    r"\d{7}(?:\d\d)?\b")
# Inside an address: a street part and a comma before, a postal code after.
_STREET_BEFORE = quickre.compile(r"\d[\w-]*(?:[ \t]+[\w.-]+){1,3},[ \t]*$")
_POSTCODE_AFTER = quickre.compile(r",?[ \t]*(?:〒[ \t]*)?\d{3}-\d{4}\b|,?[ \t]+\d{5}(?:-\d{4})?\b")
# A sentence that writes to, sends to or contacts its people: they are recipients, not a cast.
_CONTACTING = quickre.compile(
    r"\b(?:send|sent|e-?mail|mail|cc|bcc|forward|reply|call|phone|message|invite|notify|"
    # (送 of sending, not of broadcasting or transport: 放送, 輸送, 運送, 回送.)
    r"contact|tell|deliver)\b|(?<![放運輸伝回])送|宛|連絡|電話|返信|転送|招待|知らせ|届け|"
    # "text" as a verb, before whom it is sent to — not a plaque's or a label's text.
    r"\btext(?:ed|ing)?\s+(?:me|us|him|her|them|the|our|my|(?-i:[A-Z]))\b",
    re.IGNORECASE,
)
# A sentence that sends to, calls or copies someone: the words of a recipient, narrower than
# ``_CONTACTING`` (a film's "message", "tell the story" of a figure are no recipients').
_RECIPIENT = quickre.compile(
    r"\b(?:send|sent|e-?mail|forward|reply|cc|bcc|notify)\s+(?:it\s+|this\s+|them\s+)?"
    r"(?:to\s+)?(?-i:[A-Z])|\b(?:call|phone|text|ring|contact)\s+(?:me|us|him|her|them)\b|"
    # … or whom they name in full ("Please text Tom Baker the new code").
    r"\b(?:call|phone|text|ring|contact)\s+(?-i:[A-Z][a-z]+[ \u00a0]+[A-Z][a-z]+)|"
    r"\bto\s+(?:call|phone|email|e-mail|contact)\s+(?:me|us)\b|"
    r"(?:に|へ)(?:送|転送|返信|連絡|電話|メール)",
    re.IGNORECASE,
)
# A character's name that names a thing, whichever recognizer read it: キティちゃんコンセプトルーム.
_CHARACTER_THING = quickre.compile(r"^(?:ちゃん|くん)[ァ-ヶー]{3,}")
_PERSONAL_PRONOUN = quickre.compile(
    r"\b(?:he|she|his|her|hers|him|himself|herself)\b", re.IGNORECASE)
# The words after a name, initials among them ("Carlton B. Goodlett Place"), up to the head noun
# of the thing it names: "… International Airport", "'s Church Hall" (St Peter's), "… Good
# Samaritan Food Donation Act" (a law named after him).
# Blanks within a line only: a tab or a line break starts another cell or another thing.
_EN_FOLLOWING = quickre.compile(
    r"^(?:['’]s)?(?:[ \u00a0-]+[A-Z][\w'-]*\.?|[ \u00a0]+\d[\w-]*){1,5}")


# A quantity with its unit right after a word, and the head of a list item before it.
_MEASURE_AFTER = quickre.compile(
    # (Not kg or lb: a list of people's weights is theirs.)
    r"[ \t]+\d+(?:[.,]\d+)?[ \t]*(?:g|mg|ml|mL|l|L|hL|oz|tsp|tbsp|%)(?![\w])")
_LIST_ITEM_HEAD = quickre.compile(r"(?:^|\n)[ \t]*(?:[-*•・]|\d{1,2}[.)])[ \t]*$")
# A hyphen and a lower-case word of a phrase after a name: a compound's part (Winnie-the-Pooh,
# Stratford-upon-Avon, Jack-in-the-box).
_HYPHENED_PHRASE_AFTER = quickre.compile(r"-(?:the|of|upon|on|in|de|la|le|du|sur|en|and)-\w")
# A second name joined by a hyphen, then the head noun of a rule, a measure or an illness named
# after both (the Harris-Benedict equation, Michaelis-Menten kinetics, Creutzfeldt-Jakob disease).
_HYPHENED_EPONYM_AFTER = quickre.compile(
    r"-[A-Z][\w'’é]+[ \u00a0]+(?:equations?|formulae?|formulas|index|scales?|criteria|"
    r"syndrome|disease|effect|theorem|law|principle|algorithm|reaction|kinetics|distribution|"
    r"diagram|classification|maneuver|manoeuvre|curve|constant|hypothesis)\b")
# The start of a sentence, and a determiner after the word: the shape of an imperative ("Mark
# any figures …"), which a given name that is also a verb takes at the head of a sentence.
_SENTENCE_START = quickre.compile(r"(?:^|[.!?。]\s+|\n\s*)$")
_IMPERATIVE_OBJECT = quickre.compile(
    r"[ \u00a0]+(?:any|the|all|each|every|these|those|this|that|a|an|our|your|its|their|"
    r"them|it|up|down|off|out|anything|everything|something|nothing|whatever|which|what|"
    r"where|how)\b")
# "a"/"an" right before a name, or before one capitalised word that is no known name (the
# maker: "a Toyota Yaris Cross").
# (Quoted as a make or a stamp is: 'a "Vincent Bach" stamp'.)
_ARTICLE_BEFORE = quickre.compile(
    r"(?:^|[^\w])(?i:a|an)\s+(?:(?P<maker>[A-Z][\w-]+)\s+)?[\"“'‘]?$")


def _everyday_word_here(text: str, hit: Detected, value: str) -> bool:
    """A lone capitalised English word that is a word here: the text also writes it in lower
    case ("ERROR: Cook failed." in a build log that runs ``-cook``), quotes it alone as a
    value (a column that says "Merit", 「Lemon」) or joins it to a word by a hyphen
    ("Drop-off")."""
    if not value[:1].isupper() or not value.isalpha() or not lexicon().is_english(value):
        return False
    quoted = (text[hit.start - 1:hit.start] in ("\"", "“", "'", "「", "『") and
              text[hit.end:hit.end + 1] in ("\"", "”", "'", "」", "』"))
    compound = re.match(r"-[a-z]", text[hit.end:hit.end + 2]) is not None  # Drop-off, Check-in
    return quoted or compound or re.search(
        rf"(?<![\w])(?-i:{re.escape(value.lower())})(?:e?s)?(?![\w])", text) is not None


def _named_thing(text: str, hit: Detected, places: SpanIndex) -> bool:
    """A "person" that is a thing: a code, a name followed by an organisation's or a place's
    head noun, a brand with an article, or a family name the lexicon alone read inside what NER
    calls a place (``Murasaki Shikibu`` reads as a place to the small English model; the
    lexicon knows only ``Shikibu``) — the stronger reading wins; a character's name that
    names a thing. (Japanese family names that begin a firm's or a place's name, 武田薬品工業
    and 羽田着, are told apart where Sudachi's tokens are: ``nlp``.)"""
    value = text[hit.start:hit.end]
    after = text[hit.end:hit.end + 64]
    if _CHARACTER_THING.match(after):
        return True
    words = value.split()
    if (_SHIP_PREFIX.search(text, max(0, hit.start - 8), hit.start)
            or _VESSEL_NUMBER_AFTER.match(text, hit.end)):
        return True  # MV "Anna Sophia", "Emma Maersk, IMO 9321483": a vessel
    if _INTERSECTION.search(value) and _CROSS_STREET.match(text, hit.end):
        return True  # "main break, Oak St & 5th Ave": a crossing of two streets
    if _PRODUCT_AFTER.match(text, hit.end):
        return True  # "Tommy Hilfiger men's jacket", "Dr. Martens 1460 boots": a brand's goods
    if _QUOTED_PRODUCT_AFTER.match(text, hit.end) or _MAKER_ITEM_AFTER.match(text, hit.end):
        return True  # Essie 'Wicked', "Sigma-Aldrich product 452882": a maker's line
    if _MODEL_CODE_AFTER.match(text, hit.end) or _LINE_AFTER.match(text, hit.end):
        return True  # Aurora HD-7 (a model code), the Elizabeth line (a railway)
    if _WARD_BEFORE.search(text, max(0, hit.start - 24), hit.start):
        return True  # "5-5 Hatoba-cho, Chuo-ku, Kobe": the city of a romanised address
    if _LIMIT_WORD.fullmatch(value) and _NUMBER_NEXT.match(after):
        return True  # "Max 160 characters each": maximum, not Max
    if _TRAVEL_BEFORE.search(text, max(0, hit.start - 24), hit.start) or (
            _TIMETABLE_HEAD.match(value)):
        return True  # "will depart York at 08:40", "calling at Abbey Wood": a place
    if _ANIMAL_BEFORE.search(text, max(0, hit.start - 24), hit.start):
        return True  # ゾウのジョン, the elephant Tonky, our dog Max: an animal's name
    if _THING_LABEL.search(text, max(0, hit.start - 24), hit.start):
        return True  # 使用米：山田錦, Vessel: …: the label names what the value is
    if _NOT_A_PERSON_AFTER.match(text, hit.end):
        return True  # "Sakura Mizuki" Sparkling Sake — a product name, not a person
    if len(words) >= 2 and words[0].rstrip(".") in ("St", "Saint", "Ste"):
        return True  # St Peter('s Church Hall), St Bartholomew('s Hospital): a saint's name
    if len(words) == 1 and re.fullmatch(r"[A-Z][a-z]+[A-Z]", value):
        return True  # NaN, PhD: a word ending in a capital is no name
    if len(words) >= 2 and _PRODUCT_CASE.fullmatch(words[-1]):
        return True  # "Mentor MemoryGel": a capital inside a word is a product's, not a name's
    if len(words) >= 2 and any(w.casefold() in _MODEL_WORDS for w in words[1:]):
        return True  # "Sakura Superior King": a grade word inside the name makes it a product
    if (len(words) == 1 and _SENTENCE_START.search(text, max(0, hit.start - 4), hit.start)
            and _IMPERATIVE_OBJECT.match(text, hit.end) and lexicon().is_english(value)):
        return True  # "Mark any figures I should check", "Bill the client": a verb's imperative
    if len(words) == 1 and _everyday_word_here(text, hit, value):
        return True
    if re.search(r"[一-龯ぁ-んァ-ヶ]$", value) and (_JA_THING_AFTER.match(after)
                                                  or _JA_EPONYM_AFTER.match(after)):
        return True  # 大隈講堂, ヨーク・アントワープ規則, シャウプ勧告: a place, a firm, a rule
    if text[hit.start - 1:hit.start] == "の" and (
            _common_noun_reading(value) and (_PARTICLE_AFTER.match(after) or len(value) >= 2
                                             and after.startswith("の"))
            and not _ADDRESSED.search(text, max(0, hit.start - 8), hit.start)):
        return True  # SDSの見方も: the word's everyday sense, after の and before a particle
    if re.search(r"\d", value) or ("/" in value and all(
            len(part.strip()) <= 4 for part in value.split("/"))):
        return True  # ONAN/ONAF, R2-D2: codes, not names (a booking's OLSEN/DEREK MR is
        # read as a name with certainty)
    if (len(words) == 1 and _MEASURE_AFTER.match(after)
            and _LIST_ITEM_HEAD.search(text, max(0, hit.start - 12), hit.start)):
        # "- Citra 40 g @10 min": a list item's ingredient or variety and its quantity.
        return True
    if _HYPHENED_PHRASE_AFTER.match(after) or _HYPHENED_EPONYM_AFTER.match(after):
        # Winnie-the-Pooh, Stratford-upon-Avon; the Harris-Benedict equation, Guillain-Barré
        # syndrome: the name is a part of a compound that names a character, a place or a rule.
        return True
    following = _EN_FOLLOWING.match(after)
    if following and any(is_thing_word(w.rstrip(".").removesuffix("'s").removesuffix("’s"))
                         or w.rstrip(".").casefold() in _PLACE_OR_MODEL_WORDS
                         for w in following.group(0).replace("-", " ").split()):
        # John F. Kennedy International Airport, John Crane Type 28 … pumps, Meiji Jingu,
        # Gibson Les Paul Standard
        return True
    last = words[-1].casefold() if words else ""
    if len(words) >= 2 and (last in _ROMAJI_PLACE_HEADS or last.endswith(
            ("-dera", "-ji", "-jinja", "-gu"))):
        return True  # Ise Jingu, Izumo Taisha, Nanzen Kinkaku-ji: a shrine's or a temple's name
    if re.match(r"-(?:ji|dera|in|gu|jinja|jingu|taisha)\b", after):
        return True  # "Ninna-ji": the name read without its temple's suffix
    if last.endswith(_ROMAJI_PLACE_SUFFIXES):
        return True  # Chiyoda-ku, Ujitachi-cho: a romanised municipality or its part
    if re.match(r"-(?:ku|cho|chō|machi|mura|gun)\b", after):
        # "Nishi-ku" read without its suffix. (Not -shi, which is also the honorific 氏.)
        return True
    if (len(words) >= 2 and last in _ADDRESS_PART_HEADS
            and _STREET_BEFORE.search(text, max(0, hit.start - 60), hit.start)):
        return True  # "68 Fukakusa Yabunouchicho, Fushimi Ward": the ward of an address
    if hit.recognizer == "RomajiNameRecognizer" and len(words) >= 2 and all(
            places.contains(hit.start + m.start(), hit.start + m.end(), itself=True)
            for m in re.finditer(r"[^\s,]+", value)) and (
                "," in value or not places.contains(hit.start, hit.end, itself=True)):
        # "carried through Kanda, Nihonbashi and Akihabara": NER's places, each word — not
        # one "place" NER reads over a whole family and given name ("Keita Ishikawa's 2021
        # sales": the possessive misleads the small model).
        return True
    if ("," in value and _STREET_BEFORE.search(text, max(0, hit.start - 60), hit.start)
            and _POSTCODE_AFTER.match(text, hit.end)):
        # "1 Ujitachi-cho, Ise, Mie 516-0023": between a street and a postal code, a town and
        # its prefecture, not a surname and a given name.
        return True
    article = _ARTICLE_BEFORE.search(text, max(0, hit.start - 24), hit.start)
    if (" " in value.strip() and article is not None
            and not (article.group("maker") and lexicon().is_name(article.group("maker")))
            and not _PERSONAL_PRONOUN.search(text, hit.end,
                                             _sentence(text, hit.start, hit.end)[1])):
        # "compare a John Crane with a Flowserve", "a Toyota Yaris Cross dual-control car": a
        # brand or a maker's model, not a person — unless the sentence goes on to call it he or
        # she ("We've got a Daniel Okafor on hold asking why his …").
        return True
    if (len(words) == 1 and text[max(0, hit.start - 4):hit.start] == "The "
            and _TITLE_END.match(text, hit.end)):
        return True  # "The Monroe (penthouse, 2,400 sq ft)", "The Lincoln:": a thing's name
    if (_THE_AND_NAME_BEFORE.search(text, max(0, hit.start - 24), hit.start)
            and (following := _CAPITALISED_AFTER.match(text, hit.end)) is not None
            and not lexicon().is_name(following.group(1))):
        return True  # "the John F. Kennedy Eternal Flame", "the Rosa Parks Museum": a thing
    if (len(words) >= 2 and is_thing_word(words[-1].rstrip(".'’"))
            and _THE_BEFORE.search(text, max(0, hit.start - 24), hit.start)):
        return True  # "Albert Hall" of "the Royal Albert Hall": with an article, a building
    if (re.search(r"\bthe\s+$", text[max(0, hit.start - 8):hit.start], re.IGNORECASE)
            and _PLACE_AFTER.match(text, hit.end)):
        return True  # "the Nada Gogō brewing district": the name of a place's kind
    if (hit.recognizer == "LexiconNameRecognizer" and len(words) >= 2
            and words[0] in _PLACE_PARTICLES and places.contains(hit.start, hit.end, itself=True)):
        return True  # San Francisco, Santa Clara: NER's place, the words of a place's name
    return hit.score <= 0.6 and hit.recognizer == "LexiconNameRecognizer" and places.contains(
        hit.start, hit.end, itself=True)


# What a rule, a law, a prize or a theory named after someone ends with, right after the name.
_JA_EPONYM_AFTER = quickre.compile(
    r"(?:規則|法則|定理|効果|条約|勧告|方式|理論|症候群|指数|記念賞|賞(?![与味])|方程式|仮説)")
# A particle or a bracket after a lone word that follows の: the shape of an everyday noun's use
# (統計の見方（…）と, SDSの見方も).
_PARTICLE_AFTER = quickre.compile(r"(?:も|を|は|が|と|に|で|[（(、。])")


def _common_noun_reading(value: str) -> bool:
    """A family name alone that Sudachi's dictionary also lists as an everyday noun (見方, 味方)."""
    if not re.fullmatch(r"[一-龯ぁ-んァ-ヶー]{2,3}", value):
        return False
    entries = dictionary_entries(value)
    return any(pos[1] == "普通名詞" for pos in entries) and not any(
        pos[3] == "名" for pos in entries)


# Words that begin places' names in the languages that name places after saints and features
# ("San", "Santa", "Los"); the lexicon knows some as given names (San, Santa, Fort).
_PLACE_PARTICLES = frozenset({
    "San", "Santa", "Santo", "São", "Sao", "Los", "Las", "El", "Fort", "Port", "Mount", "Lake",
    "Cape", "Bahia", "Puerto", "Porto", "Ciudad", "Villa", "Sainte",
})


# -- the step ---------------------------------------------------------------------------------

def load() -> None:
    """Open the dictionary and the gazetteer before the first request."""
    dictionary_entries("山田")
    notable.load()


def arbitrate(text: str, hits: Sequence[Detected]) -> list[Detected]:
    """``hits`` of one subject's ``text`` with placeholders and numbers labelled as something
    else removed, and organisations' contact details and public figures retyped."""
    if not hits:
        return []
    declared = _Declarations(text, hits)
    testing = _TESTING.search(text) is not None
    places = _index([h for h in hits if h.entity_type == "LOCATION" and h.score >= 0.85])
    place_cells = _place_cells(text) if any(h.entity_type == "PERSON" for h in hits) else []
    place_starts = [start for start, _ in place_cells]
    streets = _index([h for h in hits if h.entity_type in ("STREET_ADDRESS", "JP_ADDRESS")])
    # A street named after someone is part of its address (1 Charlie Chaplin Walk).
    named = [h for h in hits if h.entity_type == "PERSON" and h.score >= 0.6
             and not streets.contains(h.start, h.end, itself=True)]
    # A name the text uses once for a thing names that thing where it stands again ("Nada
    # Gogō" Kimoto Junmai — after the Nada Gogō brewing district).
    things = {text[h.start:h.end] for h in named
              if _named_thing(text, h, places)
              or place_cells and _in_cell(place_cells, place_starts, h)}
    people = [h for h in named if text[h.start:h.end] not in things]
    people_set = set(people)
    placeholders: dict[str, list[Detected]] = {}
    # A value right after one given as an example in a list (``例:090-1234-5678、080…``) is
    # one; so is one right before it, when the cue comes after the list (「03-1234-5678」
    # 「090-1234-5678」のようなハイフン区切り). Only examples chain: a number that is a
    # placeholder by its digits alone (000-0000-0000) says nothing of its neighbour's.
    clearable = [h for h in hits if h.entity_type in _CLEARABLE]
    cued = {id(h): _cued(text, h) for h in clearable}
    cued_end = -1
    for h in sorted(clearable, key=lambda h: (h.start, -h.end)):
        listed_after = (0 <= cued_end <= h.start
                        and _LIST_GLUE.fullmatch(text, cued_end, h.start) is not None)
        if _is_placeholder(text, h, text[h.start:h.end], declared, testing, listed_after,
                           cued[id(h)]):
            placeholders.setdefault(h.entity_type, []).append(h)
            if listed_after or cued[id(h)]:
                cued_end = max(cued_end, h.end)
    cued_start: int | None = None
    for h in sorted(clearable, key=lambda h: (-h.end, h.start)):
        if h.entity_type == "PERSON":
            continue
        if (cued_start is not None and h.end <= cued_start
                and _LIST_GLUE.fullmatch(text, h.end, cued_start) is not None
                and _example_shaped(h.entity_type, text[h.start:h.end])):
            placeholders.setdefault(h.entity_type, []).append(h)
            cued_start = h.start
        elif cued[id(h)]:
            cued_start = h.start if cued_start is None else min(cued_start, h.start)
    # A contact detail with an example's shape ((555) 555-0199) on a line whose other values of
    # two or more kinds are placeholders (Jane Doe, jane.doe@example.edu) is that example
    # record's. Not a card or an account: a careless test pastes real ones, and a test card's
    # number (4111 1111 …) is cleared only where the text is about testing.
    kinds_by_line: dict[tuple[int, int], set[str]] = {}
    for entity, spans in placeholders.items():
        for p in spans:
            kinds_by_line.setdefault(_line(text, p.start, p.end), set()).add(entity)
    if any(len(kinds) >= 2 for kinds in kinds_by_line.values()):
        done = {id(p) for spans in placeholders.values() for p in spans}
        for h in clearable:
            if (id(h) not in done and h.entity_type in _STATED_CLEARABLE
                    and len(kinds_by_line.get(_line(text, h.start, h.end), ())) >= 2
                    and _example_shaped(h.entity_type, text[h.start:h.end])):
                placeholders.setdefault(h.entity_type, []).append(h)
    # A name's reading in the next cell of its row goes with a placeholder name (教習 花子,
    # キョウシュウ ハナコ): a reading is no placeholder's shape alone.
    named = sorted(placeholders.get("PERSON", []), key=lambda h: h.end)
    if named:
        ends = [h.end for h in named]
        for h in clearable:
            if h.entity_type != "PERSON" or not _KANA_NAME.fullmatch(text, h.start, h.end):
                continue
            k = bisect_right(ends, h.start) - 1
            if k >= 0 and _CELL_GAP.fullmatch(text, ends[k], h.start):
                placeholders["PERSON"].append(h)
    # The postal code of a placeholder address (〒350-1123 埼玉県…00-0, 〒231-0000 …○○町1-1)
    # goes with it.
    addresses = placeholders.get("JP_ADDRESS", [])
    for h in clearable:
        if h.entity_type == "JP_POSTAL_CODE" and (any(
                h.end <= a.start and not text[h.end:a.start].strip(" \t\u3000")
                for a in addresses) or _MASKED.search(text, h.end, _line(text, h.start, h.end)[1])):
            placeholders.setdefault(h.entity_type, []).append(h)
    cleared = {entity: _index(spans) for entity, spans in placeholders.items()}

    def placeholder(h: Detected) -> bool:
        return h.entity_type in cleared and cleared[h.entity_type].contains(
            h.start, h.end, itself=True)
    # Personal data other than names: a phone, an address, an ID — placeholders are none, and
    # characters a declaration made up are no one (a text's fictional cast beside a line of
    # famous authors it names as models).
    # An organisation's line or address is no one's (a university's switchboard in the footer
    # of a letter about its famous alumni); read with every name as a person, so a person
    # between label and value still makes it private here.
    everyone = _People(people)
    private_data = any(h.entity_type in _CLEARABLE and h.entity_type != "PERSON"
                       and h.score >= 0.4 and not placeholder(h)
                       and not _public_by_nature(text, h, everyone) for h in hits)
    real_people = [h for h in people if not placeholder(h)]
    public_people = _public_figures(text, real_people, private_data)
    public_people |= _parts_of_figures(text, [h for h in hits if h.entity_type == "PERSON"
                                              and not placeholder(h)], public_people)
    private_people = [h for h in real_people if h not in public_people]
    private_spans = _People(private_people)
    other_cells = _other_id_cells(text) if any(
        h.entity_type in _LABELLED_AS_OTHER for h in hits) else []
    other_starts = [start for start, _ in other_cells]
    public_sentences = {_sentence(text, h.start, h.end) for h in public_people}
    private_sentences = {_sentence(text, h.start, h.end) for h in private_people}
    out: list[Detected] = []
    # An organisation's contact details come together: what is listed right after one of them
    # ("…Association, 211 E. Chicago Ave., Chicago, IL 60611, 312.440.2500") is the same owner's.
    public_end = -1
    other_end = -1  # the end of the last number labelled as another identifier
    for h in sorted(hits, key=lambda h: (h.start, -h.end)):
        entity = h.entity_type
        if entity not in _CLEARABLE:
            out.append(h)
            continue
        value = text[h.start:h.end]
        if entity in cleared and cleared[entity].contains(h.start, h.end, itself=True):
            continue  # a placeholder, or a part of one ("Jane" of "Jane Sample")
        if entity in _LABELLED_AS_OTHER and (_labelled_other(text, h) or (
                other_cells and _in_cell(other_cells, other_starts, h))
                or _inside_code(text, h)
                # … or listed right after one so labelled (「TAISコード 00170-000123 と
                # 01392-000045」): the label names the list.
                or 0 <= other_end <= h.start
                and _LIST_GLUE.fullmatch(text, other_end, h.start) is not None):
            other_end = h.end
            continue
        if entity == "CREDIT_CARD" and _SERIAL_LABEL.search(
                text, max(_line(text, h.start, h.end)[0], h.start - 24), h.start):
            continue
        if _organisation_s_by_convention(text, h, value):
            # A freephone number, a role or a desk's mailbox: nobody's own.
            out.append(replace(h, entity_type=PUBLIC_CONTACT))
            public_end = max(public_end, h.end)
            continue
        if entity in _CONTACTS and (
                0 <= public_end <= h.start
                and _CONTACT_GLUE.fullmatch(text, public_end, h.start) is not None
                and not _is_jp_mobile(entity, value)
                or _public_contact(text, h, value, private_spans)):
            out.append(replace(h, entity_type=PUBLIC_CONTACT))
            public_end = max(public_end, h.end)
            continue
        if entity == "PERSON" and h.score >= 0.6 and h not in people_set:
            continue  # a place or a firm the lexicon took for a name
        if h in public_people:
            out.append(replace(h, entity_type=PUBLIC_FIGURE))
            continue
        if entity == "DATE_OF_BIRTH":
            sentence = _sentence(text, h.start, h.end)
            if sentence in public_sentences and sentence not in private_sentences:
                continue  # a public figure's birthday (Norman Borlaug, born March 25, 1914)
            if sentence not in private_sentences and _ANIMAL_NAMED.search(
                    text, sentence[0], h.start):
                continue  # ジャイアントパンダのシャンシャンは2017年6月12日生まれ: an animal's
        out.append(h)
    return out
