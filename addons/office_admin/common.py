# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Small pieces shared by several office models."""
import functools

from trytond.model import fields
from trytond.pool import Pool
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
