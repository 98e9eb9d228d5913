"""GET /docs: Swagger UI over /openapi.json, every asset served by this process (no CDN, no internet)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import build_runtime
from tests.conftest import make_settings

CONTENT_TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}


class AssetLinks(HTMLParser):
    """Collects every URL a page loads (src/href) and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append(data)


def page_links(html: str) -> AssetLinks:
    links = AssetLinks()
    links.feed(html)
    return links


def is_local(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


@pytest.fixture
def client(sqlite_client: TestClient) -> TestClient:
    # The document and the page do not depend on the backend: one real (SQLite) store is enough.
    return sqlite_client


def test_docs_page_loads_only_local_assets(client: TestClient) -> None:
    # Anyone (no key) opens the page.
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    links = page_links(page.text)
    # It loads Swagger UI's script and stylesheet, all from this server.
    assert any(u.endswith("/swagger-ui-bundle.js") for u in links.urls)
    assert any(u.endswith("/swagger-ui.css") for u in links.urls)
    assert [u for u in links.urls if not is_local(u)] == []
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", page.text, re.I), "the page names a remote host"
    # Its inline script points Swagger UI at our document and turns off the online validator.
    (script,) = links.scripts
    assert 'url: "/openapi.json"' in script
    assert "validatorUrl: null" in script


def test_every_asset_the_page_loads_is_served_with_its_content_type(client: TestClient) -> None:
    links = page_links(client.get("/docs").text)
    for url in links.urls:
        response = client.get(url)
        assert response.status_code == 200, url
        expected = CONTENT_TYPES[Path(url).suffix]
        assert response.headers["content-type"].split(";")[0] == expected, url
        assert len(response.content) > 1000, url
    bundle = client.get(next(u for u in links.urls if u.endswith(".js"))).text
    assert "SwaggerUIBundle" in bundle


def test_the_bundle_is_swagger_ui_5_which_renders_openapi_3_1(client: TestClient) -> None:
    # Swagger UI 4 refuses any `openapi: 3.1.x` document ("Unable to render this definition").
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    major = int(re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle).group(1))  # type: ignore[union-attr]
    assert major >= 5
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")


def test_behind_a_path_prefix_the_page_uses_the_prefix(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings("popo", tmp_path))
    try:
        with TestClient(build_app(runtime=runtime), root_path="/ledger") as c:
            links = page_links(c.get("/docs").text)
    finally:
        runtime.close()
    assert links.urls and all(u.startswith("/ledger/docs/assets/") for u in links.urls)
    assert 'url: "/ledger/openapi.json"' in links.scripts[0]
