"""What the service connects to PostgreSQL with: the URL's own parameters, as the driver reads
them, and the service's defaults only where the URL says nothing. The URL always wins: its
`options`, `connect_timeout`, `application_name`, `sslmode`, hosts and ports are passed on as
they are.

No startup parameter of the service's own is sent (a stock PgBouncer refuses `options`, as do
managed poolers): the statement and lock timeouts go with each transaction instead
(`SESSION_SETTINGS`, through set_config's local form: a pooler in transaction mode keeps no
session state, and this needs none).
"""

from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import URL

from api.bounds import SILENT_SERVER_GRACE_SECONDS
from api.config import Settings

APPLICATION_NAME = "heroes-api"

# The timeouts, for the transaction they open (set_config(..., true) is SET LOCAL): on every
# batch of reads and every write transaction, so that they hold whatever the pooler in between.
SESSION_SETTINGS = (
    b"SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)"
)


def url_parameters(url: URL) -> dict[str, Any]:
    """The libpq parameters a SQLAlchemy URL names (hosts and ports of a multi-host URL
    joined as libpq writes them), read by SQLAlchemy's psycopg dialect."""
    _, parameters = url.get_dialect()().create_connect_args(url)
    return dict(parameters)


def defaults(url: URL, settings: Settings) -> dict[str, Any]:
    """The service's parameters that the URL does not set itself."""
    silence_ms = round((settings.db_statement_timeout + SILENT_SERVER_GRACE_SECONDS) * 1000)
    ours: dict[str, Any] = {
        # Which backends are the service's (pg_stat_activity, the server's log).
        "application_name": APPLICATION_NAME,
        # A prompt 503 when the server can't be reached, not a hung request.
        "connect_timeout": max(1, round(settings.db_pool_timeout)),
        # A peer gone without a word: an idle connection is found dead by TCP keepalives, a
        # busy one when what was sent stays unacknowledged (both ignored on a Unix socket).
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": silence_ms,
    }
    given = url_parameters(url)
    return {name: value for name, value in ours.items() if name not in given}


def conninfo(url: URL, settings: Settings) -> str:
    """The connection string for the driver: the URL's parameters and the defaults beside."""
    return make_conninfo("", **url_parameters(url), **defaults(url, settings))


def session_values(settings: Settings) -> tuple[str, str]:
    """SESSION_SETTINGS' parameters: statement_timeout and lock_timeout, in milliseconds."""
    return (
        str(round(settings.db_statement_timeout * 1000)),
        str(round(settings.db_lock_timeout * 1000)),
    )


def parameters(info: str) -> dict[str, str]:
    """A connection string's parameters, as the driver reads them."""
    return {name: str(value) for name, value in conninfo_to_dict(info).items()}
