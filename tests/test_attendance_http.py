# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The clock-device endpoint over real HTTP against trytond under gunicorn on
PostgreSQL: the application key, idempotent intake, refused rows with their
reasons while the good rows are stored."""
import datetime as dt
import json
import urllib.error
import urllib.request

import pytest


def post(server, key, body, content_type='application/json'):
    url = f'{server.url}/{server.database}/office_admin/attendance/punches'
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method='POST',
        headers={'Content-Type': content_type})
    if key is not None:
        request.add_header('Authorization', f'Bearer {key}')
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


@pytest.fixture(scope='module')
def device(server):
    "A clock code for sales1 and an application key for the HR device user"
    admin = server.client('admin')
    sales1 = server.client('sales1')
    employee, = [u['employee'] for u in admin.read(
            'res.user', [sales1.user_id], ['employee'])]
    admin.model('company.employee', 'write', [employee],
        {'clock_code': 'HTTP001'})
    application_id, = admin.model('res.user.application', 'create', [{
                'user': admin.user_id, 'application': 'office_admin'}])
    key, = [a['key'] for a in admin.read(
            'res.user.application', [application_id], ['key'])]
    return key, employee


def test_wrong_key_is_refused(server, device):
    assert post(server, None, {'punches': []})[0] == 401
    assert post(server, 'not-a-key', {'punches': []})[0] == 401


def test_key_of_a_non_hr_user_is_forbidden(server):
    admin = server.client('admin')
    clerk = server.client('clerk')
    application_id, = admin.model('res.user.application', 'create', [{
                'user': clerk.user_id, 'application': 'office_admin'}])
    key, = [a['key'] for a in admin.read(
            'res.user.application', [application_id], ['key'])]
    assert post(server, key, {'punches': []})[0] == 403


def test_batch_stored_once_and_bad_rows_refused(server, device):
    key, employee = device
    at = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)).replace(
        microsecond=0)
    good = {'employee': 'HTTP001', 'device': 'GATE-9',
        'timestamp': at.isoformat(), 'method': 'face'}
    status, result = post(server, key, {'punches': [
                good,
                dict(good),
                {'employee': 'HTTP001', 'timestamp': 'not a time'},
                {'employee': 'NOBODY', 'timestamp': at.isoformat()},
                {'employee': 'HTTP001', 'timestamp': (
                        at + dt.timedelta(days=2)).isoformat()},
                {'employee': 'HTTP001', 'timestamp': at.isoformat(),
                    'method': 'telepathy'},
                'garbage',
                ]})
    assert status == 200, result
    assert result['stored'] == [0]
    assert result['duplicates'] == [1]
    reasons = {r['row']: r['reason'] for r in result['refused']}
    assert sorted(reasons) == [2, 3, 4, 5, 6]
    assert 'ISO 8601' in reasons[2]
    assert 'NOBODY' in reasons[3]
    assert 'future' in reasons[4]
    assert 'telepathy' in reasons[5]

    # The device sends the same batch again: nothing new is stored
    status, result = post(server, key, {'punches': [good]})
    assert status == 200
    assert result == {'stored': [], 'duplicates': [0], 'refused': []}
    admin = server.client('admin')
    lines = admin.search('attendance.line', [('employee', '=', employee)],
        ['at', 'device', 'method'])
    assert [(l['device'], l['method']) for l in lines] == [('GATE-9', 'face')]


def test_csv_body(server, device):
    key, employee = device
    at = (dt.datetime.now() - dt.timedelta(hours=1)).replace(microsecond=0)
    body = ("employee,timestamp,device,method\n"
        f"HTTP001,{at.isoformat(sep=' ')},GATE-9,card\n"
        "HTTP001,yesterday,GATE-9,card\n").encode()
    status, result = post(server, key, body, content_type='text/csv')
    assert status == 200
    assert result['stored'] == [0]
    assert [r['row'] for r in result['refused']] == [1]


def test_malformed_body(server, device):
    key, _ = device
    assert post(server, key, {'rows': []})[0] == 400
