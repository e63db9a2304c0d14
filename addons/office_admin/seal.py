# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Seals (印章) and seal-usage requests (用印申请)."""
from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, DeactivableMixin, Index, ModelSQL, ModelView, Workflow,
    fields)
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from .access import OfficeAccessMixin, related_field
from . import calendar_
from .approval import ApprovalMixin
from .common import context_department
from .deadline import DeadlineMixin
from .exceptions import SealRequestError
from .secrecy import SecrecyMixin

SEAL_TYPES = [
    ('official', "Official Seal (公章)"),
    ('contract', "Contract Seal (合同章)"),
    ('finance', "Finance Seal (财务章)"),
    ('legal_rep', "Legal Representative Seal (法人章)"),
    ('invoice', "Invoice Seal (发票章)"),
    ('department', "Department Seal (部门章)"),
    ]


class Seal(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'office.seal'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code")
    company = fields.Many2One('company.company', "Company", required=True)
    type = fields.Selection(SEAL_TYPES, "Type", required=True, sort=False)
    keeper = fields.Many2One(
        'company.employee', "Keeper", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The employee who keeps the seal and records each use.")
    location = fields.Char("Location")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_type(cls):
        return 'official'


class SealRequest(OfficeAccessMixin, 
        DeadlineMixin, SecrecyMixin, ApprovalMixin, ChatMixin, Workflow,
        ModelSQL, ModelView):
    __name__ = 'office.seal.request'
    _approval_summary_fields = (
        'seal', 'document_title', 'copies', 'purpose', 'contract', 'amount',
        'needed_by')
    _approval_amount_field = 'amount'
    _workflow_fields = {'used_by'}
    _workflow_own_fields = {'requester', 'department'}
    # For the record rules (see access.py)
    seal_keeper = related_field('seal.keeper', fields.Many2One(
            'company.employee', "Seal Keeper"))
    _rec_name = 'number'
    _approval_transitions = {
        'approved': 'approved',
        'rejected': 'rejected',
        'returned': 'draft',
        'withdrawn': 'draft',
        }
    _states = {
        'readonly': Eval('state') != 'draft',
        }

    number = fields.Char("Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    requester = fields.Many2One(
        'company.employee', "Requester", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    seal = fields.Many2One(
        'office.seal', "Seal", required=True, states=_states,
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('state') == 'draft', ('active', '=', True), ()),
            ])
    seal_type = fields.Function(
        fields.Selection(SEAL_TYPES, "Seal Type"), 'on_change_with_seal_type')
    document_title = fields.Char(
        "Document Title", required=True, states=_states,
        help="Title of the document to stamp.")
    copies = fields.Integer(
        "Copies", required=True, states=_states,
        domain=[('copies', '>', 0)])
    purpose = fields.Text("Purpose", required=True, states=_states)
    contract = fields.Boolean("Contract", states=_states)
    amount = fields.Numeric(
        "Contract Amount", digits=(16, 2),
        domain=[If(Bool(Eval('amount')), ('amount', '>=', 0), ())],
        states={
            'readonly': _states['readonly'],
            'invisible': ~Eval('contract'),
            'required': Bool(Eval('contract')),
            })
    needed_by = fields.Date(
        "Needed By", states=_states,
        help="The date the stamped document is needed; "
        "escalation starts when it passes.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('used', "Used"),
            ('closed', "Closed"),
            ('rejected', "Rejected"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    used_at = fields.DateTime("Used At", readonly=True)
    used_by = employee_field("Used By", states=['used', 'closed'])
    used_copies = fields.Integer(
        "Copies Stamped",
        domain=[If(Bool(Eval('used_copies')), ('used_copies', '>', 0), ())],
        states={
            'readonly': Eval('state') != 'approved',
            'invisible': Eval('state').in_(['draft', 'submitted']),
            })
    use_note = fields.Text(
        "Use Note",
        states={
            'readonly': ~Eval('state').in_(['approved']),
            'invisible': Eval('state').in_(['draft', 'submitted']),
            })

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(['submitted', 'approved', 'used'])),
                Index(t, (t.department, Index.Range())),
                Index(t, (t.requester, Index.Range())),
                })
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('draft', 'cancelled'),
            ('submitted', 'draft'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('approved', 'used'),
            ('approved', 'cancelled'),
            ('used', 'closed'),
            ('rejected', 'draft'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': ~Eval('state').in_(['rejected', 'cancelled']),
                    'depends': ['state'],
                    'icon': 'tryton-back',
                    },
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'approved']),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'use': {
                    'invisible': Eval('state') != 'approved',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'close': {
                    'invisible': Eval('state') != 'used',
                    'depends': ['state'],
                    'icon': 'tryton-archive',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_requester(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_department(cls):
        return context_department()

    @classmethod
    def default_copies(cls):
        return 1

    @fields.depends('requester', 'department')
    def on_change_requester(self):
        if self.requester and self.requester.department:
            self.department = self.requester.department

    @fields.depends('seal')
    def on_change_with_seal_type(self, name=None):
        return self.seal.type if self.seal else None

    @fields.depends('seal', 'contract')
    def on_change_seal(self):
        if self.seal and self.seal.type == 'contract':
            self.contract = True

    def get_rec_name(self, name):
        return self.number or gettext(
            'office_admin.msg_seal_request_draft_name',
            id=self.id, title=self.document_title or '')

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('number', operator, value),
            ('document_title', operator, value),
            ]

    @classmethod
    def validate_fields(cls, requests, field_names):
        super().validate_fields(requests, field_names)
        if 'needed_by' in field_names:
            cls.check_deadline_future(
                [r for r in requests if r.state == 'draft'], 'needed_by')

    @classmethod
    def copy(cls, requests, default=None):
        default = default.copy() if default is not None else {}
        for field in ['number', 'submitted_at', 'used_at', 'used_by',
                'used_copies', 'use_note', 'deadline', 'needed_by']:
            default.setdefault(field, None)
        default.setdefault('escalation_level', 0)
        return super().copy(requests, default=default)

    @classmethod
    def check_modification(cls, mode, requests, values=None, external=False):
        super().check_modification(
            mode, requests, values=values, external=external)
        if mode == 'delete':
            for request in requests:
                if request.state not in {'draft', 'cancelled'} or (
                        request.number):
                    raise SealRequestError(gettext(
                            'office_admin.msg_seal_request_delete',
                            request=request.rec_name))

    # ---- deadline --------------------------------------------------------

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', 'in', ['submitted', 'approved'])]

    def deadline_owners(self):
        pool = Pool()
        User = pool.get('res.user')
        if self.state == 'submitted':
            return list(self.approval_reviewers_pending())
        return list(User.users_of_employees([self.seal.keeper]).values())

    def deadline_department(self):
        return self.department

    def approval_reviewers_pending(self):
        pool = Pool()
        Step = pool.get('office.approval.step')
        return [s.reviewer for s in Step.search([
                    ('request.res_model', '=', self.__name__),
                    ('request.res_id', '=', self.id),
                    ('state', '=', 'pending'),
                    ])]

    # ---- workflow --------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, requests):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, requests):
        pool = Pool()
        Config = pool.get('office.configuration')
        Calendar = pool.get('office.calendar')
        config = Config(1)
        now = calendar_.utcnow()
        cls.check_deadline_future(requests, 'needed_by')
        for request in requests:
            if not request.number:
                request.number = config.get_seal_request_sequence().get()
            request.submitted_at = now
            if request.needed_by:
                calendar = Calendar.get_calendar(request.company)
                request.deadline = calendar.end_of_working_day(
                    calendar.next_working_day(request.needed_by),
                    request.company)
            request.escalation_level = 0
            # The state first: a rule whose tiers all skip approves at once
            request.state = 'submitted'
        cls.save(requests)
        cls.approval_submit(requests)

    @classmethod
    def _approval_on_approved(cls, requests):
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        for request in requests:
            keepers = list(User.users_of_employees(
                    [request.seal.keeper]).values())
            Notification.send(
                [request], keepers, 'office_admin.msg_seal_request_to_use',
                key='to-use-%s' % request.id)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, requests):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('used')
    @set_employee('used_by')
    def use(cls, requests):
        pool = Pool()
        User = pool.get('res.user')
        user = User(Transaction().user)
        admins = User.users_in_group('office_admin.group_office_admin')
        employees = set(User.get_employees())
        for request in requests:
            if (request.seal.keeper.id not in employees
                    and user not in admins):
                raise SealRequestError(gettext(
                        'office_admin.msg_seal_request_not_keeper',
                        request=request.rec_name,
                        keeper=request.seal.keeper.rec_name))
            if request.used_copies and request.used_copies > request.copies:
                raise SealRequestError(gettext(
                        'office_admin.msg_seal_request_too_many_copies',
                        request=request.rec_name))
        now = calendar_.utcnow()
        for request in requests:
            request.used_at = now
            if not request.used_copies:
                request.used_copies = request.copies
        cls.save(requests)

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, requests):
        pass
