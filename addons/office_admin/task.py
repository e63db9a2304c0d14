# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tasks (任务): an owner, a deadline on working days, progress notes.
Meetings create them for equipment checks and as action items of minutes;
leadership supervision (督办) extends them later."""
from sql import Null

from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .access import OfficeAccessMixin, copy_from_parent
from . import calendar_
from .deadline import DUE_SOON_HOURS, DeadlineMixin


class Task(
        OfficeAccessMixin, DeadlineMixin, ChatMixin, Workflow, ModelSQL,
        ModelView):
    __name__ = 'office.task'
    _states = {
        'readonly': Eval('state') != 'open',
        }

    name = fields.Char("Task", required=True, states=_states)
    description = fields.Text("Description", states=_states)
    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    kind = fields.Selection([
            ('action', "Action Item"),
            ('equipment_check', "Equipment Check"),
            ('other', "Other"),
            ], "Kind", required=True, states=_states)
    owner = fields.Many2One(
        'company.employee', "Owner", states=_states,
        domain=[('company', '=', Eval('company', -1))],
        help="The employee who must do the task.")
    owner_group = fields.Many2One(
        'res.group', "Owner Team", states=_states,
        help="When the task belongs to a team rather than one employee.")
    department = fields.Many2One(
        'office.department', "Department", states=_states)
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('done', "Done"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    done_at = fields.DateTime("Done At", readonly=True)
    notes = fields.One2Many('office.task.note', 'task', "Progress Notes")
    mine = fields.Function(
        fields.Boolean("Mine"), 'get_mine', searcher='search_mine')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.owner, Index.Range()),
                    (t.state, Index.Equality())),
                Index(t, (t.origin, Index.Equality())),
                })
        cls.deadline.readonly = False
        cls.deadline.states = {'readonly': Eval('state') != 'open'}
        cls._order = [('deadline', 'ASC NULLS LAST'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'done'),
            ('open', 'cancelled'),
            ('done', 'open'),
            ('cancelled', 'open'),
            }
        cls._buttons.update({
                'do': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'cancel': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'reopen': {
                    'invisible': Eval('state') == 'open',
                    'depends': ['state'],
                    'icon': 'tryton-undo',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_kind(cls):
        return 'other'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_owner(cls):
        return Transaction().context.get('employee')

    @classmethod
    def get_origins(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        return [(None, '')] + [(m, Model.get_name(m))
            for m in ['office.meeting', 'office.seal.request',
                'office.document.incoming', 'office.document.outgoing',
                'office.reception']]

    def get_mine(self, name):
        pool = Pool()
        User = pool.get('res.user')
        if self.owner and self.owner.id in User.get_employees():
            return True
        return bool(self.owner_group
            and self.owner_group.id in User.get_groups())

    @classmethod
    def search_mine(cls, name, clause):
        pool = Pool()
        User = pool.get('res.user')
        _, operator, value = clause[:3]
        domain = ['OR',
            ('owner', 'in', list(User.get_employees())),
            ('owner_group', 'in', list(User.get_groups())),
            ]
        if (operator == '=') == bool(value):
            return [domain]
        return [['NOT', domain]]

    @classmethod
    def on_modification(cls, mode, tasks, field_names=None):
        pool = Pool()
        Note = pool.get('office.task.note')
        super().on_modification(mode, tasks, field_names=field_names)
        if mode == 'write' and (not field_names
                or field_names & set(Note._task_access_fields)):
            Note.sync_task(tasks=tasks)

    @fields.depends('owner', 'department')
    def on_change_owner(self):
        if self.owner and self.owner.department:
            self.department = self.owner.department

    @classmethod
    def validate_fields(cls, tasks, field_names):
        super().validate_fields(tasks, field_names)
        if 'deadline' in field_names:
            # Only what a person sets: generated tasks may be late already
            cls.check_deadline_future(
                [t for t in tasks if t.state == 'open'
                    and t.kind == 'action' and not t.origin])

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', '=', 'open')]

    def deadline_owners(self):
        pool = Pool()
        User = pool.get('res.user')
        if self.owner:
            return list(User.users_of_employees([self.owner]).values())
        if self.owner_group:
            return User.search([('groups', '=', self.owner_group.id)])
        return []

    def deadline_department(self):
        return self.department or (self.owner.department if self.owner
            else None)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, tasks):
        cls.write(tasks, {'done_at': calendar_.utcnow()})

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, tasks):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, tasks):
        cls.write(tasks, {'done_at': None})

    @classmethod
    def remind_due(cls):
        """Scheduled: tell the owners of open tasks due soon, once per task
        and deadline."""
        pool = Pool()
        Calendar = pool.get('office.calendar')
        Notification = pool.get('office.notification')
        now = calendar_.utcnow()
        soon = Calendar.get_calendar().add_working_hours(now, DUE_SOON_HOURS)
        tasks = cls.search([
                ('state', '=', 'open'),
                ('deadline', '>=', now),
                ('deadline', '<=', soon),
                ], order=[('id', 'ASC')])
        for sub in grouped_slice(tasks, 200):
            for task in sub:
                Notification.send(
                    [task], task.deadline_owners(),
                    'office_admin.msg_task_due_soon',
                    key='due-%s' % task.deadline.isoformat())


class TaskNote(OfficeAccessMixin, ModelSQL, ModelView):
    __name__ = 'office.task.note'
    task = fields.Many2One(
        'office.task', "Task", required=True, ondelete='CASCADE')
    # Copied from the task for the record rules (see access.py), kept in
    # sync by sync_task(): a note is seen by whoever sees its task
    company = fields.Many2One('company.company', "Company", readonly=True)
    owner = fields.Many2One('company.employee', "Owner", readonly=True)
    owner_group = fields.Many2One('res.group', "Owner Team", readonly=True)
    department = fields.Many2One(
        'office.department', "Department", readonly=True)
    task_creator = fields.Many2One('res.user', "Task Creator", readonly=True)
    # note field -> task column
    _task_access_fields = {
        'company': 'company',
        'owner': 'owner',
        'owner_group': 'owner_group',
        'department': 'department',
        'task_creator': 'create_uid',
        }
    text = fields.Text("Progress", required=True)
    progress = fields.Integer(
        "Progress (%)", domain=[
            ['OR', ('progress', '=', None),
                [('progress', '>=', 0), ('progress', '<=', 100)]]])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('create_date', 'DESC'))
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.task, Index.Range())))

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Migration: fill the fields the record rules read
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id,
                where=(table.company == Null) & (table.task != Null)))
        ids = [i for i, in cursor]
        if ids:
            cls.sync_task(notes=cls.browse(ids))

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Task = pool.get('office.task')
        values = super().preprocess_values(mode, values)
        if values.get('task') is not None and int(values['task']) >= 0:
            with without_check_access():
                task = Task(int(values['task']))
                for name, column in cls._task_access_fields.items():
                    value = getattr(task, column)
                    values[name] = value.id if value else None
        return values

    @classmethod
    def on_modification(cls, mode, notes, field_names=None):
        super().on_modification(mode, notes, field_names=field_names)
        if mode == 'write' and (not field_names or 'task' in field_names):
            cls.sync_task(notes=notes)

    @classmethod
    def sync_task(cls, notes=None, tasks=None):
        "Copy the fields of the task that its rules read onto its notes"
        copy_from_parent(cls, 'task', cls._task_access_fields,
            records=notes, parents=tasks)
