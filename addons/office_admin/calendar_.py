# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Working-day calendar (工作日历): weekends, public holidays and adjusted
working days (调休), company working hours, and the one service every
deadline is computed with."""
import datetime as dt
import logging

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.tools import timezone as tz
from trytond.transaction import Transaction

from .access import OfficeAccessMixin
from .exceptions import CalendarError

logger = logging.getLogger(__name__)

WEEKDAYS = [
    ('0', "Monday"),
    ('1', "Tuesday"),
    ('2', "Wednesday"),
    ('3', "Thursday"),
    ('4', "Friday"),
    ('5', "Saturday"),
    ('6', "Sunday"),
    ]


def utcnow():
    """Return the current naive UTC datetime, as Tryton stores them.
    Every deadline and timeout reads the clock here (tests move it)."""
    return dt.datetime.now()


# Timezones: Tryton stores naive UTC datetimes; the office works in the
# company's local time.  The company defaults to the context's and its
# timezone to the server's (Calendar.get_timezone, the one place that reads
# them); a caller converting many values passes the timezone once.

def to_local(at, company=None, timezone=None):
    "Return the naive UTC datetime at as a naive company-local datetime"
    if at is None:
        return None
    if timezone is None:
        timezone = Pool().get('office.calendar').get_timezone(company)
    return at.replace(tzinfo=tz.UTC).astimezone(timezone).replace(
        tzinfo=None)


def to_utc(local, company=None, timezone=None):
    "Return the naive company-local datetime local as a naive UTC datetime"
    if local is None:
        return None
    if timezone is None:
        timezone = Pool().get('office.calendar').get_timezone(company)
    if local.tzinfo is None:
        local = local.replace(tzinfo=timezone)
    return local.astimezone(tz.UTC).replace(tzinfo=None)


def local_today(company=None):
    "Return today's date in the company's timezone (the office clock)"
    return to_local(utcnow(), company).date()


def format_local(at, company=None, with_time=True):
    "Return the naive UTC datetime at as text in the company's timezone"
    Lang = Pool().get('ir.lang')
    lang = Lang.get()
    return lang.strftime(
        to_local(at, company), lang.date + (' %H:%M' if with_time else ''))


# A deadline computation never loops for ever on a calendar that is all
# holidays: it gives up after this many days.
MAX_SCAN_DAYS = 3660


class Calendar(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'office.calendar'

    name = fields.Char("Name", required=True, translate=True)
    default = fields.Boolean(
        "Default",
        help="Used for the companies that have no calendar of their own.")
    country_code = fields.Char(
        "Holiday Country", size=2,
        help="The country whose public holidays are seeded "
        "(ISO 3166 code, CN for China).")
    weekend_days = fields.MultiSelection(
        WEEKDAYS, "Weekend Days", sort=False)
    work_start = fields.Time("Work Starts", required=True)
    break_start = fields.Time("Break Starts")
    break_end = fields.Time("Break Ends")
    work_end = fields.Time("Work Ends", required=True)
    days = fields.One2Many('office.calendar.day', 'calendar', "Special Days")

    _days_cache = Cache('office.calendar.days', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'seed_holidays': {
                    'icon': 'tryton-refresh',
                    },
                })

    @classmethod
    def default_country_code(cls):
        return 'CN'

    @classmethod
    def default_weekend_days(cls):
        return ['5', '6']

    @classmethod
    def default_work_start(cls):
        return dt.time(9, 0)

    @classmethod
    def default_break_start(cls):
        return dt.time(12, 0)

    @classmethod
    def default_break_end(cls):
        return dt.time(13, 0)

    @classmethod
    def default_work_end(cls):
        return dt.time(18, 0)

    @classmethod
    def validate_fields(cls, calendars, field_names):
        super().validate_fields(calendars, field_names)
        for calendar in calendars:
            if calendar.work_start >= calendar.work_end:
                raise CalendarError(gettext(
                        'office_admin.msg_calendar_hours_invalid',
                        calendar=calendar.rec_name))
            if bool(calendar.break_start) != bool(calendar.break_end) or (
                    calendar.break_start and not (
                        calendar.work_start <= calendar.break_start
                        < calendar.break_end <= calendar.work_end)):
                raise CalendarError(gettext(
                        'office_admin.msg_calendar_break_invalid',
                        calendar=calendar.rec_name))
            if len(calendar.weekend_days or []) >= 7:
                raise CalendarError(gettext(
                        'office_admin.msg_calendar_no_working_day',
                        calendar=calendar.rec_name))

    @classmethod
    def on_modification(cls, mode, calendars, field_names=None):
        super().on_modification(mode, calendars, field_names=field_names)
        cls._days_cache.clear()

    # ---- Which calendar ------------------------------------------------

    @classmethod
    def get_calendar(cls, company=None):
        """Return the calendar of the company (from the context when not
        given); fall back to the default calendar with a warning, and to a
        Monday-Friday calendar in memory when there is none at all."""
        pool = Pool()
        Company = pool.get('company.company')
        if company is None:
            company_id = Transaction().context.get('company')
            company = Company(company_id) if company_id else None
        if company and company.office_calendar:
            return company.office_calendar
        calendars = cls.search([('default', '=', True)], limit=1)
        if company:
            logger.warning(
                "company %s has no working-day calendar, using %s",
                company.id, calendars[0].id if calendars else 'built-in')
        if calendars:
            return calendars[0]
        return cls(
            name='Monday-Friday', weekend_days=cls.default_weekend_days(),
            work_start=cls.default_work_start(),
            break_start=cls.default_break_start(),
            break_end=cls.default_break_end(),
            work_end=cls.default_work_end())

    @classmethod
    def get_timezone(cls, company=None):
        pool = Pool()
        Company = pool.get('company.company')
        if company is None:
            company_id = Transaction().context.get('company')
            company = Company(company_id) if company_id else None
        if company and company.timezone:
            return tz.ZoneInfo(company.timezone)
        return tz.SERVER

    # ---- Days ----------------------------------------------------------

    def _special_days(self):
        "Return {date: 'holiday' | 'workday'} for the calendar"
        if self.id is None or self.id < 0:
            return {}
        days = self._days_cache.get(self.id)
        if days is None:
            pool = Pool()
            Day = pool.get('office.calendar.day')
            table = Day.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(
                    table.date, table.kind,
                    where=table.calendar == self.id))
            days = {d if isinstance(d, dt.date) else dt.date.fromisoformat(d):
                k for d, k in cursor}
            self._days_cache.set(self.id, days)
        return days

    def is_working_day(self, date):
        kind = self._special_days().get(date)
        if kind == 'holiday':
            return False
        if kind == 'workday':
            return True
        return str(date.weekday()) not in (self.weekend_days or [])

    def next_working_day(self, date, include=True):
        "Return the first working day from date (included or not)"
        if not include:
            date += dt.timedelta(days=1)
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(date):
                return date
            date += dt.timedelta(days=1)
        raise CalendarError(gettext(
                'office_admin.msg_calendar_no_working_day',
                calendar=self.rec_name))

    def add_working_days(self, date, days):
        "Return the date `days` working days after date (date not counted)"
        if days < 0:
            raise ValueError("days must be positive")
        for _ in range(days):
            date = self.next_working_day(date, include=False)
        return date

    def working_days_between(self, start, end):
        "Count the working days in (start, end]"
        count = 0
        date = start
        while date < end:
            date += dt.timedelta(days=1)
            if self.is_working_day(date):
                count += 1
        return count

    def _periods(self, date):
        "Return the working periods of a working day as local datetimes"
        combine = dt.datetime.combine
        if self.break_start and self.break_end:
            return [
                (combine(date, self.work_start),
                    combine(date, self.break_start)),
                (combine(date, self.break_end),
                    combine(date, self.work_end)),
                ]
        return [(combine(date, self.work_start), combine(date, self.work_end))]

    def add_working_hours(self, start, hours, company=None):
        """Return the UTC datetime `hours` working hours after start (a naive
        UTC datetime, as Tryton stores them), counted in the company's
        timezone and working hours; negative hours count back before start
        (a task due 8 working hours before a visit)."""
        timezone = self.get_timezone(company)
        local = to_local(start, timezone=timezone)
        if hours < 0:
            return self._subtract_working_hours(local, -hours, timezone)
        remaining = dt.timedelta(hours=hours)
        date = local.date()
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(date):
                for period_start, period_end in self._periods(date):
                    begin = max(period_start, local)
                    if begin >= period_end:
                        continue
                    available = period_end - begin
                    if remaining <= available:
                        return to_utc(begin + remaining, timezone=timezone)
                    remaining -= available
            date += dt.timedelta(days=1)
        raise CalendarError(gettext(
                'office_admin.msg_calendar_no_working_day',
                calendar=self.rec_name))

    def _subtract_working_hours(self, local, hours, timezone):
        "Return the UTC datetime `hours` working hours before local"
        remaining = dt.timedelta(hours=hours)
        date = local.date()
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(date):
                for period_start, period_end in reversed(
                        self._periods(date)):
                    end = min(period_end, local)
                    if end <= period_start:
                        continue
                    available = end - period_start
                    if remaining <= available:
                        return to_utc(end - remaining, timezone=timezone)
                    remaining -= available
            date -= dt.timedelta(days=1)
        raise CalendarError(gettext(
                'office_admin.msg_calendar_no_working_day',
                calendar=self.rec_name))

    def add_hours(self, start, hours, mode='working', company=None):
        """Return the naive UTC datetime `hours` hours after start: working
        hours of the calendar ('working'), or clock hours round the clock
        ('clock': a fault reported on Friday 18:00 with 24 hours is due on
        Saturday 18:00)"""
        if mode == 'clock':
            return start + dt.timedelta(hours=hours)
        return self.add_working_hours(start, hours, company=company)

    def end_of_working_day(self, date, company=None):
        "Return the naive UTC datetime at which the working day date ends"
        return to_utc(dt.datetime.combine(date, self.work_end), company)

    def add_working_days_same_time(self, start, days, company=None):
        """Return the naive UTC datetime at the same local time `days`
        working days after start ("within 24 hours" on working days)"""
        timezone = self.get_timezone(company)
        local = to_local(start, timezone=timezone)
        date = self.add_working_days(local.date(), days)
        return to_utc(
            dt.datetime.combine(date, local.time()), timezone=timezone)

    def add_working_days_at_end(self, start, days, company=None):
        """Return the UTC end of the working day that comes `days` working
        days after the local date of start (naive UTC)."""
        local_date = to_local(start, company).date()
        return self.end_of_working_day(
            self.add_working_days(local_date, days), company)

    # ---- Seeding -------------------------------------------------------

    @classmethod
    @ModelView.button
    def seed_holidays(cls, calendars, years=None):
        """Add the public holidays and adjusted working days of `years`
        (default: this year and the next) from the `holidays` library.
        Days already in the calendar are kept as they are, so it is safe to
        run again and it never overwrites an administrator's change."""
        pool = Pool()
        Day = pool.get('office.calendar.day')
        Date = pool.get('ir.date')
        import holidays as holidays_lib
        if years is None:
            today = Date.today()
            years = [today.year, today.year + 1]
        to_create = []
        for calendar in calendars:
            if not calendar.country_code:
                continue
            try:
                country = holidays_lib.country_holidays(
                    calendar.country_code.upper(), years=years)
            except NotImplementedError:
                logger.warning("no holidays for %s", calendar.country_code)
                continue
            existing = set(calendar._special_days())
            for date, name in sorted(country.items()):
                if date not in existing:
                    to_create.append(Day(
                            calendar=calendar, date=date, kind='holiday',
                            name=name, source='library'))
                    existing.add(date)
            for date in sorted(getattr(country, 'weekend_workdays', [])):
                if date.year in years and date not in existing:
                    to_create.append(Day(
                            calendar=calendar, date=date, kind='workday',
                            name=gettext('office_admin.msg_adjusted_workday'),
                            source='library'))
                    existing.add(date)
        Day.save(to_create)
        return len(to_create)

    @classmethod
    def seed_holidays_cron(cls):
        """Seed this year and the next (daily and idempotent, so that an
        upgraded holiday library lands the next morning) and, in December,
        warn about next year's unknown adjusted working days."""
        calendars = cls.search([('country_code', '!=', None)])
        today = local_today()
        cls.seed_holidays(calendars, years=[today.year, today.year + 1])
        cls.warn_next_year_unknown(calendars, today)

    @classmethod
    def warn_next_year_unknown(cls, calendars, today):
        """In December, tell the Office Administrators once per calendar
        and year when the calendar has adjusted working days (调休) this
        year but none yet for the next one: they are published late in the
        year and must be entered (or the library upgraded) before New
        Year."""
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        if today.month != 12:
            return 0
        year = today.year + 1

        def workday_years(calendar):
            return {d.year for d, k in calendar._special_days().items()
                if k == 'workday'}
        pending = [c for c in calendars
            if today.year in workday_years(c)
            and year not in workday_years(c)]
        if not pending:
            return 0
        admins = User.users_in_group('office_admin.group_office_admin')
        return Notification.send(
            pending, admins, 'office_admin.msg_calendar_next_year_unknown',
            key='calendar_next_year_%s' % year, chat=False, year=year)


class CalendarDay(OfficeAccessMixin, ModelSQL, ModelView):
    __name__ = 'office.calendar.day'

    calendar = fields.Many2One(
        'office.calendar', "Calendar", required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    kind = fields.Selection([
            ('holiday', "Holiday"),
            ('workday', "Adjusted Working Day"),
            ], "Kind", required=True,
        help="A holiday is not worked; an adjusted working day (调休) is a "
        "weekend day that is worked.")
    name = fields.Char("Name")
    source = fields.Selection([
            ('manual', "Manual"),
            ('library', "Holiday Library"),
            ], "Source", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('calendar_date_unique', Unique(t, t.calendar, t.date),
                'office_admin.msg_calendar_day_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.calendar, Index.Range()), (t.date, Index.Range())))
        cls._order.insert(0, ('date', 'ASC'))

    @classmethod
    def default_source(cls):
        return 'manual'

    @classmethod
    def on_modification(cls, mode, days, field_names=None):
        super().on_modification(mode, days, field_names=field_names)
        Pool().get('office.calendar')._days_cache.clear()
