"""The API docs pages (both schemas) work offline: every file the page loads comes from
this server, and the page's policy names no other origin."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import swagger_ui_bundle

from adapters.sql.migrate import upgrade_database
from entrypoints.dev.app import create_dev_app
from tests.support.admin import settings_for
from tests.support.server import serving

DOCS = ["/v1/api/schema/swagger", "/v1/api/admin/schema/swagger"]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await upgrade_database(url)
    app = create_dev_app(settings_for(tmp_path / "data", url))
    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        yield client


def referenced(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("page", DOCS)
async def test_the_docs_page_loads_only_files_of_this_server(
        client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "://" not in html  # no other origin, not even in a comment
    urls = referenced(html)
    assert any(u.endswith("/swagger-ui-bundle.js") for u in urls)
    assert all(u.startswith(page.removesuffix("/swagger") + "/") for u in urls)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script>" not in html  # only script files: the policy allows no inline one
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        expected = {"js": "text/javascript", "css": "text/css", "png": "image/png"}[
            url.rsplit(".", 1)[1]]
        assert asset.headers["content-type"].startswith(expected), url
        assert "nosniff" in asset.headers["x-content-type-options"]


async def test_the_bundle_is_the_packaged_swagger_ui(client: httpx.AsyncClient) -> None:
    html = (await client.get("/v1/api/schema/swagger")).text
    bundle = next(u for u in referenced(html) if u.endswith("/swagger-ui-bundle.js"))
    served = (await client.get(bundle)).content
    assert served == (Path(swagger_ui_bundle.swagger_ui_path) / "swagger-ui-bundle.js"
                      ).read_bytes()


async def test_only_the_page_s_own_files_are_served(client: httpx.AsyncClient) -> None:
    html = (await client.get("/v1/api/schema/swagger")).text
    folder = next(u for u in referenced(html) if u.endswith(".js")).rsplit("/", 1)[0]
    for name in ("index.html", "swagger-initializer.js", "..%2F..%2Fpyproject.toml"):
        assert (await client.get(f"{folder}/{name}")).status_code == 404


async def test_the_schema_documents_do_not_list_the_docs_files(
        client: httpx.AsyncClient) -> None:
    for schema in ("/v1/api/schema/openapi.json", "/v1/api/admin/schema/openapi.json"):
        paths = (await client.get(schema)).json()["paths"]
        assert not [p for p in paths if "assets" in p or "schema" in p]
