# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Small pieces shared by several office models."""
import functools
import weakref

from trytond.model import fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction


def mine_mixin(user_field):
    """Return a mixin with a boolean `mine` field, searchable, true when
    the user in user_field is the current user ("My Approvals", "To Read")"""

    class MineMixin:
        __slots__ = ()
        mine = fields.Function(
            fields.Boolean("Mine"), 'get_mine', searcher='search_mine')

        def get_mine(self, name):
            user = getattr(self, user_field)
            return bool(user) and user.id == Transaction().user

        @classmethod
        def search_mine(cls, name, clause):
            _, operator, value = clause[:3]
            user = Transaction().user
            if (operator == '=') == bool(value):
                return [(user_field, '=', user)]
            return [(user_field, '!=', user)]
    return MineMixin


def context_department():
    "Return the id of the department of the employee in the context"
    pool = Pool()
    Employee = pool.get('company.employee')
    employee_id = Transaction().context.get('employee')
    if employee_id:
        employee = Employee(employee_id)
        if employee.department:
            return employee.department.id


def for_each_company(func):
    """Decorate a scheduled classmethod: without a company in the context
    (the jobs created at installation have none, and run as root) call it
    once per company in its context and return the list of the results"""
    @functools.wraps(func)
    def wrapper(cls, *args, **kwargs):
        Company = Pool().get('company.company')
        transaction = Transaction()
        if transaction.context.get('company'):
            return func(cls, *args, **kwargs)
        results = []
        for company in Company.search([], order=[('id', 'ASC')]):
            with transaction.set_context(company=company.id):
                results.append(func(cls, *args, **kwargs))
        return results
    return wrapper


REQUEST_STATES = {'readonly': Eval('state') != 'draft'}


class RequestWorkflowMixin:
    """The workflow of a request the approval engine decides: draft →
    submitted → approved or rejected; returned or withdrawn, it is a draft
    again, and a rejected (or cancelled) one can be redrafted. Its fields
    are read-only once submitted (REQUEST_STATES)."""
    __slots__ = ()
    _approval_transitions = {
        'approved': 'approved',
        'rejected': 'rejected',
        'returned': 'draft',
        'withdrawn': 'draft',
        }
    # Each model defines its state field (trytond keeps a mixin's field
    # over the model's): draft, submitted, approved, rejected at least
    company = fields.Many2One(
        'company.company', "Company", required=True, states=REQUEST_STATES)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'draft'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('rejected', 'draft'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': ~Eval('state').in_(['rejected', 'cancelled']),
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


class EmployeeRequestMixin(RequestWorkflowMixin):
    """A request an employee files for himself (leave, overtime, 补卡), in
    his department, decided by the approval engine"""
    __slots__ = ()
    _workflow_own_fields = {'employee', 'department'}
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, states=REQUEST_STATES,
        domain=[('company', '=', Eval('company', -1))])
    department = fields.Many2One(
        'office.department', "Department", required=True,
        states=REQUEST_STATES)

    @classmethod
    def default_employee(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_department(cls):
        return context_department()

    @fields.depends('employee')
    def on_change_employee(self):
        if self.employee and self.employee.department:
            self.department = self.employee.department

    def approval_requester_employee(self):
        return self.employee

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('employee') and not values.get('department'):
            Employee = Pool().get('company.employee')
            employee = Employee(values['employee'])
            if employee.department:
                values['department'] = employee.department.id
        return values


# What one transaction (one RPC call) reads several times, read once: the
# dicts live and die with the transaction, never across transactions or
# workers (see transaction_cache)
_TRANSACTION_CACHES = weakref.WeakKeyDictionary()


def transaction_cache(name):
    """Return the dict name of the current transaction: it starts empty in
    every transaction (a restarted one too) and is dropped with it. Whoever
    fills it clears it (clear_transaction_cache) when what it holds changes
    in the transaction."""
    caches = _TRANSACTION_CACHES.setdefault(Transaction(), {})
    return caches.setdefault(name, {})


def clear_transaction_cache(*names):
    "Forget the dicts names of the current transaction"
    caches = _TRANSACTION_CACHES.get(Transaction())
    if caches:
        for name in names:
            caches.pop(name, None)
