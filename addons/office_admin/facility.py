# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Facilities (设施) the office looks after: air conditioners, water
dispensers, projectors, laboratory equipment… with their category (which
sets the repair deadlines), location and responsible team, and a sheet of
QR labels: scanning one opens the facility in the web client, where
"Report a Fault" starts a repair (repair.py)."""
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.report import Report
from trytond.transaction import Transaction

from .access import OfficeAccessMixin

URGENCIES = [
    ('normal', "Normal"),
    ('urgent', "Urgent"),
    ('critical', "Critical"),
    ]


class Category(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    "Facility category"
    __name__ = 'office.facility.category'

    name = fields.Char("Name", required=True, translate=True)
    round_the_clock = fields.Boolean(
        "Round the Clock",
        help="Faults are handled day and night (laboratories): escalation "
        "runs in clock hours too (the head after 24 hours, the office "
        "after 48); otherwise the next levels come on working days.")
    deadlines = fields.One2Many(
        'office.facility.category.deadline', 'category', "Deadlines",
        help="Response and resolution times per urgency, in clock hours; "
        "an urgency without a line takes the office configuration's.")

    @classmethod
    def default_round_the_clock(cls):
        return False

    def get_hours(self, urgency):
        """Return (response hours, resolution hours) for the urgency; the
        configuration's for an urgency without a line"""
        pool = Pool()
        Config = pool.get('office.configuration')
        for line in self.deadlines:
            if line.urgency == urgency:
                return line.response_hours, line.resolution_hours
        config = Config(1)
        return (config.get_setting('repair_response_hours'),
            config.get_setting('repair_resolution_hours'))


class CategoryDeadline(OfficeAccessMixin, ModelSQL, ModelView):
    "Facility category deadline"
    __name__ = 'office.facility.category.deadline'

    category = fields.Many2One(
        'office.facility.category', "Category", required=True,
        ondelete='CASCADE')
    urgency = fields.Selection(URGENCIES, "Urgency", required=True)
    response_hours = fields.Integer(
        "Response (hours)", required=True,
        domain=[('response_hours', '>', 0)],
        help="Clock hours from the report to the acknowledgement.")
    resolution_hours = fields.Integer(
        "Resolution (hours)", required=True,
        domain=[('resolution_hours', '>=', Eval('response_hours', 0))],
        help="Clock hours from the report to the resolution.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('category_urgency_unique', Unique(t, t.category, t.urgency),
                'office_admin.msg_facility_category_urgency_unique'),
            ]


class Facility(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    "Facility"
    __name__ = 'office.facility'

    company = fields.Many2One('company.company', "Company", required=True)
    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True)
    category = fields.Many2One(
        'office.facility.category', "Category", required=True)
    building = fields.Char("Building")
    floor = fields.Char("Floor")
    room = fields.Char("Room")
    meeting_room = fields.Many2One(
        'office.meeting.room', "Meeting Room",
        domain=[('company', '=', Eval('company', -1))],
        help="When the facility is in a meeting room.")
    team = fields.Many2One(
        'office.department', "Responsible Team",
        domain=[('company', '=', Eval('company', -1))],
        help="The department whose members repair the facility's faults.")
    location = fields.Function(fields.Char("Location"), 'get_location')
    url = fields.Function(fields.Char("Web Address"), 'get_url')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('company_code_unique', Unique(t, t.company, t.code),
                'office_admin.msg_facility_code_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.category, Index.Range())))
        cls._order = [('code', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'report_fault': {
                    'invisible': ~Eval('active', True),
                    'depends': ['active'],
                    'icon': 'tryton-warning',
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('meeting_room', 'room')
    def on_change_meeting_room(self):
        if self.meeting_room and not self.room:
            self.room = self.meeting_room.rec_name

    def get_rec_name(self, name):
        return '[%s] %s' % (self.code, self.name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('code',) + tuple(clause[1:]),
            ('name',) + tuple(clause[1:]),
            ]

    def location_text(self):
        parts = [self.building, self.floor, self.room]
        if self.meeting_room and not self.room:
            parts.append(self.meeting_room.rec_name)
        return ' / '.join(p for p in parts if p)

    def get_location(self, name):
        return self.location_text()

    def get_url(self, name):
        "The web client's address of the facility (what its QR label holds)"
        return self.__href__

    def qr_svg_uri(self):
        "Return the QR code of the facility's address as an SVG data URI"
        import segno
        return segno.make(self.__href__, error='m').svg_data_uri(scale=4)

    @classmethod
    @ModelView.button_action('office_admin.act_repair_report')
    def report_fault(cls, facilities):
        "Open a new repair of the facility (one tap from its QR label)"
        facility = facilities[0] if facilities else None
        if not facility:
            return
        return {
            'pyson_context': PYSONEncoder().encode({
                    'default_facility': facility.id,
                    }),
            }


class LabelReport(Report):
    "Sheet of QR labels of facilities"
    __name__ = 'office.facility.label'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['labels'] = {
            'report': gettext('office_admin.msg_facility_label_report'),
            }
        return context
