# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A transaction on SQLite stays a transaction.

trytond's SQLite backend has one connection per database object, and a
transaction's database object is the one the cache uses: with
``[cache] clean_timeout = 0`` (the repository's trytond.conf) the cache's
sync at each transaction start asks for that connection in autocommit mode
(``isolation_level = None``) and never sets it back, so the whole
transaction ran in autocommit and a save refused by a check after it had
written (an overlapping leave) kept its rows. The connection handed back
after an autocommit use gets the isolation level it had before."""
from trytond.backend.sqlite.database import Database

_get_connection = Database.get_connection
_put_connection = Database.put_connection


def get_connection(
        self, autocommit=False, readonly=False, statement_timeout=None):
    if autocommit:
        previous = self._conn.isolation_level if self._conn else None
        self.__dict__.setdefault('_office_isolation', []).append(previous)
    return _get_connection(self, autocommit=autocommit, readonly=readonly,
        statement_timeout=statement_timeout)


def put_connection(self, connection=None):
    levels = self.__dict__.get('_office_isolation')
    if levels:
        previous = levels.pop()
        if connection is not None and connection is self._conn:
            connection.isolation_level = previous
    return _put_connection(self, connection)


if not getattr(Database.get_connection, 'office_admin', False):
    get_connection.office_admin = True
    Database.get_connection = get_connection
    Database.put_connection = put_connection
