# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A day of office load for Locust, over trytond's JSON-RPC.

Run by tests/bench_load.py (and the CI smoke, tests/test_load_smoke.py),
which starts the server, prepares the data and writes the JSON file named
by LOAD_SETUP: database, rooms, archive files, the clock device's key and
the employees' clock codes.

Every action (one or several calls) is recorded as one request of type
ACTION under the action's name, timed whole; the calls themselves appear as
POST under their method. A refusal the office means (a room already
booked, a step another reviewer decided first) is a success of the action
and is recorded again as REFUSED; any other error (HTTP status, server
error, unexpected user error) fails the action."""
import base64
import datetime as dt
import itertools
import json
import os
import random
import time

import gevent
from locust import HttpUser, between, events, task

with open(os.environ['LOAD_SETUP'], encoding='utf-8') as _fp:
    SETUP = json.load(_fp)
DATABASE = SETUP['database']
RPC = f'/{DATABASE}/rpc/'
_ids = itertools.count(1)

EMPLOYEES = ['sales1', 'sales2', 'north1', 'fin1']
HEADS = ['sales_head', 'fin_head']
OFFICE = ['office_head', 'clerk']
LEADERS = ['gm', 'vgm']

# Refusals an action may meet by design, by a part of their message
REFUSALS = {
    'book and cancel room': ['The room is already booked'],
    # Two sessions of one reviewer, or of two reviewers, on one step
    'approve request': ['You are not the current reviewer',
        'has no approval pending', 'This step is waiting for',
        'No approval is pending', 'Already approved by'],
    }


class Refused(Exception):
    "An intended refusal"


class Unexpected(Exception):
    "Anything else"


def password(login):
    return f'{login}-Pass-2026'


def _encode(value):
    if isinstance(value, dt.datetime):
        return {'__class__': 'datetime', 'year': value.year,
            'month': value.month, 'day': value.day, 'hour': value.hour,
            'minute': value.minute, 'second': value.second,
            'microsecond': value.microsecond}
    if isinstance(value, dt.date):
        return {'__class__': 'date', 'year': value.year,
            'month': value.month, 'day': value.day}
    raise TypeError(value)


_seen = set()


def record(name, start, error):
    "Record one action as a request of type ACTION"
    _seen.add(name)
    events.request.fire(request_type='ACTION', name=name,
        response_time=(time.perf_counter() - start) * 1000,
        response_length=0, exception=error, context={})


@events.test_start.add_listener
def _until_every_action(environment, **kwargs):
    """With SETUP['until_every_action'] = seconds (the smoke): stop the run
    once that time has passed and every action of SETUP['actions'] has
    run"""
    seconds = SETUP.get('until_every_action')
    if not seconds:
        return
    actions = set(SETUP['actions'])
    started = time.monotonic()

    def watch():
        while (time.monotonic() - started < seconds
                or not actions <= _seen):
            gevent.sleep(1)
        environment.runner.quit()
    gevent.spawn(watch)


class OfficeUser(HttpUser):
    "A person of the office; the subclasses say who and what they do"
    abstract = True
    logins = EMPLOYEES
    wait_time = between(*SETUP.get('wait', [5, 15]))

    def on_start(self):
        self.login = random.choice(self.logins)
        self.session = None
        self.log_in()
        if SETUP.get('tour'):
            # The smoke: every action of this kind of user once, at once,
            # its own first
            for action in reversed(list(dict.fromkeys(self.tasks))):
                if action is not OfficeUser.log_in_again:
                    action(self)

    # ---- JSON-RPC -------------------------------------------------------

    def rpc(self, method, *params):
        "Call method; return its result or raise Refused / Unexpected"
        body = json.dumps({'id': next(_ids), 'method': method,
                'params': list(params)}, default=_encode)
        headers = {'Content-Type': 'application/json'}
        if self.session:
            headers['Authorization'] = f'Session {self.session}'
        outcome = None
        with self.client.post(RPC, data=body, headers=headers,
                name=method, catch_response=True) as response:
            if response.status_code != 200:
                outcome = Unexpected(f'HTTP {response.status_code}')
            else:
                outcome = self._outcome(response.json())
            if isinstance(outcome, Unexpected):
                response.failure(outcome)
            else:
                response.success()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome['result']

    def _outcome(self, answer):
        error = answer.get('error')
        if not error:
            return answer
        if isinstance(error, list) and error[0] in {
                'UserError', 'UserWarning'}:
            message = str(error[1][0] if error[0] == 'UserError'
                else error[1][1])
            if any(m in message for m in REFUSALS.get(self._action, [])):
                return Refused(message)
            return Unexpected(f'{error[0]}: {message[:120]}')
        return Unexpected(str(error)[:160])

    def model(self, model, method, *args):
        return self.rpc(f'model.{model}.{method}', *args, self.preferences)

    def act(self, name, func):
        """Run one action (one or several requests) and record it as one
        request of type ACTION: its time is the whole action's, a refusal
        is recorded again as REFUSED, an unexpected error fails it (the
        requests themselves are recorded by method, type POST)."""
        self._action = name
        start = time.perf_counter()
        error = None
        try:
            func()
        except Refused as refusal:
            events.request.fire(request_type='REFUSED', name=name,
                response_time=(time.perf_counter() - start) * 1000,
                response_length=0, exception=None,
                context={'message': str(refusal)})
        except Unexpected as unexpected:
            error = unexpected
        record(name, start, error)

    # ---- actions --------------------------------------------------------

    def log_in(self):
        def go():
            self.session = None
            result = self.rpc('common.db.login', self.login,
                {'password': password(self.login)}, 'en')
            user_id, token = result[0], result[1]
            self.session = base64.b64encode(
                f'{self.login}:{user_id}:{token}'.encode()).decode()
            self.preferences = self.rpc(
                'model.res.user.get_preferences', True, {})
        self.preferences = {}
        self.act('log in', go)

    @task(1)
    def log_in_again(self):
        "The next morning: log out and in again"
        self._action = 'log in'
        try:
            self.rpc('common.db.logout')
        except (Refused, Unexpected):
            pass
        self.log_in()

    @task(8)
    def my_approvals(self):
        def go():
            domain = [('mine', '=', True), ('state', '=', 'pending')]
            self.model('office.approval.step', 'search_count', domain)
            self.model('office.approval.step', 'search_read', domain, 0, 80,
                [('activated_at', 'ASC'), ('id', 'ASC')],
                ['resource', 'tier_name', 'activated_at', 'state'])
        self.act('open My Approvals', go)

    @task(4)
    def search_documents(self):
        word = random.choice(['安全生产', '预算执行', '人事调整', '合同管理',
                '信息化'])

        def go():
            self.model('office.document.incoming', 'search_read',
                [('title', 'ilike', f'%{word}%')], 0, 80, None,
                ['number', 'title', 'received', 'secrecy', 'state'])
        self.act('search documents', go)


class Employee(OfficeUser):
    "Submits seal requests, books rooms, reads"
    weight = 6
    logins = EMPLOYEES

    @task(3)
    def submit_request(self):
        def go():
            request_id, = self.model('office.seal.request', 'create', [{
                        'seal': SETUP['seal'],
                        'document_title': f"压测用印 {random.random():.6f}",
                        'purpose': "load test"}])
            self.model('office.seal.request', 'submit', [request_id])
        self.act('submit request', go)

    @task(3)
    def book_and_cancel_room(self):
        day = dt.date.today() + dt.timedelta(days=random.randint(1, 60))
        start = dt.datetime.combine(day, dt.time(random.randint(0, 11)))

        def go():
            meeting_id, = self.model('office.meeting', 'create', [{
                        'topic': "压测会议",
                        'room': random.choice(SETUP['rooms']),
                        'start': start,
                        'end': start + dt.timedelta(hours=1)}])
            try:
                self.model('office.meeting', 'request', [meeting_id])
            except Refused:
                self.model('office.meeting', 'delete', [meeting_id])
                raise
            self.model('office.meeting', 'cancel', [meeting_id])
        self.act('book and cancel room', go)


class Head(OfficeUser):
    "A department head: approves, reads the department's ledger"
    weight = 2
    logins = HEADS

    @task(6)
    def approve(self):
        def go():
            steps = self.model('office.approval.step', 'search_read',
                [('mine', '=', True), ('state', '=', 'pending')], 0, 20,
                None, ['resource'])
            requests = [int(s['resource'].split(',')[1]) for s in steps
                if s['resource']
                and s['resource'].startswith('office.seal.request,')]
            if requests:
                self.model('office.seal.request', 'approval_approve',
                    [random.choice(requests)])
        self.act('approve request', go)

    @task(2)
    def ledger(self):
        def go():
            self.model('office.supply.ledger', 'search_read',
                [('year', '=', dt.date.today().year)], 0, None, None,
                ['department', 'product', 'period', 'quantity', 'cost'])
        self.act('read ledger', go)


class Office(Head):
    "The general office: approves, keeps the archives, reads the ledger"
    weight = 1
    logins = OFFICE

    @task(3)
    def search_archives(self):
        def go():
            self.model('office.archive', 'search_read',
                [('title', 'ilike', f'%{random.randint(0, 9)}%')], 0, 80,
                None, ['title', 'year', 'secrecy', 'department'])
        self.act('search archives', go)

    @task(1)
    def download(self):
        def go():
            self.model('office.archive.file', 'read',
                [random.choice(SETUP['files'])], ['name', 'data'])
        self.act('download watermarked file', go)


class Leader(Office):
    "Leadership: as the office, with their own approvals"
    weight = 1
    logins = LEADERS


class ClockDevice(HttpUser):
    "The door's clock: posts its batch of punches now and then"
    fixed_count = 1
    wait_time = between(*SETUP.get('device_wait', [5, 10]))

    @task
    def post_punches(self):
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        punches = [{
                'employee': random.choice(SETUP['clock_codes']),
                'device': 'LOAD-GATE',
                'timestamp': (now - dt.timedelta(
                        seconds=random.randint(60, 8 * 3600))).isoformat(),
                'method': 'card'} for _ in range(20)]
        start = time.perf_counter()
        error = None
        with self.client.post(
                f'/{DATABASE}/office_admin/attendance/punches',
                json={'punches': punches}, name='office_admin punches',
                headers={'Authorization': f"Bearer {SETUP['punch_key']}"},
                catch_response=True) as response:
            if response.status_code != 200:
                error = Unexpected(f'HTTP {response.status_code}')
            elif response.json().get('refused'):
                error = Unexpected(
                    f"refused rows: {response.json()['refused'][:2]}")
            if error:
                response.failure(error)
        record('post punch batch', start, error)
