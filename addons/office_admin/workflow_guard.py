# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The workflow owns its fields; references are checked with the caller's
eyes.

Every office model gets its `create`, `write` and `copy` wrapped, outermost
(in `__post_setup__`, so the check sees exactly what the caller sent, before
any override of the model adds its own values).  The checks apply to
external calls only (RPC, proteus, `import_data`: a user and `check_access`
in the context): buttons, wizards, scheduled jobs and internal calls run
without access check and keep writing what their workflow owns.  The
administrator is an external caller like any other.

Workflow-owned fields of a model:
- its stored fields declared `readonly=True` (state, numbers, dates, who
  signed, issued, used...): no Tryton client ever sends them;
- the names listed in `_workflow_fields` (e.g. `issued_by`, whose field is
  editable in some states for the views' sake);
- on a model with a workflow, any field whose `states['readonly']` PYSON is
  true for the record (a submitted request's department, an issued
  document's secrecy, a line of a submitted requisition: the parent's
  One2Many is read-only, so is the line).
Over RPC, `create` accepts them only at their default value, `write` only
at their current value, `copy` resets them to their default (and refuses a
caller's default for them).

`_workflow_own_fields` lists the fields that name the caller himself (the
requester, the employee on leave, the drafter) or his department: over RPC
they take one of the caller's own employees / departments (those he is a
member or a head of).

Every many2one, one2many, many2many and reference value sent over RPC is
checked with the caller's own record rules: an id he cannot read is refused
with the same message as an id that does not exist, without any title.
A Many2One listed in `_reference_catalogue` (the archive of a loan) is
checked against the target's global rules (company, clearance) and the
field's static domain: one may ask for an entry of the catalogue one cannot
open yet, never for one above one's clearance.

Dotted search clauses through a relation (`('archive.title', 'like', ..)`)
only reach the targets the caller may read (`restrict_dotted`).
"""
from decimal import Decimal

from sql import Column

from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import AccessError
from trytond.model.modelstorage import _record_eval_pyson, is_leaf
from trytond.pool import Pool
from trytond.pyson import PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .secrecy import secrecy_rank

_RELATIONAL = {'many2one', 'one2one', 'one2many', 'many2many', 'reference'}


class WorkflowGuardError(AccessError):
    pass


def external_call():
    "True when the current call comes from a user over RPC"
    transaction = Transaction()
    return bool(transaction.user and transaction.check_access)


def _same(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    if a is None or b is None:
        return (a in {None, False, ''}) and (b in {None, False, ''})
    if isinstance(a, (int, float, Decimal)) and isinstance(
            b, (int, float, Decimal)) and not isinstance(a, bool):
        return Decimal(str(a)) == Decimal(str(b))
    return a == b


def _stored_value(record, name):
    value = getattr(record, name)
    if hasattr(value, 'id') and not isinstance(value, (list, tuple)):
        field = record._fields[name]
        if field._type == 'reference':
            return str(value)
        return value.id
    if isinstance(value, (list, tuple)):
        return [getattr(v, 'id', v) for v in value]
    return value


def _refuse(cls, name):
    raise WorkflowGuardError(gettext(
            'office_admin.msg_workflow_field', **cls.__names__(name)))


def _refuse_reference(cls, name):
    raise WorkflowGuardError(gettext(
            'office_admin.msg_reference_invisible', **cls.__names__(name)))


def _readonly_pyson(field):
    states = getattr(field, 'states', None) or {}
    readonly = states.get('readonly')
    if not readonly:
        return None
    return PYSONEncoder().encode(readonly)


def _eval_readonly(record, pyson):
    pool = Pool()
    User = pool.get('res.user')
    with Transaction().set_context(groups=User.get_groups()):
        return bool(_record_eval_pyson(record, pyson, encoded=True))


def visible_ids(model_name, ids, catalogue=None):
    """Return the ids of model_name, among ids, that exist and the user
    reads.  With catalogue (a domain), only the global rules (company,
    clearance) and that domain apply: the entries one may ask for."""
    pool = Pool()
    Rule = pool.get('ir.rule')
    Model = pool.get(model_name)
    ids = {i for i in ids if isinstance(i, int) and i >= 0}
    if not ids:
        return set()
    if not hasattr(Model, 'search'):
        return ids
    if catalogue is not None:
        _, clause_global = Rule.get(model_name, mode='read')
        domain = list(clause_global.values()) + [catalogue]
    else:
        domain = Rule.domain_get(model_name, mode='read')
    if not domain:
        # Nothing hidden: a missing id fails on its foreign key
        return ids
    found = set()
    with without_check_access(), \
            Transaction().set_context(active_test=False):
        for sub in grouped_slice(sorted(ids), 1000):
            clause = [('id', 'in', list(sub))]
            if domain:
                clause.append(domain)
            found.update(r.id for r in Model.search(clause, order=[]))
    return found


def _command_ids(value):
    "Return the ids an x2many value refers to (add, write, copy, ...)"
    ids = []
    if not isinstance(value, (list, tuple)):
        return ids
    for action in value:
        if not isinstance(action, (list, tuple)) or not action:
            continue
        kind = action[0]
        if kind in {'add', 'remove', 'delete', 'copy'} and len(action) > 1:
            ids.extend(action[1] if isinstance(action[1], (list, tuple))
                else [action[1]])
        elif kind == 'write':
            for i, item in enumerate(action[1:]):
                if i % 2 == 0 and isinstance(item, (list, tuple)):
                    ids.extend(item)
    return ids


def pool_models():
    return {name for name, _ in Pool().iterobject()}


def check_references(cls, vlist):
    "Refuse ids the caller cannot read, as if they did not exist"
    wanted = {}
    for values in vlist:
        for name, value in values.items():
            field = cls._fields.get(name)
            if (field is None or field._type not in _RELATIONAL
                    or not value):
                continue
            if field._type == 'reference':
                if isinstance(value, (list, tuple)) and len(value) == 2:
                    value = '%s,%s' % tuple(value)
                if isinstance(value, str) and ',' in value:
                    model, id_ = value.split(',', 1)
                    try:
                        id_ = int(id_)
                    except ValueError:
                        continue
                    if model in pool_models():
                        wanted.setdefault((name, model), set()).add(id_)
                continue
            target = field.get_target().__name__
            if field._type in {'many2one', 'one2one'}:
                ids = [value]
            else:
                ids = _command_ids(value)
            wanted.setdefault((name, target), set()).update(
                i for i in ids if isinstance(i, int))
    for (name, model), ids in wanted.items():
        ids = {i for i in ids if i >= 0}
        catalogue = None
        if name in cls._reference_catalogue:
            catalogue = cls._fields[name].domain or []
            if '"__class__"' in PYSONEncoder().encode(catalogue):
                catalogue = []  # depends on the record: rules only
        if ids and visible_ids(model, ids, catalogue=catalogue) != ids:
            _refuse_reference(cls, name)


def own_employees_and_departments():
    pool = Pool()
    User = pool.get('res.user')
    context = User.get_office_context()
    return (set(context['employees']),
        set(context['departments']) | set(context['headed_departments']))


def check_own(cls, vlist, records=None):
    """Refuse an own field set to someone else (on write: unless it keeps
    the value each record has)"""
    names = cls._workflow_own_fields
    if not names:
        return
    employees = departments = None
    for i, values in enumerate(vlist):
        for name in names & values.keys():
            value = values[name]
            if value is None:
                continue
            if records is not None and all(
                    _same(value, _stored_value(r, name))
                    for r in records[i]):
                continue
            if employees is None:
                employees, departments = own_employees_and_departments()
            target = cls._fields[name].get_target().__name__
            own = (departments if target == 'office.department'
                else employees)
            if value not in own:
                raise WorkflowGuardError(gettext(
                        'office_admin.msg_workflow_own_field',
                        **cls.__names__(name)))


def _parents(cls):
    """Return [(many2one name, parent model, one2many name on parent)] for
    the parents with a workflow whose One2Many lists this model"""
    from trytond.model import Workflow
    if '_workflow_parents_cache' in cls.__dict__:
        return cls._workflow_parents_cache
    result = []
    for name, field in cls._fields.items():
        if field._type != 'many2one' or isinstance(field, fields.Function):
            continue
        Parent = field.get_target()
        for pname, pfield in Parent._fields.items():
            if (pfield._type == 'one2many'
                    and not isinstance(pfield, fields.Function)
                    and pfield.model_name == cls.__name__
                    and pfield.field == name
                    and issubclass(Parent, Workflow)):
                result.append((name, Parent, pname))
    cls._workflow_parents_cache = result
    return result


def check_parents(cls, parent_ids):
    "Refuse children of a parent whose list of children is read-only"
    for (name, Parent, pname), ids in parent_ids.items():
        pyson = _readonly_pyson(Parent._fields[pname])
        static = Parent._fields[pname].readonly
        ids = [i for i in ids if isinstance(i, int) and i >= 0]
        if not ids or (pyson is None and not static):
            continue
        if static:
            _refuse(Parent, pname)
        for parent in Parent.browse(ids):
            if _eval_readonly(parent, pyson):
                raise WorkflowGuardError(gettext(
                        'office_admin.msg_workflow_parent',
                        **Parent.__names__(pname)))


def guard_create(cls, vlist):
    owned = cls._workflow_owned
    defaults = None
    parent_ids = {}
    for values in vlist:
        if not isinstance(values, dict):
            continue
        for name in owned & values.keys():
            if defaults is None:
                defaults = cls.default_get(list(owned), with_rec_name=False)
            if not _same(values[name], defaults.get(name)):
                _refuse(cls, name)
        for key in _parents(cls):
            value = values.get(key[0])
            if isinstance(value, int):
                parent_ids.setdefault(key, set()).add(value)
    vlist = [v for v in vlist if isinstance(v, dict)]
    check_own(cls, vlist)
    check_references(cls, vlist)
    check_parents(cls, parent_ids)


def guard_write(cls, args):
    owned = cls._workflow_owned
    actions = iter(args)
    parent_ids = {}
    vlist, records_list = [], []
    for records, values in zip(actions, actions):
        if not isinstance(values, dict):
            continue
        vlist.append(values)
        records_list.append(records)
        names = set(values.keys())
        if cls._workflow_guarded:
            checked = names - owned
            pysons = {n: _readonly_pyson(cls._fields[n]) for n in checked
                if n in cls._fields}
            pysons = {n: p for n, p in pysons.items() if p}
        else:
            pysons = {}
        for record in records:
            for name in names & owned:
                if not _same(values[name], _stored_value(record, name)):
                    _refuse(cls, name)
            for name, pyson in pysons.items():
                if cls._fields[name]._type in {'one2many', 'many2many'}:
                    if values[name] and _eval_readonly(record, pyson):
                        _refuse(cls, name)
                elif (not _same(values[name], _stored_value(record, name))
                        and _eval_readonly(record, pyson)):
                    _refuse(cls, name)
            for key in _parents(cls):
                parent = getattr(record, key[0])
                if parent:
                    parent_ids.setdefault(key, set()).add(parent.id)
        for key in _parents(cls):
            value = values.get(key[0])
            if isinstance(value, int):
                parent_ids.setdefault(key, set()).add(value)
    check_own(cls, vlist, records_list)
    check_references(cls, vlist)
    check_parents(cls, parent_ids)


def guard_copy(cls, default):
    "Refuse a caller's default for an owned field; return the reset default"
    default = dict(default) if default else {}
    owned = cls._workflow_owned | cls._workflow_own_fields
    defaults = cls.default_get(list(owned), with_rec_name=False)
    for name in owned & default.keys():
        if name in cls._workflow_own_fields and name not in (
                cls._workflow_owned):
            continue
        if not _same(default[name], defaults.get(name)):
            _refuse(cls, name)
    check_own(cls, [default])
    check_references(cls, [{k: v for k, v in default.items() if '.' not in k}])
    for name in owned:
        field = cls._fields[name]
        if field._type in {'one2many', 'many2many'}:
            continue
        default.setdefault(name, defaults.get(name))
    return default


def guard_delete(cls, records):
    parent_ids = {}
    for record in records:
        for key in _parents(cls):
            parent = getattr(record, key[0])
            if parent:
                parent_ids.setdefault(key, set()).add(parent.id)
    check_parents(cls, parent_ids)


# The wrappers are set on the pool's class and call the rest of the chain
# with super(): they come first, see what the caller sent and never hide a
# method defined later (or patched in a test).
def _wrap_create(owner):
    def create(cls, vlist):
        if external_call():
            guard_create(cls, vlist)
        return super(owner, cls).create(vlist)
    create._workflow_guard = True
    return create


def _wrap_write(owner):
    def write(cls, *args):
        if external_call():
            guard_write(cls, args)
        return super(owner, cls).write(*args)
    write._workflow_guard = True
    return write


def _wrap_copy(owner):
    def copy(cls, records, default=None):
        if external_call():
            default = guard_copy(cls, default)
        return super(owner, cls).copy(records, default=default)
    copy._workflow_guard = True
    return copy


def _wrap_delete(owner):
    def delete(cls, records):
        if external_call():
            guard_delete(cls, records)
        return super(owner, cls).delete(records)
    delete._workflow_guard = True
    return delete


class WorkflowGuardMixin:
    """Workflow-owned fields and references checked with the caller's eyes
    (see the module's docstring)"""
    __slots__ = ()
    _workflow_fields = set()
    _workflow_own_fields = set()
    # Many2One fields whose target is checked as a catalogue entry: within
    # the global rules (company, clearance) and the field's static domain
    _reference_catalogue = set()

    # {Function Reference: (its model column, its id column)}
    _reference_columns = {}

    @classmethod
    def search(cls, domain, *args, **kwargs):
        # (offset, limit, order, count, query): not every model's search
        # takes them all (ModelSingleton's has no query)
        if cls._reference_columns and external_call():
            order = kwargs.get('order', args[2] if len(args) > 2 else None)
            # trytond runs a Function field's searcher before search_domain
            # and without the caller's rules: a dotted clause through it is
            # restricted here, after trytond's checks of the model and
            # field access on the domain as sent (they return nothing)
            from trytond.model import ModelStorage
            ModelStorage.search.__func__(cls, domain, order=order)
            domain = _restrict_references(cls, domain)
        return super().search(domain, *args, **kwargs)

    @classmethod
    def search_domain(cls, domain, active_test=None, tables=None):
        if tables is None and external_call():
            domain = restrict_dotted(cls, domain)
        return super().search_domain(
            domain, active_test=active_test, tables=tables)

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        from trytond.model import ModelStorage, Workflow
        if not issubclass(cls, ModelStorage):
            return
        cls._workflow_guarded = issubclass(cls, Workflow)

        def declared(name):
            # Every class of the model declares its own: a mixin's set is
            # kept even when a base before it in the MRO has an empty one
            return set().union(*(vars(c).get(name, ()) for c in cls.__mro__))
        owned = declared('_workflow_fields')
        for name, field in cls._fields.items():
            if (field.readonly is True
                    and not isinstance(field, fields.Function)
                    and name not in {'id', 'create_uid', 'create_date',
                        'write_uid', 'write_date'}):
                owned.add(name)
        cls._workflow_owned = frozenset(owned & cls._fields.keys())
        cls._workflow_own_fields = frozenset(
            declared('_workflow_own_fields') & cls._fields.keys())
        for name, wrap in [
                ('create', _wrap_create),
                ('write', _wrap_write),
                ('copy', _wrap_copy),
                ('delete', _wrap_delete)]:
            current = cls.__dict__.get(name)
            if current is not None:
                # Already wrapped, or the pool class's own method
                continue
            setattr(cls, name, classmethod(wrap(cls)))


_NEGATIVE = {'!=', 'not in', 'not like', 'not ilike', 'not where'}


def _restrict_references(Model, domain):
    "restrict_dotted for the clauses through Model's _reference_columns"
    if isinstance(domain, str) or not isinstance(domain, (list, tuple)):
        return domain
    if domain and is_leaf(domain):
        name = domain[0]
        if '.' in name and (
                name.split('.', 1)[0] in Model._reference_columns):
            return restrict_dotted(Model, domain)
        return domain
    return [_restrict_references(Model, d) for d in domain]


def restrict_dotted(Model, domain):
    """Rewrite each dotted clause through a relation (`archive.title`) so
    that it only reaches the targets the caller may read: trytond converts
    it without the target's record rules, which rebuilds hidden values
    one comparison at a time."""
    pool = Pool()
    Rule = pool.get('ir.rule')
    if isinstance(domain, str) or not isinstance(domain, (list, tuple)):
        return domain
    if not domain or not is_leaf(domain):
        return [restrict_dotted(Model, d) for d in domain]
    name = domain[0]
    if '.' not in name:
        field = Model._fields.get(name)
        # ('archive', 'ilike', 'x') searches the target's rec_name
        if (field is not None and field._type in _RELATIONAL - {'reference'}
                and not isinstance(field, fields.Function)
                and isinstance(domain[2], str)
                and not domain[1].endswith(
                    ('child_of', 'parent_of', 'where'))):
            return restrict_dotted(
                Model, (name + '.rec_name',) + tuple(domain[1:3]))
        return domain
    fname, rest = name.split('.', 1)
    field = Model._fields.get(fname)
    # A Function Reference whose model and id are stored in two columns
    # (the approval request's resource: res_model, res_id)
    columns = getattr(Model, '_reference_columns', {}).get(fname)
    if field is None or (isinstance(field, fields.Function) and not columns):
        return domain
    if field._type == 'reference':
        if len(domain) < 4 or domain[3] not in pool_models():
            return domain
        Target = pool.get(domain[3])
        clause = (rest,) + tuple(domain[1:3]) + tuple(domain[4:])
    elif field._type in {'many2one', 'one2one', 'one2many', 'many2many'}:
        Target = field.get_target()
        clause = (rest,) + tuple(domain[1:])
    else:
        return domain
    target_domain = [restrict_dotted(Target, clause)]
    rule = Rule.domain_get(Target.__name__, mode='read')
    if rule:
        target_domain.append(rule)
    with without_check_access(), \
            Transaction().set_context(active_test=False):
        query = Target.search(target_domain, order=[], query=True)
    negative = domain[1] in _NEGATIVE
    if field._type == 'reference':
        table = Model.__table__()
        if columns:
            model_column, id_column = (Column(table, c) for c in columns)
            where = (model_column == domain[3]) & id_column.in_(query)
        else:
            column = field.sql_column({None: (table, None)}, Model)
            where = (field.sql_id(column, Model).in_(query)
                & column.like(domain[3] + ',%'))
        result = ('id', 'in', table.select(table.id, where=where))
    elif field._type in {'one2many', 'many2many'}:
        return (fname, 'where', [('id', 'in', query)])
    else:
        result = (fname, 'in', query)
    if negative:
        return ['OR', result, (fname, '=', None)]
    return result


def check_clearance(records, users):
    """Refuse to make a user handler, recipient or attendee of a record his
    clearance does not let him read"""
    for record in records:
        rank = getattr(record, 'secrecy_rank', None)
        if rank is None:
            continue
        for user in users:
            if user and secrecy_rank(user.clearance) < rank:
                raise WorkflowGuardError(gettext(
                        'office_admin.msg_clearance_too_low',
                        user=user.rec_name,
                        **record.__names__()))
