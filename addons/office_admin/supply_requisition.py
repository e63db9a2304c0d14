# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Office-supply requisitions (领用): a department asks, its head (and above
a configured value an Office Administrator) approves through the approval
engine, the office issues from the store as real stock moves to the
department's consumption location, the department confirms receipt.

Stock that is short is back-ordered: the missing quantity stays as draft
moves (which Tryton's supply forecast sees) and the next issue takes them."""
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .access import OfficeAccessMixin, related_field
from . import calendar_
from .calendar_ import local_today
from .approval import ApprovalMixin
from .common import context_department
from .exceptions import SupplyError, SupplyWarning
from .supply import (
    SupplyLineMixin, issue_from_store, product_costs, supply_config)

STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('approved', "Approved"),
    ('partial', "Partially Issued"),
    ('issued', "Issued"),
    ('received', "Received"),
    ('rejected', "Rejected"),
    ('cancelled', "Cancelled"),
    ]


class Requisition(
        OfficeAccessMixin, ApprovalMixin, ChatMixin, Workflow, ModelSQL,
        ModelView):
    "Office-supply requisition"
    __name__ = 'office.supply.requisition'
    _approval_summary_fields = ('date', 'lines', 'note', 'amount')
    _approval_amount_field = 'amount'
    _workflow_fields = {'issued_by', 'received_by'}
    _workflow_own_fields = {'requester', 'department'}
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
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    requester = fields.Many2One(
        'company.employee', "Requester", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    date = fields.Date("Date", required=True, states=_states)
    lines = fields.One2Many(
        'office.supply.requisition.line', 'requisition', "Lines",
        states=_states)
    note = fields.Text("Note", states=_states)
    amount = fields.Function(
        fields.Numeric("Estimated Amount", digits=(16, 2)), 'get_amount')
    pending_amount = fields.Function(
        fields.Numeric("Not Yet Issued", digits=(16, 2)), 'get_amount')
    office_approval = fields.Boolean(
        "Office Approval", readonly=True,
        help="Set at submission when the requisition is worth more than "
        "the configured value: an Office Administrator approves too.")
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    issued_at = fields.DateTime("Issued At", readonly=True)
    issued_by = employee_field("Issued By", states=['partial', 'issued',
            'received'])
    received_at = fields.DateTime("Received At", readonly=True)
    received_by = employee_field("Received By", states=['received'])
    backorder_closed = fields.Boolean(
        "Back-order Closed", readonly=True,
        help="What could not be issued was given up.")
    moves = fields.Function(
        fields.Many2Many('stock.move', None, None, "Stock Moves"),
        'get_moves')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(['submitted', 'approved', 'partial'])),
                Index(t, (t.department, Index.Range()),
                    (t.date, Index.Range())),
                Index(t, (t.requester, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('draft', 'cancelled'),
            ('submitted', 'draft'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('approved', 'cancelled'),
            ('approved', 'partial'),
            ('approved', 'issued'),
            ('partial', 'partial'),
            ('partial', 'issued'),
            ('issued', 'received'),
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
                    # Nothing to submit yet: the client would save an
                    # empty draft that the submission then refuses
                    'readonly': ~Eval('lines', []),
                    'depends': ['state', 'lines'],
                    'icon': 'tryton-forward',
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'approved']),
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                'issue': {
                    'invisible': ~Eval('state').in_(['approved', 'partial']),
                    'depends': ['state'],
                    'icon': 'tryton-ok',
                    },
                'close_backorder': {
                    'invisible': Eval('state') != 'partial',
                    'depends': ['state'],
                    'icon': 'tryton-clear',
                    },
                'receive': {
                    'invisible': Eval('state') != 'issued',
                    'depends': ['state'],
                    'icon': 'tryton-ok',
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
    def default_date(cls):
        return local_today()

    @fields.depends('requester', 'department')
    def on_change_requester(self):
        if self.requester and self.requester.department:
            self.department = self.requester.department

    def get_rec_name(self, name):
        return self.number or gettext(
            'office_admin.msg_supply_requisition_draft_name', id=self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number',) + tuple(clause[1:])]

    @classmethod
    def get_amount(cls, requisitions, names):
        pool = Pool()
        Line = pool.get('office.supply.requisition.line')
        result = {n: {} for n in names}
        lines = [l for r in requisitions for l in r.lines]
        costs = Line.estimated_costs(lines)
        backorders = Line.get_quantities(lines, ['backorder_quantity'])[
            'backorder_quantity'] if 'pending_amount' in names else {}
        for requisition in requisitions:
            amount = pending = Decimal(0)
            for line in requisition.lines:
                cost = costs.get(line.id, Decimal(0))
                amount += Decimal(str(line.quantity or 0)) * cost
                if requisition.state not in {'cancelled', 'rejected'}:
                    pending += Decimal(str(
                            backorders.get(line.id) or 0)) * cost
            if 'amount' in names:
                result['amount'][requisition.id] = amount.quantize(
                    Decimal('0.01'))
            if 'pending_amount' in names:
                result['pending_amount'][requisition.id] = pending.quantize(
                    Decimal('0.01'))
        return result

    def get_moves(self, name):
        return [m.id for l in self.lines for m in l.moves]

    @classmethod
    def copy(cls, requisitions, default=None):
        default = default.copy() if default is not None else {}
        for field in ['number', 'submitted_at', 'issued_at', 'issued_by',
                'received_at', 'received_by']:
            default.setdefault(field, None)
        default.setdefault('date', local_today())
        default.setdefault('office_approval', False)
        default.setdefault('backorder_closed', False)
        return super().copy(requisitions, default=default)

    @classmethod
    def check_modification(cls, mode, requisitions, values=None,
            external=False):
        super().check_modification(
            mode, requisitions, values=values, external=external)
        if mode == 'delete':
            for requisition in requisitions:
                if requisition.state not in {'draft', 'cancelled'} or (
                        requisition.number):
                    raise SupplyError(gettext(
                            'office_admin.msg_supply_requisition_delete',
                            requisition=requisition.rec_name))

    # ---- workflow --------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, requisitions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, requisitions):
        pool = Pool()
        Line = pool.get('office.supply.requisition.line')
        config = supply_config()
        now = calendar_.utcnow()
        lines = []
        for requisition in requisitions:
            if not requisition.lines:
                raise SupplyError(gettext(
                        'office_admin.msg_supply_requisition_no_lines',
                        requisition=requisition.rec_name))
            lines.extend(requisition.lines)
        Line.check_lines(lines)
        # Freeze the estimated unit cost: the approved value
        for company_lines in _by_company(lines).values():
            costs = product_costs({l.product for l in company_lines},
                company_lines[0].requisition.company)
            for line in company_lines:
                line.unit_cost = costs.get(line.product.id, Decimal(0))
        Line.save(lines)
        cls.check_budget(requisitions)
        threshold = config.supply_approval_threshold
        for requisition in requisitions:
            if not requisition.number:
                requisition.number = (
                    config.supply_requisition_sequence.get())
            requisition.submitted_at = now
            requisition.office_approval = bool(
                threshold is not None and requisition.amount > threshold)
        for requisition in requisitions:
            # The state first: a rule whose tiers all skip approves at once
            requisition.state = 'submitted'
        cls.save(requisitions)
        cls.approval_submit(requisitions)

    @classmethod
    def check_budget(cls, requisitions):
        "Warn when a requisition would take a department over its budget"
        pool = Pool()
        Budget = pool.get('office.supply.budget')
        Warning = pool.get('res.user.warning')
        for requisition in requisitions:
            year = requisition.date.year
            with without_check_access():
                budgets = Budget.search([
                        ('department', '=', requisition.department.id),
                        ('year', '=', year),
                        ], limit=1)
            if not budgets:
                continue
            budget, = budgets
            consumed, committed = Budget.usage(
                requisition.department, year, exclude=requisition)
            total = consumed + committed + requisition.amount
            if total > budget.amount:
                key = Warning.format('office_supply_budget', [requisition])
                if Warning.check(key):
                    raise SupplyWarning(key, gettext(
                            'office_admin.msg_supply_budget_exceeded',
                            requisition=requisition.rec_name,
                            department=requisition.department.rec_name,
                            year=year,
                            budget=budget.amount.quantize(Decimal('0.01')),
                            used=(consumed + committed).quantize(
                                Decimal('0.01')),
                            amount=requisition.amount))

    @classmethod
    def _approval_on_approved(cls, requisitions):
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        staff = User.users_in_group('office_admin.group_office_staff')
        Notification.send(requisitions, staff,
            'office_admin.msg_supply_requisition_to_issue',
            key='to-issue', email=False)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, requisitions):
        pool = Pool()
        Move = pool.get('stock.move')
        moves = [m for r in requisitions for m in r.moves
            if m.state in {'draft', 'staging'}]
        with without_check_access():
            Move.cancel(moves)

    @classmethod
    @ModelView.button
    def issue(cls, requisitions):
        """Issue what the store holds as done stock moves; back-order the
        rest as draft moves (see supply.issue_from_store)."""
        pool = Pool()
        Line = pool.get('office.supply.requisition.line')
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        for requisition in requisitions:
            if requisition.state not in {'approved', 'partial'}:
                raise SupplyError(gettext(
                        'office_admin.msg_supply_issue_not_approved',
                        requisition=requisition.rec_name,
                        state=requisition.state_string))
            if not requisition.department.supply_location:
                raise SupplyError(gettext(
                        'office_admin.msg_supply_no_department_location',
                        department=requisition.department.rec_name))
        cls.lock(requisitions)
        to_issue = []
        with without_check_access():
            lines = Line.browse([l.id for r in requisitions for l in r.lines])
            for line in lines:
                missing = line.quantity - line.issued_quantity - sum(
                    m.quantity for m in line.moves
                    if m.state in {'draft', 'assigned'})
                if missing > 0:
                    to_issue.append((line, line.product, missing,
                            line.requisition.department.supply_location,
                            line.requisition.company))
        # What the store lacks waits as draft moves for the next issue
        issue_from_store(to_issue, backorders=lines)
        now = calendar_.utcnow()
        issued, partial, nothing = [], [], []
        requisitions = cls.browse(requisitions)
        for requisition in requisitions:
            lines = requisition.lines
            if all(l.backorder_quantity <= 0 for l in lines):
                issued.append(requisition)
            elif any(l.issued_quantity > 0 for l in lines):
                partial.append(requisition)
            else:
                nothing.append(requisition)
            if requisition in issued or requisition in partial:
                requisition.issued_at = now
        cls.save(issued + partial)
        if issued:
            cls._issue(issued, 'issued')
        if partial:
            cls._issue(partial, 'partial')
        for requisition in issued + partial:
            requisition.chat_post(
                'office_admin.msg_supply_requisition_issued_chat',
                audience='internal',
                issued=', '.join(
                    '%s %s' % (l.issued_quantity, l.product.rec_name)
                    for l in requisition.lines if l.issued_quantity),
                backorder=', '.join(
                    '%s %s' % (l.backorder_quantity, l.product.rec_name)
                    for l in requisition.lines if l.backorder_quantity > 0)
                or '-')
        for requisition in issued + partial + nothing:
            requesters = User.users_of_employees(
                [requisition.requester]).values()
            msg = ('office_admin.msg_supply_requisition_ready'
                if requisition in issued
                else 'office_admin.msg_supply_requisition_backordered')
            Notification.send([requisition], list(requesters), msg,
                key='issue-%s-%s' % (
                    len(requisition.moves), requisition.state))

    @classmethod
    @set_employee('issued_by')
    def _issue(cls, requisitions, state):
        if state == 'issued':
            cls._to_issued(requisitions)
        else:
            cls._to_partial(requisitions)

    @classmethod
    @Workflow.transition('issued')
    def _to_issued(cls, requisitions):
        pass

    @classmethod
    @Workflow.transition('partial')
    def _to_partial(cls, requisitions):
        pass

    @classmethod
    @ModelView.button
    def close_backorder(cls, requisitions):
        "Give up what could not be issued: the requisition counts as issued"
        pool = Pool()
        Move = pool.get('stock.move')
        moves = [m for r in requisitions for m in r.moves
            if m.state in {'draft', 'staging', 'assigned'}]
        with without_check_access():
            Move.cancel(moves)
        for requisition in requisitions:
            requisition.backorder_closed = True
            requisition.chat_post(
                'office_admin.msg_supply_requisition_backorder_closed_chat',
                audience='internal')
        cls.save(requisitions)
        cls._to_issued(requisitions)

    @classmethod
    @ModelView.button
    @Workflow.transition('received')
    @set_employee('received_by')
    def receive(cls, requisitions):
        pool = Pool()
        User = pool.get('res.user')
        user = User(Transaction().user)
        employees = set(User.get_employees())
        staff = User.users_in_group('office_admin.group_office_staff')
        for requisition in requisitions:
            department = requisition.department
            members = {e.id for e in department.members}
            if (not employees & (members | {requisition.requester.id})
                    and user not in staff):
                raise SupplyError(gettext(
                        'office_admin.msg_supply_receive_not_department',
                        requisition=requisition.rec_name,
                        department=department.rec_name))
        now = calendar_.utcnow()
        for requisition in requisitions:
            requisition.received_at = now
        cls.save(requisitions)


def _by_company(lines):
    result = defaultdict(list)
    for line in lines:
        result[line.requisition.company].append(line)
    return result


# Lines are edited while the document is a draft (new lines too)
_LINE_STATES = {
    'readonly': ~Eval('requisition_state', 'draft').in_([None, 'draft']),
    }


class RequisitionLine(OfficeAccessMixin, SupplyLineMixin, ModelSQL, ModelView):
    "Office-supply requisition line"
    __name__ = 'office.supply.requisition.line'
    # For the record rules (see access.py)
    # an id, not a Many2One: the line is not a company record
    requisition_company = related_field(
        'requisition.company', fields.Integer("Requisition Company"))
    requisition_requester = related_field(
        'requisition.requester', fields.Many2One(
            'company.employee', "Requisition Requester"))
    requisition_department = related_field(
        'requisition.department', fields.Many2One(
            'office.department', "Requisition Department"))
    requisition_create_uid = related_field(
        'requisition.create_uid', fields.Many2One(
            'res.user', "Requisition Created By"))
    requisition_reviewers = related_field(
        'requisition.approval_reviewers', fields.Many2Many(
            'res.user', None, None, "Requisition Reviewers"))
    _supply_document = 'requisition'

    requisition = fields.Many2One(
        'office.supply.requisition', "Requisition", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True,
        domain=[
            ('type', '=', 'goods'),
            If(Eval('requisition_state', 'draft') == 'draft',
                ('active', '=', True), ()),
            ],
        context={'office_supply': True},
        states=_LINE_STATES)
    quantity = fields.Float(
        "Quantity", required=True, digits='unit',
        states=_LINE_STATES)
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    purpose = fields.Char(
        "Purpose", states=_LINE_STATES)
    unit_cost = fields.Numeric(
        "Unit Cost", digits=(16, 4), readonly=True,
        help="The estimated unit cost, frozen at submission.")
    amount = fields.Function(
        fields.Numeric("Amount", digits=(16, 2)), 'get_line_amount')
    moves = fields.One2Many('stock.move', 'origin', "Moves", readonly=True)
    issued_quantity = fields.Function(
        fields.Float("Issued", digits='unit'), 'get_quantities')
    backorder_quantity = fields.Function(
        fields.Float("Back-ordered", digits='unit'), 'get_quantities')
    requisition_state = fields.Function(
        fields.Selection(STATES, "Requisition State"),
        'on_change_with_requisition_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.product, Index.Range())))

    @classmethod
    def default_requisition_state(cls):
        return 'draft'

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None

    @fields.depends('requisition', '_parent_requisition.state')
    def on_change_with_requisition_state(self, name=None):
        return self.requisition.state if self.requisition else None

    @fields.depends('product', 'requisition', '_parent_requisition.company')
    def on_change_product(self):
        if self.product:
            company = self.requisition.company if self.requisition else None
            self.unit_cost = product_costs([self.product], company).get(
                self.product.id)

    @fields.depends('quantity', 'unit_cost')
    def on_change_with_amount(self, name=None):
        if self.quantity is not None and self.unit_cost is not None:
            return (Decimal(str(self.quantity)) * self.unit_cost).quantize(
                Decimal('0.01'))

    @classmethod
    def estimated_costs(cls, lines):
        """Return {line id: unit cost}: the cost frozen at submission, else
        the product's current cost"""
        result = {l.id: l.unit_cost for l in lines if l.unit_cost is not None}
        missing = [l for l in lines if l.unit_cost is None and l.product]
        for company_lines in _by_company(missing).values():
            costs = product_costs({l.product for l in company_lines},
                company_lines[0].requisition.company)
            for line in company_lines:
                result[line.id] = costs.get(line.product.id, Decimal(0))
        return result

    @classmethod
    def get_line_amount(cls, lines, name):
        costs = cls.estimated_costs(lines)
        return {l.id: (Decimal(str(l.quantity or 0))
                * costs.get(l.id, Decimal(0))).quantize(Decimal('0.01'))
            for l in lines}

    @classmethod
    def get_quantities(cls, lines, names):
        pool = Pool()
        Move = pool.get('stock.move')
        Uom = pool.get('product.uom')
        issued = defaultdict(float)
        with without_check_access():
            for sub in grouped_slice(lines, 200):
                for move in Move.search([
                            ('origin', 'in', [str(l) for l in sub]),
                            ('state', '=', 'done'),
                            ]):
                    issued[move.origin.id] += Uom.compute_qty(
                        move.unit, move.quantity, move.product.default_uom)
        result = {n: {} for n in names}
        for line in lines:
            done = issued[line.id]
            if 'issued_quantity' in names:
                result['issued_quantity'][line.id] = done
            if 'backorder_quantity' in names:
                result['backorder_quantity'][line.id] = (
                    max(line.quantity - done, 0)
                    if line.requisition.state not in {
                        'cancelled', 'rejected'}
                    and not line.requisition.backorder_closed else 0)
        return result

    def get_rec_name(self, name):
        return '%s %s' % (self.quantity, self.product.rec_name)


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['office.supply.requisition.line']
