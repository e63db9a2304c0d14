# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Routine inspections (巡检) and cleaning.

A plan says what is checked (each facility of a category, or one location),
how often (daily, weekly on a weekday, monthly, quarterly, yearly: a due
date on a non-working day of the company calendar moves to the next working
day), by whom (a team, an employee) and its checklist (OK / not OK or a
measured value with an optional minimum and maximum, required or not).

One scheduled job (`office.inspection.plan|generate_rounds`) creates the
rounds due from today to the configured horizon, in batches, never twice:
the database holds a UNIQUE (plan, facility, due date) and the job skips
what exists.  A round is due at the end of its working day (plus the
plan's grace days) and escalates through the one deadline job; it goes
draft → in progress (the checklist is copied from the plan) → done.
Completing it with a required item unanswered is refused; an item answered
"not OK" or measured outside its range opens one repair linked to the
round."""
import calendar as pycalendar
import datetime as dt
from collections import defaultdict

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields,
    sequence_ordered)
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from . import calendar_
from .access import OfficeAccessMixin, in_office_group, related_field
from .calendar_ import WEEKDAYS, local_today
from .configuration import integer_setting
from .deadline import DeadlineMixin

FREQUENCIES = [
    ('daily', "Daily"),
    ('weekly', "Weekly"),
    ('monthly', "Monthly"),
    ('quarterly', "Quarterly"),
    ('yearly', "Yearly"),
    ]
SCOPES = [
    ('facility', "Each Facility of the Category"),
    ('location', "The Location"),
    ]
KINDS = [
    ('check', "OK / Not OK"),
    ('value', "Measured Value"),
    ]
ANSWERS = [
    (None, ""),
    ('ok', "OK"),
    ('not_ok', "Not OK"),
    ]
STATES = [
    ('draft', "Draft"),
    ('in_progress', "In Progress"),
    ('done', "Done"),
    ]
DEFAULT_HORIZON_DAYS = 7
# Rounds created per call of create: trytond's validation of a batch grows
# faster than its size (every record of a batch is instantiated with the
# batch's ids)
BATCH = 200
# A nominal date moves at most this far to reach a working day (the
# longest Chinese holiday with its weekends is 9 days)
MAX_MOVE_DAYS = 31


class InspectionError(UserError):
    pass


class Configuration(
        integer_setting(
            'inspection_horizon_days', "Inspection Horizon (days)",
            DEFAULT_HORIZON_DAYS, minimum=0,
            help="The inspection job creates the rounds due from today to "
            "this many days ahead (7)."),
        metaclass=PoolMeta):
    __name__ = 'office.configuration'


class Plan(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    "Inspection plan"
    __name__ = 'office.inspection.plan'

    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True)
    scope = fields.Selection(SCOPES, "Scope", required=True,
        help="One round for each active facility of the category (in the "
        "location when given), or one round for the location.")
    category = fields.Many2One(
        'office.facility.category', "Facility Category", required=True,
        help="The facilities inspected; the category of the repairs opened "
        "from a failed item.")
    building = fields.Char("Building")
    floor = fields.Char("Floor")
    room = fields.Char("Room")
    meeting_room = fields.Many2One(
        'office.meeting.room', "Meeting Room",
        domain=[('company', '=', Eval('company', -1))])
    frequency = fields.Selection(
        FREQUENCIES, "Frequency", required=True, sort=False)
    weekday = fields.Selection(
        WEEKDAYS, "Weekday", sort=False,
        states={
            'invisible': Eval('frequency') != 'weekly',
            'required': Eval('frequency') == 'weekly',
            })
    day = fields.Integer(
        "Day of Month",
        domain=[If(Eval('frequency').in_(['monthly', 'quarterly', 'yearly']),
                [('day', '>=', 1), ('day', '<=', 31)], [])],
        states={
            'invisible': ~Eval('frequency').in_(
                ['monthly', 'quarterly', 'yearly']),
            'required': Eval('frequency').in_(
                ['monthly', 'quarterly', 'yearly']),
            },
        help="The last day of a shorter month when the month has no such "
        "day.")
    month = fields.Integer(
        "Month",
        domain=[If(Eval('frequency').in_(['quarterly', 'yearly']),
                [('month', '>=', 1), ('month', '<=', 12)], [])],
        states={
            'invisible': ~Eval('frequency').in_(['quarterly', 'yearly']),
            'required': Eval('frequency').in_(['quarterly', 'yearly']),
            },
        help="Yearly: the month; quarterly: this month and every third "
        "month after it.")
    start_date = fields.Date("Start Date", required=True)
    end_date = fields.Date(
        "End Date",
        domain=[If(Bool(Eval('end_date')),
                ('end_date', '>=', Eval('start_date')), ())])
    grace_days = fields.Integer(
        "Grace (working days)", required=True,
        domain=[('grace_days', '>=', 0)],
        help="A round is due at the end of its working day, plus this many "
        "working days.")
    team = fields.Many2One(
        'office.department', "Owner Team",
        domain=[('company', '=', Eval('company', -1))],
        help="The team that carries out the rounds (the facility's "
        "responsible team when empty).")
    employee = fields.Many2One(
        'company.employee', "Owner Employee",
        domain=[('company', '=', Eval('company', -1))])
    items = fields.One2Many(
        'office.inspection.plan.item', 'plan', "Checklist")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('name', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_scope(cls):
        return 'facility'

    @classmethod
    def default_frequency(cls):
        return 'weekly'

    @classmethod
    def default_weekday(cls):
        return '0'

    @classmethod
    def default_day(cls):
        return 1

    @classmethod
    def default_month(cls):
        return 1

    @classmethod
    def default_grace_days(cls):
        return 0

    @classmethod
    def default_start_date(cls):
        return local_today()

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        for plan in plans:
            if plan.scope == 'location' and not plan.location_text():
                raise InspectionError(gettext(
                        'office_admin.msg_inspection_plan_location'))

    def location_text(self):
        parts = [self.building, self.floor, self.room]
        if self.meeting_room and not self.room:
            parts.append(self.meeting_room.rec_name)
        return ' / '.join(p for p in parts if p)

    def _nominal_dates(self, start, end):
        "Yield the dates the frequency names, from start to end"
        if self.frequency == 'daily':
            date = start
            while date <= end:
                yield date
                date += dt.timedelta(days=1)
        elif self.frequency == 'weekly':
            weekday = int(self.weekday or 0)
            date = start + dt.timedelta(days=(weekday - start.weekday()) % 7)
            while date <= end:
                yield date
                date += dt.timedelta(days=7)
        else:
            if self.frequency == 'monthly':
                months = set(range(1, 13))
            elif self.frequency == 'quarterly':
                first = ((self.month or 1) - 1) % 3
                months = {first + 1 + 3 * i for i in range(4)}
            else:
                months = {self.month or 1}
            year, month = start.year, start.month
            while dt.date(year, month, 1) <= end:
                if month in months:
                    last = pycalendar.monthrange(year, month)[1]
                    date = dt.date(year, month, min(self.day or 1, last))
                    if start <= date <= end:
                        yield date
                year, month = (year + 1, 1) if month == 12 else (
                    year, month + 1)

    def due_dates(self, calendar, start, end):
        """Return the sorted due dates from start to end: the nominal dates
        of the plan (within its start and end dates), each on a non-working
        day moved to the next working day"""
        first = max(start - dt.timedelta(days=MAX_MOVE_DAYS), self.start_date)
        last = min(end, self.end_date) if self.end_date else end
        dates = set()
        for date in self._nominal_dates(first, last):
            due = calendar.next_working_day(date)
            if start <= due <= end:
                dates.add(due)
        return sorted(dates)

    def _facility_domain(self):
        domain = [
            ('company', '=', self.company.id),
            ('category', '=', self.category.id),
            ]
        for name in ['building', 'floor', 'room']:
            if getattr(self, name):
                domain.append((name, '=', getattr(self, name)))
        if self.meeting_room:
            domain.append(('meeting_room', '=', self.meeting_room.id))
        return domain

    @classmethod
    def generate_rounds(cls, plans=None):
        """Create the rounds due from today to the configured horizon that
        do not exist yet; return how many were created.  Idempotent."""
        pool = Pool()
        Calendar = pool.get('office.calendar')
        Config = pool.get('office.configuration')
        with without_check_access():
            if plans is None:
                plans = cls.search([], order=[('id', 'ASC')])
            else:
                plans = cls.browse(plans)
            if not plans:
                return 0
            # Two runs at once wait for each other (the UNIQUE holds anyway)
            cls.lock(plans)
            horizon = Config(1).get_setting('inspection_horizon_days')
            by_company = defaultdict(list)
            for plan in plans:
                by_company[plan.company].append(plan)
            created = 0
            for company, company_plans in by_company.items():
                calendar = Calendar.get_calendar(company)
                today = local_today(company)
                until = today + dt.timedelta(days=horizon)
                for plan in company_plans:
                    created += plan._generate(calendar, today, until)
        return created

    def _generate(self, calendar, start, end):
        pool = Pool()
        Facility = pool.get('office.facility')
        Round = pool.get('office.inspection.round')
        dates = self.due_dates(calendar, start, end)
        if not dates:
            return 0
        if self.scope == 'facility':
            facilities = Facility.search(
                self._facility_domain(), order=[('id', 'ASC')])
        else:
            facilities = [None]
        existing = Round.existing_keys(self, dates[0], dates[-1])
        deadlines = {d: calendar.end_of_working_day(
                calendar.add_working_days(d, self.grace_days or 0),
                self.company)
            for d in dates}
        employee = self.employee.id if self.employee else None

        def values():
            for facility in facilities:
                key = facility.id if facility else 0
                team = self.team or (facility.team if facility else None)
                for date in dates:
                    if (key, date) in existing:
                        continue
                    yield {
                        'company': self.company.id,
                        'plan': self.id,
                        'facility': facility.id if facility else None,
                        'facility_key': key,
                        'due_date': date,
                        'category': self.category.id,
                        'team': team.id if team else None,
                        'employee': employee,
                        'deadline': deadlines[date],
                        }
        count = 0
        for sub in grouped_slice(values(), BATCH):
            sub = list(sub)
            Round.create(sub)
            count += len(sub)
        return count


class PlanItem(
        OfficeAccessMixin, sequence_ordered(), ModelSQL, ModelView):
    "Inspection plan item"
    __name__ = 'office.inspection.plan.item'
    # For the record rules (see access.py)
    plan_company = related_field(
        'plan.company', fields.Integer("Plan Company"))

    plan = fields.Many2One(
        'office.inspection.plan', "Plan", required=True, ondelete='CASCADE')
    name = fields.Char("Item", required=True)
    kind = fields.Selection(KINDS, "Answer", required=True)
    unit = fields.Char("Unit",
        states={'invisible': Eval('kind') != 'value'})
    minimum = fields.Float("Minimum",
        states={'invisible': Eval('kind') != 'value'})
    maximum = fields.Float("Maximum",
        domain=[If(Bool(Eval('maximum', None)) & Bool(Eval('minimum', None)),
                ('maximum', '>=', Eval('minimum')), ())],
        states={'invisible': Eval('kind') != 'value'})
    required = fields.Boolean("Required",
        help="A round cannot be completed without an answer.")

    @classmethod
    def default_kind(cls):
        return 'check'

    @classmethod
    def default_required(cls):
        return True


class Round(
        OfficeAccessMixin, DeadlineMixin, Workflow, ModelSQL, ModelView):
    "Inspection round"
    __name__ = 'office.inspection.round'
    _workflow_fields = {'started_by', 'completed_by'}

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    plan = fields.Many2One(
        'office.inspection.plan', "Plan", required=True, readonly=True,
        ondelete='RESTRICT')
    facility = fields.Many2One(
        'office.facility', "Facility", readonly=True, ondelete='RESTRICT')
    # The facility or 0: the UNIQUE key (NULLs are all distinct in SQL)
    facility_key = fields.Integer("Facility Key", required=True,
        readonly=True)
    due_date = fields.Date("Due Date", required=True, readonly=True)
    category = fields.Many2One(
        'office.facility.category', "Category", required=True,
        readonly=True)
    team = fields.Many2One('office.department', "Team", readonly=True)
    employee = fields.Many2One(
        'company.employee', "Employee", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    lines = fields.One2Many(
        'office.inspection.round.line', 'round', "Checklist",
        states={'readonly': Eval('state') != 'in_progress'})
    note = fields.Text("Note",
        states={'readonly': Eval('state') == 'done'})
    started_at = fields.DateTime("Started At", readonly=True)
    started_by = employee_field(
        "Started By", states=['in_progress', 'done'])
    completed_at = fields.DateTime("Completed At", readonly=True)
    completed_by = employee_field("Completed By", states=['done'])
    repairs = fields.One2Many(
        'office.repair', 'inspection_round', "Repairs", readonly=True)
    location = fields.Function(fields.Char("Location"), 'get_location')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('plan_facility_date_unique',
                Unique(t, t.plan, t.facility_key, t.due_date),
                'office_admin.msg_inspection_round_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.due_date, Index.Range())),
                Index(t, (t.team, Index.Range())),
                Index(t, (t.employee, Index.Range())),
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(['draft', 'in_progress'])),
                })
        cls._order = [('due_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'in_progress'),
            ('in_progress', 'done'),
            }
        cls._buttons.update({
                'start': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                'complete': {
                    'invisible': Eval('state') != 'in_progress',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_facility_key(cls):
        return 0

    def get_rec_name(self, name):
        place = (self.facility.code if self.facility
            else self.plan.location_text())
        return ' '.join(p for p in [
                self.plan.name, place, self.due_date.isoformat()] if p)

    def get_location(self, name):
        if self.facility:
            return self.facility.location_text()
        return self.plan.location_text()

    @classmethod
    def existing_keys(cls, plan, start, end):
        "Return {(facility key, due date)} of the plan's rounds in the dates"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.facility_key, table.due_date,
                where=(table.plan == plan.id)
                & (table.due_date >= start) & (table.due_date <= end)))
        return {(k, d if isinstance(d, dt.date) else dt.date.fromisoformat(d))
            for k, d in cursor}

    # ---- deadlines -------------------------------------------------------

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', 'in', ['draft', 'in_progress'])]

    def deadline_owners(self):
        User = Pool().get('res.user')
        employees = []
        if self.employee:
            employees.append(self.employee)
        elif self.team:
            employees.extend(self.team.members)
        if employees:
            users = list(User.users_of_employees(employees).values())
            if users:
                return users
        return User.users_in_group('office_admin.group_office_staff')

    def deadline_department(self):
        return self.team

    # ---- workflow --------------------------------------------------------

    @classmethod
    def check_owner(cls, rounds):
        """Refuse unless the user is the round's employee, of its team or
        of the office staff"""
        pool = Pool()
        User = pool.get('res.user')
        if in_office_group('group_office_staff'):
            return
        context = User.get_office_context()
        teams = set(context['departments']) | set(
            context['headed_departments'])
        employees = set(context['employees'])
        for round_ in rounds:
            if not ((round_.employee and round_.employee.id in employees)
                    or (round_.team and round_.team.id in teams)):
                raise InspectionError(gettext(
                        'office_admin.msg_inspection_not_owner'))

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    @set_employee('started_by')
    def start(cls, rounds):
        "Start the rounds: copy the checklist of their plan"
        pool = Pool()
        Line = pool.get('office.inspection.round.line')
        cls.check_owner(rounds)
        now = calendar_.utcnow()
        lines = []
        for round_ in rounds:
            round_.started_at = now
            if round_.lines:
                continue
            for item in round_.plan.items:
                lines.append(Line(
                        round=round_, item=item, sequence=item.sequence,
                        name=item.name, kind=item.kind, unit=item.unit,
                        minimum=item.minimum, maximum=item.maximum,
                        required=item.required))
        cls.save(rounds)
        with without_check_access():
            Line.save(lines)

    @classmethod
    @ModelView.button
    def complete(cls, rounds):
        """Complete the rounds: refused while a required item is unanswered;
        each failed item opens one repair linked to the round"""
        cls.check_owner(rounds)
        for round_ in rounds:
            if round_.state != 'in_progress':
                continue
            missing = [l.name for l in round_.lines
                if l.required and not l.answered]
            if missing:
                raise InspectionError(gettext(
                        'office_admin.msg_inspection_required_missing',
                        items=', '.join(missing)))
        cls._to_done(rounds)
        cls.open_repairs(rounds)

    @classmethod
    @Workflow.transition('done')
    @set_employee('completed_by')
    def _to_done(cls, rounds):
        now = calendar_.utcnow()
        for round_ in rounds:
            round_.completed_at = now
        cls.save(rounds)

    @classmethod
    def open_repairs(cls, rounds):
        "Open one repair for each failed line that has none"
        pool = Pool()
        Repair = pool.get('office.repair')
        Line = pool.get('office.inspection.round.line')
        reporter = Transaction().context.get('employee')
        repairs, lines = [], []
        for round_ in rounds:
            for line in round_.lines:
                if not line.failed or line.repair:
                    continue
                employee = reporter or (
                    round_.employee.id if round_.employee else None)
                if employee is None:
                    raise InspectionError(gettext(
                            'office_admin.msg_inspection_no_reporter'))
                repairs.append(line.repair_values(employee))
                lines.append(line)
        if not repairs:
            return
        with without_check_access():
            repairs = Repair.create(repairs)
            for line, repair in zip(lines, repairs):
                line.repair = repair
            Line.save(lines)


class RoundLine(
        OfficeAccessMixin, sequence_ordered(), ModelSQL, ModelView):
    "Inspection round line"
    __name__ = 'office.inspection.round.line'
    # For the record rules (see access.py)
    round_company = related_field(
        'round.company', fields.Integer("Round Company"))
    round_team = related_field(
        'round.team', fields.Many2One('office.department', "Round Team"))
    round_employee = related_field(
        'round.employee', fields.Many2One(
            'company.employee', "Round Employee"))

    round = fields.Many2One(
        'office.inspection.round', "Round", required=True, readonly=True,
        ondelete='CASCADE')
    item = fields.Many2One(
        'office.inspection.plan.item', "Plan Item", readonly=True,
        ondelete='SET NULL')
    name = fields.Char("Item", required=True, readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    unit = fields.Char("Unit", readonly=True)
    minimum = fields.Float("Minimum", readonly=True)
    maximum = fields.Float("Maximum", readonly=True)
    required = fields.Boolean("Required", readonly=True)
    answer = fields.Selection(ANSWERS, "Answer",
        states={'invisible': Eval('kind') != 'check'})
    value = fields.Float("Value",
        states={'invisible': Eval('kind') != 'value'})
    photo = fields.Binary("Photo")
    note = fields.Char("Note")
    repair = fields.Many2One(
        'office.repair', "Repair", readonly=True, ondelete='SET NULL')
    answered = fields.Function(
        fields.Boolean("Answered"), 'on_change_with_answered')
    failed = fields.Function(
        fields.Boolean("Failed"), 'on_change_with_failed')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.round, Index.Range())))

    @classmethod
    def default_kind(cls):
        return 'check'

    @fields.depends('kind', 'answer', 'value')
    def on_change_with_answered(self, name=None):
        if self.kind == 'value':
            return self.value is not None
        return self.answer in {'ok', 'not_ok'}

    @fields.depends('kind', 'answer', 'value', 'minimum', 'maximum')
    def on_change_with_failed(self, name=None):
        if self.kind == 'value':
            return self.value is not None and (
                (self.minimum is not None and self.value < self.minimum)
                or (self.maximum is not None and self.value > self.maximum))
        return self.answer == 'not_ok'

    def repair_values(self, reporter):
        round_ = self.round
        facility = round_.facility
        plan = round_.plan
        if self.kind == 'value':
            description = gettext(
                'office_admin.msg_inspection_repair_value',
                round=round_.rec_name, item=self.name, value=self.value,
                unit=self.unit or '',
                minimum='' if self.minimum is None else self.minimum,
                maximum='' if self.maximum is None else self.maximum)
        else:
            description = gettext(
                'office_admin.msg_inspection_repair_not_ok',
                round=round_.rec_name, item=self.name)
        if self.note:
            description += '\n' + self.note
        place = facility or plan
        team = (facility.team if facility and facility.team
            else round_.team)
        return {
            'company': round_.company.id,
            'reporter': reporter,
            'facility': facility.id if facility else None,
            'category': round_.category.id,
            'building': place.building,
            'floor': place.floor,
            'room': place.room,
            'meeting_room': (
                place.meeting_room.id if place.meeting_room else None),
            'description': description,
            'team': team.id if team else None,
            'inspection_round': round_.id,
            }

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if external and mode in {'create', 'write', 'delete'}:
            for line in lines:
                if line.round.state != 'in_progress':
                    raise InspectionError(gettext(
                            'office_admin.msg_inspection_round_closed'))


class Repair(metaclass=PoolMeta):
    __name__ = 'office.repair'

    inspection_round = fields.Many2One(
        'office.inspection.round', "Inspection Round", readonly=True,
        ondelete='SET NULL',
        help="The inspection round whose failed item opened the repair.")


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('office.inspection.plan|generate_rounds',
                    "Office: Create Inspection Rounds"),
                ])
