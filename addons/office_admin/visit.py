# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Visitors (访客): a host pre-registers a visit and its visitors get an
e-mail invitation with a QR code carrying the visit's token; the front desk
checks them in (token, name or mobile) from "Today's Visitors", the host is
told at once, the desk prints a badge and checks them out.  Walk-ins wait
for their host's confirmation; a visitor on the refusal list is not let in
and the office is told.

Privacy: a visitor's ID number is stored encrypted with the archive key
(`[office] archive_key`, see archive.py): the column holds only the
ciphertext; it is read in full by Office Administrators only, masked (its
last 4 characters) by everyone else, decided on the server by the getter;
it is neither searchable nor exported in clear.  A keyed digest (HMAC)
recognises a refused visitor registered again, without the number.  A job
erases the ID numbers and mobiles of the visitors whose last visit is older
than the retention (30 days by default); the visits and their counts
stay."""
import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sql import Literal, Null
from sql.aggregate import Count, Max, Min

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import calendar_
from .access import OfficeAccessMixin, copy_from_parent, in_office_group
from .archive import archive_key, decrypt, encrypt
from .configuration import integer_setting

# What the QR code of an invitation and of a badge holds before the token
TOKEN_PREFIX = 'OAV1:'
DEFAULT_RETENTION_DAYS = 30
DEFAULT_SIGN_OUT_HOUR = 19
STATES = [
    ('expected', "Expected"),
    ('waiting', "Waiting for Host"),
    ('checked_in', "Checked In"),
    ('checked_out', "Checked Out"),
    ('cancelled', "Cancelled"),
    ('declined', "Declined"),
    ]
CLOSED = {'checked_out', 'cancelled', 'declined'}
ID_TYPES = [
    (None, ""),
    ('resident_id', "Resident Identity Card"),
    ('passport', "Passport"),
    ('hk_macau', "Mainland Travel Permit"),
    ('other', "Other"),
    ]


class VisitError(UserError):
    pass


def mask(number):
    "Show only the last 4 characters of an ID number"
    if not number:
        return number
    if len(number) <= 4:
        return '*' * len(number)
    return '*' * (len(number) - 4) + number[-4:]


def normalise(number):
    return ''.join((number or '').split()).upper()


def id_digest(number):
    """A keyed digest of the ID number: recognises the same number without
    storing it, and confirms no guess without the key"""
    return hmac.new(archive_key(), b'office.visitor.id:'
        + normalise(number).encode(), hashlib.sha256).hexdigest()


class Configuration(
        integer_setting(
            'visit_sign_out_hour', "Visitors Signed Out By (hour)",
            DEFAULT_SIGN_OUT_HOUR, minimum=0, maximum=23,
            help="At this local hour the visits still checked in are "
            "flagged and their host and the front desk are told (19)."),
        integer_setting(
            'visit_retention_days', "Visitor Data Kept (days)",
            DEFAULT_RETENTION_DAYS,
            help="ID numbers and mobiles of visitors whose last visit is "
            "older are erased; the visits and their counts are kept (30)."),
        metaclass=PoolMeta):
    __name__ = 'office.configuration'


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('office.visit|flag_overdue',
                    "Office: Visitors Still Checked In"),
                ('office.visit|erase_personal_data',
                    "Office: Erase Old Visitor Data"),
                ])


class TodayMixin:
    """A "today" searchable on the office's clock: the date of the
    company's time zone, decided by the server (a PYSON Date() in an
    action is the browser's date, another day in another time zone)"""
    __slots__ = ()
    today = fields.Function(
        fields.Boolean("Today"), 'get_today', searcher='search_today')

    def get_today(self, name):
        return self.date == calendar_.local_today(self.company)

    @classmethod
    def search_today(cls, name, clause):
        _, operator, value = clause[:3]
        today = calendar_.local_today()
        if (operator == '=') == bool(value):
            return [('date', '=', today)]
        return ['OR', ('date', '!=', today), ('date', '=', None)]


class Visitor(OfficeAccessMixin, ModelSQL, ModelView):
    "Visitor"
    __name__ = 'office.visitor'

    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True, strip=True)
    organization = fields.Char(
        "Organization", help="The company the visitor comes from.")
    mobile = fields.Char("Mobile", strip=True)
    email = fields.Char("E-mail", strip=True,
        help="Where the invitation with its QR code is sent.")
    id_type = fields.Selection(ID_TYPES, "ID Document")
    id_number = fields.Function(
        fields.Char("ID Number",
            help="Stored encrypted; shown in full to Office Administrators "
            "only."),
        'get_id_number', setter='set_id_number')
    refused = fields.Boolean(
        "Refused", help="On the refusal list: not let in at the desk.")
    refused_reason = fields.Text(
        "Refusal Reason", states={'invisible': ~Eval('refused')})
    erased_at = fields.DateTime("Personal Data Erased", readonly=True)
    # The hosts of the visitor's visits, for the record rules (see
    # access.py): the same in SQL and in Python whoever evaluates it
    hosts = fields.Function(
        fields.Many2Many('company.employee', None, None, "Hosts"),
        'get_hosts', searcher='search_hosts')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.mobile, Index.Equality())),
                Index(t, (t.company, Index.Range()),
                    where=t.refused == Literal(True)),
                # A column without a field (see __register__)
                Index(t, (t.id_key, Index.Equality())),
                })
        cls._order = [('name', 'ASC'), ('id', 'ASC')]

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # The ciphertext and the keyed digest of the ID number are columns
        # without a field: no RPC call (read, search, export) reaches them
        table_h = cls.__table_handler__(module)
        for column in ['id_cipher', 'id_key']:
            if not table_h.column_exist(column):
                table_h.add_column(column, 'VARCHAR')

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_refused(cls):
        return False

    def get_rec_name(self, name):
        if self.organization:
            return '%s (%s)' % (self.name, self.organization)
        return self.name

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('name',) + tuple(clause[1:]),
            ('organization',) + tuple(clause[1:]),
            ('mobile',) + tuple(clause[1:]),
            ]

    @classmethod
    def _associated(cls, id_):
        return ('office.visitor,%s,id_number' % id_).encode()

    @classmethod
    def _ciphers(cls, ids):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in grouped_slice(ids, 200):
            cursor.execute(*table.select(table.id, table.id_cipher,
                    where=table.id.in_(list(sub_ids))))
            result.update(cursor)
        return result

    @classmethod
    def get_id_number(cls, visitors, name):
        """The ID number in full for Office Administrators, else masked:
        decided here, whoever asks and however (read, export)"""
        full = in_office_group('group_office_admin')
        ciphers = cls._ciphers([v.id for v in visitors])
        result = {}
        for visitor in visitors:
            cipher = ciphers.get(visitor.id)
            if not cipher:
                result[visitor.id] = None
                continue
            number = decrypt(base64.b64decode(cipher),
                cls._associated(visitor.id)).decode()
            result[visitor.id] = number if full else mask(number)
        return result

    @classmethod
    def set_id_number(cls, visitors, name, value):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        value = normalise(value)
        for visitor in visitors:
            if value:
                cipher = base64.b64encode(encrypt(
                        value.encode(), cls._associated(visitor.id))
                    ).decode()
                digest = id_digest(value)
            else:
                cipher = digest = None
            cursor.execute(*table.update(
                    [table.id_cipher, table.id_key], [cipher, digest],
                    where=table.id == visitor.id))

    @classmethod
    def copy(cls, visitors, default=None):
        "A copy has its own ciphertext: it is bound to the record's id"
        default = default.copy() if default is not None else {}
        default.setdefault('erased_at', None)
        new_visitors = super().copy(visitors, default=default)
        if in_office_group('group_office_admin'):
            with without_check_access():
                numbers = cls.get_id_number(cls.browse(visitors), 'id_number')
            for old, new in zip(visitors, new_visitors):
                if numbers.get(old.id):
                    cls.set_id_number([new], 'id_number', numbers[old.id])
        return new_visitors

    @classmethod
    def get_hosts(cls, visitors, name):
        pool = Pool()
        Line = pool.get('office.visit.line')
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        result = {v.id: set() for v in visitors}
        for sub_ids in grouped_slice([v.id for v in visitors], 200):
            cursor.execute(*line.select(line.visitor, line.host,
                    where=line.visitor.in_(list(sub_ids))
                    & (line.host != Null)))
            for visitor, host in cursor:
                result[visitor].add(host)
        return {k: sorted(v) for k, v in result.items()}

    @classmethod
    def search_hosts(cls, name, clause):
        pool = Pool()
        Line = pool.get('office.visit.line')
        line = Line.__table__()
        _, operator, value = clause[:3]
        if operator not in {'=', 'in'}:
            return [('id', '=', -1)]
        values = value if operator == 'in' else [value]
        values = [int(v) for v in values if v is not None] or [-1]
        return [('id', 'in', line.select(line.visitor,
                    where=line.host.in_(values)))]

    @classmethod
    def refused_ids(cls, visitors):
        """Return the ids of the visitors on the refusal list: by
        themselves, or a refused visitor of their company has the same ID
        number or mobile"""
        visitor = cls.__table__()
        refused = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = set()
        for sub_ids in grouped_slice([int(v) for v in visitors], 200):
            cursor.execute(*visitor.join(refused, condition=(
                        (refused.company == visitor.company)
                        & (refused.refused == Literal(True))
                        & ((refused.id == visitor.id)
                            | (refused.id_key == visitor.id_key)
                            | (refused.mobile == visitor.mobile)))
                    ).select(visitor.id,
                    where=visitor.id.in_(list(sub_ids))))
            result.update(i for i, in cursor)
        return result

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        # The front desk keeps the refusal list
        if ((values.get('refused') or values.get('refused_reason'))
                and not in_office_group('group_office_staff')):
            raise VisitError(gettext('office_admin.msg_visitor_refusal'))
        return values

    @classmethod
    def erase(cls, visitors):
        "Erase the ID numbers and mobiles of the visitors"
        now = calendar_.utcnow()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice([v.id for v in visitors], 200):
            cursor.execute(*table.update(
                    [table.id_cipher, table.id_key, table.mobile,
                        table.id_type, table.erased_at],
                    [None, None, None, None, now],
                    where=table.id.in_(list(sub_ids))))


class Visit(
        OfficeAccessMixin, TodayMixin, ChatMixin, Workflow, ModelSQL,
        ModelView):
    "Visit"
    __name__ = 'office.visit'
    _workflow_fields = {'checked_in_by', 'checked_out_by'}
    _states = {'readonly': Eval('state') != 'expected'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    host = fields.Many2One(
        'company.employee', "Host", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    arrival_from = fields.DateTime(
        "Expected From", required=True, states=_states,
        domain=[('arrival_from', '<=', Eval('arrival_to'))])
    arrival_to = fields.DateTime(
        "Expected Until", required=True, states=_states)
    date = fields.Date("Date", readonly=True)
    purpose = fields.Char("Purpose", required=True, states=_states)
    lines = fields.One2Many(
        'office.visit.line', 'visit', "Visitors", required=True,
        states={'readonly': ~Eval('state').in_(['expected', 'waiting'])})
    meeting = fields.Many2One(
        'office.meeting', "Meeting", states=_states,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('state', '!=', 'cancelled'),
            ],
        help="The meeting (and its room booking) the visitors attend.")
    vehicle_plate = fields.Char("Vehicle Plate", strip=True, states={
            'readonly': Eval('state').in_(list(CLOSED)),
            })
    walk_in = fields.Boolean(
        "Walk-in", states={'readonly': Eval('id', -1) >= 0},
        help="Registered at the front desk: the host confirms first.")
    token = fields.Char("Token", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    checked_in_at = fields.DateTime("Checked In At", readonly=True)
    checked_in_by = employee_field(
        "Checked In By", states=[s for s, _ in STATES])
    checked_out_at = fields.DateTime("Checked Out At", readonly=True)
    checked_out_by = employee_field(
        "Checked Out By", states=[s for s, _ in STATES])
    overdue_at = fields.DateTime(
        "Flagged Not Signed Out", readonly=True,
        help="Still checked in at the configured hour.")
    visitor_names = fields.Function(
        fields.Char("Visitors"), 'get_visitor_names')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('token_unique', Unique(t, t.token),
                'office_admin.msg_visit_token_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.date, Index.Range()),
                    (t.state, Index.Equality())),
                Index(t, (t.host, Index.Range())),
                Index(t, (t.state, Index.Equality()),
                    where=t.state == 'checked_in'),
                })
        cls._order = [('arrival_from', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('expected', 'waiting'),
            ('waiting', 'expected'),
            ('waiting', 'declined'),
            ('expected', 'checked_in'),
            ('checked_in', 'checked_out'),
            ('expected', 'cancelled'),
            ('waiting', 'cancelled'),
            }
        cls._buttons.update({
                'invite': {
                    'invisible': (Eval('state') != 'expected')
                    | Bool(Eval('walk_in')),
                    'depends': ['state', 'walk_in'],
                    'icon': 'tryton-email',
                    },
                'ask_host': {
                    'invisible': (Eval('state') != 'expected')
                    | ~Eval('walk_in'),
                    'depends': ['state', 'walk_in'],
                    'icon': 'tryton-forward',
                    },
                'confirm': {
                    'invisible': Eval('state') != 'waiting',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'decline': {
                    'invisible': Eval('state') != 'waiting',
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'check_in': {
                    'invisible': Eval('state') != 'expected',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'check_out': {
                    'invisible': Eval('state') != 'checked_in',
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['expected', 'waiting']),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'expected'

    @classmethod
    def default_walk_in(cls):
        return False

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_host(cls):
        if not in_office_group('group_office_staff'):
            return Transaction().context.get('employee')

    @classmethod
    def default_department(cls):
        from .common import context_department
        if not in_office_group('group_office_staff'):
            return context_department()

    @fields.depends('host', 'department')
    def on_change_host(self):
        if self.host and getattr(self.host, 'department', None):
            self.department = self.host.department

    def get_rec_name(self, name):
        return gettext('office_admin.msg_visit_name',
            visitors=self.visitor_names or '',
            date=self.date.isoformat() if self.date else '')

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('purpose',) + tuple(clause[1:])]

    @classmethod
    def get_visitor_names(cls, visits, name):
        return {v.id: ', '.join(l.visitor.name for l in v.lines
                if l.visitor) for v in visits}

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Company = pool.get('company.company')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values['token'] = secrets.token_urlsafe(24)
        if values.get('arrival_from'):
            company = values.get('company') or \
                Transaction().context.get('company')
            values['date'] = calendar_.to_local(
                values['arrival_from'],
                Company(company) if company else None).date()
        return values

    @classmethod
    def copy(cls, visits, default=None):
        default = default.copy() if default is not None else {}
        for name in ['checked_in_at', 'checked_in_by', 'checked_out_at',
                'checked_out_by', 'overdue_at', 'token']:
            default.setdefault(name, None)
        return super().copy(visits, default=default)

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Employee = pool.get('company.employee')
        cls.check_host([cls(
                    walk_in=v.get('walk_in'),
                    host=Employee(v['host']) if v.get('host') else None)
                for v in vlist])
        visits = super().create(vlist)
        with without_check_access():
            visits = cls.browse(visits)
            walk_ins = [v for v in visits if v.walk_in]
            if walk_ins:
                cls.ask_host(walk_ins)
            cls.send_invitations([v for v in visits if not v.walk_in])
        return visits

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        changed = []
        for records, values in zip(actions, actions):
            if {'host', 'department', 'arrival_from', 'company'} & (
                    values.keys()):
                changed.extend(records)
        if changed:
            pool = Pool()
            Line = pool.get('office.visit.line')
            Line.sync_visit(visits=changed)
            with without_check_access():
                cls.check_host(cls.browse(changed))

    @classmethod
    def check_host(cls, visits):
        """Refuse an employee who is not the front desk registering a visit
        for another host, or a walk-in"""
        pool = Pool()
        User = pool.get('res.user')
        if not Transaction().user or in_office_group('group_office_staff'):
            return
        employees = set(User.get_employees())
        for visit in visits:
            if visit.walk_in:
                raise VisitError(gettext('office_admin.msg_visit_walk_in'))
            if visit.host and visit.host.id not in employees:
                raise VisitError(gettext('office_admin.msg_visit_own_host'))

    @classmethod
    def validate_fields(cls, visits, field_names):
        super().validate_fields(visits, field_names)
        if {'arrival_from', 'arrival_to'} & field_names:
            now = calendar_.utcnow()
            for visit in visits:
                if visit.state not in {'expected', 'waiting'}:
                    continue
                if visit.arrival_to < visit.arrival_from:
                    raise VisitError(gettext(
                            'office_admin.msg_visit_window'))
                if visit.arrival_to <= now and not visit.checked_in_at:
                    raise VisitError(gettext('office_admin.msg_visit_past'))

    @classmethod
    def check_modification(cls, mode, visits, values=None, external=False):
        super().check_modification(
            mode, visits, values=values, external=external)
        if mode == 'delete':
            for visit in visits:
                if visit.state not in {'expected', 'cancelled'} or (
                        visit.checked_in_at):
                    raise VisitError(gettext('office_admin.msg_visit_delete'))

    # ---- people ----------------------------------------------------------

    def host_users(self):
        User = Pool().get('res.user')
        return list(User.users_of_employees([self.host]).values())

    @classmethod
    def desk_users(cls):
        User = Pool().get('res.user')
        return User.users_in_group('office_admin.group_office_staff')

    @classmethod
    def check_is_host(cls, visits):
        "Refuse unless the user is the host of each visit"
        User = Pool().get('res.user')
        if not Transaction().user:
            return
        employees = set(User.get_employees())
        for visit in visits:
            if visit.host.id not in employees:
                raise VisitError(gettext('office_admin.msg_visit_not_host'))

    def qr_text(self):
        return TOKEN_PREFIX + self.token

    def qr_svg_uri(self):
        import segno
        return segno.make(self.qr_text(), error='m').svg_data_uri(scale=4)

    def qr_png(self):
        import io

        import segno
        output = io.BytesIO()
        segno.make(self.qr_text(), error='m').save(
            output, kind='png', scale=6)
        return output.getvalue()

    def local_time(self, at):
        return calendar_.format_local(at, self.company) if at else ''

    # ---- invitations -----------------------------------------------------

    @classmethod
    def send_invitations(cls, visits):
        "E-mail each visitor with an address the invitation and its QR code"
        Notification = Pool().get('office.notification')
        for visit in visits:
            if visit.state != 'expected' or visit.walk_in:
                continue
            attachments = [('visit-qr.png', visit.qr_png(), 'image', 'png')]
            for line in visit.lines:
                if not line.visitor.email:
                    continue
                Notification.email_address(visit, line.visitor.email,
                    line.visitor.name, 'office_admin.msg_visit_invitation',
                    attachments=attachments, host=visit.host.rec_name,
                    time=visit.local_time(visit.arrival_from))

    @classmethod
    @ModelView.button
    def invite(cls, visits):
        "Send the invitations again"
        if not in_office_group('group_office_staff'):
            cls.check_is_host(visits)
        cls.send_invitations(visits)

    # ---- walk-ins --------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('waiting')
    def ask_host(cls, visits):
        "A walk-in registered at the desk waits for its host's answer"
        Notification = Pool().get('office.notification')
        for visit in visits:
            Notification.send([visit], visit.host_users(),
                'office_admin.msg_visit_walk_in_notify', key='walk-in',
                icon='tryton-warning')

    @classmethod
    @ModelView.button
    @Workflow.transition('expected')
    def confirm(cls, visits):
        "The host lets the walk-in in: the desk checks the visitors in"
        Notification = Pool().get('office.notification')
        cls.check_is_host(visits)
        for visit in visits:
            Notification.send([visit], cls.desk_users(),
                'office_admin.msg_visit_host_confirmed', key='confirmed',
                email=False)

    @classmethod
    @ModelView.button
    @Workflow.transition('declined')
    def decline(cls, visits):
        Notification = Pool().get('office.notification')
        cls.check_is_host(visits)
        for visit in visits:
            Notification.send([visit], cls.desk_users(),
                'office_admin.msg_visit_host_declined', key='declined',
                email=False)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, visits):
        if not in_office_group('group_office_staff'):
            cls.check_is_host(visits)

    # ---- the front desk --------------------------------------------------

    @classmethod
    def check_state(cls, visits, today=None):
        """Refuse visits that cannot be checked in now, with the reason"""
        for visit in visits:
            if visit.state == 'checked_in':
                raise VisitError(gettext(
                        'office_admin.msg_visit_already_checked_in'))
            if visit.state == 'waiting':
                raise VisitError(gettext(
                        'office_admin.msg_visit_waiting_host'))
            if visit.state in CLOSED:
                raise VisitError(gettext('office_admin.msg_visit_expired'))
            if visit.date != (today or calendar_.local_today(visit.company)):
                raise VisitError(gettext(
                        'office_admin.msg_visit_other_day'))

    @classmethod
    def refused_visits(cls, visits):
        "Return the visits one of whose visitors is on the refusal list"
        Visitor = Pool().get('office.visitor')
        with without_check_access():
            visits = cls.browse(visits)
            refused = Visitor.refused_ids(
                {l.visitor.id for v in visits for l in v.lines})
            return [v for v in visits
                if any(l.visitor.id in refused for l in v.lines)]

    @classmethod
    def notify_refused(cls, visits):
        "Tell the office that a refused visitor came to the desk (once)"
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        office = User.users_in_group('office_admin.group_office_admin')
        for visit in visits:
            Notification.send([visit], office,
                'office_admin.msg_visit_refused_notify', key='refused',
                icon='tryton-warning')

    @classmethod
    @ModelView.button_action('office_admin.wizard_visit_check_in')
    def check_in(cls, visits):
        "Check the visitors in (through the wizard: refusal list first)"
        pass

    @classmethod
    def do_check_in(cls, visits):
        """Check in the visits of today, whose visitors are not refused
        (see refused_visits), and tell the host at once"""
        cls.check_state(visits)
        cls._check_in(visits)

    @classmethod
    @Workflow.transition('checked_in')
    @set_employee('checked_in_by')
    def _check_in(cls, visits):
        Notification = Pool().get('office.notification')
        now = calendar_.utcnow()
        for visit in visits:
            visit.checked_in_at = now
        cls.save(visits)
        for visit in visits:
            Notification.send([visit], visit.host_users(),
                'office_admin.msg_visit_checked_in', key='checked-in',
                time=visit.local_time(now))

    @classmethod
    @ModelView.button
    def check_out(cls, visits):
        for visit in visits:
            if visit.state != 'checked_in':
                raise VisitError(gettext(
                        'office_admin.msg_visit_not_checked_in'))
        cls._check_out(visits)

    @classmethod
    @Workflow.transition('checked_out')
    @set_employee('checked_out_by')
    def _check_out(cls, visits):
        now = calendar_.utcnow()
        for visit in visits:
            visit.checked_out_at = now
        cls.save(visits)
        for visit in visits:
            visit.chat_post('office_admin.msg_visit_checked_out_chat',
                audience='internal', time=visit.local_time(now))

    @classmethod
    def find(cls, code):
        """Return the visits the desk means by code: the token of the QR
        code, or a visitor's name or mobile among today's visits"""
        pool = Pool()
        Line = pool.get('office.visit.line')
        code = (code or '').strip()
        company = Transaction().context.get('company')
        if not code or not company:
            raise VisitError(gettext('office_admin.msg_visit_not_found'))
        token = code[len(TOKEN_PREFIX):] if code.startswith(
            TOKEN_PREFIX) else code
        visits = cls.search([
                ('token', '=', token),
                ('company', '=', company),
                ], limit=1)
        if visits:
            return visits
        if code.startswith(TOKEN_PREFIX):
            raise VisitError(gettext('office_admin.msg_visit_token_unknown'))
        today = calendar_.local_today()
        lines = Line.search([
                ('company', '=', company),
                ('date', '=', today),
                ('visit_state', 'in', ['expected', 'checked_in']),
                ['OR',
                    ('visitor.name', '=', code),
                    ('visitor.mobile', '=', code),
                    ],
                ])
        visits = list({l.visit for l in lines})
        if not visits:
            raise VisitError(gettext('office_admin.msg_visit_not_found'))
        if len(visits) > 1:
            raise VisitError(gettext('office_admin.msg_visit_several'))
        return visits

    # ---- jobs ------------------------------------------------------------

    @classmethod
    def flag_overdue(cls):
        """Scheduled every hour: at the configured local hour, flag the
        visits still checked in and tell their host and the front desk,
        once. Run by hand: now. Return the number flagged."""
        pool = Pool()
        Company = pool.get('company.company')
        Config = pool.get('office.configuration')
        Notification = pool.get('office.notification')
        transaction = Transaction()
        company_id = transaction.context.get('company')
        companies = [Company(company_id)] if company_id else Company.search(
            [])
        hour = Config(1).get_setting('visit_sign_out_hour')
        desk = cls.desk_users()
        count = 0
        for company in companies:
            if transaction.context.get('_cron'):
                local = calendar_.to_local(calendar_.utcnow(), company)
                if local.hour != hour:
                    continue
            now = calendar_.utcnow()
            visits = cls.search([
                    ('company', '=', company.id),
                    ('state', '=', 'checked_in'),
                    ('overdue_at', '=', None),
                    ], order=[('id', 'ASC')])
            for sub_visits in grouped_slice(visits, 100):
                sub_visits = list(sub_visits)
                cls.write(sub_visits, {'overdue_at': now})
                for visit in sub_visits:
                    Notification.send([visit],
                        visit.host_users() + list(desk),
                        'office_admin.msg_visit_overdue', key='overdue',
                        icon='tryton-warning')
            count += len(visits)
        return count

    @classmethod
    def erase_personal_data(cls):
        """Scheduled daily: erase the ID numbers and mobiles of the
        visitors whose last visit (or registration) is older than the
        retention; not of a refused visitor (the refusal list). Return the
        number of visitors erased."""
        pool = Pool()
        Config = pool.get('office.configuration')
        Line = pool.get('office.visit.line')
        Visitor = pool.get('office.visitor')
        days = Config(1).get_setting('visit_retention_days')
        limit = calendar_.local_today() - dt.timedelta(days=days)
        line = Line.__table__()
        visitor = Visitor.__table__()
        cursor = Transaction().connection.cursor()
        last = line.select(line.visitor, Max(line.date).as_('last'),
            group_by=[line.visitor])
        cursor.execute(*visitor.join(last, 'LEFT',
                condition=last.visitor == visitor.id
                ).select(visitor.id,
                where=(visitor.erased_at == Null)
                & ((visitor.refused == Null)
                    | (visitor.refused == Literal(False)))
                & ((last.last < limit)
                    | ((last.last == Null)
                        & (visitor.create_date < dt.datetime.combine(
                                limit, dt.time())))),
                order_by=[visitor.id.asc]))
        ids = [i for i, in cursor]
        Visitor.erase(Visitor.browse(ids))
        return len(ids)


class Line(OfficeAccessMixin, TodayMixin, ModelSQL, ModelView):
    "Visitor of a visit (the visitor register, 访客登记簿)"
    __name__ = 'office.visit.line'

    visit = fields.Many2One(
        'office.visit', "Visit", required=True, ondelete='CASCADE')
    visitor = fields.Many2One(
        'office.visitor', "Visitor", required=True, ondelete='RESTRICT')
    # Copied from the visit for the record rules and the register (see
    # access.py), kept in sync by sync_visit()
    company = fields.Many2One('company.company', "Company", readonly=True)
    host = fields.Many2One('company.employee', "Host", readonly=True)
    department = fields.Many2One(
        'office.department', "Department", readonly=True)
    date = fields.Date("Date", readonly=True)
    organization = fields.Function(
        fields.Char("Organization"), 'get_visit_values')
    purpose = fields.Function(fields.Char("Purpose"), 'get_visit_values')
    visit_state = fields.Function(
        fields.Selection(STATES, "State"), 'get_visit_values',
        searcher='search_visit_state')
    checked_in_at = fields.Function(
        fields.DateTime("Checked In At"), 'get_visit_values')
    checked_out_at = fields.Function(
        fields.DateTime("Checked Out At"), 'get_visit_values')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('visit_visitor_unique', Unique(t, t.visit, t.visitor),
                'office_admin.msg_visit_line_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.visit, Index.Range())),
                Index(t, (t.visitor, Index.Range())),
                Index(t, (t.date, Index.Range()),
                    (t.department, Index.Range())),
                Index(t, (t.host, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('visit', 'DESC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        return self.visitor.rec_name if self.visitor else str(self.id)

    @classmethod
    def get_visit_values(cls, lines, names):
        result = {n: {} for n in names}
        for line in lines:
            for name in names:
                if name == 'organization':
                    value = line.visitor.organization
                elif name == 'visit_state':
                    value = line.visit.state
                else:
                    value = getattr(line.visit, name)
                result[name][line.id] = value
        return result

    @classmethod
    def search_visit_state(cls, name, clause):
        return [('visit.state',) + tuple(clause[1:])]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Visit = pool.get('office.visit')
        values = super().preprocess_values(mode, values)
        if values.get('visit') is not None and int(values['visit']) >= 0:
            with without_check_access():
                visit = Visit(int(values['visit']))
                values['company'] = visit.company.id
                values['host'] = visit.host.id
                values['department'] = visit.department.id
                values['date'] = visit.date
        return values

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        super().on_modification(mode, lines, field_names=field_names)
        if mode == 'write' and (not field_names or 'visit' in field_names):
            cls.sync_visit(lines=lines)

    @classmethod
    def sync_visit(cls, lines=None, visits=None):
        "Copy the company, host, department and date of the visit"
        copy_from_parent(cls, 'visit', {
                'company': 'company',
                'host': 'host',
                'department': 'department',
                'date': 'date',
                }, records=lines, parents=visits)


class CheckInStart(ModelView):
    "Check in visitors"
    __name__ = 'office.visit.check_in.start'

    code = fields.Char("Token, Name or Mobile", required=True,
        help="Scan the visitor's QR code, or type a name or a mobile of "
        "today's visitors.")


class CheckInRefused(ModelView):
    "Visitor refused"
    __name__ = 'office.visit.check_in.refused'

    message = fields.Text("Message", readonly=True)


class CheckIn(Wizard):
    "Check in visitors"
    __name__ = 'office.visit.check_in'
    start = StateTransition()
    ask = StateView('office.visit.check_in.start',
        'office_admin.visit_check_in_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Check Out", 'check_out', 'tryton-forward'),
            Button("Check In", 'check_in', 'tryton-ok', default=True),
            ])
    check_in = StateTransition()
    check_out = StateTransition()
    refused = StateView('office.visit.check_in.refused',
        'office_admin.visit_check_in_refused_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_start(self):
        if (self.model and self.model.__name__ == 'office.visit'
                and self.records):
            return 'check_in'
        return 'ask'

    def _visits(self):
        Visit = Pool().get('office.visit')
        if getattr(self.ask, 'code', None):
            return Visit.find(self.ask.code)
        return list(self.records)

    def transition_check_in(self):
        pool = Pool()
        Visit = pool.get('office.visit')
        visits = self._visits()
        # The reason first (twice, another day, closed), then the list
        Visit.check_state(visits)
        refused = Visit.refused_visits(visits)
        if refused:
            with without_check_access():
                Visit.notify_refused(refused)
            return 'refused'
        with without_check_access():
            Visit.do_check_in(Visit.browse(visits))
        return 'end'

    def transition_check_out(self):
        Visit = Pool().get('office.visit')
        visits = self._visits()
        for visit in visits:
            if visit.state != 'checked_in':
                raise VisitError(gettext(
                        'office_admin.msg_visit_not_checked_in'))
        with without_check_access():
            Visit._check_out(Visit.browse(visits))
        return 'end'

    def default_refused(self, fields):
        return {'message': gettext('office_admin.msg_visit_refused')}

    def end(self):
        # The list or form it was run from shows the new state at once
        return 'reload'


class BadgeReport(Report):
    "Visitor badge"
    __name__ = 'office.visit.badge'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['labels'] = {
            'report': gettext('office_admin.msg_visit_badge_title'),
            'visitor': gettext('office_admin.msg_visit_badge_visitor'),
            'host': gettext('office_admin.msg_visit_badge_host'),
            'time': gettext('office_admin.msg_visit_badge_time'),
            }
        return context


class Statistic(OfficeAccessMixin, ModelSQL, ModelView):
    "Visits per day and department"
    __name__ = 'office.visit.statistic'

    company = fields.Many2One('company.company', "Company", readonly=True)
    date = fields.Date("Date", readonly=True)
    department = fields.Many2One(
        'office.department', "Department", readonly=True)
    visits = fields.Integer("Visits", readonly=True)
    visitors = fields.Integer("Visitors", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('department', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Visit = pool.get('office.visit')
        Line = pool.get('office.visit.line')
        visit = Visit.__table__()
        line = Line.__table__()
        return line.join(visit, condition=line.visit == visit.id).select(
            Min(line.id).as_('id'),
            visit.company.as_('company'),
            visit.date.as_('date'),
            visit.department.as_('department'),
            Count(visit.id, distinct=True).as_('visits'),
            Count(line.id).as_('visitors'),
            where=~visit.state.in_(['cancelled', 'declined']),
            group_by=[visit.company, visit.date, visit.department])
