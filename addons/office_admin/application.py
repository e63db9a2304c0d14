# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""trytond's WSGI application for gunicorn, whose workers start even while
PostgreSQL is unreachable: ``gunicorn trytond.modules.office_admin.
application:app`` instead of ``trytond.application:app``.

trytond.application loads the databases of TRYTOND_DATABASE_NAMES when a
worker starts and refuses to start while threads are left. A load that
fails (PostgreSQL restarting, a fail-over) leaves its connection pool's
threads: the worker exits with gunicorn's boot error and gunicorn stops
whole, every worker with it. Here a load that fails is logged and its
connections closed; the database is then loaded by its first request, as
trytond does for a database it has not loaded."""
import csv
import logging
import os
import threading
from io import StringIO

# trytond.application must not load them itself
_NAMES = os.environ.pop('TRYTOND_DATABASE_NAMES', '')

from trytond import backend  # noqa: E402
from trytond.application import app  # noqa: E402,F401
from trytond.pool import Pool  # noqa: E402

logger = logging.getLogger(__name__)


def _load(name):
    try:
        Pool(name).init()
    except Exception:
        logger.warning('database "%s" not loaded at start: its first '
            'request loads it', name, exc_info=True)
        # Pool(name) listed it as loaded (Pool._pools is a defaultdict):
        # unlisted, the first request loads it
        Pool.stop(name)
        try:
            backend.Database(name).close()
        except Exception:
            pass
    else:
        backend.Database(name).close()


def _load_all(names):
    # As trytond.application: one thread per database, read with csv so a
    # name may hold any character
    threads = [threading.Thread(target=_load, args=(name,))
        for name in next(csv.reader(StringIO(names)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if _NAMES:
    os.environ['TRYTOND_DATABASE_NAMES'] = _NAMES
    _load_all(_NAMES)
