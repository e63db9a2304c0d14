# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Rows read from PostgreSQL without describing each of them.

trytond reads a query's rows as dicts with `cursor_dict`, which fetches
`cursor.arraysize` rows at a time and asks the cursor's `description` for
every row.  psycopg's cursors start with DB-API's arraysize of 1 and build
a new description (a Column per column) at each call: a `read` of the
3,600 lines of the office's supply ledger for a year fetched them one by
one and built 3,600 descriptions, 50 ms of its 60 ms.  The cursors of
trytond's PostgreSQL backend fetch 1,000 rows at a time (the rows are
already on the client: only the batch size changes) and describe each
result once."""
try:
    from trytond.backend.postgresql.database import LoggingCursor
except ImportError:  # psycopg is not installed: SQLite only
    LoggingCursor = None

ARRAYSIZE = 1000


def __init__(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.arraysize = ARRAYSIZE


def description(self):
    "The description of the current result, built once for it"
    result = self.pgresult
    if result is None:
        return _description.fget(self)
    cached = self.__dict__.get('_office_description')
    if cached is None or cached[0] is not result:
        cached = (result, _description.fget(self))
        self.__dict__['_office_description'] = cached
    return cached[1]


if (LoggingCursor is not None
        and not getattr(LoggingCursor.__init__, 'office_admin', False)):
    _init = LoggingCursor.__init__
    _description = LoggingCursor.description
    __init__.office_admin = True
    LoggingCursor.__init__ = __init__
    LoggingCursor.description = property(description)
