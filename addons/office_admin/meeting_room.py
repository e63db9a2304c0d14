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
    lines = fields.One2Many(
        'office.meeting.find_room.line', None, "Free Rooms",
        help="Click the room to book.")
    busy = fields.Many2Many(
        'company.employee', None, None, "Attendees Already Busy",
        readonly=True)
    room = fields.Many2One(
        'office.meeting.room', "Room to Book", readonly=True,
        domain=[('id', 'in', Eval('rooms', []))])
    topic = fields.Char("Topic", states={
            'required': Bool(Eval('room')),
            })

    @fields.depends('lines')
    def on_change_with_room(self):
        "The room of the one ticked row"
        ticked = [line.room for line in self.lines or []
            if line.selected and line.room]
        return ticked[0].id if len(ticked) == 1 else None


class FindRoomLine(ModelView):
    __name__ = 'office.meeting.find_room.line'
    selected = fields.Boolean("Book")
    room = fields.Many2One('office.meeting.room', "Room", readonly=True)
    location = fields.Char("Location", readonly=True)
    capacity = fields.Integer("Seats", readonly=True)
    equipment = fields.Char("Equipment", readonly=True)
    needs_approval = fields.Boolean("Needs Approval", readonly=True)


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
            Button("Back", 'start', 'tryton-back', validate=False),
            Button("Close", 'end', 'tryton-close'),
            Button("Book and Submit", 'book', 'tryton-ok', default=True),
            ])
    book = StateAction('office_admin.act_meeting')

    def transition_search(self):
        pool = Pool()
        Meeting = pool.get('office.meeting')
        start = self.start.start
        end = start + self.start.duration
        seats = max(self.start.seats or 0, len(self.start.attendees))
        rooms = Meeting.free_rooms(
            start, end, seats, self.start.equipment or [],
            company=Transaction().context.get('company'))
        if not rooms:
            raise MeetingError(gettext(
                    'office_admin.msg_meeting_no_free_room'))
        self.result.rooms = rooms
        self.result.busy = Meeting.busy_employees(
            start, end, self.start.attendees)
        return 'result'

    def default_result(self, fields):
        pool = Pool()
        Start = pool.get('office.meeting.find_room.start')
        names = dict(Start.fields_get(['equipment'])['equipment']['selection'])
        lines = []
        for room in self.result.rooms:
            lines.append({
                    'selected': False,
                    'room': room.id,
                    'room.': {'rec_name': room.rec_name},
                    'location': room.location,
                    'capacity': room.capacity,
                    'equipment': '、'.join(sorted(
                            names.get(t, t) for t in room.equipment_types())),
                    'needs_approval': room.needs_approval,
                    })
        return {
            'rooms': [r.id for r in self.result.rooms],
            'lines': lines,
            'busy': [e.id for e in self.result.busy],
            'room': None,
            'topic': getattr(self.result, 'topic', None),
            }

    def do_book(self, action):
        """Book the room of the ticked row and submit the meeting in the
        same step (a room that needs approval waits for it)"""
        pool = Pool()
        Meeting = pool.get('office.meeting')
        Attendee = pool.get('office.meeting.attendee')
        ticked = [line.room for line in self.result.lines
            if line.selected and line.room]
        room = ticked[0] if len(ticked) == 1 else None
        if not room or room not in self.result.rooms:
            raise MeetingError(gettext('office_admin.msg_meeting_pick_room'))
        if not self.result.topic:
            raise MeetingError(gettext('office_admin.msg_meeting_topic'))
        meeting = Meeting(
            topic=self.result.topic, room=room,
            start=self.start.start,
            end=self.start.start + self.start.duration,
            equipment_needed=self.start.equipment or [])
        meeting.attendees = [Attendee(employee=e)
            for e in self.start.attendees]
        meeting.save()
        Meeting.request([meeting])
        action['res_id'] = [meeting.id]
        action['views'].reverse()
        return action, {}
