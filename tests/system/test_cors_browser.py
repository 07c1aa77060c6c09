"""A browser app on another origin, using the contract's own headers: in a real browser
(Debian's Chromium, driven by Playwright), a page served from another port (another origin) does
a conditional update with If-Match (and gets 412 for a stale one), sends a create twice with one
Idempotency-Key, follows Link to the next page and reads the count from Content-Range. CORS lets
exactly what the contract defines through (api/openapi.py's cors_headers)."""

import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_key, require_tool, start_server, stop_server

PAGE = b"<!doctype html><title>A heroes app</title><p>Another origin.</p>"

# What the page does, with fetch(): every header below is one the contract defines.
SCRIPT = """
async ({api, key}) => {
  const auth = {"Authorization": `Bearer ${key}`, "Content-Type": "application/json"};
  const seen = {};
  const body = JSON.stringify({name: "Browser Hero", secret_name: "Tab"});
  const once = {...auth, "Idempotency-Key": "browser-key-1"};
  const first = await fetch(`${api}/heroes/`, {method: "POST", headers: once, body});
  const again = await fetch(`${api}/heroes/`, {method: "POST", headers: once, body});
  const hero = await first.json();
  seen.created = [first.status, again.status, again.headers.get("Idempotent-Replayed"),
                  (await again.json()).id === hero.id];
  for (const name of ["Second", "Third"]) {
    await fetch(`${api}/heroes/`, {method: "POST", headers: auth,
      body: JSON.stringify({name, secret_name: "s"})});
  }
  const page = await fetch(`${api}/heroes/?limit=2`, {headers: {"Prefer": "count=exact"}});
  seen.count = page.headers.get("Content-Range");
  const link = page.headers.get("Link");
  seen.link = link;
  const next = link.match(/<([^>]*)>/)[1];
  const second = await fetch(new URL(next, api));
  seen.next = (await second.json()).map(h => h.name);
  const read = await fetch(`${api}/heroes/${hero.id}`);
  const etag = read.headers.get("ETag");
  seen.etag = etag;
  const changed = await fetch(`${api}/heroes/${hero.id}`, {method: "PATCH",
    headers: {...auth, "If-Match": etag}, body: JSON.stringify({age: 30})});
  seen.update = [changed.status, changed.headers.get("ETag")];
  const stale = await fetch(`${api}/heroes/${hero.id}`, {method: "PATCH",
    headers: {...auth, "If-Match": etag}, body: JSON.stringify({age: 31})});
  seen.stale = stale.status;
  const unchanged = await fetch(`${api}/heroes/${hero.id}`,
    {headers: {"If-None-Match": changed.headers.get("ETag")}});
  seen.notModified = unchanged.status;
  seen.requestId = !!changed.headers.get("X-Request-ID");
  return seen;
}
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def other_origin() -> Iterator[str]:
    """A page on another origin (another port of this machine)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.xdist_group("browser")
def test_a_page_on_another_origin_uses_the_contracts_headers(
    tmp_path: Path, other_origin: str
) -> None:
    require_tool("chromium", "The CORS browser test")
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path / 'heroes.db'}"
    key = make_key(url)
    env = {"HEROES_CORS_ORIGINS": json.dumps([other_origin])}
    process, api = start_server(url, env=env, log=tmp_path / "server.log")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"),
                args=["--no-sandbox"] if os.geteuid() == 0 else [],
            )
            try:
                page = browser.new_page()
                # Chromium logs each non-2xx answer (the 412, the 304) too: a refused
                # request says CORS.
                blocked: list[str] = []
                page.on(
                    "console",
                    lambda message: (
                        blocked.append(message.text)
                        if "CORS" in message.text or "Access-Control" in message.text
                        else None
                    ),
                )
                page.goto(other_origin)
                seen = page.evaluate(SCRIPT, {"api": api, "key": key})
            finally:
                browser.close()
        # What the server saw: preflights answered, none refused.
        preflight = httpx.options(
            f"{api}/heroes/1",
            headers={
                "Origin": other_origin,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "if-match, idempotency-key, prefer",
            },
        )
    finally:
        stop_server(process)
    assert preflight.status_code == 200, preflight.text
    assert seen["created"] == [200, 200, "true", True]
    assert seen["count"] == "0-1/3"
    assert seen["link"].endswith('; rel="next"')
    assert seen["next"] == ["Third"]
    assert seen["etag"].startswith('"')
    assert seen["update"][0] == 200
    assert seen["update"][1] != seen["etag"]
    assert seen["stale"] == 412
    assert seen["notModified"] == 304
    assert seen["requestId"] is True
    assert blocked == [], blocked
