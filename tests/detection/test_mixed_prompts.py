"""A sensitive prompt stays on-prem whatever clean text surrounds it.

Each sensitive corpus message is put among clean corpus lines drawn at random (seeded), two of
them lines some rule reads something in, as applications join a user's request with other
instructions, documents and earlier questions.
A rule that reads the text around a finding must read the finding's own surroundings: a work's
title on one line once made a worker named on another a character, and a public figure's name
further on once hid a booking's names in capitals before it (5 of 300 such prompts reached the
cloud). The decisive assertion is on the route the default policy gives.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from proxy.config import Settings
from proxy.detection.detector import Detector
from proxy.policy import load_policy
from proxy.tools.benchmark import corpus_messages
from proxy.tools.explain import explain
from proxy.values import Endpoint

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "detection" / "corpus"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_sensitive_prompts_between_clean_lines_stay_local(detector: Detector,
                                                          language: str) -> None:
    policy = load_policy(ROOT / "policies" / "default.yaml")
    settings = Settings()
    sensitive, clean = corpus_messages(CORPUS, language)
    # The clean lines a rule reads something in (public figures, works, placeholders,
    # organisations' numbers, years): the surroundings most likely to sway a reading.
    found = detector.analyze_texts(clean)
    signals = [line for line in clean if found[line]]
    rng = random.Random(20261202)
    reached_cloud = []
    for text in sensitive * 3:
        lines = [*rng.sample(signals, 2), *rng.sample(clean, rng.randint(1, 4))]
        rng.shuffle(lines)
        cut = rng.randint(0, len(lines))
        content = "\n".join([*lines[:cut], text, *lines[cut:]])
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}
        decision = explain(body, Endpoint.CHAT, policy, detector, settings)
        if decision["route"] == "cloud" and decision["action"] == "forward":
            reached_cloud.append(content)
    assert len(sensitive) > 90 and len(signals) > 20
    assert not reached_cloud
