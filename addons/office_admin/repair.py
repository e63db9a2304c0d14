# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Repairs (报修单): an employee reports a fault of a facility (or at a
location), the responsible team or a contractor acknowledges it (the
response), works on it, issues parts from the office store as real stock
moves, resolves it, and the reporter confirms with a rating or reopens it.

The response deadline runs in clock hours (default 24, round the clock) and
escalates through the one deadline job (deadline.py); a round-the-clock
category (laboratories) escalates in clock hours too. SLA figures per
category and team: `office.repair.sla`."""
import datetime as dt
from statistics import median

from sql.aggregate import Count, Min

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import calendar_
from .access import OfficeAccessMixin, in_office_group, related_field
from .configuration import integer_setting
from .deadline import DEADLINE_MODES, DeadlineMixin
from .facility import URGENCIES
from .rating import RatingMixin, RatingStartMixin
from .supply import issue_from_store

STATES = [
    ('reported', "Reported"),
    ('acknowledged', "Acknowledged"),
    ('in_progress', "In Progress"),
    ('waiting', "Waiting for Parts"),
    ('resolved', "Resolved"),
    ('confirmed', "Confirmed"),
    ('cancelled', "Cancelled"),
    ]
OPEN = ['acknowledged', 'in_progress', 'waiting']
DEFAULT_RESPONSE_HOURS = 24
DEFAULT_RESOLUTION_HOURS = 72


class RepairError(UserError):
    pass


class Configuration(
        integer_setting(
            'repair_response_hours', "Repair Response (hours)",
            DEFAULT_RESPONSE_HOURS,
            help="Clock hours, round the clock, for a repair to be "
            "acknowledged when its category says nothing else (24)."),
        integer_setting(
            'repair_resolution_hours', "Repair Resolution (hours)",
            DEFAULT_RESOLUTION_HOURS,
            help="Clock hours for a repair to be resolved when its "
            "category says nothing else (72)."),
        metaclass=PoolMeta):
    __name__ = 'office.configuration'

    repair_location = fields.Many2One(
        'stock.location', "Repair Parts Location",
        domain=[('type', '=', 'production')],
        help="Where the parts issued from the office store for repairs go "
        "(created when the first parts are issued).")

    def get_repair_location(self):
        "Return the parts location, created the first time"
        Location = Pool().get('stock.location')
        if not self.repair_location:
            with without_check_access():
                location = Location(
                    name=gettext('office_admin.msg_repair_location_name'),
                    code='OA-REPAIR', type='production')
                location.save()
                self.repair_location = location
                self.save()
        return self.repair_location


def _hours(start, end):
    if not start or not end:
        return None
    return round((end - start).total_seconds() / 3600, 2)


class Repair(
        OfficeAccessMixin, DeadlineMixin, RatingMixin, ChatMixin, Workflow,
        ModelSQL, ModelView):
    "Repair"
    __name__ = 'office.repair'
    _rating_error = RepairError
    _rating_date = 'confirmed_at'
    _workflow_fields = {'acknowledged_by', 'resolved_by'}
    _workflow_own_fields = {'reporter'}
    _deadline_mode = 'clock'
    _states = {
        'readonly': Eval('state') != 'reported',
        }
    _work_states = {
        'readonly': ~Eval('state').in_(['reported'] + OPEN),
        }

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    reporter = fields.Many2One(
        'company.employee', "Reporter", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    reported_at = fields.DateTime("Reported At", readonly=True)
    facility = fields.Many2One(
        'office.facility', "Facility", states=_states,
        domain=[('company', '=', Eval('company', -1))])
    category = fields.Many2One(
        'office.facility.category', "Category", required=True,
        states=_states)
    building = fields.Char("Building", states=_states)
    floor = fields.Char("Floor", states=_states)
    room = fields.Char("Room", states=_states)
    meeting_room = fields.Many2One(
        'office.meeting.room', "Meeting Room", states=_states,
        domain=[('company', '=', Eval('company', -1))])
    description = fields.Text("Description", required=True, states=_states)
    urgency = fields.Selection(
        URGENCIES, "Urgency", required=True, states=_states)
    team = fields.Many2One(
        'office.department', "Maintenance Team", states=_work_states,
        domain=[('company', '=', Eval('company', -1))])
    contractor = fields.Many2One(
        'party.party', "Contractor", states=_work_states,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="An outside company doing the repair.")
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    deadline_mode = fields.Selection(
        DEADLINE_MODES, "Escalation", readonly=True,
        help="Clock hours for a round-the-clock category, else the next "
        "escalation levels come on working days.")
    resolution_deadline = fields.DateTime(
        "Resolution Deadline", readonly=True)
    acknowledged_at = fields.DateTime("Acknowledged At", readonly=True)
    acknowledged_by = employee_field(
        "Acknowledged By", states=[s for s, _ in STATES])
    resolved_at = fields.DateTime("Resolved At", readonly=True)
    resolved_by = employee_field(
        "Resolved By", states=[s for s, _ in STATES])
    resolution = fields.Text(
        "Work Done", states=_work_states)
    confirmed_at = fields.DateTime("Confirmed At", readonly=True)
    reopen_count = fields.Integer("Reopened", readonly=True)
    parts = fields.One2Many(
        'office.repair.part', 'repair', "Parts", states=_work_states)
    location = fields.Function(fields.Char("Location"), 'get_location')
    response_time = fields.Function(
        fields.Float("Response (hours)", digits=(16, 2)), 'get_times')
    repair_time = fields.Function(
        fields.Float("Repair (hours)", digits=(16, 2)), 'get_times')
    mine = fields.Function(
        fields.Boolean("Mine"), 'get_mine', searcher='search_mine')

    del _states, _work_states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.rating.help = "The reporter's rating, 1 (poor) to 5 (excellent)."
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(['reported'] + OPEN)),
                Index(t, (t.reporter, Index.Range())),
                Index(t, (t.team, Index.Range())),
                Index(t, (t.category, Index.Range()),
                    (t.reported_at, Index.Range())),
                })
        cls._order = [('reported_at', 'DESC NULLS FIRST'), ('id', 'DESC')]
        cls._transitions |= {
            ('reported', 'acknowledged'),
            ('reported', 'cancelled'),
            ('acknowledged', 'in_progress'),
            ('acknowledged', 'resolved'),
            ('in_progress', 'waiting'),
            ('waiting', 'in_progress'),
            ('in_progress', 'resolved'),
            ('resolved', 'confirmed'),
            ('resolved', 'in_progress'),
            }
        cls._buttons.update({
                'acknowledge': {
                    'invisible': Eval('state') != 'reported',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'cancel': {
                    'invisible': Eval('state') != 'reported',
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'start': {
                    'invisible': ~Eval('state').in_(
                        ['acknowledged', 'waiting']),
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                'wait_parts': {
                    'invisible': Eval('state') != 'in_progress',
                    'depends': ['state'],
                    'icon': 'tryton-clock',
                    },
                'issue_parts': {
                    'invisible': ~Eval('state').in_(OPEN),
                    'depends': ['state'],
                    'icon': 'tryton-launch',
                    },
                'resolve': {
                    'invisible': ~Eval('state').in_(
                        ['acknowledged', 'in_progress']),
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'confirm': {
                    'invisible': Eval('state') != 'resolved',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'reopen': {
                    'invisible': Eval('state') != 'resolved',
                    'depends': ['state'],
                    'icon': 'tryton-undo',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'reported'

    @classmethod
    def default_urgency(cls):
        return 'normal'

    @classmethod
    def default_deadline_mode(cls):
        return 'working'

    @classmethod
    def default_reopen_count(cls):
        return 0

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_reporter(cls):
        return Transaction().context.get('employee')

    @classmethod
    def _context_facility(cls):
        Facility = Pool().get('office.facility')
        facility_id = Transaction().context.get('default_facility')
        if isinstance(facility_id, int) and facility_id >= 0:
            facilities = Facility.search([('id', '=', facility_id)])
            if facilities:
                return facilities[0]

    @classmethod
    def default_category(cls):
        facility = cls._context_facility()
        if facility:
            return facility.category.id

    @classmethod
    def default_team(cls):
        facility = cls._context_facility()
        if facility and facility.team:
            return facility.team.id

    @fields.depends('facility', 'category', 'team', 'meeting_room',
        'building', 'floor', 'room')
    def on_change_facility(self):
        facility = self.facility
        if facility:
            self.category = facility.category
            if facility.team:
                self.team = facility.team
            self.building = facility.building
            self.floor = facility.floor
            self.room = facility.room
            self.meeting_room = facility.meeting_room

    def get_rec_name(self, name):
        return gettext('office_admin.msg_repair_name', id=self.id,
            place=(self.facility.rec_name if self.facility
                else self.location_text()))

    def location_text(self):
        parts = [self.building, self.floor, self.room]
        if self.meeting_room and not self.room:
            parts.append(self.meeting_room.rec_name)
        return ' / '.join(p for p in parts if p)

    def get_location(self, name):
        return self.location_text()

    @classmethod
    def get_times(cls, repairs, names):
        result = {n: {} for n in names}
        for repair in repairs:
            if 'response_time' in names:
                result['response_time'][repair.id] = _hours(
                    repair.reported_at, repair.acknowledged_at)
            if 'repair_time' in names:
                result['repair_time'][repair.id] = _hours(
                    repair.reported_at, repair.resolved_at)
        return result

    def get_mine(self, name):
        User = Pool().get('res.user')
        return self.reporter.id in User.get_employees()

    @classmethod
    def search_mine(cls, name, clause):
        User = Pool().get('res.user')
        _, operator, value = clause[:3]
        domain = ('reporter', 'in', list(User.get_employees()))
        if (operator == '=') == bool(value):
            return [domain]
        return [['NOT', domain]]

    # ---- deadlines -------------------------------------------------------

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', '=', 'reported')]

    def deadline_owners(self):
        pool = Pool()
        User = pool.get('res.user')
        if self.team:
            users = list(User.users_of_employees(
                    list(self.team.members)).values())
            if users:
                return users
        return User.users_in_group('office_admin.group_office_staff')

    def deadline_department(self):
        return self.team

    @classmethod
    def set_deadlines(cls, repairs):
        "Compute the response and resolution deadlines from the report"
        for repair in repairs:
            response, resolution = repair.category.get_hours(repair.urgency)
            start = repair.reported_at
            repair.deadline = cls.compute_deadline(
                start, response, mode='clock', company=repair.company)
            repair.resolution_deadline = cls.compute_deadline(
                start, resolution, mode='clock', company=repair.company)
            repair.deadline_mode = (
                'clock' if repair.category.round_the_clock else 'working')
        cls.save(repairs)

    @classmethod
    def create(cls, vlist):
        now = calendar_.utcnow()
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            values['reported_at'] = now
        repairs = super().create(vlist)
        with without_check_access():
            repairs = cls.browse(repairs)
            cls.set_deadlines(repairs)
            cls.notify_team(repairs)
        return repairs

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        changed = []
        for records, values in zip(actions, actions):
            if {'category', 'urgency'} & values.keys():
                changed.extend(records)
        if changed:
            with without_check_access():
                cls.set_deadlines(cls.browse(
                        [r for r in changed if r.state == 'reported']))

    @classmethod
    def copy(cls, repairs, default=None):
        default = default.copy() if default is not None else {}
        for name in ['acknowledged_at', 'acknowledged_by', 'resolved_at',
                'resolved_by', 'confirmed_at', 'rating', 'feedback',
                'resolution']:
            default.setdefault(name, None)
        default.setdefault('reopen_count', 0)
        default.setdefault('parts', None)
        return super().copy(repairs, default=default)

    @classmethod
    def notify_team(cls, repairs):
        Notification = Pool().get('office.notification')
        for repair in repairs:
            Notification.send([repair], repair.deadline_owners(),
                'office_admin.msg_repair_reported', key='reported',
                deadline=calendar_.format_local(
                    repair.deadline, repair.company))

    @classmethod
    def check_modification(cls, mode, repairs, values=None, external=False):
        super().check_modification(
            mode, repairs, values=values, external=external)
        if mode == 'delete':
            for repair in repairs:
                if repair.state not in {'reported', 'cancelled'}:
                    raise RepairError(gettext(
                            'office_admin.msg_repair_delete'))

    # ---- who acts --------------------------------------------------------

    @classmethod
    def check_team(cls, repairs):
        """Refuse unless the user is office staff or a member (or the head)
        of each repair's team"""
        pool = Pool()
        User = pool.get('res.user')
        if in_office_group('group_office_staff'):
            return
        context = User.get_office_context()
        mine = set(context['departments']) | set(
            context['headed_departments'])
        for repair in repairs:
            if not repair.team or repair.team.id not in mine:
                raise RepairError(gettext('office_admin.msg_repair_not_team'))

    @classmethod
    def check_reporter(cls, repairs, message):
        "Refuse unless the user is the reporter of each repair"
        User = Pool().get('res.user')
        if not Transaction().user:
            return
        employees = set(User.get_employees())
        for repair in repairs:
            if repair.reporter.id not in employees:
                raise RepairError(gettext(message))

    # ---- workflow --------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('acknowledged')
    @set_employee('acknowledged_by')
    def acknowledge(cls, repairs):
        cls.check_team(repairs)
        now = calendar_.utcnow()
        for repair in repairs:
            repair.acknowledged_at = now
        cls.save(repairs)
        for repair in repairs:
            repair.chat_post(
                'office_admin.msg_repair_acknowledged_chat',
                audience='internal')

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, repairs):
        if not in_office_group('group_office_staff'):
            cls.check_reporter(
                repairs, 'office_admin.msg_repair_not_reporter_cancel')

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def start(cls, repairs):
        cls.check_team(repairs)

    @classmethod
    @ModelView.button
    @Workflow.transition('waiting')
    def wait_parts(cls, repairs):
        cls.check_team(repairs)

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    @set_employee('resolved_by')
    def resolve(cls, repairs):
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        cls.check_team(repairs)
        now = calendar_.utcnow()
        for repair in repairs:
            repair.resolved_at = now
        cls.save(repairs)
        for repair in repairs:
            users = User.users_of_employees([repair.reporter]).values()
            Notification.send([repair], list(users),
                'office_admin.msg_repair_resolved',
                key='resolved-%s' % repair.reopen_count)

    @classmethod
    @ModelView.button_action('office_admin.wizard_repair_confirm')
    def confirm(cls, repairs):
        cls.check_reporter(repairs, 'office_admin.msg_repair_not_reporter')

    @classmethod
    def do_confirm(cls, repairs, rating, feedback=None):
        """The reporter confirms the resolved repairs with a rating (1-5)
        and a comment"""
        cls.check_reporter(repairs, 'office_admin.msg_repair_not_reporter')
        cls.check_rating(rating)
        for repair in repairs:
            if repair.state != 'resolved':
                raise RepairError(gettext(
                        'office_admin.msg_repair_not_resolved'))
        now = calendar_.utcnow()
        for repair in repairs:
            repair.rating = rating
            repair.feedback = feedback
            repair.confirmed_at = now
        cls.save(repairs)
        cls._to_confirmed(repairs)

    @classmethod
    @Workflow.transition('confirmed')
    def _to_confirmed(cls, repairs):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def reopen(cls, repairs):
        cls.check_reporter(
            repairs, 'office_admin.msg_repair_not_reporter_reopen')
        for repair in repairs:
            repair.reopen_count = (repair.reopen_count or 0) + 1
            repair.resolved_at = None
            repair.resolved_by = None
        cls.save(repairs)
        for repair in repairs:
            repair.chat_post(
                'office_admin.msg_repair_reopened_chat', audience='internal')

    @classmethod
    @ModelView.button
    def issue_parts(cls, repairs):
        """Issue the parts not yet issued from the office store as done
        stock moves to the repair location; refuse what the store lacks"""
        pool = Pool()
        Part = pool.get('office.repair.part')
        Config = pool.get('office.configuration')
        cls.check_team(repairs)
        for repair in repairs:
            if repair.state not in OPEN:
                raise RepairError(gettext(
                        'office_admin.msg_repair_parts_state'))
        with without_check_access():
            parts = [p for p in Part.browse(
                    [p.id for r in repairs for p in r.parts])
                if not p.move]
            if not parts:
                return
            location = Config(1).get_repair_location()
            moves = issue_from_store(
                [(p, p.product, p.quantity, location, p.repair.company)
                    for p in parts],
                shortage=RepairError(gettext(
                        'office_admin.msg_repair_parts_short')))
            # Picked from several places of the store, a part's move is
            # split: the part keeps the first
            by_part = {}
            for move in moves:
                by_part.setdefault(move.origin.id, move)
            for part in parts:
                part.move = by_part[part.id]
            Part.save(parts)


class Part(OfficeAccessMixin, ModelSQL, ModelView):
    "Repair part"
    __name__ = 'office.repair.part'
    # For the record rules (see access.py)
    repair_company = related_field(
        'repair.company', fields.Integer("Repair Company"))
    repair_reporter = related_field(
        'repair.reporter', fields.Many2One(
            'company.employee', "Repair Reporter"))
    repair_team = related_field(
        'repair.team', fields.Many2One(
            'office.department', "Repair Team"))
    repair_create_uid = related_field(
        'repair.create_uid', fields.Many2One(
            'res.user', "Repair Created By"))
    repair = fields.Many2One(
        'office.repair', "Repair", required=True, ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True,
        domain=[('type', '=', 'goods')],
        states={'readonly': Bool(Eval('move'))})
    quantity = fields.Float(
        "Quantity", required=True, digits='unit',
        domain=[('quantity', '>', 0)],
        states={'readonly': Bool(Eval('move'))})
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    move = fields.Many2One(
        'stock.move', "Stock Move", readonly=True, ondelete='RESTRICT')
    issued = fields.Function(fields.Boolean("Issued"), 'get_issued')

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None

    def get_issued(self, name):
        return bool(self.move and self.move.state == 'done')

    def get_rec_name(self, name):
        return '%s %s' % (self.quantity, self.product.rec_name)

    @classmethod
    def check_modification(cls, mode, parts, values=None, external=False):
        super().check_modification(
            mode, parts, values=values, external=external)
        if mode == 'delete' or (mode == 'write' and values and (
                    {'product', 'quantity', 'repair'} & values.keys())):
            for part in parts:
                if part.move:
                    raise RepairError(gettext(
                            'office_admin.msg_repair_part_issued'))


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['office.repair.part']


class ConfirmStart(RatingStartMixin, ModelView):
    "Confirm a repair"
    __name__ = 'office.repair.confirm.start'


class Confirm(Wizard):
    "Confirm a repair"
    __name__ = 'office.repair.confirm'
    start = StateView('office.repair.confirm.start',
        'office_admin.repair_confirm_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Confirm", 'confirm', 'tryton-ok', default=True),
            ])
    confirm = StateTransition()

    def default_start(self, fields):
        Repair = Pool().get('office.repair')
        Repair.check_reporter(
            list(self.records), 'office_admin.msg_repair_not_reporter')
        return {}

    def transition_confirm(self):
        Repair = Pool().get('office.repair')
        Repair.do_confirm(
            list(self.records), self.start.rating_value, self.start.feedback)
        return 'end'


class SLA(OfficeAccessMixin, ModelSQL, ModelView):
    "Repair SLA"
    __name__ = 'office.repair.sla'

    company = fields.Many2One('company.company', "Company", readonly=True)
    category = fields.Many2One(
        'office.facility.category', "Category", readonly=True)
    team = fields.Many2One('office.department', "Team", readonly=True)
    count = fields.Integer("Repairs", readonly=True)
    answered_on_time = fields.Function(
        fields.Float("Answered on Time (%)", digits=(16, 1),
            help="Share of the repairs whose response deadline has passed "
            "or that were answered, answered within the response time."),
        'get_figures')
    median_response = fields.Function(
        fields.Float("Median Response (hours)", digits=(16, 2)),
        'get_figures')
    median_repair = fields.Function(
        fields.Float("Median Repair (hours)", digits=(16, 2)),
        'get_figures')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('count', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Repair = pool.get('office.repair')
        repair = Repair.__table__()
        context = Transaction().context
        where = repair.state != 'cancelled'
        from_date = context.get('from_date')
        to_date = context.get('to_date')
        if from_date:
            where &= repair.reported_at >= calendar_.to_utc(
                dt.datetime.combine(from_date, dt.time()))
        if to_date:
            where &= repair.reported_at < calendar_.to_utc(
                dt.datetime.combine(
                    to_date + dt.timedelta(days=1), dt.time()))
        return repair.select(
            Min(repair.id).as_('id'),
            repair.company.as_('company'),
            repair.category.as_('category'),
            repair.team.as_('team'),
            Count(repair.id).as_('count'),
            where=where,
            group_by=[repair.company, repair.category, repair.team])

    @classmethod
    def get_figures(cls, rows, names):
        pool = Pool()
        Repair = pool.get('office.repair')
        context = Transaction().context
        now = calendar_.utcnow()
        result = {n: {r.id: None for r in rows} for n in names}
        keys = {(r.company.id, r.category.id, r.team.id if r.team else None):
            r.id for r in rows}
        samples = {i: {'on_time': 0, 'due': 0, 'response': [], 'repair': []}
            for i in keys.values()}
        domain = [('state', '!=', 'cancelled'),
            ('category', 'in', list({k[1] for k in keys}))]
        if context.get('from_date'):
            domain.append(('reported_at', '>=', calendar_.to_utc(
                        dt.datetime.combine(
                            context['from_date'], dt.time()))))
        if context.get('to_date'):
            domain.append(('reported_at', '<', calendar_.to_utc(
                        dt.datetime.combine(
                            context['to_date'] + dt.timedelta(days=1),
                            dt.time()))))
        with without_check_access():
            repairs = Repair.search(domain, order=[])
        for sub in grouped_slice(repairs, 1000):
            for repair in sub:
                key = (repair.company.id, repair.category.id,
                    repair.team.id if repair.team else None)
                if key not in keys:
                    continue
                sample = samples[keys[key]]
                if repair.acknowledged_at:
                    sample['due'] += 1
                    sample['response'].append(_hours(
                            repair.reported_at, repair.acknowledged_at))
                    if repair.acknowledged_at <= repair.deadline:
                        sample['on_time'] += 1
                elif repair.deadline and repair.deadline < now:
                    sample['due'] += 1
                if repair.resolved_at:
                    sample['repair'].append(_hours(
                            repair.reported_at, repair.resolved_at))
        for id_, sample in samples.items():
            if 'answered_on_time' in names and sample['due']:
                result['answered_on_time'][id_] = round(
                    100 * sample['on_time'] / sample['due'], 1)
            if 'median_response' in names and sample['response']:
                result['median_response'][id_] = round(
                    median(sample['response']), 2)
            if 'median_repair' in names and sample['repair']:
                result['median_repair'][id_] = round(
                    median(sample['repair']), 2)
        return result


class SLAContext(ModelView):
    "Repair SLA context"
    __name__ = 'office.repair.sla.context'

    from_date = fields.Date("From Date")
    to_date = fields.Date("To Date")
