"""The database: its engine, and the one doorway requests reach it through (`Database`).

- database.py     `Database`, the doorway: admission and the group commit, over a backend
- backend.py      what a backend does: reads, what writes run on, its connections
- sqlite_backend.py   SQLite's: reads on the loop's kept connection, writes in the writer thread
- postgres_backend.py PostgreSQL's: reads and writes on the event loop, on psycopg's pool
- engine.py       the engine, configured per database (SQLite's every use; PostgreSQL's
                  migrations and CLI)
- admission.py    how many requests may use the database at once, and the bounded line
- connections.py  checkout, ping, retry on a dropped connection, error translation
- postgres_conninfo.py what PostgreSQL is connected with: the URL's parameters, our defaults
- postgres_pool.py    PostgreSQL's connections (psycopg_pool)
- postgres_pipeline.py a batch of statements on one connection, bounded (psycopg's pipeline)
- postgres_reads.py   PostgreSQL's reads, on the event loop, batched per turn of the loop
- postgres_writes.py  PostgreSQL's write transactions, on the event loop, a group's writes
                      side by side
- group_commit.py writes: one transaction per group, never a write run twice
- markers.py      the token a group commits with, and how a lost commit is looked up
"""

from api.db.admission import Overloaded
from api.db.connections import Unrepresentable, Work
from api.db.database import Database
from api.db.engine import create_db_engine
from api.db.group_commit import OutcomeUnknown

__all__ = [
    "Database",
    "OutcomeUnknown",
    "Overloaded",
    "Unrepresentable",
    "Work",
    "create_db_engine",
]
