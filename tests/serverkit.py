# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Start trytond for the whole-product tests and the benchmarks: a database
with the test organisation on PostgreSQL and gunicorn with several workers,
on loopback."""
import atexit
import base64
import contextlib
import os
import signal
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from rpc import Client

ROOT = Path(__file__).resolve().parents[1]
DATABASE = 'office_it'
ADMIN_PASSWORD = 'admin-Pass-2026'


def percentile(values, p):
    "The p-th percentile of values, linearly interpolated (benchmarks)"
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    f, c = int(k), min(int(k) + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def password(login):
    return ADMIN_PASSWORD if login == 'admin' else f'{login}-Pass-2026'


class Server:
    def __init__(self, url, database, pg_uri, env, smtp_uri=None):
        self.url = url
        self.database = database
        self.pg_uri = pg_uri
        self.env = env
        self.smtp_uri = smtp_uri
        self.directory = Path(env['TRYTOND_CONFIG']).parent
        self.pid = None  # gunicorn's master process
        self.background = {}  # trytond-worker and trytond-cron: Popen

    def start_background(self, *names):
        """Start trytond-worker (the queue) and trytond-cron (scheduled
        jobs) beside gunicorn, each in its own process group with its own
        log (worker.log, cron.log); names: only these."""
        bindir = Path(sys.executable).parent
        commands = {
            # the office's worker: trytond-worker's loop, started again
            # when PostgreSQL restarts (bin/_worker.py)
            'worker': [sys.executable, ROOT / 'bin' / '_worker.py',
                '-n', '1', '-t', '5'],
            'cron': [bindir / 'trytond-cron', '-n', '1'],
            }
        for name in names or commands:
            if name in self.background:
                continue
            log = open(self.directory / f'{name}.log', 'a')
            self.background[name] = subprocess.Popen(
                commands[name] + ['-d', self.database],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
            _BACKGROUND.add(self.background[name])

    def stop_background(self, *names):
        "Stop trytond-worker and trytond-cron (or only names), whole"
        for name in names or list(self.background):
            process = self.background.pop(name, None)
            if process is not None:
                _stop_group(process)

    def worker_pids(self):
        "The pids of gunicorn's workers"
        pids = set()
        for stat in Path('/proc').glob('[0-9]*/stat'):
            try:
                fields = stat.read_text().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                pids.add(int(stat.parent.name))
        return pids

    def worker_of(self, probe, timeout=5):
        """The pid of the worker that served the request sent with the
        PROBE_HEADER probe (read from the access log)."""
        deadline = time.monotonic() + timeout
        log = self.directory / 'access.log'
        while True:
            for line in log.read_text().splitlines():
                pid, _, rest = line.partition(' ')
                if rest.split(' ', 1)[0] == probe:
                    return int(pid.strip('<>'))
            if time.monotonic() > deadline:
                raise LookupError(probe)
            time.sleep(0.02)

    def client(self, login):
        return Client(self.url, self.database, login, password(login))


_BACKGROUND = set()


def _stop_group(process):
    "Stop process and its children (its own process group)"
    _BACKGROUND.discard(process)
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        except ProcessLookupError:
            pass


@atexit.register
def _stop_background():
    for process in list(_BACKGROUND):
        _stop_group(process)


def _run(args, env, **kwargs):
    return subprocess.run(args, env=env, check=True, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


# The access log names the worker (pid) that served each request and the
# request's X-Office-Probe header, so a test can tell the workers apart.
ACCESS_LOG_FORMAT = '%(p)s %({x-office-probe}i)s %(s)s "%(r)s"'
PROBE_HEADER = 'X-Office-Probe'


def write_config(directory, pg_uri, smtp_uri, port, extra=None):
    """Write directory/trytond.conf for a server on port and return its
    path; extra maps sections to options added or replaced."""
    sections = {
        'database': {
            'uri': pg_uri,
            'path': directory / 'filestore',
            'list': 'False',
            'retry': '20',
            },
        'web': {
            'listen': f'127.0.0.1:{port}',
            'root': ROOT / 'web' / 'node_modules' / 'tryton-sao',
            },
        'email': {
            'uri': smtp_uri,
            'from': 'office@example.com',
            },
        'session': {
            'max_attempt': '1000',
            },
        # Several workers: every worker LISTENs to PostgreSQL's ir_cache
        # channel, so a change of groups, rules or access committed in one
        # worker clears the caches of all of them at once (trytond's
        # default, 300, lets the others use stale rights for 5 minutes).
        'cache': {
            'clean_timeout': '0',
            },
        }
    for section, options in (extra or {}).items():
        sections.setdefault(section, {}).update(options)
    conf = directory / 'trytond.conf'
    conf.write_text(''.join(
            f'[{section}]\n' + ''.join(
                f'{option} = {value}\n' for option, value in options.items())
            for section, options in sections.items()))
    return conf


def start_server(pg_uri, smtp_uri, directory, workers=4, database=DATABASE,
        extra=None, background=True):
    """Create the database and start gunicorn; return (server, process).
    extra: configuration options as in write_config. The caller terminates
    the process. background: trytond-worker runs the queued tasks (e-mails)
    and trytond-cron the scheduled jobs, as in production (stopped with
    server.stop_background(), or at exit)."""
    directory = Path(directory)
    port = free_port()
    if background:
        # An e-mail that fails is tried again 1 s later, then 2, 4...
        sections = {'queue': {'worker': 'True'},
            'office': {'email_retry_delay': '1'}}
        for section, options in (extra or {}).items():
            sections.setdefault(section, {}).update(options)
        extra = sections
    conf = write_config(directory, pg_uri, smtp_uri, port, extra)
    passfile = directory / 'admin-password'
    passfile.write_text(ADMIN_PASSWORD)
    env = dict(os.environ, TRYTOND_CONFIG=str(conf),
        TRYTONPASSFILE=str(passfile), TRYTOND_DATABASE_NAMES=database,
        TRYTOND_LOGGING_LEVEL='30')
    env.pop('DB_NAME', None)
    # Classified archive files are encrypted with the archive key
    env.setdefault('OFFICE_ARCHIVE_KEY', base64.b64encode(
            os.urandom(32)).decode())
    psql = shutil.which('psql') or 'psql'
    _run([psql, f'{pg_uri}/postgres', '-qc',
            f'DROP DATABASE IF EXISTS {database} WITH (FORCE)'], env)
    _run([psql, f'{pg_uri}/postgres', '-qc',
            f'CREATE DATABASE {database} TEMPLATE template1'], env)
    bindir = Path(sys.executable).parent
    _run([bindir / 'trytond-admin', '-d', database, '--all',
            '--email', 'admin@example.com'], env)
    _run([bindir / 'trytond-admin', '-d', database, '-u', 'office_admin',
            '--activate-dependencies'], env)
    _run([sys.executable, ROOT / 'data' / 'demo.py', '-d', database,
            '--small'], env)
    process = _gunicorn(directory, port, env, workers)
    server = Server(
        f'http://127.0.0.1:{port}', database, pg_uri, env, smtp_uri)
    server.pid = process.pid
    if background:
        server.start_background()
    return server, process


@contextlib.contextmanager
def bench_server(database, workers=4):
    """The set-up of a benchmark: a throw-away PostgreSQL cluster (or the
    one of PG_URI), an SMTP sink and start_server's trytond on database, in
    a temporary folder. Yields (server, folder); stops them all at the end,
    whatever happens."""
    import pgcluster
    from trytond.modules.office_admin.tests.tools import SMTPSink

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        pg_uri = os.environ.get('PG_URI')
        if not pg_uri:
            pg_dir = tmp / 'pg'

            @stack.callback
            def stop_cluster():
                with contextlib.suppress(subprocess.CalledProcessError):
                    pgcluster.stop(pg_dir)
            pg_uri = pgcluster.start(pg_dir)
        smtp = SMTPSink()
        stack.callback(smtp.stop)
        server_dir = tmp / 'server'
        server_dir.mkdir()
        server, process = start_server(pg_uri, smtp.uri, server_dir,
            workers=workers, database=database)

        @stack.callback
        def stop():
            server.stop_background()
            process.terminate()
            process.wait(10)
        yield server, tmp


def start_other_server(server, directory, extra=None, workers=2):
    """Start another gunicorn on server's database with a configuration of
    its own (extra as in write_config); return (server, process)."""
    directory = Path(directory)
    port = free_port()
    sections = {'database': {'path': server.directory / 'filestore'}}
    for section, options in (extra or {}).items():
        sections.setdefault(section, {}).update(options)
    conf = write_config(
        directory, server.pg_uri, server.smtp_uri, port, sections)
    env = dict(server.env, TRYTOND_CONFIG=str(conf))
    process = _gunicorn(directory, port, env, workers)
    other = Server(f'http://127.0.0.1:{port}', server.database,
        server.pg_uri, env, server.smtp_uri)
    other.pid = process.pid
    return other, process


def _gunicorn(directory, port, env, workers):
    "Start gunicorn and wait until it answers"
    bindir = Path(sys.executable).parent
    log = open(directory / 'server.log', 'w')
    process = subprocess.Popen([bindir / 'gunicorn', '--workers',
            str(workers), '--threads', '1', '--bind', f'127.0.0.1:{port}',
            '--timeout', '120',
            # Idle workers take 8-10 s to exit on a busy machine: do not
            # wait for them longer than this when the tests end
            '--graceful-timeout', '4',
            '--access-logfile', str(directory / 'access.log'),
            '--access-logformat', ACCESS_LOG_FORMAT,
            'trytond.modules.office_admin.application:app'],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    for _ in range(300):
        try:
            urllib.request.urlopen(url + '/', timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(
                    (directory / 'server.log').read_text()[-3000:])
            time.sleep(0.1)
    return process
