"""The English pipeline runs only what person, place and date entities need.

``build_en_pipeline`` leaves out en_core_web_sm's shared ``tok2vec`` because only the tagger
and the parser listen to it and the NER model embeds its own: running it doubled the embedding
work. Should a later model make NER listen to the shared layer, these tests fail rather than
NER reading garbage.
"""

from __future__ import annotations

import spacy
from spacy.pipeline.tok2vec import Tok2VecListener

from proxy.detection.nlp import EN_MODEL, build_en_pipeline

SENTENCES = [
    "Please forward the claim of Priya Raghunathan to the Boston office by 3 March 2025.",
    "Warren Buffett wrote to Berkshire Hathaway shareholders in February.",
    "Hi, I'm dwayne kowalski from Leeds, my manager is Siobhán O'Neill.",
    "The meeting with Dr. Kenji Watanabe moved to Tuesday afternoon in Osaka.",
]


def test_no_enabled_component_listens_to_a_component_left_out() -> None:
    nlp = build_en_pipeline()
    assert nlp.pipe_names == ["ner"]
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        assert model is not None
        assert not any(isinstance(node, Tok2VecListener) for node in model.walk())


def test_entities_are_those_of_the_model_with_its_shared_tok2vec() -> None:
    full = spacy.load(EN_MODEL)
    lean = build_en_pipeline()
    for text in SENTENCES:
        expected = [(e.start_char, e.end_char, e.label_) for e in full(text).ents]
        assert [(e.start_char, e.end_char, e.label_) for e in lean(text).ents] == expected
        assert expected  # each sentence holds entities, so the comparison says something
