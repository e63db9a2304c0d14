# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Monthly attendance report (月度考勤表) per department and its
sub-departments: computed from the schedules, punches, anomalies and leave
of the month, approved by the department head through the engine, then
locked: the punches of the employees it covers (its lines) in that month can
no longer change, wherever they work afterwards."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .access import OfficeAccessMixin, related_field
from .approval import ApprovalMixin
from .common import context_department
from .exceptions import AttendanceError
from .leave import LEAVE_TYPES


def month_range(month):
    start = month.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(
        days=1)
    return start, end


# A check-out further than this from the check-in closes nothing: the
# check-in is a missing check-out
MAX_SHIFT = dt.timedelta(hours=16)


def pair_punches(punches):
    """Pair one employee's punches (sorted by time): each check-in with the
    check-out that follows it within MAX_SHIFT (a night shift crosses
    midnight). Return ({date of the check-in: worked time}, {dates of the
    check-ins left open}): a forgotten check-out is a missing check-out,
    never a span to the next day's punch."""
    worked = defaultdict(dt.timedelta)
    missing = set()
    arrival = None
    for punch in punches:
        if arrival is not None and (
                punch.type == 'in' or punch.at - arrival.at > MAX_SHIFT):
            missing.add(arrival.date)
            arrival = None
        if punch.type == 'in':
            arrival = punch
        elif arrival is not None:
            worked[arrival.date] += punch.at - arrival.at
            arrival = None
    if arrival is not None:
        missing.add(arrival.date)
    return worked, missing


class Month(
        OfficeAccessMixin, ApprovalMixin, ChatMixin, Workflow, ModelSQL,
        ModelView):
    "Monthly attendance report"
    __name__ = 'office.attendance.month'
    _approval_summary_fields = ('department', 'month')
    _approval_transitions = {
        'approved': 'approved',
        'rejected': 'draft',
        'returned': 'draft',
        'withdrawn': 'draft',
        }
    _states = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    month = fields.Date("Month", required=True, states=_states,
        context={'date_format': '%Y-%m'},
        help="The month of the report, as year-month (e.g. 2026-11).")
    lines = fields.One2Many(
        'office.attendance.month.line', 'report', "Lines", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved (Locked)"),
            ], "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    computed_at = fields.DateTime("Computed At", readonly=True)
    month_text = fields.Function(fields.Char("Month"), 'get_month_text')
    total_working_days = fields.Function(
        fields.Integer("Total Working Days"), 'get_totals')
    total_attended_days = fields.Function(
        fields.Integer("Total Attended Days"), 'get_totals')
    total_late = fields.Function(
        fields.Integer("Total Late Arrivals"), 'get_totals')
    total_early = fields.Function(
        fields.Integer("Total Early Leaves"), 'get_totals')
    total_missing = fields.Function(
        fields.Integer("Total Missing Punches"), 'get_totals')
    total_absent = fields.Function(
        fields.Integer("Total Absences"), 'get_totals')
    total_worked_hours = fields.Function(
        fields.Numeric("Total Hours Worked", digits=(16, 1)), 'get_totals')
    total_leave_days = fields.Function(
        fields.Numeric("Total Leave Days", digits=(16, 1)), 'get_totals')
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('department_month_unique', Unique(t, t.department, t.month),
                'office_admin.msg_attendance_month_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.month, Index.Range()),
                (t.state, Index.Equality())))
        cls._order = [('month', 'DESC'), ('department', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'draft'),
            ('submitted', 'approved'),
            }
        cls._buttons.update({
                'compute': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    'icon': 'tryton-refresh',
                    },
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_department(cls):
        return context_department()

    def get_month_text(self, name):
        return self.month.strftime('%Y-%m') if self.month else None

    @classmethod
    def get_totals(cls, reports, names):
        "The report's totals, each with its own label"
        leaves = ['leave_annual', 'leave_sick', 'leave_personal',
            'leave_business_trip', 'leave_compensatory']
        result = {name: {} for name in names}
        for report in reports:
            for name in names:
                if name == 'total_leave_days':
                    value = sum((getattr(line, leave) or 0
                            for line in report.lines for leave in leaves),
                        Decimal(0))
                elif name == 'total_worked_hours':
                    value = sum((line.worked_hours or 0
                            for line in report.lines), Decimal(0))
                else:
                    field = name[len('total_'):]
                    value = sum(getattr(line, field) or 0
                        for line in report.lines)
                result[name][report.id] = value
        return result

    def get_rec_name(self, name):
        return gettext('office_admin.msg_attendance_month_name',
            department=self.department.rec_name if self.department else '',
            month=self.month.strftime('%Y-%m') if self.month else '')

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('month'):
            month = values['month']
            if isinstance(month, str):
                month = dt.date.fromisoformat(month)
            values['month'] = month.replace(day=1)
        return values

    def approval_requester_employee(self):
        return Pool().get('res.user')(Transaction().user).employee

    # ---- locking ---------------------------------------------------------

    @classmethod
    def locked_months(cls, employees):
        """Return {(employee id, month)} of the approved reports that cover
        the employees: a report locks the employees of its lines, whatever
        department they are in today"""
        pool = Pool()
        Line = pool.get('office.attendance.month.line')
        ids = list({e.id for e in employees if e})
        locked = set()
        with without_check_access():
            for sub in grouped_slice(ids, 200):
                for line in Line.search([
                            ('employee', 'in', list(sub)),
                            ('report.state', '=', 'approved'),
                            ], order=[]):
                    locked.add((line.employee.id, line.report.month))
        return locked

    @classmethod
    def check_unlocked(cls, lines):
        """Refuse to change punches (or anything dated for an employee) of a
        month an approved report covers; lines have employee, date and
        rec_name"""
        lines = [l for l in lines if l.employee and l.date]
        locked = cls.locked_months([l.employee for l in lines])
        if not locked:
            return
        for line in lines:
            if (line.employee.id, line.date.replace(day=1)) in locked:
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_month_locked',
                        punch=line.rec_name,
                        month=line.date.strftime('%Y-%m')))

    # ---- computation -----------------------------------------------------

    @classmethod
    @ModelView.button
    def compute(cls, reports):
        pool = Pool()
        Line = pool.get('office.attendance.month.line')
        for report in reports:
            if report.state != 'draft':
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_month_not_draft',
                        report=report.rec_name))
        with without_check_access():
            Line.delete([l for r in reports for l in r.lines])
            Line.create([v for r in reports for v in r._compute_lines()])
        cls.write(reports, {'computed_at': dt.datetime.now()})

    def _compute_lines(self):
        pool = Pool()
        Employee = pool.get('company.employee')
        Anomaly = pool.get('office.attendance.anomaly')
        AttendanceLine = pool.get('attendance.line')
        Leave = pool.get('office.leave')
        Assignment = pool.get('office.attendance.schedule.assignment')
        Calendar = pool.get('office.calendar')
        calendar = Calendar.get_calendar(self.company)
        start, end = month_range(self.month)
        with without_check_access():
            # The department and its sub-departments, each employee once
            employees = Employee.search([
                    ('department', 'child_of', [self.department.id],
                        'parent'),
                    ('company', '=', self.company.id),
                    ], order=[('id', 'ASC')])
            values = []
            for sub in grouped_slice(employees, 200):
                sub = list(sub)
                ids = [e.id for e in sub]
                working = defaultdict(int)
                date = start
                while date <= end:
                    schedules = Assignment.schedules(sub, date)
                    for employee in sub:
                        schedule = schedules.get(employee.id)
                        if not schedule:
                            continue
                        if (schedule.working_days == 'every_day'
                                or calendar.is_working_day(date)):
                            working[employee.id] += 1
                    date += dt.timedelta(days=1)
                anomalies = defaultdict(lambda: defaultdict(int))
                absent_days = defaultdict(set)
                for anomaly in Anomaly.search([
                            ('employee', 'in', ids),
                            ('date', '>=', start), ('date', '<=', end),
                            ]):
                    anomalies[anomaly.employee.id][anomaly.kind] += 1
                    if anomaly.kind == 'absent':
                        absent_days[anomaly.employee.id].add(anomaly.date)
                attended = defaultdict(set)
                punches = defaultdict(list)
                # The day after the month for the check-outs of its last
                # night
                for line in AttendanceLine.search([
                            ('employee', 'in', ids),
                            ('date', '>=', start),
                            ('date', '<=', end + dt.timedelta(days=1)),
                            ], order=[('at', 'ASC')]):
                    punches[line.employee.id].append(line)
                    if line.date <= end:
                        attended[line.employee.id].add(line.date)
                hours = defaultdict(dt.timedelta)
                no_checkout = defaultdict(list)
                for employee_id, employee_punches in punches.items():
                    worked, missing = pair_punches(employee_punches)
                    hours[employee_id] = sum((t for d, t in worked.items()
                            if d <= end), dt.timedelta())
                    no_checkout[employee_id] = sorted(
                        d for d in missing if d <= end)
                leave_days = defaultdict(lambda: defaultdict(Decimal))
                for leave in Leave.search([
                            ('employee', 'in', ids),
                            ('state', '=', 'approved'),
                            ('start', '<=', dt.datetime.combine(
                                    end, dt.time.max)),
                            ('end', '>=', dt.datetime.combine(
                                    start, dt.time.min)),
                            ]):
                    leave_days[leave.employee.id][leave.type] += (
                        leave.days or 0)
                for employee in sub:
                    if not working[employee.id]:
                        continue
                    counts = anomalies[employee.id]
                    value = {
                        'report': self.id,
                        'employee': employee.id,
                        'working_days': working[employee.id],
                        'attended_days': len(attended[employee.id]),
                        'late': counts['late'],
                        'early': counts['early'],
                        'missing': counts['missing'],
                        'absent': counts['absent'],
                        'worked_hours': Decimal(
                            hours[employee.id].total_seconds() / 3600
                            ).quantize(Decimal('0.01')),
                        'missing_checkout': len(no_checkout[employee.id]),
                        'missing_checkout_dates': ', '.join(
                            d.strftime('%m-%d')
                            for d in sorted(no_checkout[employee.id])
                            ) or None,
                        }
                    for type_, _ in LEAVE_TYPES:
                        value['leave_%s' % type_] = (
                            leave_days[employee.id][type_])
                    values.append(value)
        return values

    # ---- workflow --------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, reports):
        for report in reports:
            if not report.lines:
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_month_not_computed',
                        report=report.rec_name))
            report.state = 'submitted'
        cls.save(reports)
        cls.approval_submit(reports)

    # What the archive reads of a record it files
    secrecy = 'internal'

    @property
    def type(self):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        DocumentType = pool.get('office.document.type')
        return DocumentType(ModelData.get_id(
                'office_admin', 'document_type_attendance'))

    @classmethod
    def _approval_on_approved(cls, reports):
        "The approved report is locked and filed in the archive"
        pool = Pool()
        Archive = pool.get('office.archive')
        for report in reports:
            report.chat_post(
                'office_admin.msg_attendance_month_locked_chat',
                audience='internal')
        Archive.create_from(reports)


class MonthLine(OfficeAccessMixin, ModelSQL, ModelView):
    "Monthly attendance report line"
    __name__ = 'office.attendance.month.line'
    # For the record rules (see access.py)
    # an id, not a Many2One: the line is not a company record
    report_company = related_field(
        'report.company', fields.Integer("Report Company"))
    report_department = related_field('report.department', fields.Many2One(
            'office.department', "Report Department"))
    report_reviewers = related_field(
        'report.approval_reviewers', fields.Many2Many(
            'res.user', None, None, "Report Reviewers"))

    report = fields.Many2One(
        'office.attendance.month', "Report", required=True,
        ondelete='CASCADE', readonly=True)
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, readonly=True)
    working_days = fields.Integer("Working Days", readonly=True)
    attended_days = fields.Integer("Attended Days", readonly=True)
    late = fields.Integer("Late", readonly=True)
    early = fields.Integer("Early Leave", readonly=True)
    missing = fields.Integer("Missing Punches", readonly=True)
    absent = fields.Integer("Absent", readonly=True)
    worked_hours = fields.Numeric(
        "Worked Hours", digits=(16, 2), readonly=True,
        help="Check-in to check-out of the same day; a day with a missing "
        "check-out counts no hours.")
    missing_checkout = fields.Integer("Missing Check-outs", readonly=True,
        help="Days with a check-in and no check-out.")
    missing_checkout_dates = fields.Char(
        "Missing Check-out Days", readonly=True)
    leave_annual = fields.Numeric(
        "Annual Leave", digits=(16, 1), readonly=True)
    leave_sick = fields.Numeric("Sick Leave", digits=(16, 1), readonly=True)
    leave_personal = fields.Numeric(
        "Personal Leave", digits=(16, 1), readonly=True)
    leave_business_trip = fields.Numeric(
        "Business Trip", digits=(16, 1), readonly=True)
    leave_compensatory = fields.Numeric(
        "Compensatory Leave", digits=(16, 1), readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('report', 'ASC'), ('employee', 'ASC'), ('id', 'ASC')]


class MonthReport(Report):
    "Monthly attendance report as PDF"
    __name__ = 'office.attendance.month.report'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Line = pool.get('office.attendance.month.line')
        Month = pool.get('office.attendance.month')
        context = super().get_context(records, header, data)
        columns = ['employee', 'working_days', 'attended_days', 'late',
            'early', 'missing', 'absent', 'worked_hours',
            'missing_checkout_dates', 'leave_annual', 'leave_sick',
            'leave_personal', 'leave_business_trip', 'leave_compensatory']
        labels = {n: f['string'] for n, f in Line.fields_get(columns).items()}
        labels['state'] = Month.fields_get(['state'])['state']['string']
        context['columns'] = columns
        context['labels'] = labels
        context['value'] = lambda line, name: getattr(line, name)
        return context


class Archive(metaclass=PoolMeta):
    __name__ = 'office.archive'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.source.selection.append(
            ('office.attendance.month', "Monthly Attendance Report"))
