# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Rows read from PostgreSQL a thousand at a time.

trytond reads a query's rows as dicts with `cursor_dict`, which fetches
`cursor.arraysize` rows at a time and builds the cursor's description
again for each batch.  psycopg's cursors start with DB-API's arraysize
of 1: a `read` of 3,600 lines (the office's supply ledger for a year)
fetched them one by one and built 3,600 descriptions, 50 ms of its 60 ms.
The cursors of trytond's PostgreSQL backend fetch 1,000 rows at a time
(the rows are already on the client: only the batch size changes)."""
try:
    from trytond.backend.postgresql.database import LoggingCursor
except ImportError:  # psycopg is not installed: SQLite only
    LoggingCursor = None

ARRAYSIZE = 1000


def __init__(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.arraysize = ARRAYSIZE


if (LoggingCursor is not None
        and not getattr(LoggingCursor.__init__, 'office_admin', False)):
    _init = LoggingCursor.__init__
    __init__.office_admin = True
    LoggingCursor.__init__ = __init__
