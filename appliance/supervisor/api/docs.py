"""/docs without the internet: Swagger UI's files come from the pinned `fastapi-offline`
package, not a CDN (the appliance often has no way out, and a CDN script would run with the
admin's session). Its start-up code is a file of its own, so the CSP needs no inline script."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS = "/docs"
ASSETS = f"{DOCS}/assets"
INIT_JS = f"{DOCS}/init.js"
SWAGGER_FILES = Path(str(resources.files("fastapi_offline") / "static"))

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}} - API</title>
<link rel="icon" href="{ASSETS}/favicon.png" type="image/png">
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{INIT_JS}"></script>
</body>
</html>
"""

_INIT = """window.ui = SwaggerUIBundle({
  url: "%s",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def install(app: FastAPI) -> None:
    """GET /docs, its start-up script and Swagger UI's own files (before the UI's mount at /)."""
    page = _PAGE.format(title=app.title)
    init = _INIT % app.openapi_url

    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    async def docs_init() -> Response:
        return Response(init, media_type="text/javascript")

    app.add_api_route(DOCS, docs, include_in_schema=False)
    app.add_api_route(INIT_JS, docs_init, include_in_schema=False)
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_FILES), name="docs-assets")
