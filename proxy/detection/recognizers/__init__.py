"""Sekisho's own recognizers: Japanese identifiers, credentials, names, health data, tables,
addresses, and the shapes of cards, IBANs and US identifiers that Presidio's miss. The protocol
and base are in ``base``; the registry that names them is ``proxy.detection.registry``."""
