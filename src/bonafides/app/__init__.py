"""The application layer: one module per area, one function per use case.

A use case runs the rate limit, authorisation, the domain service, the audit and access
log, the commit, then its post-commit effects (mail, feed events). The API, the portal and
the CLI call it and only parse input and render output.
"""
