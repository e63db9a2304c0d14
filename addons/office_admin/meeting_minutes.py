# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Minutes of a meeting (会议纪要): held meetings get minutes with decisions
and action items (tasks) within a deadline, then are distributed and
archived; the minutes as PDF."""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.report import Report
from trytond.transaction import without_check_access

from .access import OfficeAccessMixin
from . import calendar_
from .exceptions import MeetingError
from .meeting import MeetingAccessMixin

# Minutes are due this many working days after the meeting
MINUTES_DAYS = 3


class Meeting(metaclass=PoolMeta):
    __name__ = 'office.meeting'

    minutes = fields.Text(
        "Minutes", states={
            'readonly': Eval('state') != 'held',
            'invisible': ~Eval('state').in_(
                ['held', 'minutes_done', 'archived']),
            })
    decisions = fields.One2Many(
        'office.meeting.decision', 'meeting', "Decisions", states={
            'readonly': Eval('state') != 'held',
            'invisible': ~Eval('state').in_(
                ['held', 'minutes_done', 'archived']),
            })
    actions = fields.One2Many(
        'office.meeting.action', 'meeting', "Action Items", states={
            'readonly': Eval('state') != 'held',
            'invisible': ~Eval('state').in_(
                ['held', 'minutes_done', 'archived']),
            })
    distribute_departments = fields.Many2Many(
        'office.meeting-office.department', 'meeting', 'department',
        "Distribute to Departments",
        states={
            'readonly': Eval('state').in_(['minutes_done', 'archived']),
            })
    minutes_done_at = fields.DateTime("Minutes Done At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {
            ('confirmed', 'held'),
            ('held', 'minutes_done'),
            ('minutes_done', 'archived'),
            }
        cls._buttons.update({
                'hold': {
                    'invisible': Eval('state') != 'confirmed',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'finish_minutes': {
                    'invisible': Eval('state') != 'held',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'archive': {
                    'invisible': Eval('state') != 'minutes_done',
                    'depends': ['state'],
                    'icon': 'tryton-archive',
                    },
                })

    def minutes_time_text(self):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        timezone = Calendar.get_timezone(self.company)
        return '%s–%s (%s)' % (
            self.local_text(self.start),
            calendar_.to_local(self.end, timezone=timezone).strftime(
                '%H:%M'),
            timezone.key)

    @classmethod
    def copy(cls, meetings, default=None):
        default = default.copy() if default is not None else {}
        for name in ['minutes', 'minutes_done_at', 'decisions', 'actions']:
            default.setdefault(name, None)
        return super().copy(meetings, default=default)

    # ---- deadline of the minutes ----------------------------------------

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', '=', 'held')]

    def deadline_owners(self):
        pool = Pool()
        User = pool.get('res.user')
        employee = self.recorder or self.organiser
        return list(User.users_of_employees([employee]).values())

    def deadline_department(self):
        return self.department

    # ---- workflow of the minutes ----------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('held')
    def hold(cls, meetings):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        for meeting in meetings:
            calendar = Calendar.get_calendar(meeting.company)
            meeting.deadline = calendar.add_working_days_at_end(
                meeting.end, MINUTES_DAYS, meeting.company)
            meeting.escalation_level = 0
        cls.save(meetings)

    @classmethod
    @ModelView.button
    @Workflow.transition('minutes_done')
    def finish_minutes(cls, meetings):
        pool = Pool()
        Task = pool.get('office.task')
        User = pool.get('res.user')
        Employee = pool.get('company.employee')
        for meeting in meetings:
            if meeting.state == 'cancelled':
                raise MeetingError(gettext(
                        'office_admin.msg_meeting_minutes_cancelled',
                        meeting=meeting.rec_name))
            if not (meeting.minutes or meeting.decisions):
                raise MeetingError(gettext(
                        'office_admin.msg_meeting_minutes_empty',
                        meeting=meeting.rec_name))
        now = calendar_.utcnow()
        tasks = []
        for meeting in meetings:
            for action in meeting.actions:
                if action.task:
                    continue
                task = Task(
                    name=action.description, kind='action',
                    company=meeting.company, owner=action.owner,
                    department=action.owner.department,
                    deadline=action.deadline, origin=meeting)
                tasks.append((action, task))
        with without_check_access():
            Task.save([t for _, t in tasks])
        for action, task in tasks:
            action.task = task
        pool.get('office.meeting.action').save([a for a, _ in tasks])
        cls.write(meetings, {'minutes_done_at': now})
        for meeting in meetings:
            employees = [a.employee for a in meeting.attendees
                if a.employee]
            department_ids = [d.id for d in meeting.distribute_departments]
            if department_ids:
                employees += Employee.search([
                        ('department', 'child_of', department_ids, 'parent'),
                        ])
            users = list(User.users_of_employees(employees).values())
            cls.distribute([meeting], users, key='minutes')

    @classmethod
    @ModelView.button
    @Workflow.transition('archived')
    def archive(cls, meetings):
        for meeting in meetings:
            if not meeting.category:
                meeting.category = meeting.series.topic if meeting.series \
                    else meeting.topic
        cls.save(meetings)


class Decision(OfficeAccessMixin, MeetingAccessMixin, ModelSQL, ModelView):
    __name__ = 'office.meeting.decision'
    meeting = fields.Many2One(
        'office.meeting', "Meeting", required=True, ondelete='CASCADE')
    sequence = fields.Integer("Sequence")
    text = fields.Text("Decision", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('sequence', 'ASC NULLS LAST'))


class Action(OfficeAccessMixin, MeetingAccessMixin, ModelSQL, ModelView):
    __name__ = 'office.meeting.action'
    meeting = fields.Many2One(
        'office.meeting', "Meeting", required=True, ondelete='CASCADE')
    description = fields.Char("Action", required=True)
    owner = fields.Many2One('company.employee', "Owner", required=True)
    deadline = fields.DateTime("Deadline", required=True)
    task = fields.Many2One(
        'office.task', "Task", readonly=True, ondelete='SET NULL')
    task_state = fields.Function(fields.Selection([
                (None, ""),
                ('open', "Open"),
                ('done', "Done"),
                ('cancelled', "Cancelled"),
                ], "Task State"), 'get_task_state')

    def get_task_state(self, name):
        return self.task.state if self.task else None


class MinutesReport(Report):
    "Minutes (会议纪要) as PDF"
    __name__ = 'office.meeting.minutes'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['labels'] = {
            key: gettext('office_admin.msg_minutes_label_%s' % key)
            for key in ['time', 'room', 'organiser', 'recorder', 'present',
                'absent', 'minutes', 'decisions', 'actions', 'action',
                'owner', 'deadline']}
        return context
