# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'
    office_calendar = fields.Many2One(
        'office.calendar', "Working-day Calendar",
        help="Weekends, public holidays and adjusted working days used for "
        "every deadline of the company.\n"
        "Leave empty to use the default calendar.")


class Employee(metaclass=PoolMeta):
    __name__ = 'company.employee'
    department = fields.Many2One(
        'office.department', "Department", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))])

    @classmethod
    def on_modification(cls, mode, employees, field_names=None):
        super().on_modification(mode, employees, field_names=field_names)
        Pool().get('res.user')._office_context_cache.clear()
