# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Whole-product fixtures: a PostgreSQL cluster, a database with the test
organisation, an SMTP server and trytond itself under gunicorn (4 workers),
all on loopback and all shared by the tests of the session."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pgcluster  # noqa: E402
from rpc import Client  # noqa: E402

from trytond.modules.office_admin.tests.tools import SMTPSink  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATABASE = 'office_it'
ADMIN_PASSWORD = 'admin-Pass-2026'
ARTIFACTS = ROOT / 'tests' / 'artifacts'


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def password(login):
    return ADMIN_PASSWORD if login == 'admin' else f'{login}-Pass-2026'


@pytest.fixture(scope='session')
def pg_uri(tmp_path_factory):
    uri = os.environ.get('PG_URI')
    if uri:
        yield uri
        return
    directory = tmp_path_factory.mktemp('pg')
    uri = pgcluster.start(directory)
    yield uri
    pgcluster.stop(directory)


@pytest.fixture(scope='session')
def smtp():
    sink = SMTPSink()
    yield sink
    sink.stop()


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


@pytest.fixture(scope='session')
def server(pg_uri, smtp, tmp_path_factory):
    directory = tmp_path_factory.mktemp('server')
    port = free_port()
    conf = directory / 'trytond.conf'
    conf.write_text(f"""
[database]
uri = {pg_uri}
path = {directory / 'filestore'}
list = False
[web]
listen = 127.0.0.1:{port}
root = {ROOT / 'web' / 'node_modules' / 'tryton-sao'}
[email]
uri = {smtp.uri}
from = office@example.com
[session]
max_attempt = 1000
[password]
length = 8
""")
    passfile = directory / 'admin-password'
    passfile.write_text(ADMIN_PASSWORD)
    env = dict(os.environ, TRYTOND_CONFIG=str(conf),
        TRYTONPASSFILE=str(passfile), TRYTOND_DATABASE_NAMES=DATABASE,
        TRYTOND_LOGGING_LEVEL='30')
    env.pop('DB_NAME', None)
    psql = shutil.which('psql') or 'psql'
    _run([psql, f'{pg_uri}/postgres', '-qc',
            f'DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)'], env)
    _run([psql, f'{pg_uri}/postgres', '-qc',
            f'CREATE DATABASE {DATABASE} TEMPLATE template1'], env)
    bindir = Path(sys.executable).parent
    _run([bindir / 'trytond-admin', '-d', DATABASE, '--all',
            '--email', 'admin@example.com'], env)
    _run([bindir / 'trytond-admin', '-d', DATABASE, '-u', 'office_admin',
            '--activate-dependencies'], env)
    _run([sys.executable, ROOT / 'data' / 'demo.py', '-d', DATABASE,
            '--small'], env)
    log = open(directory / 'server.log', 'w')
    process = subprocess.Popen([bindir / 'gunicorn', '--workers', '4',
            '--threads', '1', '--bind', f'127.0.0.1:{port}',
            '--timeout', '120', 'trytond.application:app'],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    for _ in range(200):
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
    yield Server(url, DATABASE, pg_uri, env)
    process.terminate()
    process.wait(10)
    log.close()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(directory / 'server.log', ARTIFACTS / 'server.log')
