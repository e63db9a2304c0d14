# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Deadlines on working days or in clock hours, and their escalation.

A model mixes in `DeadlineMixin`, says which of its records are still open
(`_deadline_open_domain`) and who owns them (`deadline_owners`). One
scheduled job (`office.deadline|escalate`) raises the escalation level of
overdue records: 1 the owners, 2 the owners' department heads (one working
day later), 3 the Office Administrators (two working days later). The level
only rises and notifications carry the level as key, so a re-run changes
nothing.

A deadline runs in working hours of the company calendar ('working', the
default) or in clock hours round the clock ('clock': repairs, laboratories).
The mode is the model's `_deadline_mode`, or per record the value of its
stored `deadline_mode` field when the model has one; in clock mode "due
soon" is 8 clock hours and the next escalation levels come 24 and 48 clock
hours after the deadline. `compute_deadline` adds hours in the mode."""
import datetime as dt

from sql import Null

from trytond.i18n import gettext
from trytond.model import Index, Model, ModelSQL, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice

from . import calendar_
from .exceptions import DeadlineError

DEADLINE_STATES = [
    (None, ""),
    ('on_time', "On Time"),
    ('due_soon', "Due Soon"),
    ('overdue', "Overdue"),
    ('done', "Done"),
    ]
# A record is "due soon" from this many working hours before its deadline.
DUE_SOON_HOURS = 8
BATCH = 500
DEADLINE_MODES = [
    ('working', "Working Hours"),
    ('clock', "Clock Hours (Round the Clock)"),
    ]


class DeadlineMixin:
    __slots__ = ()
    deadline = fields.DateTime("Deadline", readonly=True)
    deadline_state = fields.Function(fields.Selection(
            DEADLINE_STATES, "Deadline State"),
        'get_deadline_state', searcher='search_deadline_state')
    escalation_level = fields.Integer(
        "Escalation Level", readonly=True,
        help="0: none, 1: the owners were told the deadline passed, "
        "2: their head, 3: the Office Administrators.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        table = cls.__table__()
        cls._sql_indexes.add(Index(
                table, (table.deadline, Index.Range()),
                where=table.deadline != Null))

    # 'working' or 'clock'; a stored `deadline_mode` field overrides it
    _deadline_mode = 'working'

    @classmethod
    def default_escalation_level(cls):
        return 0

    def get_deadline_mode(self):
        "Return 'working' or 'clock': how this record's deadline runs"
        if 'deadline_mode' in self._fields:
            return getattr(self, 'deadline_mode', None) or self._deadline_mode
        return self._deadline_mode

    @classmethod
    def compute_deadline(cls, start, hours, mode=None, company=None):
        """Return the naive UTC datetime `hours` hours (working or clock,
        default the model's mode) after start"""
        Calendar = Pool().get('office.calendar')
        return Calendar.get_calendar(company).add_hours(
            start, hours, mode=mode or cls._deadline_mode, company=company)

    @classmethod
    def _deadline_modes(cls):
        if 'deadline_mode' in cls._fields:
            return [m for m, _ in DEADLINE_MODES]
        return [cls._deadline_mode]

    @classmethod
    def _deadline_open_domain(cls):
        "Domain of the records whose deadline still runs"
        raise NotImplementedError

    def deadline_owners(self):
        "Return the users who must act before the deadline"
        return []

    def deadline_department(self):
        "Return the department whose head is told at level 2"
        return None

    @classmethod
    def check_deadline_future(cls, records, field='deadline'):
        now = calendar_.utcnow()
        for record in records:
            value = getattr(record, field)
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                past = value < now
            else:
                past = value < Pool().get('ir.date').today()
            if past:
                raise DeadlineError(gettext(
                        'office_admin.msg_deadline_past',
                        record=record.rec_name,
                        field=cls.__names__(field)['field']))

    @classmethod
    def get_deadline_state(cls, records, name):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        now = calendar_.utcnow()
        open_ids = {r.id for r in cls.search([
                    ('id', 'in', [r.id for r in records]),
                    cls._deadline_open_domain(),
                    ])}
        calendar = Calendar.get_calendar()
        soon = {m: calendar.add_hours(now, DUE_SOON_HOURS, mode=m)
            for m in cls._deadline_modes()}
        result = {}
        for record in records:
            if not record.deadline:
                result[record.id] = None
            elif record.id not in open_ids:
                result[record.id] = 'done'
            elif record.deadline < now:
                result[record.id] = 'overdue'
            elif record.deadline <= soon.get(
                    record.get_deadline_mode(), now):
                result[record.id] = 'due_soon'
            else:
                result[record.id] = 'on_time'
        return result

    @classmethod
    def search_deadline_state(cls, name, clause):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        _, operator, value = clause[:3]
        now = calendar_.utcnow()
        calendar = Calendar.get_calendar()
        modes = cls._deadline_modes()

        def by_mode(clause):
            if len(modes) == 1:
                return clause(calendar.add_hours(
                        now, DUE_SOON_HOURS, mode=modes[0]))
            return ['OR'] + [[
                    ('deadline_mode', '=', m),
                    clause(calendar.add_hours(now, DUE_SOON_HOURS, mode=m))]
                for m in modes]
        domains = {
            None: [('deadline', '=', None)],
            'done': [('deadline', '!=', None),
                ['NOT', cls._deadline_open_domain()]],
            'overdue': [('deadline', '<', now), cls._deadline_open_domain()],
            'due_soon': [('deadline', '>=', now),
                by_mode(lambda soon: ('deadline', '<=', soon)),
                cls._deadline_open_domain()],
            'on_time': [by_mode(lambda soon: ('deadline', '>', soon)),
                cls._deadline_open_domain()],
            }
        if operator in {'=', '!='}:
            values = [value]
        elif operator in {'in', 'not in'}:
            values = list(value)
        else:
            return []
        domain = ['OR'] + [domains[v] for v in values if v in domains]
        if operator in {'!=', 'not in'}:
            domain = ['NOT', domain]
        return [domain]


class Deadline(Model):
    "Service: escalate the overdue records of every model with a deadline"
    __name__ = 'office.deadline'

    @classmethod
    def deadline_models(cls):
        pool = Pool()
        for _, Model_ in pool.iterobject():
            if (issubclass(Model_, DeadlineMixin)
                    and issubclass(Model_, ModelSQL)
                    and not Model_.__name__.startswith('_')
                    and Model_._deadline_open_domain
                    is not DeadlineMixin._deadline_open_domain):
                yield Model_

    @classmethod
    def target_level(cls, calendar, deadline, now, mode='working'):
        """Return the level due at now: the next levels come one working
        day ('working') or 24 clock hours ('clock') apart"""
        if deadline >= now:
            return 0
        step = 24 if mode == 'clock' else _day_hours(calendar)
        if calendar.add_hours(deadline, 2 * step, mode=mode) <= now:
            return 3
        if calendar.add_hours(deadline, step, mode=mode) <= now:
            return 2
        return 1

    @classmethod
    def escalate(cls, models=None):
        """Raise the escalation level of every overdue open record and tell
        the people of each new level. Idempotent."""
        pool = Pool()
        Calendar = pool.get('office.calendar')
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        now = calendar_.utcnow()
        calendar = Calendar.get_calendar()
        admins = None
        count = 0
        for Model_ in (models or list(cls.deadline_models())):
            records = Model_.search([
                    ('deadline', '<', now),
                    ('escalation_level', '<', 3),
                    Model_._deadline_open_domain(),
                    ], order=[('id', 'ASC')])
            for sub_records in grouped_slice(records, BATCH):
                by_level = {}
                for record in sub_records:
                    level = cls.target_level(
                        calendar, record.deadline, now,
                        mode=record.get_deadline_mode())
                    if level <= (record.escalation_level or 0):
                        continue
                    by_level.setdefault(level, []).append(record)
                    for new_level in range(
                            (record.escalation_level or 0) + 1, level + 1):
                        if new_level == 1:
                            users = record.deadline_owners()
                        elif new_level == 2:
                            users = cls._heads(record)
                        else:
                            if admins is None:
                                admins = User.users_in_group(
                                    'office_admin.group_office_admin')
                            users = admins
                        Notification.send(
                            [record], users,
                            'office_admin.msg_deadline_overdue',
                            key='deadline-%s-%s' % (
                                record.deadline.isoformat(), new_level),
                            deadline=_format(record.deadline),
                            level=str(new_level))
                        count += 1
                for level, level_records in by_level.items():
                    Model_.write(level_records, {'escalation_level': level})
        return count

    @classmethod
    def _heads(cls, record):
        pool = Pool()
        User = pool.get('res.user')
        department = record.deadline_department()
        users = []
        if department:
            head = department.get_head()
            if head:
                users = list(User.users_of_employees([head]).values())
        return users


def _day_hours(calendar):
    total = dt.timedelta()
    for start, end in calendar._periods(dt.date(2000, 1, 3)):
        total += end - start
    return total.total_seconds() / 3600


def _format(value):
    pool = Pool()
    Lang = pool.get('ir.lang')
    Calendar = pool.get('office.calendar')
    timezone = Calendar.get_timezone()
    from trytond.tools import timezone as tz
    local = value.replace(tzinfo=tz.UTC).astimezone(timezone)
    lang = Lang.get()
    return lang.strftime(local, lang.date + ' %H:%M')
