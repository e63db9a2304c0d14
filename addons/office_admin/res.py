# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

from sql.aggregate import Count

from trytond import config
from trytond.cache import Cache
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .notification import clear_user_infos
from .secrecy import SECRECY_LEVELS, secrecy_rank


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    clearance = fields.Selection(
        SECRECY_LEVELS, "Secrecy Clearance", required=True, sort=False,
        help="The highest secrecy level of records the user may see.")
    approval_delegations = fields.One2Many(
        'office.approval.delegation', 'user', "Out-of-office Delegations")
    _office_context_cache = Cache(
        'res.user.office_context', context=False)

    @classmethod
    def default_clearance(cls):
        return 'internal'

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        cls._office_context_cache.clear()
        # The names and addresses actions read (notification.user_infos)
        clear_user_infos()
        if mode == 'delete':
            # Their delegations are deleted by the database (CASCADE)
            Pool().get('office.approval.delegation')._in_force_cache.clear()

    def get_status_bar(self, name):
        """The user's name without the company's currency code (an office
        user has no use for [CNY] after every name)"""
        status = super().get_status_bar(name)
        if self.company and self.company.currency:
            status = status.removesuffix(
                ' [%s]' % self.company.currency.code)
        return status

    @classmethod
    def _get_preferences(cls, user, context_only=False):
        preferences = super()._get_preferences(
            user, context_only=context_only)
        if not context_only:
            # The web client shows and takes dates and times on the
            # company's clock (web/patches/sao-company-timezone.patch),
            # on the browser's when the company has no time zone
            preferences['company_timezone'] = (
                user.company.timezone if user.company else None)
        return preferences

    @classmethod
    def get_office_context(cls):
        """Return the values office record rules are evaluated with.

        user_id: the user, clearance_rank: its clearance as an integer,
        employees: its employees, departments: the departments of those
        employees, headed_departments: the departments (and their
        sub-departments) that one of those employees heads or deputises."""
        pool = Pool()
        Department = pool.get('office.department')
        user_id = Transaction().user
        key = user_id
        context = cls._office_context_cache.get(key)
        if context is not None:
            return context
        employees = cls.get_employees()
        departments = set()
        headed_ids = set()
        # Without access check: the rules being evaluated call this method
        with without_check_access():
            user = cls(user_id)
            for employee in user.employees:
                if employee.id in employees and employee.department:
                    departments.add(employee.department.id)
            if employees:
                headed = Department.search([
                        ['OR',
                            ('head', 'in', employees),
                            ('deputy', 'in', employees),
                            ],
                        ])
                if headed:
                    headed_ids = {d.id for d in Department.search([
                                ('parent', 'child_of',
                                    [d.id for d in headed]),
                                ])}
        context = {
            'user_id': user_id,
            'clearance_rank': secrecy_rank(user.clearance),
            'employees': list(employees),
            'departments': sorted(departments),
            'headed_departments': sorted(headed_ids),
            }
        cls._office_context_cache.set(key, context)
        return context

    @classmethod
    def get_login(cls, login, parameters):
        # A device that already logged in as this login is not refused
        # because of other people's failures from the same address: only
        # its own failures count (LoginAttempt.count_ip)
        pool = Pool()
        UserDevice = pool.get('res.user.device')
        known = bool(parameters.get('device_cookie')
            and UserDevice.get_valid_cookie(
                login, parameters['device_cookie']))
        with Transaction().set_context(_office_known_device=known):
            return super().get_login(login, parameters)

    @classmethod
    def users_in_group(cls, xml_id):
        "Return the active users of the group with the XML id"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        group_id = ModelData.get_id(*xml_id.split('.'))
        return cls.search([
                ('groups', '=', group_id),
                ('active', '=', True),
                ], order=[('id', 'ASC')])

    @classmethod
    def users_of_employees(cls, employees):
        "Return a dictionary of employee id to its (first) active user"
        pool = Pool()
        UserEmployee = pool.get('res.user-company.employee')
        employee_ids = [int(e) for e in employees if e]
        result = {}
        if not employee_ids:
            return result
        # The main employee of a user wins over an additional one
        for user in cls.search([
                    ('employee', 'in', employee_ids),
                    ('active', '=', True),
                    ], order=[('id', 'ASC')]):
            result.setdefault(user.employee.id, user)
        missing = [e for e in employee_ids if e not in result]
        if missing:
            for link in UserEmployee.search([
                        ('employee', 'in', missing),
                        ('user.active', '=', True),
                        ], order=[('id', 'ASC')]):
                result.setdefault(link.employee.id, link.user)
        return result


def login_window():
    "Seconds a failed login is counted for (`[office] login_window`)"
    return config.getint('office', 'login_window', default=300)


class Group(metaclass=PoolMeta):
    __name__ = 'res.group'

    @classmethod
    def on_modification(cls, mode, groups, field_names=None):
        super().on_modification(mode, groups, field_names=field_names)
        if mode == 'delete':
            # The approval tiers of the group (cached) lose it
            Pool().get('office.approval.rule').clear_cache()


class LoginAttempt(metaclass=PoolMeta):
    """Failed logins counted so that an attacker slows himself down, not
    his victim: for a few minutes instead of the session timeout, per login
    and device, or per login and address when the device is unknown, and
    per address (`[session] max_attempt_ip_network`) only for unknown
    devices."""
    __name__ = 'res.user.login.attempt'

    @staticmethod
    def delay():
        return dt.datetime.now() - dt.timedelta(seconds=login_window())

    @classmethod
    def _unknown_device(cls, table, login):
        "The condition on failures of login from this unknown device"
        _, ip_network = Transaction().remote_address()
        return ((table.login == login[:cls.login.size])
            & (table.device_cookie == None)  # noqa: E711
            & (table.ip_network == (str(ip_network) if ip_network else None)))

    @classmethod
    def remove(cls, login, device_cookie=None):
        if device_cookie:
            return super().remove(login, device_cookie)
        # A success from one address does not clear another's failures
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(
                where=cls._unknown_device(table, login)))

    @classmethod
    def count(cls, login, device_cookie=None):
        if device_cookie:
            return super().count(login, device_cookie)
        # Failures from elsewhere do not lock this address out
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(Count(),
                where=cls._unknown_device(table, login)
                & (table.create_date >= cls.delay())))
        return cursor.fetchone()[0]

    @classmethod
    def count_ip(cls):
        if Transaction().context.get('_office_known_device'):
            return 0
        return super().count_ip()


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.application.selection.append(
            ('office_admin', "Office Clock Devices"))
