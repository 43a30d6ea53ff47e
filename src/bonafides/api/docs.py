"""The interactive API documentation: Swagger UI, vendored, under the strict CSP.

FastAPI's own docs pages load Swagger UI from a CDN and start it with an inline script;
the content security policy refuses both. Here the bundle and its style sheet are
package data (``api/static``, see the README there), the start-up code is a static
script, and the page loads the same ``openapi.json`` clients use, so the documentation
can never describe another API than the one served.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from bonafides.http.routes import Routes

STATIC = Path(__file__).resolve().parent / "static"
#: Where the vendored files are served, below the API prefix.
ASSETS = "/docs/assets"

#: The portal's policy, except that images may be ``data:`` URIs: Swagger UI's style
#: sheet draws its icons that way. Scripts still come from this origin only.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def page(api: str) -> str:
    assets = f"{api}{ASSETS}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bonafides API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui" data-openapi="{api}/openapi.json"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI, api: str) -> None:
    """The page at ``{api}/docs`` and its files at ``{api}/docs/assets``.

    Left out of the OpenAPI document: it is an HTML page about the API, not part of it.
    """
    html = page(api)
    routes = Routes(tags=["meta"], include_in_schema=False)

    @routes.get("/docs", response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        """Swagger UI on this API's OpenAPI document."""
        return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY})

    routes.add_to(app, prefix=api)
    app.mount(api + ASSETS, StaticFiles(directory=STATIC, follow_symlink=False), name="api-docs")
