"""Whether a host name ends in a public suffix, without the network.

Presidio validates e-mail domains with tldextract's default extractor, which fetches the public
suffix list from the internet on first use. This one only ever reads the snapshot bundled with
the package (no URLs, no cache directory), so validation never touches the network.
"""

from __future__ import annotations

import tldextract

_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def has_public_suffix(host: str) -> bool:
    """``example.co.jp`` yes; ``marcus.pemberton`` (no such suffix) no."""
    return bool(_OFFLINE_TLD(host).fqdn)
