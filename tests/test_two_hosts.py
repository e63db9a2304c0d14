# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two hosts on one database and one filestore: the tests' server (4
workers) and an independent second gunicorn (2 workers, its own
configuration file, as another machine would run it). A change of rights,
a booking, a sequence number and a stored file are seen the same by both."""
import base64
import datetime as dt

import pytest
from rpc import Client, RPCError
from serverkit import start_other_server
from test_cache_workers import every_worker
from test_concurrency import run_together

LOGIN = 'two_hosts_probe'
PASSWORD = 'Two-Hosts-Probe-Pass-2026'


@pytest.fixture(scope='module')
def other(server, tmp_path_factory):
    directory = tmp_path_factory.mktemp('other-host')
    other, process = start_other_server(server, directory)
    yield other
    process.terminate()
    process.wait(10)


def test_revoked_group_refused_on_both_hosts(server, other):
    admin = server.client('admin')
    group, = admin.search('res.group', [('name', '=', "Office Administrator")])
    users = admin.search('res.user', [('login', '=', LOGIN)]) or \
        admin.model('res.user', 'create', [{
                    'name': "Two Hosts Probe", 'login': LOGIN,
                    'password': PASSWORD}])
    user_id, = users
    admin.model('res.user', 'write', [user_id], {'groups': [('add', [group])]})
    method = 'model.office.notification.log.search_count'
    # The session of one host is good on the other (stored in the database)
    user = Client(server.url, server.database, LOGIN, PASSWORD)
    for host in [server, other]:
        for pid, results in every_worker(
                host, user, method, [], 0, None, {}).items():
            assert all(isinstance(r, int) for r in results), (pid, results)

    # Revoked on the first host...
    admin.model('res.user', 'write', [user_id],
        {'groups': [('remove', [group])]})

    # ... refused at once by every worker of both
    for host in [other, server]:
        for pid, results in every_worker(
                host, user, method, [], 0, None, {}).items():
            for result in results:
                assert isinstance(result, RPCError), (
                    f"worker {pid} of {host.url} still allowed it")


def test_no_double_booking_across_hosts(server, other):
    office = server.client('office_head')
    room, = office.model('office.meeting.room', 'create', [dict(
                name="两主机会议室", capacity=10,
                open_from=dt.time(0, 0), open_to=dt.time(23, 59))])
    start = dt.datetime.combine(
        dt.date.today() + dt.timedelta(days=12), dt.time(3, 0))
    clients = [server.client(login) for login in ['sales1', 'fin1']] + [
        other.client(login) for login in ['sales2', 'north1']]
    meetings = []
    for i, client in enumerate(clients):
        meeting, = client.model('office.meeting', 'create', [dict(
                    topic=f"两主机 {i}", room=room,
                    start=start + dt.timedelta(minutes=5 * i),
                    end=start + dt.timedelta(minutes=60 + 5 * i))])
        meetings.append(meeting)
    results = run_together(*[
            (lambda c=c, m=m: c.model('office.meeting', 'request', [m]))
            for c, m in zip(clients, meetings)])
    assert [r[0] for r in results].count('ok') == 1, results
    for kind, error in results:
        if kind == 'error':
            assert 'already booked' in error.message, error.error
    states = {}
    for host in [server, other]:
        admin = host.client('office_head')
        states[host.url] = [m['state'] for m in admin.read(
                'office.meeting', meetings, ['state'])]
    first, second = states.values()
    assert first == second
    assert first.count('confirmed') == 1


def test_numbers_unique_across_hosts(server, other):
    clients = []
    for host in [server, other]:
        clients += [host.client(login) for login in ['sales1', 'north1']]
    seal = clients[0].search('office.seal', [('code', '=', 'GZ')])[0]
    requests = [c.model('office.seal.request', 'create', [dict(
                    seal=seal, document_title=f"两主机编号 {i}",
                    purpose="numbers")])[0]
        for i, c in enumerate(clients)]
    results = run_together(*[
            (lambda c=c, r=r: c.model('office.seal.request', 'submit', [r]))
            for c, r in zip(clients, requests)])
    assert all(kind == 'ok' for kind, _ in results), results
    numbers = {}
    for host in [server, other]:
        office = host.client('office_head')
        numbers[host.url] = sorted(r['number'] for r in office.read(
                'office.seal.request', requests, ['number']))
    first, second = numbers.values()
    assert first == second
    assert all(first) and len(set(first)) == len(requests), first


def test_file_stored_on_one_host_read_on_the_other(server, other):
    office = server.client('office_head')
    department, = office.search('office.department', [('code', '=', 'OFF')])
    doc_type = office.search('office.document.type', [])[0]
    data = b'stored by the first host ' + (
        dt.datetime.now().isoformat().encode())
    entry, = office.model('office.archive', 'create', [{
                'company': office.context['company'], 'year': 2026,
                'department': department, 'type': doc_type,
                'title': "两主机文件", 'secrecy': 'public',
                'files': [('create', [{'name': 'shared.txt', 'data': {
                                    '__class__': 'bytes',
                                    'base64': base64.b64encode(data).decode(),
                                    }}])]}])
    file, = office.search('office.archive.file', [('archive', '=', entry)])
    read, = other.client('office_head').read(
        'office.archive.file', [file], ['data'])
    assert read['data'] == data
