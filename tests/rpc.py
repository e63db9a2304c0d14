# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A minimal JSON-RPC client for trytond (POST /<database>/rpc/)."""
import base64
import datetime as dt
import itertools
import json
import urllib.error
import urllib.request
from decimal import Decimal

_ids = itertools.count(1)


class RPCError(Exception):
    def __init__(self, error):
        super().__init__(error)
        self.error = error

    @property
    def kind(self):
        "The exception class name trytond reported"
        return self.error[0] if isinstance(self.error, list) else None

    @property
    def message(self):
        if isinstance(self.error, list) and len(self.error) > 1:
            args = self.error[1]
            return args[0] if isinstance(args, list) and args else str(args)
        return str(self.error)


def _encode(value):
    if isinstance(value, Decimal):
        return {'__class__': 'Decimal', 'decimal': str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {'__class__': 'bytes',
            'base64': base64.b64encode(value).decode()}
    if isinstance(value, dt.datetime):
        return {'__class__': 'datetime', 'year': value.year,
            'month': value.month, 'day': value.day, 'hour': value.hour,
            'minute': value.minute, 'second': value.second,
            'microsecond': value.microsecond}
    if isinstance(value, dt.timedelta):
        return {'__class__': 'timedelta', 'seconds': value.total_seconds()}
    if isinstance(value, dt.time):
        return {'__class__': 'time', 'hour': value.hour,
            'minute': value.minute, 'second': value.second,
            'microsecond': value.microsecond}
    if isinstance(value, dt.date):
        return {'__class__': 'date', 'year': value.year,
            'month': value.month, 'day': value.day}
    raise TypeError(value)


def _decode(obj):
    kind = obj.get('__class__')
    if kind == 'Decimal':
        return Decimal(obj['decimal'])
    if kind == 'datetime':
        return dt.datetime(obj['year'], obj['month'], obj['day'],
            obj['hour'], obj['minute'], obj['second'], obj['microsecond'])
    if kind == 'date':
        return dt.date(obj['year'], obj['month'], obj['day'])
    if kind == 'timedelta':
        return dt.timedelta(seconds=obj['seconds'])
    if kind == 'bytes':
        return base64.decodebytes(obj['base64'].encode())
    return obj


class Client:
    def __init__(self, url, database, login, password, timeout=120):
        self.url = f'{url}/{database}/rpc/'
        self.login = login
        self.timeout = timeout
        self.session = None
        result = self.call(
            'common.db.login', login, {'password': password}, 'en')
        self.user_id, token = result[0], result[1]
        self.session = base64.b64encode(
            f'{login}:{self.user_id}:{token}'.encode()).decode()
        self.context = self.call(
            'model.res.user.get_preferences', True, {})

    def call(self, method, *params):
        data = json.dumps({'id': next(_ids), 'method': method,
                'params': list(params)}, default=_encode).encode()
        request = urllib.request.Request(self.url, data=data, headers={
                'Content-Type': 'application/json'})
        if self.session:
            request.add_header('Authorization', f'Session {self.session}')
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                response = json.loads(r.read(), object_hook=_decode)
        except urllib.error.HTTPError as e:
            raise RPCError(['HTTPError', [str(e.code)]]) from e
        if response.get('error'):
            raise RPCError(response['error'])
        return response['result']

    def model(self, model, method, *args):
        return self.call(f'model.{model}.{method}', *args, self.context)

    def search(self, model, domain, fields=None, **kw):
        if fields is None:
            return self.model(model, 'search', domain, 0, None, None)
        return self.model(model, 'search_read', domain, 0, None, None, fields)

    def read(self, model, ids, fields):
        return self.model(model, 'read', ids, fields)
