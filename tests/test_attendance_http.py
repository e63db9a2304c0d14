# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The clock-device endpoint over real HTTP against trytond under gunicorn on
PostgreSQL: the application key, idempotent intake, refused rows with their
reasons while the good rows are stored, the encodings of a CSV and the
limits of a batch."""
import datetime as dt
import json
import urllib.error
import urllib.request

import pytest

from trytond.modules.office_admin.attendance import (
    PUNCH_MAX_BYTES, PUNCH_MAX_ROWS)


def post(server, key, body, content_type='application/json', query=''):
    url = f'{server.url}/{server.database}/office_admin/attendance/punches'
    url += query
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method='POST',
        headers={'Content-Type': content_type})
    if key is not None:
        request.add_header('Authorization', f'Bearer {key}')
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        # The body of a refusal: {"error": message} when the endpoint says
        # why, or whatever the server answered
        text = error.read().decode('utf-8', 'replace')
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text


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


@pytest.fixture(scope='module')
def newcomer(server):
    """An employee with the clock code HTTP002 who started 30 days ago, in
    no department (nothing else of the demo changes)"""
    admin = server.client('admin')
    company = admin.context['company']
    party, = admin.model('party.party', 'create', [{'name': "新员工"}])
    start = dt.date.today() - dt.timedelta(days=30)
    employee, = admin.model('company.employee', 'create', [{
                'party': party, 'company': company, 'start_date': start,
                'clock_code': 'HTTP002'}])
    return employee


def punches_of(server, employee):
    admin = server.client('admin')
    return admin.search('attendance.line', [('employee', '=', employee)],
        ['at', 'device'])


def assert_clear(body):
    "A refusal says why in a sentence, with no internals"
    assert isinstance(body, dict), body
    message = body['error']
    assert 10 < len(message) < 300, message
    for internal in ['Traceback', 'codec', 'Error', 'File "', '0x']:
        assert internal not in message, message


def test_bad_rows_refused_good_rows_stored(server, device, newcomer):
    """Wrong types, absurd years, NUL characters and very long strings
    refuse their own row only"""
    key, _ = device
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    at = [(now - dt.timedelta(hours=3, minutes=m)).isoformat()
        for m in range(3)]

    def punch(**values):
        return {'employee': 'HTTP002', 'timestamp': at[2], **values}
    rows = [
        punch(timestamp=at[0], device='GATE-7'),
        punch(employee=['HTTP002']),
        punch(method=['face']),
        punch(device={'name': 'GATE-7'}),
        punch(timestamp='0001-01-01T08:00:00+08:00'),
        punch(timestamp='9999-12-31T23:59:59-05:00'),
        punch(timestamp={'__class__': 'datetime', 'year': 'x'}),
        punch(employee='HTTP\x00002'),
        punch(device='GATE\x007'),
        punch(device='x' * 100_000),
        punch(employee='E' * 100_000),
        punch(timestamp='T' * 100_000),
        punch(timestamp=(now - dt.timedelta(days=60)).isoformat()),
        punch(timestamp=at[1], device='GATE-7'),
        ]
    status, result = post(server, key, {'punches': rows})
    assert status == 200, result
    assert result['stored'] == [0, 13]
    reasons = {r['row']: r['reason'] for r in result['refused']}
    assert sorted(reasons) == list(range(1, 13))
    for reason in reasons.values():
        assert len(reason) < 200, reason[:300]
    assert 'employee' in reasons[1] and 'text' in reasons[1]
    assert 'method' in reasons[2] and 'text' in reasons[2]
    assert 'device' in reasons[3] and 'text' in reasons[3]
    assert 'plausible' in reasons[4] and 'plausible' in reasons[5]
    assert 'timestamp' in reasons[6] and 'text' in reasons[6]
    assert 'control' in reasons[7] and 'control' in reasons[8]
    assert 'long' in reasons[9] and 'device' in reasons[9]
    assert 'long' in reasons[10] and 'employee' in reasons[10]
    assert 'long' in reasons[11] and 'timestamp' in reasons[11]
    assert 'start date' in reasons[12]
    assert sorted((p['at'], p['device']) for p in punches_of(
            server, newcomer)) == sorted([
            (dt.datetime.fromisoformat(a).replace(tzinfo=None), 'GATE-7')
            for a in at[:2]])


def test_gbk_csv_stored(server, device, newcomer):
    "A CSV in GBK, as Chinese clock devices export it, detected or named"
    key, _ = device
    at = (dt.datetime.now() - dt.timedelta(hours=5)).replace(microsecond=0)
    body = ("employee,timestamp,device,method\n"
        f"HTTP002,{at.isoformat(sep=' ')},前门考勤机,card\n").encode('gbk')
    status, result = post(server, key, body, content_type='text/csv')
    assert status == 200, result
    assert result['stored'] == [0], result
    later = at + dt.timedelta(minutes=1)
    body = ("employee,timestamp,device,method\n"
        f"HTTP002,{later.isoformat(sep=' ')},后门考勤机,card\n").encode('gbk')
    status, result = post(server, key, body, content_type='text/csv',
        query='?encoding=gbk')
    assert status == 200, result
    assert result['stored'] == [0], result
    # UTF-8 with a byte order mark
    latest = later + dt.timedelta(minutes=1)
    body = ("\ufeffemployee,timestamp,device\n"
        f"HTTP002,{latest.isoformat(sep=' ')},侧门考勤机\n").encode()
    status, result = post(server, key, body, content_type='text/csv')
    assert status == 200, result
    assert result['stored'] == [0], result
    devices = {p['device'] for p in punches_of(server, newcomer)}
    assert {'前门考勤机', '后门考勤机', '侧门考勤机'} <= devices


def test_binary_and_nul_bodies_refused(server, device, newcomer):
    "A file that is not text is refused with a clear message"
    key, _ = device
    before = len(punches_of(server, newcomer))
    at = (dt.datetime.now() - dt.timedelta(hours=6)).isoformat(sep=' ')
    binary = bytes(range(256)) * 8
    nul = f"employee,timestamp\nHTTP002,{at}\x00\n".encode()
    undecodable = f"employee,timestamp,device\nHTTP002,{at},\x80\xff\n"
    for body in [binary, nul, undecodable.encode('latin-1')]:
        status, result = post(server, key, body, content_type='text/csv')
        assert 400 <= status < 500 and status != 413, (status, result)
        assert_clear(result)
    # An encoding that is not accepted
    body = f"employee,timestamp\nHTTP002,{at}\n".encode()
    status, result = post(server, key, body, content_type='text/csv',
        query='?encoding=latin-1')
    assert status == 400, (status, result)
    assert_clear(result)
    assert 'latin-1' in result['error']
    # A JSON body that is not JSON
    status, result = post(server, key, binary)
    assert status == 400, (status, result)
    assert_clear(result)
    assert len(punches_of(server, newcomer)) == before


def test_batch_limits(server, device, newcomer):
    "One row limit and one byte limit for JSON and CSV: 413, nothing stored"
    key, _ = device
    before = len(punches_of(server, newcomer))
    start = dt.datetime.now() - dt.timedelta(days=20)
    stamps = [(start + dt.timedelta(seconds=i)).isoformat(sep=' ')
        for i in range(PUNCH_MAX_ROWS + 1)]
    body = ('employee,timestamp\n' + ''.join(
            f'HTTP002,{s}\n' for s in stamps)).encode()
    status, result = post(server, key, body, content_type='text/csv')
    assert status == 413, (status, result)
    assert_clear(result)
    assert str(PUNCH_MAX_ROWS) in result['error'].replace(',', '')
    status, result = post(server, key, {'punches': [
                {'employee': 'HTTP002', 'timestamp': s} for s in stamps]})
    assert status == 413, (status, result)
    assert_clear(result)
    # Over the byte limit, in a few rows
    padding = 'x' * PUNCH_MAX_BYTES
    body = (f'employee,timestamp,device\nHTTP002,{stamps[0]},'
        f'{padding}\n').encode()
    status, result = post(server, key, body, content_type='text/csv')
    assert status == 413, (status, result)
    assert_clear(result)
    status, result = post(server, key, {'punches': [
                {'employee': 'HTTP002', 'timestamp': stamps[0],
                    'device': padding}]})
    assert status == 413, (status, result)
    assert_clear(result)
    assert len(punches_of(server, newcomer)) == before

    # At the row limit, a batch is stored
    status, result = post(server, key, {'punches': [
                {'employee': 'HTTP002', 'timestamp': s}
                for s in stamps[:PUNCH_MAX_ROWS]]})
    assert status == 200, (status, result)
    assert len(result['stored']) == PUNCH_MAX_ROWS
