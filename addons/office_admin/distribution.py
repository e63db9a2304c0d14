# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Distribution with read receipts (分发 / 传阅 with 阅读确认).

A model mixes in `DistributionMixin`; `distribute(records, users)` sends it
to users once each, and each recipient confirms reading with a button; the
first confirmation is kept (who and when). A scheduled job reminds those
who have not read, once a day at most."""
import datetime as dt

from sql import Null

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .access import OfficeAccessMixin
from . import calendar_
from .common import mine_mixin
from .exceptions import DistributionError
from .secrecy import copy_secrecy_rank, secrecy_rank
from .workflow_guard import check_clearance


class Distribution(OfficeAccessMixin, mine_mixin('user'), ModelSQL, ModelView):
    __name__ = 'office.distribution'

    resource = fields.Reference(
        "Document", selection='get_resources', required=True, readonly=True)
    res_model = fields.Char("Document Model", required=True, readonly=True)
    res_id = fields.Integer("Document ID", required=True, readonly=True)
    user = fields.Many2One(
        'res.user', "Recipient", required=True, readonly=True,
        ondelete='CASCADE')
    distributed_by = fields.Many2One(
        'res.user', "Distributed By", readonly=True)
    distributed_at = fields.DateTime("Distributed At", readonly=True)
    read_at = fields.DateTime("Read At", readonly=True)
    reminded_at = fields.DateTime("Reminded At", readonly=True)
    reminders = fields.Integer("Reminders", readonly=True)
    # The document's rank, for the clearance rule (see secrecy.py)
    secrecy_rank = fields.Integer("Secrecy Rank", readonly=True)

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Migration: fill the rank the clearance rule reads
        copy_secrecy_rank(cls, lambda t: t.secrecy_rank == Null)

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        super().on_modification(mode, lines, field_names=field_names)
        if mode == 'create' or (mode == 'write' and (
                    not field_names
                    or field_names & {'user', 'res_model', 'res_id'})):
            cls._on_distribution({(l.res_model, l.res_id) for l in lines})

    @classmethod
    def on_delete(cls, lines):
        resources = {(l.res_model, l.res_id) for l in lines}
        return super().on_delete(lines) + [
            lambda: cls._on_distribution(resources)]

    @classmethod
    def _on_distribution(cls, resources):
        "Tell each model its records whose distribution changed"
        pool = Pool()
        by_model = {}
        for model, id_ in resources:
            by_model.setdefault(model, set()).add(id_)
        for model, ids in by_model.items():
            Model = pool.get(model)
            if hasattr(Model, 'on_distribution'):
                Model.on_distribution(Model.browse(sorted(ids)))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('resource_user_unique', Unique(t, t.res_model, t.res_id, t.user),
                'office_admin.msg_distribution_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.res_model, Index.Equality()),
                    (t.res_id, Index.Range())),
                Index(t, (t.user, Index.Range()), (t.read_at, Index.Range()),
                    where=t.read_at == Null),
                })
        cls._order = [('distributed_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_reminders(cls):
        return 0

    @classmethod
    def default_secrecy_rank(cls):
        return 0

    @classmethod
    def get_resources(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        return [(name, Model.get_name(name))
            for name, M in pool.iterobject()
            if issubclass(M, DistributionMixin)]

    @classmethod
    def remind_unread(cls, delay=dt.timedelta(days=1)):
        """Scheduled: remind the recipients who have not read, at most once
        per delay."""
        pool = Pool()
        Notification = pool.get('office.notification')
        now = calendar_.utcnow()
        lines = cls.search([
                ('read_at', '=', None),
                ['OR',
                    ('reminded_at', '=', None),
                    ('reminded_at', '<=', now - delay),
                    ],
                ('distributed_at', '<=', now - delay),
                ], order=[('id', 'ASC')])
        for sub in grouped_slice(lines, 200):
            sub = cls.browse(list(sub))
            for line in sub:
                record = line.resource
                Notification.send(
                    [record], [line.user],
                    'office_admin.msg_distribution_unread',
                    key='unread-%s-%s' % (line.id, (line.reminders or 0) + 1),
                    chat=False)
                line.reminders = (line.reminders or 0) + 1
                line.reminded_at = now
            cls.save(sub)


class DistributionMixin:
    __slots__ = ()

    @classmethod
    def on_distribution(cls, records):
        "Called when the distribution lines of records changed"

    distribution_lines = fields.Function(fields.Many2Many(
            'office.distribution', None, None, "Distribution"),
        'get_distribution')
    distribution_read = fields.Function(
        fields.Char("Read"), 'get_distribution')
    distribution_unread_mine = fields.Function(
        fields.Boolean("To Read"), 'get_distribution',
        searcher='search_distribution_unread_mine')
    distribution_recipients = fields.Function(fields.Many2Many(
            'res.user', None, None, "Recipients"),
        'get_distribution', searcher='search_distribution_recipients')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'confirm_read': {
                    'invisible': ~Eval('distribution_unread_mine'),
                    'depends': ['distribution_unread_mine'],
                    'icon': 'tryton-ok',
                    },
                })

    @classmethod
    def get_distribution(cls, records, names):
        pool = Pool()
        Line = pool.get('office.distribution')
        user = Transaction().user
        result = {n: {r.id: None for r in records} for n in names}
        by_record = {r.id: [] for r in records}
        with without_check_access():
            for sub in grouped_slice([r.id for r in records], 200):
                for line in Line.search([
                            ('res_model', '=', cls.__name__),
                            ('res_id', 'in', list(sub)),
                            ], order=[('id', 'ASC')]):
                    by_record[line.res_id].append(line)
        for record_id, lines in by_record.items():
            if 'distribution_lines' in names:
                result['distribution_lines'][record_id] = [
                    l.id for l in lines]
            if 'distribution_read' in names:
                result['distribution_read'][record_id] = (
                    '%s/%s' % (sum(1 for l in lines if l.read_at), len(lines))
                    if lines else None)
            if 'distribution_unread_mine' in names:
                result['distribution_unread_mine'][record_id] = any(
                    l.user.id == user and not l.read_at for l in lines)
            if 'distribution_recipients' in names:
                result['distribution_recipients'][record_id] = [
                    l.user.id for l in lines]
        return result

    @classmethod
    def _distribution_subquery(cls, where=None):
        pool = Pool()
        Line = pool.get('office.distribution')
        line = Line.__table__()
        condition = line.res_model == cls.__name__
        if where is not None:
            condition &= where(line)
        return line.select(line.res_id, where=condition)

    @classmethod
    def search_distribution_unread_mine(cls, name, clause):
        user = Transaction().user
        _, operator, value = clause[:3]
        query = cls._distribution_subquery(
            lambda l: (l.user == user) & (l.read_at == Null))
        if (operator == '=') == bool(value):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]

    @classmethod
    def search_distribution_recipients(cls, name, clause):
        _, operator, value = clause[:3]
        if operator not in {'=', 'in'}:
            return [('id', '=', -1)]
        users = [value] if operator == '=' else list(value)
        users = [int(u) for u in users if u is not None] or [-1]
        return [('id', 'in', cls._distribution_subquery(
                    lambda l: l.user.in_(users)))]

    @classmethod
    def distribute(cls, records, users, key='distribute'):
        """Send the records to users (once each); return the new lines"""
        pool = Pool()
        Line = pool.get('office.distribution')
        Notification = pool.get('office.notification')
        now = calendar_.utcnow()
        sender = Transaction().user
        User = pool.get('res.user')
        users = User.browse([int(u) for u in {int(u) for u in users if u}])
        new = []
        with without_check_access():
            for record in records:
                # Nobody is sent (nor reminded of) what his clearance hides
                rank = getattr(record, 'secrecy_rank', None) or 0
                cleared = [u for u in users
                    if secrecy_rank(u.clearance) >= rank]
                existing = {l.user.id for l in Line.search([
                            ('res_model', '=', cls.__name__),
                            ('res_id', '=', record.id),
                            ])}
                lines = [Line(resource=record, res_model=cls.__name__,
                        res_id=record.id, secrecy_rank=rank, user=u,
                        distributed_by=sender,
                        distributed_at=now) for u in cleared
                    if int(u) not in existing]
                Line.save(lines)
                new.extend(lines)
                Notification.send(
                    [record], [l.user for l in lines],
                    'office_admin.msg_distribution_sent', key=key)
        return new

    @classmethod
    @ModelView.button
    def confirm_read(cls, records):
        pool = Pool()
        Line = pool.get('office.distribution')
        user = Transaction().user
        now = calendar_.utcnow()
        with without_check_access():
            lines = Line.search([
                    ('res_model', '=', cls.__name__),
                    ('res_id', 'in', [r.id for r in records]),
                    ('user', '=', user),
                    ])
            if not lines:
                raise DistributionError(gettext(
                        'office_admin.msg_distribution_not_recipient'))
            Line.write([l for l in lines if not l.read_at], {'read_at': now})


class SendStart(ModelView):
    __name__ = 'office.distribution.send.start'
    users = fields.Many2Many('res.user', None, None, "Users")
    departments = fields.Many2Many(
        'office.department', None, None, "Departments",
        help="Every member of these departments and their sub-departments.")


class Send(Wizard):
    "Distribute for reading (分发/传阅) with read receipts"
    __name__ = 'office.distribution.send'
    start = StateView(
        'office.distribution.send.start',
        'office_admin.distribution_send_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Distribute", 'send', 'tryton-ok', default=True),
            ])
    send = StateTransition()

    def transition_send(self):
        pool = Pool()
        User = pool.get('res.user')
        Employee = pool.get('company.employee')
        users = list(self.start.users)
        # A reader named one by one must be cleared for every record
        check_clearance(list(self.records), users)
        departments = [d.id for d in self.start.departments]
        if departments:
            employees = Employee.search([
                    ('department', 'child_of', departments, 'parent'),
                    ])
            users += list(User.users_of_employees(employees).values())
        if not users:
            raise DistributionError(gettext(
                    'office_admin.msg_distribution_no_readers'))
        self.model.distribute(list(self.records), users, key='reading')
        return 'end'
