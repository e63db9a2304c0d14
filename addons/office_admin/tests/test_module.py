# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import json
import os
import re
from contextlib import contextmanager
from unittest.mock import patch

from sql import Literal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

PLACEHOLDER = re.compile(r'%\((\w+)\)s')
SEND_MESSAGE = 'trytond.modules.office_admin.notification.send_message'


def _later(moment):
    "A moment after moment and after now"
    from trytond.modules.office_admin.calendar_ import utcnow
    return max(moment, utcnow()) + dt.timedelta(seconds=1)


@contextmanager
def statements():
    "Yield the list of the SQL statements executed meanwhile"
    from trytond import backend
    if backend.name == 'postgresql':
        from trytond.backend.postgresql.database import (
            LoggingCursor as Cursor)
    else:
        from trytond.backend.sqlite.database import SQLiteCursor as Cursor
    executed, execute = [], Cursor.execute

    def recording(self, sql, *args, **kwargs):
        executed.append(str(sql))
        return execute(self, sql, *args, **kwargs)
    Cursor.execute = recording
    try:
        yield executed
    finally:
        Cursor.execute = execute


@contextmanager
def sent_mails():
    "Yield the list of the addresses the e-mails sent meanwhile went to"
    sent = []
    with patch(SEND_MESSAGE, lambda msg, strict: sent.append(msg['To'])):
        yield sent


class OfficeAdminTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Office Admin module"
    module = 'office_admin'
    extras = ['document_incoming']

    @property
    def _skip_company_rule(self):
        # Approval rules without company apply to every company
        return super()._skip_company_rule | {
            ('office.approval.rule', 'company'),
            }

    def _calendar(self, year=2026):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        calendar, = Calendar.search([('default', '=', True)])
        Calendar.seed_holidays([calendar], years=[year])
        return calendar

    def _recipients(self, name, count):
        """Create count users with an e-mail address (name 0, name 1...)
        and a group named name to notify them about"""
        pool = Pool()
        User = pool.get('res.user')
        Group = pool.get('res.group')
        login = name.lower()
        users = User.create([{
                    'login': '%s%s' % (login, i), 'name': "%s %s" % (name, i),
                    'email': '%s%s@example.com' % (login, i),
                    } for i in range(count)])
        group, = Group.create([{'name': name}])
        return users, group

    def _deliveries(self, methods=('deliver', 'deliver_all')):
        "The notices' e-mail tasks waiting in the queue, oldest first"
        pool = Pool()
        Queue = pool.get('ir.queue')
        return [t for t in Queue.search(
                [('finished_at', '=', None)], order=[('id', 'ASC')])
            if t.data['method'] in methods]

    def _run_again(self, task):
        "Run task again, as ir.error's Solve does"
        pool = Pool()
        Queue = pool.get('ir.queue')
        Queue(Queue.push(task.name, task.data)).run()

    @with_transaction()
    def test_list_widgets_known_to_web_client(self):
        "Every widget of the module's lists is one sao 8.0 draws in a list"
        from lxml import etree
        View = Pool().get('ir.ui.view')
        # Sao.View.TreeXMLViewParser.WIDGETS (a form's "datetime" is not
        # among them: a list draws a date and a time column)
        known = {'binary', 'boolean', 'callto', 'char', 'date', 'dict',
            'email', 'float', 'image', 'integer', 'many2many', 'many2one',
            'numeric', 'one2many', 'one2one', 'progressbar', 'reference',
            'selection', 'multiselection', 'sip', 'text', 'time',
            'timedelta', 'url'}
        pool = Pool()
        unknown = []
        for view in View.search([
                    ('module', '=', 'office_admin'),
                    ('type', '=', 'tree'),
                    ]):
            Model = pool.get(view.model)
            for field in etree.fromstring(view.arch).iter('field'):
                name = field.get('name')
                # sao takes the field's type when the view names no widget
                widget = field.get('widget') or Model._fields[name]._type
                if widget not in known:
                    unknown.append((view.name, name, widget))
        self.maxDiff = None
        self.assertEqual(unknown, [])

    @with_transaction()
    def test_form_widgets_known_to_web_client(self):
        "Every widget of the module's forms is one sao 8.0 draws in a form"
        from lxml import etree
        pool = Pool()
        View = pool.get('ir.ui.view')
        # Sao.View.FormXMLViewParser.WIDGETS
        known = {'binary', 'boolean', 'callto', 'char', 'color', 'date',
            'datetime', 'dict', 'document', 'email', 'float', 'html',
            'image', 'integer', 'many2many', 'many2one', 'multiselection',
            'numeric', 'one2many', 'one2one', 'password', 'progressbar',
            'pyson', 'reference', 'richtext', 'selection', 'sip', 'text',
            'time', 'timedelta', 'timestamp', 'url'}
        unknown = []
        for view in View.search([
                    ('module', '=', 'office_admin'),
                    ('type', '=', 'form'),
                    ]):
            Model = pool.get(view.model)
            for field in etree.fromstring(view.arch).iter('field'):
                name = field.get('name')
                widget = field.get('widget') or Model._fields[name]._type
                if widget not in known:
                    unknown.append((view.name, name, widget))
        self.assertEqual(unknown, [])

    @with_transaction()
    def test_calendar_national_day_and_adjusted_workdays(self):
        "National Day 2026: 1-7 October off, Sunday 20 Sept and Saturday 10 Oct worked"
        calendar = self._calendar()
        date = dt.date
        self.assertFalse(calendar.is_working_day(date(2026, 10, 1)))
        self.assertFalse(calendar.is_working_day(date(2026, 10, 7)))
        self.assertTrue(calendar.is_working_day(date(2026, 10, 10)))  # Sat
        self.assertTrue(calendar.is_working_day(date(2026, 9, 20)))  # Sun
        self.assertFalse(calendar.is_working_day(date(2026, 10, 11)))  # Sun
        # 30 September (Wed) + 1 working day: the 8th (Thu)
        self.assertEqual(
            calendar.add_working_days(date(2026, 9, 30), 1), date(2026, 10, 8))
        # Friday 9 October + 1 working day: the adjusted Saturday
        self.assertEqual(
            calendar.add_working_days(date(2026, 10, 9), 1),
            date(2026, 10, 10))
        self.assertEqual(
            calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 12)),
            4)  # 8, 9, 10 (adjusted Saturday) and 12 October

    @with_transaction()
    def test_calendar_seed_is_idempotent_and_keeps_changes(self):
        "Seeding again adds nothing and keeps what an administrator changed"
        pool = Pool()
        Calendar = pool.get('office.calendar')
        Day = pool.get('office.calendar.day')
        calendar = self._calendar()
        count = Day.search_count([('calendar', '=', calendar.id)])
        self.assertGreater(count, 20)
        day, = Day.search([
                ('calendar', '=', calendar.id),
                ('date', '=', dt.date(2026, 10, 7)),
                ])
        self.assertEqual(day.kind, 'holiday')
        day.kind = 'workday'
        day.save()
        self.assertEqual(Calendar.seed_holidays([calendar], years=[2026]), 0)
        self.assertEqual(
            Day.search_count([('calendar', '=', calendar.id)]), count)
        self.assertTrue(calendar.is_working_day(dt.date(2026, 10, 7)))

    @with_transaction()
    def test_working_hours_across_weekend_in_company_timezone(self):
        "Working hours count in Asia/Shanghai and skip the weekend and lunch"
        company = create_company()
        company.timezone = 'Asia/Shanghai'
        company.save()
        calendar = self._calendar()
        with set_company(company):
            # Friday 2026-11-20 16:00 in Shanghai is 08:00 UTC
            start = dt.datetime(2026, 11, 20, 8, 0)
            # 4 working hours: 2 on Friday (16-18), 2 on Monday (9-11)
            self.assertEqual(
                calendar.add_working_hours(start, 4),
                dt.datetime(2026, 11, 23, 3, 0))  # Monday 11:00 local
            # 3 hours from Monday 11:00 local skip the 12-13 break
            self.assertEqual(
                calendar.add_working_hours(dt.datetime(2026, 11, 23, 3), 3),
                dt.datetime(2026, 11, 23, 7, 0))  # 15:00 local
            self.assertEqual(
                calendar.end_of_working_day(dt.date(2026, 11, 23)),
                dt.datetime(2026, 11, 23, 10, 0))  # 18:00 local

    @with_transaction()
    def test_calendar_fallback_without_company_calendar(self):
        "No calendar at all falls back to Monday-Friday and never crashes"
        pool = Pool()
        Calendar = pool.get('office.calendar')
        company = create_company()
        Calendar.write(Calendar.search([]), {'default': False})
        with set_company(company):
            calendar = Calendar.get_calendar()
            self.assertIsNone(calendar.id)
            self.assertEqual(
                calendar.add_working_days(dt.date(2026, 11, 20), 1),
                dt.date(2026, 11, 23))
        default, = Calendar.search([], limit=1)
        Calendar.write([default], {'default': True})
        with set_company(company):
            self.assertEqual(Calendar.get_calendar(), default)

    @with_transaction()
    def test_calendar_hours_validation(self):
        "Working hours that end before they start are refused"
        pool = Pool()
        Calendar = pool.get('office.calendar')
        calendar = Calendar(name="Wrong", work_start=dt.time(18),
            work_end=dt.time(9), break_start=None, break_end=None)
        with self.assertRaises(UserError):
            calendar.save()

    @with_transaction()
    def test_approval_rule_condition_validated(self):
        "A rule whose condition is not a domain is refused"
        pool = Pool()
        Rule = pool.get('office.approval.rule')
        Model = pool.get('ir.model')
        model, = Model.search([('name', '=', 'office.seal.request')])
        with self.assertRaises(UserError):
            Rule(name="Bad", model=model, condition="[('a', 'é')").save()
        other, = Model.search([('name', '=', 'res.user')])
        with self.assertRaises(UserError):
            Rule(name="Not approvable", model=other).save()

    @with_transaction()
    def test_notification_once_per_key(self):
        "A keyed notification reaches each user once however often it runs"
        pool = Pool()
        Notification = pool.get('office.notification')
        Log = pool.get('office.notification.log')
        User = pool.get('res.user')
        calendar = self._calendar()
        admin = User(Transaction().user)
        sent = Notification.send([calendar], [admin],
            'office_admin.msg_approval_reminder', key='k1', email=False,
            user='x')
        again = Notification.send([calendar], [admin],
            'office_admin.msg_approval_reminder', key='k1', email=False,
            user='x')
        self.assertEqual((sent, again), (1, 0))
        self.assertEqual(Log.search_count([('key', '=', 'k1')]), 1)

    @with_transaction()
    def test_user_infos_follow_user_changes(self):
        "The names and addresses the notices use change with the user"
        from trytond.modules.office_admin.notification import (
            user_infos, user_name)
        pool = Pool()
        User = pool.get('res.user')
        user, = User.create([{'login': 'infos', 'name': "Before",
                    'email': 'before@example.com'}])
        self.assertEqual(user_name(user), "Before")
        User.write([user], {'name': "After", 'email': 'after@example.com'})
        self.assertEqual(user_name(user), "After")
        self.assertEqual(
            user_infos([user.id])[user.id].email, 'after@example.com')

    @with_transaction()
    def test_delegation_routing_follows_changes(self):
        "route() sees a delegation made, ended or past since its last read"
        from trytond.modules.office_admin.calendar_ import utcnow
        pool = Pool()
        User = pool.get('res.user')
        Delegation = pool.get('office.approval.delegation')
        reviewer, substitute = User.create([
                {'login': 'route_reviewer', 'name': "Reviewer"},
                {'login': 'route_substitute', 'name': "Substitute"}])
        now = utcnow()
        self.assertEqual(Delegation.route(reviewer, _later(now)),
            (reviewer, None, False))
        delegation, = Delegation.create([{'user': reviewer.id,
                    'substitute': substitute.id,
                    'start': now - dt.timedelta(hours=1),
                    'end': now + dt.timedelta(days=1)}])
        # (a time after the list was read: from the list)
        self.assertEqual(Delegation.route(reviewer, _later(now)),
            (substitute, reviewer, False))
        # Not to the requester: the chain stops before him
        self.assertEqual(
            Delegation.route(reviewer, _later(now), exclude=substitute),
            (reviewer, None, True))
        Delegation.write([delegation], {'end': now - dt.timedelta(minutes=1),
                'start': now - dt.timedelta(days=2)})
        self.assertEqual(Delegation.route(reviewer, _later(now)),
            (reviewer, None, False))
        # A time before the list was read: the delegation over since counts
        self.assertEqual(
            Delegation.route(reviewer, now - dt.timedelta(days=1)),
            (substitute, reviewer, False))
        Delegation.delete([delegation])
        self.assertEqual(
            Delegation.route(reviewer, now - dt.timedelta(days=1)),
            (reviewer, None, False))

    @with_transaction()
    def test_save_computed_one_update(self):
        "What an engine computed is one UPDATE; hooks and triggers still run"
        from trytond import backend
        from trytond.modules.office_admin.common import save_computed
        pool = Pool()
        Log = pool.get('office.notification.log')
        Trigger = pool.get('ir.trigger')
        (user,), group = self._recipients("Computed", 1)
        logs = Log.create([{'resource': str(group), 'user': user.id,
                    'key': 'computed%s' % i, 'message': "M",
                    'emailed': False} for i in range(3)])

        def updates(executed):
            return [s for s in executed if s.startswith('UPDATE')]
        # A model saves this way only the fields it lists
        with patch.object(Log, '_save_computed', {'emailed', 'address'},
                create=True):
            logs = Log.browse(logs)
            self.assertFalse(any(log.emailed for log in logs))
            for log in logs:
                log.emailed = True
            with patch.object(Log, 'on_modification') as hook, \
                    statements() as executed:
                save_computed(logs)
                # Read back by the UPDATE itself on PostgreSQL
                self.assertTrue(all(log.emailed for log in Log.browse(logs)))
            # The same values: one UPDATE for all
            self.assertEqual(len(updates(executed)), 1)
            if backend.name == 'postgresql':
                # (besides the triggers read once by the process)
                self.assertEqual(len([s for s in executed
                            if '"office_notification_log"' in s]), 1)
            hook.assert_called_once_with('write', logs, {'emailed'})
            # What the database holds, not the cache
            Transaction().counter += 1
            Transaction().cache.clear()
            for row in Log.read(list(map(int, logs)),
                    ['emailed', 'write_uid', 'write_date']):
                self.assertTrue(row['emailed'])
                self.assertEqual(row['write_uid'], Transaction().user)
                self.assertIsNotNone(row['write_date'])
            # Different values: one UPDATE each; nothing set, nothing
            logs = Log.browse(logs)
            logs[0].emailed = False
            logs[1].address = 'computed@example.com'
            with statements() as executed:
                save_computed(logs)
            self.assertEqual(len(updates(executed)), 2)
            self.assertEqual(
                [(log.emailed, log.address) for log in Log.browse(logs)],
                [(False, None), (True, 'computed@example.com'),
                    (True, None)])
            # A field it does not list: trytond's write
            log = Log(logs[0].id)
            log.message = "Typed"
            with patch.object(Log, 'write') as write:
                save_computed([log])
            write.assert_called_once_with([log], {'message': "Typed"})
            # A model with write triggers: trytond's write (they run)
            log = Log(logs[0].id)
            log.emailed = True
            with patch.object(Trigger, 'get_triggers', return_value=[None]), \
                    patch.object(Log, 'write') as write:
                save_computed([log])
            write.assert_called_once_with([log], {'emailed': True})

    @with_transaction()
    def test_approval_resource(self):
        "An approval's document is read, searched and sorted as a Reference"
        pool = Pool()
        Request = pool.get('office.approval.request')
        Group = pool.get('res.group')
        company = create_company()
        groups = Group.create([{'name': "Resource %s" % i} for i in range(3)])
        user_id = Transaction().user

        # Rows of the table: documents of any model (validating a request
        # reads its approval centre, which needs an approvable model)
        table = Request.__table__()
        cursor = Transaction().connection.cursor()
        rows = [('res.group', g.id) for g in groups] + [
            ('res.user', user_id)]
        for model, id_ in rows:
            cursor.execute(*table.insert([table.res_model, table.res_id,
                        table.requester, table.company, table.state,
                        table.activation],
                    [[model, id_, user_id, company.id, 'pending', 0]]))
        cursor.execute(*table.select(table.id, order_by=[table.id.asc]))
        requests = Request.browse([i for i, in cursor][-len(rows):])
        on_group = requests[:3]
        other = requests[3]

        def found(*domain, **kwargs):
            return Request.search(list(domain), **kwargs)
        self.assertEqual(requests[0].resource, groups[0])
        self.assertEqual(other.resource.__name__, 'res.user')
        self.assertEqual(other.rec_name, other.resource.rec_name)
        self.assertEqual(
            Request.read([requests[1].id], ['resource'])[0]['resource'],
            'res.group,%s' % groups[1].id)
        self.assertEqual(found(('resource', '=', str(groups[1]))),
            [requests[1]])
        self.assertEqual(found(('resource', '=', ('res.group', groups[2].id))),
            [requests[2]])
        self.assertEqual(found(('resource', '=', None)), [])
        self.assertEqual(found(('resource', '=', 'not a reference')), [])
        self.assertEqual(sorted(found(('resource', 'in',
                        [str(groups[0]), str(groups[2]),
                            'res.user,%s' % user_id]))),
            sorted([requests[0], requests[2], other]))
        self.assertEqual(sorted(found(('resource', '!=', str(groups[0])))),
            sorted([requests[1], requests[2], other]))
        self.assertEqual(sorted(found(('resource', 'not in',
                        [str(groups[0]), str(groups[1])]))),
            sorted([requests[2], other]))
        self.assertEqual(sorted(found(('resource', 'like', 'res.group,%'))),
            sorted(on_group))
        self.assertEqual(found(
                ('resource.name', '=', "Resource 1", 'res.group')),
            [requests[1]])

        # A user's dotted search reaches only the documents he reads: a
        # record rule hides the second group from him
        Rule = pool.get('ir.rule')
        domain_get = Rule.domain_get

        def hide_group(model_name, mode='read'):
            if not Transaction().check_access:
                return []
            if model_name == 'res.group':
                return [('id', '!=', groups[1].id)]
            if model_name == Request.__name__:
                return []
            return domain_get(model_name, mode=mode)
        with patch.object(Rule, 'domain_get', side_effect=hide_group), \
                Transaction().set_context(_check_access=True):
            self.assertTrue(Transaction().check_access)
            for name, expected in [
                    ("Resource 1", []), ("Resource 2", [requests[2]])]:
                self.assertEqual(found(
                        ('resource.name', '=', name, 'res.group')),
                    expected)

        # ...and only through the models and fields he may read
        ModelAccess = pool.get('ir.model.access')
        access_check = ModelAccess.check

        def no_group(model_name, mode='read', raise_exception=True):
            # As trytond's: only the caller's own calls are checked
            if model_name == 'res.group' and Transaction().check_access:
                raise AccessError("no access to %s" % model_name)
            return access_check(
                model_name, mode=mode, raise_exception=raise_exception)
        with patch.object(ModelAccess, 'check', side_effect=no_group), \
                Transaction().set_context(_check_access=True):
            with self.assertRaisesRegex(AccessError, 'res.group'):
                found(('resource.name', '=', "Resource 2", 'res.group'))
        # Odd values find nothing instead of failing
        for clause in [('resource', '=', ('res.group', 'x')),
                ('resource', 'in', 'res.group,x'),
                ('resource', '=', ('res.group', None))]:
            self.assertEqual(found(clause), [])
        self.assertEqual(found(('resource', 'in',
                    Request.__table__().select(Literal(str(groups[2]))))),
            [requests[2]])
        self.assertEqual(found(('id', 'in', [r.id for r in on_group]),
                order=[('resource', 'DESC')]),
            sorted(on_group, key=lambda r: r.res_id, reverse=True))
        self.assertEqual(requests[2].rec_name, groups[2].rec_name)

    @with_transaction()
    def test_readable_by_one_query(self):
        "Who reads which records: one query for all users, each his rules"
        pool = Pool()
        User = pool.get('res.user')
        Task = pool.get('office.task')
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        ModelData = pool.get('ir.model.data')
        from trytond.modules.office_admin.access import readable_by_known
        company = create_company()
        group = ModelData.get_id('office_admin', 'group_employee')
        with set_company(company):
            party, = Party.create([{'name': "Owner"}])
            employee, = Employee.create([{
                        'party': party.id, 'company': company.id}])
            owner, other = User.create([{
                        'login': 'readable_%s' % login, 'name': login,
                        'company': company.id,
                        'companies': [('add', [company.id])],
                        'employees': [('add', employees)],
                        'employee': employees[0] if employees else None,
                        'groups': [('add', [group])],
                        } for login, employees in [
                        ('owner', [employee.id]), ('other', [])]])
            own, hidden = Task.create([{
                        'name': name, 'company': company.id,
                        'kind': 'other', 'owner': owner_id,
                        } for name, owner_id in [
                        ("Own", employee.id), ("Hidden", None)]])

        def task_queries(executed):
            return [s for s in executed if 'FROM "office_task"' in s]
        with statements() as executed:
            readable = Task.readable_by([own.id, hidden.id], [owner, other])
        self.assertEqual(readable, {owner.id: {own.id}, other.id: set()})
        self.assertEqual(len(task_queries(executed)), 1)
        # Many users: one query per 50
        many, _ = self._recipients("Readers", 60)
        User.write(many, {'company': company.id,
                'companies': [('add', [company.id])],
                'groups': [('add', [group])]})
        with statements() as executed:
            readable = Task.readable_by(
                [own.id, hidden.id], many + [owner])
        self.assertEqual(readable,
            {**{u.id: set() for u in many}, owner.id: {own.id}})
        self.assertEqual(len(task_queries(executed)), 2)
        # The notices of a sender: asked once for all recipients
        with readable_by_known([own, hidden], [owner, other]):
            with statements() as executed:
                for user in [owner, other]:
                    Task.notify_user([own, hidden], 'tryton-notification',
                        "Readable", user=user.id)
            self.assertEqual(task_queries(executed), [])
        # (the notices are created at the commit)
        self.assertEqual([(n.user, n.records)
                for n in Transaction().user_notifications
                if n.label == "Readable"],
            [(owner, json.dumps([own.id]))])

    @with_transaction()
    def test_notices_to_many_users_batched(self):
        "A notice to many users: one e-mail task, one query for repeats"
        pool = Pool()
        Notification = pool.get('office.notification')
        Notice = pool.get('res.notification')
        users, group = self._recipients("Many", 12)
        with statements() as executed:
            sent = Notification.send([group], users,
                'office_admin.msg_approval_reminder', key='many', user='x',
                chat=False)
        self.assertEqual(sent, 12)
        self.assertEqual(
            len([s for s in executed if 'INSERT INTO "ir_queue"' in s]), 1)

        def notices():
            return [{'user': u.id, 'model': 'res.group',
                    'records': json.dumps([group.id]), 'label': "Again"}
                for u in users]
        Notice.create(notices())
        with statements() as executed:
            Notice.create(notices())
        # The unread notices looked for: one query for the 12 users
        self.assertEqual(len([s for s in executed
                    if s.startswith('SELECT')
                    and 'FROM "res_notification"' in s
                    and '"unread"' in s.partition('WHERE')[2]
                    and 'COUNT' not in s.upper()]), 1)
        # The repeated unread notices were replaced by the newest
        self.assertEqual(Notice.search_count([
                    ('model', '=', 'res.group'),
                    ('records', '=', json.dumps([group.id])),
                    ('label', '=', "Again"),
                    ]), 12)

    @with_transaction()
    def test_notification_batch_one_task(self):
        "The notices of one action: sent at its end, e-mailed by one task"
        pool = Pool()
        Notification = pool.get('office.notification')
        Log = pool.get('office.notification.log')
        users, group = self._recipients("Batch", 2)
        with Notification.batch():
            for i, user in enumerate(users):
                Notification.send_later([group], [user],
                    'office_admin.msg_approval_reminder', key='b%s' % i,
                    new_key=True, user='x', chat=False)
            # Nothing before the end of the block
            self.assertEqual(Log.search_count(
                    [('resource', '=', str(group))]), 0)
        logs = Log.search([('resource', '=', str(group))])
        self.assertEqual(len(logs), 2)
        task, = self._deliveries()
        self.assertEqual(task.data['method'], 'deliver_all')
        with sent_mails() as sent:
            task.run()
            # A task run again sends nothing twice
            self._run_again(task)
        self.assertEqual(sorted(sent), [
                'Batch 0 <batch0@example.com>',
                'Batch 1 <batch1@example.com>'])
        self.assertTrue(all(log.emailed for log in Log.browse(logs)))
        # A block that fails sends nothing
        with self.assertRaises(ZeroDivisionError):
            with Notification.batch():
                Notification.send_later([group], users,
                    'office_admin.msg_approval_reminder', key='failed',
                    user='x', chat=False)
                1 / 0
        self.assertEqual(Log.search_count([('key', '=', 'failed')]), 0)

    @with_transaction()
    def test_notification_email_queued_sent_once(self):
        "The e-mail is a queued task: sent once, nothing for a deleted record"
        pool = Pool()
        Notification = pool.get('office.notification')
        Log = pool.get('office.notification.log')
        Email = pool.get('ir.email')
        Group = pool.get('res.group')
        User = pool.get('res.user')
        admin = User(Transaction().user)
        admin.email = 'admin@example.com'
        admin.save()
        kept, deleted = Group.create([{'name': "Kept"}, {'name': "Gone"}])
        with sent_mails() as sent:
            for group in [kept, deleted]:
                Notification.send([group], [admin],
                    'office_admin.msg_approval_reminder', key='k', user='x',
                    chat=False)
            # Nothing is sent in the action itself
            self.assertEqual(sent, [])
            tasks = self._deliveries(['deliver'])
            self.assertEqual(len(tasks), 2)
            Group.delete([deleted])
            with self.assertLogs(
                    'trytond.modules.office_admin.notification', 'WARNING'):
                for task in tasks:
                    task.run()
            self.assertEqual(sent, ['Administrator <admin@example.com>'])
            # A task run again sends nothing twice
            self._run_again(tasks[0])
            self.assertEqual(len(sent), 1)
        log, = Log.search([('resource', '=', str(kept))])
        self.assertTrue(log.emailed)
        self.assertEqual(
            Email.search_count([('resource', '=', str(kept))]), 1)

        def refused(msg, strict):
            raise ConnectionRefusedError(111, "Connection refused")
        with patch(SEND_MESSAGE, refused):
            Notification.send([kept], [admin],
                'office_admin.msg_approval_reminder', key='k2', user='x',
                chat=False)
            task, = self._deliveries(['deliver'])
            # Without a worker nothing retries later: the task fails with a
            # message for the ir.error the administrators see
            with self.assertRaises(UserError):
                task.run()

    @with_transaction()
    def test_minutes_due_three_working_days_across_new_year(self):
        "Minutes of a meeting on 31 Dec 2026 are due on 6 Jan 2027 at 18:00"
        pool = Pool()
        Calendar = pool.get('office.calendar')
        company = create_company()
        company.timezone = 'Asia/Shanghai'
        company.save()
        calendar, = Calendar.search([('default', '=', True)])
        Calendar.seed_holidays([calendar], years=[2026, 2027])
        with set_company(company):
            # Thursday 31 December 11:00 in Shanghai; 1 January is a
            # holiday, then a weekend: 4, 5 and 6 January are the 3 days
            end = dt.datetime(2026, 12, 31, 3, 0)
            self.assertEqual(
                calendar.add_working_days_at_end(end, 3),
                dt.datetime(2027, 1, 6, 10, 0))

    @with_transaction()
    def test_archiving_due_next_working_day(self):
        "24 hours on working days skip a holiday and a weekend, not 调休"
        company = create_company()
        company.timezone = 'Asia/Shanghai'
        company.save()
        calendar = self._calendar()
        with set_company(company):
            # Thursday 24 September 16:00 local: 25 is Mid-Autumn, then
            # the weekend: due Monday 28 at 16:00
            signed = dt.datetime(2026, 9, 24, 8, 0)
            self.assertEqual(
                calendar.add_working_days_same_time(signed, 1),
                dt.datetime(2026, 9, 28, 8, 0))
            # Saturday 19 September 10:00: Sunday 20 is an adjusted
            # working day
            self.assertEqual(
                calendar.add_working_days_same_time(
                    dt.datetime(2026, 9, 19, 2, 0), 1),
                dt.datetime(2026, 9, 20, 2, 0))

    @with_transaction()
    def test_escalation_levels(self):
        "Overdue by less than a day: owner; one day: head; two: office"
        pool = Pool()
        Deadline = pool.get('office.deadline')
        calendar = self._calendar()
        deadline = dt.datetime(2026, 11, 23, 2, 0)  # Monday 10:00 Shanghai
        level = Deadline.target_level
        self.assertEqual(level(calendar, deadline, deadline), 0)
        self.assertEqual(
            level(calendar, deadline, deadline + dt.timedelta(hours=1)), 1)
        self.assertEqual(
            level(calendar, deadline, deadline + dt.timedelta(days=1)), 2)
        self.assertEqual(
            level(calendar, deadline, deadline + dt.timedelta(days=2)), 3)

    def test_translations_complete(self):
        "Every string has a zh_CN translation with the same placeholders"
        import polib
        path = os.path.join(
            os.path.dirname(__file__), '..', 'locale', 'zh_CN.po')
        entries = [e for e in polib.pofile(path) if e.msgid]
        self.assertGreater(len(entries), 300)
        for entry in entries:
            self.assertTrue(entry.msgstr, msg=entry.msgid)
            self.assertEqual(
                sorted(PLACEHOLDER.findall(entry.msgid)),
                sorted(PLACEHOLDER.findall(entry.msgstr)), msg=entry.msgid)


del ModuleTestCase
