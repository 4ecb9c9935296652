"""Whether a host name ends in a public suffix, without the network.

Presidio validates e-mail domains with tldextract's default extractor, which fetches the public
suffix list from the internet on first use. This one only ever reads the snapshot bundled with
the package (no URLs, no cache directory), so validation never touches the network.
"""

from __future__ import annotations

import tldextract

_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
# Labels of the longest rule in the bundled list (``pvt.k12.ma.us``): whether a host ends in a
# public suffix depends on its last that many labels and the one before them, however long
# the host is.
SUFFIX_LABELS = max(rule.count(".") for rule in _OFFLINE_TLD.tlds) + 1


def has_public_suffix(host: str) -> bool:
    """``example.co.jp`` yes; ``marcus.pemberton`` (no such suffix) no."""
    return bool(_OFFLINE_TLD(host).fqdn)
