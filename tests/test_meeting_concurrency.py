# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Twenty users book the same room for overlapping times at once, through
four trytond workers on PostgreSQL: exactly one gets it."""
import datetime as dt

import pytest
from test_concurrency import run_together

CLIENTS = 20
LOGINS = ['sales1', 'sales2', 'north1', 'fin1', 'clerk', 'vgm', 'gm',
    'fin_head', 'sales_head', 'office_head']


@pytest.fixture(scope='module')
def room(server):
    admin = server.client('office_head')
    room_id, = admin.model('office.meeting.room', 'create', [dict(
                name="并发测试会议室", capacity=50,
                open_from=dt.time(0, 0), open_to=dt.time(23, 59))])
    return room_id


def test_exclusion_constraint_exists(server):
    "PostgreSQL enforces it: a real EXCLUDE USING gist, not a Python check"
    import subprocess
    output = subprocess.run(['psql', f'{server.pg_uri}/{server.database}',
            '-tAc', "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname LIKE 'office_meeting%overlap'"],
        capture_output=True, text=True, check=True).stdout
    assert 'EXCLUDE USING gist (room WITH =, tsrange' in output, output
    assert 'EXCLUDE USING gist (equipment WITH =, tsrange' in output, output


def test_twenty_clients_book_same_room(server, room):
    clients = [server.client(LOGINS[i % len(LOGINS)])
        for i in range(CLIENTS)]
    # Tomorrow + 10 days, 02:00 UTC; each asks for an overlapping slot
    base = dt.datetime.combine(
        dt.date.today() + dt.timedelta(days=10), dt.time(2, 0))
    ids = []
    for i, client in enumerate(clients):
        meeting_id, = client.model('office.meeting', 'create', [dict(
                    topic=f"抢会议室 {i}", room=room,
                    start=base + dt.timedelta(minutes=i),
                    end=base + dt.timedelta(minutes=60 + i))])
        ids.append(meeting_id)
    results = run_together(*[
            (lambda c=c, m=m: c.model('office.meeting', 'request', [m]))
            for c, m in zip(clients, ids)])
    outcomes = [r[0] for r in results]
    assert outcomes.count('ok') == 1, results
    for kind, error in results:
        if kind == 'error':
            assert 'already booked' in error.message, error.error
    admin = server.client('office_head')
    states = [m['state'] for m in admin.read('office.meeting', ids, ['state'])]
    assert states.count('confirmed') == 1
    assert states.count('draft') == CLIENTS - 1
