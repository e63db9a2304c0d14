# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Whole-product fixtures: a PostgreSQL cluster, a database with the test
organisation, an SMTP server and trytond itself under gunicorn (4 workers),
all on loopback and all shared by the tests of the session."""
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pgcluster  # noqa: E402
from serverkit import ROOT, password, start_server  # noqa: E402,F401

from trytond.modules.office_admin.tests.tools import SMTPSink  # noqa: E402

ARTIFACTS = ROOT / 'tests' / 'artifacts'


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


@pytest.fixture(scope='session')
def server(pg_uri, smtp, tmp_path_factory):
    directory = tmp_path_factory.mktemp('server')
    server, process = start_server(pg_uri, smtp.uri, directory)
    yield server
    server.stop_background()
    process.terminate()
    process.wait(10)
    ARTIFACTS.mkdir(exist_ok=True)
    for log in ['server.log', 'worker.log', 'cron.log']:
        if (directory / log).exists():
            shutil.copy(directory / log, ARTIFACTS / log)

