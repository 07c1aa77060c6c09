"""The docs pages, in a real browser, on a machine without internet access: Swagger UI lists
every operation and its "Try it out" answers, ReDoc renders, and no request leaves the server.

Debian's Chromium, driven by Playwright (which never downloads a browser here); without it the
test skips with one line (.ci/run installs it). Screenshots go to reports/.
"""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import ROOT, require_tool, start_server, stop_server

REPORTS = ROOT / "reports"
HEROES = [
    {"name": "Deadpond", "secret_name": "Dive Wilson"},
    {"name": "Rusty-Man", "secret_name": "Tommy Sharp"},
]
TIMEOUT_MS = 30_000


@pytest.fixture
def docs_server(tmp_path: Path) -> Iterator[str]:
    process, base = start_server(f"sqlite:///{tmp_path / 'heroes.db'}", log=tmp_path / "server.log")
    try:
        for hero in HEROES:  # from loopback: accepted in protected mode
            assert httpx.post(f"{base}/heroes/", json=hero).status_code == 200
        yield base
    finally:
        stop_server(process)


def _operations() -> set[tuple[str, str]]:
    schema = json.loads((ROOT / "openapi.json").read_text())
    return {(method.upper(), path) for path, item in schema["paths"].items() for method in item}


def _summaries() -> set[str]:
    schema = json.loads((ROOT / "openapi.json").read_text())
    return {op["summary"] for item in schema["paths"].values() for op in item.values()}


@pytest.mark.xdist_group("browser")
def test_docs_pages_render_offline_and_try_it_out_works(docs_server: str) -> None:
    require_tool("chromium", "The docs pages' browser test")
    from playwright.sync_api import Request, Route, sync_playwright

    here = urlsplit(docs_server).netloc
    elsewhere: list[str] = []

    def only_this_server(route: Route, request: Request) -> None:
        # Nothing may leave the machine: a request to any other host is noted and refused.
        if urlsplit(request.url).netloc == here or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            elsewhere.append(request.url)
            route.abort()

    REPORTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            # As root (containers, CI), Chromium's sandbox cannot start.
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_this_server)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            page.goto(f"{docs_server}/docs")
            page.wait_for_selector(".opblock", timeout=TIMEOUT_MS)
            listed = page.eval_on_selector_all(
                ".opblock",
                """blocks => blocks.map(b => [
                    b.querySelector('.opblock-summary-method').textContent.trim(),
                    b.querySelector('.opblock-summary-path').getAttribute('data-path')])""",
            )
            assert {tuple(pair) for pair in listed} == _operations()
            page.screenshot(path=str(REPORTS / "docs-swagger-ui.png"))

            read_heroes = page.locator("#operations-heroes-read_heroes")
            read_heroes.locator(".opblock-summary").first.click()
            read_heroes.locator(".try-out__btn").click()
            read_heroes.locator(".execute").click()
            status = read_heroes.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=TIMEOUT_MS)
            assert status.inner_text().strip() == "200"
            body = read_heroes.locator(
                ".live-responses-table tbody .response-col_description .microlight"
            ).first.inner_text()
            assert [hero["name"] for hero in json.loads(body)] == [h["name"] for h in HEROES]
            read_heroes.screenshot(path=str(REPORTS / "docs-try-it-out.png"))

            page.goto(f"{docs_server}/redoc")
            page.locator("h2", has_text="Read Heroes").first.wait_for(timeout=TIMEOUT_MS)
            assert "Heroes API" in page.locator("h1").first.inner_text()
            headings = {text.strip() for text in page.locator("h2").all_inner_texts()}
            assert _summaries() <= headings
            page.screenshot(path=str(REPORTS / "docs-redoc.png"))
            assert errors == []
        finally:
            browser.close()
    assert elsewhere == [], f"the docs pages asked other hosts for {elsewhere}"
