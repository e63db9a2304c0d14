# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase


class OfficeAdminTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Office Admin module"
    module = 'office_admin'

    @property
    def _skip_company_rule(self):
        # Approval rules without company apply to every company
        return super()._skip_company_rule | {
            ('office.approval.rule', 'company'),
            }


del ModuleTestCase
