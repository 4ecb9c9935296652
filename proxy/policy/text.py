"""Text helpers for policy conditions: width- and case-insensitive matching, token estimates."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """NFKC then casefold, so ``ＣＯＮＦＩＤＥＮＴＩＡＬ`` matches the keyword ``confidential``."""
    return unicodedata.normalize("NFKC", text).casefold()


def estimate_tokens(texts: list[str]) -> int:
    """A tokenizer-free estimate: ~4 characters a token for Latin text, one a CJK character.

    Good enough for routing thresholds (long prompts to a long-context model, say); never used
    for billing.
    """
    total = 0.0
    for text in texts:
        cjk = sum(1 for ch in text if ord(ch) >= 0x3000)
        total += cjk + (len(text) - cjk) / 4
    return int(total + 0.999)
