# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Customer receptions (客户接待): a department asks the office to receive
a customer's guests (arrival, room, materials, catering, welcome sign).

Submitting runs the approval engine when an approval rule exists for
receptions (else the request goes straight to the office).  The office
staff confirms: the room is booked through the meetings (the usual clash
refusal) and dated tasks for the office (materials, catering, welcome) are
created, due a configurable lead time before the arrival (working hours of
the calendar or clock hours, deadline.py) and escalate like every task.
After the visit the requesting department rates the reception (1-5)."""
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import calendar_
from .access import OfficeAccessMixin, in_office_group, related_field
from .approval import ApprovalMixin
from .common import context_department
from .configuration import integer_setting
from .deadline import DEADLINE_MODES
from .rating import RatingMixin, RatingStartMixin

STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('confirmed', "Confirmed"),
    ('done', "Done"),
    ('rated', "Rated"),
    ('cancelled', "Cancelled"),
    ]
# The tasks a confirmed reception gives the office: kind -> field
TASKS = ['materials', 'catering', 'welcome']
DEFAULT_LEAD_HOURS = 4


class ReceptionError(UserError):
    pass


class Configuration(
        integer_setting(
            'reception_lead_hours', "Reception Tasks Due Before (hours)",
            DEFAULT_LEAD_HOURS, minimum=0,
            help="How long before the guests arrive the office's reception "
            "tasks are due (4)."),
        metaclass=PoolMeta):
    __name__ = 'office.configuration'

    reception_lead_mode = fields.Selection(
        DEADLINE_MODES, "Reception Lead Time In",
        help="Working hours of the company calendar or clock hours.")

    @classmethod
    def default_reception_lead_mode(cls):
        return 'working'

    def get_reception_lead(self):
        "Return (hours, mode) of the reception tasks' lead time"
        return (self.get_setting('reception_lead_hours'),
            self.reception_lead_mode or 'working')


class Reception(
        OfficeAccessMixin, ApprovalMixin, RatingMixin, ChatMixin, Workflow,
        ModelSQL, ModelView):
    "Customer Reception"
    __name__ = 'office.reception'
    _rating_error = ReceptionError
    _rating_date = 'rated_at'
    _approval_summary_fields = (
        'customer', 'arrival', 'departure', 'room', 'guests', 'purpose',
        'catering', 'catering_people')
    _approval_transitions = {
        'rejected': 'cancelled',
        'returned': 'draft',
        'withdrawn': 'draft',
        }
    _workflow_fields = {'confirmed_by', 'rated_by'}
    _workflow_own_fields = {'requester', 'department'}
    _rec_name = 'title'
    _states = {
        'readonly': Eval('state') != 'draft',
        }

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    title = fields.Char("Title", required=True, states=_states)
    requester = fields.Many2One(
        'company.employee', "Requester", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    customer = fields.Many2One(
        'party.party', "Customer Company", required=True, states=_states,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    guests = fields.One2Many(
        'office.reception.guest', 'reception', "Guests", states=_states)
    arrival = fields.DateTime("Arrival", required=True, states=_states)
    departure = fields.DateTime(
        "Departure", required=True, states=_states,
        domain=[If(Eval('arrival') & Eval('departure'),
                ('departure', '>', Eval('arrival')), ())])
    purpose = fields.Text("Purpose", required=True, states=_states)
    room = fields.Many2One(
        'office.meeting.room', "Room", states=_states,
        domain=[('company', '=', Eval('company', -1))],
        help="Booked through the meetings when the office confirms.")
    materials = fields.Text(
        "Materials to Prepare", states=_states,
        help="Brochures, samples, name cards, gifts…")
    catering = fields.Boolean("Catering", states=_states)
    catering_people = fields.Integer(
        "Catering for (people)",
        domain=[If(Bool(Eval('catering')),
                ('catering_people', '>', 0), ())],
        states={
            'readonly': _states['readonly'],
            'invisible': ~Eval('catering'),
            'required': Bool(Eval('catering')),
            })
    catering_notes = fields.Text(
        "Catering Notes",
        states={
            'readonly': _states['readonly'],
            'invisible': ~Eval('catering'),
            })
    welcome_text = fields.Char(
        "Welcome Sign", states=_states,
        help="The text of the welcome sign or screen.")
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    confirmed_at = fields.DateTime("Confirmed At", readonly=True)
    confirmed_by = employee_field(
        "Confirmed By", states=['confirmed', 'done', 'rated', 'cancelled'])
    meeting = fields.Many2One(
        'office.meeting', "Room Booking", readonly=True, ondelete='RESTRICT')
    materials_task = fields.Many2One(
        'office.task', "Materials Task", readonly=True, ondelete='SET NULL')
    catering_task = fields.Many2One(
        'office.task', "Catering Task", readonly=True, ondelete='SET NULL')
    welcome_task = fields.Many2One(
        'office.task', "Welcome Task", readonly=True, ondelete='SET NULL')
    preparation = fields.Function(fields.Text(
            "Preparation",
            help="The office's tasks for the reception and where they "
            "stand."), 'get_preparation')
    done_at = fields.DateTime("Done At", readonly=True)
    rated_at = fields.DateTime("Rated At", readonly=True)
    rated_by = employee_field("Rated By", states=['rated'])

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.rating.help = ("The requesting department's rating, 1 (poor) "
            "to 5 (excellent).")
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(['submitted', 'confirmed', 'done'])),
                Index(t, (t.department, Index.Range())),
                Index(t, (t.requester, Index.Range())),
                Index(t, (t.arrival, Index.Range())),
                })
        cls._order = [('arrival', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('draft', 'cancelled'),
            ('submitted', 'draft'),
            ('submitted', 'confirmed'),
            ('submitted', 'cancelled'),
            ('confirmed', 'done'),
            ('confirmed', 'cancelled'),
            ('done', 'rated'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    'icon': 'tryton-back',
                    },
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                'confirm': {
                    'invisible': Eval('state') != 'submitted',
                    'readonly': Eval('approval_state') == 'pending',
                    'depends': ['state', 'approval_state'],
                    'icon': 'tryton-ok',
                    },
                'do': {
                    'invisible': Eval('state') != 'confirmed',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'rate': {
                    'invisible': Eval('state') != 'done',
                    'depends': ['state'],
                    'icon': 'tryton-star',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'submitted', 'confirmed']),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_requester(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_department(cls):
        return context_department()

    @classmethod
    def default_catering(cls):
        return False

    @fields.depends('requester', 'department')
    def on_change_requester(self):
        if self.requester and self.requester.department:
            self.department = self.requester.department

    @fields.depends('guests', 'catering', 'catering_people')
    def on_change_catering(self):
        if self.catering and not self.catering_people and self.guests:
            self.catering_people = len(self.guests)

    def get_rec_name(self, name):
        return self.title

    @classmethod
    def get_preparation(cls, receptions, name):
        """Each task of the office with its state and deadline: the
        department follows them without reading the office's tasks"""
        Task = Pool().get('office.task')
        states = dict(Task.fields_get(['state'])['state']['selection'])
        result = {}
        with without_check_access():
            for reception in cls.browse([r.id for r in receptions]):
                lines = []
                for kind in TASKS:
                    task = getattr(reception, '%s_task' % kind)
                    if not task:
                        continue
                    lines.append('%s: %s (%s)' % (
                            task.name, states.get(task.state, task.state),
                            calendar_.format_local(
                                task.deadline, reception.company)))
                result[reception.id] = '\n'.join(lines) or None
        return result

    # ---- validation ------------------------------------------------------

    @classmethod
    def validate_fields(cls, receptions, field_names):
        super().validate_fields(receptions, field_names)
        if field_names & {'arrival', 'departure'}:
            for reception in receptions:
                if reception.departure <= reception.arrival:
                    raise ReceptionError(gettext(
                            'office_admin.msg_reception_departure'))

    @classmethod
    def check_arrival_future(cls, receptions):
        now = calendar_.utcnow()
        for reception in receptions:
            if reception.arrival < now:
                raise ReceptionError(gettext(
                        'office_admin.msg_reception_arrival_past'))

    @classmethod
    def copy(cls, receptions, default=None):
        default = default.copy() if default is not None else {}
        for name in ['submitted_at', 'confirmed_at', 'confirmed_by',
                'meeting', 'materials_task', 'catering_task',
                'welcome_task', 'done_at', 'rating', 'feedback', 'rated_at',
                'rated_by']:
            default.setdefault(name, None)
        return super().copy(receptions, default=default)

    @classmethod
    def check_modification(cls, mode, receptions, values=None,
            external=False):
        super().check_modification(
            mode, receptions, values=values, external=external)
        if mode == 'delete':
            for reception in receptions:
                if reception.state not in {'draft', 'cancelled'} or (
                        reception.meeting):
                    raise ReceptionError(gettext(
                            'office_admin.msg_reception_delete'))

    # ---- who acts --------------------------------------------------------

    @classmethod
    def _is_staff(cls):
        return in_office_group('group_office_staff')

    @classmethod
    def check_staff(cls):
        if not cls._is_staff():
            raise ReceptionError(gettext(
                    'office_admin.msg_reception_not_staff'))

    @classmethod
    def check_department(cls, receptions, message):
        """Refuse unless the user is the requester of each reception or the
        head of its department"""
        User = Pool().get('res.user')
        if not Transaction().user:
            return
        context = User.get_office_context()
        employees = set(context['employees'])
        headed = set(context['headed_departments'])
        for reception in receptions:
            if (reception.requester.id not in employees
                    and reception.department.id not in headed):
                raise ReceptionError(gettext(message))

    # ---- workflow --------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, receptions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, receptions):
        pool = Pool()
        Rule = pool.get('office.approval.rule')
        cls.check_arrival_future(receptions)
        now = calendar_.utcnow()
        for reception in receptions:
            reception.submitted_at = now
            reception.state = 'submitted'
        cls.save(receptions)
        with without_check_access():
            to_approve = [r for r in receptions if Rule.find(r)]
        if to_approve:
            cls.approval_submit(to_approve)
        cls.notify_office([r for r in receptions if r not in to_approve])

    @classmethod
    def _approval_on_approved(cls, receptions):
        cls.notify_office(receptions)

    @classmethod
    def notify_office(cls, receptions):
        "Tell the office staff a reception waits for its confirmation"
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        if not receptions:
            return
        staff = User.users_in_group('office_admin.group_office_staff')
        for reception in receptions:
            Notification.send(
                [reception], staff, 'office_admin.msg_reception_to_confirm',
                key='to-confirm-%s' % (
                    reception.submitted_at.isoformat()
                    if reception.submitted_at else ''),
                arrival=calendar_.format_local(
                    reception.arrival, reception.company))

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    @set_employee('confirmed_by')
    def confirm(cls, receptions):
        """The office accepts: book the room and create the office's dated
        tasks; what exists already is not created again"""
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        cls.check_staff()
        for reception in receptions:
            if reception.approval_state in {'pending', 'rejected'}:
                raise ReceptionError(gettext(
                        'office_admin.msg_reception_approval_pending'))
        cls.check_arrival_future(receptions)
        cls.book_rooms(receptions)
        cls.create_tasks(receptions)
        now = calendar_.utcnow()
        for reception in receptions:
            reception.confirmed_at = now
        cls.save(receptions)
        for reception in receptions:
            users = User.users_of_employees([reception.requester]).values()
            Notification.send(
                [reception], list(users),
                'office_admin.msg_reception_confirmed',
                key='confirmed-%s' % now.isoformat())

    @classmethod
    def book_rooms(cls, receptions):
        """Book the rooms through the meetings: refused, with the meetings'
        own message, when a room is taken"""
        pool = Pool()
        Meeting = pool.get('office.meeting')
        from .meeting import HOLDING
        to_book = [r for r in receptions if r.room and not (
                r.meeting and r.meeting.state in HOLDING)]
        if not to_book:
            return
        meetings = [Meeting(
                company=r.company,
                topic=gettext('office_admin.msg_reception_booking_topic',
                    reception=r.title),
                agenda=r.purpose,
                organiser=r.requester,
                department=r.department,
                start=r.arrival,
                end=r.departure,
                room=r.room,
                online=False,
                ) for r in to_book]
        # The clash check looks through the caller's eyes (check_room_free)
        Meeting.check_room_free(meetings)
        with without_check_access():
            Meeting.save(meetings)
            Meeting.request(meetings)
        for reception, meeting in zip(to_book, meetings):
            reception.meeting = meeting
        cls.save(to_book)

    def _task_values(self, kind):
        "Return (name, description) of the task of kind, or None"
        if kind == 'materials':
            if not self.materials:
                return None
            return (gettext('office_admin.msg_reception_task_materials',
                    reception=self.title), self.materials)
        if kind == 'catering':
            if not self.catering:
                return None
            return (gettext('office_admin.msg_reception_task_catering',
                    reception=self.title,
                    people=self.catering_people or 0),
                self.catering_notes)
        return (gettext('office_admin.msg_reception_task_welcome',
                reception=self.title), self.welcome_text)

    @classmethod
    def create_tasks(cls, receptions):
        """Create the office's tasks not yet open or done, due the lead
        time before the arrival"""
        pool = Pool()
        Task = pool.get('office.task')
        Config = pool.get('office.configuration')
        ModelData = pool.get('ir.model.data')
        staff = ModelData.get_id('office_admin', 'group_office_staff')
        hours, mode = Config(1).get_reception_lead()
        tasks, owners = [], []
        for reception in receptions:
            due = Task.compute_deadline(
                reception.arrival, -hours, mode=mode,
                company=reception.company)
            for kind in TASKS:
                task = getattr(reception, '%s_task' % kind)
                if task and task.state != 'cancelled':
                    continue
                values = reception._task_values(kind)
                if not values:
                    continue
                name, description = values
                tasks.append(Task(
                        name=name, description=description, kind='other',
                        company=reception.company, owner_group=staff,
                        department=reception.department, origin=reception,
                        deadline=due, escalation_level=0))
                owners.append((reception, kind))
        if not tasks:
            return
        with without_check_access():
            Task.save(tasks)
        for task, (reception, kind) in zip(tasks, owners):
            setattr(reception, '%s_task' % kind, task)
        cls.save(list({r for r, _ in owners}))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, receptions):
        cls.check_staff()
        now = calendar_.utcnow()
        for reception in receptions:
            reception.done_at = now
        cls.save(receptions)

    @classmethod
    @ModelView.button_action('office_admin.wizard_reception_rate')
    def rate(cls, receptions):
        cls.check_department(
            receptions, 'office_admin.msg_reception_not_requester')

    @classmethod
    @set_employee('rated_by')
    def do_rate(cls, receptions, rating, feedback=None):
        """The requesting department rates the receptions that took place:
        1 (poor) to 5 (excellent), with a comment"""
        cls.check_department(
            receptions, 'office_admin.msg_reception_not_requester')
        cls.check_rating(rating)
        for reception in receptions:
            if reception.state != 'done':
                raise ReceptionError(gettext(
                        'office_admin.msg_reception_not_done'))
        now = calendar_.utcnow()
        for reception in receptions:
            reception.rating = rating
            reception.feedback = feedback
            reception.rated_at = now
        cls.save(receptions)
        cls._to_rated(receptions)

    @classmethod
    @Workflow.transition('rated')
    def _to_rated(cls, receptions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, receptions):
        "Give the room back and cancel the office's open tasks"
        pool = Pool()
        Meeting = pool.get('office.meeting')
        Task = pool.get('office.task')
        if not cls._is_staff():
            cls.check_department(
                receptions, 'office_admin.msg_reception_cancel')
        pending = [r for r in receptions if r.state == 'submitted'
            and r.approval_state == 'pending']
        if pending:
            cls.approval_abandon(pending)
        with without_check_access():
            meetings = [r.meeting for r in receptions if r.meeting
                and r.meeting.state in {'draft', 'requested', 'confirmed'}]
            if meetings:
                Meeting.cancel(meetings)
            tasks = [t for r in receptions for t in (
                    r.materials_task, r.catering_task, r.welcome_task)
                if t and t.state == 'open']
            if tasks:
                Task.cancel(tasks)


class Guest(OfficeAccessMixin, ModelSQL, ModelView):
    "Reception Guest"
    __name__ = 'office.reception.guest'
    # For the record rules (see access.py)
    reception_company = related_field(
        'reception.company', fields.Integer("Reception Company"))
    reception_requester = related_field(
        'reception.requester', fields.Many2One(
            'company.employee', "Reception Requester"))
    reception_department = related_field(
        'reception.department', fields.Many2One(
            'office.department', "Reception Department"))
    reception_create_uid = related_field(
        'reception.create_uid', fields.Many2One(
            'res.user', "Reception Created By"))
    reception = fields.Many2One(
        'office.reception', "Reception", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True)
    title = fields.Char("Title", help="The guest's position (职务).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.reception, Index.Range())))

    def get_rec_name(self, name):
        if self.title:
            return '%s (%s)' % (self.name, self.title)
        return self.name


class RateStart(RatingStartMixin, ModelView):
    "Rate a reception"
    __name__ = 'office.reception.rate.start'


class Rate(Wizard):
    "Rate a reception"
    __name__ = 'office.reception.rate'
    start = StateView('office.reception.rate.start',
        'office_admin.reception_rate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Rate", 'rate', 'tryton-ok', default=True),
            ])
    rate = StateTransition()

    def default_start(self, fields):
        Reception = Pool().get('office.reception')
        Reception.check_department(
            list(self.records), 'office_admin.msg_reception_not_requester')
        return {}

    def transition_rate(self):
        Reception = Pool().get('office.reception')
        Reception.do_rate(
            list(self.records), self.start.rating_value, self.start.feedback)
        return 'end'
