# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Faults survived on PostgreSQL under gunicorn (4 workers).

- A worker killed (SIGKILL) in the middle of a write: an archive entry with
  its files, held half-written by a lock on the files' table. The request
  fails whole (no entry, no file row), the master starts a new worker and
  the same request then succeeds whole.
- PostgreSQL restarted under load: the clients get HTTP 503 ("The server
  is busy. Try again in a moment") or their answer, nothing else; then
  every call succeeds again, with the same workers (trytond is not
  restarted), and a change of rights still reaches every worker (the cache
  listeners reconnected)."""
import base64
import os
import shlex
import signal
import subprocess
import threading
import time
import urllib.error
import uuid

import pgcluster
import psycopg
import pytest
from rpc import Client, RPCError
from test_cache_workers import every_worker

FILES = 20


def as_bytes(data):
    return {'__class__': 'bytes', 'base64': base64.b64encode(data).decode()}


def sql(server, query):
    with psycopg.connect(f'{server.pg_uri}/{server.database}') as conn:
        return conn.execute(query).fetchall()


def wait_for(predicate, timeout=30, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(step)
    return predicate()


def worker_on_backend(server, backend_port):
    """The gunicorn worker whose connection to PostgreSQL has the local
    port backend_port (the client_port of pg_stat_activity)"""
    inodes = set()
    for table in ['/proc/net/tcp', '/proc/net/tcp6']:
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(':', 1)[1], 16) == backend_port:
                inodes.add(fields[9])
    for pid in server.worker_pids():
        try:
            links = [os.readlink(f'/proc/{pid}/fd/{fd}')
                for fd in os.listdir(f'/proc/{pid}/fd')]
        except OSError:
            continue
        if any(link == f'socket:[{inode}]'
                for link in links for inode in inodes):
            return pid


def new_entry(client, title, department, doc_type):
    return client.model('office.archive', 'create', [{
                'company': client.context['company'], 'year': 2026,
                'department': department, 'type': doc_type, 'title': title,
                'secrecy': 'internal',
                'files': [('create', [{
                                'name': f'page-{i}.txt',
                                'data': as_bytes(f'{title} {i}'.encode())}
                            for i in range(FILES)])],
                }])


def test_worker_killed_mid_write(server):
    office = server.client('office_head')
    department, = office.search('office.department', [('code', '=', 'OFF')])
    doc_type = office.search('office.document.type', [])[0]
    title = f"Fault {uuid.uuid4().hex}"
    files_before, = sql(server, 'SELECT count(*) FROM office_archive_file')[0]
    workers_before = server.worker_pids()
    assert len(workers_before) == 4

    outcome = {}

    def write():
        try:
            outcome['result'] = new_entry(
                office, title, department, doc_type)
        except (RPCError, OSError) as error:
            outcome['error'] = error

    with psycopg.connect(f'{server.pg_uri}/{server.database}') as blocker:
        # The entry's row is inserted, its files wait for the lock
        blocker.execute('LOCK TABLE office_archive_file IN SHARE MODE')
        thread = threading.Thread(target=write)
        thread.start()
        waiting = wait_for(lambda: sql(server,
                "SELECT client_port FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' "
                f"AND datname = '{server.database}' "
                "AND query LIKE '%office_archive_file%'"))
        assert waiting, "the write never reached the files"
        inserted = sql(server, "SELECT count(*) FROM pg_locks l "
            "JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'office_archive' AND l.mode = "
            "'RowExclusiveLock'")[0][0]
        assert inserted, "the entry is not being written"
        victim = worker_on_backend(server, waiting[0][0])
        assert victim in workers_before
        os.kill(victim, signal.SIGKILL)
        thread.join(60)
        # PostgreSQL notices the lost client only when the backend next
        # talks to it: its INSERT goes on waiting for the lock
        blocker.rollback()
    # Once the lock is free the INSERT ends, the backend finds no client
    # and rolls the transaction back: no COMMIT ever came
    assert wait_for(lambda: not sql(server,
            "SELECT 1 FROM pg_stat_activity "
            f"WHERE datname = '{server.database}' "
            "AND query LIKE '%office_archive_file%' "
            "AND state <> 'idle' AND pid <> pg_backend_pid()"), timeout=30)

    # The client saw the request fail (connection closed or HTTP 502)...
    assert 'error' in outcome, outcome
    # ... and nothing of it was written
    assert office.search('office.archive', [('title', '=', title)]) == []
    assert sql(server, 'SELECT count(*) FROM office_archive_file')[0][0] \
        == files_before

    # The master replaced the worker
    workers = wait_for(lambda: (lambda pids: pids if len(pids) == 4
            and victim not in pids else None)(server.worker_pids()))
    assert workers and victim not in workers, server.worker_pids()

    # The same request now succeeds whole
    entry, = new_entry(office, title, department, doc_type)
    assert len(office.search('office.archive.file',
            [('archive', '=', entry)])) == FILES


PROBE_LOGIN = 'fault_probe'
PROBE_PASSWORD = 'Fault-Probe-Pass-2026'


def probe_user(admin):
    "A user in Office Administrator: (user id, group id)"
    group, = admin.search('res.group', [
            ('name', '=', "Office Administrator")])
    users = admin.search('res.user', [('login', '=', PROBE_LOGIN)]) or \
        admin.model('res.user', 'create', [{
                    'name': "Fault Probe", 'login': PROBE_LOGIN,
                    'password': PROBE_PASSWORD}])
    user_id, = users
    admin.model('res.user', 'write', [user_id], {
            'groups': [('add', [group])]})
    return user_id, group


def throwaway_cluster(server):
    """The data directory of the server's cluster when tests/pgcluster.py
    made it (its folder holds the uri file), else None"""
    data = sql(server, 'SHOW data_directory')[0][0]
    uri = os.path.join(os.path.dirname(data), 'uri')
    try:
        with open(uri) as fp:
            if fp.read().strip() == server.pg_uri:
                return data
    except OSError:
        pass


def pg_ctl(data, *args):
    "Run pg_ctl on the cluster of data (restart, stop, start)"
    pgcluster._run([os.path.join(pgcluster._bindir(), 'pg_ctl'), '-D', data,
            '-w', *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def restart_postgresql(server):
    data = throwaway_cluster(server)
    if not data:
        pytest.skip("restarts only a cluster of tests/pgcluster.py")
    pg_ctl(data, '-m', 'fast', 'restart')


def test_postgresql_restart_under_load(server, smtp):
    if not throwaway_cluster(server):
        pytest.skip("restarts only a cluster of tests/pgcluster.py")
    admin = server.client('admin')
    probe = probe_user(admin)
    clients = [server.client(login)
        # even: employees who submit requests; odd: readers
        for login in ['sales1', 'sales2', 'north1', 'office_head']]
    seal, = clients[0].search('office.seal', [('code', '=', 'GZ')])
    # Every worker has started and answered (a worker the test before
    # killed may still be starting on a loaded machine): the restart hits
    # workers at work; test_worker_started_while_postgresql_down is the
    # other case
    every_worker(server, Client(server.url, server.database, PROBE_LOGIN,
            PROBE_PASSWORD), 'model.office.notification.log.search_count',
        [], 0, None, {})
    workers = server.worker_pids()
    stop = threading.Event()
    restarted = threading.Event()
    lock = threading.Lock()
    answers = []  # (client, after restart, 'ok' or the error)

    def load(client, i):
        n = 0
        while not stop.is_set():
            n += 1
            after = restarted.is_set()
            try:
                if i % 2:
                    client.model('office.approval.step', 'search_count',
                        [('mine', '=', True)])
                else:
                    request, = client.model('office.seal.request', 'create',
                        [{'seal': seal, 'purpose': 'fault',
                                'document_title': f"重启 {i}-{n}"}])
                    client.model('office.seal.request', 'submit', [request])
                result = 'ok'
            except RPCError as error:
                result = error.error
            except (OSError, urllib.error.URLError) as error:
                result = repr(error)
            with lock:
                answers.append((i, after, result))
            time.sleep(0.05)

    threads = [threading.Thread(target=load, args=(c, i))
        for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        restart_postgresql(server)
        restarted.set()
        # Load goes on until every client succeeded after the restart
        assert wait_for(lambda: all(sum(1 for c, a, r in list(answers)
                    if c == i and a and r == 'ok') >= 1
                for i in range(len(clients))), timeout=90), [
            (c, r) for c, a, r in answers if a and r != 'ok']
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)

    errors = [r for _, _, r in answers if r != 'ok']
    for error in errors:
        # HTTP 503 is what the client sees while the database is away
        assert error == ['HTTPError', ['503']], errors
    # Once a client succeeded after the restart, all its calls succeeded
    for i in range(len(clients)):
        mine = [r for c, a, r in answers if c == i and a]
        recovered = mine[mine.index('ok'):]
        assert all(r == 'ok' for r in recovered), (i, mine)
    # trytond was not restarted: the same workers serve
    assert server.worker_pids() == workers

    # The queue worker reconnected by itself: the reviewer's e-mail of a
    # request submitted now goes out
    if 'worker' in server.background:
        request, = clients[0].model('office.seal.request', 'create',
            [{'seal': seal, 'purpose': 'fault', 'document_title': "重启后"}])
        clients[0].model('office.seal.request', 'submit', [request])
        number, = [r['number'] for r in clients[0].read(
                    'office.seal.request', [request], ['number'])]
        assert wait_for(lambda: any(number in m
                    for m in smtp.to('sales_head@example.com')),
            timeout=60), "no e-mail after the restart"

    # The cache listeners reconnected: a group revoked now is refused by
    # every worker, each having cached the user's rights since the restart
    user_id, group = probe
    user = Client(server.url, server.database, PROBE_LOGIN, PROBE_PASSWORD)
    method = 'model.office.notification.log.search_count'
    for pid, results in every_worker(
            server, user, method, [], 0, None, {}).items():
        assert all(isinstance(r, int) for r in results), (pid, results)
    admin.model('res.user', 'write', [user_id],
        {'groups': [('remove', [group])]})
    for pid, results in every_worker(
            server, user, method, [], 0, None, {}).items():
        for result in results:
            assert isinstance(result, RPCError), (
                f"worker {pid} still allowed the revoked group")


def test_worker_started_while_postgresql_down(server):
    """A worker that starts while PostgreSQL is down starts all the same
    and loads the database at its first request; gunicorn stays up (with
    trytond.application the worker's failed load left its pool's threads,
    trytond refused them, the worker exited with gunicorn's boot error and
    gunicorn stopped whole)"""
    data = throwaway_cluster(server)
    if not data:
        pytest.skip("restarts only a cluster of tests/pgcluster.py")
    probe_user(server.client('admin'))
    user = Client(server.url, server.database, PROBE_LOGIN, PROBE_PASSWORD)
    method = 'model.office.notification.log.search_count'
    every_worker(server, user, method, [], 0, None, {})
    log = server.directory / 'server.log'
    failed_loads = log.read_text().count('not loaded at start')
    workers = server.worker_pids()
    victim = min(workers)
    pg_ctl(data, '-m', 'fast', 'stop')
    try:
        os.kill(victim, signal.SIGKILL)
        # The master starts another worker; it tries to load the database
        # and cannot
        started = wait_for(lambda: (lambda pids: pids
                if len(pids) == len(workers) and victim not in pids
                else None)(server.worker_pids()), timeout=60)
        assert started, server.worker_pids()
        assert wait_for(lambda: log.read_text().count('not loaded at start')
            > failed_loads, timeout=90), log.read_text()[-3000:]
        time.sleep(1)
        # gunicorn is still there with its workers
        assert server.worker_pids() == started
    finally:
        # pg_ctl start forgets the options the cluster was started with
        # (port, socket folder...); postmaster.opts keeps them
        with open(os.path.join(data, 'postmaster.opts')) as fp:
            options = shlex.split(fp.read())[1:]
        i = options.index('-D')
        options[i:i + 2] = []
        pg_ctl(data, '-o', shlex.join(options), '-l',
            os.path.join(os.path.dirname(data), 'log'), 'start')
    # Every worker answers, the new one too (it loads the database now)
    answers = every_worker(server, user, method, [], 0, None, {})
    assert set(answers) >= started - workers, (answers, started)
    for pid, results in answers.items():
        assert any(isinstance(r, int) for r in results), (pid, results)
