"""Credit reports: drawn from the store, signed with Ed25519, rendered as HTML and PDF.

``service`` issues and verifies (the CLI and the API call it), ``build`` decides what an
audience may see, ``signing`` keeps the keys, ``render`` makes the pages.
"""
