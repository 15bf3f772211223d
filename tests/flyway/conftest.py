"""The real Flyway, run through Maven (flyway/pom.xml), against the session's PostgreSQL.

Without ``mvn`` or ``java`` these tests skip, saying what to install; under CI (``$CI`` set)
a missing tool fails them instead, so CI cannot go green by testing nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from schemac.flyway import jdbc_url
from schemac.shadow import PostgresServer

REPO_ROOT = Path(__file__).resolve().parents[2]
FLYWAY_POM = REPO_ROOT / "flyway" / "pom.xml"
INSTALL_HINT = "install Maven and a JDK 17+ (Debian: apt-get install maven openjdk-17-jdk-headless)"
# The first run downloads Flyway into ~/.m2; a run that hangs (a lock wait) must not hang CI.
MAVEN_TIMEOUT_SECONDS = 300


class FlywayResult(NamedTuple):
    exit_code: int
    output: str


FlywayRunner = Callable[..., FlywayResult]


def _require_maven() -> None:
    missing = [tool for tool in ("mvn", "java") if shutil.which(tool) is None]
    if not missing:
        return
    message = f"{' and '.join(missing)} not found: {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Flyway interop tests: {message}")
    pytest.skip(message)


def _run_maven(arguments: list[str], cwd: Path) -> FlywayResult:
    # mvn is a shell script that starts java as a child: a timeout must end the whole group.
    with subprocess.Popen(
        arguments,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=MAVEN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            pytest.fail(
                f"Flyway did not finish in {MAVEN_TIMEOUT_SECONDS} s: {' '.join(arguments)}\n"
                f"{output}"
            )
    return FlywayResult(process.returncode, output)


@pytest.fixture(scope="session")
def flyway(tmp_path_factory: pytest.TempPathFactory) -> FlywayRunner:
    """Run ``flyway:<goal>`` on a folder of migrations: ``flyway(goal, locations, url, *options)``.

    ``url`` is a libpq URL (``pg_server.url(name)``) or a JDBC URL; ``options`` are extra
    Maven arguments such as ``-Dflyway.schemas=app``.  Returns ``(exit_code, output)``.
    """
    _require_maven()
    workdir = tmp_path_factory.mktemp("maven")

    def run(goal: str, locations: Path, url: str, *options: str) -> FlywayResult:
        arguments = [
            "mvn",
            "-B",  # batch mode: plain output, no colours
            "-ntp",
            "-f",
            str(FLYWAY_POM),
            f"flyway:{goal}",
            f"-Dflyway.locations=filesystem:{locations.resolve()}",
            "-Dflyway.cleanDisabled=true",
        ]
        if url.startswith("jdbc:"):
            arguments.append(f"-Dflyway.url={url}")
        else:
            jdbc, user, password = jdbc_url(url)
            arguments.append(f"-Dflyway.url={jdbc}")
            if user is not None:
                arguments.append(f"-Dflyway.user={user}")
            if password is not None:
                arguments.append(f"-Dflyway.password={password}")
        arguments.extend(options)
        return _run_maven(arguments, workdir)

    return run


@pytest.fixture
def flyway_db(pg_server: PostgresServer) -> Iterator[str]:
    """libpq URL of a fresh database for Flyway to migrate, dropped after the test."""
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)
