"""`clirdata publish`: the dry run, the refusals, the exact files uploaded, and a token that is never shown.

The upload runs against a small Hub on 127.0.0.1 (`HF_ENDPOINT`) that speaks the three calls
huggingface_hub makes for a dataset of small files: create the repository, ask how each file is to be
uploaded (we answer "regular": inline), and commit (an NDJSON body with each file base64-encoded).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

CANARY = "hf_CANARYtokenNEVERprinted0123456789"


@pytest.fixture(scope="module")
def finished(finished):
    """The shared build, with a user's own file beside it that must never be uploaded."""
    (finished / "notes.txt").write_text("the user's own file: never uploaded")
    return finished


def clirdata(*args: str, endpoint: str = "http://127.0.0.1:9") -> subprocess.CompletedProcess:
    """The CLI as a user runs it, with the canary token in the environment; stdout and stderr together."""
    env = {**os.environ, "HF_TOKEN": CANARY, "HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_TELEMETRY": "1"}
    return subprocess.run([sys.executable, "-m", "clirdata.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def test_dry_run_lists_every_file_with_its_size_and_the_configs(finished):
    result = clirdata("publish", str(finished), "--repo", "me/clir", "--dry-run")
    text = output_of(result)
    assert result.returncode == 0, text
    manifest = json.loads((finished / "manifest.json").read_text())
    for relpath in ["README.md", "manifest.json", *manifest["files"]]:
        assert relpath in text
        assert f"{(finished / relpath).stat().st_size:,}" in text
    assert "notes.txt" not in text and ".clirdata" not in text
    assert "eng-fra-qrels" in " ".join(text.split()) and "corpus" in text
    assert CANARY not in text


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_the_token_is_never_printed_even_when_the_upload_fails(finished, verbose):
    result = clirdata(*verbose, "publish", str(finished), "--repo", "me/clir")  # nothing listens on port 9
    text = output_of(result)
    assert result.returncode == 1
    assert CANARY not in text
    if not verbose:
        assert text.strip().splitlines()[-1].startswith("clirdata: ")


def test_an_unfinished_build_is_refused(finished, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    (copy / "manifest.json").unlink()
    result = clirdata("publish", str(copy), "--repo", "me/clir", "--dry-run")
    assert result.returncode == 2 and "manifest.json not found" in output_of(result)


def test_an_unbalanced_build_is_refused(finished, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["stages"][0]["out"] += 1
    manifest["stages"][0]["balanced"] = False
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = clirdata("publish", str(copy), "--repo", "me/clir", "--dry-run")
    assert result.returncode == 2 and "do not balance" in output_of(result)


def test_a_file_the_manifest_lists_must_be_there(finished, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    (copy / "qrels" / "en_fr.parquet").unlink()
    result = clirdata("publish", str(copy), "--repo", "me/clir", "--dry-run")
    assert result.returncode == 2 and "en_fr.parquet is listed in manifest.json but not found" in output_of(result)


@pytest.mark.parametrize("repo", ["noslash", "a/b/c", "me/has space"])
def test_a_repo_that_is_not_user_slash_name_is_a_usage_error(finished, repo):
    result = clirdata("publish", str(finished), "--repo", repo, "--dry-run")
    assert result.returncode == 2 and "--repo" in output_of(result)


@pytest.fixture
def local_hub():
    """A Hub on 127.0.0.1 that records the repositories created, the branches and the files committed."""
    state = {"created": [], "branches": [], "files": {}, "auth": set(), "commits": 0, "validated": []}

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, payload: dict, status: int = 200) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 (http.server's naming)
            state["auth"].add(self.headers.get("Authorization", ""))
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/api/validate-yaml":  # the Hub checks the card's YAML header before the commit
                content = json.loads(data)["content"]
                try:
                    header = yaml.safe_load(content.split("---")[1])
                    errors = [] if isinstance(header, dict) and header.get("configs") else [{"message": "no configs"}]
                except yaml.YAMLError as error:
                    errors = [{"message": str(error)}]
                state["validated"].append(content)
                return self._reply({"errors": errors, "warnings": []}, 400 if errors else 200)
            if self.path == "/api/repos/create":
                state["created"].append(json.loads(data))
                return self._reply({"url": f"{self.server_url}/datasets/me/clir", "name": "me/clir"})
            if "/preupload/" in self.path:
                files = json.loads(data)["files"]
                return self._reply({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                              for f in files]})
            if "/commit/" in self.path:
                for line in data.decode().splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        state["files"][item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                state["commits"] += 1
                return self._reply({"commitUrl": f"{self.server_url}/datasets/me/clir/commit/abc123",
                                    "commitOid": "abc123", "pullRequestUrl": None})
            if "/branch/" in self.path:
                state["branches"].append(self.path.rsplit("/", 1)[1])
                return self._reply({})
            return self._reply({"error": f"unexpected {self.path}"}, 404)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.server_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Handler.server_url, state
    httpd.shutdown()
    httpd.server_close()


def test_upload_sends_exactly_the_planned_files_with_the_token(finished, local_hub):
    endpoint, state = local_hub
    result = clirdata("publish", str(finished), "--repo", "me/clir", "--private", endpoint=endpoint)
    text = output_of(result)
    assert result.returncode == 0, text
    assert CANARY not in text and "abc123" in text
    manifest = json.loads((finished / "manifest.json").read_text())
    assert sorted(state["files"]) == sorted(["README.md", "manifest.json", *manifest["files"]])
    assert all(content == (finished / path).read_bytes() for path, content in state["files"].items())
    assert state["commits"] == 1
    assert state["validated"] == [(finished / "README.md").read_text()]  # the card's YAML header was valid
    assert state["created"][0]["name"] == "clir" and state["created"][0]["type"] == "dataset"
    assert state["created"][0]["visibility"] == "private"
    assert state["auth"] == {f"Bearer {CANARY}"}  # the token is used, only in the header


def test_revision_creates_the_branch_and_commits_there(finished, local_hub):
    endpoint, state = local_hub
    result = clirdata("publish", str(finished), "--repo", "me/clir", "--revision", "v1", endpoint=endpoint)
    assert result.returncode == 0, output_of(result)
    assert state["branches"] == ["v1"] and state["commits"] == 1
