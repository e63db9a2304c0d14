# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Overtime (加班) requested and approved through the engine; approved
overtime compensated by time off earns compensatory leave (调休假), spent
as leave of that type (see leave.Allowance for the balance)."""
import datetime as dt
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import without_check_access

from .access import OfficeAccessMixin
from .approval import ApprovalMixin
from .common import REQUEST_STATES, EmployeeRequestMixin
from .exceptions import AttendanceError


class Overtime(
        OfficeAccessMixin, EmployeeRequestMixin, ApprovalMixin, ChatMixin,
        Workflow, ModelSQL, ModelView):
    "Overtime"
    __name__ = 'office.attendance.overtime'
    _approval_summary_fields = (
        'employee', 'start', 'end', 'hours', 'rest_day', 'compensation',
        'reason')
    _approval_amount_field = 'hours'
    _states = REQUEST_STATES

    start = fields.DateTime("Start", required=True, states=_states)
    end = fields.DateTime("End", required=True, states=_states)
    hours = fields.Numeric("Hours", digits=(16, 2), readonly=True)
    rest_day = fields.Boolean(
        "On a Rest Day", readonly=True,
        help="The overtime starts on a day off of the company calendar.")
    compensation = fields.Selection([
            ('leave', "Compensatory Leave (调休)"),
            ('pay', "Overtime Pay"),
            ], "Compensation", required=True, states=_states, sort=False)
    reason = fields.Text("Reason", required=True, states=_states)
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
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'cancel': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_compensation(cls):
        return 'leave'

    def get_rec_name(self, name):
        return '%s %s' % (
            self.employee.rec_name if self.employee else '',
            self.start.date() if self.start else '')

    @classmethod
    def validate_fields(cls, overtimes, field_names):
        super().validate_fields(overtimes, field_names)
        if field_names & {'start', 'end', 'employee', 'state'}:
            cls.check_dates(overtimes)

    @classmethod
    def check_dates(cls, overtimes):
        for overtime in overtimes:
            if overtime.end <= overtime.start:
                raise AttendanceError(gettext(
                        'office_admin.msg_overtime_end_before_start',
                        overtime=overtime.rec_name))
        with without_check_access():
            for overtime in overtimes:
                if overtime.state in {'cancelled', 'rejected'}:
                    continue
                others = cls.search([
                        ('id', '!=', overtime.id),
                        ('employee', '=', overtime.employee.id),
                        ('state', 'not in', ['cancelled', 'rejected']),
                        ('start', '<', overtime.end),
                        ('end', '>', overtime.start),
                        ], limit=1)
                if others:
                    raise AttendanceError(gettext(
                            'office_admin.msg_overtime_overlap',
                            overtime=overtime.rec_name,
                            other=others[0].rec_name))

    @classmethod
    def on_modification(cls, mode, overtimes, field_names=None):
        super().on_modification(mode, overtimes, field_names=field_names)
        if mode == 'create' or (field_names and field_names & {
                    'start', 'end', 'company'}):
            Calendar = Pool().get('office.calendar')
            to_write = []
            for overtime in overtimes:
                hours = Decimal(
                    (overtime.end - overtime.start).total_seconds() / 3600
                    ).quantize(Decimal('0.01'))
                timezone = Calendar.get_timezone(overtime.company)
                local = overtime.start.replace(
                    tzinfo=dt.timezone.utc).astimezone(timezone)
                calendar = Calendar.get_calendar(overtime.company)
                rest_day = not calendar.is_working_day(local.date())
                if (overtime.hours, overtime.rest_day) != (hours, rest_day):
                    to_write.extend([[overtime], {
                                'hours': hours, 'rest_day': rest_day}])
            if to_write:
                with without_check_access():
                    cls.write(*to_write)

    @classmethod
    def check_modification(cls, mode, overtimes, values=None, external=False):
        super().check_modification(
            mode, overtimes, values=values, external=external)
        if mode == 'delete':
            for overtime in overtimes:
                if overtime.state in {'submitted', 'approved'}:
                    raise AttendanceError(gettext(
                            'office_admin.msg_overtime_delete_approved',
                            overtime=overtime.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, overtimes):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, overtimes):
        for overtime in overtimes:
            overtime.state = 'submitted'
        cls.save(overtimes)
        cls.approval_submit(overtimes)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, overtimes):
        pass

    @classmethod
    def compensatory_hours(cls, employee, year):
        "Return the hours of approved overtime compensated by time off"
        with without_check_access():
            overtimes = cls.search([
                    ('employee', '=', employee.id),
                    ('state', '=', 'approved'),
                    ('compensation', '=', 'leave'),
                    ('start', '>=', dt.datetime(year, 1, 1)),
                    ('start', '<', dt.datetime(year + 1, 1, 1)),
                    ])
        return sum((o.hours or 0 for o in overtimes), Decimal(0))
