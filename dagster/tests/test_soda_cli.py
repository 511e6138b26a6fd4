"""The guide's `soda scan` commands, run as it writes them from dagster/ once the gate
wrote its snapshot: with configuration.yaml, which serves every environment through
${LAKEHOUSE_ENVIRONMENT}, and with each environment's own configuration.<env>.yaml."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

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


# Variables a shell may export when it runs `soda scan` (tables on s3://): none, or keys.
EXPORTS = (
    {},
    {
        "AWS_ACCESS_KEY_ID": "zzkey",
        "AWS_SECRET_ACCESS_KEY": "zzsecret",
        "S3_ENDPOINT_URL": "http://127.0.0.1:1",
        "S3_PATH_STYLE": "true",
    },
)


def rendered(path: Path, variables: dict[str, str]) -> object:
    """The data source ``path`` gives Soda with ``variables`` exported: Soda Core v3
    renders configuration files as Jinja templates with ${VAR} (soda/common/jinja.py)."""
    environment = SandboxedEnvironment(variable_start_string="${", variable_end_string="}")
    text = environment.from_string(path.read_text()).render(variables)
    return (yaml.safe_load(text) or {}).get("data_source lakehouse")


def flattened(source: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in source.items():
        if isinstance(value, dict):
            out.update(flattened(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _line(path: Path, key: str) -> int:
    leaf = key.rsplit(".", 1)[-1] + ":"
    lines = path.read_text().split("\n")
    return next((i for i, t in enumerate(lines, 1) if t.strip().startswith(leaf)), 0)


def configuration_problems(path: Path, environment: str, project_dir: Path) -> list[str]:
    """Why ``path`` is not ``environment``'s data source: configuration.yaml with
    LAKEHOUSE_ENVIRONMENT written out, for an environment that exists, whatever else the
    shell exports."""
    problems = []
    env_file = project_dir / f".env.{environment}"
    if not env_file.is_file():
        problems.append(
            f"{path}: there is no environment {environment} ({env_file} does not exist): "
            "name the file configuration.<env>.yaml after an environment, or remove it"
        )
    for exported in EXPORTS:
        source = rendered(path, exported)
        if not isinstance(source, dict):
            return [*problems, f"{path}: no `data_source lakehouse:` mapping (copy {NEUTRAL.name})"]
        got = flattened(source)
        want = flattened(rendered(NEUTRAL, {**exported, "LAKEHOUSE_ENVIRONMENT": environment}))
        assert want["path"] == default_path(Path(), environment).as_posix()
        for key in sorted(set(got) | set(want)):
            if got.get(key) == want.get(key):
                continue
            value = str(got.get(key))
            other = Path(value).parts[1] if value.startswith(".soda/") else ""
            if other and (project_dir / f".env.{other}").is_file():
                problem = (
                    f"{path}:{_line(path, key)}: {key} reads {other}'s snapshot, not "
                    f"{environment}'s: set `{key.rsplit('.', 1)[-1]}: {want.get(key)}`"
                )
            else:
                problem = (
                    f"{path}:{_line(path, key)}: {key} is {got.get(key)!r}; {NEUTRAL.name} "
                    f"gives {want.get(key)!r} for {environment}"
                    + (" with the S3 keys exported" if exported else "")
                )
            if problem not in problems:
                problems.append(problem)
    return problems


@pytest.mark.parametrize("environment", sorted(per_environment()))
def test_an_environment_configuration_is_that_environment_s_data_source(environment):
    problems = configuration_problems(per_environment()[environment], environment, PROJECT_DIR)
    assert not problems, "\n".join(problems)


def test_a_copied_configuration_left_unedited_names_the_lines_to_change(tmp_path):
    source, path = next(iter(per_environment().items()))
    copy = tmp_path / "configuration.zzfixture.yaml"
    copy.write_text(path.read_text())
    (tmp_path / ".env.zzfixture").touch()
    (tmp_path / f".env.{source}").touch()
    lines = copy.read_text().split("\n")
    path_line = lines.index(f"  path: .soda/{source}/lakehouse.duckdb") + 1
    ext_line = lines.index(f"    extension_directory: .soda/{source}/duckdb_extensions") + 1
    assert configuration_problems(copy, "zzfixture", tmp_path) == [
        f"{copy}:{ext_line}: configuration.extension_directory reads {source}'s snapshot, "
        "not zzfixture's: set `extension_directory: .soda/zzfixture/duckdb_extensions`",
        f"{copy}:{path_line}: path reads {source}'s snapshot, not zzfixture's: "
        "set `path: .soda/zzfixture/lakehouse.duckdb`",
    ]
    (tmp_path / ".env.zzfixture").unlink()
    assert (
        "there is no environment zzfixture"
        in configuration_problems(copy, "zzfixture", tmp_path)[0]
    )


def test_a_configuration_that_drops_the_s3_keys_is_refused(tmp_path):
    """Only with the keys exported does the data source differ: both renderings count."""
    environment, path = next(iter(per_environment().items()))
    (tmp_path / f".env.{environment}").touch()
    copy = tmp_path / path.name
    copy.write_text(path.read_text().replace("s3_url_style", "s3_url_compatibility_mode"))
    problems = configuration_problems(copy, environment, tmp_path)
    assert len(problems) == 2 and all("with the S3 keys exported" in p for p in problems)


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
