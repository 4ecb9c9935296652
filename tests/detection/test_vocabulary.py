"""The entity vocabulary and the recognizers agree: no name a policy can use is dead."""

from __future__ import annotations

from proxy import vocabulary as entities
from proxy.detection.detector import Detector

# Flagged by extraction (parts and token ids) or while canonicalising a text (data: URLs,
# binary base64, encodings too deep to read), not by a recognizer.
FLAGGED_BY_EXTRACTION = {"CONTENT_IMAGE", "CONTENT_AUDIO", "CONTENT_FILE", "CONTENT_UNKNOWN",
                         "CONTENT_TOKENS", "CONTENT_ENCODED"}
SIGNALS = {"DETECTION_FAILED"}


def test_every_vocabulary_entity_has_a_source_and_every_source_is_in_the_vocabulary(
    detector: Detector,
) -> None:
    emitted = detector.engine.entities()
    assert emitted <= set(entities.ENTITY_TYPES)
    assert set(entities.ENTITY_TYPES) - FLAGGED_BY_EXTRACTION - SIGNALS <= emitted


def test_globs_expand_and_unknown_names_do_not() -> None:
    assert "SECRET_JWT" in entities.expand("SECRET_*")
    assert entities.expand("PERSON") == {"PERSON"}
    assert entities.expand("PERSN") == frozenset()
    assert entities.expand("NOPE_*") == frozenset()
