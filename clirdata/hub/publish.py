"""Publishing a finished build to the Hugging Face Hub as a dataset repository.

What goes up is exactly the card, the manifest and the data files the manifest lists (never
clirdata's private `.clirdata/` folder, never a user's other files), and only from a build that
finished and balanced. The token comes from the environment (`HF_TOKEN`) or the user's login, and is
never printed or logged: only huggingface_hub sees it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from clirdata.hub.card import config_splits, mteb_configs
from clirdata.readers.splits import read_manifest


class NotPublishable(ValueError):
    """The build in OUT cannot be published as it is: one line that says why."""


@dataclass(frozen=True)
class Plan:
    """The files to upload (relative paths, sizes in bytes) and the configs the card declares."""

    files: tuple[tuple[str, int], ...]
    configs: tuple[str, ...]

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)


def publish_plan(out_dir: str) -> Plan:
    """What `publish` would upload from OUT; NotPublishable when the build did not finish, is unbalanced,
    or misses a file its manifest lists."""
    try:
        manifest = read_manifest(out_dir)
    except FileNotFoundError as error:
        raise NotPublishable(f"{error}: build OUT first, or rerun the build that did not finish") from error
    unbalanced = [stage["name"] for stage in manifest["stages"] if not stage.get("balanced", True)]
    if unbalanced:
        raise NotPublishable(f"the build's stages {', '.join(unbalanced)} do not balance (in != out + rejected): "
                             f"rerun the build before publishing it")
    if not os.path.isfile(os.path.join(out_dir, "README.md")):
        raise NotPublishable(f"{os.path.join(out_dir, 'README.md')} not found: rerun the build to write its card")
    relpaths = ["README.md", "manifest.json", *sorted(manifest["files"])]
    if "baselines" in manifest:  # `clirdata eval` ran: its figures go with the card that quotes them
        relpaths.insert(2, "eval.json")
    files = []
    for relpath in relpaths:
        path = Path(out_dir, relpath)
        if not path.is_file():
            raise NotPublishable(f"{path} is listed in manifest.json but not found: rerun the build")
        files.append((relpath, path.stat().st_size))
    configs = config_splits(manifest["files"])
    return Plan(tuple(files), (*configs, *mteb_configs(configs)))


def publish(out_dir: str, repo_id: str, plan: Plan, *, private: bool = False, revision: str | None = None,
            endpoint: str | None = None) -> str:
    """Create the dataset repository (if needed) and the branch `revision` (if given), then upload the
    plan's files in one commit; returns the commit's URL. Errors are huggingface_hub's (HfHubHTTPError...)."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint)  # the token: HF_TOKEN or the login, read by huggingface_hub itself
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if revision:
        api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
    commit = api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=out_dir, revision=revision,
                               allow_patterns=[relpath for relpath, _ in plan.files],
                               commit_message=f"clirdata: {len(plan.files)} files")
    return str(commit.commit_url)
