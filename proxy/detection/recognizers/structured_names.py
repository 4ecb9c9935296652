"""Person names by where they stand: values of name fields in JSON, YAML or key=value text,
and cells of a name column in CSV or TSV.

NER reads prose; in tool output, exports and logs a name is a bare value with no sentence
around it, and spaCy's small English model misses most of them (``"name": "Ana Lima"`` is
tagged a place, if anything). The field or column name says what the value is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from proxy.detection import quickre
from proxy.detection.names import LATIN_LOWER, LATIN_UPPER, Lexicon, is_thing_word, lexicon
from proxy.detection.recognizers.base import Hit, PatternRecognizer
from proxy.detection.recognizers.tables import column_cells

_NAME_KEYS = (
    r"(?:full[_ -]?name|first[_ -]?name|last[_ -]?name|given[_ -]?name|family[_ -]?name|"
    r"surname|name|customer(?:[_ -]?name)?|client[_ -]?name|patient(?:[_ -]?name)?|"
    r"employee(?:[_ -]?name)?|operator(?:[_ -]?name)?|account[_ -]?holder|card[_ -]?holder|"
    r"holder|contact(?:[_ -]?name)?|assignee|reporter|requester|recipient|applicant|"
    r"candidate|manager|owner|signatory|氏名|名前|お名前|患者名|担当者|顧客名|社員名|申請者|"
    r"契約者|名義|受取人)"
)
# "name": "Ana Lima" / name: Ana Lima / name=Ana Lima / 氏名：山田花子
_FIELD = quickre.compile(
    r"(?<![A-Za-z0-9_])[\"']?" + _NAME_KEYS + r"[\"']?\s*[:=：]\s*"
    r"(?:\"(?P<q>[^\"\n]{2,60})\"|'(?P<s>[^'\n]{2,60})'|(?P<b>[^\s,;{}\[\]\"'][^,;{}\[\]\"'\n]{1,59}))",
    re.IGNORECASE,
)
# In prose: "First name Oluwaseun.", "Patient surname is Lindqvist", "Given name: Astrid".
_LABELLED = quickre.compile(
    r"(?<![A-Za-z])(?:first|given|last|family|middle|sur)[ -]?name\s*(?:is\s+|was\s+|[:：]\s*)?"
    rf"(?P<v>[{LATIN_UPPER}][{LATIN_UPPER}{LATIN_LOWER}'’-]+"
    rf"(?:\s+[{LATIN_UPPER}][{LATIN_UPPER}{LATIN_LOWER}'’-]+)?)",
    re.IGNORECASE,
)
# 「苗字は宮城です」「下の名前は蒼」「氏名は山田花子」: a Japanese label, は/が, then the name up to
# the end of the phrase. Sudachi reads many family names as places (宮城) or words (蒼), so the
# label decides.
_JA_LABELLED = quickre.compile(
    r"(?:苗字|名字|姓|下の名前|名前|お名前|氏名|フルネーム|(?<![\u4e00-\u9fff々])名)"
    r"(?:は|が)[ \u3000]*"
    r"(?P<v>[\u4e00-\u9fff々]{1,6}(?:[ \u3000][\u4e00-\u9fff々]{1,6})?"
    r"|[\u30a1-\u30fa\u30fc]{2,10}(?:[・ \u3000][\u30a1-\u30fa\u30fc]{2,10})?"
    r"|[\u3041-\u3096]{2,4})"
    r"(?=です|でした|だ|と申|といい|さん|様|[、。．,.!！?？」)\n]|$)"
)
# A Japanese field labelled by a person's role — a noun ending in 者, 員, 人 or a post (作業者：,
# 検査員：, 承認者：, 被災者：, 依頼人：, 店長：) — then a name up to the line's end, a bracket or
# a comma. The label says person, so a surname the dictionary does not know (髙橋, a rare
# reading) counts; the value must still have a name's shape: a family and a given name apart
# (髙橋 大輔), or kanji with no digit, katakana joined by ・, and no department (総務部) or firm.
_JA_ROLE_FIELD = quickre.compile(
    r"(?:^|(?<=[\s、,（(]))(?P<label>[\u4e00-\u9fff々]{1,6}(?:者|員|人|長|主任|係|担当))"
    r"[ \u3000]*[:：][ \u3000]*"
    r"(?P<v>[\u4e00-\u9fff々\U00020000-\U0002ffff]{1,5}[ \u3000][\u4e00-\u9fff々ぁ-ゖァ-ヺー]{1,5}"
    r"|[\u4e00-\u9fff々\U00020000-\U0002ffff]{2,6}"
    r"|[\u30a1-\u30fa\u30fc]{2,10}(?:[・ \u3000][\u30a1-\u30fa\u30fc]{2,10}){0,2})"
    r"(?=[ \u3000]*(?:$|[\n（(、,。/／]|さん|様|氏))",
    re.MULTILINE,
)
# What a role field may hold that is no person: a unit, a firm, a count, "all of", "none".
_JA_ROLE_NOT_A_NAME = quickre.compile(
    r"(?:部|課|室|係|班|棟|科|局|署|店|社|所|院|館|場|団|会|省|庁|府|県|市|区|役所|役場|大学|"
    r"センター|会社|組合|協会|全員|全社員|各位|一同|未定|"
    r"不明|なし|無し|本人|同上|多数|数名|若干名|以下|下記|上記)$|^(?:全|各|株式会社|有限会社)")


# A given name in kana before くん/ちゃん, or before an age: 「ゆうとくん」「みずほ（7歳）」.
# Sudachi splits unknown kana names oddly (ゆう|と|くん), so the shape decides. Kinship and
# group words are not names: お(ばあ)ちゃん, あかちゃん, みなさん.
_KANA = "\u3041-\u3096\u30a1-\u30fa\u30fc"
_JA_KANA_CUED = quickre.compile(
    rf"(?<![{_KANA}])(?P<v>[{_KANA}]{{2,6}}?)"
    r"(?:くん|ちゃん|[（(] ?[0-9]{1,3} ?[歳才] ?[）)])"
)
_PARTICLES = "のとがはにをもへや"
_NOT_A_KANA_NAME = frozenset({
    "あか", "みな", "みんな", "ばあ", "じい", "ねえ", "にい", "かあ", "とう", "ぼう", "おじょう",
    "ぼっ", "わん", "にゃん", "アン", "ちび", "パパ", "ママ", "ジジ", "ババ",
})
# {"first": "Brigitte", "last": "Lemaire"}: keys too generic to trust on their own ("first": 10
# in pagination), so every word of the value must be a known name.
_PART_FIELD = quickre.compile(
    r"(?<![A-Za-z0-9_])[\"']?(?:first|last|given|family|middle|forename)[\"']?\s*[:=]\s*"
    r"[\"'](?P<v>[A-Z][^\"'\n]{1,40})[\"']",
    re.IGNORECASE,
)
# 「名前は必須」「氏名は未定」: the label followed by a word about the field, not a name.
_JA_NOT_A_NAME = quickre.compile(
    r"必須|任意|未定|不明|空欄|未記入|未入力|非公開|省略|変更|記入|入力|ひらがな|カタカナ|漢字|全角|半角|"
    r"何|なに|なん|誰|だれ|どなた|同じ|ありません|なし|英字|ローマ字"
)
_JA_THING = quickre.compile(
    r"(?:製品|商品|プロジェクト|ファイル|会社|アプリ|サービス|チーム|モデル|変数|関数|クラス|"
    r"システム|ブランド|店|犬|猫|ペット|機能|番組|曲|本|映画|イベント|キャンペーン|ツール|"
    r"サーバー?|データベース|テーブル|カラム|列|項目|フォルダ|ブランチ)の?$"
)
_HEADER_CELL = quickre.compile(r"^\s*[\"']?" + _NAME_KEYS + r"[\"']?\s*$", re.IGNORECASE)
_NOT_A_NAME = quickre.compile(r"[0-9@/\\<>{}=#|_:]|https?|\.[a-z]{2,4}$")
# "file name: report.pdf", "project name: Hayabusa": the name of a thing, not of a person.
_THING = quickre.compile(
    r"(?:file|project|product|host|user|display|domain|company|app|table|column|field|model|"
    r"variable|function|class|package|module|server|device|team|brand|item|repo|branch|"
    r"service|bucket|database|db|key|tag|event|job|task|queue|topic|image|container|"
    r"ファイル|プロジェクト|製品|会社|商品)[\s_-]*$",
    re.IGNORECASE,
)


# "db-secret", "my-app.v2": a slug (lower case, joined by hyphens or dots) names a resource.
_SLUG = quickre.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)+")


def _resource_name(value: str, names: Lexicon) -> bool:
    """"name: web", "- name: nginx": one lower-case word that is no known name names a
    container, a job or a queue (YAML manifests are full of them); "name: taro" is a person."""
    return value.isascii() and value.islower() and " " not in value and not names.is_name(value)


def _plain_words(value: str, names: Lexicon) -> bool:
    """"name": "Cut", "Colour (root)", "Treatment", "Beginner's Luck", "Golden Hour": English
    words, none of them a known name or one an everyday word that is none ("hour", "with") —
    a service's, a product's, a step's or an achievement's name, not a person's (a person's
    names are names: "Grace Young" stays one)."""
    words = [re.sub(r"['’]s$", "", w)
             for w in re.findall(rf"[{LATIN_UPPER}{LATIN_LOWER}'’-]+", value)]
    if not words or not all(names.is_english(w) or names.is_common(w) for w in words):
        return False
    return all(not names.is_name(w) for w in words) or any(
        names.is_common(w) and not names.is_name(w) for w in words)


def _looks_like_name(value: str) -> bool:
    value = value.strip()
    words = value.split()
    return (
        1 < len(value) <= 60
        # A remark in brackets in a name's place (「（不正値）」, "(none)", "[redacted]") says
        # what the field holds; no name opens with a bracket.
        and value[0] not in "(（[［【<＜「『"
        and any(ch.isalpha() for ch in value)
        and not _NOT_A_NAME.search(value)
        and value.lower() not in ("null", "none", "true", "false", "n/a", "unknown", "tbd")
        and len(words) <= 5
        and not _SLUG.fullmatch(value)
        and not is_thing_word(words[-1].rstrip("."))  # "Balkan Forge EOOD", "Acme Ltd."
    )


class StructuredNameRecognizer(PatternRecognizer):
    ENTITIES = ("PERSON",)
    CONTEXT = ("name", "氏名", "名前")
    GATE = ("name", "customer", "patient", "employee", "operator", "holder", "contact",
            "assignee", "reporter", "requester", "recipient", "applicant", "candidate",
            "manager", "owner", "signatory", "surname", "氏名", "名前", "患者", "担当", "顧客",
            "社員", "申請", "契約", "名義", "受取", "first", "last", "given", "family",
            "middle", "forename", "苗字", "名字", "姓", "前は", "名は", "ネーム", "くん", "ちゃん",
            "歳", "才", "者", "員", "人", "長", "主任", "係")

    def find(self, text: str) -> Iterable[Hit]:
        names = lexicon()
        for m in _FIELD.finditer(text):
            if _THING.search(text, max(0, m.start() - 16), m.start()):
                continue
            group = "q" if m.group("q") is not None else "s" if m.group("s") is not None else "b"
            value = m.group(group)
            start = m.start(group) + (len(value) - len(value.lstrip()))
            value = value.strip()
            if (_looks_like_name(value) and not _resource_name(value, names)
                    and not _plain_words(value, names)):
                yield Hit("PERSON", start, start + len(value), 0.75, "name-field",
                          context_checked=True)
        for m in _LABELLED.finditer(text):
            value = m.group("v")
            # The label is case-insensitive, the name must be capitalised (the flag applies to
            # the whole pattern, so check it here).
            if value[0].isupper() and _looks_like_name(value):
                yield Hit("PERSON", m.start("v"), m.end("v"), 0.75, "labelled-name",
                          context_checked=True)
        for m in _JA_LABELLED.finditer(text):
            value = m.group("v").strip(" \u3000")
            if _JA_THING.search(text, max(0, m.start() - 12), m.start()):
                continue  # 製品の名前は…: the name of a thing
            if value and not _JA_NOT_A_NAME.search(value):
                start = m.start("v") + m.group("v").index(value)
                yield Hit("PERSON", start, start + len(value), 0.75, "labelled-name-ja",
                          context_checked=True)
        for m in _JA_ROLE_FIELD.finditer(text):
            value = m.group("v")
            if not _JA_ROLE_NOT_A_NAME.search(value) and not _JA_NOT_A_NAME.search(value):
                yield Hit("PERSON", m.start("v"), m.end("v"), 0.75, "role-field-ja",
                          context_checked=True)
        for m in _JA_KANA_CUED.finditer(text):
            start, value = m.start("v"), m.group("v")
            if (value[0] in _PARTICLES and len(value) > 2 and start > 0
                    and "\u4e00" <= text[start - 1] <= "\u9fff"):
                start, value = start + 1, value[1:]  # 「介護とあかちゃん」: a particle after a noun
            if value[0] not in "おご" and value not in _NOT_A_KANA_NAME:
                yield Hit("PERSON", start, m.end("v"), 0.7, "kana-name-cued",
                          context_checked=True)
        for m in _PART_FIELD.finditer(text):
            value = m.group("v").strip()
            words = re.split(r"[\s-]+", value)  # "Okonkwo-Reyes": each part a known name
            if (value[0].isupper() and len(words) <= 3
                    and all(names.is_name(w) and not names.is_common(w) for w in words)):
                yield Hit("PERSON", m.start("v"), m.start("v") + len(value), 0.75,
                          "name-part-field", context_checked=True)
        yield from self._columns(text)

    def _columns(self, text: str) -> Iterable[Hit]:
        for _, start, value in column_cells(text, _name_column):
            if _looks_like_name(value):
                yield Hit("PERSON", start, start + len(value), 0.75, "name-column",
                          context_checked=True)


def _name_column(cell: str) -> str | None:
    return "PERSON" if _HEADER_CELL.match(cell) else None
