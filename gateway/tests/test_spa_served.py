"""The gateway serves the built portal under /app/: files as built, client routes get
index.html, the sign-in configuration names the configured issuer."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from kepu_gateway import spa
from kepu_gateway.settings import GatewaySettings


def _client(dist: Path) -> TestClient:
    app = FastAPI()
    app.state.settings = GatewaySettings(OIDC_ISSUER="https://kepu.example.cn/auth/realms/kepu/")
    spa.install(app, dist=dist)
    return TestClient(app)


def _build(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<title>科普云服务平台</title>", encoding="utf-8")
    (dist / "assets" / "index-abc.js").write_text("console.log(1)", encoding="utf-8")
    (dist / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not served", encoding="utf-8")
    return dist


def test_a_client_route_is_answered_with_the_app(tmp_path: Path) -> None:
    c = _client(_build(tmp_path))
    for path in ("/app/", "/app/talents", "/app/talents/123", "/app/callback?code=x&state=y"):
        r = c.get(path)
        assert r.status_code == 200, path
        assert "科普云服务平台" in r.text
        assert r.headers["cache-control"] == "no-cache"
    assert c.get("/app", follow_redirects=False).headers["location"] == "/app/"
    # The site's root is the portal too (the server-rendered pages that lived there are gone).
    root = c.get("/", follow_redirects=False)
    assert root.status_code == 308 and root.headers["location"] == "/app/"


def test_built_files_are_served_and_hashed_assets_cached(tmp_path: Path) -> None:
    c = _client(_build(tmp_path))
    r = c.get("/app/assets/index-abc.js")
    assert r.status_code == 200 and r.text == "console.log(1)"
    assert "immutable" in r.headers["cache-control"]
    zipped = c.get("/app/assets/index-abc.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.text == "console.log(1)"
    assert c.get("/app/favicon.svg").status_code == 200
    # A missing asset is a 404, not the app (a stale tab must not run HTML as a script).
    assert c.get("/app/assets/gone.js").status_code == 404
    assert "not served" not in c.get("/app/../secret.txt").text
    assert "not served" not in c.get("/app/%2e%2e/secret.txt").text


def test_the_app_signs_in_at_the_configured_issuer(tmp_path: Path) -> None:
    r = _client(_build(tmp_path)).get("/app/config.json")
    assert r.json() == {
        "issuer": "https://kepu.example.cn/auth/realms/kepu",
        "client_id": "kepu-portal",
    }
    assert r.headers["cache-control"] == "no-store"


def test_an_unbuilt_portal_says_how_to_build_it(tmp_path: Path) -> None:
    r = _client(tmp_path / "missing").get("/app/")
    assert r.status_code == 503
    assert "make run" in r.text and "Node.js" in r.text
