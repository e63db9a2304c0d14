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


# Field types whose column PostgreSQL returns as trytond's read does
_RETURNED_TYPES = {
    'boolean', 'char', 'date', 'datetime', 'integer', 'many2one',
    'selection', 'text', 'timestamp',
    }


def save_computed(records):
    """Save what an engine set on existing records of one model: the
    fields the model lists in `_save_computed`, which its own engine
    computes and sets (states, times, counters, a decision's comment as
    given), not fields of a form.

    trytond's write checks that the records exist before and after its
    UPDATE and reads them back to validate them: three statements more
    for values the engine already holds valid. Here each distinct set of
    values is one UPDATE per slice of ids, as the current user; on
    PostgreSQL it returns the records' columns into the transaction's
    cache, as the validation read would have (elsewhere they are read
    again when used). The model's on_modification runs as after a write;
    its check_modification, on_write and validation do not, so a field
    belongs in `_save_computed` only when they have nothing to say about
    it. New records, other fields, and models with history or write
    triggers are saved by trytond's save."""
    from sql import Column
    from sql.functions import CurrentTimestamp
    from trytond import backend
    from trytond.model.modelstorage import without_check_access
    from trytond.tools import grouped_slice

    records = list(records)
    if not records:
        return
    Model = records[0].__class__
    pool = Pool()
    Trigger = pool.get('ir.trigger')
    transaction = Transaction()
    computed = getattr(Model, '_save_computed', set())

    groups = {}
    for record in records:
        if record.id is None or record.id < 0:
            groups = None
            break
        values = record._save_values() if record._values else {}
        if not values:
            continue
        values = Model.preprocess_values('write', values)
        if not values.keys() <= computed:
            groups = None
            break
        groups.setdefault(tuple(sorted(values.items())), []).append(record)
    if (groups is None or Model._history
            or Trigger.get_triggers(Model.__name__, 'write')):
        Model.save(records)
        return
    if not groups:
        return
    table = Model.__table__()
    cursor = transaction.connection.cursor()
    returned = []
    if backend.name == 'postgresql':
        # The columns trytond's read gives as stored (not those it
        # converts with a field's get, translates or computes)
        returned = ['id'] + [n for n, f in Model._fields.items()
            if n != 'id' and f._type in _RETURNED_TYPES
            and not isinstance(f, fields.Function)
            and not hasattr(f, 'get') and not getattr(f, 'translate', False)
            and f.loading == 'eager']
    # As trytond's write: the caches forget the records
    transaction.counter += 1
    written = [r for group in groups.values() for r in group]
    ids = [r.id for r in written]
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            for id_ in ids:
                cache[Model.__name__].pop(id_, None)
    rows = []
    names = set()
    for items, group in groups.items():
        names.update(n for n, _ in items)
        columns = [table.write_uid, table.write_date]
        update_values = [transaction.user, CurrentTimestamp()]
        for name, value in items:
            columns.append(Column(table, name))
            update_values.append(Model._fields[name].sql_format(value))
        for sub_ids in grouped_slice(
                [r.id for r in group], backend.MAX_QUERY_PARAMS):
            query = table.update(columns, update_values,
                where=table.id.in_(list(sub_ids)))
            if returned:
                query.returning = [Column(table, n) for n in returned]
            cursor.execute(*query)
            if returned:
                rows.extend(dict(zip(returned, row)) for row in cursor)
    cache = transaction.get_cache()[Model.__name__]
    for row in rows:
        cache[row.pop('id')]._update(**row)
    for record in records:
        record._values = None
        record._init_values = None
        record._local_cache.pop(record.id, None)
    with without_check_access():
        Model.on_modification('write', written, names)
