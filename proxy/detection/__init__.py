"""Detection: every value of a request in, ``Finding``s out (see ``detector`` and ``runner``)."""
