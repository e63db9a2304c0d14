# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Leave (请假) and business trips (出差), approved through the engine, and
yearly annual-leave allowances with their balance."""
import datetime as dt
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from .access import OfficeAccessMixin
from . import calendar_
from .approval import ApprovalMixin
from .common import (
    REQUEST_STATES, EmployeeRequestMixin, RequestWorkflowMixin)
from .exceptions import AttendanceError

LEAVE_TYPES = [
    ('annual', "Annual Leave"),
    ('sick', "Sick Leave"),
    ('personal', "Personal Leave"),
    ('business_trip', "Business Trip"),
    ('compensatory', "Compensatory Leave"),
    ]


def working_days(company, start, end):
    """Return the working days (in halves) between two naive UTC datetimes,
    counted on the company calendar's working hours"""
    pool = Pool()
    Calendar = pool.get('office.calendar')
    calendar = Calendar.get_calendar(company)
    timezone = Calendar.get_timezone(company)
    local_start = start.replace(tzinfo=dt.timezone.utc).astimezone(
        timezone).replace(tzinfo=None)
    local_end = end.replace(tzinfo=dt.timezone.utc).astimezone(
        timezone).replace(tzinfo=None)
    hours = dt.timedelta()
    day_hours = dt.timedelta()
    for period_start, period_end in calendar._periods(dt.date.min):
        day_hours += period_end - period_start
    date = local_start.date()
    while date <= local_end.date():
        if calendar.is_working_day(date):
            for period_start, period_end in calendar._periods(date):
                begin = max(period_start, local_start)
                finish = min(period_end, local_end)
                if finish > begin:
                    hours += finish - begin
        date += dt.timedelta(days=1)
    if not day_hours:
        return Decimal(0)
    days = Decimal(hours.total_seconds()) / Decimal(day_hours.total_seconds())
    # Rounded to half days
    return ((days * 2).to_integral_value(rounding='ROUND_HALF_UP') / 2
        ).quantize(Decimal('0.1'))


def check_months_open(periods):
    """Refuse a leave or a cancellation that would change the attendance of
    a month an approved report has locked: periods are (leave, start, end)
    in UTC naive datetimes, read in the company's time zone"""
    pool = Pool()
    Month = pool.get('office.attendance.month')
    Calendar = pool.get('office.calendar')
    periods = [p for p in periods if p[0].employee and p[1] and p[2]]
    if not periods:
        return
    locked = Month.locked_months({l.employee for l, _, _ in periods})
    if not locked:
        return
    for leave, start, end in periods:
        timezone = Calendar.get_timezone(leave.company)
        month = calendar_.to_local(start, timezone=timezone).date().replace(
            day=1)
        last = calendar_.to_local(end, timezone=timezone).date()
        while month <= last:
            if (leave.employee.id, month) in locked:
                raise AttendanceError(gettext(
                        'office_admin.msg_leave_month_locked',
                        month=month.strftime('%Y-%m')))
            month = (month + dt.timedelta(days=32)).replace(day=1)


class Leave(
        OfficeAccessMixin, EmployeeRequestMixin, ApprovalMixin, ChatMixin,
        Workflow, ModelSQL, ModelView):
    "Leave"
    __name__ = 'office.leave'
    _approval_summary_fields = (
        'employee', 'type', 'start', 'end', 'days', 'reason')
    _approval_amount_field = 'days'
    _states = REQUEST_STATES

    type = fields.Selection(
        LEAVE_TYPES, "Type", required=True, states=_states, sort=False)
    type_string = type.translated('type')
    start = fields.DateTime("Start", required=True, states=_states)
    end = fields.DateTime("End", required=True, states=_states)
    days = fields.Numeric(
        "Working Days", digits=(16, 1), readonly=True,
        help="Working days on the company calendar, in half days.")
    reason = fields.Text("Reason", states=_states)
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.employee, Index.Range()), (t.start, Index.Range())))
        cls._order = [('start', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'cancelled'),
            ('approved', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                # Approved leave is cancelled or shortened through an
                # approved office.leave.cancellation
                'cancel': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_type(cls):
        return 'annual'

    def get_rec_name(self, name):
        return '%s %s %s' % (
            self.employee.rec_name if self.employee else '',
            self.type_string, self.start.date() if self.start else '')

    @classmethod
    def validate_fields(cls, leaves, field_names):
        super().validate_fields(leaves, field_names)
        if field_names & {'start', 'end', 'employee', 'state'}:
            cls.check_dates(leaves)

    @classmethod
    def check_dates(cls, leaves):
        for leave in leaves:
            if leave.end <= leave.start:
                raise AttendanceError(gettext(
                        'office_admin.msg_leave_end_before_start',
                        leave=leave.rec_name))
        active = [l for l in leaves if l.state not in {
                'cancelled', 'rejected'}]
        with without_check_access():
            for leave in active:
                others = cls.search([
                        ('id', '!=', leave.id),
                        ('employee', '=', leave.employee.id),
                        ('state', 'not in', ['cancelled', 'rejected']),
                        ('start', '<', leave.end),
                        ('end', '>', leave.start),
                        ], limit=1)
                if others:
                    raise AttendanceError(gettext(
                            'office_admin.msg_leave_overlap',
                            leave=leave.rec_name,
                            other=others[0].rec_name))

    @classmethod
    def on_modification(cls, mode, leaves, field_names=None):
        super().on_modification(mode, leaves, field_names=field_names)
        if mode == 'create' or (field_names and field_names & {
                    'start', 'end', 'company'}):
            to_write = []
            for leave in leaves:
                days = working_days(leave.company, leave.start, leave.end)
                if leave.days != days:
                    to_write.extend([[leave], {'days': days}])
            if to_write:
                with without_check_access():
                    cls.write(*to_write)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, leaves):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, leaves):
        pool = Pool()
        Allowance = pool.get('office.leave.allowance')
        check_months_open([(l, l.start, l.end) for l in leaves])
        for leave in leaves:
            if leave.type == 'annual':
                balance = Allowance.balance_of(
                    leave.employee, leave.start.year, exclude=leave)
                if leave.days > balance:
                    raise AttendanceError(gettext(
                            'office_admin.msg_leave_balance',
                            leave=leave.rec_name, days=leave.days,
                            balance=balance))
            elif leave.type == 'compensatory':
                balance = Allowance.compensatory_balance_of(
                    leave.employee, leave.start.year, exclude=leave)
                if leave.days > balance:
                    raise AttendanceError(gettext(
                            'office_admin.msg_leave_compensatory_balance',
                            leave=leave.rec_name, days=leave.days,
                            balance=balance))
            leave.state = 'submitted'
        cls.save(leaves)
        cls.approval_submit(leaves)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, leaves):
        pass

    @classmethod
    def check_modification(cls, mode, leaves, values=None, external=False):
        super().check_modification(
            mode, leaves, values=values, external=external)
        if mode == 'delete':
            for leave in leaves:
                if leave.state in {'submitted', 'approved'}:
                    raise AttendanceError(gettext(
                            'office_admin.msg_leave_delete_approved',
                            leave=leave.rec_name))

    @classmethod
    def _approval_on_approved(cls, leaves):
        # Anomalies of past days the leave covers disappear
        check_months_open([(l, l.start, l.end) for l in leaves])
        cls.recheck([(l, l.start, l.end) for l in leaves])

    @classmethod
    def recheck(cls, periods):
        """Check again the past days of the (leave, start, end) periods for
        the leave's employee (UTC naive datetimes)"""
        pool = Pool()
        Anomaly = pool.get('office.attendance.anomaly')
        Calendar = pool.get('office.calendar')
        employee_dates = []
        for leave, start, end in periods:
            timezone = Calendar.get_timezone(leave.company)
            today = calendar_.to_local(
                calendar_.utcnow(), timezone=timezone).date()
            date = calendar_.to_local(start, timezone=timezone).date()
            last = calendar_.to_local(end, timezone=timezone).date()
            while date <= last and date < today:
                employee_dates.append((leave.employee, date))
                date += dt.timedelta(days=1)
        if employee_dates:
            Anomaly.recheck(employee_dates)


class Cancellation(
        OfficeAccessMixin, RequestWorkflowMixin, ApprovalMixin, ChatMixin,
        Workflow, ModelSQL, ModelView):
    """Leave cancellation (销假): cancels or shortens approved leave once
    approved by the leave's reviewers"""
    __name__ = 'office.leave.cancellation'
    _approval_summary_fields = ('employee', 'leave', 'end', 'reason')
    _states = REQUEST_STATES

    leave = fields.Many2One(
        'office.leave', "Leave", required=True, states=_states,
        ondelete='CASCADE',
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('state') == 'draft', ('state', '=', 'approved'), ()),
            ])
    # Copied from the leave for the record rules and the reviewers
    employee = fields.Many2One(
        'company.employee', "Employee", readonly=True)
    department = fields.Many2One(
        'office.department', "Department", readonly=True)
    end = fields.DateTime(
        "New End", states=_states,
        help="Leave empty to cancel the whole leave; otherwise the leave "
        "is shortened to end then.")
    reason = fields.Text("Reason", required=True, states=_states)
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ], "State", required=True, readonly=True, sort=False)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return self.leave.rec_name if self.leave else ''

    def approval_requester_employee(self):
        return self.leave.employee

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('leave'):
            Leave = Pool().get('office.leave')
            with without_check_access():
                leave = Leave(values['leave'])
                values['employee'] = leave.employee.id
                values['department'] = leave.department.id
        return values

    @classmethod
    def validate_fields(cls, cancellations, field_names):
        super().validate_fields(cancellations, field_names)
        if field_names & {'leave', 'end'}:
            cls.check_end(cancellations)

    @classmethod
    def check_modification(
            cls, mode, cancellations, values=None, external=False):
        super().check_modification(
            mode, cancellations, values=values, external=external)
        if external and mode in {'create', 'write'}:
            cls.check_requester(cancellations)
        if mode == 'delete':
            for cancellation in cancellations:
                if cancellation.state in {'submitted', 'approved'}:
                    raise AttendanceError(gettext(
                            'office_admin.msg_leave_cancellation_delete',
                            leave=cancellation.leave.rec_name))

    @classmethod
    def check_requester(cls, cancellations):
        """Only the employee on leave or HR asks to cancel it (a leave the
        caller cannot read is refused before, as a missing one)"""
        pool = Pool()
        User = pool.get('res.user')
        transaction = Transaction()
        if not transaction.user:
            return
        user = User(transaction.user)
        with without_check_access():
            if user in User.users_in_group('office_admin.group_hr'):
                return
            employees = set(User.get_office_context()['employees'])
            for cancellation in cancellations:
                if cancellation.leave.employee.id not in employees:
                    raise AttendanceError(gettext(
                            'office_admin.msg_leave_cancellation_not_own'))

    @classmethod
    def check_end(cls, cancellations):
        for cancellation in cancellations:
            leave = cancellation.leave
            if cancellation.end and not (
                    leave.start < cancellation.end < leave.end):
                raise AttendanceError(gettext(
                        'office_admin.msg_leave_cancellation_end',
                        leave=leave.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, cancellations):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, cancellations):
        if Transaction().check_access:
            cls.check_requester(cancellations)
        cls.check_end(cancellations)
        check_months_open([
                (c.leave, c.end or c.leave.start, c.leave.end)
                for c in cancellations])
        with without_check_access():
            # Two cancellations of one leave are never submitted at once
            Pool().get('office.leave').lock([c.leave for c in cancellations])
            pending = cls.search([
                    ('leave', 'in', [c.leave.id for c in cancellations]),
                    ('id', 'not in', [c.id for c in cancellations]),
                    ('state', '=', 'submitted'),
                    ], limit=1)
        for cancellation in cancellations:
            if cancellation.leave.state != 'approved' or pending:
                raise AttendanceError(gettext(
                        'office_admin.msg_leave_cancellation_not_approved',
                        leave=cancellation.leave.rec_name))
            cancellation.state = 'submitted'
        cls.save(cancellations)
        cls.approval_submit(cancellations)

    @classmethod
    def _approval_on_approved(cls, cancellations):
        """Cancel or shorten the leave and check its days again: the
        absence it covered comes back"""
        pool = Pool()
        Leave = pool.get('office.leave')
        periods = []
        with without_check_access():
            # One cancellation of a leave at a time, on its current end
            Leave.lock([c.leave for c in cancellations])
            cls.check_end(cancellations)
            for cancellation in cancellations:
                leave = Leave(cancellation.leave.id)
                if leave.state != 'approved':
                    raise AttendanceError(gettext(
                            'office_admin.msg_leave_cancellation_not_approved',
                            leave=leave.rec_name))
                start, end = leave.start, leave.end
                check_months_open([(leave, cancellation.end or start, end)])
                if cancellation.end:
                    Leave.write([leave], {'end': cancellation.end})
                    periods.append((leave, cancellation.end, end))
                else:
                    Leave._approval_transition([leave], 'cancelled')
                    periods.append((leave, start, end))
            Leave.recheck(periods)


class Allowance(OfficeAccessMixin, ModelSQL, ModelView):
    """Annual leave allowance, shown with the compensatory leave (调休假)
    earned and taken in the year"""
    __name__ = 'office.leave.allowance'

    employee = fields.Many2One(
        'company.employee', "Employee", required=True, ondelete='CASCADE')
    year = fields.Integer("Year", required=True)
    days = fields.Numeric("Days", digits=(16, 1), required=True,
        domain=[('days', '>=', 0)])
    taken = fields.Function(
        fields.Numeric("Taken", digits=(16, 1)), 'get_balance')
    balance = fields.Function(
        fields.Numeric("Balance", digits=(16, 1)), 'get_balance')
    compensatory_earned = fields.Function(
        fields.Numeric("Compensatory Earned", digits=(16, 1),
            help="Approved overtime compensated by time off, in half "
            "days of the company's working hours."),
        'get_balance')
    compensatory_taken = fields.Function(
        fields.Numeric("Compensatory Taken", digits=(16, 1)), 'get_balance')
    compensatory_balance = fields.Function(
        fields.Numeric("Compensatory Balance", digits=(16, 1)),
        'get_balance')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('employee_year_unique', Unique(t, t.employee, t.year),
                'office_admin.msg_leave_allowance_unique'),
            ]
        cls._order = [('year', 'DESC'), ('employee', 'ASC'), ('id', 'ASC')]

    @classmethod
    def taken_days(cls, employee, year, exclude=None, type_='annual'):
        Leave = Pool().get('office.leave')
        domain = [
            ('employee', '=', employee.id),
            ('type', '=', type_),
            ('state', 'in', ['submitted', 'approved']),
            ('start', '>=', dt.datetime(year, 1, 1)),
            ('start', '<', dt.datetime(year + 1, 1, 1)),
            ]
        if exclude:
            domain.append(('id', '!=', exclude.id))
        with without_check_access():
            return sum((l.days or 0 for l in Leave.search(domain)),
                Decimal(0))

    @classmethod
    def balance_of(cls, employee, year, exclude=None):
        with without_check_access():
            allowances = cls.search([
                    ('employee', '=', employee.id), ('year', '=', year)])
        days = allowances[0].days if allowances else Decimal(0)
        return days - cls.taken_days(employee, year, exclude=exclude)

    @classmethod
    def compensatory_earned_of(cls, employee, year):
        """Return the compensatory days earned in the year: the hours of
        approved overtime compensated by time off over the hours of a
        working day, rounded down to half days"""
        pool = Pool()
        Calendar = pool.get('office.calendar')
        Overtime = pool.get('office.attendance.overtime')
        hours = Overtime.compensatory_hours(employee, year)
        calendar = Calendar.get_calendar(employee.company)
        day = sum((e - s for s, e in calendar._periods(dt.date.min)),
            dt.timedelta())
        if not hours or not day:
            return Decimal(0)
        halves = (hours * 2 / Decimal(day.total_seconds() / 3600)
            ).to_integral_value(rounding='ROUND_FLOOR')
        return (halves / 2).quantize(Decimal('0.1'))

    @classmethod
    def compensatory_balance_of(cls, employee, year, exclude=None):
        return cls.compensatory_earned_of(employee, year) - cls.taken_days(
            employee, year, exclude=exclude, type_='compensatory')

    @classmethod
    def get_balance(cls, allowances, names):
        result = {n: {} for n in names}
        for allowance in allowances:
            employee, year = allowance.employee, allowance.year
            taken = cls.taken_days(employee, year)
            if 'taken' in names:
                result['taken'][allowance.id] = taken
            if 'balance' in names:
                result['balance'][allowance.id] = allowance.days - taken
            if set(names) & {'compensatory_earned', 'compensatory_taken',
                    'compensatory_balance'}:
                earned = cls.compensatory_earned_of(employee, year)
                used = cls.taken_days(employee, year, type_='compensatory')
                for name, value in [
                        ('compensatory_earned', earned),
                        ('compensatory_taken', used),
                        ('compensatory_balance', earned - used)]:
                    if name in names:
                        result[name][allowance.id] = value
        return result
