# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The access matrix: every office model, every kind of user, every path.

The list of models comes from the server (ir.model); MODELS below says for
each of them how a record hidden from the users is made (or why the model
holds nothing to hide).  A new office model that is not in MODELS fails the
test.  For each (user kind, model) the hidden record must not come back
through search, search_count, name search, read (every field, Function
fields included), export_data (plain, dotted and x2many paths), the data
route, reports, attachments, notes, e-mails, chat and notifications, and
its buttons are refused; the workflow-owned fields of a record the user
can read are refused in create, write and copy.  No response body may
carry a hidden marker (titles, numbers, texts).  The closing line states
the size of the matrix and the leaks; the goal is 0 leaks."""
import csv
import datetime as dt
import io
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from rpc import RPCError

# Every text of a hidden record carries this marker
HIDE = 'MXHIDE'
# The visible records carry this one
SHOW = 'MXSHOW'
# The records hidden by department only (the office staff sees them)
DEPT = 'MXDEPT'
# Appended to the new logins, to run the matrix again on a used database
SUFFIX = os.environ.get('MATRIX_SUFFIX', '')

# The kinds of users: kind -> (login, None for a user of the demo data or
# (department code, clearance, groups) for a user the matrix creates)
KINDS = {
    'public': ('sales2', None),
    'internal': ('sales1', None),
    'secret': ('mxsec', ('FIN', 'secret', ['employee'])),
    'head': ('fin_head', None),
    'recipient': ('mxrecip', ('FIN', 'internal', ['employee'])),
    'handler': ('mxhandler', ('FIN', 'internal', ['employee'])),
    'staff': ('clerk', None),
    'admin': ('mxadmin', ('OFF', 'confidential', ['admin'])),
    }
# The author of every hidden record: a top-secret member of a department of
# his own (headed by the general manager), in every office group
BOSS = ('mxboss', ('MXS', 'top_secret',
        ['employee', 'head', 'admin', 'leader', 'hr']))
GROUP_NAMES = {
    'employee': "Office Employee",
    'head': "Department Head",
    'staff': "Office Staff",
    'admin': "Office Administrator",
    'leader': "Leadership",
    'hr': "Human Resources",
    }


def _now():
    return dt.datetime.now().replace(microsecond=0)


class World:
    """The users and records of the matrix, made over RPC as the admin and
    as the users themselves, on top of the --small demo data"""

    def __init__(self, server):
        self.server = server
        self.admin = server.client('admin')
        self.clients = {}
        # model -> {'hidden': [ids], 'visible': {kind: [ids]}}
        self.records = {}
        # numbers and other texts of hidden records without the marker
        self.secrets = set()
        self.model_secrets = {}
        self.notes = []
        self._fields = {}
        self._buttons = {}
        self._context_ids = {}

    # Helpers
    def client(self, login):
        if login not in self.clients:
            self.clients[login] = self.server.client(login)
        return self.clients[login]

    def login(self, kind):
        return KINDS[kind][0] + (SUFFIX if KINDS[kind][1] else '')

    @property
    def boss_login(self):
        return BOSS[0] + SUFFIX

    def hidden(self, model, *ids, level='secret'):
        "level: secret (hidden from every kind) or dept (staff may see it)"
        self.records.setdefault(model, {'hidden': [], 'visible': {}})
        self.records[model]['hidden'].extend((i, level) for i in ids)

    def visible(self, model, kind, *ids):
        self.records.setdefault(model, {'hidden': [], 'visible': {}})
        self.records[model]['visible'].setdefault(kind, []).extend(ids)

    def try_(self, label, function, *args):
        "Build what can be built; note what the current code refuses"
        try:
            return function(*args)
        except RPCError as e:
            self.notes.append(f'{label}: {e.kind}: {e.message}'[:300])
            return None

    def one(self, client, model, domain):
        ids = client.search(model, domain)
        assert len(ids) == 1, (model, domain, ids)
        return ids[0]

    def create(self, client, model, values):
        return client.model(model, 'create', [values])[0]

    def button(self, client, model, name, ids):
        return client.model(model, name, ids)

    def wizard(self, client, name, model, ids, state, data):
        session, _, _ = client.call(f'wizard.{name}.create', client.context)
        context = dict(client.context, active_model=model,
            active_id=ids[0], active_ids=ids)
        try:
            return client.call(f'wizard.{name}.execute', session, data,
                state, context)
        finally:
            client.call(f'wizard.{name}.delete', session, context)

    def fields(self, model):
        if model not in self._fields:
            self._fields[model] = self.admin.model(model, 'fields_get', [])
        return self._fields[model]

    def fields_names(self, model):
        return sorted(n for n, f in self.fields(model).items()
            if f['type'] != 'binary')

    def buttons(self, model):
        if model not in self._buttons:
            self._buttons[model] = sorted(b['name'] for b in self.admin.search(
                    'ir.model.button', [('model', '=', model)], ['name']))
        return self._buttons[model]

    def context_ids(self, model, resources):
        key = (model, tuple(resources))
        if key not in self._context_ids:
            self._context_ids[key] = self.admin.search(
                model, [('resource', 'in', resources)])
        return self._context_ids[key]

    def data_route(self, client, model, ids, fields_names):
        "GET /<db>/data/<model>: the rows (ids first) or an RPCError"
        query = urllib.parse.urlencode(
            [('d', json.dumps(ids))] + [('f', f) for f in fields_names])
        url = (f'{self.server.url}/{self.server.database}/data/'
            f'{urllib.parse.quote(model)}?{query}')
        request = urllib.request.Request(url, headers={
                'Authorization': f'Session {client.session}'})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body = response.read().decode('utf-8', 'replace')
        except urllib.error.HTTPError as e:
            raise RPCError(['HTTPError', [str(e.code),
                        e.read().decode('utf-8', 'replace')[:2000]]])
        rows = []
        for row in csv.reader(io.StringIO(body)):
            rows.append([int(v) if v.isdigit() else v for v in row])
        return rows

    # The organisation
    def build_users(self):
        admin = self.admin
        self.groups = {key: self.one(admin, 'res.group', [('name', '=', n)])
            for key, n in GROUP_NAMES.items()}
        self.company = self.one(admin, 'company.company', [])
        departments = {d['code']: d['id'] for d in admin.search(
                'office.department', [], ['code'])}
        code = 'MXS' + SUFFIX
        if code not in departments:
            departments[code] = self.create(admin, 'office.department', {
                    'name': "保密室" + SUFFIX, 'code': code,
                    'company': self.company})
        self.departments = departments
        self.secret_department = departments[code]
        known = {u['login'] for u in admin.search('res.user', [], ['login'])}
        for login, spec in [KINDS[k] for k in KINDS] + [BOSS]:
            if not spec or login + SUFFIX in known:
                continue
            department, clearance, groups = spec
            if department == 'MXS':
                department = code
            login += SUFFIX
            party = self.create(admin, 'party.party', {'name': login})
            employee = self.create(admin, 'company.employee', {
                    'party': party, 'company': self.company,
                    'department': departments[department]})
            self.create(admin, 'res.user', {
                    'name': login, 'login': login,
                    'email': f'{login}@example.com',
                    'password': f'{login}-Pass-2026',
                    'clearance': clearance,
                    'company': self.company,
                    'companies': [('add', [self.company])],
                    'employees': [('add', [employee])],
                    'employee': employee,
                    'groups': [('add', [self.groups[g] for g in groups])],
                    })
        users = {u['login']: u for u in admin.search(
                'res.user', [], ['login', 'employee'])}
        self.users = {k: users[self.login(k)]['id'] for k in KINDS}
        self.employees = {k: users[self.login(k)]['employee'] for k in KINDS}
        self.boss = users[self.boss_login]['id']
        self.boss_employee = users[self.boss_login]['employee']
        # The general manager (top secret) heads the boss's department: he
        # reviews the boss's requests, which never fall back to the Office
        # Administrators
        admin.model('office.department', 'write', [self.secret_department],
            {'head': users['gm']['employee']})
        self.gm = users['gm']['id']
        self.vgm = users['vgm']['id']
        self.vgm_employee = users['vgm']['employee']
        # One approval rule per workflow whose only reviewer is the boss
        models = {m['name']: m['id'] for m in admin.search('ir.model', [
                    ('name', 'in', [
                            'office.document.outgoing',
                            'office.archive.borrow', 'office.leave',
                            'office.attendance.correction',
                            'office.attendance.month', 'office.supply.plan',
                            'office.supply.requisition', 'office.meeting',
                            ])], ['name'])}
        existing = {r['model'] for r in admin.search(
                'office.approval.rule', [], ['model'])}
        for name, model in models.items():
            if model in existing:
                continue
            self.create(admin, 'office.approval.rule', {
                    'name': f"MX {name}", 'model': model,
                    'tiers': [('create', [{
                                    'name': "MX", 'sequence': 10,
                                    'reviewer_source': 'users',
                                    'users': [('add', [self.boss, self.gm])],
                                    }])]})

    # The records
    def build_seal(self):
        boss = self.client(self.boss_login)
        model = 'office.seal.request'
        seal = self.one(boss, 'office.seal', [('code', '=', 'GZ')])
        hidden = self.create(boss, model, {
                'seal': seal, 'document_title': f"{HIDE} 绝密用印",
                'purpose': f"{HIDE} 用途", 'secrecy': 'top_secret'})
        self.try_('submit hidden seal request', self.button, boss, model,
            'submit', [hidden])
        self.hidden(model, hidden)
        sales1 = self.client('sales1')
        shown = self.create(sales1, model, {
                'seal': seal, 'document_title': f"{SHOW} 用印",
                'purpose': "x"})
        self.button(sales1, model, 'submit', [shown])
        self.visible(model, 'internal', shown)

    def build_outgoing(self):
        boss = self.client(self.boss_login)
        model = 'office.document.outgoing'
        notice = self.one(boss, 'office.document.type',
            [('code', '=', 'notice')])
        hidden = self.create(boss, model, {
                'type': notice, 'title': f"{HIDE} 绝密发文",
                'main_recipients': f"{HIDE} 主送", 'body': f"{HIDE} 正文",
                'secrecy': 'top_secret'})
        self.try_('submit hidden outgoing', self.button, boss, model,
            'submit', [hidden])
        self.try_('approve hidden outgoing', self.button,
            self.client('gm'), model, 'approval_approve', [hidden])
        self.try_('issue hidden outgoing', self.button, boss, model,
            'issue', [hidden])
        self.try_('distribute hidden outgoing', self.wizard, boss,
            'office.distribution.send', model, [hidden], 'send',
            {'start': {'users': [self.gm], 'departments': []}})
        self.hidden(model, hidden)
        sales1 = self.client('sales1')
        shown = self.create(sales1, model, {
                'type': notice, 'title': f"{SHOW} 发文",
                'main_recipients': "各部门", 'body': "正文"})
        self.button(sales1, model, 'submit', [shown])
        self.button(boss, model, 'approval_approve', [shown])
        clerk = self.client('clerk')
        self.button(clerk, model, 'issue', [shown])
        self.wizard(clerk, 'office.distribution.send', model, [shown],
            'send', {'start': {
                    'users': [self.users['recipient']], 'departments': []}})
        self.visible(model, 'internal', shown)
        self.visible(model, 'recipient', shown)

    def build_incoming(self):
        boss = self.client(self.boss_login)
        model = 'office.document.incoming'
        letter = self.one(boss, 'office.document.type',
            [('code', '=', 'in_letter')])
        hidden = self.create(boss, model, {
                'type': letter, 'title': f"{HIDE} 绝密收文",
                'sender': f"{HIDE} 来文单位", 'secrecy': 'top_secret',
                'proposal': f"{HIDE} 拟办"})
        self.try_('propose hidden incoming', self.button, boss, model,
            'propose', [hidden])
        self.try_('instruct hidden incoming', self.write_then, boss, model,
            [hidden], {'instruction': f"{HIDE} 批示",
                'handlers': [('add', [self.boss_employee])]}, 'instruct')
        self.hidden(model, hidden)
        clerk = self.client('clerk')
        shown = self.create(clerk, model, {
                'type': letter, 'title': f"{SHOW} 收文", 'sender': "某局",
                'secrecy': 'internal', 'proposal': "拟办"})
        self.button(clerk, model, 'propose', [shown])
        self.write_then(boss, model, [shown], {'instruction': "同意",
                'handlers': [('add', [self.employees['handler']])]},
            'instruct')
        self.visible(model, 'handler', shown)
        self.visible(model, 'staff', shown)

    def write_then(self, client, model, ids, values, button):
        client.model(model, 'write', ids, values)
        return client.model(model, button, ids)

    def build_archive(self):
        boss = self.client(self.boss_login)
        model = 'office.archive'
        letter = self.one(boss, 'office.document.type',
            [('code', '=', 'in_letter')])
        year = dt.date.today().year
        hidden = self.create(boss, model, {
                'year': year, 'department': self.secret_department,
                'type': letter, 'title': f"{HIDE} 绝密档案",
                'keywords': f"{HIDE} 关键词", 'secrecy': 'top_secret',
                'retention': '30y',
                # Stored encrypted (the test server has an archive key)
                'files': [('create', [{'name': 'mxhide.txt',
                                'data': f"{HIDE} 绝密正文\n".encode()}])]})
        self.try_('archive hidden archive', self.button, boss, model,
            'archive', [hidden])
        self.hidden(model, hidden)
        # Classified files need the archive key: an internal entry of the
        # boss's department holds the file (seen by the office staff)
        internal = self.create(boss, model, {
                'year': year, 'department': self.secret_department,
                'type': letter, 'title': f"{DEPT} 部门档案",
                'secrecy': 'internal',
                'files': [('create', [{'name': 'mxdept.txt',
                                'data': f"{DEPT} 部门正文\n".encode()}])]})
        self.hidden(model, internal, level='dept')
        files = boss.search('office.archive.file',
            [('archive', '=', internal)])
        self.hidden('office.archive.file', *files, level='dept')
        secret_files = boss.search('office.archive.file',
            [('archive', '=', hidden)])
        self.hidden('office.archive.file', *secret_files)
        # A download is logged
        self.try_('download hidden file', boss.read, 'office.archive.file',
            files + secret_files, ['data'])
        # (the log of the top-secret entry is hidden from every kind, the
        # Office Administrators included: their clearance is lower)
        self.hidden('office.access.log', *self.admin.search(
                'office.access.log', [('resource', 'in', [
                            f'office.archive.file,{i}' for i in files]
                        + [f'{model},{internal}'])]),
            level='dept')
        self.hidden('office.access.log', *self.admin.search(
                'office.access.log', [('resource', 'in', [
                            f'office.archive.file,{i}' for i in secret_files]
                        + [f'{model},{hidden}'])]))
        borrow = 'office.archive.borrow'
        loan = self.try_('create hidden borrow', self.create, boss, borrow, {
                'archive': hidden, 'purpose': f"{HIDE} 借阅",
                'return_date': dt.date.today() + dt.timedelta(days=7)})
        if loan:
            self.try_('submit hidden borrow', self.button, boss, borrow,
                'submit', [loan])
            self.hidden(borrow, loan)
        office = self.departments['OFF']
        shown = self.create(self.client('clerk'), model, {
                'year': year, 'department': office, 'type': letter,
                'title': f"{SHOW} 档案", 'secrecy': 'internal',
                'retention': '30y',
                'files': [('create', [{'name': 'mxshow.txt',
                                'data': b"show\n"}])]})
        self.button(self.client('clerk'), model, 'archive', [shown])
        self.visible(model, 'staff', shown)
        sales1 = self.client('sales1')
        loan = self.create(sales1, borrow, {
                'archive': shown, 'purpose': "借阅",
                'return_date': dt.date.today() + dt.timedelta(days=7)})
        self.button(sales1, borrow, 'submit', [loan])
        self.visible(borrow, 'internal', loan)

    def build_approval(self):
        "Approval requests, steps and copies of the hidden seal request"
        boss = self.client(self.boss_login)
        # The general manager, reviewer of the boss's loan, copies it (to
        # the boss: only a user cleared for the top-secret archive may
        # receive a copy)
        loans = self.records.get('office.archive.borrow', {}).get('hidden')
        if loans:
            self.try_('copy hidden loan', self.wizard, self.client('gm'),
                'office.approval.decide', 'office.archive.borrow',
                [loans[0][0]], 'copy', {'start': {
                        'users': [self.boss], 'comment': f"{HIDE} 意见"}})
        admin = self.admin
        for model in ['office.seal.request', 'office.document.outgoing',
                'office.archive.borrow', 'office.leave',
                'office.attendance.correction', 'office.supply.plan',
                'office.supply.requisition', 'office.meeting']:
            ids = [i for i, _ in self.records.get(model, {}).get(
                    'hidden', [])]
            if not ids:
                continue
            requests = admin.search('office.approval.request', [
                    ('res_model', '=', model), ('res_id', 'in', ids)])
            # The Office Administrators see the requests of every process
            # within their clearance (by design: seen_by of the approval
            # models); those of classified records stay hidden from them
            level = 'secret' if model in CLASSIFIED else 'dept'
            self.hidden('office.approval.request', *requests, level=level)
            self.hidden('office.approval.step', *admin.search(
                    'office.approval.step', [('request', 'in', requests)]),
                level=level)
            self.hidden('office.approval.copy', *admin.search(
                    'office.approval.copy', [('request', 'in', requests)]),
                level=level)
        shown = self.records['office.seal.request']['visible']['internal']
        sales1 = self.client('sales1')
        requests = sales1.search('office.approval.request', [
                ('res_model', '=', 'office.seal.request'),
                ('res_id', 'in', shown)])
        self.visible('office.approval.request', 'internal', *requests)
        self.visible('office.approval.step', 'internal', *sales1.search(
                'office.approval.step', [('request', 'in', requests)]))
        delegation = 'office.approval.delegation'
        start = _now() + dt.timedelta(days=30)
        self.hidden(delegation, self.create(boss, delegation, {
                    'user': self.boss, 'substitute': self.gm,
                    'start': start, 'end': start + dt.timedelta(days=1)}),
            level='dept')
        self.visible(delegation, 'internal', self.create(sales1, delegation, {
                    'user': self.users['internal'],
                    'substitute': self.users['public'],
                    'start': start, 'end': start + dt.timedelta(days=1)}))

    def build_distribution(self):
        boss = self.client(self.boss_login)
        model = 'office.document.incoming'
        hidden = self.records[model]['hidden'][0][0]
        self.try_('distribute hidden incoming', self.wizard, boss,
            'office.distribution.send', model, [hidden], 'send',
            {'start': {'users': [self.gm], 'departments': []}})
        admin = self.admin
        resources = [f'{m},{i}' for m in [model, 'office.document.outgoing']
            for i, _ in self.records[m]['hidden']]
        self.hidden('office.distribution', *admin.search(
                'office.distribution', [('resource', 'in', resources)]))
        recipient = self.client(self.login('recipient'))
        shown = self.records['office.document.outgoing']['visible'][
            'recipient']
        self.visible('office.distribution', 'recipient', *recipient.search(
                'office.distribution', [('resource', 'in', [
                            f'office.document.outgoing,{i}'
                            for i in shown])]))

    def build_people(self):
        "Leave, punches, anomalies, corrections and monthly reports"
        boss = self.client(self.boss_login)
        sales1 = self.client('sales1')
        start = dt.datetime.combine(
            dt.date.today() + dt.timedelta(days=40), dt.time(1))
        values = {'type': 'personal', 'start': start,
            'end': start + dt.timedelta(hours=8)}
        leave = 'office.leave'
        hidden = self.try_('hidden leave', self.create, boss, leave,
            dict(values, reason=f"{HIDE} 事由"))
        if hidden:
            self.try_('submit hidden leave', self.button, boss, leave,
                'submit', [hidden])
            self.hidden(leave, hidden)
        shown = self.create(sales1, leave, dict(values, reason="事由"))
        self.button(sales1, leave, 'submit', [shown])
        self.visible(leave, 'internal', shown)
        # Approved leave is cancelled through a cancellation request
        later = {'type': 'personal', 'start': start + dt.timedelta(days=2),
            'end': start + dt.timedelta(days=2, hours=8)}
        cancellation = 'office.leave.cancellation'
        boss_leave = self.try_('boss leave', self.create, boss, leave,
            dict(later, reason="事由"))
        if boss_leave:
            self.try_('submit boss leave', self.button, boss, leave,
                'submit', [boss_leave])
            self.try_('approve boss leave', self.button, self.client('gm'),
                leave, 'approval_approve', [boss_leave])
            self.hidden(cancellation, *filter(None, [self.try_(
                            'hidden cancellation', self.create, boss,
                            cancellation, {'leave': boss_leave,
                                'reason': f"{HIDE} 销假"})]))
        own_leave = self.create(sales1, leave, dict(later, reason="事由"))
        self.button(sales1, leave, 'submit', [own_leave])
        self.try_('approve leave', self.button, self.client('sales_head'),
            leave, 'approval_approve', [own_leave])
        shown = self.try_('cancellation', self.create, sales1, cancellation,
            {'leave': own_leave, 'reason': "销假"})
        if shown:
            self.visible(cancellation, 'internal', shown)
        overtime = 'office.attendance.overtime'
        values = {'start': start - dt.timedelta(days=50),
            'end': start - dt.timedelta(days=50, hours=-3),
            'compensation': 'leave'}
        hidden = self.try_('hidden overtime', self.create, boss, overtime,
            dict(values, reason=f"{HIDE} 加班"))
        if hidden:
            self.try_('submit hidden overtime', self.button, boss, overtime,
                'submit', [hidden])
            self.hidden(overtime, hidden)
        shown = self.create(sales1, overtime, dict(values, reason="加班"))
        self.button(sales1, overtime, 'submit', [shown])
        self.visible(overtime, 'internal', shown)
        year = dt.date.today().year
        allowance = 'office.leave.allowance'
        self.hidden(allowance, *filter(None, [self.try_(
                        'hidden allowance', self.create, boss, allowance, {
                            'employee': self.boss_employee, 'year': year,
                            'days': Decimal(5)})]))
        shown = self.try_('allowance', self.create, boss, allowance, {
                'employee': self.employees['internal'], 'year': year,
                'days': Decimal(5)})
        if shown:
            self.visible(allowance, 'internal', shown)
        yesterday = dt.date.today() - dt.timedelta(days=1)
        at = dt.datetime.combine(yesterday, dt.time(1))
        line = 'attendance.line'
        self.hidden(line, *filter(None, [self.try_('hidden punch',
                        self.create, boss, line, {
                            'employee': self.boss_employee, 'at': at,
                            'date': yesterday, 'type': 'in',
                            'company': self.company})]))
        # Anomalies are made by the daily check only (their fields are
        # the workflow's): run it, then explain the boss's anomalies
        anomaly = 'office.attendance.anomaly'
        crons = self.admin.search('ir.cron', [('method', '=',
                    'office.attendance.anomaly|check_yesterday')])
        self.try_('anomaly check', self.button, self.admin, 'ir.cron',
            'run_once', crons)
        anomalies = self.try_('hidden anomaly', boss.search, anomaly,
            [('employee', '=', self.boss_employee)]) or []
        for i in anomalies:
            self.try_('explain hidden anomaly', boss.model, anomaly,
                'write', [i], {'explanation': f"{HIDE} 说明"})
        self.hidden(anomaly, *anomalies)
        correction = 'office.attendance.correction'
        values = {'date': yesterday, 'time': dt.time(1), 'type': 'in'}
        hidden = self.try_('hidden correction', self.create, boss,
            correction, dict(values, reason=f"{HIDE} 补卡"))
        if hidden:
            self.try_('submit hidden correction', self.button, boss,
                correction, 'submit', [hidden])
            self.hidden(correction, hidden)
        shown = self.create(sales1, correction, dict(values, reason="补卡"))
        self.button(sales1, correction, 'submit', [shown])
        self.visible(correction, 'internal', shown)
        month = 'office.attendance.month'
        hidden = self.try_('hidden month', self.create, boss, month, {
                'department': self.secret_department,
                'month': dt.date.today().replace(day=1)})
        if hidden:
            self.try_('compute hidden month', self.button, boss, month,
                'compute', [hidden])
            self.hidden(month, hidden)
            self.hidden('office.attendance.month.line', *self.admin.search(
                    'office.attendance.month.line',
                    [('report', '=', hidden)]))

    def build_meeting(self):
        admin = self.admin
        boss = self.client(self.boss_login)
        room = self.create(admin, 'office.meeting.room', {
                'name': f"MX room{SUFFIX}", 'capacity': 10})
        equipment = self.create(admin, 'office.equipment', {
                'name': f"MX projector{SUFFIX}", 'type': 'projector',
                'movable': True})
        start = dt.datetime.combine(
            dt.date.today() + dt.timedelta(days=50), dt.time(2))
        while start.weekday() >= 5:
            start += dt.timedelta(days=1)
        model = 'office.meeting'

        def values(topic, attendee, hours):
            return {'topic': topic, 'room': room,
                'start': start + dt.timedelta(hours=hours),
                'end': start + dt.timedelta(hours=hours + 1),
                'agenda': f"{topic} 议程",
                'attendees': [('create', [{'employee': attendee}])],
                # Decisions and action items are written once the meeting
                # is held (workflow-owned before): not built here
                'equipment': [('create', [{'equipment': equipment}])],
                'distribute_departments': [('add', [
                            self.secret_department])],
                }
        hidden = self.try_('hidden meeting', self.create, boss, model,
            values(f"{DEPT} 会议", self.boss_employee, 0))
        if hidden:
            self.hidden(model, hidden, level='dept')
            for sub, field in [('office.meeting.attendee', 'meeting'),
                    ('office.meeting.decision', 'meeting'),
                    ('office.meeting.action', 'meeting'),
                    ('office.meeting.equipment', 'meeting')]:
                self.hidden(sub, *admin.search(sub, [(field, '=', hidden)]),
                    level='dept')
        sales1 = self.client('sales1')
        shown = self.create(sales1, model, values(
                f"{SHOW} 会议", self.employees['internal'], 2))
        self.visible(model, 'internal', shown)

    def build_task(self):
        boss = self.client(self.boss_login)
        model = 'office.task'
        hidden = self.create(boss, model, {
                'name': f"{DEPT} 任务", 'description': f"{DEPT} 任务说明",
                'owner': self.boss_employee,
                'department': self.secret_department,
                'notes': [('create', [{'text': f"{DEPT} 进展"}])]})
        self.hidden(model, hidden, level='dept')
        self.hidden('office.task.note', *self.admin.search(
                'office.task.note', [('task', '=', hidden)]), level='dept')
        sales1 = self.client('sales1')
        shown = self.create(sales1, model, {
                'name': f"{SHOW} 任务", 'owner': self.employees['internal']})
        self.visible(model, 'internal', shown)

    def build_repair(self):
        admin = self.admin
        boss = self.client(self.boss_login)
        product = self.one(admin, 'product.product', [('code', '=', 'PEN')])
        category = self.create(admin, 'office.facility.category', {
                'name': "MX 通用设施"})
        facility = self.create(admin, 'office.facility', {
                'code': 'MX-AC' + SUFFIX, 'name': "MX 空调",
                'category': category})
        model = 'office.repair'
        hidden = self.create(boss, model, {
                'facility': facility, 'category': category,
                'description': f"{DEPT} 报修",
                'parts': [('create', [{'product': product,
                                'quantity': 1}])]})
        self.hidden(model, hidden, level='dept')
        self.hidden(model + '.part', *admin.search(
                model + '.part', [('repair', '=', hidden)]), level='dept')
        sales1 = self.client('sales1')
        shown = self.create(sales1, model, {
                'facility': facility, 'category': category,
                'description': f"{SHOW} 报修"})
        self.visible(model, 'internal', shown)
        # The SLA figures are the office's: no employee reads them
        self.hidden(model + '.sla', *admin.search(model + '.sla', []),
            level='dept')

    def build_reception(self):
        admin = self.admin
        boss = self.client(self.boss_login)
        self.reception_customer = self.create(admin, 'party.party', {
                'name': f"MX 客户{SUFFIX}"})
        model = 'office.reception'
        hidden = self.create(boss, model, dict(_reception_values(self),
                title=f"{DEPT} 接待", purpose=f"{DEPT} 来访目的",
                welcome_text=f"{DEPT} 欢迎",
                guests=[('create', [{'name': f"{DEPT} 来宾",
                                'title': f"{DEPT} 职务"}])]))
        self.try_('submit hidden reception', self.button, boss, model,
            'submit', [hidden])
        self.hidden(model, hidden, level='dept')
        self.hidden(model + '.guest', *admin.search(
                model + '.guest', [('reception', '=', hidden)]),
            level='dept')
        sales1 = self.client('sales1')
        shown = self.create(sales1, model, dict(_reception_values(self),
                title=f"{SHOW} 接待",
                guests=[('create', [{'name': f"{SHOW} 来宾"}])]))
        self.visible(model, 'internal', shown)

    def build_inspection(self):
        admin = self.admin
        boss = self.client(self.boss_login)
        category = self.create(admin, 'office.facility.category', {
                'name': "MX 保洁"})
        plan = 'office.inspection.plan'

        def plan_values(name, room, **values):
            return dict(values, name=name + SUFFIX, scope='location',
                category=category, room=room, frequency='daily',
                start_date=dt.date.today(),
                items=[('create', [{'name': "地面清洁", 'kind': 'check'}])])
        hidden_plan = self.create(admin, plan, plan_values(
                "MX 保密室保洁", "MX 保密室", team=self.secret_department,
                employee=self.boss_employee))
        shown_plan = self.create(admin, plan, plan_values(
                "MX 销售部保洁", "MX 销售部",
                employee=self.employees['internal']))
        # Rounds are made by the daily job only (their fields are the
        # workflow's): run it, then the boss starts and annotates his
        crons = admin.search('ir.cron', [('method', '=',
                    'office.inspection.plan|generate_rounds')])
        self.try_('inspection rounds', self.button, admin, 'ir.cron',
            'run_once', crons)
        model = 'office.inspection.round'
        hidden = admin.search(model, [('plan', '=', hidden_plan)])
        lines = []
        if hidden:
            self.try_('start hidden round', self.button, boss, model,
                'start', hidden[:1])
            self.try_('note hidden round', boss.model, model, 'write',
                hidden, {'note': f"{DEPT} 巡检"})
            lines = admin.search(model + '.line', [('round', 'in', hidden)])
            if lines:
                self.try_('note hidden line', boss.model, model + '.line',
                    'write', lines, {'note': f"{DEPT} 记录"})
        self.hidden(model, *hidden, level='dept')
        self.hidden(model + '.line', *lines, level='dept')
        shown = admin.search(model, [('plan', '=', shown_plan)])
        self.visible(model, 'internal', *shown)

    def build_visit(self):
        boss = self.client(self.boss_login)
        start = _now() + dt.timedelta(days=1)

        def visit(visitor, **values):
            return dict(values, arrival_from=start,
                arrival_to=start + dt.timedelta(hours=2),
                lines=[('create', [{'visitor': visitor}])])
        visitor = self.create(boss, 'office.visitor', {
                'name': f"{DEPT} 访客", 'organization': f"{DEPT} 公司",
                'mobile': '13800000000', 'id_type': 'resident_id',
                'id_number': f'{DEPT}0000'})
        hidden = self.create(boss, 'office.visit', visit(visitor,
                host=self.boss_employee,
                department=self.secret_department,
                purpose=f"{DEPT} 来访", vehicle_plate=f"{DEPT} 车"))
        self.hidden('office.visit', hidden, level='dept')
        self.hidden('office.visitor', visitor, level='dept')
        self.hidden('office.visit.line', *self.admin.search(
                'office.visit.line', [('visit', '=', hidden)]), level='dept')
        # The counts are the front desk's: no employee reads them
        self.hidden('office.visit.statistic', *self.admin.search(
                'office.visit.statistic', []), level='dept')
        sales1 = self.client('sales1')
        guest = self.create(sales1, 'office.visitor', {
                'name': f"{SHOW} 访客", 'id_number': f'{SHOW}0000'})
        shown = self.create(sales1, 'office.visit', visit(guest,
                purpose=f"{SHOW} 来访"))
        self.visible('office.visitor', 'internal', guest)
        self.visible('office.visit', 'internal', shown)

    def build_supply(self):
        admin = self.admin
        boss = self.client(self.boss_login)
        product = self.one(admin, 'product.product', [('code', '=', 'PEN')])
        requisition = 'office.supply.requisition'
        # The consumption location of the new department (for the ledger)
        self.try_('supply locations', self.button, admin,
            'office.configuration', 'supply_setup_locations', [1])

        def lines(note):
            return [('create', [{'product': product, 'quantity': 2,
                            'purpose': note}])]
        hidden = self.create(boss, requisition, {
                'note': f"{DEPT} 领用", 'lines': lines(f"{DEPT} 用途")})
        self.try_('submit hidden requisition', self.button, boss,
            requisition, 'submit', [hidden])
        self.try_('approve hidden requisition', self.button,
            self.client('gm'), requisition, 'approval_approve', [hidden])
        self.try_('issue hidden requisition', self.button, boss,
            requisition, 'issue', [hidden])
        self.hidden(requisition, hidden, level='dept')
        self.hidden(requisition + '.line', *admin.search(
                requisition + '.line', [('requisition', '=', hidden)]),
            level='dept')
        sales1 = self.client('sales1')
        shown = self.create(sales1, requisition, {
                'note': "领用", 'lines': lines("用途")})
        self.button(sales1, requisition, 'submit', [shown])
        self.visible(requisition, 'internal', shown)
        plan = 'office.supply.plan'
        month = (dt.date.today().replace(day=1) + dt.timedelta(days=95)
            ).replace(day=1)
        hidden = self.try_('hidden plan', self.create, boss, plan, {
                'month': month, 'note': f"{DEPT} 计划",
                'lines': [('create', [{'product': product,
                                'quantity': 3}])]})
        if hidden:
            self.try_('submit hidden plan', self.button, boss, plan,
                'submit', [hidden])
            self.hidden(plan, hidden, level='dept')
            self.hidden(plan + '.line', *admin.search(
                    plan + '.line', [('plan', '=', hidden)]), level='dept')
        shown = self.try_('plan', self.create, sales1, plan, {
                'month': month, 'note': "计划",
                'lines': [('create', [{'product': product,
                                'quantity': 3}])]})
        if shown:
            self.visible(plan, 'internal', shown)
        budget = 'office.supply.budget'
        self.hidden(budget, *filter(None, [self.try_('hidden budget',
                        self.create, admin, budget, {
                            'department': self.secret_department,
                            'year': dt.date.today().year,
                            'amount': Decimal(1000)})]), level='dept')
        self.hidden('office.supply.ledger', *(self.try_(
                    'ledger', admin.search, 'office.supply.ledger',
                    [('department', '=', self.secret_department)]) or []),
            level='dept')

    def build_notifications(self):
        "What the office told the boss about his hidden records"
        self.hidden('office.notification.log', *self.admin.search(
                'office.notification.log', [
                    ('user', '=', self.boss),
                    ]), level='dept')

    def build_context(self):
        """Attachments, notes, chat and e-mails about the hidden records
        (made by the root admin), and what the checks need to know"""
        admin = self.admin
        boss = self.client(self.boss_login)
        for model, recs in self.records.items():
            firsts = {}
            for id_, level in recs['hidden']:
                firsts.setdefault(level, id_)
            for level, id_ in firsts.items():
                marker = HIDE if level == 'secret' else DEPT
                resource = f'{model},{id_}'
                self.try_('attachment', self.create, admin, 'ir.attachment', {
                        'resource': resource, 'name': f'{marker}.txt',
                        'type': 'data',
                        'data': f'{marker} 附件'.encode(),
                        'description': f'{marker} 附件说明'})
                self.try_('note', self.create, admin, 'ir.note', {
                        'resource': resource, 'message': f'{marker} 备注'})
                self.try_('chat', boss.call, 'model.ir.chat.channel.post',
                    resource, f'{marker} 讨论', 'internal', boss.context)
        # The texts of hidden records that carry no marker (numbers, codes)
        for model, recs in self.records.items():
            ids = [i for i, level in recs['hidden'] if level == 'secret']
            if not ids:
                continue
            fields = admin.model(model, 'fields_get', [])
            names = [n for n in ['number', 'code'] if n in fields]
            for row in self.try_('secrets', admin.read, model, ids,
                    names) or []:
                for name in names:
                    value = row.get(name)
                    if (isinstance(value, str) and len(value) >= 6
                            and not value.startswith('(')
                            and HIDE not in value):
                        self.secrets.add(value)
                        self.model_secrets.setdefault(model, set()).add(
                            value)
        self.reports = {}
        for report in admin.search('ir.action.report', [
                    ('model', 'in', list(self.records))],
                ['model', 'report_name']):
            self.reports.setdefault(report['model'], []).append(
                (report['id'], report['report_name']))


class Matrix:
    "Run the cells of one user kind and keep the leaks"

    def __init__(self, world, kind):
        self.world = world
        self.kind = kind
        self.client = world.client(world.login(kind))
        self.cells = 0
        self.leaks = []

    def markers(self, levels):
        found = set(self.world.secrets) | {HIDE}
        if 'dept' in levels:
            found.add(DEPT)
        return found

    def leak(self, model, path, what):
        self.leaks.append(f'{self.kind} ({self.world.login(self.kind)}) '
            f'{model} {path}: {what}'[:500])

    def cell(self, model, path, function, *args, ids=(), expect='refused',
            markers=None):
        """Call and judge one cell: the hidden ids and the markers must not
        come back; expect 'refused' also wants an RPC error"""
        self.cells += 1
        markers = markers if markers is not None else self._markers
        try:
            result = function(*args)
        except RPCError as e:
            text = json.dumps(e.error, ensure_ascii=False, default=str)
            shown = [m for m in markers if m in text]
            if shown:
                self.leak(model, path, f'error names {shown}: {text[:200]}')
            return e
        text = json.dumps(result, ensure_ascii=False, default=str)
        shown = [m for m in markers if m in text]
        found = _ids_in(result) & set(ids)
        if shown or found:
            self.leak(model, path,
                f'returned {sorted(found)} {shown}: {text[:200]}')
        elif expect == 'refused' and result not in ([], None, 0, {}):
            self.leak(model, path, f'not refused: {text[:200]}')
        return result

    def run(self, model, spec):
        world = self.world
        recs = world.records.get(model, {'hidden': [], 'visible': {}})
        levels = {'secret'}
        if self.kind not in spec.get('seen_by', ()):
            levels.add('dept')
        ids = [i for i, level in recs['hidden'] if level in levels]
        self._markers = self.markers(levels)
        if spec.get('rpc') is False:
            # A relation table: not served over RPC at all
            call = self.client.model
            self.cell(model, 'search', call, model, 'search', [], 0, None,
                None)
            self.cell(model, 'read', call, model, 'read', [1], ['id'])
            self.cell(model, 'export', call, model, 'export_data', [1],
                ['id'])
            return
        if not ids:
            return
        client = self.client
        call = client.model
        fields = world.fields(model)
        names = sorted(fields)
        plain = [n for n in names if fields[n]['type'] not in {
                'many2one', 'one2many', 'many2many', 'reference', 'binary',
                'one2one'} and n != 'rec_name']
        m2o = [n for n in names if fields[n]['type'] == 'many2one']
        x2m = [n for n in names
            if fields[n]['type'] in {'one2many', 'many2many'}]
        unsorted = [n for n in names if not fields[n].get('sortable', True)]
        domain = [('id', 'in', ids)]
        self.cell(model, 'search', call, model, 'search', domain, 0, None,
            None, ids=ids, expect='empty')
        self.cell(model, 'search_count', lambda: call(
                model, 'search_count', domain) and ids, ids=ids,
            expect='empty')
        searched = {HIDE, DEPT} & self._markers
        for marker in sorted(searched | world.model_secrets.get(model, set())):
            self.cell(model, f'name search {marker}', call, model,
                'search_read', [('rec_name', 'ilike', f'%{marker}%')], 0,
                None, None, ['rec_name'], ids=ids, expect='empty')
        self.cell(model, 'read all fields', call, model, 'read', ids,
            names, ids=ids)
        self.cell(model, 'read rec_name', call, model, 'read', ids,
            ['rec_name'], ids=ids)
        if unsorted:
            self.cell(model, 'read Function fields', call, model, 'read',
                ids, unsorted, ids=ids)
        exports = [('export plain', plain)]
        if m2o:
            exports.append(('export dotted', [f'{n}/rec_name' for n in m2o]))
        if x2m:
            exports.append(('export x2many', [f'{n}/rec_name' for n in x2m]))
        for path, export in exports:
            self.cell(model, path, call, model, 'export_data', ids,
                ['id'] + export, ids=ids)
            if path == 'export plain':
                self.cell(model, path + ' (domain)', call, model,
                    'export_data_domain', domain, ['id'] + export, 0, None,
                    None, ids=ids, expect='empty')
            if path != 'export plain':
                self.cell(model, 'data route ' + path, world.data_route,
                    client, model, ids, ['id'] + export, ids=ids)
        for report_id, report in world.reports.get(model, []):
            self.cell(model, f'report {report}', client.call,
                f'report.{report}.execute', ids, {'model': model,
                    'id': ids[0], 'ids': ids, 'action_id': report_id},
                client.context, ids=ids)
            self.cell(model, f'e-mail with report {report}', call,
                'ir.email', 'send', f'{self.kind}@example.com', '', '',
                'matrix', 'matrix', None, [model, ids[0]], [report_id], None,
                ids=ids)
        resources = [f'{model},{i}' for i in ids]
        for other in ['ir.attachment', 'ir.note', 'ir.email']:
            self.cell(model, f'{other} search_read', call, other,
                'search_read', [('resource', 'in', resources)], 0, None,
                None, world.fields_names(other), ids=[], expect='empty')
            hidden = world.context_ids(other, resources)
            if hidden:
                self.cell(model, f'{other} read', call, other, 'read',
                    hidden, world.fields_names(other), ids=hidden)
                if other != 'ir.email':
                    self.cell(model, f'{other} export', call, other,
                        'export_data', hidden, world.fields_names(other),
                        ids=hidden)
                if other == 'ir.attachment':
                    self.cell(model, f'{other} data route',
                        world.data_route, client, other, hidden,
                        world.fields_names(other), ids=hidden)
        for resource in resources[:1]:
            self.cell(model, 'chat get', client.call,
                'model.ir.chat.channel.get', resource, None, None,
                client.context)
            self.cell(model, 'chat post', client.call,
                'model.ir.chat.channel.post', resource, 'matrix',
                'internal', client.context)
        for button in world.buttons(model):
            self.cell(model, f'button {button}', _done, call, model, button,
                ids, ids=ids)

    def run_notifications(self):
        "What the user was told must not name a hidden record"
        self._markers = self.markers({'secret', 'dept'} if self.kind not in
            STAFF else {'secret'})
        self.cell('res.notification', 'notifications', self.client.model,
            'res.notification', 'search_read', [], 0, None, None,
            ['label', 'description', 'action_value'], expect='any')

    def run_workflow(self, model, spec):
        "Workflow-owned fields of the records the user may read"
        world = self.world
        visible = world.records.get(model, {}).get('visible', {}).get(
            self.kind, [])
        owned = spec.get('workflow', {})
        if not visible or not owned:
            return
        call = self.client.model
        self._markers = self.markers({'secret', 'dept'})
        record = visible[0]
        before, = world.admin.read(model, [record], list(owned))
        for name, value in owned.items():
            if callable(value):
                value = value(world)
            self.cell(model, f'write {name}', _done, call, model, 'write',
                [record], {name: value})
            if name not in ALWAYS_OWNED:
                continue
            if name == 'state':
                # a state the record cannot be created in
                value = spec.get('create_state', value)
            self.cell(model, f'copy {name}', self.copy_owned, model, record,
                name, value)
            if spec.get('create'):
                values = dict(spec['create'](world), **{name: value})
                self.cell(model, f'create {name}', self.create_owned, model,
                    values, name, value)
        after, = world.admin.read(model, [record], list(owned))
        if after != before:
            self.leak(model, 'workflow fields changed',
                f'{before} -> {after}')
            # Put it back for the other kinds, as far as possible
            for key, value in before.items():
                if key != 'id' and after.get(key) != value:
                    world.try_('restore', world.admin.model, model, 'write',
                        [record], {key: value})
        if self.kind in {'recipient', 'handler'}:
            self.cell(model, 'delete', _done, call, model, 'delete',
                [record])

    def copy_owned(self, model, record, name, value):
        "A copy must not keep a value the workflow owns"
        new = self.client.model(model, 'copy', [record], {name: value})
        got, = self.world.admin.read(model, new, [name])
        self.world.admin.model(model, 'delete', new)
        if got[name] == value and value not in (None, False):
            return {'copied': got}
        return None

    def create_owned(self, model, values, name, value):
        new = self.client.model(model, 'create', [values])
        got, = self.world.admin.read(model, new, [name])
        self.world.admin.model(model, 'delete', new)
        if got[name] == value and value not in (None, False):
            return {'created': got}
        return None


def _done(function, model, method, *args):
    "Call a method that answers nothing: say so when it was not refused"
    function(model, method, *args)
    return {'done': f'{model}.{method}'}


def _ids_in(result):
    "The ids of records a response returns"
    found = set()
    if isinstance(result, list):
        for item in result:
            if isinstance(item, int) and not isinstance(item, bool):
                found.add(item)
            elif isinstance(item, dict) and 'id' in item:
                found.add(item['id'])
            elif isinstance(item, list) and item:
                if isinstance(item[0], int):
                    found.add(item[0])
    return found


def _seal_values(world):
    return {'seal': world.one(world.admin, 'office.seal',
            [('code', '=', 'GZ')]), 'document_title': 'MXFAKE',
        'purpose': 'x'}


def _outgoing_values(world):
    return {'type': world.one(world.admin, 'office.document.type',
            [('code', '=', 'notice')]), 'title': 'MXFAKE',
        'main_recipients': 'x'}


# The staff and the Office Administrators see every record of these models
# (below their clearance): the department-hidden record is not hidden from
# them
def _reception_values(world):
    arrival = dt.datetime.combine(
        dt.date.today() + dt.timedelta(days=60), dt.time(2))
    return {'title': 'MXFAKE', 'customer': world.reception_customer,
        'arrival': arrival, 'departure': arrival + dt.timedelta(hours=2),
        'purpose': 'x'}


STAFF = ('staff', 'admin')
_DEPARTMENT = lambda w: w.secret_department  # noqa: E731
_VGM = lambda w: w.vgm_employee  # noqa: E731
_GM = lambda w: w.gm  # noqa: E731

# Every office model: how its hidden record is made (build: a World
# method; seen_by: kinds that see the department-hidden record by design;
# workflow: fields only the workflow writes, with a value to try) or why
# it holds nothing to hide.
RESTRICTED, CONFIG, TRANSIENT = 'restricted', 'config', 'transient'
# Owned by the workflow from the start: refused in create and copy too (the
# others, such as secrecy, requester or department, only once submitted or
# issued: refused in write on the user's submitted record)
# The models whose hidden records are classified (their approval requests
# carry the secrecy rank)
CLASSIFIED = {'office.seal.request', 'office.document.outgoing',
    'office.archive.borrow'}
ALWAYS_OWNED = {'state', 'number', 'year', 'sequence_number', 'signed_by',
    'signed_at', 'issued_at', 'instructed_by', 'read_at'}
MODELS = {
    'office.seal.request': dict(kind=RESTRICTED, build='build_seal',
        workflow={'state': 'approved', 'number': 'MXFAKE-1',
            'secrecy': 'public', 'requester': _VGM,
            'department': _DEPARTMENT},
        create=_seal_values),
    'office.document.outgoing': dict(kind=RESTRICTED,
        build='build_outgoing',
        create_state='issued',
        workflow={'state': 'draft', 'number': 'MXFAKE-2', 'year': 1999,
            'sequence_number': 999, 'secrecy': 'public',
            'title': 'MXFAKE-3', 'signed_by': _GM,
            'department': _DEPARTMENT},
        create=_outgoing_values),
    'office.document.incoming': dict(kind=RESTRICTED,
        build='build_incoming', create_state='completed',
        workflow={'state': 'draft', 'number': 'MXFAKE-4',
            'secrecy': 'public', 'instructed_by': _GM}),
    # Relation tables (handlers, departments told of a meeting): refused
    # over RPC as a whole
    'office.document.incoming-company.employee': dict(kind=RESTRICTED,
        rpc=False),
    # The users involved in a document, stored for its record rule
    'office.document.incoming.reader': dict(kind=RESTRICTED, rpc=False),
    'office.document.outgoing.reader': dict(kind=RESTRICTED, rpc=False),
    'office.distribution': dict(kind=RESTRICTED, build='build_distribution',
        workflow={'read_at': lambda w: _now()}),
    'office.archive': dict(kind=RESTRICTED, build='build_archive',
        seen_by=STAFF),
    'office.archive.file': dict(kind=RESTRICTED, build='build_archive',
        seen_by=STAFF),
    'office.access.log': dict(kind=RESTRICTED, build='build_archive',
        seen_by=('admin',)),
    'office.archive.borrow': dict(kind=RESTRICTED, build='build_archive',
        seen_by=STAFF,
        workflow={'state': 'lent', 'borrower': _VGM,
            'department': _DEPARTMENT}),
    # By design, the Office Administrators (and Leadership) oversee every
    # approval process (rules, tiers, delegations, stuck steps): they read
    # the requests, steps and copies of every record within their clearance
    # (a request shows no text of its record; the record itself, e.g. a
    # leave of another department, stays hidden from them); the requests
    # of classified records stay hidden by the clearance rule
    'office.approval.request': dict(kind=RESTRICTED,
        build='build_approval', seen_by=('admin',),
        workflow={'state': 'approved'}),
    'office.approval.step': dict(kind=RESTRICTED, build='build_approval',
        seen_by=('admin',),
        workflow={'state': 'approved'}),
    'office.approval.copy': dict(kind=RESTRICTED, build='build_approval',
        seen_by=('admin',)),
    # The users involved in a request, stored for its record rule
    'office.approval.request-res.user': dict(kind=RESTRICTED, rpc=False),
    'office.approval.delegation': dict(kind=RESTRICTED,
        build='build_approval', seen_by=('admin',),
        workflow={'user': _GM}),
    'office.notification.log': dict(kind=RESTRICTED,
        build='build_notifications', seen_by=('admin',)),
    'office.leave': dict(kind=RESTRICTED, build='build_people',
        workflow={'state': 'approved', 'employee': _VGM,
            'department': _DEPARTMENT}),
    'office.leave.cancellation': dict(kind=RESTRICTED, build='build_people',
        workflow={'state': 'approved', 'employee': _VGM}),
    'office.attendance.overtime': dict(kind=RESTRICTED,
        build='build_people',
        workflow={'state': 'approved', 'employee': _VGM,
            'department': _DEPARTMENT}),
    'office.leave.allowance': dict(kind=RESTRICTED, build='build_people',
        workflow={'days': Decimal(99)}),
    'attendance.line': dict(kind=RESTRICTED, build='build_people'),
    'office.attendance.anomaly': dict(kind=RESTRICTED, build='build_people'),
    'office.attendance.correction': dict(kind=RESTRICTED,
        build='build_people',
        workflow={'state': 'approved', 'employee': _VGM}),
    'office.attendance.month': dict(kind=RESTRICTED, build='build_people'),
    'office.attendance.month.line': dict(kind=RESTRICTED,
        build='build_people'),
    'office.meeting': dict(kind=RESTRICTED, build='build_meeting',
        seen_by=STAFF,
        workflow={'state': 'confirmed'}),
    'office.meeting.attendee': dict(kind=RESTRICTED, build='build_meeting',
        seen_by=STAFF),
    'office.meeting.decision': dict(kind=RESTRICTED, build='build_meeting',
        seen_by=STAFF),
    'office.meeting.action': dict(kind=RESTRICTED, build='build_meeting',
        seen_by=STAFF),
    'office.meeting.equipment': dict(kind=RESTRICTED, build='build_meeting',
        seen_by=STAFF),
    'office.meeting-office.department': dict(kind=RESTRICTED, rpc=False),
    'office.task': dict(kind=RESTRICTED, build='build_task', seen_by=STAFF,
        workflow={'state': 'done'}),
    'office.task.note': dict(kind=RESTRICTED, build='build_task',
        seen_by=STAFF),
    'office.supply.requisition': dict(kind=RESTRICTED,
        build='build_supply', seen_by=STAFF,
        workflow={'state': 'issued', 'requester': _VGM,
            'department': _DEPARTMENT}),
    'office.supply.requisition.line': dict(kind=RESTRICTED,
        build='build_supply', seen_by=STAFF),
    'office.supply.plan': dict(kind=RESTRICTED, build='build_supply',
        seen_by=STAFF,
        workflow={'state': 'approved', 'department': _DEPARTMENT}),
    'office.supply.plan.line': dict(kind=RESTRICTED, build='build_supply',
        seen_by=STAFF),
    'office.supply.budget': dict(kind=RESTRICTED, build='build_supply',
        seen_by=STAFF),
    'office.supply.ledger': dict(kind=RESTRICTED, build='build_supply',
        seen_by=STAFF),
    'office.repair': dict(kind=RESTRICTED, build='build_repair',
        seen_by=STAFF,
        workflow={'state': 'confirmed', 'rating': 5, 'reporter': _VGM}),
    'office.repair.part': dict(kind=RESTRICTED, build='build_repair',
        seen_by=STAFF),
    'office.repair.sla': dict(kind=RESTRICTED, build='build_repair',
        seen_by=STAFF),
    'office.reception': dict(kind=RESTRICTED, build='build_reception',
        seen_by=STAFF,
        workflow={'state': 'rated', 'rating': 5, 'requester': _VGM,
            'department': _DEPARTMENT},
        create=_reception_values),
    'office.reception.guest': dict(kind=RESTRICTED,
        build='build_reception', seen_by=STAFF),
    'office.inspection.round': dict(kind=RESTRICTED,
        build='build_inspection', seen_by=STAFF,
        workflow={'state': 'done'}),
    'office.inspection.round.line': dict(kind=RESTRICTED,
        build='build_inspection', seen_by=STAFF),
    'office.visit': dict(kind=RESTRICTED, build='build_visit',
        seen_by=STAFF,
        workflow={'state': 'checked_in', 'token': 'MXFAKE-5',
            'date': dt.date(1999, 1, 1),
            'checked_in_at': lambda w: _now(),
            'overdue_at': lambda w: _now()}),
    'office.visit.line': dict(kind=RESTRICTED, build='build_visit',
        seen_by=STAFF),
    'office.visitor': dict(kind=RESTRICTED, build='build_visit',
        seen_by=STAFF,
        workflow={'erased_at': lambda w: _now()}),
    'office.visit.statistic': dict(kind=RESTRICTED, build='build_visit',
        seen_by=STAFF),
    # Configuration and company-wide data: nothing to hide inside the
    # company
    'office.approval.rule': dict(kind=CONFIG),
    'office.approval.tier': dict(kind=CONFIG),
    'office.approval.tier-res.user': dict(kind=CONFIG),
    'office.attendance.schedule': dict(kind=CONFIG),
    'office.attendance.schedule.assignment': dict(kind=CONFIG),
    'office.calendar': dict(kind=CONFIG),
    'office.calendar.day': dict(kind=CONFIG),
    'office.configuration': dict(kind=CONFIG),
    'office.department': dict(kind=CONFIG),
    'office.document.counter': dict(kind=CONFIG),
    'office.document.type': dict(kind=CONFIG),
    'office.equipment': dict(kind=CONFIG),
    'office.facility': dict(kind=CONFIG),
    'office.facility.category': dict(kind=CONFIG),
    'office.facility.category.deadline': dict(kind=CONFIG),
    'office.inspection.plan': dict(kind=CONFIG),
    'office.inspection.plan.item': dict(kind=CONFIG),
    'office.meeting.room': dict(kind=CONFIG),
    'office.meeting.room-res.group': dict(kind=CONFIG),
    # A room's held slots are public in the company (occupancy); the title
    # is shown only to whoever may read the meeting (see RoomSlot)
    'office.meeting.room.slot': dict(kind=CONFIG),
    'office.seal': dict(kind=CONFIG),
    'office.supply.consolidation': dict(kind=CONFIG),
    'office.supply.stocktake.variance': dict(kind=CONFIG),
    # The emergency supplies of the office store (lots, quantities, expiry
    # notices): the office staff's, nothing to hide inside the company
    'office.emergency.supply': dict(kind=CONFIG),
    'office.emergency.notice': dict(kind=CONFIG),
    # Not stored (wizard forms, services)
    'office.approval.decide.start': dict(kind=TRANSIENT),
    'office.approval.quick.done': dict(kind=TRANSIENT),
    'office.attendance.import.start': dict(kind=TRANSIENT),
    'office.attendance.import.result': dict(kind=TRANSIENT),
    'office.distribution.send.start': dict(kind=TRANSIENT),
    'office.meeting.find_room.start': dict(kind=TRANSIENT),
    'office.meeting.find_room.result': dict(kind=TRANSIENT),
    'office.meeting.find_room.line': dict(kind=TRANSIENT),
    'office.supply.consolidate.start': dict(kind=TRANSIENT),
    'office.notification': dict(kind=TRANSIENT),
    'office.deadline': dict(kind=TRANSIENT),
    'office.repair.confirm.start': dict(kind=TRANSIENT),
    'office.repair.sla.context': dict(kind=TRANSIENT),
    'office.reception.rate.start': dict(kind=TRANSIENT),
    'office.visit.check_in.start': dict(kind=TRANSIENT),
    'office.visit.check_in.refused': dict(kind=TRANSIENT),
    }
BUILD_ORDER = ['build_users', 'build_seal', 'build_outgoing',
    'build_incoming', 'build_archive', 'build_people', 'build_meeting',
    'build_task', 'build_supply', 'build_repair', 'build_inspection',
    'build_reception', 'build_visit', 'build_approval',
    'build_distribution', 'build_notifications', 'build_context']


@pytest.fixture(scope='module')
def world(server):
    world = World(server)
    for name in BUILD_ORDER:
        method = getattr(world, name, None)
        if method is None:
            world.notes.append(f'{name}: not written')
            continue
        if name == 'build_users':
            method()
        else:
            world.try_(name, method)
    yield world
    # The shared database goes on serving the other tests: the matrix's
    # users (an Office Administrator, a leader…) must not become their
    # reviewers
    logins = [login + SUFFIX for login, spec in [*KINDS.values(), BOSS]
        if spec]
    admin = world.admin
    users = admin.search('res.user', [('login', 'in', logins)])
    if users:
        admin.model('res.user', 'write', users, {'active': False})


def office_models(world):
    return sorted(m['name'] for m in world.admin.search('ir.model', [
                'OR',
                ('module', '=', 'office_admin'),
                ('name', 'like', 'office.%'),
                ('name', '=', 'attendance.line'),
                ], ['name']))


def test_access_matrix(world):
    started = time.monotonic()
    models = office_models(world)
    missing = [m for m in models if m not in MODELS]
    assert not missing, '\n'.join(
        f'new office model {m}: add it to the access matrix' for m in missing)
    restricted = [m for m in models if MODELS[m]['kind'] == RESTRICTED]
    unbuilt = [m for m in restricted
        if not world.records.get(m, {}).get('hidden')
        and MODELS[m].get('rpc', True)]
    matrices = [Matrix(world, kind) for kind in KINDS]

    def run(matrix):
        matrix.run_notifications()
        for model in restricted:
            matrix.run(model, MODELS[model])
        return matrix

    # The kinds in parallel (the server has 4 workers), then the writes one
    # after the other (several kinds share a record)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(run, matrices))
    for matrix in matrices:
        for model in restricted:
            matrix.run_workflow(model, MODELS[model])
    cells = sum(m.cells for m in matrices)
    leaks = [leak for m in matrices for leak in m.leaks]
    print()
    for note in world.notes:
        print('setup:', note)
    if unbuilt:
        print('no hidden record built for:', ', '.join(unbuilt))
    for leak in leaks:
        print('LEAK', leak)
    print(f'access matrix: {cells} cells, {len(leaks)} leaks '
        f'({len(KINDS)} kinds of users, {len(restricted)} models with '
        f'restricted records, {len(models) - len(restricted)} without; '
        f'{time.monotonic() - started:.0f}s)')
    assert not leaks, f'{len(leaks)} leaks:\n' + '\n'.join(leaks)
