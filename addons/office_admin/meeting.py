# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Meetings (会议): booked in rooms and with equipment that can never be
double-booked, approval, notices with iCalendar invitations, reminders and
equipment checks.  Rooms and equipment are in meeting_room.py, minutes in
meeting_minutes.py."""
import datetime as dt
import uuid

from sql import Null
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Exclude, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.sql.functions import TSRange
from trytond.sql.operators import RangeOverlap
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, check_access, without_check_access)

from .access import OfficeAccessMixin, related_field
from . import calendar_
from .approval import ApprovalMixin
from .common import context_department
from .deadline import DeadlineMixin
from .distribution import DistributionMixin
from .exceptions import MeetingError, MeetingWarning
from .meeting_room import EQUIPMENT_TYPES

# States in which a meeting holds its room and equipment
HOLDING = ['requested', 'confirmed', 'held', 'minutes_done', 'archived']
# The equipment is checked this long before the start
CHECK_BEFORE = dt.timedelta(hours=1)


class Meeting(OfficeAccessMixin,
        DeadlineMixin, DistributionMixin, ApprovalMixin, ChatMixin, Workflow,
        ModelSQL, ModelView):
    __name__ = 'office.meeting'
    _approval_summary_fields = (
        'topic', 'category', 'start', 'end', 'room', 'online', 'agenda')
    # For the record rules (see access.py)
    attendee_employees = related_field('attendees.employee', fields.Many2Many(
            'company.employee', None, None, "Attendee Employees"))
    _rec_name = 'topic'
    _states = {
        'readonly': ~Eval('state').in_(['draft']),
        }
    # What a confirmed meeting may still change (attendees get an update)
    _reschedule_states = {
        'readonly': ~Eval('state').in_(['draft', 'confirmed']),
        }

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    topic = fields.Char("Topic", required=True, states=_reschedule_states)
    category = fields.Char(
        "Archive Topic",
        help="Meetings are archived by this topic, "
        "e.g. \"Weekly department liaison\".")
    agenda = fields.Text("Agenda", states=_states)
    organiser = fields.Many2One(
        'company.employee', "Organiser", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states)
    start = fields.DateTime("Start", required=True, states=_reschedule_states)
    end = fields.DateTime(
        "End", required=True, states=_reschedule_states,
        domain=[If(Eval('start') & Eval('end'),
                ('end', '>', Eval('start')), ())])
    online = fields.Boolean("Online", states=_states)
    online_url = fields.Char(
        "Online Link", states={
            'invisible': ~Eval('online'),
            'readonly': _states['readonly'],
            })
    room = fields.Many2One(
        'office.meeting.room', "Room", states={
            'readonly': _reschedule_states['readonly'],
            'required': ~Eval('online'),
            },
        domain=[('company', '=', Eval('company', -1))])
    attendees = fields.One2Many(
        'office.meeting.attendee', 'meeting', "Attendees",
        states={
            'readonly': ~Eval('state').in_(['draft', 'held']),
            })
    equipment_needed = fields.MultiSelection(
        EQUIPMENT_TYPES, "Equipment Needed", states=_states,
        help="What the meeting needs; the room's fixed equipment counts.")
    equipment = fields.One2Many(
        'office.meeting.equipment', 'meeting', "Movable Equipment",
        states=_states)
    series = fields.Many2One(
        'office.meeting', "Series", readonly=True, ondelete='SET NULL',
        help="The first meeting of a recurring series.")
    recurrence = fields.Selection([
            (None, "Once"),
            ('daily', "Every Working Day"),
            ('weekly', "Every Week"),
            ('biweekly', "Every Two Weeks"),
            ('monthly', "Every Month"),
            ], "Repeat", states=_states)
    occurrences = fields.Integer(
        "Occurrences", states={
            'invisible': ~Eval('recurrence'),
            'readonly': _states['readonly'],
            },
        domain=[If(Bool(Eval('recurrence')),
                [('occurrences', '>=', 2), ('occurrences', '<=', 52)], [])])
    state = fields.Selection([
            ('draft', "Draft"),
            ('requested', "Requested"),
            ('confirmed', "Confirmed"),
            ('held', "Held"),
            ('minutes_done', "Minutes Done"),
            ('archived', "Archived"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    uid = fields.Char("Calendar UID", readonly=True)
    sequence = fields.Integer(
        "Invitation Sequence", readonly=True,
        help="Increases with every update sent to the attendees.")
    reminder_sent = fields.Boolean("Reminder Sent", readonly=True)
    check_task = fields.Many2One(
        'office.task', "Equipment Check", readonly=True, ondelete='SET NULL')
    check_state = fields.Function(fields.Selection([
                (None, ""),
                ('open', "To Check"),
                ('done', "Checked"),
                ('cancelled', "Cancelled"),
                ], "Equipment Check State"), 'get_check_state')
    recorder = fields.Many2One(
        'company.employee', "Recorder",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('state').in_(
                ['minutes_done', 'archived', 'cancelled']),
            },
        help="Writes the minutes (会议记录人).")
    cancel_reason = fields.Char(
        "Cancellation Reason", states={
            'invisible': Eval('state') != 'cancelled',
            })

    del _states, _reschedule_states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('room_no_overlap',
                Exclude(t, (t.room, Equal),
                    (TSRange(t.start, t.end, '[)'), RangeOverlap),
                    where=t.state.in_(HOLDING) & (t.room != Null)),
                'office_admin.msg_meeting_room_overlap'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.room, Index.Range()), (t.start, Index.Range()),
                    (t.end, Index.Range())),
                Index(t, (t.start, Index.Range())),
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(['requested', 'confirmed', 'held'])),
                })
        cls._order = [('start', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'requested'),
            ('draft', 'confirmed'),
            ('requested', 'confirmed'),
            ('requested', 'draft'),
            ('requested', 'cancelled'),
            ('confirmed', 'cancelled'),
            ('draft', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'request': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'requested', 'confirmed']),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    'icon': 'tryton-back',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_organiser(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_department(cls):
        return context_department()

    @classmethod
    def default_sequence(cls):
        return 0

    @classmethod
    def default_escalation_level(cls):
        return 0

    @fields.depends('organiser', 'department')
    def on_change_organiser(self):
        if self.organiser and self.organiser.department:
            self.department = self.organiser.department

    @fields.depends('start', 'end')
    def on_change_start(self):
        if self.start and (not self.end or self.end <= self.start):
            self.end = self.start + dt.timedelta(hours=1)

    def local_text(self, value, with_time=True):
        "Return value (naive UTC) as text in the company's timezone"
        return calendar_.format_local(value, self.company, with_time)

    def get_check_state(self, name):
        return self.check_task.state if self.check_task else None

    def get_rec_name(self, name):
        return self.topic

    # ---- validation ------------------------------------------------------

    @classmethod
    def validate_fields(cls, meetings, field_names):
        super().validate_fields(meetings, field_names)
        if field_names & {'start', 'end', 'room', 'state'}:
            cls.check_times(meetings)

    @classmethod
    def check_times(cls, meetings):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        for meeting in meetings:
            if meeting.end <= meeting.start:
                raise MeetingError(gettext(
                        'office_admin.msg_meeting_end_before_start',
                        meeting=meeting.rec_name))
            if meeting.state not in {'draft', 'confirmed'} or not meeting.room:
                continue
            room = meeting.room
            timezone = Calendar.get_timezone(meeting.company)
            start = calendar_.to_local(meeting.start, timezone=timezone)
            end = calendar_.to_local(meeting.end, timezone=timezone)
            if (start.date() != end.date()
                    or start.time() < room.open_from
                    or end.time() > room.open_to):
                raise MeetingError(gettext(
                        'office_admin.msg_meeting_outside_hours',
                        meeting=meeting.rec_name, room=room.rec_name,
                        open_from=room.open_from.strftime('%H:%M'),
                        open_to=room.open_to.strftime('%H:%M')))

    @classmethod
    def check_request(cls, meetings):
        "Checks done when the organiser asks for the meeting"
        pool = Pool()
        Warning = pool.get('res.user.warning')
        User = pool.get('res.user')
        now = calendar_.utcnow()
        groups = set(User.get_groups())
        for meeting in meetings:
            if meeting.start < now:
                raise MeetingError(gettext(
                        'office_admin.msg_meeting_in_past',
                        meeting=meeting.rec_name))
            room = meeting.room
            if room and room.groups and not (
                    groups & {g.id for g in room.groups}):
                raise MeetingError(gettext(
                        'office_admin.msg_meeting_room_not_allowed',
                        meeting=meeting.rec_name, room=room.rec_name))
            if room and len(meeting.attendees) > room.capacity:
                key = Warning.format('meeting_capacity', [meeting])
                if Warning.check(key):
                    raise MeetingWarning(key, gettext(
                            'office_admin.msg_meeting_over_capacity',
                            meeting=meeting.rec_name, room=room.rec_name,
                            attendees=len(meeting.attendees),
                            capacity=room.capacity))
            missing = set(meeting.equipment_needed or []) - (
                (room.equipment_types() if room else set())
                | {e.equipment.type for e in meeting.equipment})
            if missing:
                key = Warning.format('meeting_equipment', [meeting])
                if Warning.check(key):
                    raise MeetingWarning(key, gettext(
                            'office_admin.msg_meeting_equipment_missing',
                            meeting=meeting.rec_name,
                            equipment=', '.join(sorted(missing))))

    @classmethod
    def check_modification(cls, mode, meetings, values=None, external=False):
        super().check_modification(
            mode, meetings, values=values, external=external)
        if mode == 'write' and values and (
                values.keys() & {'start', 'end', 'room'}):
            for meeting in meetings:
                changed = any(
                    values[name] != (getattr(meeting, name).id
                        if name == 'room' and getattr(meeting, name)
                        else getattr(meeting, name))
                    for name in values.keys() & {'start', 'end', 'room'})
                if changed and meeting.state in {
                        'held', 'minutes_done', 'archived'}:
                    raise MeetingError(gettext(
                            'office_admin.msg_meeting_held_time',
                            meeting=meeting.rec_name))
        if mode == 'delete':
            for meeting in meetings:
                if meeting.state not in {'draft', 'cancelled'}:
                    raise MeetingError(gettext(
                            'office_admin.msg_meeting_delete',
                            meeting=meeting.rec_name))

    @classmethod
    def copy(cls, meetings, default=None):
        default = default.copy() if default is not None else {}
        for name in ['uid', 'check_task', 'series', 'deadline',
                'cancel_reason']:
            default.setdefault(name, None)
        default.setdefault('sequence', 0)
        default.setdefault('reminder_sent', False)
        default.setdefault('escalation_level', 0)
        return super().copy(meetings, default=default)

    # ---- workflow --------------------------------------------------------

    @classmethod
    @ModelView.button
    def request(cls, meetings):
        """Ask for the meetings: a room that needs approval is held for
        them while the approval runs, the others are confirmed at once."""
        cls.check_request(meetings)
        cls.check_room_free(meetings)
        meetings = cls._expand_series(meetings)
        to_approve = [m for m in meetings if m.room and m.room.needs_approval]
        to_confirm = [m for m in meetings if m not in to_approve]
        if to_approve:
            cls._to_state(to_approve, 'requested')
            cls.approval_submit(to_approve)
        if to_confirm:
            cls.confirm(to_confirm)

    @classmethod
    @Workflow.transition('requested')
    def _to_requested(cls, meetings):
        pass

    @classmethod
    def _to_state(cls, meetings, state):
        getattr(cls, '_to_%s' % state)(meetings)
        cls._sync_equipment(meetings, state=state)

    @classmethod
    def _expand_series(cls, meetings):
        "Create the occurrences of recurring meetings; return all of them"
        pool = Pool()
        Attendee = pool.get('office.meeting.attendee')
        Calendar = pool.get('office.calendar')
        result = []
        for meeting in meetings:
            result.append(meeting)
            if not meeting.recurrence or meeting.series:
                continue
            calendar = Calendar.get_calendar(meeting.company)
            timezone = Calendar.get_timezone(meeting.company)
            start = calendar_.to_local(meeting.start, timezone=timezone)
            duration = meeting.end - meeting.start
            dates = []
            day = start.date()
            while len(dates) < (meeting.occurrences or 1) - 1:
                if meeting.recurrence == 'daily':
                    day = calendar.next_working_day(day, include=False)
                elif meeting.recurrence == 'weekly':
                    day += dt.timedelta(days=7)
                elif meeting.recurrence == 'biweekly':
                    day += dt.timedelta(days=14)
                else:
                    month = day.month % 12 + 1
                    year = day.year + (day.month == 12)
                    day = day.replace(year=year, month=month, day=min(
                            start.day, 28))
                dates.append(day)
            occurrences = []
            for day in dates:
                begin = calendar_.to_utc(
                    dt.datetime.combine(day, start.time()), timezone=timezone)
                occurrence, = cls.copy([meeting], default={
                        'start': begin,
                        'end': begin + duration,
                        'recurrence': None,
                        'occurrences': None,
                        'attendees': None,
                        'equipment': None,
                        })
                occurrence.series = meeting
                occurrences.append(occurrence)
            cls.save(occurrences)
            for occurrence in occurrences:
                Attendee.copy(list(meeting.attendees),
                    default={'meeting': occurrence.id})
            meeting.series = meeting
            meeting.save()
            result.extend(occurrences)
        return result

    @classmethod
    @Workflow.transition('confirmed')
    def confirm(cls, meetings):
        pool = Pool()
        Task = pool.get('office.task')
        ModelData = pool.get('ir.model.data')
        for meeting in meetings:
            if not meeting.uid:
                meeting.uid = '%s@office-admin' % uuid.uuid4()
            meeting.sequence = (meeting.sequence or 0)
        cls.save(meetings)
        # The transition writes the state after this method
        cls._sync_equipment(meetings, state='confirmed')
        staff = ModelData.get_id('office_admin', 'group_office_staff')
        tasks = []
        for meeting in meetings:
            if meeting.room and (meeting.equipment_needed or meeting.equipment
                    or meeting.room.equipment):
                tasks.append(Task(
                        name=gettext('office_admin.msg_meeting_check_task',
                            meeting=meeting.rec_name),
                        kind='equipment_check', company=meeting.company,
                        owner_group=staff, origin=meeting,
                        department=meeting.department,
                        deadline=meeting.start - CHECK_BEFORE))
        with without_check_access():
            Task.save(tasks)
        for task in tasks:
            meeting = task.origin
            meeting.check_task = task
        cls.save([t.origin for t in tasks])
        cls.send_invitations(meetings, 'REQUEST')

    @classmethod
    def _approval_on_approved(cls, meetings):
        cls.confirm(meetings)

    @classmethod
    def _approval_on_rejected(cls, meetings):
        cls._release(meetings)

    @classmethod
    def _approval_on_returned(cls, meetings):
        cls._release(meetings)

    @classmethod
    def _approval_on_withdrawn(cls, meetings):
        cls._release(meetings)

    @classmethod
    @Workflow.transition('draft')
    def _release(cls, meetings):
        "Give the room back at once"
        cls._sync_equipment(meetings, state='draft')

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, meetings):
        pool = Pool()
        Task = pool.get('office.task')
        confirmed = [m for m in meetings if m.state == 'confirmed']
        requested = [m for m in meetings if m.state == 'requested']
        if requested:
            cls.approval_abandon(requested)
        cls._sync_equipment(meetings, state='cancelled')
        tasks = [m.check_task for m in meetings
            if m.check_task and m.check_task.state == 'open']
        if tasks:
            with without_check_access():
                Task.cancel(tasks)
        if confirmed:
            cls.send_invitations(confirmed, 'CANCEL')

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, meetings):
        pass

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        rescheduled = []
        for meetings, values in zip(actions, actions):
            if values.keys() & {'start', 'end', 'room', 'topic'}:
                rescheduled += [m for m in meetings if m.state == 'confirmed']
            if values.keys() & {'start', 'end', 'room'}:
                cls.check_room_free(
                    [m for m in meetings if m.state in HOLDING], values)
        super().write(*args)
        if rescheduled:
            cls._sync_equipment(rescheduled)
            cls.send_invitations(rescheduled, 'REQUEST')

    @classmethod
    def _sync_equipment(cls, meetings, state=None):
        pool = Pool()
        Line = pool.get('office.meeting.equipment')
        lines = []
        for meeting in meetings:
            holding = (state or meeting.state) in HOLDING
            for line in meeting.equipment:
                line.start = meeting.start
                line.end = meeting.end
                line.holding = holding
                lines.append(line)
        Line.save(lines)

    # ---- notices ---------------------------------------------------------

    def ical(self, method):
        "Return the iCalendar invitation (bytes) for method REQUEST/CANCEL"
        import icalendar
        pool = Pool()
        User = pool.get('res.user')
        calendar = icalendar.Calendar()
        calendar.add('prodid', '-//office_admin//Tryton//ZH')
        calendar.add('version', '2.0')
        calendar.add('method', method)
        event = icalendar.Event()
        event.add('uid', self.uid)
        event.add('sequence', self.sequence or 0)
        event.add('summary', self.topic)
        event.add('dtstart', self.start.replace(tzinfo=dt.timezone.utc))
        event.add('dtend', self.end.replace(tzinfo=dt.timezone.utc))
        event.add('dtstamp', calendar_.utcnow().replace(
                tzinfo=dt.timezone.utc))
        if self.agenda:
            event.add('description', self.agenda)
        location = self.room.rec_name if self.room else (
            self.online_url or '')
        if location:
            event.add('location', location)
        event.add('status', 'CANCELLED' if method == 'CANCEL'
            else 'CONFIRMED')
        organiser_users = User.users_of_employees([self.organiser])
        organiser = organiser_users.get(self.organiser.id)
        address = icalendar.vCalAddress(
            'mailto:%s' % (organiser.email if organiser and organiser.email
                else 'office@example.com'))
        address.params['cn'] = icalendar.vText(self.organiser.rec_name)
        event.add('organizer', address)
        for attendee in self.attendees:
            email = attendee.get_email()
            if not email:
                continue
            address = icalendar.vCalAddress('mailto:%s' % email)
            address.params['cn'] = icalendar.vText(attendee.rec_name)
            address.params['role'] = icalendar.vText('REQ-PARTICIPANT')
            address.params['partstat'] = icalendar.vText('NEEDS-ACTION')
            address.params['rsvp'] = icalendar.vText('TRUE')
            event.add('attendee', address, encode=0)
        calendar.add_component(event)
        return calendar.to_ical()

    @classmethod
    def send_invitations(cls, meetings, method):
        """Tell every attendee: in-app for users, e-mail with the iCalendar
        invitation for everyone with an address (external guests too)."""
        pool = Pool()
        Notification = pool.get('office.notification')
        for meeting in meetings:
            meeting.sequence = (meeting.sequence or 0) + 1
            cls._write_sequence(meeting)
            ics = meeting.ical(method)
            message = ('office_admin.msg_meeting_cancelled'
                if method == 'CANCEL' else 'office_admin.msg_meeting_invite')
            users = [a.user for a in meeting.attendees if a.user]
            attachment = ('invite.ics', ics, 'text', 'calendar')
            Notification.send(
                [meeting], users, message,
                key='invite-%s-%s' % (method, meeting.sequence),
                attachments=[attachment],
                start=meeting.local_text(meeting.start),
                room=meeting.room.rec_name if meeting.room else '')
            guests = [a for a in meeting.attendees
                if not a.user and a.email]
            for guest in guests:
                Notification.email_address(
                    meeting, guest.email, guest.rec_name, message,
                    attachments=[attachment],
                    start=meeting.local_text(meeting.start),
                    room=meeting.room.rec_name if meeting.room else '')

    @classmethod
    def _write_sequence(cls, meeting):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.sequence], [meeting.sequence],
                where=table.id == meeting.id))

    @classmethod
    def send_reminders(cls):
        """Scheduled: remind the attendees of the meetings starting soon
        (configuration: minutes before), once per meeting."""
        pool = Pool()
        Notification = pool.get('office.notification')
        Configuration = pool.get('office.configuration')
        before = dt.timedelta(minutes=(
                Configuration(1).meeting_reminder_minutes or 30))
        now = calendar_.utcnow()
        meetings = cls.search([
                ('state', '=', 'confirmed'),
                ('reminder_sent', '=', False),
                ('start', '>', now),
                ('start', '<=', now + before),
                ], order=[('start', 'ASC')])
        for sub in grouped_slice(meetings, 200):
            sub = cls.browse(list(sub))
            for meeting in sub:
                Notification.send(
                    [meeting], [a.user for a in meeting.attendees if a.user],
                    'office_admin.msg_meeting_reminder',
                    key='reminder-%s' % meeting.start.isoformat(),
                    start=meeting.local_text(meeting.start),
                    room=meeting.room.rec_name if meeting.room else '')
            cls.write(sub, {'reminder_sent': True})

    # ---- finding a room -------------------------------------------------

    @classmethod
    def check_room_free(cls, meetings, values=None):
        """Refuse a meeting whose room is held by another one at that time:
        the message names the holder when the user may read it (else only
        says the room is booked) and lists the rooms free instead.  The
        database constraint stays the guard against races."""
        pool = Pool()
        Room = pool.get('office.meeting.room')
        values = values or {}
        for meeting in meetings:
            room = values.get('room', meeting.room)
            if room is not None and not isinstance(room, Room):
                room = Room(room)
            start = values.get('start', meeting.start)
            end = values.get('end', meeting.end)
            if not room or not start or not end or end <= start:
                continue
            domain = [
                ('room', '=', room.id),
                ('state', 'in', HOLDING),
                ('start', '<', end),
                ('end', '>', start),
                ]
            if meeting.id is not None and meeting.id >= 0:
                domain.append(('id', '!=', meeting.id))
            with without_check_access():
                holders = cls.search(domain, limit=1)
            if not holders:
                continue
            holder, = holders
            with check_access():
                visible = cls.search([('id', '=', holder.id)])
            company = meeting.company
            free = cls.free_rooms(
                start, end, company=company.id if company else None)
            free = [r for r in free if r != room]
            if free:
                free_text = gettext('office_admin.msg_meeting_free_rooms',
                    rooms='、'.join(r.rec_name for r in free))
            else:
                free_text = gettext('office_admin.msg_meeting_no_free_room')
            variables = dict(
                room=room.rec_name,
                start=calendar_.format_local(holder.start, company),
                end=calendar_.to_local(holder.end, company).strftime('%H:%M'),
                free=free_text)
            if visible:
                raise MeetingError(gettext(
                        'office_admin.msg_meeting_room_held',
                        meeting=holder.rec_name, **variables))
            raise MeetingError(gettext(
                    'office_admin.msg_meeting_room_booked', **variables))

    @classmethod
    def free_rooms(cls, start, end, seats=0, equipment=(), company=None):
        """Return the rooms free from start to end with enough seats and
        the equipment, best fit first (fewest spare seats)."""
        pool = Pool()
        Room = pool.get('office.meeting.room')
        meeting = cls.__table__()
        busy = meeting.select(meeting.room, where=(
                meeting.state.in_(HOLDING) & (meeting.room != Null)
                & (meeting.start < end) & (meeting.end > start)))
        domain = [
            ('capacity', '>=', seats or 0),
            ('id', 'not in', busy),
            ]
        if company:
            domain.append(('company', '=', company))
        rooms = Room.search(domain, order=[('capacity', 'ASC'), ('id', 'ASC')])
        local_start = calendar_.to_local(start)
        local_end = calendar_.to_local(end)
        result = []
        for room in rooms:
            if (local_start.time() < room.open_from
                    or local_end.time() > room.open_to
                    or local_start.date() != local_end.date()):
                continue
            if set(equipment) - room.equipment_types():
                continue
            result.append(room)
        return result

    @classmethod
    def busy_employees(cls, start, end, employees, exclude=None):
        "Return the employees already in a meeting from start to end"
        employee_ids = [int(e) for e in employees]
        domain = [
            ('state', 'in', ['requested', 'confirmed']),
            ('start', '<', end),
            ('end', '>', start),
            ['OR',
                ('organiser', 'in', employee_ids),
                ('attendees.employee', 'in', employee_ids),
                ],
            ]
        if exclude:
            domain.append(('id', '!=', exclude))
        busy = set()
        with without_check_access():
            for meeting in cls.search(domain):
                busy.add(meeting.organiser)
                busy.update(a.employee for a in meeting.attendees
                    if a.employee)
        return sorted((e for e in busy if e.id in employee_ids),
            key=lambda e: e.id)


class RoomSlot(OfficeAccessMixin, ModelSQL, ModelView):
    """Room schedule (会议室占用): every meeting that holds a room, with
    its title only for the meetings the user may read"""
    __name__ = 'office.meeting.room.slot'

    company = fields.Many2One('company.company', "Company", readonly=True)
    room = fields.Many2One('office.meeting.room', "Room", readonly=True)
    start = fields.DateTime("Start", readonly=True)
    end = fields.DateTime("End", readonly=True)
    state = fields.Selection([
            ('requested', "Waiting for Approval"),
            ('confirmed', "Booked"),
            ('held', "Held"),
            ('minutes_done', "Held"),
            ('archived', "Held"),
            ], "State", readonly=True)
    title = fields.Function(fields.Char("Meeting"), 'get_title')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('start', 'ASC'), ('room', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Meeting = pool.get('office.meeting')
        meeting = Meeting.__table__()
        return meeting.select(
            meeting.id.as_('id'),
            meeting.create_uid.as_('create_uid'),
            meeting.create_date.as_('create_date'),
            meeting.write_uid.as_('write_uid'),
            meeting.write_date.as_('write_date'),
            meeting.company.as_('company'),
            meeting.room.as_('room'),
            meeting.start.as_('start'),
            meeting.end.as_('end'),
            meeting.state.as_('state'),
            where=meeting.state.in_(HOLDING) & (meeting.room != Null))

    @classmethod
    def get_title(cls, slots, name):
        pool = Pool()
        Meeting = pool.get('office.meeting')
        ids = [s.id for s in slots]
        readable = set()
        with check_access():
            for sub in grouped_slice(ids, 200):
                readable.update(
                    m.id for m in Meeting.search([('id', 'in', list(sub))]))
        booked = gettext('office_admin.msg_meeting_slot_booked')
        titles = {}
        with without_check_access():
            for meeting in Meeting.browse(ids):
                titles[meeting.id] = (
                    meeting.topic if meeting.id in readable else booked)
        return titles

    def get_rec_name(self, name):
        return '%s %s' % (self.room.rec_name if self.room else '', self.title)


class MeetingDepartment(OfficeAccessMixin, ModelSQL):
    __name__ = 'office.meeting-office.department'
    meeting = fields.Many2One(
        'office.meeting', "Meeting", required=True, ondelete='CASCADE')
    department = fields.Many2One(
        'office.department', "Department", required=True,
        ondelete='CASCADE')


class MeetingAccessMixin:
    "The meeting's own record rule, read on a part of the meeting"
    __slots__ = ()
    # For the record rules (see access.py)
    meeting_organiser = related_field('meeting.organiser', fields.Many2One(
            'company.employee', "Meeting Organiser"))
    meeting_attendees = related_field(
        'meeting.attendees.employee', fields.Many2Many(
            'company.employee', None, None, "Meeting Attendees"))
    meeting_recorder = related_field('meeting.recorder', fields.Many2One(
            'company.employee', "Meeting Recorder"))
    meeting_department = related_field('meeting.department', fields.Many2One(
            'office.department', "Meeting Department"))
    meeting_create_uid = related_field('meeting.create_uid', fields.Many2One(
            'res.user', "Meeting Created By"))
    meeting_reviewers = related_field(
        'meeting.approval_reviewers', fields.Many2Many(
            'res.user', None, None, "Meeting Reviewers"))
    meeting_recipients = related_field(
        'meeting.distribution_recipients', fields.Many2Many(
            'res.user', None, None, "Meeting Recipients"))


class Attendee(OfficeAccessMixin, MeetingAccessMixin, ModelSQL, ModelView):
    __name__ = 'office.meeting.attendee'

    meeting = fields.Many2One(
        'office.meeting', "Meeting", required=True, ondelete='CASCADE')
    employee = fields.Many2One(
        'company.employee', "Employee",
        states={
            'required': ~Eval('guest_name'),
            })
    user = fields.Many2One('res.user', "User", readonly=True)
    guest_name = fields.Char(
        "Guest", states={
            'invisible': Bool(Eval('employee')),
            })
    email = fields.Char(
        "E-mail", states={
            'required': ~Eval('employee'),
            })
    attendance = fields.Selection([
            (None, ""),
            ('present', "Present"),
            ('absent', "Absent"),
            ('excused', "Excused"),
            ], "Attendance")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.employee, Index.Range())))
        cls._sql_indexes.add(Index(t, (t.meeting, Index.Range())))

    def get_rec_name(self, name):
        if self.employee:
            return self.employee.rec_name
        return self.guest_name or self.email or ''

    def get_email(self):
        if self.email:
            return self.email
        if self.user and self.user.email:
            return self.user.email

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        User = pool.get('res.user')
        values = super().preprocess_values(mode, values)
        if values.get('employee'):
            users = User.users_of_employees([values['employee']])
            user = users.get(int(values['employee']))
            values['user'] = user.id if user else None
        return values

    @classmethod
    def validate_fields(cls, attendees, field_names):
        super().validate_fields(attendees, field_names)
        from email.utils import parseaddr
        for attendee in attendees:
            if attendee.email:
                name, address = parseaddr(attendee.email)
                if ('@' not in address or '.' not in address.split('@')[-1]
                        or address != attendee.email.strip()):
                    raise MeetingError(gettext(
                            'office_admin.msg_meeting_attendee_email',
                            email=attendee.email))
            if not attendee.employee and not attendee.email:
                raise MeetingError(gettext(
                        'office_admin.msg_meeting_attendee_unknown'))


class MeetingEquipment(
        OfficeAccessMixin, MeetingAccessMixin, ModelSQL, ModelView):
    "A booking of a movable piece of equipment"
    __name__ = 'office.meeting.equipment'

    meeting = fields.Many2One(
        'office.meeting', "Meeting", required=True, ondelete='CASCADE')
    equipment = fields.Many2One(
        'office.equipment', "Equipment", required=True,
        domain=[('movable', '=', True)])
    start = fields.DateTime("Start", readonly=True)
    end = fields.DateTime("End", readonly=True)
    holding = fields.Boolean("Holding", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('equipment_no_overlap',
                Exclude(t, (t.equipment, Equal),
                    (TSRange(t.start, t.end, '[)'), RangeOverlap),
                    where=t.holding == True),  # noqa: E712
                'office_admin.msg_meeting_equipment_overlap'),
            ]

    @classmethod
    def default_holding(cls):
        return False

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Meeting = pool.get('office.meeting')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('meeting'):
            meeting = Meeting(values['meeting'])
            values.setdefault('start', meeting.start)
            values.setdefault('end', meeting.end)
            values.setdefault('holding', meeting.state in HOLDING)
        return values
