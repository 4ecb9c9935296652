"""Health data tied to a person (要配慮個人情報 / PHI): ``MEDICAL_RECORD``.

Two shapes count as sensitive:
- a medical record or patient number — a label (MRN, 患者ID, カルテ番号, 診察券番号, …) followed by
  an identifier;
- a diagnosis, prescription, treatment or admission *tied to a person* — a medical-event word and,
  in the same sentence, a sign of a particular person: a patient, an honorific, a relative, a
  first-person "I"/"my"/"私", "he"/"she", or a given name ("Mark was diagnosed with …": a lone
  given name next to health data identifies a colleague or a patient).
A general medical question ("What are the symptoms of influenza?", "糖尿病の治療法は？") names no
person and is left alone. The span reported is the medical-event phrase, never more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from proxy.detection import quickre
from proxy.detection.names import LATIN_LOWER, LATIN_UPPER, lexicon
from proxy.detection.recognizers.base import Hit, PatternRecognizer

_RECORD = quickre.compile(
    r"(?:\b(?:mrn|medical[\s_-]+record(?:[\s_-]+(?:no\.?|number|#|id))?|"
    r"patient[\s_-]*(?:id|no\.?|number|#)|chart[\s_-]*(?:no\.?|number|#))|"
    r"患者\s*(?:id|番号|no\.?)|カルテ\s*(?:番号|no\.?)?|診察券\s*(?:番号)?|受診者\s*番号)"
    r"[\"']?\s*[:：#=]?\s*[\"']?(?P<id>[A-Za-z]{0,3}[-]?\d[\d-]{3,14}[A-Za-z]?)(?![A-Za-z0-9])",
    re.IGNORECASE,
)

_EVENT = quickre.compile(
    r"(?:診断され|診断名|診断は|病名|処方され|処方薬|投薬|服用中|服薬中|治療中|治療を受け|通院中|入院中|"
    r"(?:うつ|[\u4e00-\u9fff\u30a1-\u30fa\u30fc]{1,8})(?:病|症|炎|障害|がん|癌)"
    r"(?:で|と診断|を患|を発症|のため)|"
    r"発作|発熱|休職中|療養中|病気休暇|"
    r"入院し|退院し|手術を受け|手術予定|既往歴|余命|陽性|"
    # A treatment's name as the field of an institution, a unit or a trade (日本透析医学会,
    # 透析クリニック, 透析患者数) names nobody's treatment.
    r"(?:透析|抗がん剤|化学療法)(?!医学会|学会|協会|財団|センター|クリニック|施設|室|科|技士|"
    r"装置|機器|液|医療|業界|患者数|の歴史)|"
    r"\b(?:was|were|been|is|am|are|got)\s+diagnosed\b|\bdiagnosed\s+with\b|\bdiagnosis\s+of\b|"
    r"\bprescribed\b|\bon\s+medication\b|\btreated\s+for\b|\bundergoing\b|\badmitted\s+(?:to|for)\b|"
    r"\bdischarged\b|\bsurgery\s+(?:(?:on|for)\b(?!\s+(?:our|your)\b)|scheduled\b)|"
    r"\bmedical\s+history\b|"
    r"\btested\s+positive\b|"
    # (… nor does it in English: "the history of dialysis", "an outpatient dialysis center".)
    r"(?<!\bhistory of )(?<!\bdevelopment of )(?<!\binvention of )"
    r"\b(?:chemotherapy|dialysis)\b(?!\s+(?:cent(?:er|re)s?|clinics?|units?|machines?|techs?|"
    r"technicians?|nurses?|industry|providers?|facilit(?:y|ies)|equipment|programs?|society|"
    r"market|wards?|drugs?)\b))",
    re.IGNORECASE,
)

# A literal every form of _EVENT holds: a sentence without one holds no event, and one scan of
# the text for these costs a quarter of trying _EVENT at every position of every sentence.
_EVENT_ANCHOR = quickre.compile(
    r"病|症|炎|障害|がん|癌|診断|処方|投薬|服用|服薬|治療|療法|通院|入院|発作|発熱|休職|療養|"
    r"退院|手術|既往|余命|陽性|透析|diagnos|prescribed|medication|treated|undergoing|admitted|"
    r"discharged|surgery|medical|positive|chemotherapy|dialysis",
    re.IGNORECASE,
)

_PERSON_CUE = quickre.compile(
    # (Not a group as an audience or a count: 患者向け, 患者数, 社員全員, 生徒一同.)
    r"(?:(?:患者|社員|従業員|保護者|児童|生徒|園児)(?!向け|数|層|全体|全員|一同|会|団体)|"
    r"さん|様|氏|くん|ちゃん|私|僕|本人|父|母|妻|夫|息子|娘|祖父|祖母|部下|上司|"
    # An age, not a range of them (3〜8歳: a group of children) nor an average (69.9歳).
    r"(?<![〜~～\-–.．0-9０-９])(?<![〜~～\-–] )[0-9０-９]{1,3} ?[歳才]"
    r"(?! ?(?:以上|以下|未満|〜|~|～))|"
    r"\b(?:patient|mr|mrs|ms|dr|my|his|her|he|she|i|i'm|i've|employee|colleague|son|daughter|"
    r"wife|husband|mother|father)\b)",
    re.IGNORECASE,
)
# A person the text calls made up is nobody's record: 架空の利用者Aさん, "a fictional patient",
# "a hypothetical 45-year-old patient" — a case for teaching, with its own health data.
_FICTIONAL_BEFORE = quickre.compile(
    # (The canonical view puts a blank between scripts: 架空の利用者 A さん.)
    r"(?:架空|仮想|模擬|想定上)の?[^\n、。,.()（）]{0,10}$|"
    r"\b(?:fictional|fictitious|hypothetical|imaginary|made-up|simulated)\s+(?:[\w-]+\s+){0,2}$",
    re.IGNORECASE)


def _real_person_cue(text: str, start: int, end: int) -> bool:
    """Whether the sentence ``start..end`` has a sign of a person no fiction word precedes."""
    return any(_FICTIONAL_BEFORE.search(text, max(start, m.start() - 24), m.start()) is None
               for m in _PERSON_CUE.finditer(text, start, end))


# A sentence ends at 。．!? or a line break, and at "." unless it sits between digits ("38.5℃").
_SENTENCE = quickre.compile(r"(?:[^。．.!?！？\n]|(?<=\d)\.(?=\d))+[。．.!?！？\n]?")


# A capitalised given name, as the subject of a note ("Priya was admitted", "Mark started
# chemotherapy"): a person, even when the name is also a word. Not an eponym ("Addison's
# disease", "Crohn's").
_CAPITALISED = quickre.compile(rf"(?<![\w.@])[{LATIN_UPPER}][{LATIN_LOWER}]{{2,}}(?![\w@])")
_EPONYM = quickre.compile(r"['’]s?\s+(?:disease|syndrome|palsy|sign|test|law|ulcer|lymphoma|"
                     r"sarcoma|phenomenon|reflex|method|criteria)", re.IGNORECASE)


def _names_someone(text: str, start: int, end: int) -> bool:
    names = lexicon()
    return any(
        names.is_given(m.group()) and not names.is_common(m.group())
        and not _EPONYM.match(text, m.end())
        for m in _CAPITALISED.finditer(text, start, end)
    )


class MedicalRecordRecognizer(PatternRecognizer):
    ENTITIES = ("MEDICAL_RECORD",)
    CONTEXT = ("患者", "カルテ", "診断", "処方", "patient", "diagnosis", "mrn", "medical")

    def find(self, text: str) -> Iterable[Hit]:
        for m in _RECORD.finditer(text):
            yield Hit("MEDICAL_RECORD", m.start("id"), m.end("id"), 0.85, "record-number",
                      context_checked=True)
        anchors = [m.start() for m in _EVENT_ANCHOR.finditer(text)]
        if not anchors:
            return
        k = 0
        for sentence in _SENTENCE.finditer(text):
            while k < len(anchors) and anchors[k] < sentence.start():
                k += 1
            if k == len(anchors):
                break
            if anchors[k] >= sentence.end():
                continue
            events = list(_EVENT.finditer(text, sentence.start(), sentence.end()))
            if events and (_real_person_cue(text, sentence.start(), sentence.end())
                           or _names_someone(text, sentence.start(), sentence.end())):
                for e in events:
                    yield Hit("MEDICAL_RECORD", e.start(), e.end(), 0.7, "health-event-of-person",
                              context_checked=True)
