"""The bounded load test at full scale: clean and sensitive prompts at high concurrency while
the policy reloads and the local upstream flaps (see ``tests/soak.py``; ``make test`` runs it
small in ``tests/test_load_e2e.py``).

    .venv/bin/python bench/soak.py [--requests 20000] [--concurrency 64 128 256]
                                   [--detection-workers 2] [--duration-limit 300]

For each concurrency: a fresh ``sekisho serve``, the load, and one JSON line with requests,
req/s, outcomes (status and route or error code), sensitive values sent and leaked, policy
reloads and local flaps, RSS (serving process; detection processes) and open descriptors
after warm-up and after the load. Exits 1 if a sensitive value reached the cloud, a status
other than 200 and the intended 503/429 occurred, RSS grew 10% or more, or descriptors leaked.
Loopback only; each run bounded by count and by ``--duration-limit`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from soak import soak  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--detection-workers", type=int, default=2)
    parser.add_argument("--duration-limit", type=float, default=300.0)
    args = parser.parse_args()
    failed = False
    for concurrency in args.concurrency:
        report = asyncio.run(soak(
            requests=args.requests, concurrency=concurrency, warmup=4 * concurrency,
            detection_workers=args.detection_workers, reload_every_s=1.0, flap_every_s=3.0,
            limit_s=args.duration_limit))
        print(json.dumps({"concurrency": concurrency, **report.as_dict()}), flush=True)
        failed |= bool(report.leaked or report.unintended
                       or report.rss_end_mib >= report.rss_warm_mib * 1.10
                       or report.detection_rss_end_mib >= report.detection_rss_warm_mib * 1.10
                       or report.fds_end > report.fds_warm + 8)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
