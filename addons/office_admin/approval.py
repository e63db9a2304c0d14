# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The approval engine every office process reuses.

A document only says it is approvable (`ApprovalMixin`); who approves, in
which order and how is configuration (`office.approval.rule` and its tiers).
Each submission creates an `office.approval.request` whose
`office.approval.step`s are the audit trail: steps are created and closed,
never deleted or rewritten, and resubmitting creates a new request."""
import ast
import datetime as dt
import json
from collections import defaultdict
from functools import wraps
from types import SimpleNamespace

from sql import Cast, Expression, For, Literal, Null, Query, Union
from sql.functions import CurrentTimestamp
from sql.aggregate import Max
from sql.operators import Concat, Exists

from trytond import backend
from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Workflow, fields,
    sequence_ordered)
from trytond.model import Model as Record
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.tools import timezone as tz
from trytond.transaction import (
    Transaction, check_access, without_check_access)
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .access import OfficeAccessMixin, in_office_group, related_field
from .ir import readable_ids
from .workflow_guard import check_clearance
from . import calendar_
from .common import (
    clear_transaction_cache, mine_mixin, save_computed, transaction_cache)
from .exceptions import ApprovalAccessError, ApprovalError
from .notification import user_infos, user_name
from .secrecy import copy_secrecy_rank

REVIEWER_SOURCES = [
    ('requester_head', "Requester's Department Head"),
    ('department_head', "Head of a Department"),
    ('group', "Members of a Group"),
    ('users', "Named Users"),
    ('leadership', "Leadership"),
    ]
MODES = [
    ('any', "Any One (或签)"),
    ('all', "All (会签)"),
    ]
TIMEOUT_ACTIONS = [
    (None, ""),
    ('remind', "Remind the Reviewer"),
    ('escalate', "Escalate to the Reviewer's Head"),
    ('approve', "Approve Automatically"),
    ('reject', "Reject Automatically"),
    ]
REQUEST_STATES = [
    ('pending', "Pending"),
    ('approved', "Approved"),
    ('rejected', "Rejected"),
    ('returned', "Returned"),
    ('withdrawn', "Withdrawn"),
    ]
STEP_STATES = [
    ('pending', "Pending"),
    ('approved', "Approved"),
    ('rejected', "Rejected"),
    ('returned', "Returned"),
    ('delegated', "Delegated"),
    ('skipped', "Skipped"),
    ('cancelled', "No Longer Needed"),
    ]
DONE = {'approved', 'skipped'}
# Why a step's reviewer has it (a step routed to a substitute keeps it)
ASSIGNMENTS = [
    ('reviewer', "Designated Reviewer"),
    ('fallback', "Office Administrators (fallback)"),
    ('transfer', "Transferred (转办)"),
    ('added', "Added Approver (加签)"),
    ]
# In which capacity a step was decided: only 'reviewer' decisions count
# for skipping repeated reviewers
DECIDED_AS = [
    (None, ""),
    ('reviewer', "Reviewer"),
    ('delegate', "Delegate"),
    ('fallback', "Fallback (Office Administrators)"),
    ('added', "Added Approver"),
    ('timeout', "Timeout"),
    ]
DECISIONS = {'approved', 'rejected', 'returned'}
# The approval actions: name -> (method name, reason required), filled by
# @approval_action on the methods of ApprovalMixin
APPROVAL_ACTIONS = {}
# The actions whose buttons lock the request (Request.lock) once the caller
# is known to read it, before they look at its state
APPROVAL_LOCKING = {'approve', 'withdraw'}
# A requester may remind the same reviewers at most once in this delay.
REMIND_DELAY = dt.timedelta(hours=1)
# The transaction caches of the engine (see common.transaction_cache):
# (model, record id) -> id of its last request, or None; (model, user) ->
# {record id: whether the user reviews a pending step of its last
# request}; (model, user) -> the record ids whose
# rules the approval buttons just checked
_LAST_REQUESTS = 'office.approval.last_requests'
_ACTING = 'office.approval.acting'
_CHECKED = 'office.approval.checked'
# The ids of the requests locked by the transaction (see Request.lock);
# request id -> the ids of its steps (see Request.steps_of)
_LOCKED = 'office.approval.locked'
_STEPS = 'office.approval.steps'
# Set while activate() saves a new request whose first steps it creates
_STEPS_FOLLOW = 'office.approval.steps_follow'


def _now():
    return calendar_.utcnow()


class ApprovalDecision(SimpleNamespace):
    """What an approval action works on: record, request, step (the one
    decided), steps (the current steps of the request when read to find
    it, else None), actor (the user), acting (None for the engine),
    comment, user and users (a transfer, an added approver, a copy), to
    (where a return goes), system and decided_as"""


def approval_action(name, reason=False):
    """Register the decorated class method as the approval action name;
    reason: a comment is required (refused on the server otherwise)"""
    def decorator(func):
        APPROVAL_ACTIONS[name] = (func.__name__, reason)
        return func
    return decorator


def approval_button(action):
    """Run the module's check of a button before Tryton's own (which refuses
    a hidden button with a generic message): the caller who may read the
    record and its approval is told why he cannot act"""
    def decorator(func):
        @wraps(func)
        def wrapper(cls, records, *args, **kwargs):
            if Transaction().check_access and records:
                cls._approval_check_button(records, action)
            return func(cls, records, *args, **kwargs)
        return wrapper
    return decorator


def approvable_models():
    "Return the names of the models that mix in ApprovalMixin"
    pool = Pool()
    return sorted(name for name, Model in pool.iterobject()
        if issubclass(Model, ApprovalMixin))


def approvable_selection():
    Model = Pool().get('ir.model')
    return [(m, Model.get_name(m)) for m in approvable_models()]


def readable_duration(delta):
    "Return delta as a short translated text: 2 h 5 min, 3 d 4 h"
    if delta is None:
        return None
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return gettext('office_admin.msg_duration_days',
            days=days, hours=hours)
    if hours:
        return gettext('office_admin.msg_duration_hours',
            hours=hours, minutes=minutes)
    if minutes:
        return gettext('office_admin.msg_duration_minutes', minutes=minutes)
    return gettext('office_admin.msg_duration_moment')


def _local_text(value, company):
    "Return the UTC datetime value in the company's time, to the minute"
    if value is None:
        return ''
    Calendar = Pool().get('office.calendar')
    timezone = Calendar.get_timezone(company)
    local = value.replace(tzinfo=tz.UTC).astimezone(timezone)
    return local.strftime('%Y-%m-%d %H:%M')


def _eval_domain(text):
    "Return the domain written in text or raise ValueError"
    value = ast.literal_eval(text) if text else []
    if not isinstance(value, list):
        raise ValueError(text)
    fields.domain_validate(value)
    return value


class ApprovalRule(
        OfficeAccessMixin, DeactivableMixin, sequence_ordered(), ModelSQL,
        ModelView):
    __name__ = 'office.approval.rule'

    name = fields.Char("Name", required=True, translate=True)
    model = fields.Many2One(
        'ir.model', "Model", required=True, ondelete='CASCADE')
    company = fields.Many2One(
        'company.company', "Company",
        help="Leave empty for every company.")
    condition = fields.Char(
        "Condition",
        help="A domain the record must match for this rule to apply, "
        "e.g. [('seal.type', '=', 'contract')]. Empty matches every record.")
    tiers = fields.One2Many('office.approval.tier', 'rule', "Tiers")
    skip_repeated = fields.Boolean(
        "Skip Repeated Reviewers",
        help="A reviewer who already approved an earlier tier of the same "
        "request is not asked again.")
    allow_self_approval = fields.Boolean(
        "Allow Self-approval",
        help="Let a requester who is also a reviewer approve his own step.")
    # Configuration read at every submission and decision, cleared on any
    # change of a rule, a tier or its users (in every worker, see
    # trytond.cache): (model, company) -> rules, (rule, language) -> tiers
    _find_cache = Cache('office.approval.rule.find', context=False)
    _tiers_cache = Cache('office.approval.rule.tiers', context=False)
    # rule -> its _rule_values, read by every decision
    _values_cache = Cache('office.approval.rule.values', context=False)
    _rule_values = ['condition', 'skip_repeated', 'allow_self_approval']
    # (the deletion of a department or a group, which sets a tier's to
    # NULL in SQL, clears the cache too)
    _tier_values = ['rule', 'sequence', 'name', 'condition',
        'reviewer_source', 'mode', 'timeout_hours', 'timeout_action',
        'department', 'group']

    @classmethod
    def default_skip_repeated(cls):
        return True

    @classmethod
    def clear_cache(cls):
        cls._find_cache.clear()
        cls._tiers_cache.clear()
        cls._values_cache.clear()

    @classmethod
    def on_modification(cls, mode, rules, field_names=None):
        super().on_modification(mode, rules, field_names=field_names)
        cls.clear_cache()

    @classmethod
    def validate_fields(cls, rules, field_names):
        super().validate_fields(rules, field_names)
        approvable = set(approvable_models())
        for rule in rules:
            if rule.model.name not in approvable:
                raise ApprovalError(gettext(
                        'office_admin.msg_approval_model_invalid',
                        name=rule.rec_name))
            try:
                _eval_domain(rule.condition)
            except Exception:
                raise ApprovalError(gettext(
                        'office_admin.msg_approval_condition_invalid',
                        name=rule.rec_name))

    def match(self, record):
        if not self.condition:
            return True
        Model = record.__class__
        with without_check_access():
            return bool(Model.search([
                        ('id', '=', record.id),
                        _eval_domain(self.condition),
                        ], limit=1))

    @classmethod
    def find(cls, record):
        company = getattr(record, 'company', None)
        key = (record.__name__, company.id if company else None)
        rules = cls._find_cache.get(key)
        if rules is None:
            rules = [{'id': r.id, **{n: getattr(r, n)
                            for n in cls._rule_values}}
                for r in cls.search([
                        ('model.name', '=', record.__name__),
                        ['OR',
                            ('company', '=', None),
                            ('company', '=', key[1]),
                            ],
                        ], order=[
                        ('sequence', 'ASC NULLS LAST'), ('id', 'ASC')])]
            cls._find_cache.set(key, rules)
        for values in rules:
            values = dict(values)
            rule = cls(values.pop('id'), **values)
            if rule.match(record):
                return rule

    @classmethod
    def get_values(cls, rule):
        "Return the _rule_values of rule as a dict (cached)"
        rule_id = int(rule)
        values = cls._values_cache.get(rule_id)
        if values is None:
            with without_check_access():
                values, = cls.read([rule_id], cls._rule_values)
            values = {n: values[n] for n in cls._rule_values}
            cls._values_cache.set(rule_id, values)
        return values

    def get_tiers(self):
        "Return the tiers of the rule in their order (cached)"
        pool = Pool()
        Tier = pool.get('office.approval.tier')
        key = (self.id, Transaction().language)
        tiers = self._tiers_cache.get(key)
        if tiers is None:
            tiers = [{'id': t.id, **{n: getattr(t, n)
                            for n in self._tier_values}}
                for t in sorted(self.__class__(self.id).tiers,
                    key=lambda t: (t.sequence is None, t.sequence or 0, t.id))]
            for values in tiers:
                for name in ['rule', 'department', 'group']:
                    values[name] = values[name].id if values[name] else None
            self._tiers_cache.set(key, tiers)
        result = []
        for values in tiers:
            values = dict(values)
            result.append(Tier(values.pop('id'), **values))
        return result


class ApprovalTier(OfficeAccessMixin, sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'office.approval.tier'

    rule = fields.Many2One(
        'office.approval.rule', "Rule", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True, translate=True)
    condition = fields.Char(
        "Condition",
        help="A domain the record must match for this tier to be used, "
        "e.g. [('amount', '>', 50000)]. Empty matches every record.")
    reviewer_source = fields.Selection(
        REVIEWER_SOURCES, "Reviewers", required=True, sort=False)
    department = fields.Many2One(
        'office.department', "Department",
        states={
            'invisible': Eval('reviewer_source') != 'department_head',
            'required': Eval('reviewer_source') == 'department_head',
            })
    group = fields.Many2One(
        'res.group', "Group",
        states={
            'invisible': Eval('reviewer_source') != 'group',
            'required': Eval('reviewer_source') == 'group',
            })
    users = fields.Many2Many(
        'office.approval.tier-res.user', 'tier', 'user', "Users",
        states={
            'invisible': Eval('reviewer_source') != 'users',
            })
    mode = fields.Selection(MODES, "Mode", required=True, sort=False)
    timeout_hours = fields.Float(
        "Timeout (working hours)",
        domain=[['OR',
                ('timeout_hours', '=', None),
                ('timeout_hours', '>', 0),
                ]],
        help="Working hours a reviewer has before the timeout action.")
    timeout_action = fields.Selection(
        TIMEOUT_ACTIONS, "Timeout Action", sort=False,
        states={
            'invisible': ~Eval('timeout_hours'),
            'required': Bool(Eval('timeout_hours')),
            })

    @classmethod
    def default_mode(cls):
        return 'any'

    @classmethod
    def on_modification(cls, mode, tiers, field_names=None):
        super().on_modification(mode, tiers, field_names=field_names)
        Pool().get('office.approval.rule').clear_cache()

    @classmethod
    def default_reviewer_source(cls):
        return 'requester_head'

    @classmethod
    def validate_fields(cls, tiers, field_names):
        super().validate_fields(tiers, field_names)
        for tier in tiers:
            try:
                _eval_domain(tier.condition)
            except Exception:
                raise ApprovalError(gettext(
                        'office_admin.msg_approval_condition_invalid',
                        name=tier.rec_name))

    def match(self, record):
        if not self.condition:
            return True
        with without_check_access():
            return bool(record.__class__.search([
                        ('id', '=', record.id),
                        _eval_domain(self.condition),
                        ], limit=1))

    def resolve(self, record, requester):
        """Return (users, fallback): the reviewers of the tier for the record
        and whether they are the Office Administrators because the tier's own
        reviewers could not be resolved."""
        pool = Pool()
        User = pool.get('res.user')
        users = []
        # The users found already have an employee of the company
        staffed = False
        with without_check_access():
            company = getattr(record, 'company', None)
            if self.reviewer_source == 'requester_head':
                department = record.approval_department()
                employee = record.approval_requester_employee()
                if department:
                    head = department.get_head(exclude=employee)
                    if head:
                        users = list(
                            User.users_of_employees([head]).values())
            elif self.reviewer_source == 'department_head':
                head = self.department.get_head() if self.department else None
                if head:
                    users = list(User.users_of_employees([head]).values())
            elif self.reviewer_source == 'group':
                domain = [
                    ('groups', '=', self.group.id),
                    ('active', '=', True),
                    ]
                if company:
                    # eligible()'s condition in the same query
                    domain.append(('employees.company', '=', company.id))
                    staffed = True
                users = User.search(domain, order=[('id', 'ASC')])
            elif self.reviewer_source == 'users':
                users = [u for u in self.users if u.active]
            elif self.reviewer_source == 'leadership':
                users = User.users_in_group('office_admin.group_leadership')

            def eligible(users, staffed=False):
                # Reviewers are people: users with an employee of the
                # record's company (not the system administrator), found
                # in one query
                Rule = pool.get('office.approval.rule')
                if not Rule.get_values(self.rule)['allow_self_approval']:
                    users = [u for u in users if u != requester]
                if company and users and not staffed:
                    with Transaction().set_context(active_test=False):
                        staff = {u.id for u in User.search([
                                    ('id', 'in', [u.id for u in users]),
                                    ('employees.company', '=', company.id),
                                    ])}
                    users = [u for u in users if u.id in staff]
                return users
            users = eligible(users, staffed)
            if users:
                return users, False
            return eligible(
                User.users_in_group('office_admin.group_office_admin')), True


class ApprovalTierUser(OfficeAccessMixin, ModelSQL):
    __name__ = 'office.approval.tier-res.user'
    tier = fields.Many2One(
        'office.approval.tier', "Tier", required=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        Pool().get('office.approval.rule').clear_cache()


class ApprovalDelegation(
        OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    """Out-of-office delegation: a reviewer's substitute for a period.

    Only the reviewer who delegates (`user`) or an Office Administrator
    creates, changes, ends or deletes a delegation; the substitute only
    reads it (record rules per mode, and `_check_delegator` for a message
    of our own). Every change routes the pending steps again (`reroute`):
    to the substitute while the window is open, back to the reviewer when
    it is over. A step is never routed to the requester of its request
    (unless the rule allows self-approval): it stays with the last reviewer
    of the chain of delegations who is not the requester."""
    __name__ = 'office.approval.delegation'

    user = fields.Many2One(
        'res.user', "Reviewer", required=True, ondelete='CASCADE',
        states={
            'readonly': ~Eval('editable', True),
            })
    substitute = fields.Many2One(
        'res.user', "Substitute", required=True, ondelete='CASCADE',
        domain=[('id', '!=', Eval('user', -1))],
        states={
            'readonly': ~Eval('editable', True),
            })
    start = fields.DateTime(
        "Start", required=True,
        states={
            'readonly': ~Eval('editable', True),
            })
    end = fields.DateTime(
        "End", required=True,
        domain=[('end', '>', Eval('start'))],
        states={
            'readonly': ~Eval('editable', True),
            })
    reason = fields.Char(
        "Reason",
        states={
            'readonly': ~Eval('editable', True),
            })
    editable = fields.Function(
        fields.Boolean("Editable"), 'get_editable')

    # in_force(): the delegations not over, read by every decision
    _in_force_cache = Cache(
        'office.approval.delegation.in_force', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t, (t.user, Index.Equality()), (t.start, Index.Range()),
                (t.end, Index.Range())))
        cls.active.states = {
            'readonly': ~Eval('editable', True),
            }

    @classmethod
    def default_user(cls):
        return Transaction().user

    @classmethod
    def default_editable(cls):
        return True

    @classmethod
    def _is_office_admin(cls):
        return in_office_group('group_office_admin')

    @classmethod
    def get_editable(cls, delegations, name):
        user = Transaction().user
        admin = cls._is_office_admin()
        return {d.id: admin or d.user.id == user for d in delegations}

    @classmethod
    def _check_delegator(cls, user_ids):
        """Refuse unless the current user is each of user_ids (the reviewers
        who delegate) or an Office Administrator"""
        user = Transaction().user
        if any(u != user for u in user_ids) and not cls._is_office_admin():
            raise ApprovalAccessError(gettext(
                    'office_admin.msg_delegation_not_own'))

    @classmethod
    def create(cls, vlist):
        if Transaction().check_access:
            user = Transaction().user
            cls._check_delegator(
                [int(v.get('user') or user) for v in vlist])
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, delegations, values=None,
            external=False):
        super().check_modification(
            mode, delegations, values=values, external=external)
        if external and mode in {'write', 'delete'}:
            # Read the reviewers in SQL: an id that does not exist or that
            # the user may not see gets the same answer as another's
            table = cls.__table__()
            cursor = Transaction().connection.cursor()
            ids = [d.id for d in delegations]
            found = {}
            for sub_ids in grouped_slice(ids, 200):
                cursor.execute(*table.select(table.id, table.user,
                        where=table.id.in_(list(sub_ids))))
                found.update(cursor)
            user_ids = [found.get(i, -1) for i in ids]
            if values and 'user' in values:
                user_ids.append(values['user'] or -1)
            cls._check_delegator(user_ids)

    @classmethod
    def validate_fields(cls, delegations, field_names):
        super().validate_fields(delegations, field_names)
        for delegation in delegations:
            if delegation.end <= delegation.start:
                raise ApprovalError(gettext(
                        'office_admin.msg_delegation_dates'))
            if delegation.substitute == delegation.user:
                raise ApprovalError(gettext(
                        'office_admin.msg_delegation_self'))

    @classmethod
    def on_modification(cls, mode, delegations, field_names=None):
        super().on_modification(mode, delegations, field_names=field_names)
        cls._in_force_cache.clear()
        if mode in {'create', 'write'}:
            # The steps already routed to a substitute are always routed
            # again: also those of a reviewer replaced by an administrator
            cls.reroute([d.user for d in delegations])

    @classmethod
    def on_delete(cls, delegations):
        return super().on_delete(delegations) + [lambda: cls.reroute([])]

    @classmethod
    def in_force(cls, at):
        """Return the (user, substitute, start, end) of the delegations not
        over at the time at. Those not over now are kept in a Cache cleared
        on any change of a delegation or deletion of a user (every decision
        routes its next reviewers); for a time before the cached list was
        read (it may lack a delegation over since), they are read again."""
        def read(moment):
            with without_check_access():
                return [(d.user.id, d.substitute.id, d.start, d.end)
                    for d in cls.search([('end', '>', moment)])]
        cached = cls._in_force_cache.get(None)
        if cached is None:
            # (those not over at an earlier time at include them)
            moment = min(at, _now())
            cached = cls._in_force_cache.set(None, (moment, read(moment)))
        read_at, rows = cached
        if at < read_at:
            return read(at)
        return rows

    @classmethod
    def reroute(cls, users=None, at=None):
        """Route each pending step to whoever reviews for its reviewer at
        the time: to the substitute of a reviewer who is away, back to the
        reviewer when his delegation ended or was changed, never to the
        requester. The step closes as delegated and a new one opens, so the
        history stays as it happened; running it again changes nothing.

        users: only the steps of these reviewers and the steps already
        routed to a substitute; all the reviewers who are away otherwise.
        Return the new steps."""
        pool = Pool()
        Step = pool.get('office.approval.step')
        Request = pool.get('office.approval.request')
        at = at or _now()
        with without_check_access():
            if users is None:
                users = {d.user for d in cls.search([
                            ('start', '<=', at),
                            ('end', '>', at),
                            ])}
            user_ids = list({u.id for u in users})
            domain = [
                ('state', '=', 'pending'),
                ['OR',
                    ('original_reviewer', '!=', None),
                    ('reviewer', 'in', user_ids),
                    ],
                ]
            pending = Step.search(domain, order=[('id', 'ASC')])
            moves, routes = [], {}
            for step in pending:
                reviewer = step.original_reviewer or step.reviewer
                exclude = step.request.self_review_excluded()
                key = (reviewer.id, exclude.id if exclude else None)
                if key not in routes:
                    routes[key] = cls.route(reviewer, at, exclude=exclude)
                substitute, _, _ = routes[key]
                if substitute != step.reviewer:
                    moves.append((step, reviewer, substitute))
            if not moves:
                return []
            Request.lock(list({s.request for s, _, _ in moves}))
            new_steps, returned = [], []
            for step, reviewer, substitute in moves:
                step = Step(step.id)
                if step.state != 'pending':
                    continue
                if substitute == reviewer:
                    comment = gettext(
                        'office_admin.msg_approval_delegation_ended',
                        user=reviewer.rec_name)
                else:
                    comment = gettext(
                        'office_admin.msg_approval_delegated_away',
                        user=reviewer.rec_name,
                        substitute=substitute.rec_name)
                Step.close([step], 'delegated', comment=comment)
                new = Step(
                    request=step.request, tier=step.tier,
                    tier_name=step.tier_name,
                    tier_sequence=step.tier_sequence,
                    activation=step.activation, mode=step.mode,
                    kind='review', required=step.required,
                    assignment=step.assignment,
                    reviewer=substitute, added_by=step.added_by,
                    original_reviewer=(
                        reviewer if substitute != reviewer else None),
                    state='pending', activated_at=at,
                    deadline=step.deadline, timeout_done=step.timeout_done,
                    reminders=step.reminders, reminded_at=step.reminded_at)
                new.save()
                if substitute == reviewer:
                    returned.append((new, step.reviewer))
                else:
                    new_steps.append(new)
            for step in new_steps:
                Step.notify_pending(step.request, [step])
            for step, former in returned:
                Step.notify_returned(step, former)
        return new_steps + [s for s, _ in returned]

    @classmethod
    def route(cls, user, at=None, exclude=None):
        """Return (reviewer, away, blocked): the user who reviews for user at
        the time, following chains of delegations but never to exclude (the
        requester), the user away if any, and whether the chain stopped
        before exclude."""
        User = Pool().get('res.user')
        at = at or _now()
        seen = {user.id}
        away = None
        blocked = False
        current = user
        in_force = cls.in_force(at)
        for _ in range(10):
            delegations = [d for d in in_force
                if d[0] == current.id and d[2] <= at < d[3]]
            if not delegations:
                break
            substitute = User(max(delegations, key=lambda d: d[2])[1])
            if substitute.id in seen or not substitute.active:
                break
            if exclude and substitute == exclude:
                blocked = True
                break
            away = away or user
            seen.add(substitute.id)
            current = substitute
        return current, away, blocked


class ApprovalRequest(
        OfficeAccessMixin, mine_mixin('requester'), ModelSQL, ModelView):
    __name__ = 'office.approval.request'
    _rec_name = 'res_model'
    # What the engine computes and saves itself (common.save_computed)
    _save_computed = {
        'activation', 'tier_sequence', 'state', 'closed_at', 'duration'}
    # Its document's model and id (dotted searches through it only reach
    # the documents the caller reads, see workflow_guard.restrict_dotted)
    _reference_columns = {'resource': ('res_model', 'res_id')}

    # The document is res_model and res_id (indexed), shown and searched
    # as a Reference: a stored Reference would be read again and its
    # record looked for at every save
    resource = fields.Function(fields.Reference(
            "Document", selection='get_resources'),
        'get_resource', searcher='search_resource')
    res_model = fields.Char("Document Model", readonly=True, required=True)
    res_id = fields.Integer("Document ID", readonly=True, required=True)
    rule = fields.Many2One(
        'office.approval.rule', "Rule", readonly=True, ondelete='RESTRICT')
    requester = fields.Many2One(
        'res.user', "Requester", readonly=True, required=True,
        ondelete='RESTRICT')
    company = fields.Many2One(
        'company.company', "Company", readonly=True, required=True)
    state = fields.Selection(
        REQUEST_STATES, "State", readonly=True, required=True, sort=False)
    tier_sequence = fields.Integer("Current Tier", readonly=True)
    activation = fields.Integer("Activation", readonly=True, required=True)
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    closed_at = fields.DateTime("Closed At", readonly=True)
    duration = fields.TimeDelta("Cycle Time", readonly=True)
    steps = fields.One2Many(
        'office.approval.step', 'request', "Steps", readonly=True)
    copies = fields.One2Many(
        'office.approval.copy', 'request', "Copied To", readonly=True)
    # Stored for the record rules (see access.py): the document's secrecy
    # rank and everyone involved, kept in sync by sync_access()
    secrecy_rank = fields.Integer("Secrecy Rank", readonly=True)
    involved_users = fields.Many2Many(
        'office.approval.request-res.user', 'request', 'user',
        "Involved Users", readonly=True)
    # The approval centre (审批中心): what the request is about, read
    # through the caller's rules (get_centre), and where it stands
    process = fields.Function(fields.Char("Process"), 'get_centre')
    title = fields.Function(fields.Char("Title"), 'get_centre')
    department = fields.Function(fields.Char("Department"), 'get_centre')
    amount = fields.Function(
        fields.Char("Amount / Quantity"), 'get_centre')
    waiting = fields.Function(
        fields.Char(
            "Waiting",
            help="How long the request has waited (or took to decide)."),
        'get_centre')
    summary = fields.Function(fields.Text("Content"), 'get_centre')
    chain = fields.Function(
        fields.Text(
            "Approval Chain",
            help="Who decided what, who reviews now and who comes next."),
        'get_centre')
    attachments = fields.Function(fields.Many2Many(
            'ir.attachment', None, None, "Attachments"), 'get_centre')
    can_decide = fields.Function(
        fields.Boolean("To Decide by Me"), 'get_centre',
        searcher='search_centre')
    decided_by_me = fields.Function(
        fields.Boolean("Decided by Me"), 'get_centre',
        searcher='search_centre')
    copied_to_me = fields.Function(
        fields.Boolean("Copied to Me"), 'get_centre',
        searcher='search_centre')
    in_my_departments = fields.Function(
        fields.Boolean(
            "In My Departments",
            help="Submitted by an employee of a department the user heads."),
        'get_centre', searcher='search_centre')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._buttons.update({
                'approve': {
                    'invisible': ~Eval('can_decide'),
                    'depends': ['can_decide'],
                    'icon': 'tryton-ok',
                    },
                'decide': {
                    'invisible': ~Eval('can_decide'),
                    'depends': ['can_decide'],
                    'icon': 'tryton-forward',
                    },
                'withdraw': {
                    'invisible': ~Eval('mine') | (Eval('state') != 'pending'),
                    'depends': ['mine', 'state'],
                    'icon': 'tryton-undo',
                    },
                'remind': {
                    'invisible': ~Eval('mine') | (Eval('state') != 'pending'),
                    'depends': ['mine', 'state'],
                    'icon': 'tryton-notification',
                    },
                })
        cls._sql_indexes.update({
                Index(t, (t.secrecy_rank, Index.Range())),
                Index(t, (t.res_model, Index.Equality()),
                    (t.res_id, Index.Range())),
                Index(t, (t.requester, Index.Equality()),
                    (t.state, Index.Equality())),
                })
        cls._order.insert(0, ('submitted_at', 'DESC'))

    @classmethod
    def lock(cls, records=None):
        """Serialise the decisions on records (every decision locks its
        request first, see APPROVAL_LOCKING).

        On PostgreSQL the requests are locked by an UPDATE that changes
        nothing, where they are, instead of trytond's restart of the
        transaction to lock them at its start: a request another
        transaction holds is waited for, and one updated since this
        transaction's snapshot (REPEATABLE READ) fails it with a
        serialization error, which the dispatcher, the cron and the queue
        retry, as they retry trytond's lock. As every locker updates the
        row, a decision that committed after the snapshot always fails the
        next one: no decision acts on what it read before another's. This
        saves the restart: the attempt's statements and time."""
        transaction = Transaction()
        if records is None or backend.name != 'postgresql':
            return super().lock(records)
        locked = transaction_cache(_LOCKED)
        new = set(transaction.create_records[cls.__name__])
        ids = sorted({int(r) for r in records} - new - locked.keys())
        if not ids:
            return
        table = cls.__table__()
        locking = cls.__table__()
        cursor = transaction.connection.cursor()
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            # The rows are locked in the order of their ids: two lockers
            # of the same requests wait for each other, never in a cycle
            cursor.execute(*table.update(
                    [table.write_date], [table.write_date],
                    where=table.id.in_(locking.select(locking.id,
                            where=locking.id.in_(list(sub_ids)),
                            order_by=[locking.id.asc],
                            for_=For('UPDATE')))))
        locked.update(dict.fromkeys(ids))

    @classmethod
    def __register__(cls, module):
        table_h = cls.__table_handler__(module)
        super().__register__(module)
        # Migration: the document was also stored as a Reference
        if table_h.column_exist('resource'):
            table_h.drop_column('resource')

    @classmethod
    def get_resources(cls):
        return approvable_selection()

    def get_resource(self, name):
        if self.res_model and self.res_id is not None:
            return '%s,%s' % (self.res_model, self.res_id)

    @classmethod
    def search_resource(cls, name, clause):
        "Search the document on res_model and res_id (their index)"
        _, operator, value = clause[:3]
        if clause[0] != name or len(clause) > 3:
            # resource.field with the model: on the model's records
            nested = clause[0][len(name) + 1:] or 'id'
            Model = Pool().get(clause[3])
            # As trytond's Reference: inactive documents too
            with Transaction().set_context(active_test=False):
                query = Model.search([(nested, operator, value)], query=True)
            return [('res_model', '=', clause[3]), ('res_id', 'in', query)]
        table = cls.__table__()
        text = Concat(Concat(table.res_model, ','),
            Cast(table.res_id, cls.res_model.sql_type().base))
        if (operator in {'=', '!=', 'in', 'not in'}
                and not isinstance(value, (Query, Expression))):
            values = value if operator.endswith('in') else [value]
            if not isinstance(values, (list, tuple, set)):
                values = [values]
            by_model = defaultdict(list)
            for value in values or []:
                if isinstance(value, Record):
                    value = (value.__name__, value.id)
                elif isinstance(value, str) and ',' in value:
                    value = value.split(',', 1)
                if isinstance(value, (list, tuple)) and len(value) == 2:
                    try:
                        by_model[value[0]].append(int(value[1]))
                    except (TypeError, ValueError):
                        pass
            if operator in {'=', 'in'}:
                return ['OR'] + [
                    [('res_model', '=', model), ('res_id', 'in', ids)]
                    for model, ids in by_model.items()] if by_model else [
                    ('id', '=', None)]
            return [
                ['OR', ('res_model', '!=', model),
                    ('res_id', 'not in', ids)]
                for model, ids in by_model.items()]
        Operator = fields.SQL_OPERATORS[operator]
        return [('id', 'in', table.select(table.id,
                    where=Operator(text, value)))]

    @staticmethod
    def order_resource(tables):
        table, _ = tables[None]
        return [table.res_model, table.res_id]

    @classmethod
    def default_activation(cls):
        return 0

    @classmethod
    def default_secrecy_rank(cls):
        return 0

    @classmethod
    def on_modification(cls, mode, requests, field_names=None):
        super().on_modification(mode, requests, field_names=field_names)
        clear_transaction_cache(_ACTING)
        if mode == 'create':
            clear_transaction_cache(_LAST_REQUESTS)
        if mode == 'create' and transaction_cache(_STEPS_FOLLOW):
            # Opened with its first steps (activate): their creation
            # stores the requester with the reviewers, in one statement
            return
        if mode == 'create' or (mode == 'write' and (
                    not field_names
                    or field_names & {'requester', 'secrecy_rank'})):
            # A new request has no steps or copies yet
            cls.sync_access(requests, added=mode == 'create')

    @classmethod
    def sync_access(cls, requests, added=False):
        """Copy the request's secrecy rank onto its steps and copies and
        store the users involved (requester, reviewers, those reviewed for
        and those copied): the record rules read only stored fields.

        added: only steps or copies were created (they take the request's
        rank when created, see RequestChildMixin): the users they involve
        are added, nothing is removed."""
        pool = Pool()
        Step = pool.get('office.approval.step')
        Copy = pool.get('office.approval.copy')
        Involved = pool.get('office.approval.request-res.user')
        request = cls.__table__()
        step = Step.__table__()
        copy = Copy.__table__()
        involved = Involved.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice([int(r) for r in requests], 200):
            sub_ids = list(sub_ids)
            if not added:
                for table in [step, copy]:
                    cursor.execute(*table.update(
                            [table.secrecy_rank],
                            [request.select(request.secrecy_rank,
                                    where=request.id == table.request)],
                            where=table.request.in_(sub_ids)))
            # Everyone involved, in one query
            wanted = Union(
                request.select(request.id.as_('request'),
                    request.requester.as_('user'),
                    where=request.id.in_(sub_ids)),
                step.select(step.request.as_('request'),
                    step.reviewer.as_('user'),
                    where=step.request.in_(sub_ids)),
                step.select(step.request.as_('request'),
                    step.original_reviewer.as_('user'),
                    where=step.request.in_(sub_ids)
                    & (step.original_reviewer != Null)),
                copy.select(copy.request.as_('request'),
                    copy.user.as_('user'),
                    where=copy.request.in_(sub_ids)))
            if added:
                new = wanted.select(wanted.request, wanted.user,
                    where=~Exists(involved.select(Literal(1),
                            where=(involved.request == wanted.request)
                            & (involved.user == wanted.user))))
                cursor.execute(*involved.insert(
                        [involved.request, involved.user], new))
                continue
            cursor.execute(*wanted)
            wanted = set(cursor)
            cursor.execute(*involved.select(
                    involved.id, involved.request, involved.user,
                    where=involved.request.in_(sub_ids)))
            existing = {}
            for id_, request_id, user_id in cursor:
                existing[(request_id, user_id)] = id_
            to_delete = [i for k, i in existing.items() if k not in wanted]
            to_create = [[r, u]
                for r, u in sorted(wanted) if (r, u) not in existing]
            for sub in grouped_slice(to_delete, 200):
                cursor.execute(*involved.delete(
                        where=involved.id.in_(list(sub))))
            for sub in grouped_slice(to_create, 90):
                cursor.execute(*involved.insert(
                        [involved.request, involved.user], list(sub)))

    def get_rec_name(self, name):
        if self.resource:
            return self.resource.rec_name
        return '%s,%s' % (self.res_model, self.res_id)

    @classmethod
    def delete(cls, requests):
        raise AccessError(gettext('office_admin.msg_approval_no_delete'))

    def get_record(self):
        # The stored model and id: reading the Reference checks again that
        # the record exists (the engine works on pending requests, whose
        # records cannot be deleted)
        if self.res_model and self.res_id is not None:
            return Pool().get(self.res_model)(self.res_id)
        return self.resource

    # ---- approval centre -----------------------------------------------

    @classmethod
    def get_centre(cls, requests, names):
        pool = Pool()
        Model_ = pool.get('ir.model')
        Step = pool.get('office.approval.step')
        Copy = pool.get('office.approval.copy')
        user = Transaction().user
        now = _now()
        names = set(names)
        result = {n: {r.id: None for r in requests} for n in names}
        content = {}
        if names & {'title', 'summary', 'amount', 'department',
                'attachments'}:
            content = cls._centre_content(requests)
        steps = defaultdict(list)
        if names & {'chain', 'can_decide', 'decided_by_me'}:
            with without_check_access():
                for sub in grouped_slice([r.id for r in requests], 200):
                    for step in Step.search([('request', 'in', list(sub))],
                            order=[('activation', 'ASC'), ('id', 'ASC')]):
                        steps[step.request.id].append(step)
        copied = set()
        if 'copied_to_me' in names:
            with without_check_access():
                copied = {c.request.id for c in Copy.search([
                            ('request', 'in', [r.id for r in requests]),
                            ('user', '=', user),
                            ])}
        in_departments = set()
        if 'in_my_departments' in names:
            cursor = Transaction().connection.cursor()
            query = cls._centre_department_query()
            cursor.execute(*query)
            in_departments = {i for i, in cursor}
        for request in requests:
            hidden = {
                'title': gettext('office_admin.msg_approval_content_hidden'),
                }
            values = content.get(request.id, hidden)
            if 'process' in names:
                result['process'][request.id] = Model_.get_name(
                    request.res_model)
            for name in ['title', 'amount', 'department']:
                if name in names:
                    result[name][request.id] = values.get(name)
            if 'summary' in names:
                result['summary'][request.id] = '\n'.join(
                    '%s: %s' % line for line in values.get('lines', []))
            if 'attachments' in names:
                result['attachments'][request.id] = values.get(
                    'attachments', [])
            if 'waiting' in names:
                end = request.closed_at or now
                result['waiting'][request.id] = readable_duration(
                    end - request.submitted_at
                    if request.submitted_at else None)
            if 'chain' in names:
                result['chain'][request.id] = request._centre_chain(
                    steps[request.id], now)
            if 'can_decide' in names:
                result['can_decide'][request.id] = (
                    request.state == 'pending' and any(
                        s.state == 'pending' and s.reviewer.id == user
                        for s in steps[request.id]))
            if 'decided_by_me' in names:
                result['decided_by_me'][request.id] = any(
                    s.state != 'pending' and s.acted_by
                    and s.acted_by.id == user for s in steps[request.id])
            if 'copied_to_me' in names:
                result['copied_to_me'][request.id] = request.id in copied
            if 'in_my_departments' in names:
                result['in_my_departments'][request.id] = (
                    request.id in in_departments)
        return result

    @classmethod
    def _centre_content(cls, requests):
        """Return {request id: values} for the requests whose record the
        caller may read: title, amount, department, lines, attachments.
        Nothing of a record the caller cannot read."""
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        cache = {}

        def readable(model, ids):
            key = (model, frozenset(ids))
            if key not in cache:
                with check_access():
                    cache[key] = readable_ids(model, ids)
            return cache[key]
        by_model = defaultdict(list)
        for request in requests:
            by_model[request.res_model].append(request)
        result = {}
        for model, model_requests in by_model.items():
            Model = pool.get(model)
            ids = readable(model, {r.res_id for r in model_requests})
            records = {r.id: r for r in Model.browse(sorted(ids))}
            attachments = defaultdict(list)
            if records:
                with check_access():
                    for sub in grouped_slice(
                            [str(r) for r in records.values()], 200):
                        for attachment in Attachment.search([
                                    ('resource', 'in', list(sub)),
                                    ]):
                            attachments[attachment.resource.id].append(
                                attachment.id)
            for request in model_requests:
                record = records.get(request.res_id)
                if record is None:
                    continue
                values = record.get_approval_summary(readable=readable)
                department = record.approval_department()
                if department and readable(
                        department.__name__, {department.id}):
                    values['department'] = department.rec_name
                values['attachments'] = attachments[record.id]
                result[request.id] = values
        return result

    def _centre_chain(self, steps, now):
        """Return the chain as text: the steps decided, the pending ones
        and, while pending, the tiers that come next"""
        pool = Pool()
        Step = pool.get('office.approval.step')
        states = dict(Step.fields_get(['state'])['state']['selection'])
        lines = []
        for step in steps:
            if step.state == 'cancelled':
                continue
            if step.state == 'pending':
                lines.append(gettext('office_admin.msg_approval_chain_pending',
                        tier=step.tier_name or '',
                        user=step.get_reviewed_by(),
                        waiting=readable_duration(
                            now - step.activated_at
                            if step.activated_at else None) or ''))
                continue
            line = gettext('office_admin.msg_approval_chain_decided',
                tier=step.tier_name or '', user=step.get_reviewed_by(),
                state=states.get(step.state, step.state),
                time=_local_text(step.acted_at, self.company))
            if step.comment and step.state in DECISIONS:
                line += ' 「%s」' % step.comment
            lines.append(line)
        if self.state == 'pending':
            for tier, users in self._centre_next_tiers():
                lines.append(gettext('office_admin.msg_approval_chain_next',
                        tier=tier.name or '',
                        users=', '.join(u.rec_name for u in users)))
        else:
            lines.append(gettext('office_admin.msg_approval_chain_closed',
                    state=dict(self.fields_get(['state'])['state'][
                            'selection']).get(self.state, self.state),
                    time=_local_text(self.closed_at, self.company)))
        return '\n'.join(lines)

    def _centre_next_tiers(self):
        """Return [(tier, users)] of the tiers after the current one that
        apply to the record, with the reviewers they resolve to now"""
        if not self.rule:
            return []
        result = []
        with without_check_access():
            record = self.get_record()
            for tier in self._tiers():
                if (tier.sequence or 0) <= (self.tier_sequence or 0):
                    continue
                if not tier.match(record):
                    continue
                users, _ = tier.resolve(record, self.requester)
                result.append((tier, users))
        return result

    @classmethod
    def search_centre(cls, name, clause):
        pool = Pool()
        Step = pool.get('office.approval.step')
        Copy = pool.get('office.approval.copy')
        step = Step.__table__()
        copy = Copy.__table__()
        table = cls.__table__()
        user = Transaction().user
        _, operator, value = clause[:3]
        if name == 'can_decide':
            query = step.join(table, condition=step.request == table.id
                ).select(step.request,
                where=(step.reviewer == user) & (step.state == 'pending')
                & (table.state == 'pending'))
        elif name == 'decided_by_me':
            query = step.select(step.request,
                where=(step.acted_by == user) & (step.state != 'pending'))
        elif name == 'in_my_departments':
            query = cls._centre_department_query()
        else:
            query = copy.select(copy.request, where=copy.user == user)
        positive = (operator == '=') == bool(value)
        return [('id', 'in' if positive else 'not in', query)]

    @classmethod
    def _centre_department_query(cls):
        "Select the requests of the employees of the headed departments"
        pool = Pool()
        User = pool.get('res.user')
        Employee = pool.get('company.employee')
        UserEmployee = pool.get('res.user-company.employee')
        table = cls.__table__()
        employee = Employee.__table__()
        user_employee = UserEmployee.__table__()
        departments = list(
            User.get_office_context().get('headed_departments') or [-1])
        return table.join(user_employee,
            condition=user_employee.user == table.requester
            ).join(employee,
            condition=employee.id == user_employee.employee
            ).select(table.id,
            where=employee.department.in_(departments))

    def _centre_my_step(self):
        "Return the caller's pending step of the current tier, if any"
        user = Transaction().user
        with without_check_access():
            return next((s for s in self.current_steps()
                    if s.state == 'pending' and s.reviewer.id == user),
                None)

    @classmethod
    def _centre_targets(cls, requests):
        "Yield (Model, [record], step) to decide each request with"
        with without_check_access():
            for request in requests:
                record = request.get_record()
                yield record.__class__, [record], request._centre_my_step()

    @classmethod
    def _approval_check_button(cls, requests, action):
        "Say why the caller cannot act (see approval_button)"
        cls.read([r.id for r in requests], ['id'])
        with without_check_access():
            for request in cls.browse(requests):
                record = request.get_record()
                record.__class__._approval_check_button([record], action)

    @classmethod
    @approval_button('approve')
    @ModelView.button_action('office_admin.wizard_approval_quick')
    def approve(cls, requests):
        pass

    @classmethod
    @approval_button('decide')
    @ModelView.button_action('office_admin.wizard_approval_decide')
    def decide(cls, requests):
        pass

    @classmethod
    @approval_button('withdraw')
    @ModelView.button
    def withdraw(cls, requests):
        for Model, records, _ in cls._centre_targets(requests):
            Model.approval_withdraw_records(records)

    @classmethod
    @approval_button('remind')
    @ModelView.button
    def remind(cls, requests):
        for Model, records, _ in cls._centre_targets(requests):
            Model.approval_remind_records(records)

    def decision_reason(self):
        "Return the comment of the decision that closed the request"
        Step = Pool().get('office.approval.step')
        with without_check_access():
            steps = Step.search([
                    ('request', '=', self.id),
                    ('state', 'in', ['rejected', 'returned']),
                    ], order=[('acted_at', 'DESC'), ('id', 'DESC')], limit=1)
        return steps[0].comment if steps and steps[0].comment else ''

    def self_review_excluded(self):
        """Return the user a step of this request may not be routed to: the
        requester, unless the rule allows self-approval"""
        Rule = Pool().get('office.approval.rule')
        if self.rule and Rule.get_values(self.rule)['allow_self_approval']:
            return None
        return self.requester

    # ---- engine ---------------------------------------------------------

    @classmethod
    def open(cls, record, rule, requester):
        pool = Pool()
        Step = pool.get('office.approval.step')
        with without_check_access():
            request = cls(
                res_model=record.__name__, res_id=record.id,
                secrecy_rank=getattr(record, 'secrecy_rank', None) or 0,
                rule=rule, requester=requester,
                company=getattr(record, 'company', None),
                state='pending', submitted_at=_now(), activation=0)
            # Saved by its first tier's activation, else now
            pending = request.activate_after(-1)
            if request.id is None or request.id < 0:
                request.save()
            if not pending:
                cls.finish([request], 'approved')
            Step.notify_pending(request, pending)
        return request

    def _tiers(self):
        return self.rule.get_tiers()

    def activate_after(self, sequence, skip=True):
        """Activate the first tier after sequence that applies to the record.
        Return its pending steps, none when there is no tier left."""
        record = self.get_record()
        for tier in self._tiers():
            if (tier.sequence or 0) <= sequence:
                continue
            if not tier.match(record):
                continue
            pending = self.activate(tier, skip=skip)
            if pending:
                return pending
        return []

    def activate(self, tier, skip=True):
        """Create the steps of tier; return its pending steps, none when
        the whole tier was skipped because its reviewers already
        approved."""
        pool = Pool()
        Step = pool.get('office.approval.step')
        Delegation = pool.get('office.approval.delegation')
        record = self.get_record()
        users, fallback = tier.resolve(record, self.requester)
        if not users:
            raise ApprovalError(gettext(
                    'office_admin.msg_approval_no_reviewer',
                    tier=tier.rec_name, record=record.rec_name))
        # A request being opened has no step yet: created here with its
        # first tier (not created, then written)
        new = self.id is None or self.id < 0
        self.activation = (self.activation or 0) + 1
        self.tier_sequence = tier.sequence or 0
        if new:
            # Its steps follow (a tier with no reviewer raised above)
            follow = transaction_cache(_STEPS_FOLLOW)
            follow[True] = True
            try:
                self.save()
            finally:
                clear_transaction_cache(_STEPS_FOLLOW)
        else:
            save_computed([self])
        approved_before = set()
        Rule = pool.get('office.approval.rule')
        if (not new and skip
                and Rule.get_values(self.rule)['skip_repeated']):
            # Only what a person decided as the designated reviewer of a
            # tier counts: not a fallback, a delegation or a timeout
            approved_before = {s.reviewer.id
                for s in self.steps_of([self])[self.id]
                if s.state == 'approved' and s.decided_as == 'reviewer'}
        now = _now()
        deadline = None
        if tier.timeout_hours:
            calendar = pool.get('office.calendar').get_calendar(self.company)
            deadline = calendar.add_working_hours(
                now, tier.timeout_hours, self.company)
        steps = []
        exclude = self.self_review_excluded()
        for user in users:
            # The self-review rule holds after substitution: a delegation
            # to the requester leaves the step with the reviewer
            reviewer, away, blocked = Delegation.route(
                user, now, exclude=exclude)
            comment = None
            if fallback:
                comment = gettext('office_admin.msg_approval_fallback',
                    tier=tier.rec_name)
            if away:
                comment = gettext('office_admin.msg_approval_delegated_away',
                    user=user_name(away), substitute=user_name(reviewer))
            elif blocked:
                comment = gettext(
                    'office_admin.msg_approval_delegation_requester',
                    user=user_name(reviewer))
            state = 'pending'
            if reviewer.id in approved_before:
                state = 'skipped'
                comment = gettext('office_admin.msg_approval_skipped')
            steps.append(Step(
                    request=self, tier=tier, tier_name=tier.name,
                    tier_sequence=tier.sequence or 0,
                    activation=self.activation, mode=tier.mode,
                    kind='review', required=False, reviewer=reviewer,
                    assignment='fallback' if fallback else 'reviewer',
                    original_reviewer=away, state=state,
                    activated_at=now, deadline=deadline,
                    acted_at=now if state == 'skipped' else None,
                    duration=dt.timedelta() if state == 'skipped' else None,
                    comment=comment, timeout_done=False))
        Step.save(steps)
        pending = [s for s in steps if s.state == 'pending']
        if any(s.state == 'skipped' for s in steps) and (
                tier.mode == 'any' or not pending):
            if pending:
                Step.write(pending, {
                        'state': 'cancelled',
                        'acted_at': now,
                        'duration': dt.timedelta(),
                        })
            return []
        # Who is told and named next: read with the requester at once
        user_infos([s.reviewer for s in pending] + [self.requester])
        return pending

    @classmethod
    def steps_of(cls, requests):
        """Return {request id: its steps, by id}: the steps of requests
        are looked for in one query once per transaction (a step created
        forgets them, see ApprovalStep.on_modification); their values are
        trytond's (read again after any write)"""
        Step = Pool().get('office.approval.step')
        cache = transaction_cache(_STEPS)
        ids = {r.id for r in requests if r.id is not None and r.id >= 0}
        missing = sorted(ids - cache.keys())
        with without_check_access():
            for sub_ids in grouped_slice(missing, 200):
                sub_ids = list(sub_ids)
                found = {i: [] for i in sub_ids}
                for step in Step.search([('request', 'in', sub_ids)],
                        order=[('id', 'ASC')]):
                    found[step.request.id].append(step.id)
                cache.update(found)
        return {i: Step.browse(cache[i]) for i in ids}

    def current_steps(self):
        "Return the steps of the tier being reviewed"
        return [s for s in self.steps_of([self]).get(self.id, [])
            if s.activation == self.activation
            and s.state not in {'delegated', 'cancelled'}]

    def pending_steps(self):
        Step = Pool().get('office.approval.step')
        return Step.search([
                ('request', '=', self.id),
                ('state', '=', 'pending'),
                ], order=[('id', 'ASC')])

    def tier_complete(self, steps=None):
        if steps is None:
            steps = self.current_steps()
        required = [s for s in steps if s.required]
        normal = [s for s in steps if not s.required]
        if not all(s.state in DONE for s in required):
            return False
        mode = normal[0].mode if normal else 'all'
        if mode == 'any':
            return any(s.state in DONE for s in normal) or not normal
        return all(s.state in DONE for s in normal)

    def advance(self, steps=None):
        """Move on after a step was approved: close the tier when complete,
        activate the next one or finish the request. Return the new pending
        steps. steps: the current steps, as the caller holds them after
        closing the approved one (read again when None)."""
        pool = Pool()
        Step = pool.get('office.approval.step')
        if steps is None:
            steps = self.current_steps()
        if not self.tier_complete(steps):
            return []
        leftover = [s for s in steps if s.state == 'pending']
        if leftover:
            Step.close(leftover, 'cancelled')
        pending = self.activate_after(self.tier_sequence)
        if pending:
            return pending
        self.__class__.finish([self], 'approved')
        return []

    @classmethod
    def finish(cls, requests, state, hooks=True):
        pool = Pool()
        Notification = pool.get('office.notification')
        now = _now()
        for request in requests:
            request.state = state
            request.closed_at = now
            request.duration = now - request.submitted_at
        save_computed(requests)
        by_model = defaultdict(list)
        for request in requests:
            by_model[request.res_model].append(request)
        for model, model_requests in by_model.items():
            Model = pool.get(model)
            records = Model.browse([r.res_id for r in model_requests])
            if hooks:
                if state in Model._approval_transitions:
                    Model._approval_transition(
                        records, Model._approval_transitions[state])
                getattr(Model, '_approval_on_%s' % state)(records)
            for request, record in zip(model_requests, records):
                Notification.send_later(
                    [record], [request.requester],
                    'office_admin.msg_approval_request_%s' % state,
                    key='request-%s-%s' % (request.id, state),
                    reason=request.decision_reason())


class RequestChildMixin:
    """Steps and copies carry their request's secrecy rank and involved
    users for the record rules (see access.py), kept in sync by the
    request"""
    __slots__ = ()
    secrecy_rank = fields.Integer("Secrecy Rank", readonly=True)
    request_users = related_field('request.involved_users', fields.Many2Many(
            'res.user', None, None, "Involved Users"))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.secrecy_rank, Index.Range())))

    @classmethod
    def default_secrecy_rank(cls):
        return 0

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Request = pool.get('office.approval.request')
        values = super().preprocess_values(mode, values)
        if values.get('request') is not None and int(values['request']) >= 0:
            with without_check_access():
                values['secrecy_rank'] = Request(
                    int(values['request'])).secrecy_rank or 0
        return values


class ApprovalStep(
        OfficeAccessMixin, RequestChildMixin, mine_mixin('reviewer'),
        ModelSQL, ModelView):
    __name__ = 'office.approval.step'
    # The decision, as the engine closes the step (common.save_computed)
    _save_computed = {
        'state', 'acted_at', 'acted_by', 'decided_as', 'comment', 'duration'}

    request = fields.Many2One(
        'office.approval.request', "Request", required=True, readonly=True,
        ondelete='RESTRICT')
    resource = fields.Function(fields.Reference(
            "Document", selection='get_resources'), 'get_request_field')
    requester = fields.Function(fields.Many2One(
            'res.user', "Requester"), 'get_request_field')
    tier = fields.Many2One(
        'office.approval.tier', "Tier", readonly=True, ondelete='SET NULL')
    tier_name = fields.Char("Tier", readonly=True)
    tier_sequence = fields.Integer("Tier Sequence", readonly=True)
    activation = fields.Integer("Activation", readonly=True)
    mode = fields.Selection(MODES, "Mode", readonly=True)
    kind = fields.Selection([
            ('review', "Review"),
            ], "Kind", readonly=True)
    required = fields.Boolean(
        "Added Approver", readonly=True,
        help="An approver added (加签): the tier waits for him whatever its "
        "mode.")
    reviewer = fields.Many2One(
        'res.user', "Reviewer", required=True, readonly=True,
        ondelete='RESTRICT')
    original_reviewer = fields.Many2One(
        'res.user', "On Behalf Of", readonly=True, ondelete='RESTRICT',
        help="The reviewer who was away and delegated to this one.")
    added_by = fields.Many2One('res.user', "Added By", readonly=True)
    assignment = fields.Selection(
        ASSIGNMENTS, "Assigned As", readonly=True, sort=False,
        help="Why the reviewer (or the reviewer he substitutes) has the "
        "step.")
    state = fields.Selection(
        STEP_STATES, "State", readonly=True, required=True, sort=False)
    decided_as = fields.Selection(
        DECIDED_AS, "Decided As", readonly=True, sort=False,
        help="Who decided the step: the designated reviewer, a substitute "
        "or transferee, an Office Administrator for a tier without "
        "reviewer, an added approver, or the tier's timeout (nobody).")
    activated_at = fields.DateTime("Activated At", readonly=True)
    acted_at = fields.DateTime("Decided At", readonly=True)
    acted_by = fields.Many2One('res.user', "Decided By", readonly=True)
    reviewed_by = fields.Function(
        fields.Char(
            "Reviewed By",
            help="Who decides or decided the step, and for whom when a "
            "substitute reviews for a reviewer who is away."),
        'get_reviewed_by')
    comment = fields.Text("Comment", readonly=True)
    duration = fields.TimeDelta("Time Spent", readonly=True)
    deadline = fields.DateTime("Deadline", readonly=True)
    timeout_done = fields.Boolean("Timeout Handled", readonly=True)
    reminders = fields.Integer("Reminders", readonly=True)
    reminded_at = fields.DateTime("Reminded At", readonly=True)
    process = fields.Function(fields.Char("Process"), 'get_centre')
    title = fields.Function(fields.Char("Title"), 'get_centre')
    waiting = fields.Function(
        fields.Char(
            "Waiting", help="How long the step has waited or took."),
        'get_centre')
    summary = fields.Function(fields.Text("Content"), 'get_centre')
    chain = fields.Function(fields.Text("Approval Chain"), 'get_centre')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.reviewer, Index.Equality()),
                    (t.state, Index.Equality())),
                Index(t, (t.request, Index.Range()),
                    (t.activation, Index.Range())),
                # Steps routed to a substitute, routed again by delegations
                Index(t, (t.original_reviewer, Index.Equality()),
                    where=(t.state == 'pending')),
                Index(t, (t.deadline, Index.Range()),
                    where=(t.state == 'pending') & (t.deadline != Null)
                    & (t.timeout_done == False)),  # noqa: E712
                })
        cls._order = [
            ('request', 'DESC'), ('activation', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'approve': {
                    'invisible': ~Eval('mine') | (Eval('state') != 'pending'),
                    'depends': ['mine', 'state'],
                    'icon': 'tryton-ok',
                    },
                'decide': {
                    'invisible': ~Eval('mine') | (Eval('state') != 'pending'),
                    'depends': ['mine', 'state'],
                    'icon': 'tryton-forward',
                    },
                })

    @classmethod
    def __register__(cls, module):
        table_h = cls.__table_handler__(module)
        step = cls.__table__()
        cursor = Transaction().connection.cursor()
        migrate = not table_h.column_exist('decided_as')
        super().__register__(module)
        if migrate:
            # Migration: an added approver's steps were added, the others
            # the reviewers' own; only the decisions a designated reviewer
            # took himself count as his (never an added approver's)
            cursor.execute(*step.update(
                    [step.assignment], ['added'],
                    where=(step.assignment == Null)
                    & (step.added_by != Null)))
            cursor.execute(*step.update(
                    [step.assignment], ['reviewer'],
                    where=step.assignment == Null))
            cursor.execute(*step.update(
                    [step.decided_as], ['added'],
                    where=step.state.in_(list(DECISIONS))
                    & (step.added_by != Null)))
            cursor.execute(*step.update(
                    [step.decided_as], ['reviewer'],
                    where=step.state.in_(list(DECISIONS))
                    & (step.acted_by == step.reviewer)
                    & (step.original_reviewer == Null)
                    & (step.added_by == Null)))

    @classmethod
    def default_reminders(cls):
        return 0

    @classmethod
    def default_assignment(cls):
        return 'reviewer'

    @classmethod
    def on_modification(cls, mode, steps, field_names=None):
        pool = Pool()
        Request = pool.get('office.approval.request')
        super().on_modification(mode, steps, field_names=field_names)
        clear_transaction_cache(_ACTING)
        if mode != 'write' or not field_names or 'request' in field_names:
            clear_transaction_cache(_STEPS)
        if mode == 'create' or (mode == 'write' and (
                    not field_names or field_names & {
                        'request', 'reviewer', 'original_reviewer'})):
            Request.sync_access({s.request.id for s in steps},
                added=mode == 'create')
        if mode == 'write' and (not field_names or 'state' in field_names):
            cls.mark_notices_done([s for s in steps if s.state != 'pending'])

    @classmethod
    def mark_notices_done(cls, steps):
        """Mark read the reviewers' unread notices about the records of
        steps that are no longer pending (等待您审批, reminders, timeouts):
        the bell no longer asks for a decision already taken"""
        pool = Pool()
        Notification = pool.get('res.notification')
        if not steps:
            return
        transaction = Transaction()
        table = Notification.__table__()
        cursor = transaction.connection.cursor()
        with without_check_access():
            # One read of the steps and one of their requests
            keys = {(s.reviewer.id, s.request.res_model,
                    json.dumps([s.request.res_id]))
                for s in cls.browse(steps) if s.reviewer}
        if not keys:
            return
        # Marked read in SQL, then the bell of each reviewer is updated
        # exactly as res.notification's on_modification does after a
        # write: the ORM's write of a notice checks it exists before and
        # after, and reads it back (four statements for one flag)
        columns = [table.id, table.user, table.label, table.description]
        update = table.update(
            [table.unread, table.write_uid, table.write_date],
            [False, transaction.user, CurrentTimestamp()])
        if len(keys) == 1 and transaction.database.has_returning():
            (user, model, records), = keys
            update.where = ((table.user == user) & (table.model == model)
                & (table.records == records) & table.unread)
            update.returning = columns
            cursor.execute(*update)
            rows = cursor.fetchall()
        else:
            ids = [n[0] for n in Notification.unread_about(keys)]
            rows = []
            for sub_ids in grouped_slice(ids, 200):
                cursor.execute(*table.select(*columns,
                        where=table.id.in_(list(sub_ids))))
                rows.extend(cursor)
            for sub_ids in grouped_slice(ids, 200):
                update.where = table.id.in_(list(sub_ids))
                cursor.execute(*update)
        if rows:
            Notification.on_modification('write', [
                    Notification(id_, user=user, label=label,
                        description=description, unread=False)
                    for id_, user, label, description in rows], {'unread'})

    @classmethod
    def get_resources(cls):
        return approvable_selection()

    @classmethod
    def get_centre(cls, steps, names):
        "Read the request's process, title, content and chain"
        Request = Pool().get('office.approval.request')
        now = _now()
        result = {n: {} for n in names}
        requests = list({s.request for s in steps})
        request_names = [n for n in names
            if n in {'process', 'title', 'summary', 'chain'}]
        values = Request.get_centre(requests, request_names)
        for step in steps:
            for name in request_names:
                result[name][step.id] = values[name][step.request.id]
            if 'waiting' in names:
                start = step.activated_at
                result['waiting'][step.id] = readable_duration(
                    (step.acted_at or now) - start if start else None)
        return result

    @classmethod
    def get_request_field(cls, steps, names):
        result = {n: {} for n in names}
        for step in steps:
            if 'resource' in names:
                result['resource'][step.id] = str(step.request.resource)
            if 'requester' in names:
                result['requester'][step.id] = step.request.requester.id
        return result

    @classmethod
    def delete(cls, steps):
        raise AccessError(gettext('office_admin.msg_approval_no_delete'))

    def get_rec_name(self, name):
        return '%s: %s' % (self.tier_name or '', self.reviewed_by)

    def get_reviewed_by(self, name=None):
        "Return 'X for Y' when X acts (or is to act) for the reviewer Y"
        if self.decided_as == 'timeout':
            return self.timeout_name()
        user = self.acted_by or self.reviewer
        if self.original_reviewer and self.original_reviewer != user:
            return gettext('office_admin.msg_approval_on_behalf',
                user=user_name(user),
                reviewer=user_name(self.original_reviewer))
        return user_name(user)

    def timeout_name(self):
        "Return who decides a step at its timeout: the tier's rule"
        rule = self.request.rule
        return gettext('office_admin.msg_approval_by_timeout',
            tier=self.tier_name or '', rule=rule.rec_name if rule else '')

    def decision_capacity(self, system=False):
        "Return the decided_as of a decision taken now on the step"
        if system:
            return 'timeout'
        if self.original_reviewer or self.assignment == 'transfer':
            return 'delegate'
        if self.assignment in {'fallback', 'added'}:
            return self.assignment
        return 'reviewer'

    @classmethod
    def _approval_check_button(cls, steps, action):
        "Say why the caller cannot act on steps (see approval_button)"
        User = Pool().get('res.user')
        user = User(Transaction().user)
        # Only the steps the caller reads (AccessError otherwise)
        cls.read([s.id for s in steps], ['id'])
        if action in APPROVAL_LOCKING:
            cls._approval_lock(steps)
        with without_check_access():
            for step in cls.browse(steps):
                if step.state == 'pending' and step.reviewer == user:
                    continue
                request = step.request
                Model = Pool().get(request.res_model)
                if not Model._approval_readable(request):
                    continue
                message = Model._approval_refusal(request, user, step=step)
                if message:
                    raise ApprovalAccessError(message)

    @classmethod
    def _approval_lock(cls, steps):
        "Lock the requests of steps (see APPROVAL_LOCKING)"
        pool = Pool()
        Request = pool.get('office.approval.request')
        step = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = [s.id for s in steps if s.id is not None and s.id >= 0]
        request_ids = set()
        for sub_ids in grouped_slice(ids, 200):
            cursor.execute(*step.select(step.request,
                    where=step.id.in_(list(sub_ids))))
            request_ids.update(r for r, in cursor)
        Request.lock(sorted(request_ids))

    @classmethod
    @approval_button('approve')
    @ModelView.button
    def approve(cls, steps):
        for step in steps:
            record = step.request.get_record()
            record.__class__.approval_act(
                [record], 'approve', step=step)

    @classmethod
    @approval_button('decide')
    @ModelView.button_action('office_admin.wizard_approval_decide')
    def decide(cls, steps):
        pass

    # ---- engine ---------------------------------------------------------

    @classmethod
    def close(cls, steps, state, user=None, comment=None, decided_as=None):
        now = _now()
        for step in steps:
            step.state = state
            step.acted_at = now
            step.acted_by = user
            step.decided_as = decided_as
            if comment:
                step.comment = comment
            step.duration = now - step.activated_at
        save_computed(steps)

    @classmethod
    def notify_pending(cls, request, steps=None):
        pool = Pool()
        Notification = pool.get('office.notification')
        if steps is None:
            steps = cls.search([
                    ('request', '=', request.id),
                    ('state', '=', 'pending'),
                    ])
        record = request.get_record()
        for step in steps:
            Notification.send_later(
                [record], [step.reviewer],
                'office_admin.msg_approval_to_review',
                # A step pending now is new (created by this action)
                key='review-%s' % step.id, new_key=True,
                requester=user_name(request.requester),
                tier=step.tier_name or '')

    @classmethod
    def notify_returned(cls, step, substitute):
        "Tell the reviewer that step is back with him from substitute"
        Notification = Pool().get('office.notification')
        Notification.send_later(
            [step.request.get_record()], [step.reviewer],
            'office_admin.msg_approval_back_to_review',
            key='review-%s' % step.id,
            substitute=user_name(substitute), tier=step.tier_name or '')

    @classmethod
    def check_timeouts(cls):
        """Scheduled: act on the pending steps whose tier timeout passed.
        Each step is handled once (timeout_done)."""
        pool = Pool()
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        Delegation = pool.get('office.approval.delegation')
        Request = pool.get('office.approval.request')
        now = _now()
        # Delegations that started or ended since the last run
        Delegation.reroute(at=now)
        steps = cls.search([
                ('state', '=', 'pending'),
                ('deadline', '<', now),
                ('timeout_done', '=', False),
                ], order=[('id', 'ASC')])
        # Every request at once, first: a decision taken on one of them
        # since the job's transaction started fails it (Request.lock) before
        # it did any work, not after a long run
        Request.lock({s.request.id for s in steps})
        for sub_steps in grouped_slice(steps, 200):
            sub_steps = cls.browse(list(sub_steps))
            cls.write(sub_steps, {'timeout_done': True})
            for step in sub_steps:
                if step.state != 'pending':
                    continue
                action = step.tier.timeout_action if step.tier else 'remind'
                record = step.request.get_record()
                Model = record.__class__
                if action == 'approve':
                    Model.approval_act([record], 'approve', step=step,
                        comment=gettext('office_admin.msg_approval_auto'),
                        system=True)
                elif action == 'reject':
                    Model.approval_act([record], 'reject', step=step,
                        comment=gettext('office_admin.msg_approval_auto'),
                        system=True)
                else:
                    users = [step.reviewer]
                    if action == 'escalate':
                        users += User.users_in_group(
                            'office_admin.group_office_admin')
                        employee = step.reviewer.employee
                        if employee and employee.department:
                            head = employee.department.get_head(
                                exclude=employee)
                            if head:
                                users += list(User.users_of_employees(
                                        [head]).values())
                    Notification.send_later(
                        [record], users,
                        'office_admin.msg_approval_timeout',
                        key='timeout-%s' % step.id,
                        reviewer=user_name(step.reviewer),
                        tier=step.tier_name or '')


class ApprovalCopy(
        OfficeAccessMixin, RequestChildMixin, ModelSQL, ModelView):
    "Copy to (抄送): users told about a request who do not approve it"
    __name__ = 'office.approval.copy'

    request = fields.Many2One(
        'office.approval.request', "Request", required=True, readonly=True,
        ondelete='RESTRICT')
    user = fields.Many2One(
        'res.user', "User", required=True, readonly=True,
        ondelete='RESTRICT')
    copied_by = fields.Many2One('res.user', "Copied By", readonly=True)
    comment = fields.Text("Comment", readonly=True)

    @classmethod
    def on_modification(cls, mode, copies, field_names=None):
        pool = Pool()
        Request = pool.get('office.approval.request')
        super().on_modification(mode, copies, field_names=field_names)
        if mode == 'create' or (mode == 'write' and (
                    not field_names or field_names & {'request', 'user'})):
            Request.sync_access({c.request.id for c in copies},
                added=mode == 'create')

    @classmethod
    def delete(cls, copies):
        raise AccessError(gettext('office_admin.msg_approval_no_delete'))


class ApprovalRequestUser(OfficeAccessMixin, ModelSQL):
    "Office Approval Request - User"
    # The users involved in a request, stored for the record rules
    __name__ = 'office.approval.request-res.user'
    request = fields.Many2One(
        'office.approval.request', "Request", required=True,
        ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.user, Index.Equality()),
                    (t.request, Index.Range())),
                Index(t, (t.request, Index.Range())),
                })

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Request = pool.get('office.approval.request')
        super().__register__(module)
        # Migration: fill the fields the record rules read
        copy_secrecy_rank(Request, lambda t: t.secrecy_rank == Null)


class ApprovalMixin:
    """Make a model approvable.

    The model implements approval_department(), approval_requester_employee()
    and the hooks _approval_on_approved/rejected/returned/withdrawn (class
    methods receiving the records), and calls approval_submit() from its own
    submit transition."""
    __slots__ = ()

    approval_state = fields.Function(fields.Selection(
            [(None, "")] + REQUEST_STATES, "Approval State"),
        'get_approval')
    approval_steps = fields.Function(fields.Many2Many(
            'office.approval.step', None, None, "Approval History"),
        'get_approval')
    approval_current = fields.Function(
        fields.Char("Waiting For"), 'get_approval')
    approval_can_act = fields.Function(
        fields.Boolean("Can Decide"), 'get_approval_can_act')
    approval_reviewers = fields.Function(fields.Many2Many(
            'res.user', None, None, "Reviewers"),
        'get_approval', searcher='search_approval_reviewers')
    approval_is_requester = fields.Function(
        fields.Boolean("Submitted by Me"), 'get_approval_is_requester')
    approval_chain = fields.Function(
        fields.Text(
            "Approval Chain",
            help="Who decided what, who reviews now and who comes next."),
        'get_approval_chain')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'approval_approve': {
                    'invisible': ~Eval('approval_can_act'),
                    'depends': ['approval_can_act'],
                    'icon': 'tryton-ok',
                    },
                'approval_decide': {
                    'invisible': ~Eval('approval_can_act'),
                    'depends': ['approval_can_act'],
                    'icon': 'tryton-forward',
                    },
                'approval_withdraw': {
                    'invisible': ((Eval('approval_state') != 'pending')
                        | ~Eval('approval_is_requester')),
                    'depends': ['approval_state', 'approval_is_requester'],
                    'icon': 'tryton-undo',
                    },
                'approval_remind': {
                    'invisible': ((Eval('approval_state') != 'pending')
                        | ~Eval('approval_is_requester')),
                    'depends': ['approval_state', 'approval_is_requester'],
                    'icon': 'tryton-notification',
                    },
                })

    @classmethod
    def read(cls, ids, fields_names):
        transaction = Transaction()
        if (fields_names == ['id'] and transaction.check_access
                and transaction.user):
            # The check of an approval button (approval_button) has just
            # read the same records through the caller's rules, and
            # Tryton's button wrapper does it again: answered once
            checked = transaction_cache(_CHECKED).pop(
                (cls.__name__, transaction.user), None)
            if checked is not None and set(ids) <= checked:
                return [{'id': i} for i in ids]
        return super().read(ids, fields_names)

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        if not any(records for records, _ in zip(actions, actions)):
            # Tryton's Workflow.transition writes the state even to no
            # record when the transition moved them itself (submit saves
            # the state first): a write of nothing still ran four
            # statements
            return
        super().write(*args)

    def approval_department(self):
        return getattr(self, 'department', None)

    def approval_requester_employee(self):
        return getattr(self, 'requester', None)

    # What the approvers read (get_approval_summary): the fields shown, in
    # order, the one holding the amount or quantity, the title candidates
    _approval_summary_fields = ()
    _approval_amount_field = None
    _approval_title_fields = ('document_title', 'title', 'topic', 'subject')

    def get_approval_summary(self, readable=None):
        """Return what the approvers read of the record: a dict with
        title, amount (a text or None) and lines [(label, text)].

        The engine calls it only for a record the caller may read; fields
        the caller may not read and linked records he cannot see are left
        out. readable(model, ids) returns the ids the caller reads."""
        pool = Pool()
        FieldAccess = pool.get('ir.model.field.access')
        access = FieldAccess.get_access([self.__name__])[self.__name__]
        names = [n for n in (
                list(self._approval_title_fields)
                + list(self._approval_summary_fields)
                + [self._approval_amount_field])
            if n and n in self._fields
            and access.get(n, {}).get('read', True)]
        definitions = self.fields_get(list(dict.fromkeys(names)))
        texts = {}
        for name in names:
            texts[name] = self._approval_format(
                name, definitions[name], readable)
        title = next((texts[n] for n in self._approval_title_fields
                if texts.get(n)), None) or self.rec_name
        lines = [(definitions[n]['string'], texts[n])
            for n in self._approval_summary_fields
            if texts.get(n)]
        amount = None
        if self._approval_amount_field and texts.get(
                self._approval_amount_field):
            amount = texts[self._approval_amount_field]
        return {'title': title, 'amount': amount, 'lines': lines}

    def _approval_format(self, name, definition, readable=None):
        "Return the value of field name as a text for the summary"
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        value = getattr(self, name, None)
        type_ = definition['type']
        if value is None or value == '' or value == () or value == []:
            return None
        if type_ in {'many2one', 'reference', 'one2many', 'many2many'}:
            targets = value if isinstance(value, (list, tuple)) else [value]
            targets = [t for t in targets if t and getattr(t, 'id', -1) >= 0]
            if readable is not None and targets:
                ids = readable(
                    targets[0].__name__, {t.id for t in targets})
                targets = [t for t in targets if t.id in ids]
            names = [t.rec_name for t in targets[:5]]
            if len(targets) > 5:
                names.append('…')
            return '; '.join(names) or None
        if type_ == 'selection':
            return dict(definition.get('selection') or []).get(value, value)
        if type_ == 'multiselection':
            labels = dict(definition.get('selection') or [])
            return ', '.join(labels.get(v, v) for v in value)
        if type_ == 'boolean':
            return '✓' if value else None
        if type_ == 'date':
            return lang.strftime(value)
        if type_ == 'datetime':
            return _local_text(value, getattr(self, 'company', None))
        if type_ == 'time':
            return value.strftime('%H:%M')
        if type_ in {'numeric', 'float'}:
            digits = 2 if type_ == 'numeric' else None
            return lang.format_number(value, digits=digits)
        if type_ == 'timedelta':
            return readable_duration(value)
        text = str(value)
        return text if len(text) <= 300 else text[:299] + '…'

    # The workflow state each outcome moves the record to (Workflow models)
    _approval_transitions = {}

    @classmethod
    def _approval_transition(cls, records, state):
        @Workflow.transition(state)
        def move(cls, records):
            pass
        move(cls, records)

    @classmethod
    def _approval_on_approved(cls, records):
        pass

    @classmethod
    def _approval_on_rejected(cls, records):
        pass

    @classmethod
    def _approval_on_returned(cls, records):
        pass

    @classmethod
    def _approval_on_withdrawn(cls, records):
        pass

    @classmethod
    def _last_requests(cls, records):
        """Return {record id: its last approval request}; the ids are read
        once per transaction (a new request clears them, see
        ApprovalRequest.on_modification), the requests' values are
        trytond's (read again after any write)"""
        pool = Pool()
        Request = pool.get('office.approval.request')
        cache = transaction_cache(_LAST_REQUESTS)
        ids = [r.id for r in records if r.id is not None and r.id >= 0]
        missing = [i for i in ids if (cls.__name__, i) not in cache]
        with without_check_access():
            for sub in grouped_slice(missing, 200):
                sub = list(sub)
                for id_ in sub:
                    cache[cls.__name__, id_] = None
                for request in Request.search([
                            ('res_model', '=', cls.__name__),
                            ('res_id', 'in', sub),
                            ], order=[('id', 'ASC')]):
                    cache[cls.__name__, request.res_id] = request.id
        last = {i: cache[cls.__name__, i] for i in ids}
        requests = dict(zip(
                [i for i in ids if last[i] is not None],
                Request.browse([r for r in last.values() if r is not None])))
        return requests

    @classmethod
    def get_approval(cls, records, names):
        pool = Pool()
        Request = pool.get('office.approval.request')
        user = Transaction().user
        result = {n: {r.id: None for r in records} for n in names}
        ids = [r.id for r in records]
        with without_check_access():
            requests = []
            for sub in grouped_slice(ids, 200):
                requests += Request.search([
                        ('res_model', '=', cls.__name__),
                        ('res_id', 'in', list(sub)),
                        ], order=[('id', 'ASC')])
            steps_by_request = Request.steps_of(requests)
            copies = defaultdict(set)
            for request in requests:
                for copy in request.copies:
                    copies[request.res_id].add(copy.user.id)
        last = {}
        history = defaultdict(list)
        reviewers = defaultdict(set)
        for request in requests:
            last[request.res_id] = request
            for step in steps_by_request[request.id]:
                history[request.res_id].append(step.id)
                reviewers[request.res_id].add(step.reviewer.id)
                if step.original_reviewer:
                    reviewers[request.res_id].add(step.original_reviewer.id)
        for record_id in ids:
            request = last.get(record_id)
            if 'approval_state' in names:
                result['approval_state'][record_id] = (
                    request.state if request else None)
            if 'approval_steps' in names:
                result['approval_steps'][record_id] = history[record_id]
            if 'approval_reviewers' in names:
                result['approval_reviewers'][record_id] = sorted(
                    reviewers[record_id] | copies[record_id])
            pending = [s for s in steps_by_request[request.id]
                if s.state == 'pending'] if request else []
            if 'approval_current' in names:
                result['approval_current'][record_id] = ', '.join(
                    s.reviewer.rec_name for s in pending) or None
            if 'approval_can_act' in names:
                result['approval_can_act'][record_id] = any(
                    s.reviewer.id == user for s in pending)
        return result

    @classmethod
    def get_approval_can_act(cls, records, name):
        """Whether the user reviews a pending step of the record's last
        request, in one query: a getter of its own, as the buttons' states
        read it alone"""
        acting = cls._approval_acting(records)
        return {r.id: r.id in acting for r in records}

    @classmethod
    def _approval_acting(cls, records):
        """Return the ids of records whose last request has a pending step
        of the user, in one query answered for the transaction (the
        buttons' states ask in turn) until a request or a step changes"""
        pool = Pool()
        Request = pool.get('office.approval.request')
        Step = pool.get('office.approval.step')
        request = Request.__table__()
        last = Request.__table__()
        step = Step.__table__()
        cursor = Transaction().connection.cursor()
        user = Transaction().user
        cache = transaction_cache(_ACTING).setdefault(
            (cls.__name__, user), {})
        ids = [r.id for r in records if r.id is not None and r.id >= 0]
        for sub_ids in grouped_slice([i for i in ids if i not in cache], 200):
            sub_ids = list(sub_ids)
            latest = last.select(Max(last.id),
                where=(last.res_model == cls.__name__)
                & last.res_id.in_(sub_ids),
                group_by=[last.res_id])
            cursor.execute(*request.join(step,
                    condition=step.request == request.id
                    ).select(request.res_id,
                    where=request.id.in_(latest)
                    & (step.state == 'pending')
                    & (step.reviewer == user)))
            acting = {res_id for res_id, in cursor}
            for id_ in sub_ids:
                cache[id_] = id_ in acting
        return {i for i in ids if cache[i]}

    @classmethod
    def get_approval_chain(cls, records, name):
        "The chain of the record's last approval request"
        Request = Pool().get('office.approval.request')
        last = cls._last_requests(records)
        requests = list(last.values())
        with without_check_access():
            chains = Request.get_centre(
                Request.browse(requests), ['chain'])['chain']
        return {r.id: chains.get(last[r.id].id) if r.id in last else None
            for r in records}

    @classmethod
    def get_approval_is_requester(cls, records, name):
        "Whether the caller submitted the record's last approval request"
        user = Transaction().user
        last = cls._last_requests(records)
        return {r.id: bool(last.get(r.id))
            and last[r.id].requester.id == user for r in records}

    @classmethod
    def search_approval_reviewers(cls, name, clause):
        pool = Pool()
        Request = pool.get('office.approval.request')
        Step = pool.get('office.approval.step')
        Copy = pool.get('office.approval.copy')
        request = Request.__table__()
        step = Step.__table__()
        copy = Copy.__table__()
        _, operator, value = clause[:3]
        if operator not in {'=', 'in'}:
            return [('id', '=', -1)]
        users = [value] if operator == '=' else list(value)
        users = [int(u) for u in users if u is not None] or [-1]
        reviewed = request.join(step, condition=step.request == request.id
            ).select(request.res_id,
            where=(request.res_model == cls.__name__)
            & (step.reviewer.in_(users) | step.original_reviewer.in_(users)))
        copied = request.join(copy, condition=copy.request == request.id
            ).select(request.res_id,
            where=(request.res_model == cls.__name__)
            & copy.user.in_(users))
        return ['OR', ('id', 'in', reviewed), ('id', 'in', copied)]

    # ---- actions ---------------------------------------------------------

    @classmethod
    def approval_submit(cls, records):
        pool = Pool()
        Rule = pool.get('office.approval.rule')
        Request = pool.get('office.approval.request')
        User = pool.get('res.user')
        Notification = pool.get('office.notification')
        requester = User(Transaction().user)
        last = cls._last_requests(records)
        with without_check_access(), Notification.batch():
            for record in records:
                request = last.get(record.id)
                if request and request.state == 'pending':
                    raise ApprovalError(gettext(
                            'office_admin.msg_approval_already_pending',
                            record=record.rec_name))
                rule = Rule.find(record)
                if not rule:
                    raise ApprovalError(gettext(
                            'office_admin.msg_approval_no_rule',
                            record=record.rec_name))
                Request.open(record, rule, requester)

    @classmethod
    def _pending_request(cls, record, lock=True):
        pool = Pool()
        Request = pool.get('office.approval.request')
        request = cls._last_requests([record]).get(record.id)
        if not request or request.state != 'pending':
            raise ApprovalError(gettext(
                    'office_admin.msg_approval_not_pending',
                    record=record.rec_name))
        if lock:
            # Serialise every decision on one request: a second reviewer
            # waits, is retried and then sees the step already decided
            # (Request.lock)
            Request.lock([request])
            request = Request(request.id)
        return request

    @classmethod
    def approval_act(cls, records, action, step=None, comment=None,
            user=None, users=None, to='previous', system=False):
        """Let the current user decide on the records' pending requests.

        action: a name of APPROVAL_ACTIONS (approve, reject, return,
        delegate, add_approver or copy); system: the engine decides (a
        timeout), not the reviewer."""
        pool = Pool()
        Step = pool.get('office.approval.step')
        User = pool.get('res.user')
        Notification = pool.get('office.notification')
        if action not in APPROVAL_ACTIONS:
            raise ValueError(action)
        method, reason = APPROVAL_ACTIONS[action]
        actor = User(Transaction().user)
        comment = (comment or '').strip() or None
        if reason and not comment:
            raise ApprovalError(gettext(
                    'office_admin.msg_approval_reason_required'))
        # The notices of the decisions go together at the end
        with without_check_access(), Notification.batch():
            for record in records:
                request = cls._pending_request(record)
                steps = None
                if step is not None:
                    current = Step(step.id)
                    if current.request != request:
                        raise ApprovalError(gettext(
                                'office_admin.msg_approval_not_pending',
                                record=record.rec_name))
                else:
                    steps = request.current_steps()
                    current = next((s for s in steps
                            if s.state == 'pending'
                            and s.reviewer == actor), None)
                if current is None or current.state != 'pending' or (
                        not system and current.reviewer != actor):
                    message = None
                    if cls._approval_readable(request):
                        message = cls._approval_refusal(
                            request, actor, step=current)
                    raise ApprovalAccessError(message or gettext(
                            'office_admin.msg_approval_not_reviewer',
                            record=record.rec_name))
                if not system and actor == request.self_review_excluded():
                    # Whoever acts, after any substitution
                    raise ApprovalAccessError(gettext(
                            'office_admin.msg_approval_requester_reviewer'))
                decision = ApprovalDecision(
                    record=record, request=request, step=current,
                    actor=actor, acting=None if system else actor,
                    comment=comment, user=user, users=users, to=to,
                    system=system, steps=steps,
                    decided_as=current.decision_capacity(system))
                new_pending = getattr(cls, method)(decision)
                if new_pending:
                    Step.notify_pending(decision.request, new_pending)

    @classmethod
    @approval_action('approve')
    def _approval_approve(cls, decision):
        pool = Pool()
        Step = pool.get('office.approval.step')
        Notification = pool.get('office.notification')
        current, request = decision.step, decision.request
        Step.close([current], 'approved', decision.acting,
            decision.comment, decided_as=decision.decided_as)
        if decision.system:
            cls._approval_notify_timeout(decision, 'approved')
        else:
            Notification.send_later(
                [decision.record], [request.requester],
                'office_admin.msg_approval_step_approved',
                # Decided once, now, under the request's lock
                key='step-%s' % current.id, new_key=True,
                reviewer=current.get_reviewed_by(),
                tier=current.tier_name or '')
        request = request.__class__(request.id)
        decision.request = request
        # The steps read to find the decided one (closed above, the others
        # unchanged under the request's lock)
        return request.advance(decision.steps)

    @classmethod
    def _approval_close_decided(cls, decision, state):
        """Close the decided step in state and cancel the other pending
        steps of its tier; return the request"""
        Step = Pool().get('office.approval.step')
        current, request = decision.step, decision.request
        Step.close([current], state, decision.acting,
            decision.comment, decided_as=decision.decided_as)
        others = [s for s in request.current_steps()
            if s.state == 'pending' and s != current]
        Step.close(others, 'cancelled')
        return request

    @classmethod
    @approval_action('reject', reason=True)
    def _approval_reject(cls, decision):
        request = cls._approval_close_decided(decision, 'rejected')
        if decision.system:
            cls._approval_notify_timeout(decision, 'rejected')
        request.__class__.finish([request], 'rejected')
        return []

    @classmethod
    @approval_action('return', reason=True)
    def _approval_return(cls, decision):
        Step = Pool().get('office.approval.step')
        request = cls._approval_close_decided(decision, 'returned')
        previous = sorted({s.tier for s in Step.search([
                        ('request', '=', request.id),
                        ('state', '=', 'approved'),
                        ('tier', '!=', None),
                        ('tier_sequence', '<', decision.step.tier_sequence),
                        ])},
            key=lambda t: t.sequence or 0)
        request = request.__class__(request.id)
        decision.request = request
        if decision.to == 'previous' and previous:
            return request.activate(previous[-1], skip=False)
        request.__class__.finish([request], 'returned')
        return []

    @classmethod
    def _approval_new_reviewer(cls, decision):
        "Return the user a transfer or an added approver names, checked"
        User = Pool().get('res.user')
        if not decision.user:
            raise ApprovalError(gettext(
                    'office_admin.msg_approval_user_required'))
        user = User(int(decision.user))
        request = decision.request
        check_clearance([decision.record], [user])
        if user == request.self_review_excluded():
            raise ApprovalError(gettext(
                    'office_admin.msg_approval_requester_reviewer'))
        if any(s.reviewer == user and s.state == 'pending'
                for s in request.current_steps()):
            raise ApprovalError(gettext(
                    'office_admin.msg_approval_already_reviewer',
                    user=user_name(user)))
        return user

    @classmethod
    def _approval_add_step(cls, decision, user, assignment, required):
        Step = Pool().get('office.approval.step')
        current = decision.step
        new = Step(
            request=decision.request, tier=current.tier,
            tier_name=current.tier_name,
            tier_sequence=current.tier_sequence,
            activation=current.activation, mode=current.mode,
            kind='review', required=required, assignment=assignment,
            reviewer=user, added_by=decision.actor, state='pending',
            activated_at=_now(), deadline=current.deadline,
            comment=decision.comment, timeout_done=False)
        new.save()
        return [new]

    @classmethod
    @approval_action('delegate')
    def _approval_delegate(cls, decision):
        "Transfer (转办) the step to another user"
        Step = Pool().get('office.approval.step')
        user = cls._approval_new_reviewer(decision)
        current = decision.step
        Step.close([current], 'delegated', decision.actor,
            decision.comment, decided_as=decision.decided_as)
        return cls._approval_add_step(
            decision, user, 'transfer', current.required)

    @classmethod
    @approval_action('add_approver')
    def _approval_add_approver(cls, decision):
        "Add an approver (加签) the tier waits for"
        user = cls._approval_new_reviewer(decision)
        return cls._approval_add_step(decision, user, 'added', True)

    @classmethod
    @approval_action('copy')
    def _approval_copy(cls, decision):
        "Copy (抄送) the request to users"
        pool = Pool()
        User = pool.get('res.user')
        Copy = pool.get('office.approval.copy')
        Notification = pool.get('office.notification')
        users = [User(int(u)) for u in (decision.users or [])]
        if not users:
            raise ApprovalError(gettext(
                    'office_admin.msg_approval_user_required'))
        check_clearance([decision.record], users)
        Copy.save([Copy(request=decision.request, user=u,
                    copied_by=decision.actor, comment=decision.comment)
                for u in users])
        Notification.send_later(
            [decision.record], users,
            'office_admin.msg_approval_copied',
            key='copy-%s' % decision.request.id,
            user=user_name(decision.actor))
        return []

    @classmethod
    def _approval_notify_timeout(cls, decision, state):
        "Tell the requester and the reviewer that a timeout decided"
        Notification = Pool().get('office.notification')
        current = decision.step
        rule = decision.request.rule
        Notification.send_later(
            [decision.record],
            [decision.request.requester, current.reviewer],
            'office_admin.msg_approval_timeout_%s' % state,
            key='timeout-%s-%s' % (state, current.id),
            tier=current.tier_name or '',
            rule=rule.rec_name if rule else '')

    @classmethod
    def _approval_readable(cls, request):
        "Return whether the current user may read the approval request"
        Request = Pool().get('office.approval.request')
        if Transaction().user == 0:
            return True
        with check_access():
            return bool(Request.search([('id', '=', request.id)], limit=1))

    @classmethod
    def _approval_refusal(cls, request, user, step=None):
        """Return why user cannot decide on request now (step: the one he
        pressed a button of); only for a user who may read the request"""
        Step = Pool().get('office.approval.step')
        with without_check_access():
            steps = Step.search([('request', '=', request.id)],
                order=[('id', 'ASC')])
            if step is None:
                mine = [s for s in steps
                    if user in {s.reviewer, s.original_reviewer}
                    and s.activation == request.activation]
                step = mine[-1] if mine else None
            pending = [s for s in steps if s.state == 'pending']
            if step is not None and step.state == 'pending':
                return gettext('office_admin.msg_approval_waiting_for',
                    reviewers=user_name(step.reviewer))
            decided = []
            if step is not None:
                # The decision that closed his step (或签: another's)
                decided = [s for s in steps
                    if s.activation == step.activation
                    and s.state in DECISIONS and s.acted_at]
                if step.state in DECISIONS:
                    decided = [step]
            if not decided and request.state == 'pending':
                if pending:
                    return gettext('office_admin.msg_approval_waiting_for',
                        reviewers=', '.join(
                            user_name(s.reviewer) for s in pending))
            if request.state == 'withdrawn':
                return gettext('office_admin.msg_approval_withdrawn',
                    user=user_name(request.requester),
                    time=cls._approval_local_time(
                        request.closed_at, request))
            if not decided and request.state != 'pending':
                decided = [s for s in steps
                    if s.state in DECISIONS and s.acted_at]
            if not decided:
                return gettext('office_admin.msg_approval_not_pending_now')
            last = max(decided, key=lambda s: (s.acted_at, s.id))
            return gettext(
                'office_admin.msg_approval_already_%s' % last.state,
                user=last.get_reviewed_by(),
                time=cls._approval_local_time(last.acted_at, request))

    @staticmethod
    def _approval_local_time(value, request):
        "Return the UTC value as the company's local time, to the minute"
        Calendar = Pool().get('office.calendar')
        timezone = Calendar.get_timezone(request.company)
        local = value.replace(tzinfo=tz.UTC).astimezone(timezone)
        return local.strftime('%Y-%m-%d %H:%M')

    @classmethod
    def _approval_check_button(cls, records, action):
        """Say why the caller cannot use an approval button on records
        (see approval_button); say nothing when he may not read the
        record or its approval"""
        User = Pool().get('res.user')
        user = User(Transaction().user)
        ids = [r.id for r in records if r.id is not None and r.id >= 0]
        # Only the records the caller reads (Tryton's AccessError otherwise)
        cls.read(ids, ['id'])
        if action in APPROVAL_LOCKING:
            cls._approval_lock(records)
        # Tryton's button wrapper checks the same at once (see read)
        transaction_cache(_CHECKED)[
            cls.__name__, Transaction().user] = set(ids)
        last = cls._last_requests(records)
        if action not in {'withdraw', 'remind'}:
            # A reviewer of the tier being reviewed is not refused: the
            # steps of all the requests in one query (where the decision
            # finds them), the others are looked at one by one
            Request = Pool().get('office.approval.request')
            acting = set()
            # What _approval_acting answers the buttons' states after
            answers = transaction_cache(_ACTING).setdefault(
                (cls.__name__, user.id), {})
            with without_check_access():
                steps = Request.steps_of(last.values())
                for record in records:
                    request = last.get(record.id)
                    mine = [s for s in steps[request.id]
                        if s.state == 'pending' and s.reviewer == user
                        ] if request else []
                    answers[record.id] = bool(mine)
                    if request and request.state == 'pending' and any(
                            s.activation == request.activation
                            for s in mine):
                        acting.add(record.id)
            records = [r for r in records if r.id not in acting]
            if not records:
                return
        with without_check_access():
            for record in records:
                request = last.get(record.id)
                if request is None:
                    continue
                if not cls._approval_readable(request):
                    # Nothing about an approval the caller may not read
                    continue
                if action in {'withdraw', 'remind'}:
                    if request.state != 'pending':
                        message = cls._approval_refusal(request, user)
                    elif (action == 'withdraw'
                            and request.requester != user):
                        message = gettext(
                            'office_admin.msg_approval_withdraw_requester')
                    else:
                        continue
                else:
                    # A reviewer of the tier being reviewed was filtered
                    # out above (acting): the others are refused
                    message = cls._approval_refusal(request, user)
                if message:
                    raise ApprovalAccessError(message)

    @classmethod
    def _approval_lock(cls, records):
        """Lock the last approval requests of records (see
        APPROVAL_LOCKING and Request.lock) before the buttons' checks read
        them: the decision locks them anyway"""
        pool = Pool()
        Request = pool.get('office.approval.request')
        # Read once: the decision reads them again from the cache
        Request.lock(sorted(
                r.id for r in cls._last_requests(records).values()))

    @classmethod
    def approval_withdraw_records(cls, records):
        pool = Pool()
        Step = pool.get('office.approval.step')
        user = Transaction().user
        with without_check_access():
            for record in records:
                request = cls._pending_request(record)
                if request.requester.id != user:
                    raise ApprovalAccessError(gettext(
                            'office_admin.msg_approval_withdraw_requester'))
                Step.close(request.pending_steps(), 'cancelled')
                request.__class__.finish([request], 'withdrawn')

    @classmethod
    def approval_abandon(cls, records):
        """Close the pending approvals of records their own workflow
        cancels: steps no longer needed, requests withdrawn (timed and
        notified as usual) without calling the records' outcome hooks"""
        pool = Pool()
        Request = pool.get('office.approval.request')
        Step = pool.get('office.approval.step')
        with without_check_access():
            requests = [r for r in cls._last_requests(records).values()
                if r.state == 'pending']
            for request in requests:
                Step.close(request.pending_steps(), 'cancelled')
            if requests:
                Request.finish(requests, 'withdrawn', hooks=False)

    @classmethod
    def approval_remind_records(cls, records):
        pool = Pool()
        Step = pool.get('office.approval.step')
        Notification = pool.get('office.notification')
        User = pool.get('res.user')
        user = User(Transaction().user)
        now = _now()
        is_admin = user in User.users_in_group(
            'office_admin.group_office_admin')
        with without_check_access():
            for record in records:
                request = cls._pending_request(record, lock=False)
                if request.requester != user and not is_admin:
                    raise ApprovalAccessError(gettext(
                            'office_admin.msg_approval_not_requester',
                            record=record.rec_name))
                pending = request.pending_steps()
                recent = [s for s in pending if s.reminded_at
                    and s.reminded_at > now - REMIND_DELAY]
                if recent:
                    raise ApprovalError(gettext(
                            'office_admin.msg_approval_reminded_recently',
                            record=record.rec_name))
                for step in pending:
                    step.reminders = (step.reminders or 0) + 1
                    step.reminded_at = now
                Step.save(pending)
                for step in pending:
                    Notification.send_later(
                        [record], [step.reviewer],
                        'office_admin.msg_approval_reminder',
                        key='remind-%s-%s' % (step.id, step.reminders),
                        user=user_name(user))

    @classmethod
    @approval_button('approve')
    @ModelView.button
    def approval_approve(cls, records):
        cls.approval_act(records, 'approve')

    @classmethod
    @approval_button('decide')
    @ModelView.button_action('office_admin.wizard_approval_decide')
    def approval_decide(cls, records):
        pass

    @classmethod
    @approval_button('withdraw')
    @ModelView.button
    def approval_withdraw(cls, records):
        cls.approval_withdraw_records(records)

    @classmethod
    @approval_button('remind')
    @ModelView.button
    def approval_remind(cls, records):
        cls.approval_remind_records(records)


class ApprovalDecideStart(ModelView):
    "What goes with a decision; the decision is the button pressed"
    __name__ = 'office.approval.decide.start'

    comment = fields.Text(
        "Comment", help="Required to reject or to return.")
    user = fields.Many2One(
        'res.user', "User", help="Who the step is transferred to (转办) or "
        "the approver added (加签).")
    users = fields.Many2Many(
        'res.user', None, None, "Copy To",
        help="Who is copied (抄送) on the request.")


class ApprovalDecide(Wizard):
    """Decide on an approval step: one button per decision, never a choice
    read at click time"""
    __name__ = 'office.approval.decide'

    start = StateView(
        'office.approval.decide.start',
        'office_admin.approval_decide_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Copy To", 'copy', 'tryton-launch'),
            Button("Add Approver", 'add_approver', 'tryton-add'),
            Button("Transfer", 'transfer', 'tryton-forward'),
            Button("Return to Requester", 'return_requester', 'tryton-back'),
            Button("Return to Previous Tier", 'return_previous',
                'tryton-back'),
            Button("Reject", 'reject', 'tryton-cancel'),
            Button("Approve", 'approve', 'tryton-ok'),
            ])
    approve = StateTransition()
    reject = StateTransition()
    return_previous = StateTransition()
    return_requester = StateTransition()
    transfer = StateTransition()
    add_approver = StateTransition()
    copy = StateTransition()

    def _targets(self):
        if self.model.__name__ == 'office.approval.request':
            yield from self.model._centre_targets(self.records)
        elif self.model.__name__ == 'office.approval.step':
            steps = self.records
            for step in steps:
                record = step.request.get_record()
                yield record.__class__, [record], step
        else:
            yield self.model, list(self.records), None

    def default_start(self, fields):
        # Say at once why the user cannot decide, as the buttons do
        if self.model and self.records:
            self.model._approval_check_button(self.records, 'decide')
        return {}

    def _act(self, action, **values):
        start = self.start
        for Model, records, step in self._targets():
            Model.approval_act(
                records, action, step=step, comment=start.comment,
                **values)
        return 'end'

    def transition_approve(self):
        return self._act('approve')

    def transition_reject(self):
        return self._act('reject')

    def transition_return_previous(self):
        return self._act('return', to='previous')

    def transition_return_requester(self):
        return self._act('return', to='requester')

    def transition_transfer(self):
        user = self.start.user
        return self._act('delegate', user=user.id if user else None)

    def transition_add_approver(self):
        user = self.start.user
        return self._act('add_approver', user=user.id if user else None)

    def transition_copy(self):
        return self._act('copy', users=[u.id for u in self.start.users])


class ApprovalQuickDone(ModelView):
    "What a decision taken from the approval centre did"
    __name__ = 'office.approval.quick.done'

    message = fields.Text("Result", readonly=True)


class ApprovalQuick(Wizard):
    """Approve in one tap from the approval centre: each selected request is
    approved by the engine as a single decision (batch approval), then the
    result is shown"""
    __name__ = 'office.approval.quick'

    start = StateTransition()
    done = StateView(
        'office.approval.quick.done',
        'office_admin.approval_quick_done_view_form', [
            Button("OK", 'end', 'tryton-ok', default=True),
            ])

    def transition_start(self):
        Request = Pool().get('office.approval.request')
        self.model._approval_check_button(self.records, 'approve')
        lines = []
        for Model, records, step in self.model._centre_targets(
                self.records):
            Model.approval_act(records, 'approve', step=step)
        for request in Request.browse([r.id for r in self.records]):
            with without_check_access():
                pending = request.pending_steps()
                if request.state == 'pending' and pending:
                    following = gettext(
                        'office_admin.msg_approval_quick_next',
                        users=', '.join(sorted({
                                    s.reviewer.rec_name for s in pending})))
                else:
                    following = gettext(
                        'office_admin.msg_approval_quick_closed',
                        state=dict(request.fields_get(['state'])['state'][
                                'selection']).get(request.state))
            lines.append(gettext('office_admin.msg_approval_quick_done',
                    title=request.title or '', following=following))
        self.done.message = '\n'.join(lines)
        return 'done'

    def default_done(self, fields):
        return {'message': self.done.message}
