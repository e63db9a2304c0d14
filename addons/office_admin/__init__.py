# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from . import backend_postgresql, backend_sqlite, routes, wsgi_security

__all__ = [backend_postgresql, backend_sqlite, routes, wsgi_security]
