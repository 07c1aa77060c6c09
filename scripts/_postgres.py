"""A PostgreSQL 15 server of our own, for the configurations users bring: initdb in a temporary
folder, a port and a Unix socket of its own, TLS with a self-signed certificate, SCRAM for the
roles that have a password. The shared server (127.0.0.1:5432) is never reconfigured.

Used by the configuration matrix (tests/system/test_postgres_configurations.py) and by
`scripts/stress configurations`.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from _support import Started, free_port

BIN_DIR = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"

# Who may connect, and how: the first line that matches wins. TLS is required of the `tls`
# database's clients; the roles with a password (SCRAM) must give it; the rest are trusted.
HBA = """\
local      all      all                          trust
hostnossl  tls      all       127.0.0.1/32       reject
hostssl    all      scram     127.0.0.1/32       scram-sha-256
host       all      scram     127.0.0.1/32       scram-sha-256
hostssl    all      all       127.0.0.1/32       trust
host       all      all       127.0.0.1/32       trust
"""


def available() -> bool:
    return (BIN_DIR / "initdb").exists() and shutil.which("openssl") is not None


def _as_postgres() -> dict[str, Any]:
    """PostgreSQL refuses to run as root: run as the postgres user when we are root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


class PrivatePostgres(Started):
    """`with PrivatePostgres() as server:` a running server; `server.url(...)` to reach it."""

    def __init__(self, encoding: str = "UTF8") -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="heroes-postgres-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.certificate = self.root / "server.crt"
        self.encoding = encoding
        self._started = False

    def start(self) -> None:
        as_postgres = _as_postgres()
        self.socket_dir.mkdir()
        if as_postgres:
            for path in (self.root, self.socket_dir):
                os.chown(path, as_postgres["user"], as_postgres["group"])
        self._run(
            [
                str(BIN_DIR / "initdb"),
                *("-D", str(self.data), "-U", SUPERUSER, "--auth=trust"),
                *(f"--encoding={self.encoding}", "--locale=C"),
            ]
        )
        self._certificate()
        (self.data / "pg_hba.conf").write_text(HBA)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "ssl = on\n"
                "ssl_cert_file = 'server.crt'\n"
                "ssl_key_file = 'server.key'\n"
                "password_encryption = 'scram-sha-256'\n"
                "max_connections = 200\n"
                "fsync = off\n"  # a throwaway server: nothing here must survive a crash
            )
        self._run(
            [
                str(BIN_DIR / "pg_ctl"),
                *("-D", str(self.data), "-l", str(self.root / "server.log")),
                *("-w", "-t", "60", "start"),
            ]
        )
        self._started = True

    def stop(self) -> None:
        if self._started:
            self._run([str(BIN_DIR / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """What the server has logged (its errors among them)."""
        return (self.root / "server.log").read_text(errors="replace")

    def url(
        self,
        database: str = "postgres",
        user: str = SUPERUSER,
        password: str | None = None,
        host: str = "127.0.0.1",
        **query: str,
    ) -> str:
        """A SQLAlchemy URL for this server (`query`: libpq parameters, as the URL's own)."""
        from sqlalchemy import URL

        return URL.create(
            "postgresql+psycopg",
            username=user,
            password=password,
            host=host,
            port=self.port,
            database=database,
            query=query,
        ).render_as_string(hide_password=False)

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run `statement` as the superuser (autocommit: CREATE DATABASE may be among them)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        ) as connection:
            connection.execute(statement.encode())

    def psql(self, database: str, script: str, encoding: str) -> None:
        """`script` through psql, with its client_encoding `encoding` (a LATIN1 client's way)."""
        env = {**os.environ, "PGCLIENTENCODING": encoding}
        subprocess.run(
            [
                "psql",
                *("-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database),
                *("-v", "ON_ERROR_STOP=1", "-q"),
            ],
            input=script.encode(encoding),
            env=env,
            check=True,
            capture_output=True,
        )

    def _certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1 and localhost, also the clients' root."""
        key = self.data / "server.key"
        subprocess.run(
            [
                "openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-newkey", "rsa:2048",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(key), "-out", str(self.data / "server.crt"),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        shutil.copyfile(self.data / "server.crt", self.certificate)
        as_postgres = _as_postgres()
        key.chmod(0o600)
        if as_postgres:
            for path in (key, self.data / "server.crt"):
                os.chown(path, as_postgres["user"], as_postgres["group"])

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, text=True, **_as_postgres())
        if done.returncode != 0:
            log = self.root / "server.log"
            said = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed:\n{done.stdout}{done.stderr}{said}")
