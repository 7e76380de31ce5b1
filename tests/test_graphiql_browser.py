"""GraphiQL, as a person uses it: headless Chromium opens /graphql on a live server, the editor shows the query
from the address, a click on the run button sends it, and the result pane shows the answer — with every
script and style served by the app itself (no CDN), and no request leaving the loopback address.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: NUL-separated JSON on
file descriptors 3 and 4), so no port is opened and no client library is needed. ``make browser`` installs
Debian's chromium; without it the browser test skips, except under CI, where it fails.

The asset tests need no browser: the page points at /static/graphiql/, each file there is served and matches
the page's Subresource Integrity hash (so the vendored copies are exactly the published ones).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import select
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from starlette.applications import Starlette

from schema.graphiql import ASSETS, PREFIX, graphiql_html
from server import create_app
from settings import Settings
from tests.conftest import Api
from tests.live_server import serving

CHROMIUM = Path("/usr/bin/chromium")
QUERY = "query Probe { __typename regions(first: 2) { totalCount } }"
ASSET = re.compile(r'(?:src|href)="(/static/graphiql/[^"]+)"\s+integrity="(sha384-[^"]+)"')


def assets() -> list[tuple[str, str]]:
    return ASSET.findall(graphiql_html())


# --- without a browser ------------------------------------------------------------------------------------------


async def test_the_page_loads_its_assets_from_the_app_and_they_match_their_integrity_hashes(api: Api) -> None:
    page = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "unpkg.com" not in page.text and "jsdelivr" not in page.text
    found = assets()
    assert len(found) == 7 and all(path in page.text for path, _ in found)
    for path, integrity in found:
        served = await api.client.get(path)
        assert served.status_code == 200, path
        digest = base64.b64encode(hashlib.sha384(served.content).digest()).decode()
        assert integrity == f"sha384-{digest}", f"{path} is not the published file"
        assert (ASSETS / path.removeprefix(f"{PREFIX}/")).read_bytes() == served.content


async def test_no_assets_without_graphiql(settings: Settings, app: Starlette) -> None:
    quiet = create_app(dataclasses.replace(settings, serve_graphiql=False), migrate=False)
    assert PREFIX not in {getattr(route, "path", "") for route in quiet.routes}
    assert PREFIX in {getattr(route, "path", "") for route in app.routes}


# --- in Chromium -------------------------------------------------------------------------------------------------


class DevTools:
    """A minimal DevTools-protocol client over Chromium's pipe: commands, one page session, events kept."""

    def __init__(self, profile: Path) -> None:
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()

        def as_fds_3_and_4() -> None:  # in the child, before exec: the pipe ends become fds 3 and 4
            high_in = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.process = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # nothing but loopback resolves
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=as_fds_3_and_4,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._next_id, self._buffer = 0, b""
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def close(self) -> None:
        for fd in (self._to_browser, self._from_browser):
            os.close(fd)
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def send(self, method: str, timeout: float = 20, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            command["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(answer["exceptionDetails"])
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"never true: {expression}")

    def requested(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def exceptions(self) -> list[Any]:
        return [e["params"] for e in self.events if e.get("method") == "Runtime.exceptionThrown"]


EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror')"
RESULT = "document.querySelector('.graphiql-response .CodeMirror')"


def run_graphiql(url: str, profile: Path, screenshot: Path) -> tuple[str, str, list[str], list[Any]]:
    """Open GraphiQL with the query in the address, run it with the button; (editor text, result text,
    requested URLs, uncaught exceptions)."""
    browser = DevTools(profile)
    try:
        browser.open(f"{url}/graphql?q={quote(QUERY)}")
        editor = browser.wait_for(f"{EDITOR} && {EDITOR}.CodeMirror.getValue()")
        browser.evaluate("document.querySelector('.graphiql-execute-button').click()")
        result = browser.wait_for(
            f"{RESULT} && {RESULT}.CodeMirror.getValue().includes('__typename') && {RESULT}.CodeMirror.getValue()"
        )
        shot = browser.send("Page.captureScreenshot", format="png")["data"]
        screenshot.write_bytes(base64.b64decode(shot))
        return editor, result, browser.requested(), browser.exceptions()
    finally:
        browser.close()


async def test_graphiql_runs_a_query_in_chromium(app: Starlette, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        reason = "Chromium is not installed (/usr/bin/chromium): `make browser` installs Debian's package"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    async with serving(app) as url:
        editor, result, requested, exceptions = await asyncio.to_thread(
            run_graphiql, url, tmp_path / "profile", tmp_path / "graphiql.png"
        )
    assert editor == QUERY
    answer = json.loads(result)
    assert answer["data"]["__typename"] == "Query"
    assert answer["data"]["regions"]["totalCount"] > 0
    hosts = {urlsplit(u).hostname for u in requested if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, requested
    assert any(u.endswith("/graphiql.min.js") for u in requested)
    assert not exceptions, exceptions
    assert (tmp_path / "graphiql.png").stat().st_size > 10_000  # a picture to look at when it fails
