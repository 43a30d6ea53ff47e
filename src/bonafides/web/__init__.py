"""The public portal: server-rendered pages that read well without JavaScript.

htmx (vendored under ``static/``) only spares a page load where a form would reload
the page anyway: live search results and the console's upload report. Pages call the
same services as the JSON API (``bonafides.app.public``, ``bonafides.app.submit``),
so the portal cannot show what the API would withhold.
"""

from __future__ import annotations

from bonafides.web.pages import Portal, portal

__all__ = ["Portal", "portal"]
