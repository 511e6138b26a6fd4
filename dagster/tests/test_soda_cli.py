"""The guide's `soda scan` commands, run as it writes them from dagster/ once the gate
wrote its snapshot: with configuration.yaml, which serves every environment through
${LAKEHOUSE_ENVIRONMENT}, and with each environment's own configuration.<env>.yaml."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from lakehouse.quality.snapshot import default_path
from tests.conftest import PROJECT_DIR, process_env, write_env_file

QUALITY = PROJECT_DIR / "lakehouse" / "quality"
NEUTRAL = QUALITY / "configuration.yaml"
CHECKS = "lakehouse/quality/soda_checks/event_stream_checks.yaml"


def per_environment(quality: Path = QUALITY) -> dict[str, Path]:
    """The configuration.<env>.yaml files, by environment."""
    return {
        p.name.removeprefix("configuration.").removesuffix(".yaml"): p
        for p in sorted(quality.glob("configuration.*.yaml"))
    }


def configuration_problems(path: Path, environment: str, project_dir: Path) -> list[str]:
    """Why ``path`` is not ``environment``'s data source: configuration.yaml with
    LAKEHOUSE_ENVIRONMENT written out, for an environment that exists."""
    problems = []
    env_file = project_dir / f".env.{environment}"
    if not env_file.is_file():
        problems.append(
            f"{path}: there is no environment {environment} ({env_file} does not exist): "
            "name the file configuration.<env>.yaml after an environment, or remove it"
        )
    neutral = yaml.safe_load(NEUTRAL.read_text())["data_source lakehouse"]
    source = (yaml.safe_load(path.read_text()) or {}).get("data_source lakehouse")
    if not isinstance(source, dict):
        return [*problems, f"{path}: no `data_source lakehouse:` mapping (copy {NEUTRAL.name})"]
    want = default_path(Path(), environment).as_posix()
    if source.get("path") != want:
        lines = path.read_text().split("\n")
        line = next((i for i, t in enumerate(lines, 1) if t.strip().startswith("path:")), 0)
        got = str(source.get("path"))
        other = Path(got).parent.name
        whose = f"{other}'s snapshot" if (project_dir / f".env.{other}").is_file() else got
        problems.append(
            f"{path}:{line}: path reads {whose}, not {environment}'s: set `path: {want}`"
        )
    for key in sorted((set(neutral) | set(source)) - {"path"}):
        if source.get(key) != neutral.get(key):
            problems.append(
                f"{path}: {key} is {source.get(key)!r}; {NEUTRAL.name} says {neutral.get(key)!r}"
            )
    return problems


@pytest.mark.parametrize("environment", sorted(per_environment()))
def test_an_environment_configuration_is_that_environment_s_data_source(environment):
    problems = configuration_problems(per_environment()[environment], environment, PROJECT_DIR)
    assert not problems, "\n".join(problems)


def test_a_copied_configuration_left_unedited_names_the_line_to_change(tmp_path):
    source, path = next(iter(per_environment().items()))
    copy = tmp_path / "configuration.zzfixture.yaml"
    copy.write_text(path.read_text())
    (tmp_path / ".env.zzfixture").touch()
    (tmp_path / f".env.{source}").touch()
    line = copy.read_text().split("\n").index(f"  path: .soda/{source}/lakehouse.duckdb") + 1
    assert configuration_problems(copy, "zzfixture", tmp_path) == [
        f"{copy}:{line}: path reads {source}'s snapshot, not zzfixture's: "
        "set `path: .soda/zzfixture/lakehouse.duckdb`"
    ]
    (tmp_path / ".env.zzfixture").unlink()
    assert (
        "there is no environment zzfixture"
        in configuration_problems(copy, "zzfixture", tmp_path)[0]
    )


def guide_project(lake: dict, soda_python: str, tmp_path: Path, environment: str):
    """A project directory like dagster/ whose gate wrote ``environment``'s snapshot
    (`--materialize-only`); returns it and the scan's process environment, which
    exports no LAKEHOUSE_ENVIRONMENT."""
    project = tmp_path / "project"
    write_env_file(project, {**lake["env"], "LAKEHOUSE_ENVIRONMENT": environment})
    (project / "lakehouse").symlink_to(PROJECT_DIR / "lakehouse", target_is_directory=True)
    home = tmp_path / "home"
    (home / ".soda").mkdir(parents=True)
    (home / ".soda" / "config.yml").write_text("send_anonymous_usage_stats: false\n")
    run_env = process_env(HOME=str(home))
    gate = [soda_python, "-m", "lakehouse.quality.gate", "--env", environment]
    materialized = subprocess.run(
        [*gate, "--project-dir", str(project), "--materialize-only"],
        cwd=project,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert materialized.returncode == 0, materialized.stderr
    assert default_path(project, environment).is_file()
    return project, run_env


def soda_scan(soda_python: str, project: Path, configuration: str, env: dict[str, str]):
    soda = str(Path(soda_python).with_name("soda"))
    command = [soda, "scan", "-d", "lakehouse", "-c", configuration, CHECKS]
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_guide_command_with_the_configuration_of_every_environment(lake, soda_python, tmp_path):
    environment = lake["env"]["LAKEHOUSE_ENVIRONMENT"]
    project, run_env = guide_project(lake, soda_python, tmp_path, environment)
    config = "lakehouse/quality/configuration.yaml"
    scan = soda_scan(
        soda_python, project, config, {**run_env, "LAKEHOUSE_ENVIRONMENT": environment}
    )
    assert scan.returncode == 0, scan.stdout + scan.stderr
    assert "10/10 checks PASSED" in scan.stdout

    scan = soda_scan(soda_python, project, config, run_env)
    assert scan.returncode != 0
    assert "LAKEHOUSE_ENVIRONMENT-is-not-set" in scan.stdout + scan.stderr


@pytest.mark.parametrize("environment", sorted(per_environment()))
def test_the_guide_command_with_an_environment_s_own_configuration(
    lake, soda_python, tmp_path, environment
):
    """Only this environment's snapshot exists, so a file that reads another's fails."""
    project, run_env = guide_project(lake, soda_python, tmp_path, environment)
    config = f"lakehouse/quality/configuration.{environment}.yaml"
    scan = soda_scan(soda_python, project, config, run_env)
    assert scan.returncode == 0, scan.stdout + scan.stderr
    assert "10/10 checks PASSED" in scan.stdout
