"""A finished build of the hand-made collection, shared by the tests of what comes after a build."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from clirdata.cli import cli
from tests.sources.test_erudit import write_inputs


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """OUT of `clirdata build erudit` over the hand-made articles (one per test module: tests may add files)."""
    base = tmp_path_factory.mktemp("finished")
    out = base / "out"
    built = CliRunner().invoke(cli, ["build", "erudit", str(write_inputs(base / "in", with_bad=False)),
                                     "--out", str(out)], obj={"beam_args": []})
    assert built.exit_code == 0, built.output
    return out
