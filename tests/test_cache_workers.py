# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A right taken away in one worker is refused at once by every worker.

Each gunicorn worker keeps trytond's caches (groups of a user, model
access, record rules) in its own memory; with `[cache] clean_timeout = 0`
on PostgreSQL a commit that changes them NOTIFYs every worker. Requests
are tagged with a probe header and the access log tells which worker
served each of them."""
import concurrent.futures
import json
import urllib.error
import urllib.request
import uuid

import pytest
from rpc import Client, RPCError
from serverkit import PROBE_HEADER

LOGIN = 'cache_probe'
PASSWORD = 'Cache-Probe-Pass-2026'
# Readable only by Office Administrators
MODEL = 'office.notification.log'


def call(server, client, method, *params):
    """Call method as client's user on a new connection; return (pid of
    the worker, result or RPCError)."""
    probe = uuid.uuid4().hex
    data = json.dumps({'id': 1, 'method': method,
            'params': list(params)}).encode()
    request = urllib.request.Request(
        f'{server.url}/{server.database}/rpc/', data=data, headers={
            'Content-Type': 'application/json',
            'Authorization': f'Session {client.session}',
            PROBE_HEADER: probe,
            })
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as e:
        answer = {'error': ['HTTPError', [str(e.code)]]}
    if answer.get('error'):
        result = RPCError(answer['error'])
    else:
        result = answer['result']
    return server.worker_of(probe), result


def every_worker(server, client, method, *params, rounds=60):
    """Call method until every worker has answered it; return the answers
    by worker pid.

    The calls go in concurrent batches of twice as many as there are
    workers: sequential calls may all be accepted by the same idle worker
    (the kernel wakes whichever waits), but a worker busy with one call
    leaves the next ones to the others."""
    workers = server.worker_pids()
    assert len(workers) >= 2, workers
    answers = {}
    with concurrent.futures.ThreadPoolExecutor(2 * len(workers)) as pool:
        for _ in range(rounds):
            for pid, result in pool.map(
                    lambda _: call(server, client, method, *params),
                    range(2 * len(workers))):
                answers.setdefault(pid, []).append(result)
            if set(answers) >= workers:
                return answers
            # a worker restarted meanwhile is not waited for
            workers &= server.worker_pids() | set(answers)
            if set(answers) >= workers:
                return answers
    pytest.fail(f"workers {workers - set(answers)} never answered")


@pytest.fixture
def probe_user(server):
    admin = server.client('admin')
    group_id, = admin.search('res.group', [
            ('name', '=', "Office Administrator")])
    user_ids = admin.search('res.user', [('login', '=', LOGIN)])
    if not user_ids:
        user_ids = admin.model('res.user', 'create', [{
                    'name': "Cache Probe", 'login': LOGIN,
                    'password': PASSWORD}])
    user_id, = user_ids
    admin.model('res.user', 'write', [user_id], {
            'groups': [('add', [group_id])]})
    yield admin, user_id, group_id
    admin.model('res.user', 'write', [user_id], {
            'groups': [('remove', [group_id])]})


def test_revoked_group_refused_by_every_worker(server, probe_user):
    admin, user_id, group_id = probe_user
    user = Client(server.url, server.database, LOGIN, PASSWORD)
    method = f'model.{MODEL}.search_count'
    # Every worker has the user's groups and the model access in its cache
    allowed = every_worker(server, user, method, [], 0, None, {})
    for pid, results in allowed.items():
        assert all(isinstance(r, int) for r in results), (pid, results)

    admin.model('res.user', 'write', [user_id], {
            'groups': [('remove', [group_id])]})

    # From the next request on, every worker refuses
    refused = every_worker(server, user, method, [], 0, None, {})
    for pid, results in refused.items():
        for result in results:
            assert isinstance(result, RPCError), (
                f"worker {pid} still allowed the revoked group")
            assert 'not allowed to access' in result.message, result.error
