"""The state store (SQLite): raw Teams objects, export checkpoints, the import ledger,
warnings and runs. See db.py for opening it, schema.py for its tables."""

from migrate.store.db import DB_FILENAME, Store, utcnow
from migrate.store.lock import LockHolder, RunLock

__all__ = ["DB_FILENAME", "LockHolder", "RunLock", "Store", "utcnow"]
