"""Names found by where they stand: name fields and name columns."""

from __future__ import annotations

import pytest
from recognizer_cases import detect

from proxy.detection.recognizers.structured_names import StructuredNameRecognizer

RECOGNIZER = StructuredNameRecognizer()


def names(text: str) -> list[str]:
    return [text[s:e] for _, s, e in detect(RECOGNIZER, text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"name": "Ana Lima", "email": "a@b.example"}', ["Ana Lima"]),
        ('{"customer_name":"Tom Berger","tier":"gold"}', ["Tom Berger"]),
        ("patient: Okonkwo Chidi\nward: 3", ["Okonkwo Chidi"]),
        ("氏名：山田 花子\n部署：営業", ["山田 花子"]),
        ("name,title,salary\nchen wei,Engineer II,128000\nlaura martins,Engineer II,117000",
         ["chen wei", "laura martins"]),
        ("id\tfull_name\tteam\n17\tGrace Kim\tQA\n18\tTomasz Nowak\tOps", ["Grace Kim",
                                                                      "Tomasz Nowak"]),
        ("First name Oluwaseun.", ["Oluwaseun"]),
        ("Patient surname is Lindqvist.", ["Lindqvist"]),
        ("Given name: Astrid, 34", ["Astrid"]),
        ('{"customer":{"first":"Brigitte","last":"Lemaire"}}', ["Brigitte", "Lemaire"]),
        ("下の名前は蒼です。苗字は宮城。", ["蒼", "宮城"]),  # a word and a prefecture to Sudachi
        ("お名前はミウラ アオイさんです", ["ミウラ アオイ"]),
        ("彼女の名前はさくら。", ["さくら"]),
        ("name: taro", ["taro"]),  # one lower-case word that is a known name
        ("ゆうとくんの保護者様へ", ["ゆうと"]),  # Sudachi splits the name: ゆう|と|くん
        ("みずほ（7歳）、昨夜から", ["みずほ"]),
        ("保護者のはるかちゃん", ["はるか"]),
        ("姓は長谷部、名は千尋です", ["長谷部", "千尋"]),
        ('{"first":"Bartholomew","last":"Okonkwo-Reyes"}', ["Bartholomew", "Okonkwo-Reyes"]),
    ],
)
def test_values_of_name_fields_and_columns_are_person_names(text: str, expected: list[str]
                                                            ) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'file name: report.pdf',
        'project name: Hayabusa',
        '{"name": "lookup_customer", "arguments": "{}"}',
        "customer_id: 12345",
        "The name of the project is Hayabusa",
        '{"name": null}',
        "host_name=db-01.internal",
        "the file name is config.yaml",
        "last name is unknown",
        "secretKeyRef:\n  name: db-secret\n  key: password",  # a Kubernetes resource
        "containers:\n  - name: nginx\n    image: nginx:1.27\n  - name: web",
        "queue:\n  name: ops",
        '{"name": "my-app.v2", "replicas": 3}',
        '{"name": "Balkan Forge EOOD", "country": "BG"}',  # a company
        # A salon's services: English words, none of them a known name.
        '{"code": "CUT-01", "name": "Cut"}, {"code": "CLR-02", "name": "Colour (root)"}',
        "customer: Acme Trading Co.",
        "件名は請求書の件です。社名は未定。品名はボルト",
        "おばあちゃんの介護とあかちゃんの世話",
        "みなさんこんにちは、パパとママへ",
        "氏名は必須項目です。",
        "名前はカタカナで入力してください。",
        "姓は何ですか？",
        "製品の名前はハヤブサです。",
        "うちの犬の名前はポチです",
    ],
)
def test_names_of_things_are_not_person_names(text: str) -> None:
    assert names(text) == []


def test_generic_first_and_last_keys_need_known_names() -> None:
    assert names('{"page": {"first": "Overview", "last": "Appendix"}}') == []
    assert names('{"first": 10, "last": 20}') == []


def test_product_table_without_person_column_header_is_ignored() -> None:
    # A "name" column in a price list: the recognizer cannot tell, and reports it — a known
    # over-report that keeps such a table local rather than risk a customer list leaking.
    assert names("name,price\nWidget,100") == ["Widget"]


@pytest.mark.parametrize(("text", "value"), [
    ("作業者：髙橋 大輔", "髙橋 大輔"),
    ("被災者：髙橋 大輔（社員番号 T-0418、42歳）", "髙橋 大輔"),
    ("検査員：ミハイル・ペトロフ\n確認者：四月一日", "ミハイル・ペトロフ"),
    ("承認者：四月一日", "四月一日"),
])
def test_a_japanese_role_field_holds_a_name_the_dictionary_may_not_know(
    text: str, value: str,
) -> None:
    found = {text[h.start:h.end] for h in StructuredNameRecognizer().find(text)}
    assert value in found


@pytest.mark.parametrize("text", [
    "対象者：全社員", "参加者：20名", "責任者：未定", "作業者：（署名欄）", "発注者：国土交通省",
    "管理者：総務課", "依頼人：株式会社北浜工業",
])
def test_a_japanese_role_field_of_a_unit_or_a_count_holds_no_name(text: str) -> None:
    hits = [h for h in StructuredNameRecognizer().find(text) if h.rule == "role-field-ja"]
    assert hits == []
