"""`pip check`, except for the overrides a lock file was compiled with.

    <venv>/bin/python scripts/check_dependencies.py [requirements-soda.overrides]

Runs ``pip check`` in this interpreter and fails on every conflict it reports except
one where a declared requirement is overridden by a line of the overrides file and the
installed version is exactly the overriding pin (e.g. soda-core-duckdb's ``duckdb<1.1``
with ``duckdb==1.5.5`` installed). A missing dependency, any other conflict, or an
override whose pin is not what is installed fails. Standard library only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

# pip's wording (pip/_internal/commands/check.py), stable since pip 10.
CONFLICT = re.compile(
    r"(?P<dist>\S+) (?P<version>\S+) has requirement (?P<requirement>.+), "
    r"but you have (?P<name>\S+) (?P<installed>\S+)\.$"
)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_overrides(path: Path) -> dict[str, str]:
    """``name==version`` lines of an overrides file by normalized name."""
    pins: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise SystemExit(f"{path}:{lineno}: expected name==version, got {raw!r}")
        pins[_normalize(name.strip())] = version.strip()
    return pins


def unexpected(report: str, pins: dict[str, str]) -> list[str]:
    """The lines of ``pip check`` output no override explains."""
    left = []
    for line in report.splitlines():
        line = line.strip()
        if not line or line == "No broken requirements found.":
            continue
        match = CONFLICT.fullmatch(line)
        if match:
            name = _normalize(match["name"])
            if pins.get(name) == match["installed"]:
                continue
        left.append(line)
    return left


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path(__file__).parents[1] / "requirements-soda.overrides"
    pins = read_overrides(path)
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            print(f"{path}: {name}=={version} is overridden but not installed", file=sys.stderr)
            return 1
        if installed != version:
            print(f"{path}: {name} is pinned to {version} but {installed} is installed")
            return 1
    check = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    problems = unexpected(check.stdout + check.stderr, pins)
    if problems:
        print("dependency check failed (pip check, less the overrides):", file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        return 1
    overridden = ", ".join(f"{n}=={v}" for n, v in pins.items()) or "none"
    print(f"dependencies consistent (overrides: {overridden})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
