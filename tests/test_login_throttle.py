# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Failed logins slow the attacker, not his victim.

A second gunicorn on the test database behind a (simulated) reverse proxy:
`[web] num_proxies = 1`, so the address counted is the last one of
X-Forwarded-For; a short window and low limits keep the test fast."""
import base64
import json
import time
import urllib.error
import urllib.request
import uuid

import psycopg
import pytest
from serverkit import start_other_server

# Seconds; long enough for a few failures on a busy machine (each failure
# delays the next answer to the same login by up to 2^failures seconds)
WINDOW = 12
CONFIG = {
    'session': {'max_attempt': '2', 'max_attempt_ip_network': '10'},
    'office': {'login_window': str(WINDOW)},
    'web': {'num_proxies': '1'},
    }
# Addresses of the documentation ranges, as the proxy reports them
HOME, ATTACKER, OFFICE, CLIENT = (
    '203.0.113.10', '198.51.100.66', '198.51.100.2', '192.0.2.7')


@pytest.fixture(scope='module')
def proxied(server, tmp_path_factory):
    directory = tmp_path_factory.mktemp('throttle')
    other, process = start_other_server(server, directory, CONFIG)
    yield other
    process.terminate()
    process.wait(10)


def rpc(server, method, params, address, session=None):
    "Call method as if from address; return (HTTP status, answer)"
    data = json.dumps(
        {'id': 1, 'method': method, 'params': params}).encode()
    headers = {
        'Content-Type': 'application/json',
        'X-Forwarded-For': address,
        }
    if session:
        headers['Authorization'] = f'Session {session}'
    request = urllib.request.Request(
        f'{server.url}/{server.database}/rpc/', data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def login(server, user, password, address, device=None):
    """Log in; return 'ok', 'refused' (bad password) or 'limited' (too many
    failures), and the session"""
    status, answer = rpc(server, 'common.db.login', [
            user, {'password': password, 'device_cookie': device}, 'en'],
        address)
    if status == 429:
        return 'limited', None
    if status == 401:
        return 'refused', None
    assert status == 200 and not answer.get('error'), (status, answer)
    user_id, token = answer['result'][:2]
    session = base64.b64encode(
        f'{user}:{user_id}:{token}'.encode()).decode()
    return 'ok', session


def known_device(server, user, password, address):
    "Log in from address as the web client does; return its device cookie"
    result, session = login(server, user, password, address)
    assert result == 'ok'
    status, answer = rpc(server, 'model.res.user.device.renew', [None, {}],
        address, session)
    assert status == 200 and answer['result'], (status, answer)
    return answer['result']


def new_user(server, user):
    admin = server.client('admin')
    password = f'{user}-Pass-2026'
    if not admin.search('res.user', [('login', '=', user)]):
        admin.model('res.user', 'create', [{
                    'name': user, 'login': user, 'password': password}])
    return password


def test_attacker_does_not_lock_out_the_user(server, proxied):
    password = new_user(server, 'throttle_victim')
    device = known_device(proxied, 'throttle_victim', password, HOME)

    # Someone else tries passwords from another address until refused
    for _ in range(3):
        assert login(proxied, 'throttle_victim', 'guess', ATTACKER)[0] == (
            'refused')
    last_failure = time.monotonic()
    assert login(proxied, 'throttle_victim', password, ATTACKER)[0] == (
        'limited')

    # The user's own device logs in, even from the attacker's address
    assert login(proxied, 'throttle_victim', password, ATTACKER,
        device)[0] == 'ok'
    # So does a new device of the user at another address
    assert login(proxied, 'throttle_victim', password, HOME)[0] == 'ok'
    # And the attacker's address only for the short window
    time.sleep(max(0, last_failure + WINDOW + 1 - time.monotonic()))
    assert login(proxied, 'throttle_victim', password, ATTACKER)[0] == 'ok'


def test_burst_from_an_address_spares_known_devices(server, proxied):
    password = new_user(server, 'throttle_colleague')
    device = known_device(proxied, 'throttle_colleague', password, OFFICE)
    other_password = new_user(server, 'throttle_newcomer')

    # Bad logins for many users from the office's one public address
    results = [login(proxied, f'nobody{i}', 'guess', OFFICE)[0]
        for i in range(12)]
    assert results[0] == 'refused' and results[-1] == 'limited', results
    # Past the address's ceiling an unknown device waits for the window
    assert login(proxied, 'throttle_newcomer', other_password, OFFICE)[0] == (
        'limited')
    # A device that logged in before is not held up
    assert login(proxied, 'throttle_colleague', password, OFFICE,
        device)[0] == 'ok'


def test_address_behind_proxy(server, proxied):
    user = f'throttle_proxy_{uuid.uuid4().hex[:8]}'
    # The proxy appends the address it received from: the address a client
    # writes itself in X-Forwarded-For is not the one counted
    assert login(proxied, user, 'guess',
        f'10.9.8.7, {CLIENT}')[0] == 'refused'
    with psycopg.connect(f'{server.pg_uri}/{server.database}') as conn:
        attempts = conn.execute('SELECT ip_address, ip_network '
            'FROM res_user_login_attempt WHERE login = %s',
            (user,)).fetchall()
    assert attempts == [(CLIENT, f'{CLIENT}/32')]
