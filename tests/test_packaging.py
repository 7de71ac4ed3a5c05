"""The wheel alone carries everything: code, py.typed, migrations and alembic.ini. This is the
container image's install path, reproduced without a container engine."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import asyncpg
import pytest

from crawler import __version__
from crawler.db import DatabaseUrl

HEAD_REVISION = sorted(
    p.name
    for p in (Path(__file__).resolve().parent.parent / "migrations" / "versions").glob("0*.py")
)[-1][:4]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding only the wheel (its dependencies are borrowed from this
    environment through a .pth file, which adds no project file: .pth files there are not run)."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(work),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("bedrock_inventory-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "crawler/py.typed",
        "crawler/alembic.ini",
        "crawler/migrations/env.py",
        "crawler/migrations/versions/0001_initial.py",
        "crawler/simulator/server.py",
    ):
        assert needed in names, needed
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    site = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_borrowed_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    return venv


def run(
    venv: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # Run from a directory without the checkout in it, so only the installed wheel can answer.
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        cwd=venv,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_installed_wheel_is_the_one_imported(installed: Path) -> None:
    where = run(installed, "python", "-c", "import crawler; print(crawler.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(installed))


def test_version_and_help_from_the_wheel(installed: Path) -> None:
    version = run(installed, "bedrock-inventory", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"bedrock-inventory {__version__}"
    helped = run(installed, "bedrock-inventory", "crawl", "--help")
    assert helped.returncode == 0 and "--no-migrate" in helped.stdout


async def test_migrate_from_the_wheel(installed: Path, empty_db: DatabaseUrl) -> None:
    result = run(installed, "bedrock-inventory", "migrate", "--database-url", empty_db.dsn)
    assert result.returncode == 0, result.stderr
    conn = await asyncpg.connect(empty_db.dsn)
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == HEAD_REVISION
        assert await conn.fetchval("SELECT count(*) FROM custom_models") == 0
    finally:
        await conn.close()


async def test_plain_alembic_with_the_shipped_ini(installed: Path, empty_db: DatabaseUrl) -> None:
    ini = run(
        installed,
        "python",
        "-c",
        "import crawler, pathlib; print(pathlib.Path(crawler.__file__).parent / 'alembic.ini')",
    )
    env = {"DATABASE_URL": empty_db.dsn, "PATH": "/usr/bin:/bin"}
    result = run(
        installed, "python", "-m", "alembic", "-c", ini.stdout.strip(), "upgrade", "head", env=env
    )
    assert result.returncode == 0, result.stderr
    conn = await asyncpg.connect(empty_db.dsn)
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == HEAD_REVISION
    finally:
        await conn.close()
