# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Monthly office-supply demand plans (月度需求计划) and their consolidation
into purchase requests (central purchasing).

One plan per department and month, due on a configured day (working-day
rules of the company calendar), reminded every day from a configured day,
escalated by the deadline job when late. The office consolidates every
approved plan of a month in one action; a plan is consolidated once only
(locked, then marked)."""
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.company.model import employee_field
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from .access import OfficeAccessMixin, related_field
from . import calendar_
from .calendar_ import local_today
from .approval import ApprovalMixin
from .common import context_department, for_each_company
from .deadline import DeadlineMixin
from .exceptions import SupplyError, SupplyValidationError
from .supply import SupplyLineMixin, new_purchase_request, supply_config


def first_of_month(date):
    return date.replace(day=1)


def due_date(month, company=None):
    """Return the date the plans of month (a first of month) are due, by the
    configured day and working-day rule"""
    pool = Pool()
    Config = pool.get('office.configuration')
    Calendar = pool.get('office.calendar')
    config = Config(1)
    day = config.supply_plan_due_day or 5
    calendar = Calendar.get_calendar(company)
    if config.supply_plan_due_rule == 'working':
        date = calendar.next_working_day(month)
        if day > 1:
            date = calendar.add_working_days(date, day - 1)
        return date
    date = month.replace(day=day)
    if config.supply_plan_due_rule == 'next_working':
        date = calendar.next_working_day(date)
    return date


class Plan(OfficeAccessMixin, DeadlineMixin, ApprovalMixin, ChatMixin, Workflow, ModelSQL,
        ModelView):
    "Monthly office-supply demand plan"
    __name__ = 'office.supply.plan'
    _approval_summary_fields = ('department', 'month', 'lines', 'note')
    _workflow_fields = {'submitted_by'}
    _workflow_own_fields = {'department'}
    _approval_transitions = {
        'approved': 'approved',
        'rejected': 'rejected',
        'returned': 'draft',
        'withdrawn': 'draft',
        }
    _states = {
        'readonly': Eval('state') != 'draft',
        }

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))])
    month = fields.Date(
        "Month", required=True, states=_states,
        help="The first day of the month the plan is for.")
    lines = fields.One2Many(
        'office.supply.plan.line', 'plan', "Lines", states=_states)
    note = fields.Text("Note", states=_states)
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ('consolidated', "Consolidated"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    due_date = fields.Date("Due Date", readonly=True)
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    submitted_by = employee_field(
        "Submitted By", states=['submitted', 'approved', 'consolidated'])
    late = fields.Function(
        fields.Boolean("Late", help="Submitted after its due date, "
            "or still not submitted when it is due."),
        'get_late', searcher='search_late')
    consolidation = fields.Many2One(
        'office.supply.consolidation', "Consolidation", readonly=True,
        ondelete='RESTRICT')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('department_month_unique', Unique(t, t.department, t.month),
                'office_admin.msg_supply_plan_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.month, Index.Range()), (t.state, Index.Equality())),
                Index(t, (t.consolidation, Index.Range())),
                })
        cls._order = [('month', 'DESC'), ('department', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('draft', 'cancelled'),
            ('submitted', 'draft'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('approved', 'consolidated'),
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
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    'icon': 'tryton-cancel',
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_department(cls):
        return context_department()

    @classmethod
    def default_month(cls):
        today = local_today()
        month = first_of_month(today)
        # After the due day, the next month is the one to plan
        if today > due_date(month):
            month = first_of_month(month + dt.timedelta(days=31))
        return month

    def get_rec_name(self, name):
        return gettext('office_admin.msg_supply_plan_name',
            department=self.department.rec_name if self.department else '',
            month=self.month.strftime('%Y-%m') if self.month else '')

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('department.rec_name',) + tuple(clause[1:])]

    def get_late(self, name):
        if not self.due_date:
            return False
        deadline = self.deadline
        if self.submitted_at:
            return bool(deadline and self.submitted_at > deadline)
        return (self.state == 'draft' and deadline is not None
            and calendar_.utcnow() > deadline)

    @classmethod
    def search_late(cls, name, clause):
        _, operator, value = clause[:3]
        now = calendar_.utcnow()
        table = cls.__table__()
        late = table.select(table.id, where=(
                (table.submitted_at > table.deadline)
                | ((table.state == 'draft') & (table.deadline < now))))
        if (operator == '=') == bool(value):
            return [('id', 'in', late)]
        return [('id', 'not in', late)]

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        if field_names & {'month', 'state'}:
            cls.check_month([p for p in plans if p.state == 'draft'])

    @classmethod
    def check_month(cls, plans):
        for plan in plans:
            if plan.month.day != 1:
                raise SupplyValidationError(gettext(
                        'office_admin.msg_supply_plan_month_first',
                        plan=plan.rec_name))
            today = local_today(plan.company)
            if plan.month < first_of_month(today):
                raise SupplyValidationError(gettext(
                        'office_admin.msg_supply_plan_month_closed',
                        plan=plan.rec_name,
                        month=plan.month.strftime('%Y-%m')))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('month'):
            month = values['month']
            if isinstance(month, str):
                month = dt.date.fromisoformat(month)
            values['month'] = first_of_month(month)
        return values

    @classmethod
    def on_modification(cls, mode, plans, field_names=None):
        super().on_modification(mode, plans, field_names=field_names)
        if mode == 'create' or (field_names and 'month' in field_names):
            cls.set_due(plans)

    @classmethod
    def set_due(cls, plans):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        to_write = []
        for plan in plans:
            due = due_date(plan.month, plan.company)
            calendar = Calendar.get_calendar(plan.company)
            deadline = calendar.end_of_working_day(due, plan.company)
            if plan.due_date != due or plan.deadline != deadline:
                to_write.extend([[plan], {
                            'due_date': due,
                            'deadline': deadline,
                            }])
        if to_write:
            with without_check_access():
                cls.write(*to_write)

    @classmethod
    def copy(cls, plans, default=None):
        default = default.copy() if default is not None else {}
        for field in ['submitted_at', 'submitted_by', 'consolidation',
                'deadline', 'due_date']:
            default.setdefault(field, None)
        default.setdefault('escalation_level', 0)
        return super().copy(plans, default=default)

    @classmethod
    def check_modification(cls, mode, plans, values=None, external=False):
        super().check_modification(
            mode, plans, values=values, external=external)
        if mode == 'delete':
            for plan in plans:
                if plan.state not in {'draft', 'cancelled'}:
                    raise SupplyError(gettext(
                            'office_admin.msg_supply_plan_delete',
                            plan=plan.rec_name))

    # ---- deadline --------------------------------------------------------

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', '=', 'draft')]

    def deadline_owners(self):
        pool = Pool()
        User = pool.get('res.user')
        head = self.department.get_head() if self.department else None
        users = list(User.users_of_employees([head]).values()) if head else []
        if self.create_uid and self.create_uid.id != 0:
            users.append(self.create_uid)
        return users

    def deadline_department(self):
        return self.department

    def approval_requester_employee(self):
        if self.submitted_by:
            return self.submitted_by
        return Pool().get('res.user')(Transaction().user).employee

    # ---- workflow --------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, plans):
        pass

    @classmethod
    @ModelView.button
    def submit(cls, plans):
        pool = Pool()
        Line = pool.get('office.supply.plan.line')
        supply_config()
        for plan in plans:
            if plan.state != 'draft':
                raise SupplyError(gettext(
                        'office_admin.msg_supply_plan_already_submitted',
                        plan=plan.rec_name, state=plan.state_string))
            if not plan.lines:
                raise SupplyError(gettext(
                        'office_admin.msg_supply_plan_no_lines',
                        plan=plan.rec_name))
        cls.check_month(plans)
        Line.check_lines([l for p in plans for l in p.lines])
        cls._submit(plans)

    @classmethod
    @Workflow.transition('submitted')
    def _submit(cls, plans):
        pool = Pool()
        User = pool.get('res.user')
        employee = User(Transaction().user).employee
        now = calendar_.utcnow()
        for plan in plans:
            plan.submitted_at = now
            plan.submitted_by = employee
            plan.state = 'submitted'
        cls.save(plans)
        cls.approval_submit(plans)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, plans):
        pass

    @classmethod
    @Workflow.transition('consolidated')
    def _consolidated(cls, plans):
        pass

    # ---- reminders -------------------------------------------------------

    @classmethod
    @for_each_company
    def remind_plans(cls, date=None):
        """Scheduled: from the reminder day, make sure every department with
        a consumption location has a plan for the month and remind the heads
        of those not yet submitted, once a day; idempotent. For every
        company when the job has none."""
        pool = Pool()
        Config = pool.get('office.configuration')
        Department = pool.get('office.department')
        Notification = pool.get('office.notification')
        config = Config(1)
        company_id = Transaction().context.get('company')
        if not company_id or not config.supply_warehouse:
            return 0
        today = date or local_today()
        month = first_of_month(today)
        if today.day < (config.supply_plan_remind_day or 1):
            return 0
        due = due_date(month)
        if today > due:
            # Late plans are the deadline job's: it escalates them
            return 0
        departments = Department.search([
                ('company', '=', company_id),
                ('supply_location', '!=', None),
                ])
        existing = {}
        for sub in grouped_slice(departments, 200):
            for plan in cls.search([
                        ('department', 'in', [d.id for d in sub]),
                        ('month', '=', month),
                        ]):
                existing[plan.department.id] = plan
        missing = [d for d in departments if d.id not in existing]
        if missing:
            with without_check_access():
                created = cls.create([{
                            'company': company_id,
                            'department': d.id,
                            'month': month,
                            } for d in missing])
            for plan in created:
                existing[plan.department.id] = plan
        sent = 0
        to_remind = defaultdict(list)
        for plan in existing.values():
            if plan.state == 'draft':
                for user in plan.deadline_owners():
                    to_remind[user].append(plan)
        for user, plans in to_remind.items():
            sent += Notification.send(plans, [user],
                'office_admin.msg_supply_plan_reminder',
                key='remind-%s' % today.isoformat(),
                due=due.isoformat())
        return sent


# Lines are edited while the document is a draft (new lines too)
_LINE_STATES = {
    'readonly': ~Eval('plan_state', 'draft').in_([None, 'draft']),
    }


class PlanLine(OfficeAccessMixin, SupplyLineMixin, ModelSQL, ModelView):
    "Monthly office-supply demand plan line"
    __name__ = 'office.supply.plan.line'
    # For the record rules (see access.py)
    # an id, not a Many2One: the line is not a company record
    plan_company = related_field(
        'plan.company', fields.Integer("Plan Company"))
    plan_department = related_field('plan.department', fields.Many2One(
            'office.department', "Plan Department"))
    plan_create_uid = related_field('plan.create_uid', fields.Many2One(
            'res.user', "Plan Created By"))
    plan_reviewers = related_field('plan.approval_reviewers', fields.Many2Many(
            'res.user', None, None, "Plan Reviewers"))
    _supply_document = 'plan'

    plan = fields.Many2One(
        'office.supply.plan', "Plan", required=True, ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True,
        domain=[
            ('type', '=', 'goods'),
            If(Eval('plan_state', 'draft') == 'draft',
                ('active', '=', True), ()),
            ],
        context={'office_supply': True},
        states=_LINE_STATES)
    quantity = fields.Float(
        "Quantity", required=True, digits='unit',
        states=_LINE_STATES)
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    note = fields.Char(
        "Note", states=_LINE_STATES)
    plan_state = fields.Function(
        fields.Selection('get_plan_states', "Plan State"),
        'on_change_with_plan_state')

    @classmethod
    def get_plan_states(cls):
        Plan = Pool().get('office.supply.plan')
        return Plan.fields_get(['state'])['state']['selection']

    @classmethod
    def default_plan_state(cls):
        return 'draft'

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None

    @fields.depends('plan', '_parent_plan.state')
    def on_change_with_plan_state(self, name=None):
        return self.plan.state if self.plan else None


class Consolidation(OfficeAccessMixin, ModelSQL, ModelView):
    "Consolidation of a month's demand plans into purchase requests"
    __name__ = 'office.supply.consolidation'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    month = fields.Date("Month", required=True, readonly=True)
    plans = fields.One2Many(
        'office.supply.plan', 'consolidation', "Plans", readonly=True)
    requests = fields.One2Many(
        'purchase.request', 'origin', "Purchase Requests", readonly=True)
    consolidated_at = fields.DateTime("Consolidated At", readonly=True)
    consolidated_by = fields.Many2One(
        'company.employee', "Consolidated By", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return gettext('office_admin.msg_supply_consolidation_name',
            month=self.month.strftime('%Y-%m') if self.month else '',
            id=self.id)

    @classmethod
    def consolidate(cls, month, company=None):
        """Turn every approved, not yet consolidated plan of month into one
        purchase request per product for the store; return the
        consolidation. A plan is consolidated once only: the plans are
        locked, then re-read, then marked."""
        pool = Pool()
        Plan = pool.get('office.supply.plan')
        Request = pool.get('purchase.request')
        Company = pool.get('company.company')
        User = pool.get('res.user')
        supply_config()
        company = company or Company(Transaction().context['company'])
        month = first_of_month(month)
        domain = [
            ('company', '=', company.id),
            ('month', '=', month),
            ('state', '=', 'approved'),
            ('consolidation', '=', None),
            ]
        with without_check_access():
            plans = Plan.search(domain)
            if plans:
                Plan.lock(plans)
                plans = Plan.search(domain)
        if not plans:
            raise SupplyError(gettext(
                    'office_admin.msg_supply_plan_nothing_to_consolidate',
                    month=month.strftime('%Y-%m')))
        employee = User(Transaction().user).employee
        consolidation = cls(company=company, month=month,
            consolidated_at=calendar_.utcnow(), consolidated_by=employee)
        consolidation.save()
        quantities = defaultdict(float)
        products = {}
        for plan in plans:
            for line in plan.lines:
                products[line.product.id] = line.product
                quantities[line.product.id] += line.quantity
        today = local_today(company)
        requests = [new_purchase_request(products[product_id], quantity,
                company, consolidation, max(month, today))
            for product_id, quantity in sorted(quantities.items())]
        with without_check_access():
            Request.save(requests)
            Plan.write(plans, {'consolidation': consolidation.id})
            Plan._consolidated(plans)
        for plan in plans:
            plan.chat_post(
                'office_admin.msg_supply_plan_consolidated_chat',
                audience='internal', consolidation=consolidation.rec_name)
        return consolidation


class ConsolidateStart(ModelView):
    "Consolidate monthly plans"
    __name__ = 'office.supply.consolidate.start'

    month = fields.Date("Month", required=True)
    plans = fields.Many2Many(
        'office.supply.plan', None, None, "Approved Plans", readonly=True)
    missing = fields.Many2Many(
        'office.department', None, None, "Departments Not Approved",
        readonly=True,
        help="Departments whose plan for the month is not approved yet: "
        "they are left for a later consolidation.")

    @fields.depends('month', 'plans', 'missing')
    def on_change_month(self):
        pool = Pool()
        Plan = pool.get('office.supply.plan')
        Department = pool.get('office.department')
        if not self.month:
            self.plans = []
            self.missing = []
            return
        month = first_of_month(self.month)
        plans = Plan.search([
                ('month', '=', month),
                ('state', '=', 'approved'),
                ('consolidation', '=', None),
                ])
        self.plans = [p.id for p in plans]
        done = {p.department.id for p in Plan.search([
                    ('month', '=', month),
                    ('state', 'in', ['approved', 'consolidated']),
                    ])}
        self.missing = [d.id for d in Department.search([
                    ('supply_location', '!=', None),
                    ('id', 'not in', list(done)),
                    ])]


class Consolidate(Wizard):
    "Consolidate monthly plans"
    __name__ = 'office.supply.consolidate'
    start = StateView('office.supply.consolidate.start',
        'office_admin.supply_consolidate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Consolidate", 'consolidate', 'tryton-ok', default=True),
            ])
    consolidate = StateAction('office_admin.act_supply_consolidation')

    def default_start(self, fields):
        pool = Pool()
        Start = pool.get('office.supply.consolidate.start')
        start = Start(month=first_of_month(local_today()), plans=[],
            missing=[])
        start.on_change_month()
        return {
            'month': start.month,
            'plans': [p.id for p in start.plans],
            'missing': [d.id for d in start.missing],
            }

    def do_consolidate(self, action):
        pool = Pool()
        Consolidation = pool.get('office.supply.consolidation')
        consolidation = Consolidation.consolidate(self.start.month)
        return action, {'res_id': [consolidation.id]}
