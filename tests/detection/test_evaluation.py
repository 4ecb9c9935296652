"""The labelled corpus and the detection targets measured on it (``sekisho eval``).

The corpus is the project's yardstick: business prompts in Japanese and English, as whole OpenAI
request bodies, with the personal data and credentials in each labelled by hand. These tests
check the corpus itself, the scoring, and the targets: no sensitive request leaks to the cloud,
recall >= 0.95 for every structured identifier and >= 0.90 for person names, over-routing of
clean requests <= 5 %.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pytest

from proxy.detection.detector import Detector
from proxy.extraction import extract
from proxy.policy import Policy, load_policy
from proxy.tools.evaluation import (
    DOMAINS,
    TARGET_OVER_ROUTING,
    TARGET_PERSON_RECALL,
    TARGET_STRUCTURED_RECALL,
    CorpusError,
    Report,
    compatible,
    evaluate_corpus,
    load_corpus,
    occurrences,
    run,
)
from proxy.values import Endpoint
from proxy.vocabulary import ENTITY_TYPES

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "detection" / "corpus"
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
LANGUAGES = ("en", "ja")


def raw_items(language: str) -> list[dict[str, object]]:
    lines = (CORPUS / f"{language}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(scope="module")
def report(detector: Detector, policy: Policy) -> Report:
    return evaluate_corpus(load_corpus(CORPUS), detector, policy)


def listing(report: Report, *kinds: str) -> str:
    misses = report.misses_of(*kinds)
    return f"{len(misses)} of them:\n" + "\n".join(m.line() for m in misses)


# ---------------------------------------------------------------------------------------------
# The corpus


@pytest.mark.parametrize("language", LANGUAGES)
def test_corpus_has_150_items_per_language_with_sensitive_and_clean_items_in_every_domain(
    language: str,
) -> None:
    items = raw_items(language)
    assert len(items) >= 150
    kinds = Counter((item["domain"], item["sensitive"]) for item in items)
    for domain in DOMAINS:
        assert kinds[(domain, True)] >= 10, (domain, "sensitive")
        assert kinds[(domain, False)] >= 10, (domain, "clean")
    sensitive = sum(1 for item in items if item["sensitive"])
    assert 0.4 <= sensitive / len(items) <= 0.6
    endpoints = Counter(str(item.get("endpoint", "chat")) for item in items)
    assert set(endpoints) == {e.value for e in Endpoint}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_gold_entity_occurs_in_the_text_at_its_path(language: str) -> None:
    for item in raw_items(language):
        request = item["request"]
        assert isinstance(request, dict)
        texts = {s.path: s.text for s in extract(request)[0]}
        entities = item["entities"]
        assert isinstance(entities, list)
        assert item["sensitive"] is bool(entities), item["id"]
        for entity in entities:
            assert entity["type"] in ENTITY_TYPES, (item["id"], entity["type"])
            assert entity["path"] in texts, (item["id"], entity["path"])
            assert occurrences(texts[entity["path"]], entity["text"]), (item["id"], entity)


def test_the_corpus_loads_without_problems() -> None:
    items = load_corpus(CORPUS)
    assert len({i.id for i in items}) == len(items)
    assert {i.language for i in items} == set(LANGUAGES)


def test_a_gold_text_missing_from_its_path_is_a_corpus_error(tmp_path: Path) -> None:
    item = {
        "id": "x-1", "domain": "hr", "sensitive": True,
        "request": {"model": "m", "messages": [{"role": "user", "content": "Call Ann"}]},
        "entities": [{"type": "PERSON", "path": "messages[0].content", "text": "Anne"}],
    }
    (tmp_path / "en.jsonl").write_text(json.dumps(item) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert "does not occur" in str(err.value)
    assert "Anne" not in str(err.value)  # problems name values masked


# ---------------------------------------------------------------------------------------------
# Scoring


def test_equivalent_types_find_each_other() -> None:
    assert compatible("PHONE_NUMBER", "JP_PHONE_NUMBER")
    assert compatible("JP_PHONE_NUMBER", "PHONE_NUMBER")
    assert compatible("SECRET_AWS_KEY", "SECRET_TOKEN")
    assert not compatible("SECRET_AWS_KEY", "SECRET_PASSWORD")
    assert not compatible("PERSON", "LOCATION")
    assert not compatible("CREDIT_CARD", "JP_MY_NUMBER")


def test_occurrences_respect_latin_word_boundaries() -> None:
    assert occurrences("Ana Lima, A. Lima", "Lima") == [(4, 8), (13, 17)]
    assert occurrences("Limassol", "Lima") == []
    assert occurrences("山田太郎さん", "山田") == [(0, 2)]


def test_every_corpus_item_is_scored(report: Report) -> None:
    assert report.items == len(load_corpus(CORPUS))
    assert report.routes.sensitive + report.routes.clean == report.items
    assert set(report.per_language) == set(LANGUAGES)
    # Places, dates and URLs are not personal data on their own: never scored.
    assert not {"LOCATION", "DATE_TIME", "URL", "NRP"} & set(report.per_type)


def test_sekisho_eval_prints_json_and_exits_0_when_the_targets_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [
        {"id": "t-1", "domain": "software", "sensitive": True,
         "request": {"model": "m", "messages": [
             {"role": "user", "content": "Reply to sara.lee@mail.example.net please"}]},
         "entities": [{"type": "EMAIL_ADDRESS", "path": "messages[0].content",
                       "text": "sara.lee@mail.example.net"}]},
        {"id": "t-2", "domain": "software", "sensitive": False,
         "request": {"model": "m", "messages": [
             {"role": "user", "content": "How do I sort a list in place?"}]},
         "entities": []},
    ]
    (tmp_path / "en.jsonl").write_text(
        "".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    args = argparse.Namespace(corpus=str(tmp_path), policy=str(DEFAULT_POLICY), json=True)
    assert run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["requests"]["leaked"] == 0 and out["requests"]["over_routed"] == 0
    assert out["entities"]["EMAIL_ADDRESS"]["recall"] == 1.0
    assert "sara.lee" not in json.dumps(out)


# ---------------------------------------------------------------------------------------------
# The targets


def test_structured_identifiers_are_found(report: Report) -> None:
    low = {
        name: score for name, score in report.per_type.items()
        if name != "PERSON" and score.recall is not None
        and score.recall < TARGET_STRUCTURED_RECALL
    }
    assert not low, (
        "recall below target: "
        + ", ".join(f"{n} {s.found}/{s.gold}" for n, s in sorted(low.items()))
        + "\nmissed " + listing(report, "missed")
    )


def test_no_sensitive_request_would_reach_the_cloud(report: Report) -> None:
    assert report.routes.leaked == 0, "leaked " + listing(report, "leaked", "missed")


def test_person_names_are_found(report: Report) -> None:
    person = report.per_type["PERSON"]
    assert person.recall is not None
    assert person.recall >= TARGET_PERSON_RECALL, (
        f"PERSON recall {person.recall:.3f} ({person.found}/{person.gold}); missed "
        + "\n".join(m.line() for m in report.misses_of("missed") if m.entity_type == "PERSON")
    )


def test_clean_requests_are_rarely_kept_local(report: Report) -> None:
    assert report.routes.over_routing_rate <= TARGET_OVER_ROUTING, (
        f"over-routing {report.routes.over_routing_rate:.1%}; over-routed "
        + listing(report, "over_routed", "false_positive")
    )
