"""Shared test fixtures: paths to real fixtures and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import tempfile
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings

# Fuzzing: a bounded, reproducible run in CI; `CLIRDATA_HYPOTHESIS_PROFILE=fuzz` for a long random one.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("CLIRDATA_HYPOTHESIS_PROFILE", "ci"))

# `datasets` caches what it loads under a key made of the folder's name, not its content: two test builds in
# folders both named `out` (tests running side by side, or an earlier session) could read each other's rows.
# Each test session gets its own cache, set before any test module imports `datasets`.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="clirdata-tests-hf-")

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"


def shared_fixture(relative: str) -> Path:
    """A file under ../shared/fixtures/real, or a clean skip when ../shared is absent."""
    path = SHARED_FIXTURES / relative
    if not path.exists():
        pytest.skip(f"real fixture not available: {path}")
    return path


@dataclass
class Reply:
    """One canned HTTP answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1 that answers from canned replies.

    `routes[path_and_query]` is a list of replies served in turn (the last one repeats);
    a path alone (no query) matches any query when no exact entry exists. Every request
    is logged in `requests` as the raw path with its query.
    """

    routes: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base_url: str = ""
    _served: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def reply_for(self, raw_path: str) -> Reply:
        key = raw_path if raw_path in self.routes else urlsplit(raw_path).path
        replies = self.routes.get(key)
        if not replies:
            return Reply(404, b"not found")
        index = min(self._served[key], len(replies) - 1)
        self._served[key] += 1
        return replies[index]


@pytest.fixture
def local_server():
    server_state = LocalServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            server_state.requests.append(self.path)
            reply = server_state.reply_for(self.path)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server_state
    httpd.shutdown()
    httpd.server_close()
