"""The API docs pages (Swagger UI) with every asset served by the product, so they work
offline: Swagger UI comes from the `swagger-ui-bundle` package (Apache-2.0), the page's
own start-up script from `docs_assets/`. The page allows no inline script and no other
origin (its Content-Security-Policy says so)."""

from html import escape
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from litestar import Request, Router, get
from litestar.datastructures import ResponseHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File

SWAGGER_UI = Path(swagger_ui_bundle.swagger_ui_path)
SWAGGER_UI_VERSION = SWAGGER_UI.name.removeprefix("swagger-ui-")  # e.g. "4.15.5"
OWN_ASSETS = Path(__file__).parent / "docs_assets"
ASSETS = f"/assets-{SWAGGER_UI_VERSION}"
"""Under the schema path; the version in the path lets browsers cache the files."""

SERVED = {
    "swagger-ui-bundle.js": (SWAGGER_UI, "text/javascript; charset=utf-8"),
    "swagger-ui-standalone-preset.js": (SWAGGER_UI, "text/javascript; charset=utf-8"),
    "swagger-ui.css": (SWAGGER_UI, "text/css; charset=utf-8"),
    "favicon-32x32.png": (SWAGGER_UI, "image/png"),
    "start-swagger-ui.js": (OWN_ASSETS, "text/javascript; charset=utf-8"),
    "docs.css": (OWN_ASSETS, "text/css; charset=utf-8"),
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class OfflineSwagger(SwaggerRenderPlugin):
    """Swagger UI from this server's own asset route, started by a script file."""

    def __init__(self, schema_path: str) -> None:
        assets = f"{schema_path}{ASSETS}"
        super().__init__(
            js_url=f"{assets}/swagger-ui-bundle.js", css_url=f"{assets}/swagger-ui.css",
            standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
            favicon=f'<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">',
            style=f'<link href="{assets}/docs.css" rel="stylesheet">')
        self._assets = assets
        self._spec_url = f"{schema_path}/openapi.json"

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>{self.favicon}
<link href="{self.css_url}" rel="stylesheet">{self.style}
</head><body>
<div id="swagger-ui" data-spec-url="{escape(self._spec_url)}"></div>
<script src="{self.js_url}"></script>
<script src="{self.standalone_preset_js_url}"></script>
<script src="{self._assets}/start-swagger-ui.js"></script>
</body></html>""".encode()


@get(f"{ASSETS}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def docs_asset(name: FromPath[str]) -> File:
    """One of the docs page's files, by name (only those the page uses)."""
    if name not in SERVED:
        raise NotFoundException()
    folder, media_type = SERVED[name]
    return File(folder / name, media_type=media_type, content_disposition_type="inline",
                headers={"Cache-Control": "public, max-age=86400"})


def docs_router(schema_path: str) -> Router:
    """The router the OpenAPI documents and the docs page are served from."""
    return Router(schema_path, route_handlers=[docs_asset], include_in_schema=False,
                  response_headers=[ResponseHeader(name=k, value=v)
                                    for k, v in SECURITY_HEADERS.items()])
