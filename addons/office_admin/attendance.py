# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Attendance (考勤) on Tryton's `attendance` module: work schedules, punch
intake from clock devices (HTTP endpoint and CSV file), and the daily
anomaly check (late, early leave, missing punch, absence) summarised to HR.

Punches are Tryton attendance lines. Their in/out type comes from the
employee's schedule (before the middle of the shift: in), never from the
previous punch, so a forgotten check-out cannot turn the next morning's
punch into a check-out. The day of a punch is the shift it falls in, so a
night shift crossing midnight is one day."""
import codecs
import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict

from sql import Column, Literal, Null, Window
from sql.aggregate import Max, Min, Sum
from sql.conditionals import Case
from sql.functions import Function, NthValue

import trytond.config as config
from trytond import backend
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.model import (
    ChatMixin, DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow,
    fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .access import OfficeAccessMixin, related_field
from . import calendar_
from .approval import ApprovalMixin
from .common import REQUEST_STATES, EmployeeRequestMixin, for_each_company
from .exceptions import AttendanceError, PunchBatchError, PunchBatchTooLarge

PUNCH_METHODS = [
    ('fingerprint', "Fingerprint"),
    ('face', "Face"),
    ('card', "Card"),
    ('mobile', "Mobile"),
    ('correction', "Correction (补卡)"),
    ]
ANOMALY_KINDS = [
    ('late', "Late Arrival"),
    ('early', "Early Leave"),
    ('missing', "Missing Punch"),
    ('absent', "Absent Without Leave"),
    ]
# A punch belongs to a shift from this long before it starts until this
# long after it ends
WINDOW_BEFORE = dt.timedelta(hours=4)
WINDOW_AFTER = dt.timedelta(hours=6)
# A day is checked once the employee's shift has ended this long ago (a
# check-out a little after the end is on its way)
CHECK_MARGIN = dt.timedelta(hours=1)
# The local hour of the daily check when the configuration has none
CHECK_HOUR = 4
# Punches more than this in the future are refused (device clocks drift)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# Earlier punches are a device clock reset (to 1970 or 2000), never real
EARLIEST_PUNCH_YEAR = 2000
BATCH = 500
# The limits of one batch of punches, over HTTP (JSON or CSV) and in the
# import wizard: [office_admin] punch_max_rows and punch_max_bytes in
# trytond.conf
PUNCH_MAX_ROWS = config.getint(
    'office_admin', 'punch_max_rows', default=10000)
PUNCH_MAX_BYTES = config.getint(
    'office_admin', 'punch_max_bytes', default=4 * 1024 * 1024)
# The columns of a punch, each a short text (the timestamp may also be a
# datetime)
PUNCH_COLUMNS = ['employee', 'timestamp', 'device', 'method']
PUNCH_TEXT_SIZE = 64
# The encodings of a punch file: UTF-8 (with or without byte order mark)
# and GB18030, the superset of GBK and GB2312 that Chinese devices export;
# by their Python codec names
PUNCH_ENCODINGS = {
    'utf-8': 'utf-8-sig',
    'utf-8-sig': 'utf-8-sig',
    'gb18030': 'gb18030',
    'gbk': 'gb18030',
    'gb2312': 'gb18030',
    }
# Control characters (tab and line ends are text) and lone surrogates
_NOT_TEXT = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]')


class _Refused(Exception):
    "A row refused: the message id and its variables"


def _column(row, name):
    """Return the value of column name of row as a stripped text (None when
    empty); raise _Refused when it is not a short text"""
    value = row.get(name)
    if value is None or value == '':
        return None
    if name == 'timestamp' and isinstance(value, dt.datetime):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Refused('row_not_text', {'field': name})
    value = str(value).strip()
    if len(value) > PUNCH_TEXT_SIZE:
        raise _Refused('row_too_long', {
                'field': name, 'size': PUNCH_TEXT_SIZE})
    if _NOT_TEXT.search(value):
        raise _Refused('row_control', {'field': name})
    return value or None


def _local(at, timezone):
    "Naive UTC datetime -> naive local datetime (see calendar_.to_local)"
    return calendar_.to_local(at, timezone=timezone)


def _utc(local, timezone):
    "Naive local datetime -> naive UTC datetime (see calendar_.to_utc)"
    return calendar_.to_utc(local, timezone=timezone)


class Employee(metaclass=PoolMeta):
    __name__ = 'company.employee'

    clock_code = fields.Char(
        "Clock Code",
        help="The code (工号) clock devices send for the employee.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('clock_code_unique', Unique(t, t.company, t.clock_code),
                'office_admin.msg_attendance_clock_code_unique'),
            ]


class Schedule(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    "Work schedule"
    __name__ = 'office.attendance.schedule'

    name = fields.Char("Name", required=True, translate=True)
    company = fields.Many2One('company.company', "Company", required=True)
    kind = fields.Selection([
            ('fixed', "Fixed Hours"),
            ('flexible', "Flexible Start"),
            ('shift', "Shift"),
            ], "Kind", required=True, sort=False)
    start = fields.Time("Start", required=True)
    end = fields.Time(
        "End", required=True,
        help="Before the start for a shift that crosses midnight.")
    latest_start = fields.Time(
        "Core Period Starts",
        states={
            'invisible': Eval('kind') != 'flexible',
            'required': Eval('kind') == 'flexible',
            },
        help="With a flexible start, arriving up to this time is on time; "
        "the working hours then run from the arrival.")
    grace_minutes = fields.Integer(
        "Grace (minutes)", required=True,
        domain=[('grace_minutes', '>=', 0)],
        help="Arriving or leaving within this many minutes is not late or "
        "early.")
    break_start = fields.Time(
        "Break Starts",
        help="The lunch break of the schedule; empty for the break of the "
        "company calendar (none for shifts).")
    break_end = fields.Time(
        "Break Ends", states={'required': Bool(Eval('break_start'))})
    working_days = fields.Selection([
            ('calendar', "Working Days of the Calendar"),
            ('every_day', "Every Day"),
            ], "Working Days", required=True,
        help="Working days of the company calendar (weekends, public "
        "holidays and adjusted working days), or every day for shifts.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_kind(cls):
        return 'fixed'

    @classmethod
    def default_grace_minutes(cls):
        return 5

    @classmethod
    def default_working_days(cls):
        return 'calendar'

    @classmethod
    def validate_fields(cls, schedules, field_names):
        super().validate_fields(schedules, field_names)
        for schedule in schedules:
            if schedule.start == schedule.end:
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_schedule_empty',
                        schedule=schedule.rec_name))
            if (schedule.kind == 'flexible' and schedule.latest_start
                    and schedule.latest_start < schedule.start):
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_schedule_core',
                        schedule=schedule.rec_name))

    @property
    def duration(self):
        start = dt.datetime.combine(dt.date.min, self.start)
        end = dt.datetime.combine(dt.date.min, self.end)
        if end <= start:
            end += dt.timedelta(days=1)
        return end - start

    def period(self, date):
        "Return the (start, end) local datetimes of the shift of date"
        start = dt.datetime.combine(date, self.start)
        return start, start + self.duration

    def break_(self, date, calendar):
        """Return the (start, end) local datetimes of the break in the
        shift of date, or None: the schedule's own, else the calendar's
        when it lies within the shift (never for a shift)"""
        start, end = self.period(date)
        if self.break_start and self.break_end:
            times = self.break_start, self.break_end
        elif (self.kind != 'shift' and calendar.break_start
                and calendar.break_end):
            times = calendar.break_start, calendar.break_end
        else:
            return None
        for day in [date, date + dt.timedelta(days=1)]:
            break_start, break_end = (
                dt.datetime.combine(day, t) for t in times)
            if start <= break_start < break_end <= end:
                return break_start, break_end
        return None


class ScheduleAssignment(OfficeAccessMixin, ModelSQL, ModelView):
    "Work schedule assignment"
    __name__ = 'office.attendance.schedule.assignment'

    schedule = fields.Many2One(
        'office.attendance.schedule', "Schedule", required=True,
        ondelete='CASCADE')
    department = fields.Many2One(
        'office.department', "Department",
        states={'required': ~Eval('employee')},
        help="Everyone of the department and its sub-departments.")
    employee = fields.Many2One(
        'company.employee', "Employee",
        states={'required': ~Eval('department')},
        help="Takes precedence over the department's schedule.")
    date_from = fields.Date("From", required=True)
    date_to = fields.Date(
        "To",
        domain=['OR',
            ('date_to', '=', None),
            ('date_to', '>=', Eval('date_from', None)),
            ])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date_from', 'DESC'), ('id', 'DESC')]

    @classmethod
    def schedules(cls, employees, date):
        """Return {employee id: schedule} for date: the employee's own
        assignment, else the nearest department's up the tree; the latest
        one starting on or before date wins"""
        with without_check_access():
            assignments = cls.search([
                    ('date_from', '<=', date),
                    ['OR',
                        ('date_to', '=', None),
                        ('date_to', '>=', date),
                        ],
                    ], order=[('date_from', 'DESC'), ('id', 'DESC')])
        by_employee, by_department = {}, {}
        for assignment in assignments:
            if assignment.employee:
                by_employee.setdefault(
                    assignment.employee.id, assignment.schedule)
            elif assignment.department:
                by_department.setdefault(
                    assignment.department.id, assignment.schedule)
        result = {}
        for employee in employees:
            schedule = by_employee.get(employee.id)
            department = employee.department
            while schedule is None and department:
                schedule = by_department.get(department.id)
                department = department.parent
            if schedule and schedule.active:
                result[employee.id] = schedule
        return result


class Line(OfficeAccessMixin, metaclass=PoolMeta):
    __name__ = 'attendance.line'
    # For the record rules (see access.py)
    employee_department = related_field('employee.department', fields.Many2One(
            'office.department', "Employee Department"))

    device = fields.Char("Device", readonly=True)
    method = fields.Selection(
        [(None, "")] + PUNCH_METHODS, "Method", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('employee_at_unique', Unique(t, t.employee, t.at),
                'office_admin.msg_attendance_punch_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.employee, Index.Range()), (t.at, Index.Range())))
        # Set by the schedule (see shifts), whoever sends the punch
        cls.type.readonly = True
        cls.date.readonly = True

    @classmethod
    def check_punch_editor(cls):
        """Punches change only through an approved correction (written by
        the workflow, without access checks) or by HR; the model access in
        attendance.xml says the same to the client"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        transaction = Transaction()
        if not transaction.user or not transaction.check_access:
            return
        if ModelData.get_id('office_admin', 'group_hr') \
                not in User.get_groups():
            raise AccessError(gettext(
                    'office_admin.msg_attendance_punch_hr_only'))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            # Placeholders until _compute_fields applies the schedule
            if not values.get('type'):
                values['type'] = 'in'
            if not values.get('date') and values.get('at'):
                values['date'] = values['at'].date()
        return values

    @classmethod
    def create(cls, vlist):
        cls.check_punch_editor()
        lines = super().create(vlist)
        cls.recheck_days(lines)
        return lines

    @classmethod
    def write(cls, *args):
        cls.check_punch_editor()
        lines = sum(args[0:None:2], [])
        before = cls._days(lines)
        super().write(*args)
        cls.recheck_days(lines, before)

    @classmethod
    def delete(cls, lines):
        cls.check_punch_editor()
        before = cls._days(lines)
        super().delete(lines)
        cls.recheck_days([], before)

    @staticmethod
    def _days(lines):
        return {(l.employee, l.date) for l in lines}

    @classmethod
    def recheck_days(cls, lines, days=()):
        "Check again the days of the punches that have ended"
        Anomaly = Pool().get('office.attendance.anomaly')
        days = set(days) | cls._days(lines)
        if days:
            Anomaly.recheck(days)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        Month = Pool().get('office.attendance.month')
        Month.check_unlocked(lines)

    @classmethod
    def _validate(cls, lines, field_names=None):
        # Before the domain of the employee, which would say less
        if field_names is None or field_names & {'at', 'employee'}:
            cls.check_punch_time(lines)
        super()._validate(lines, field_names=field_names)

    @classmethod
    def check_punch_time(cls, lines):
        """Refuse a punch in the future (beyond the clock skew) or before
        the start date of the employee, whichever way it arrives"""
        Calendar = Pool().get('office.calendar')
        now = calendar_.utcnow()
        timezones = {}
        for line in lines:
            if not line.at or not line.employee:
                continue
            company = line.company or line.employee.company
            if company not in timezones:
                timezones[company] = Calendar.get_timezone(company)
            local = _local(line.at, timezones[company])
            if line.at > now + FUTURE_TOLERANCE:
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_row_future',
                        value=local.isoformat(' ')))
            start_date = line.employee.start_date
            if start_date and local.date() < start_date:
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_row_before_start',
                        value=local.isoformat(' '),
                        date=start_date.isoformat()))

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        Month = Pool().get('office.attendance.month')
        Month.check_unlocked(lines)

    # ---- the day and type of a punch, by the schedule --------------------

    @classmethod
    def punch_type(cls, employee_schedule, local_at):
        """Return 'in' or 'out' for a punch at local_at by the schedule:
        before the middle of the shift it belongs to it is a check-in"""
        schedules = defaultdict(dict)
        for date in [local_at.date(), local_at.date() - dt.timedelta(days=1)]:
            schedules[date][None] = employee_schedule
        return cls._shift(schedules, None, local_at)[1]

    @classmethod
    def _shift(cls, schedules, employee_id, local_at):
        for date in [local_at.date(), local_at.date() - dt.timedelta(days=1)]:
            schedule = schedules[date].get(employee_id)
            if not schedule:
                continue
            start, end = schedule.period(date)
            if start - WINDOW_BEFORE <= local_at <= end + WINDOW_AFTER:
                return date, (
                    'in' if local_at < start + (end - start) / 2 else 'out')
        return local_at.date(), (
            'in' if local_at.time() < dt.time(12) else 'out')

    @classmethod
    def shifts(cls, punches):
        """Return [(date, type)] for punches [(employee, local datetime)]:
        the day of the shift each belongs to (a night shift crossing
        midnight is one day) and 'in' before the middle of that shift,
        'out' after it, by the employee's schedule of that day; without
        one, the calendar day and noon. The one rule for every punch
        (device, file, form, correction), in one query per day."""
        Assignment = Pool().get('office.attendance.schedule.assignment')
        by_date = defaultdict(dict)
        for employee, local in punches:
            for date in [local.date(), local.date() - dt.timedelta(days=1)]:
                by_date[date][employee.id] = employee
        schedules = defaultdict(dict)
        with without_check_access():
            for date, employees in by_date.items():
                schedules[date] = Assignment.schedules(
                    list(employees.values()), date)
        return [cls._shift(schedules, e.id, local) for e, local in punches]

    @fields.depends('employee', 'at', 'company')
    def on_change_with_type(self):
        if self.employee and self.at:
            return self._own_shift()[1]

    @fields.depends('employee', 'at', 'company')
    def on_change_with_date(self):
        if self.employee and self.at:
            return self._own_shift()[0]
        return super().on_change_with_date()

    def _own_shift(self):
        Calendar = Pool().get('office.calendar')
        timezone = Calendar.get_timezone(
            self.company or self.employee.company)
        (shift,) = self.shifts([(self.employee, _local(self.at, timezone))])
        return shift

    def compute_fields(self, field_names=None):
        # The day comes from the schedule, in _compute_fields for all at once
        values = super().compute_fields(field_names=field_names)
        values.pop('date', None)
        return values

    @classmethod
    def _compute_fields(cls, lines, field_names=None):
        super()._compute_fields(lines, field_names=field_names)
        if field_names is not None and not (
                field_names & {'at', 'employee', 'company', 'date', 'type'}):
            return
        Calendar = Pool().get('office.calendar')
        timezones = {}
        punches = []
        for line in lines:
            company = line.company
            if company not in timezones:
                timezones[company] = Calendar.get_timezone(company)
            punches.append(
                (line.employee, _local(line.at, timezones[company])))
        to_write = []
        for line, (date, type_) in zip(lines, cls.shifts(punches)):
            if line.date != date or line.type != type_:
                to_write.extend([[line], {'date': date, 'type': type_}])
        if to_write:
            with without_check_access():
                cls.write(*to_write)

    @classmethod
    def intake(cls, rows, company, source='device'):
        """Store the punches of rows (dicts with employee, timestamp, device,
        method); return {'stored': [...], 'duplicates': [...], 'refused':
        [{'row': i, 'reason': text}]}. A refused row never stops the
        others; a punch already stored (same employee, same instant) is
        reported as a duplicate and stored once."""
        pool = Pool()
        Employee = pool.get('company.employee')
        Month = pool.get('office.attendance.month')
        Calendar = pool.get('office.calendar')
        cls.check_punch_batch(rows=len(rows))
        timezone = Calendar.get_timezone(company)
        now = calendar_.utcnow()
        methods = dict(PUNCH_METHODS)
        result = {'stored': [], 'duplicates': [], 'refused': []}

        def refuse(i, msg_id, **variables):
            result['refused'].append({
                    'row': i,
                    'reason': gettext(
                        'office_admin.msg_attendance_%s' % msg_id,
                        **variables)})

        parsed = []
        codes = set()
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                refuse(i, 'row_malformed')
                continue
            try:
                code, timestamp, device, method = (
                    _column(row, c) for c in PUNCH_COLUMNS)
            except _Refused as refused:
                refuse(i, refused.args[0], **refused.args[1])
                continue
            if not code:
                refuse(i, 'row_no_employee')
                continue
            try:
                if isinstance(timestamp, dt.datetime):
                    at = timestamp
                else:
                    at = dt.datetime.fromisoformat(timestamp or '')
            except ValueError:
                refuse(i, 'row_bad_timestamp', value=timestamp or '')
                continue
            if at.tzinfo is None:
                at = at.replace(tzinfo=timezone)
            try:
                at = at.astimezone(dt.timezone.utc).replace(
                    tzinfo=None, microsecond=0)
            except OverflowError:
                # Beyond year 1 or 9999 in UTC
                at = None
            if at and at > now + FUTURE_TOLERANCE:
                refuse(i, 'row_future', value=timestamp)
                continue
            if not at or at.year < EARLIEST_PUNCH_YEAR:
                refuse(i, 'row_implausible', value=timestamp)
                continue
            method = method or 'fingerprint'
            if method not in methods:
                refuse(i, 'row_bad_method', value=method)
                continue
            parsed.append((i, code, at, device, method))
            codes.add(code)
        employees = {}
        with without_check_access():
            for sub in grouped_slice(sorted(codes), 200):
                for employee in Employee.search([
                            ('company', '=', company.id),
                            ('clock_code', 'in', list(sub)),
                            ]):
                    employees[employee.clock_code] = employee
        known = [(i, employees[c], at, d, m) for i, c, at, d, m in parsed
            if c in employees]
        for i, code, _, _, _ in parsed:
            if code not in employees:
                refuse(i, 'row_unknown_employee', code=code)
        existing = set()
        with without_check_access():
            for sub in grouped_slice(known, 200):
                sub = list(sub)
                employee_ids = list({e.id for _, e, _, _, _ in sub})
                ats = [at for _, _, at, _, _ in sub]
                for line in cls.search([
                            ('employee', 'in', employee_ids),
                            ('at', '>=', min(ats)),
                            ('at', '<=', max(ats)),
                            ], order=[]):
                    existing.add((line.employee.id, line.at))
        locked = Month.locked_months([e for _, e, _, _, _ in known])
        candidates, seen = [], set()
        for i, employee, at, device, method in known:
            key = (employee.id, at)
            if key in existing or key in seen:
                result['duplicates'].append(i)
                continue
            local = _local(at, timezone)
            if employee.start_date and local.date() < employee.start_date:
                refuse(i, 'row_before_start', value=local.isoformat(' '),
                    date=employee.start_date.isoformat())
                continue
            seen.add(key)
            candidates.append((i, employee, at, local, device, method))
        shifts = cls.shifts(
            [(e, local) for _, e, _, local, _, _ in candidates])
        to_create = []
        for (i, employee, at, _, device, method), (date, type_) in zip(
                candidates, shifts):
            # The month of the punch's shift day (a night shift's check-out
            # belongs to the day it started), as check_unlocked reads it
            month = date.replace(day=1)
            if (employee.id, month) in locked:
                refuse(i, 'row_locked', month=month.strftime('%Y-%m'))
                continue
            to_create.append((i, {
                        'company': company.id,
                        'employee': employee.id,
                        'at': at,
                        'date': date,
                        'type': type_,
                        'device': device,
                        'method': method,
                        }))
        if to_create:
            with without_check_access():
                cls.create([v for _, v in to_create])
            result['stored'] = [i for i, _ in to_create]
        result['refused'].sort(key=lambda r: r['row'])
        return result

    @classmethod
    def check_punch_batch(cls, rows=None, size=None):
        """Refuse a batch of more than PUNCH_MAX_ROWS rows or
        PUNCH_MAX_BYTES bytes"""
        if rows is not None and rows > PUNCH_MAX_ROWS:
            raise PunchBatchTooLarge(gettext(
                    'office_admin.msg_attendance_batch_too_many',
                    rows=PUNCH_MAX_ROWS))
        if size is not None and size > PUNCH_MAX_BYTES:
            if PUNCH_MAX_BYTES >= 1024 * 1024:
                limit = '%g MB' % round(PUNCH_MAX_BYTES / 1024 / 1024, 1)
            else:
                limit = '%g kB' % round(PUNCH_MAX_BYTES / 1024, 1)
            raise PunchBatchTooLarge(gettext(
                    'office_admin.msg_attendance_batch_too_large',
                    size=limit))

    @classmethod
    def decode_punch_file(cls, data, encoding=None):
        """Return the text of a punch file: in encoding when given (UTF-8
        or GB18030/GBK), else UTF-8 if it is strictly, else GB18030; refuse
        binary data, NUL characters and any other encoding"""
        if encoding:
            try:
                name = codecs.lookup(encoding).name
            except LookupError:
                name = None
            if name not in PUNCH_ENCODINGS:
                raise PunchBatchError(gettext(
                        'office_admin.msg_attendance_file_encoding_unknown',
                        encoding=encoding[:PUNCH_TEXT_SIZE]))
            codecs_ = [PUNCH_ENCODINGS[name]]
        else:
            codecs_ = ['utf-8-sig', 'gb18030']
        if b'\x00' in data:
            raise PunchBatchError(gettext(
                    'office_admin.msg_attendance_file_not_text'))
        for codec in codecs_:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            break
        else:
            raise PunchBatchError(gettext(
                    'office_admin.msg_attendance_file_undecodable'))
        if _NOT_TEXT.search(text):
            raise PunchBatchError(gettext(
                    'office_admin.msg_attendance_file_not_text'))
        return text

    @classmethod
    def intake_csv(cls, data, company, encoding=None):
        """Store the punches of a CSV export (columns employee, timestamp,
        device, method; a header row) in UTF-8 or GB18030/GBK"""
        if isinstance(data, str):
            data = data.encode('utf-8')
        cls.check_punch_batch(size=len(data))
        text = cls.decode_punch_file(bytes(data), encoding)
        reader = csv.DictReader(io.StringIO(text, newline=''))
        rows = []
        try:
            for row in reader:
                rows.append({k.strip().lower(): (v or '').strip()
                        for k, v in row.items() if isinstance(k, str)})
                if len(rows) > PUNCH_MAX_ROWS:
                    break
        except csv.Error:
            raise PunchBatchError(gettext(
                    'office_admin.msg_attendance_batch_malformed'))
        return cls.intake(rows, company, source='file')

    @classmethod
    def intake_json(cls, data, company):
        """Store the punches of a JSON body: {"punches": [{"employee": ...,
        "timestamp": ..., "device": ..., "method": ...}, ...]}"""
        cls.check_punch_batch(size=len(data))
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            body = None
        rows = body.get('punches') if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise PunchBatchError(gettext(
                    'office_admin.msg_attendance_batch_malformed'))
        return cls.intake(rows, company)


class SQLiteStrftime(Function):
    __slots__ = ()
    _function = 'STRFTIME'


class SheetDepartmentMixin:
    """The employee's department on Tryton's attendance sheets, so that a
    head's rule reads a column of the sheet itself (no dotted leaf)"""
    __slots__ = ()
    department = fields.Many2One('office.department', "Department")
    missing_out = fields.Boolean(
        "Missing Check-out",
        help="A check-in without its check-out on the same day: no hours "
        "are counted for it.")

    @classmethod
    def read(cls, ids, fields_names):
        rows = super().read(ids, fields_names)
        # A computed column: SQLite gives 0 or 1
        if 'missing_out' in fields_names:
            for row in rows:
                if row.get('missing_out') is not None:
                    row['missing_out'] = bool(row['missing_out'])
        return rows

    @classmethod
    def _with_department(cls, query):
        pool = Pool()
        Employee = pool.get('company.employee')
        employee = Employee.__table__()
        columns = [Column(query, c.output_name) for c in query.columns]
        return query.join(employee, 'LEFT',
            condition=Column(query, 'employee') == employee.id
            ).select(*columns, employee.department.as_('department'))


class SheetLine(SheetDepartmentMixin, OfficeAccessMixin, metaclass=PoolMeta):
    __name__ = 'attendance.sheet.line'

    @classmethod
    def table_query(cls):
        """A check-in and the check-out that follows it on the same day (the
        day of the shift, see Line.shifts); a check-in followed by another
        check-in or by nothing that day is a missing check-out, with no
        end and no duration, never a span into the next day"""
        pool = Pool()
        Attendance = pool.get('attendance.line')
        attendance = Attendance.__table__()
        window = Window(
            [attendance.employee, attendance.date],
            order_by=[attendance.at.asc, attendance.id.asc],
            frame='ROWS', start=0, end=1)
        query = attendance.select(
            attendance.id.as_('id'),
            attendance.company.as_('company'),
            attendance.employee.as_('employee'),
            attendance.type.as_('type'),
            attendance.at.as_('from_'),
            NthValue(attendance.at, 2, window=window).as_('next_at'),
            NthValue(attendance.type, 2, window=window).as_('next_type'),
            attendance.date.as_('date'))
        from_ = Column(query, 'from_')
        paired = Column(query, 'next_type') == 'out'
        to = Case((paired, Column(query, 'next_at')), else_=Null)
        if backend.name == 'sqlite':
            # SQLite has no operation on datetimes: in seconds
            duration = (
                SQLiteStrftime('%s', to) - SQLiteStrftime('%s', from_))
        else:
            duration = to - from_
        sheet = Min(query.id * 2, window=Window([query.employee, query.date]))
        return cls._with_department(query.select(
                query.id.as_('id'),
                query.company.as_('company'),
                query.employee.as_('employee'),
                from_.as_('from_'),
                to.as_('to'),
                query.date.as_('date'),
                duration.as_('duration'),
                sheet.as_('sheet'),
                Case((paired, Literal(False)), else_=Literal(True)
                    ).as_('missing_out'),
                where=query.type == 'in'))


class Sheet(SheetDepartmentMixin, OfficeAccessMixin, metaclass=PoolMeta):
    __name__ = 'attendance.sheet'

    @classmethod
    def table_query(cls):
        "The hours of the day, and whether a check-out is missing"
        pool = Pool()
        Line = pool.get('attendance.sheet.line')
        line = Line.__table__()
        return cls._with_department(line.select(
                Min(line.id * 2).as_('id'),
                line.company.as_('company'),
                line.employee.as_('employee'),
                Sum(line.duration).as_('duration'),
                line.date.as_('date'),
                (Max(Case((line.to == Null, 1), else_=0)) > 0
                    ).as_('missing_out'),
                group_by=[line.company, line.employee, line.date]))


class ImportStart(ModelView):
    "Import punches"
    __name__ = 'office.attendance.import.start'

    data = fields.Binary("File", required=True, filename='filename')
    filename = fields.Char("File Name")
    encoding = fields.Selection([
            (None, "Detect (UTF-8 or GB18030/GBK)"),
            ('utf-8', "UTF-8"),
            ('gb18030', "GB18030/GBK"),
            ], "Encoding",
        help="The encoding of the file; Chinese clock devices often export "
        "GBK.")


class ImportResult(ModelView):
    "Import punches result"
    __name__ = 'office.attendance.import.result'

    stored = fields.Integer("Stored", readonly=True)
    duplicates = fields.Integer("Already Stored", readonly=True)
    refused = fields.Text("Refused", readonly=True)


class Import(Wizard):
    "Import punches"
    __name__ = 'office.attendance.import'
    start = StateView('office.attendance.import.start',
        'office_admin.attendance_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView('office.attendance.import.result',
        'office_admin.attendance_import_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_import_(self):
        pool = Pool()
        Line = pool.get('attendance.line')
        Company = pool.get('company.company')
        company = Company(Transaction().context['company'])
        self._result = Line.intake_csv(
            self.start.data, company, encoding=self.start.encoding)
        return 'result'

    def default_result(self, fields):
        result = getattr(self, '_result', None) or {
            'stored': [], 'duplicates': [], 'refused': []}
        return {
            'stored': len(result['stored']),
            'duplicates': len(result['duplicates']),
            'refused': '\n'.join('%s: %s' % (r['row'] + 2, r['reason'])
                for r in result['refused']),
            }


class Anomaly(OfficeAccessMixin, ModelSQL, ModelView):
    "Attendance anomaly"
    __name__ = 'office.attendance.anomaly'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, readonly=True)
    department = fields.Many2One(
        'office.department', "Department", readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    kind = fields.Selection(
        ANOMALY_KINDS, "Kind", required=True, readonly=True, sort=False)
    kind_string = kind.translated('kind')
    minutes = fields.Integer("Minutes", readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('explained', "Explained"),
            ], "State", required=True, readonly=True)
    explanation = fields.Text(
        "Explanation", states={'readonly': Eval('state') != 'open'})
    month = fields.Function(fields.Char("Month"), 'get_month')
    count = fields.Function(fields.Integer("Anomalies"), 'get_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('employee_date_kind_unique',
                Unique(t, t.employee, t.date, t.kind),
                'office_admin.msg_attendance_anomaly_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.date, Index.Range()),
                    (t.department, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('employee', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'explain': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'request_correction': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    'icon': 'tryton-create',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    @ModelView.button_action('office_admin.act_attendance_correction_anomaly')
    def request_correction(cls, anomalies):
        "Open a 补卡 filled from the anomaly (see Correction.default_get)"
        if not anomalies:
            return
        anomaly = anomalies[0]
        return {
            'pyson_context': PYSONEncoder().encode({
                    'default_anomaly': anomaly.id,
                    }),
            }

    def correction_values(self):
        """Return the date, time and type of the punch this anomaly misses:
        the shift's start for a late arrival or an absence, its end for an
        early leave, and for a missing punch the one the day lacks"""
        pool = Pool()
        Assignment = pool.get('office.attendance.schedule.assignment')
        Line = pool.get('attendance.line')
        schedule = Assignment.schedules([self.employee], self.date).get(
            self.employee.id)
        if not schedule:
            return {'date': self.date}
        start, end = schedule.period(self.date)
        type_ = 'in'
        if self.kind == 'early':
            type_ = 'out'
        elif self.kind == 'missing':
            with without_check_access():
                punches = Line.search([
                        ('employee', '=', self.employee.id),
                        ('date', '=', self.date),
                        ])
            if any(p.type == 'in' for p in punches):
                type_ = 'out'
        at = start if type_ == 'in' else end
        return {'date': at.date(),
            'time': at.time(), 'type': type_}

    def get_count(self, name):
        return 1

    def get_month(self, name):
        return self.date.strftime('%Y-%m') if self.date else None

    def get_rec_name(self, name):
        return '%s %s %s' % (
            self.employee.rec_name, self.date, self.kind_string)

    @classmethod
    @ModelView.button
    def explain(cls, anomalies):
        for anomaly in anomalies:
            if not anomaly.explanation:
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_explanation_required',
                        anomaly=anomaly.rec_name))
        cls.write(anomalies, {'state': 'explained'})

    # ---- the daily check -------------------------------------------------

    @classmethod
    @for_each_company
    def check_yesterday(cls):
        """Scheduled every hour: at the configured local hour of the company
        (its timezone), check the days of the employees whose shift ended
        (plus CHECK_MARGIN) in the 24 hours before, so that a night shift
        is checked the morning after it ends, never while it runs. Run by
        hand, the 24 hours before now. Return the {kind: count}."""
        pool = Pool()
        Calendar = pool.get('office.calendar')
        Company = pool.get('company.company')
        Config = pool.get('office.configuration')
        transaction = Transaction()
        company = Company(transaction.context['company'])
        now = _local(calendar_.utcnow(), Calendar.get_timezone(company))
        if transaction.context.get('_cron'):
            hour = Config(1).attendance_check_hour
            if hour is None:
                hour = CHECK_HOUR
            if now.hour != hour:
                return {}
            now = now.replace(minute=0, second=0, microsecond=0)
        return cls.check_ended(company, now - dt.timedelta(days=1), now)

    @classmethod
    def check_ended(cls, company, since, until):
        """Check the days whose shift ended plus CHECK_MARGIN in (since,
        until], local datetimes; tell HR the summary of each day whose
        last shift is then checked. Return the {kind: count}."""
        def due(end):
            return since < end + CHECK_MARGIN <= until
        counts = defaultdict(int)
        date = since.date() - dt.timedelta(days=1)
        while date <= until.date():
            day_counts, last = cls._check(company, date, None, due)
            for kind, count in day_counts.items():
                counts[kind] += count
            if last and due(last):
                cls.notify_day(company, date)
            date += dt.timedelta(days=1)
        return dict(counts)

    @classmethod
    def check_day(cls, date, employees=None):
        """Compute the anomalies of date for the employees (all of the
        company by default), in batches, whether their shift has ended or
        not; idempotent: open anomalies that no longer apply are removed,
        explained ones are kept. Return the {kind: count} of the day."""
        pool = Pool()
        Company = pool.get('company.company')
        company_id = Transaction().context.get('company')
        if not company_id:
            return {}
        company = Company(company_id)
        counts, _ = cls._check(company, date, employees)
        cls.notify_day(company, date)
        return counts

    @classmethod
    def recheck(cls, employee_dates):
        """Check again the days [(employee, date)] after a late punch (any
        path), a leave approved or cancelled, or an approved correction:
        the days whose shift has ended (plus CHECK_MARGIN); the others are
        left to the daily check. Batched and idempotent; the employee is
        told of a new anomaly. Return the {kind: count} of the days."""
        pool = Pool()
        Employee = pool.get('company.employee')
        Calendar = pool.get('office.calendar')
        by_day = defaultdict(set)
        for employee, date in employee_dates:
            if employee is None or date is None:
                continue
            by_day[(Employee(int(employee)).company, date)].add(int(employee))
        counts = defaultdict(int)
        nows = {}
        for (company, date), ids in sorted(
                by_day.items(), key=lambda i: (i[0][0].id, i[0][1])):
            if company not in nows:
                nows[company] = _local(
                    calendar_.utcnow(), Calendar.get_timezone(company))
            now = nows[company]
            if date > now.date():
                continue
            with Transaction().set_context(company=company.id):
                day_counts, _ = cls._check(
                    company, date, Employee.browse(sorted(ids)),
                    lambda end: end + CHECK_MARGIN <= now, notify=True)
            for kind, count in day_counts.items():
                counts[kind] += count
        return dict(counts)

    @classmethod
    def _check(cls, company, date, employees, due=None, notify=False):
        """Check date for the employees (all of the company by default)
        whose shift end passes due(end) (all without due); return the
        {kind: count} and the latest end of a shift of the day"""
        pool = Pool()
        Employee = pool.get('company.employee')
        with without_check_access():
            if employees is None:
                employees = Employee.search([
                        ('company', '=', company.id),
                        ['OR',
                            ('start_date', '=', None),
                            ('start_date', '<=', date)],
                        ['OR',
                            ('end_date', '=', None),
                            ('end_date', '>=', date)],
                        ], order=[('id', 'ASC')])
            counts = defaultdict(int)
            last = None
            for sub in grouped_slice(employees, BATCH):
                sub_counts, sub_last, created = cls._check_batch(
                    company, date, list(sub), due)
                for kind, count in sub_counts.items():
                    counts[kind] += count
                if sub_last and (last is None or sub_last > last):
                    last = sub_last
                if notify and created:
                    cls.notify_own(created)
        return dict(counts), last

    @classmethod
    def _check_batch(cls, company, date, employees, due=None):
        """Check date for the employees whose shift end passes due; return
        the {kind: count}, the latest end of a shift and the anomalies
        created"""
        pool = Pool()
        Line = pool.get('attendance.line')
        Leave = pool.get('office.leave')
        Assignment = pool.get('office.attendance.schedule.assignment')
        Calendar = pool.get('office.calendar')
        calendar = Calendar.get_calendar(company)
        timezone = Calendar.get_timezone(company)
        working_day = calendar.is_working_day(date)
        schedules = Assignment.schedules(employees, date)
        periods = {}
        checked = []
        last = None
        # A day without a shift ends at midnight (its stale anomalies go)
        midnight = dt.datetime.combine(
            date + dt.timedelta(days=1), dt.time())
        for employee in employees:
            schedule = schedules.get(employee.id)
            end = midnight
            if schedule and (schedule.working_days != 'calendar'
                    or working_day):
                start, end = schedule.period(date)
                last = end if last is None else max(last, end)
                if due is None or due(end):
                    periods[employee.id] = (
                        schedule, start, end,
                        schedule.break_(date, calendar))
            if due is None or due(end):
                checked.append(employee)
        if not checked:
            return {}, last, []
        # Punches and leaves of the batch in two queries
        punches = defaultdict(list)
        leaves = defaultdict(list)
        if periods:
            first = min(p[1] for p in periods.values()) - WINDOW_BEFORE
            end_ = max(p[2] for p in periods.values()) + WINDOW_AFTER
            ids = list(periods)
            for line in Line.search([
                        ('employee', 'in', ids),
                        ('at', '>=', _utc(first, timezone)),
                        ('at', '<=', _utc(end_, timezone)),
                        ], order=[('at', 'ASC')]):
                punches[line.employee.id].append(_local(line.at, timezone))
            for leave in Leave.search([
                        ('employee', 'in', ids),
                        ('state', '=', 'approved'),
                        ('start', '<', _utc(end_, timezone)),
                        ('end', '>', _utc(first, timezone)),
                        ]):
                leaves[leave.employee.id].append((
                        _local(leave.start, timezone),
                        _local(leave.end, timezone)))
        wanted = {}
        for employee_id, (schedule, start, end, break_) in periods.items():
            for kind, minutes in cls._day_anomalies(
                    schedule, start, end, punches[employee_id],
                    leaves[employee_id], break_=break_):
                wanted[(employee_id, kind)] = minutes
        departments = {e.id: e.department for e in checked}
        existing = {(a.employee.id, a.kind): a for a in cls.search([
                    ('employee', 'in', [e.id for e in checked]),
                    ('date', '=', date),
                    ])}
        to_delete = [a for k, a in existing.items()
            if k not in wanted and a.state == 'open']
        to_create, to_write = [], []
        for (employee_id, kind), minutes in wanted.items():
            anomaly = existing.get((employee_id, kind))
            if anomaly is None:
                department = departments.get(employee_id)
                to_create.append({
                        'company': company.id,
                        'employee': employee_id,
                        'department': department.id if department else None,
                        'date': date,
                        'kind': kind,
                        'minutes': minutes,
                        })
            elif anomaly.state == 'open' and anomaly.minutes != minutes:
                to_write.extend([[anomaly], {'minutes': minutes}])
        if to_delete:
            cls.delete(to_delete)
        created = cls.create(to_create) if to_create else []
        if to_write:
            cls.write(*to_write)
        counts = defaultdict(int)
        for _, kind in wanted:
            counts[kind] += 1
        return counts, last, created

    @classmethod
    def _day_anomalies(
            cls, schedule, start, end, punches, leaves, break_=None):
        """Yield (kind, minutes) for one employee and one shift; start, end,
        punches, leaves and the break (start, end) are local datetimes"""
        grace = dt.timedelta(minutes=schedule.grace_minutes or 0)
        # The part of the shift not on leave; a leave ending at or in the
        # break starts the work after it (and mirrored for the end)
        for leave_start, leave_end in sorted(leaves):
            if leave_start <= start and leave_end >= end:
                return
            if leave_start <= start < leave_end:
                start = leave_end
                if break_ and break_[0] <= start < break_[1]:
                    start = break_[1]
            if leave_start < end <= leave_end:
                end = leave_start
                if break_ and break_[0] < end <= break_[1]:
                    end = break_[0]
            if start >= end:
                return
        punches = [p for p in punches
            if start - WINDOW_BEFORE <= p <= end + WINDOW_AFTER]
        minutes = lambda delta: int(delta.total_seconds() // 60)  # noqa
        if not punches:
            yield 'absent', minutes(end - start)
            return
        if len(punches) == 1:
            yield 'missing', 0
            punch, = punches
            middle = start + (end - start) / 2
            if punch < middle:
                if punch > start + grace and schedule.kind != 'flexible':
                    yield 'late', minutes(punch - start)
            elif punch < end - grace:
                yield 'early', minutes(end - punch)
            return
        arrival, departure = punches[0], punches[-1]
        if schedule.kind == 'flexible':
            latest = dt.datetime.combine(start.date(), schedule.latest_start)
            if arrival > latest + grace:
                yield 'late', minutes(arrival - latest)
            due = max(end, min(arrival, latest) + schedule.duration) \
                if arrival > start else end
            if departure < due - grace:
                yield 'early', minutes(due - departure)
            return
        if arrival > start + grace:
            yield 'late', minutes(arrival - start)
        if departure < end - grace:
            yield 'early', minutes(end - departure)

    @classmethod
    def notify_day(cls, company, date):
        """One summary of the day to HR, and each employee his own
        anomalies; never twice"""
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        anomalies = cls.search([
                ('company', '=', company.id),
                ('date', '=', date),
                ('state', '=', 'open'),
                ])
        counts = defaultdict(int)
        for anomaly in anomalies:
            counts[anomaly.kind] += 1
        hr = User.users_in_group('office_admin.group_hr')
        Notification.send([company], hr,
            'office_admin.msg_attendance_daily_summary',
            key='attendance-summary-%s' % date.isoformat(),
            date=date.isoformat(), late=counts['late'],
            early=counts['early'], missing=counts['missing'],
            absent=counts['absent'], chat=False)
        cls.notify_own(anomalies)

    @classmethod
    def notify_own(cls, anomalies):
        "Tell each employee his own anomalies; never twice"
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        by_employee = defaultdict(list)
        for anomaly in anomalies:
            by_employee[anomaly.employee].append(anomaly)
        users = User.users_of_employees(list(by_employee))
        for employee, employee_anomalies in by_employee.items():
            user = users.get(employee.id)
            if user:
                Notification.send(employee_anomalies, [user],
                    'office_admin.msg_attendance_anomaly_own',
                    key='anomaly-told', chat=False)


class Configuration(metaclass=PoolMeta):
    __name__ = 'office.configuration'

    attendance_check_hour = fields.Integer(
        "Attendance Check Hour",
        domain=[['OR',
                ('attendance_check_hour', '=', None),
                [('attendance_check_hour', '>=', 0),
                    ('attendance_check_hour', '<=', 23)],
                ]],
        help="The local hour (company timezone) of the daily attendance "
        "check; it checks the shifts that ended in the 24 hours before.")

    @classmethod
    def default_attendance_check_hour(cls):
        return CHECK_HOUR


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('office.attendance.anomaly|check_yesterday',
                    "Office: Daily Attendance Check"),
                ])



class Correction(
        OfficeAccessMixin, EmployeeRequestMixin, ApprovalMixin, ChatMixin,
        Workflow, ModelSQL, ModelView):
    "Punch correction request (补卡)"
    __name__ = 'office.attendance.correction'
    _approval_summary_fields = ('employee', 'date', 'time', 'type', 'reason')
    _states = REQUEST_STATES

    anomaly = fields.Many2One(
        'office.attendance.anomaly', "Anomaly", states=_states,
        domain=[('employee', '=', Eval('employee', -1))])
    date = fields.Date("Date", required=True, states=_states)
    time = fields.Time("Time", required=True, states=_states)
    type = fields.Selection([
            ('in', "In"),
            ('out', "Out"),
            ], "Type", required=True, readonly=True,
        help="By the employee's schedule, as for every punch.")
    reason = fields.Text("Reason", required=True, states=_states)
    punch = fields.Many2One('attendance.line', "Punch", readonly=True)
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
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_type(cls):
        return 'in'

    @classmethod
    def default_get(cls, fields_names=None, with_rec_name=True, **kwargs):
        "A 补卡 opened from an anomaly is filled from it"
        pool = Pool()
        Anomaly = pool.get('office.attendance.anomaly')
        context = Transaction().context
        anomaly_id = context.get('default_anomaly')
        anomaly = None
        if isinstance(anomaly_id, int) and anomaly_id >= 0:
            # Only an anomaly the user may read fills the form
            anomalies = Anomaly.search([('id', '=', anomaly_id)])
            anomaly = anomalies[0] if anomalies else None
        elif anomaly_id is not None:
            anomaly_id = None
        with Transaction().set_context(
                default_anomaly=anomaly.id if anomaly else None):
            values = super().default_get(
                fields_names, with_rec_name=with_rec_name, **kwargs)
        if not anomaly:
            return values
        filled = anomaly.correction_values()
        filled['employee'] = anomaly.employee
        if anomaly.employee.department:
            filled['department'] = anomaly.employee.department
        for name, value in filled.items():
            if fields_names is not None and name not in fields_names:
                continue
            if name in {'employee', 'department'}:
                if with_rec_name:
                    values[name + '.'] = {'rec_name': value.rec_name}
                value = value.id
            values[name] = value
        return values

    @fields.depends('anomaly', 'employee', 'date', 'time')
    def on_change_anomaly(self):
        if self.anomaly:
            self.employee = self.anomaly.employee
            values = self.anomaly.correction_values()
            self.date = values['date']
            if values.get('time'):
                self.time = values['time']

    @fields.depends('employee', 'date', 'time', 'anomaly', 'type',
        methods=['on_change_anomaly'])
    def on_change_with_type(self):
        if self.anomaly and not (self.employee and self.date):
            self.on_change_anomaly()
        if self.employee and self.date and self.time:
            Line = Pool().get('attendance.line')
            (_, type_), = Line.shifts([(self.employee, self.local_at())])
            return type_
        return self.type or 'in'

    @classmethod
    def preprocess_values(cls, mode, values):
        "The type follows the schedule, as for every punch"
        pool = Pool()
        Employee = pool.get('company.employee')
        Line = pool.get('attendance.line')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('employee') and values.get(
                'date') and values.get('time'):
            (_, values['type']), = Line.shifts([(
                        Employee(values['employee']), dt.datetime.combine(
                            values['date'], values['time']))])
        return values

    @classmethod
    def validate_fields(cls, corrections, field_names):
        super().validate_fields(corrections, field_names)
        if field_names & {'employee', 'date'}:
            cls.check_month_open(corrections)

    @classmethod
    def check_month_open(cls, corrections):
        "No 补卡 is filed for a month whose attendance is locked"
        Month = Pool().get('office.attendance.month')
        drafts = [c for c in corrections if c.state == 'draft']
        if not drafts:
            return
        locked = Month.locked_months({c.employee for c in drafts})
        for correction in drafts:
            month = correction.date.replace(day=1)
            if (correction.employee.id, month) in locked:
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_correction_locked',
                        month=month.strftime('%Y-%m')))

    @classmethod
    def on_modification(cls, mode, corrections, field_names=None):
        super().on_modification(mode, corrections, field_names=field_names)
        if mode == 'write' and field_names & {'employee', 'date', 'time'}:
            Line = Pool().get('attendance.line')
            to_write = []
            shifts = Line.shifts(
                [(c.employee, c.local_at()) for c in corrections])
            for correction, (_, type_) in zip(corrections, shifts):
                if correction.type != type_:
                    to_write.extend([[correction], {'type': type_}])
            if to_write:
                with without_check_access():
                    cls.write(*to_write)

    def get_rec_name(self, name):
        return '%s %s %s' % (
            self.employee.rec_name if self.employee else '',
            self.date or '', self.time or '')

    def local_at(self):
        return dt.datetime.combine(self.date, self.time)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, corrections):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, corrections):
        pool = Pool()
        Month = pool.get('office.attendance.month')
        Calendar = pool.get('office.calendar')
        for correction in corrections:
            timezone = Calendar.get_timezone(correction.company)
            month = correction.date.replace(day=1)
            if (correction.employee.id, month) in Month.locked_months(
                    [correction.employee]):
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_row_locked',
                        month=month.strftime('%Y-%m')))
            if _utc(correction.local_at(), timezone) > (
                    calendar_.utcnow() + FUTURE_TOLERANCE):
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_row_future',
                        value=correction.local_at()))
            start_date = correction.employee.start_date
            if start_date and correction.date < start_date:
                raise AttendanceError(gettext(
                        'office_admin.msg_attendance_row_before_start',
                        value=correction.local_at(),
                        date=start_date.isoformat()))
            correction.state = 'submitted'
        cls.save(corrections)
        cls.approval_submit(corrections)

    @classmethod
    def _approval_on_approved(cls, corrections):
        "Record the punch (which checks its day again, see Line.create)"
        pool = Pool()
        Line = pool.get('attendance.line')
        Calendar = pool.get('office.calendar')
        with without_check_access():
            for correction in corrections:
                timezone = Calendar.get_timezone(correction.company)
                punch, = Line.create([{
                            'company': correction.company.id,
                            'employee': correction.employee.id,
                            'at': _utc(correction.local_at(), timezone),
                            'date': correction.date,
                            'type': correction.type,
                            'method': 'correction',
                            'device': 'correction',
                            }])
                cls.write([correction], {'punch': punch.id})
