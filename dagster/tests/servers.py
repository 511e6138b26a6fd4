"""Real servers the tests start on 127.0.0.1 and stop: moto's S3 and Iceberg's REST catalog.

Each server runs in its own process group; stopping it ends the whole group and checks
that nothing of it is left. When LAKEHOUSE_TEST_SERVER_PIDS names a file (scripts/test.sh
sets it), every started server's pid is appended to it so the script can check after
pytest that none outlived the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import botocore.session
from botocore.client import BaseClient

PROJECT_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = PROJECT_DIR.parent
ICEBERG_REST_DIR = REPO_DIR / "tests" / "iceberg-rest"
INSTALL_SCRIPT = PROJECT_DIR / "scripts" / "iceberg-rest.sh"
SERVER_CLASS = "org.apache.iceberg.rest.RESTCatalogServer"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("LAKEHOUSE_REQUIRE_HOST_TOOLS") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail when CI / LAKEHOUSE_REQUIRE_HOST_TOOLS=1 says nothing may be skipped."""
    import pytest  # here: the benchmarks start these servers without pytest

    if _required():
        pytest.fail(f"{reason} (CI or LAKEHOUSE_REQUIRE_HOST_TOOLS=1: not skipped)")
    pytest.skip(reason)


@dataclass
class Server:
    """A server process started by :func:`start`."""

    name: str
    process: subprocess.Popen
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """End the whole process group; fail if any process of it is still there."""
        group = self.process.pid  # start_new_session: the group id is the leader's pid
        _signal_group(group, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        _signal_group(group, signal.SIGKILL)  # the leader if it hung, any child it left
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _group_alive(group):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: processes of group {group} still run")
            time.sleep(0.1)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, sig)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def start(
    name: str,
    argv: list[str],
    log: Path,
    *,
    env: dict[str, str],
    ready: Callable[[], bool],
    timeout: float = 90,
) -> Server:
    """Start ``argv`` in its own process group and wait until ``ready()``."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = Server(name, process, log)
    if pid_file := os.environ.get("LAKEHOUSE_TEST_SERVER_PIDS"):
        with open(pid_file, "a", encoding="utf-8") as pids:
            pids.write(f"{process.pid} {Path(argv[0]).name[:15]}\n")  # ps's comm
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if ready():
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} not ready after {timeout:.0f}s:\n{server.log_tail()}")
        time.sleep(0.2)


def s3_client(endpoint: str) -> BaseClient:
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def start_moto(log_dir: Path) -> tuple[Server, str]:
    """moto's S3 server on a free 127.0.0.1 port; returns it and its endpoint.

    It understands only path-style requests (S3_IGNORE_SUBDOMAIN_BUCKETNAME): a client that
    addresses ``<bucket>.localhost`` virtual-hosted asks for a bucket named after the key's
    first segment and gets NoSuchBucket, so a wrong S3_PATH_STYLE fails the REST tests.
    (With an IP address as the endpoint, S3 clients fall back to path-style by themselves.)
    """
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = str(Path(sys.executable).with_name("moto_server"))

    server = start(
        "moto_server",
        [moto, "-H", "127.0.0.1", "-p", str(port)],
        log_dir / "moto.log",
        env={**os.environ, "S3_IGNORE_SUBDOMAIN_BUCKETNAME": "true"},
        ready=lambda: _answers(endpoint + "/"),
    )
    return server, endpoint


def _stamp() -> str:
    data = (ICEBERG_REST_DIR / "pom.xml").read_bytes() + INSTALL_SCRIPT.read_bytes()
    return hashlib.sha256(data).hexdigest()


def iceberg_rest_problem() -> str | None:
    """Why Apache's REST catalog server cannot start here; None when it can."""
    if shutil.which("java") is None:
        return "java is not on PATH: install a JDK 17 to run the REST catalog tests"
    stamp = ICEBERG_REST_DIR / "lib" / ".stamp"
    if not stamp.exists() or stamp.read_text().strip() != _stamp():
        return (
            f"{ICEBERG_REST_DIR}/lib is missing or older than pom.xml: run "
            "dagster/scripts/iceberg-rest.sh (scripts/test.sh does; needs java and mvn)"
        )
    return None


def iceberg_rest_classpath() -> str:
    """The resolved server jars, or skip/fail saying how to get them."""
    if not (ICEBERG_REST_DIR / "pom.xml").exists():
        import pytest

        pytest.skip(f"{ICEBERG_REST_DIR}/pom.xml: the dagster project was copied alone")
    if problem := iceberg_rest_problem():
        unavailable(problem)
    return str(ICEBERG_REST_DIR / "lib" / "*")


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status == 200


def start_iceberg_rest(
    work: Path,
    *,
    warehouse: str,
    s3_endpoint: str | None = None,
    path_style: bool = True,
    classpath: str | None = None,
) -> tuple[Server, str]:
    """Apache Iceberg's REST catalog server: JDBC (sqlite) catalog, S3FileIO on
    ``s3_endpoint``, or without one Hadoop's FileIO on a local ``file://`` warehouse.

    It listens on every interface (no option to bind one): only 127.0.0.1 is ever used.
    """
    classpath = classpath or iceberg_rest_classpath()
    port = free_port()
    keep = ("PATH", "JAVA_HOME", "LANG", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        CATALOG_REST_PORT=str(port),
        CATALOG_URI=f"jdbc:sqlite:{work / 'catalog.db'}",
        CATALOG_WAREHOUSE=warehouse,
    )
    if s3_endpoint is None:
        env.update(CATALOG_IO__IMPL="org.apache.iceberg.hadoop.HadoopFileIO")
    else:
        env.update(CREDENTIALS)
        env.update(
            AWS_REGION=REGION,
            CATALOG_IO__IMPL="org.apache.iceberg.aws.s3.S3FileIO",
            CATALOG_S3_ENDPOINT=s3_endpoint,
            CATALOG_S3_PATH__STYLE__ACCESS="true" if path_style else "false",
            CATALOG_CLIENT_REGION=REGION,
        )
    argv = ["java", "-Xmx512m", "-XX:+UseSerialGC", "-cp", classpath, SERVER_CLASS]
    uri = f"http://127.0.0.1:{port}"
    server = start(
        "iceberg-rest",
        argv,
        work / "iceberg-rest.log",
        env=env,
        ready=lambda: _answers(uri + "/v1/config"),
    )
    return server, uri
