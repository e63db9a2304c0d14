# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields, tree)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .access import OfficeAccessMixin


class Department(
        OfficeAccessMixin, DeactivableMixin, tree(separator=" / "),
        ModelSQL, ModelView):
    __name__ = 'office.department'
    _rec_name = 'name'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    parent = fields.Many2One(
        'office.department', "Parent", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))])
    children = fields.One2Many('office.department', 'parent', "Children")
    head = fields.Many2One(
        'company.employee', "Head", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="Reviews the department's requests (部门负责人).")
    deputy = fields.Many2One(
        'company.employee', "Deputy", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="Stands in for the head.")
    members = fields.One2Many(
        'company.employee', 'department', "Members", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_company_unique', Unique(t, t.company, t.code),
                'office_admin.msg_department_code_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.parent, Index.Range())))
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def on_modification(cls, mode, departments, field_names=None):
        super().on_modification(mode, departments, field_names=field_names)
        Pool().get('res.user')._office_context_cache.clear()
        if mode == 'delete':
            # The approval tiers of the department (cached) lose it
            Pool().get('office.approval.rule').clear_cache()

    def get_head(self, exclude=None):
        """Return the first head (or deputy) found from this department up
        the tree, skipping the employee `exclude` (a head does not review his
        own request)."""
        department = self
        while department:
            reviewer = department.head or department.deputy
            if (reviewer and reviewer != exclude
                    and department.head != exclude):
                return reviewer
            department = department.parent
        return None
