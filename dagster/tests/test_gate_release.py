"""A report names the release it judged, so promotion can tell which code passed."""

from __future__ import annotations

from tests.conftest import lake_env
from tests.test_gate import RELEASE, RELEASE_ENV, run_gate


def test_the_report_names_the_release_the_pipeline_passes(lake, tmp_path, soda_python):
    code, report, markdown = run_gate(soda_python, lake["env"], tmp_path, process=RELEASE_ENV)
    assert (code, report["outcome"]) == (0, "pass")
    assert report["release"] == RELEASE
    assert RELEASE["commit"] in markdown


def test_flags_override_the_release_variables(lake, tmp_path, soda_python):
    other = "0" * 40
    code, report, _ = run_gate(
        soda_python, lake["env"], tmp_path, "--commit", other, process=RELEASE_ENV
    )
    assert code == 0
    assert report["release"] == {**RELEASE, "commit": other}


def test_a_release_image_not_pinned_by_digest_is_an_error_report(tmp_path, soda_python):
    """A tag names no fixed image: a pass for it would prove nothing about the release."""
    env = lake_env(tmp_path / "lake")
    tagged = {**RELEASE_ENV, "LAKEHOUSE_RUNTIME_IMAGE": "registry.example/lakehouse:latest"}
    code, report, _ = run_gate(soda_python, env, tmp_path, process=tagged)
    assert (code, report["outcome"]) == (3, "error")
    message = report["errors"][0]
    assert "LAKEHOUSE_RUNTIME_IMAGE" in message and "pinned by digest" in message


def test_an_abbreviated_commit_is_an_error_report(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake")
    code, report, _ = run_gate(soda_python, env, tmp_path, "--commit", "3f5a0c9")
    assert code == 3
    assert "full commit hash" in report["errors"][0]


def test_an_error_report_still_names_the_release(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake", LAKEHOUSE_ACCESS_LEVEL="root")
    code, report, _ = run_gate(soda_python, env, tmp_path, process=RELEASE_ENV)
    assert (code, report["outcome"]) == (3, "error")
    assert report["release"] == RELEASE
