"""Rows into an empty registry table: its indexes and constraints are built after the rows.

A first import fills empty tables with hundreds of thousands of rows. With the indexes in place each
row costs an insertion into every index and, per foreign key, a lookup in the table it refers to;
built afterwards, each index is one sorted build and each foreign key one join. For the 100 000-parcel
export that halves the merge (bench/RESULTS.md).

Only in an import of at least BULK_MIN_ROWS objects, for a table that holds no rows, and only when
this transaction can lock it at once (NOWAIT):
dropping an index takes an ACCESS EXCLUSIVE lock that lasts until the import commits, so whoever
reads that table meanwhile waits for the import; they would have found it empty. A table somebody
is using, or one that holds rows, is loaded with its indexes in place. A foreign key is dropped only
when the table it refers to is locked by this import too (dropping it locks that table). It is all
one transaction: an import that fails leaves each table as it was, indexes included.
"""

from __future__ import annotations

from contextlib import contextmanager

import psycopg
from django.conf import settings
from psycopg import sql

BULK_MIN_ROWS: int = settings.GISPORTAL_IMPORT_BULK_MIN_ROWS

# constraints of the table that an index carries (unique) or that check each row against another table (foreign keys);
# a unique constraint that a foreign key of any table relies on stays
_CONSTRAINTS = """
    SELECT c.conname, pg_get_constraintdef(c.oid), c.contype, c.confrelid::regclass::text
    FROM pg_constraint c
    WHERE c.conrelid = %(t)s::regclass AND c.contype IN ('u', 'f')
      AND NOT (c.contype = 'u' AND EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid))
    ORDER BY c.contype DESC, c.conname"""
# indexes that no constraint owns (the primary key stays: other tables' foreign keys refer to it)
_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = %(t)s::regclass AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
    ORDER BY 1"""


class Bulk:
    """Tables this import locked to load them without their indexes (see the module's docstring).
    The transaction must check foreign keys per statement (SET CONSTRAINTS ALL IMMEDIATE, as the loader
    does): PostgreSQL builds no index on a table with deferred checks still pending."""

    def __init__(self, cur, execute):
        self.cur = cur
        self._exec = execute  # Loader._exec: traced
        self.locked: set[str] = set()
        self.enabled = False  # set by the loader: a large import

    @contextmanager
    def into(self, table: str):
        """Around the statements that insert rows into `table`."""
        dropped = self._drop(table) if self.enabled else None
        yield
        if dropped is not None:
            self._restore(table, *dropped)

    def _lock_if_empty(self, table: str) -> bool:
        name = sql.Identifier(table)
        self._exec("SAVEPOINT imp_bulk")
        try:
            self.cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT").format(name))
            self.cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(name))
            empty = not self.cur.fetchone()[0]
        except psycopg.errors.LockNotAvailable:
            empty = False
        if not empty:
            self._exec("ROLLBACK TO SAVEPOINT imp_bulk")  # and the lock with it
        self._exec("RELEASE SAVEPOINT imp_bulk")
        return empty

    def _drop(self, table: str) -> tuple[list, list] | None:
        if table not in self.locked:
            if not self._lock_if_empty(table):
                return None
            self.locked.add(table)
        self.cur.execute(_CONSTRAINTS, {"t": table})
        constraints = [
            (name, definition)
            for name, definition, kind, refers_to in self.cur.fetchall()
            if kind == "u" or refers_to in self.locked
        ]
        self.cur.execute(_INDEXES, {"t": table})
        indexes = self.cur.fetchall()
        t = sql.Identifier(table)
        for name, _definition in constraints:
            self._exec(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(t, sql.Identifier(name)))
        for name, _definition in indexes:
            self._exec(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))  # regclass text: quoted where needed
        return constraints, indexes

    def _restore(self, table: str, constraints: list, indexes: list) -> None:
        """The same indexes and constraints, by the same names (a duplicate fails the import here)."""
        t = sql.Identifier(table)
        for _name, definition in indexes:
            self._exec(sql.SQL(definition))
        for name, definition in sorted(constraints, key=lambda c: c[1].startswith("FOREIGN")):
            self._exec(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    t, sql.Identifier(name), sql.SQL(definition)
                )
            )
