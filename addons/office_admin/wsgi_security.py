# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the server says, and the headers it says it with.

Installed on trytond's WSGI application (`trytond.wsgi.app`) when the pool
imports the module (trytond.application, `trytond -d`, trytond-cron):

- A user error (UserError, UserWarning, AccessError, ValidationError, login,
  rate limit, concurrency) reaches the client as trytond sends it, translated.
- Any other exception reaches the client as a generic translated message with
  a reference (`msg_internal_error`); the traceback goes to the server log
  under the same reference. A call whose arguments do not fit the method
  (wrong types of ids, domains, field names, values…) is answered HTTP 422
  (`msg_bad_request`), as trytond itself answers a malformed context. Nothing
  from Python or the database reaches the client: no traceback, no exception
  text, no SQL.
- Every response carries the security headers of `SecurityHeaders`; an
  HTTP error trytond raises outside its dispatcher (a refused cross-origin
  request) is answered with its status (4xx) instead of crashing the worker
  into an HTTP 500.
- A streamed body is sent in pieces of `BufferedBody.size` bytes: trytond
  streams an answer of more than 1,400 bytes as JSON's tokens, which the
  server sends one by one (one chunk and one system call per token), and
  encodes it with json's Python encoder: `OneShotEncoder` encodes it with
  the C encoder, once.
"""
import base64
import hashlib
import logging
import os
import re
import datetime as dt
import secrets
import threading
from decimal import Decimal, InvalidOperation

import trytond.config as config
from trytond import backend
from trytond.exceptions import MissingDependenciesException, TrytonException
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.protocols import jsonrpc
from trytond.protocols.wrappers import exceptions
from trytond.transaction import Transaction
from trytond.wsgi import app

logger = logging.getLogger(__name__)

# The English texts, for a request with no database (or one where the
# module is not activated); message.xml has the same texts, translated.
FALLBACK = {
    'msg_internal_error': (
        "The server could not complete the request because of an internal "
        "error. Give this reference to your administrator: %(reference)s."),
    'msg_bad_request': (
        "The request is not valid: its arguments do not fit the method "
        "called (reference %(reference)s)."),
    'msg_service_unavailable': (
        "The server is busy. Try again in a moment "
        "(reference %(reference)s)."),
    }

# Exceptions that malformed arguments raise inside trytond
ARGUMENT_ERRORS = (
    TypeError, ValueError, KeyError, IndexError, AttributeError,
    OverflowError, InvalidOperation, RecursionError, UnicodeError,
    AssertionError, NotImplementedError, backend.DatabaseDataError,
    backend.DatabaseIntegrityError)
try:
    from psycopg import ProgrammingError as _ProgrammingError
    ARGUMENT_ERRORS += (_ProgrammingError,)
except ImportError:
    pass


def new_reference():
    "A short reference that ties a client's message to the log"
    return secrets.token_hex(4).upper()


class InternalError(Exception):
    """What the client receives instead of an exception that is not a user
    error: only a translated message with a reference"""


def _language(request, database):
    "The language of the caller: his context's, his preference's, or default"
    pool = Pool(database)
    Lang = pool.get('ir.lang')
    languages = Lang.get_translatable_languages()
    try:
        params = request.rpc_params
    except Exception:
        params = None
    if isinstance(params, (list, tuple)) and params:
        context = params[-1]
        if isinstance(context, dict):
            language = context.get('language')
            if isinstance(language, str) and language in languages:
                return language
    try:
        user_id = request.user_id
    except Exception:
        user_id = None
    if isinstance(user_id, int) and user_id > 0:
        User = pool.get('res.user')
        users = User.search([('id', '=', user_id)], limit=1)
        if users and users[0].language:
            return users[0].language.code
    return config.get('database', 'language')


def message(request, name, **variables):
    "The message name of office_admin translated for the caller of request"
    text = FALLBACK[name] % variables
    try:
        database = (request.view_args or {}).get('database_name')
    except Exception:
        database = None
    if (not isinstance(database, str)
            or database not in Pool.database_list()):
        return text
    try:
        with Transaction(new=True).start(database, 0, readonly=True):
            translated = gettext(
                f'office_admin.{name}', _language(request, database),
                **variables)
    except Exception:
        logger.debug("No translation of %s", name, exc_info=True)
        return text
    return text if translated == f'office_admin.{name}' else translated


def _rpc_method(request):
    try:
        return request.rpc_method
    except Exception:
        return None


def _bad_request(request, error):
    "Whether the caller's arguments caused error"
    try:
        return _raised_converting(error) or malformed(request)
    except Exception:
        logger.exception("Checking the arguments of %s failed", request.path)
        return False


def _answer(request, error):
    """The response to error, an exception that is not a user error: HTTP 422
    if the caller's arguments caused it, else the generic message; the
    detail goes to the log under the reference the client receives"""
    reference = new_reference()
    method = _rpc_method(request)
    if isinstance(error, ARGUMENT_ERRORS) and _bad_request(request, error):
        # One line: trytond's dispatcher logs the traceback of the call
        logger.warning("Bad request %s: %s %s: %s: %s", reference,
            request.path, method, type(error).__name__, error)
        response = exceptions.UnprocessableEntity(description=message(
                request, 'msg_bad_request', reference=reference))
    else:
        logger.error("Internal error %s: %s %s", reference, request.path,
            method, exc_info=error)
        response = app.make_response(request, InternalError(
                message(request, 'msg_internal_error', reference=reference)))
    if isinstance(response, exceptions.HTTPException):
        response = response.get_response(request.environ)
    return response


@app.error_handler
def error_handler(app, request, error):
    "Answer an exception that is not a user error (trytond's error hook)"
    if (isinstance(error, TrytonException)
            and not isinstance(error, MissingDependenciesException)):
        return None
    return _answer(request, error)


def _sanitized(request, response):
    """Replace the description of an HTTP 500 (trytond's routes put the
    exception there) or 503 (the database's message) by a generic one"""
    if not isinstance(response, exceptions.HTTPException):
        return response
    detail = response.description
    if response.code == 500 and isinstance(detail, Exception):
        return _answer(request, detail)
    if response.code not in {500, 503}:
        return response
    reference = new_reference()
    logger.error("Error %s %s: %s: %s", response.code, reference,
        request.path, detail)
    name = {
        500: 'msg_internal_error',
        503: 'msg_service_unavailable',
        }[response.code]
    return type(response)(
        description=message(request, name, reference=reference))


def _install_dispatch(app):
    dispatch_request = app.dispatch_request
    if getattr(dispatch_request, 'office_admin', False):
        return

    def dispatch(request):
        return _sanitized(request, dispatch_request(request))
    dispatch.office_admin = True
    app.dispatch_request = dispatch


# Malformed arguments ------------------------------------------------------

OPERATORS = {
    '=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'like', 'not like',
    'ilike', 'not ilike', 'child_of', 'not child_of', 'parent_of',
    'not parent_of', 'where', 'not where'}
MAX_ID = 2 ** 31 - 1
# The arguments of trytond's standard methods, context excluded
SIGNATURES = {
    'search': ('domain', 'offset', 'limit', 'order', 'flag'),
    'search_count': ('domain', 'offset', 'limit'),
    'search_read': ('domain', 'offset', 'limit', 'order', 'fields'),
    'read': ('ids', 'fields'),
    'delete': ('ids',),
    'copy': ('ids', 'values'),
    'create': ('vlist',),
    'export_data': ('ids', 'fields', 'flag'),
    'export_data_domain': (
        'domain', 'fields', 'offset', 'limit', 'order', 'flag'),
    'fields_get': ('fields?',),
    'default_get': ('names', 'flag'),
    'resources': ('ids',),
    }


# Where trytond turns the caller's arguments into SQL or records
CONVERTERS = {
    'sql_format', '_domain_value', 'convert_domain', 'convert_order',
    'check_domain', 'domain_validate', 'convert', 'instance', 'browse',
    'get_object_method'}
ARITY = re.compile(
    r'(missing \d+ required|takes \d+ positional|takes from \d+ to \d+ '
    r'positional|unexpected keyword|got multiple values|'
    r'argument after \* must be)')


def _raised_converting(error):
    """Whether error is trytond's own answer to the caller's arguments: a
    data or integrity error of the database (the values do not fit the
    columns), or an exception raised in trytond's code (not a module's) by
    one of its converters, by the call itself (wrong arity), or with no
    module's code on the way"""
    if isinstance(error, (
                backend.DatabaseDataError, backend.DatabaseIntegrityError)):
        return True
    frames = []
    tb = error.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get('__name__', '')
        if module.startswith('trytond.'):
            frames.append((module, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    if not frames:
        return False
    module, name = frames[-1]
    if module.startswith('trytond.modules.'):
        return False
    if isinstance(error, TypeError) and ARITY.search(str(error)):
        return True
    if name in CONVERTERS and module in {
            'trytond.rpc', 'trytond.protocols.dispatcher'} | {
            m for m, _ in frames if m.startswith('trytond.model.')}:
        return True
    return not any(m.startswith('trytond.modules.') for m, _ in frames)


def _is_id(value):
    return (isinstance(value, int) and not isinstance(value, bool)
        and 0 <= value <= MAX_ID)


def _is_ids(value):
    return isinstance(value, list) and all(_is_id(v) for v in value)


def _is_scalar(value, depth=0):
    if isinstance(value, dict):
        return False
    if isinstance(value, (list, tuple)):
        return depth < 2 and all(_is_scalar(v, depth + 1) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= 2 ** 63 - 1
    return True


def _is_model(name, pool):
    if not isinstance(name, str):
        return False
    try:
        pool.get(name)
    except KeyError:
        return False
    return True


def _is_domain(value, Model, pool, depth=0):
    if not isinstance(value, list) or depth > 20:
        return False
    for i, clause in enumerate(value):
        if isinstance(clause, str):
            if i or clause not in {'AND', 'OR'}:
                return False
        elif (isinstance(clause, list) and clause
                and isinstance(clause[0], str)
                and not (i == 0 and clause[0] in {'AND', 'OR'}
                    and len(clause) != 3)):
            if not 3 <= len(clause) <= 4:
                return False
            name, operator, operand = clause[:3]
            if (not _field_name(name, Model)
                    or not isinstance(operator, str)
                    or operator not in OPERATORS
                    or not _is_scalar(operand)):
                return False
            if len(clause) == 4 and not _is_model(clause[3], pool):
                return False
        elif not _is_domain(clause, Model, pool, depth + 1):
            return False
    return True


def _field_name(name, Model):
    "Whether name (dotted, with a :suffix, or private) starts with a field"
    return isinstance(name, str) and (name.startswith('_')
        or re.split(r'[.:]', name, maxsplit=1)[0] in Model._fields)


def _is_fields(value, Model):
    return value is None or (isinstance(value, list)
        and all(_field_name(f, Model) for f in value))


ACTIONS = {'add', 'create', 'write', 'remove', 'delete', 'copy'}


def _is_value(field, value):
    "Whether value may be stored in field (its kind, not its domain)"
    if value is None:
        return True
    type_ = getattr(field, '_type', None)
    if isinstance(value, bool):
        return type_ not in {'integer', 'bigint', 'float', 'numeric',
            'many2one', 'date', 'datetime', 'timestamp', 'char', 'text'}
    if type_ in {'integer', 'bigint'}:
        return isinstance(value, int) and abs(value) < 2 ** 63
    if type_ in {'float', 'numeric'}:
        return isinstance(value, (int, float, Decimal))
    if type_ in {'char', 'text'}:
        return isinstance(value, str)
    if type_ == 'many2one':
        return _is_id(value)
    if type_ in {'date', 'datetime', 'timestamp', 'time', 'timedelta'}:
        return isinstance(value, (dt.date, dt.time, dt.timedelta))
    if type_ in {'one2many', 'many2many'}:
        return isinstance(value, list) and all(
            isinstance(a, list) and a and a[0] in ACTIONS for a in value)
    return True


def _is_values(value, Model):
    return value is None or (isinstance(value, dict) and all(
            _field_name(k, Model)
            and _is_value(Model._fields.get(k), v)
            for k, v in value.items()))


def _check(kind, value, Model, pool):
    if kind == 'domain':
        return _is_domain(value, Model, pool)
    if kind == 'ids':
        return _is_ids(value)
    if kind in {'offset', 'limit'}:
        return value is None or _is_id(value)
    if kind == 'order':
        return value is None or (isinstance(value, list) and all(
                isinstance(o, list) and len(o) == 2
                and _field_name(o[0], Model)
                and (o[1] is None or isinstance(o[1], str))
                for o in value))
    if kind == 'fields':
        return value is not None and _is_fields(value, Model)
    if kind == 'names':
        return isinstance(value, list) and all(
            isinstance(f, str) and f in Model._fields for f in value)
    if kind == 'fields?':
        return _is_fields(value, Model)
    if kind == 'values':
        return _is_values(value, Model)
    if kind == 'vlist':
        return isinstance(value, list) and all(
            isinstance(v, dict) and _is_values(v, Model) for v in value)
    if kind == 'flag':
        return isinstance(value, (bool, int)) or value is None
    return True


def malformed(request):
    """Whether the arguments of the JSON-RPC call of request do not fit the
    method called (checked only once the call has failed)"""
    method = _rpc_method(request)
    try:
        params = request.rpc_params
    except Exception:
        return True
    if (not isinstance(method, str) or not method
            or not isinstance(params, list)):
        return True
    database = (request.view_args or {}).get('database_name')
    if not database:
        # The few methods of /rpc/ fail only on their arguments
        return True
    kind, _, rest = method.partition('.')
    name, _, function = rest.rpartition('.')
    if kind not in {'model', 'wizard', 'report'}:
        # common.db.login, logout and reset_password fail on their arguments
        return True
    if database not in Pool.database_list():
        return False
    pool = Pool(database)
    try:
        Model = pool.get(name, type=kind)
    except KeyError:
        return True
    args = params[:-1] if params and isinstance(params[-1], dict) else params
    if kind == 'report':
        return not (function == 'execute' and 1 <= len(args) <= 2
            and _is_ids(args[0])
            and (len(args) < 2 or isinstance(args[1], dict)))
    if kind == 'wizard':
        return False
    if function == 'write':
        return not args or len(args) % 2 or not all(
            _is_ids(a) if i % 2 == 0 else _is_values(a, Model)
            for i, a in enumerate(args))
    buttons = set(getattr(Model, '_buttons', {}))
    signature = ('ids',) if function in buttons else SIGNATURES.get(function)
    if signature is None:
        return False
    if len(args) > len(signature):
        return True
    if not args and function in (
            {'read', 'delete', 'copy', 'export_data', 'resources'} | buttons):
        return True
    return not all(
        _check(kind, value, Model, pool)
        for kind, value in zip(signature, args))


# Security headers ---------------------------------------------------------

def _inline_script_hashes():
    "The CSP hashes of the inline scripts of the web client's index.html"
    root = config.get('web', 'root')
    hashes = []
    if root:
        try:
            with open(os.path.join(root, 'index.html'), 'rb') as file:
                html = file.read()
        except OSError:
            html = b''
        for script in re.findall(
                rb'<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>', html,
                re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(script).digest())
            hashes.append("'sha256-%s'" % digest.decode())
    return hashes


def content_security_policy():
    """The policy of every response. The web client (sao 8.0) needs:
    - its one inline script of index.html (allowed by its hash) and the
      `javascript:void(0)` link of its menu button (by hash, with
      'unsafe-hashes': Chromium hashes the whole URL, CSP 3 its code);
    - 'unsafe-eval': gettext.js compiles the plural forms of a translation
      with `new Function` ("%1 records saved" after an export in zh_CN);
    - inline styles (style attributes in index.html and jQuery's markup);
    - blob: and data: images, blob: documents in <iframe>/<object> (the
      document widget previews attachments and PDF reports)."""
    script = ["'self'", "'unsafe-eval'", "'unsafe-hashes'"] + [
        "'sha256-%s'" % base64.b64encode(hashlib.sha256(s).digest()).decode()
        for s in [b'void(0)', b'javascript:void(0)']
        ] + _inline_script_hashes()
    connect = ["'self'"]
    bus = config.get('bus', 'url_host')
    if bus:
        connect.append(bus)
    directives = [
        ('default-src', ["'self'"]),
        ('script-src', script),
        ('style-src', ["'self'", "'unsafe-inline'"]),
        ('img-src', ["'self'", 'data:', 'blob:']),
        ('font-src', ["'self'", 'data:']),
        ('connect-src', connect),
        ('media-src', ["'self'", 'blob:']),
        ('object-src', ["'self'", 'blob:']),
        ('frame-src', ["'self'", 'blob:']),
        ('worker-src', ["'self'", 'blob:']),
        ('frame-ancestors', ["'self'"]),
        ('base-uri', ["'self'"]),
        ('form-action', ["'self'"]),
        ]
    return '; '.join(
        '%s %s' % (name, ' '.join(sources)) for name, sources in directives)


class SecurityHeaders:
    """WSGI middleware: the security headers on every response, and an HTTP
    error raised outside trytond's dispatcher answered with its own status.

    Strict-Transport-Security only when the request came over TLS: its
    scheme is https, which behind a proxy trytond sets from
    X-Forwarded-Proto only when `[web] num_proxies` trusts that proxy."""

    def __init__(self, app):
        self.app = app
        self.headers = [
            ('Content-Security-Policy', content_security_policy()),
            ('X-Content-Type-Options', 'nosniff'),
            ('Referrer-Policy', 'same-origin'),
            ('X-Frame-Options', 'SAMEORIGIN'),
            ]
        self.hsts = ('Strict-Transport-Security', 'max-age=31536000')

    def __call__(self, environ, start_response):
        def secure_start_response(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers = list(headers) + [
                (name, value) for name, value in self.headers
                if name.lower() not in present]
            if environ.get('wsgi.url_scheme') == 'https':
                headers.append(self.hsts)
            return start_response(status, headers, exc_info)
        try:
            return self.app(environ, secure_start_response)
        except exceptions.HTTPException as e:
            # trytond refuses a cross-origin request by raising 403 outside
            # its dispatcher
            return e(environ, secure_start_response)
        except Exception:
            reference = new_reference()
            logger.exception("Internal error %s: %s", reference,
                environ.get('PATH_INFO'))
            return exceptions.InternalServerError(
                description=FALLBACK['msg_internal_error'] % {
                    'reference': reference})(
                environ, secure_start_response)


class BufferedBody:
    """WSGI middleware: a streamed body is joined into pieces of `size`
    bytes (trytond's JSON-RPC streams a large answer token by token: the
    3,600 lines of the supply ledger were 100,000 chunks of a few bytes,
    0.9 s to send).  A body of one piece and a file sent by the server's
    file wrapper pass as they are."""
    size = 64 * 1024

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        body = self.app(environ, start_response)
        wrapper = environ.get('wsgi.file_wrapper')
        if (isinstance(body, (list, tuple, bytes))
                or (isinstance(wrapper, type)
                    and isinstance(body, wrapper))):
            return body
        return _Joined(body, self.size)


class _Joined:
    "The iterable of a body joined into pieces, closed as WSGI requires"

    def __init__(self, body, size):
        self.body = body
        self.size = size

    def __iter__(self):
        pieces, length = [], 0
        for piece in self.body:
            if not piece:
                continue
            pieces.append(piece)
            length += len(piece)
            if length >= self.size:
                yield b''.join(pieces)
                pieces, length = [], 0
        if pieces:
            yield b''.join(pieces)

    def close(self):
        close = getattr(self.body, 'close', None)
        if close is not None:
            close()


class OneShotEncoder(jsonrpc.JSONEncoder):
    """trytond's JSON-RPC encoder with json's C encoder: trytond encodes an
    answer with `iterencode`, which is json's Python encoder (10 times
    slower: 70 ms for the 3,600 lines of the supply ledger), first to see
    whether it fits in 1,400 bytes, then again to stream it.  The answer is
    encoded once, at the first call, and its pieces given to the second
    call for the same object (per thread)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._last = threading.local()

    def iterencode(self, o, _one_shot=False):
        last = getattr(self._last, 'value', None)
        self._last.value = None
        if last is not None and last[0] is o:
            return iter(last[1])
        chunks = super().iterencode(o, _one_shot=True)
        if not isinstance(chunks, (list, tuple)):
            chunks = list(chunks)
        self._last.value = (o, chunks)
        return iter(chunks)


def install(app):
    "Install the middleware and the error hooks once on trytond's app"
    _install_dispatch(app)
    if not isinstance(app.wsgi_app, SecurityHeaders):
        app.wsgi_app = SecurityHeaders(BufferedBody(app.wsgi_app))
    if not isinstance(jsonrpc.encoder, OneShotEncoder):
        jsonrpc.encoder = OneShotEncoder(separators=(',', ':'))


install(app)
