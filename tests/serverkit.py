# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Start trytond for the whole-product tests and the benchmarks: a database
with the test organisation on PostgreSQL and gunicorn with several workers,
on loopback."""
import base64
import os
import shutil
import socket
import subprocess
import sys
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
    def __init__(self, url, database, pg_uri, env):
        self.url = url
        self.database = database
        self.pg_uri = pg_uri
        self.env = env

    def client(self, login):
        return Client(self.url, self.database, login, password(login))


def _run(args, env, **kwargs):
    return subprocess.run(args, env=env, check=True, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)



def start_server(pg_uri, smtp_uri, directory, workers=4, database=DATABASE):
    """Create the database and start gunicorn; return (server, process).
    The caller terminates the process."""
    directory = Path(directory)
    port = free_port()
    conf = directory / 'trytond.conf'
    conf.write_text(f"""
[database]
uri = {pg_uri}
path = {directory / 'filestore'}
list = False
retry = 20
[web]
listen = 127.0.0.1:{port}
root = {ROOT / 'web' / 'node_modules' / 'tryton-sao'}
[email]
uri = {smtp_uri}
from = office@example.com
[session]
max_attempt = 1000
""")
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
    log = open(directory / 'server.log', 'w')
    process = subprocess.Popen([bindir / 'gunicorn', '--workers',
            str(workers), '--threads', '1', '--bind', f'127.0.0.1:{port}',
            '--timeout', '120', 'trytond.application:app'],
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
    return Server(url, database, pg_uri, env), process
