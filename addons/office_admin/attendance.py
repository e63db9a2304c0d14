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

from sql import Column

import trytond.config as config
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.model import (
    ChatMixin, DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow,
    fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .access import OfficeAccessMixin, related_field
from . import calendar_
from .approval import ApprovalMixin
from .common import context_department
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
    "Naive UTC datetime -> naive local datetime"
    return at.replace(tzinfo=dt.timezone.utc).astimezone(timezone).replace(
        tzinfo=None)


def _utc(local, timezone):
    "Naive local datetime -> naive UTC datetime"
    return local.replace(tzinfo=timezone).astimezone(
        dt.timezone.utc).replace(tzinfo=None)


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
    def create(cls, vlist):
        cls.check_punch_editor()
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        cls.check_punch_editor()
        super().write(*args)

    @classmethod
    def delete(cls, lines):
        cls.check_punch_editor()
        super().delete(lines)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        Month = Pool().get('office.attendance.month')
        Month.check_unlocked(lines)

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        Month = Pool().get('office.attendance.month')
        Month.check_unlocked(lines)

    @classmethod
    def punch_type(cls, employee_schedule, local_at):
        """Return 'in' or 'out' for a punch at local_at by the schedule:
        before the middle of the shift it belongs to it is a check-in"""
        if not employee_schedule:
            return 'in' if local_at.time() < dt.time(12) else 'out'
        for date in [local_at.date(), local_at.date() - dt.timedelta(days=1)]:
            start, end = employee_schedule.period(date)
            if start - WINDOW_BEFORE <= local_at <= end + WINDOW_AFTER:
                return 'in' if local_at < start + (end - start) / 2 else 'out'
        return 'in' if local_at.time() < dt.time(12) else 'out'

    @classmethod
    def intake(cls, rows, company, source='device'):
        """Store the punches of rows (dicts with employee, timestamp, device,
        method); return {'stored': [...], 'duplicates': [...], 'refused':
        [{'row': i, 'reason': text}]}. A refused row never stops the
        others; a punch already stored (same employee, same instant) is
        reported as a duplicate and stored once."""
        pool = Pool()
        Employee = pool.get('company.employee')
        Assignment = pool.get('office.attendance.schedule.assignment')
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
        to_create, seen = [], set()
        schedules_by_date = {}
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
            month = local.date().replace(day=1)
            if (employee.id, month) in locked:
                refuse(i, 'row_locked', month=month.strftime('%Y-%m'))
                continue
            date = local.date()
            if date not in schedules_by_date:
                schedules_by_date[date] = {}
            cache = schedules_by_date[date]
            if employee.id not in cache:
                cache.update(Assignment.schedules([employee], date))
                cache.setdefault(employee.id, None)
            seen.add(key)
            to_create.append((i, {
                        'company': company.id,
                        'employee': employee.id,
                        'at': at,
                        'date': date,
                        'type': cls.punch_type(cache[employee.id], local),
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


class SheetDepartmentMixin:
    """The employee's department on Tryton's attendance sheets, so that a
    head's rule reads a column of the sheet itself (no dotted leaf)"""
    __slots__ = ()
    department = fields.Many2One('office.department', "Department")

    @classmethod
    def table_query(cls):
        pool = Pool()
        Employee = pool.get('company.employee')
        employee = Employee.__table__()
        query = super().table_query()
        columns = [Column(query, c.output_name) for c in query.columns]
        return query.join(employee, 'LEFT',
            condition=Column(query, 'employee') == employee.id
            ).select(*columns, employee.department.as_('department'))


class SheetLine(SheetDepartmentMixin, OfficeAccessMixin, metaclass=PoolMeta):
    __name__ = 'attendance.sheet.line'


class Sheet(SheetDepartmentMixin, OfficeAccessMixin, metaclass=PoolMeta):
    __name__ = 'attendance.sheet'


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
                })

    @classmethod
    def default_state(cls):
        return 'open'

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
    def check_yesterday(cls):
        "Scheduled: check the previous day of each company"
        pool = Pool()
        Calendar = pool.get('office.calendar')
        timezone = Calendar.get_timezone()
        today = _local(calendar_.utcnow(), timezone).date()
        return cls.check_day(today - dt.timedelta(days=1))

    @classmethod
    def check_day(cls, date, employees=None):
        """Compute the anomalies of date for the employees (all of the
        company by default), in batches; idempotent: open anomalies that no
        longer apply are removed, explained ones are kept. Return the
        {kind: count} of the day."""
        pool = Pool()
        Employee = pool.get('company.employee')
        Company = pool.get('company.company')
        company_id = Transaction().context.get('company')
        if not company_id:
            return {}
        company = Company(company_id)
        if employees is None:
            with without_check_access():
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
        with without_check_access():
            for sub in grouped_slice(employees, BATCH):
                for kind, count in cls._check_batch(
                        company, date, list(sub)).items():
                    counts[kind] += count
        cls.notify_day(company, date)
        return dict(counts)

    @classmethod
    def _check_batch(cls, company, date, employees):
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
        for employee in employees:
            schedule = schedules.get(employee.id)
            if not schedule:
                continue
            if schedule.working_days == 'calendar' and not working_day:
                continue
            start, end = schedule.period(date)
            periods[employee.id] = (schedule, start, end)
        # Punches and leaves of the batch in two queries
        punches = defaultdict(list)
        leaves = defaultdict(list)
        if periods:
            first = min(s for _, s, _ in periods.values()) - WINDOW_BEFORE
            last = max(e for _, _, e in periods.values()) + WINDOW_AFTER
            ids = list(periods)
            for line in Line.search([
                        ('employee', 'in', ids),
                        ('at', '>=', _utc(first, timezone)),
                        ('at', '<=', _utc(last, timezone)),
                        ], order=[('at', 'ASC')]):
                punches[line.employee.id].append(_local(line.at, timezone))
            for leave in Leave.search([
                        ('employee', 'in', ids),
                        ('state', '=', 'approved'),
                        ('start', '<', _utc(last, timezone)),
                        ('end', '>', _utc(first, timezone)),
                        ]):
                leaves[leave.employee.id].append((
                        _local(leave.start, timezone),
                        _local(leave.end, timezone)))
        wanted = {}
        for employee_id, (schedule, start, end) in periods.items():
            for kind, minutes in cls._day_anomalies(
                    schedule, start, end, punches[employee_id],
                    leaves[employee_id]):
                wanted[(employee_id, kind)] = minutes
        departments = {e.id: e.department for e in employees}
        existing = {(a.employee.id, a.kind): a for a in cls.search([
                    ('employee', 'in', [e.id for e in employees]),
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
        if to_create:
            cls.create(to_create)
        if to_write:
            cls.write(*to_write)
        counts = defaultdict(int)
        for _, kind in wanted:
            counts[kind] += 1
        return counts

    @classmethod
    def _day_anomalies(cls, schedule, start, end, punches, leaves):
        """Yield (kind, minutes) for one employee and one shift; start, end,
        punches and leaves are local datetimes"""
        grace = dt.timedelta(minutes=schedule.grace_minutes or 0)
        # The part of the shift not on leave
        for leave_start, leave_end in sorted(leaves):
            if leave_start <= start and leave_end >= end:
                return
            if leave_start <= start < leave_end:
                start = leave_end
            if leave_start < end <= leave_end:
                end = leave_start
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
        OfficeAccessMixin, ApprovalMixin, ChatMixin, Workflow, ModelSQL,
        ModelView):
    "Punch correction request (补卡)"
    __name__ = 'office.attendance.correction'
    _workflow_own_fields = {'employee', 'department'}
    _approval_transitions = {
        'approved': 'approved',
        'rejected': 'rejected',
        'returned': 'draft',
        'withdrawn': 'draft',
        }
    _states = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states)
    anomaly = fields.Many2One(
        'office.attendance.anomaly', "Anomaly", states=_states,
        domain=[('employee', '=', Eval('employee', -1))])
    date = fields.Date("Date", required=True, states=_states)
    time = fields.Time("Time", required=True, states=_states)
    type = fields.Selection([
            ('in', "In"),
            ('out', "Out"),
            ], "Type", required=True, states=_states)
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
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'draft'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('rejected', 'draft'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': Eval('state') != 'rejected',
                    'depends': ['state'],
                    },
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_employee(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_department(cls):
        return context_department()

    @classmethod
    def default_type(cls):
        return 'in'

    @fields.depends('anomaly', 'employee', 'date', 'type')
    def on_change_anomaly(self):
        if self.anomaly:
            self.employee = self.anomaly.employee
            self.date = self.anomaly.date
            if self.anomaly.kind == 'early':
                self.type = 'out'

    @fields.depends('employee')
    def on_change_employee(self):
        if self.employee and self.employee.department:
            self.department = self.employee.department

    def get_rec_name(self, name):
        return '%s %s %s' % (
            self.employee.rec_name if self.employee else '',
            self.date or '', self.time or '')

    def approval_requester_employee(self):
        return self.employee

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
            correction.state = 'submitted'
        cls.save(corrections)
        cls.approval_submit(corrections)

    @classmethod
    def _approval_on_approved(cls, corrections):
        "Record the punch and check the day again"
        pool = Pool()
        Line = pool.get('attendance.line')
        Anomaly = pool.get('office.attendance.anomaly')
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
                with Transaction().set_context(
                        company=correction.company.id):
                    Anomaly.check_day(
                        correction.date, employees=[correction.employee])
