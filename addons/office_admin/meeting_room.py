# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Meeting rooms and equipment (会议室与设备): seats, bookable hours,
fixed and movable equipment, and the wizard that finds a free room."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction
from trytond.wizard import (
    Button, StateAction, StateTransition, StateView, Wizard)

from .access import OfficeAccessMixin
from .exceptions import MeetingError

EQUIPMENT_TYPES = [
    ('projector', "Projector"),
    ('screen', "Screen"),
    ('video_conference', "Video Conference Set"),
    ('microphone', "Microphones"),
    ('laptop', "Laptop"),
    ('other', "Other"),
    ]


class Room(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'office.meeting.room'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code")
    company = fields.Many2One('company.company', "Company", required=True)
    location = fields.Char("Location")
    capacity = fields.Integer(
        "Seats", required=True, domain=[('capacity', '>', 0)])
    equipment = fields.One2Many(
        'office.equipment', 'room', "Fixed Equipment")
    needs_approval = fields.Boolean(
        "Needs Approval",
        help="Bookings wait for the approval engine; others are confirmed "
        "at once.")
    open_from = fields.Time("Bookable From", required=True)
    open_to = fields.Time("Bookable To", required=True)
    groups = fields.Many2Many(
        'office.meeting.room-res.group', 'room', 'group', "Allowed Groups",
        help="Leave empty to let every employee book the room.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_open_from(cls):
        return dt.time(8, 0)

    @classmethod
    def default_open_to(cls):
        return dt.time(20, 0)

    @classmethod
    def validate_fields(cls, rooms, field_names):
        super().validate_fields(rooms, field_names)
        for room in rooms:
            if room.open_from >= room.open_to:
                raise MeetingError(gettext(
                        'office_admin.msg_room_hours_invalid',
                        room=room.rec_name))

    def equipment_types(self):
        return {e.type for e in self.equipment if e.active}


class RoomGroup(OfficeAccessMixin, ModelSQL):
    __name__ = 'office.meeting.room-res.group'
    room = fields.Many2One(
        'office.meeting.room', "Room", required=True, ondelete='CASCADE')
    group = fields.Many2One(
        'res.group', "Group", required=True, ondelete='CASCADE')


class Equipment(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'office.equipment'

    name = fields.Char("Name", required=True)
    code = fields.Char("Code")
    company = fields.Many2One('company.company', "Company", required=True)
    type = fields.Selection(EQUIPMENT_TYPES, "Type", required=True)
    room = fields.Many2One(
        'office.meeting.room', "Room", ondelete='SET NULL',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'invisible': Bool(Eval('movable')),
            },
        help="The room the equipment is fixed in.")
    movable = fields.Boolean(
        "Movable", help="Movable equipment is booked with the meeting.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class FindRoomStart(ModelView):
    __name__ = 'office.meeting.find_room.start'
    start = fields.DateTime("Start", required=True)
    duration = fields.TimeDelta("Duration", required=True)
    attendees = fields.Many2Many(
        'company.employee', None, None, "Attendees")
    seats = fields.Integer("Seats")
    equipment = fields.MultiSelection(EQUIPMENT_TYPES, "Equipment")


class FindRoomResult(ModelView):
    __name__ = 'office.meeting.find_room.result'
    rooms = fields.Many2Many(
        'office.meeting.room', None, None, "Free Rooms", readonly=True)
    busy = fields.Many2Many(
        'company.employee', None, None, "Attendees Already Busy",
        readonly=True)
    room = fields.Many2One(
        'office.meeting.room', "Book",
        domain=[('id', 'in', Eval('rooms', []))])
    topic = fields.Char("Topic", states={
            'required': Bool(Eval('room')),
            })


class FindRoom(Wizard):
    "Find a room (找会议室): free rooms with seats and equipment"
    __name__ = 'office.meeting.find_room'
    start = StateView(
        'office.meeting.find_room.start',
        'office_admin.meeting_find_room_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Search", 'search', 'tryton-search', default=True),
            ])
    search = StateTransition()
    result = StateView(
        'office.meeting.find_room.result',
        'office_admin.meeting_find_room_result_view_form', [
            Button("Back", 'start', 'tryton-back'),
            Button("Close", 'end', 'tryton-close'),
            Button("Book", 'book', 'tryton-ok', default=True),
            ])
    book = StateAction('office_admin.act_meeting')

    def transition_search(self):
        pool = Pool()
        Meeting = pool.get('office.meeting')
        start = self.start.start
        end = start + self.start.duration
        seats = max(self.start.seats or 0, len(self.start.attendees))
        self.result.rooms = Meeting.free_rooms(
            start, end, seats, self.start.equipment or [],
            company=Transaction().context.get('company'))
        self.result.busy = Meeting.busy_employees(
            start, end, self.start.attendees)
        return 'result'

    def default_result(self, fields):
        return {
            'rooms': [r.id for r in self.result.rooms],
            'busy': [e.id for e in self.result.busy],
            }

    def do_book(self, action):
        pool = Pool()
        Meeting = pool.get('office.meeting')
        Attendee = pool.get('office.meeting.attendee')
        if not self.result.room:
            return None
        meeting = Meeting(
            topic=self.result.topic, room=self.result.room,
            start=self.start.start,
            end=self.start.start + self.start.duration,
            equipment_needed=self.start.equipment or [])
        meeting.attendees = [Attendee(employee=e)
            for e in self.start.attendees]
        meeting.save()
        action['res_id'] = [meeting.id]
        action['views'].reverse()
        return action, {}
