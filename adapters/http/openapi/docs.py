"""GET /openapi.json and GET /docs: the document, and Swagger UI over it, with no internet needed.

Swagger UI's JavaScript and CSS come from the installed `swagger-ui-py` distribution (Swagger UI 5,
the first major version that renders OpenAPI 3.1), served from this process, never from a CDN.
"""

from __future__ import annotations

import html
import importlib.util
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from orgledger.adapters.http.openapi.document import build_document
from orgledger.adapters.http.openapi.operations import OPERATIONS

ASSETS_PATH = "/docs/assets"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>orgledger API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "{openapi}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
</script>
</body>
</html>
"""


def swagger_ui_dir() -> Path:
    """Where the installed swagger-ui-py keeps Swagger UI's files (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py distribution is not installed; reinstall orgledger")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def package_version() -> str:
    try:
        return version("orgledger")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


@cache
def document_bytes() -> bytes:
    # Built once per process: the operations are fixed at import time.
    return msgspec.json.encode(build_document(OPERATIONS, package_version()))


async def openapi_json(request: Request) -> Response:
    return Response(document_bytes(), media_type="application/json")


async def swagger_page(request: Request) -> Response:
    root = html.escape(request.scope.get("root_path", "").rstrip("/"), quote=True)
    return HTMLResponse(PAGE.format(assets=root + ASSETS_PATH, openapi=root + "/openapi.json"))


def docs_routes() -> list[Route | Mount]:
    return [
        Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False),
        Route("/docs", swagger_page, methods=["GET"], include_in_schema=False),
        Mount(ASSETS_PATH, app=StaticFiles(directory=swagger_ui_dir()), name="docs_assets"),
    ]
