# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One access mixin for every office model.

Tryton applies record rules in SQL for `search`/`read`, but `export_data`
(over RPC and through the `/<db>/data/<model>` route) evaluates them in
Python on loaded records (`eval_domain`), following dotted paths on its
own.  Office models refuse an export of any record that `read` would
refuse: every record the export reaches (the exported records and every
record along each field path) is checked with `ir.rule` in SQL, exactly as
`read` does, and a field path that does not exist (`request.rec_name`) is
refused with a translated error.

Writing record rules for an office model (so that SQL and Python agree):
- every leaf names a field of the model itself: never a dotted leaf
  (`archive.secrecy_rank`, `request.requester`): in Python a dotted leaf
  is true as soon as the many2one is set;
- prefer stored fields: copy a secrecy rank, a department or the involved
  users onto the record and keep them in sync (`secrecy_rank` of
  `office.archive.file`, `involved_users` of `office.approval.request`);
- a value copied from a parent record is kept in sync with
  `copy_from_parent()` (at create, and when the parent changes);
- a value that lives on a parent record is read through `related_field()`:
  its getter (Python) and its searcher (SQL) follow the same path, so both
  agree; other Function fields only when their getter and searcher compute
  the same thing and do not depend on who evaluates them (`Rule.check`
  searches as root);
- no `'where'` leaf and no `__access__` (Python evaluates them as true);
- test every path (search, read, export, the data route, attachments and
  notes of the record) with a user who must not see the record.
"""
from collections import defaultdict
from contextlib import contextmanager
from itertools import product

from sql import Column, Literal, Union

from trytond.i18n import gettext
from trytond.model import dualmethod, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, check_access, without_check_access)

from .common import clear_transaction_cache, transaction_cache

_RELATIONS = {'many2one', 'one2many', 'many2many', 'reference', 'one2one'}
_READABLE_BY = 'office.access.readable_by'


@contextmanager
def readable_by_known(records, users):
    """In the block, notify_user knows which of records each of users may
    read from one query per model (OfficeAccessMixin.readable_by), instead
    of one per user"""
    transaction = Transaction()
    users = {int(u) for u in users if u is not None} - {transaction.user}
    by_model = defaultdict(set)
    for record in records:
        if (isinstance(record, OfficeAccessMixin)
                and record.id is not None and record.id >= 0):
            by_model[record.__class__].add(record.id)
    cache = transaction_cache(_READABLE_BY)
    if users:
        for Model, ids in by_model.items():
            for user, readable in Model.readable_by(ids, users).items():
                cache[Model.__name__, user] = {
                    'asked': ids, 'readable': readable}
    try:
        yield
    finally:
        clear_transaction_cache(_READABLE_BY)


def in_office_group(name):
    """Whether the transaction's user is in the office group of XML id name
    (the root user, running jobs and set-ups, always is)"""
    pool = Pool()
    if not Transaction().user:
        return True
    group = pool.get('ir.model.data').get_id('office_admin', name)
    return group in pool.get('res.user').get_groups()


def related_field(path, field):
    """Return a Function field with the value found at the dotted path (for
    record rules): read in Python by following the path, searched in SQL
    with the same dotted clause."""
    function = fields.Function(
        field, '_get_related_field', searcher='_search_related_field')
    function.related_path = path
    return function


def copy_from_parent(Model, parent, columns, records=None, parents=None):
    """Copy columns of each record's parent (the Many2One `parent`) onto the
    record in SQL, for the record rules: columns maps a column of Model to
    a column of the parent.  Give the records, or the parents whose records
    to update (records or ids)."""
    Parent = Pool().get(Model._fields[parent].model_name)
    table = Model.__table__()
    parent_table = Parent.__table__()
    cursor = Transaction().connection.cursor()
    link = Column(table, parent)
    if records is not None:
        column, ids = table.id, records
    else:
        column, ids = link, parents
    names = list(columns)
    for sub_ids in grouped_slice([int(i) for i in ids], 200):
        cursor.execute(*table.update(
                [Column(table, n) for n in names],
                [parent_table.select(Column(parent_table, columns[n]),
                        where=parent_table.id == link) for n in names],
                where=column.in_(list(sub_ids))))

from .workflow_guard import WorkflowGuardMixin


def check_records_readable(records):
    "Raise AccessError (as read does) unless every record passes its rules"
    pool = Pool()
    Rule = pool.get('ir.rule')
    ModelAccess = pool.get('ir.model.access')
    by_model = {}
    for record in records:
        if record is None or getattr(record, 'id', None) is None:
            continue
        if record.id < 0:
            continue
        by_model.setdefault(record.__name__, set()).add(record.id)
    for model_name, ids in by_model.items():
        ModelAccess.check(model_name, 'read')
        for sub_ids in grouped_slice(sorted(ids), 1000):
            Rule.check(model_name, list(sub_ids), mode='read')


def _split_name(Model, name):
    """Return the field of name as export_data reads it (`field`,
    `field.translated`, `field:lang=xx`) or refuse it"""
    descriptor = None
    if '.' in name:
        name, descriptor = name.split('.', 1)
    elif ':lang=' in name:
        name = name.split(':lang=', 1)[0]
    field = Model._fields.get(name)
    if (field is None
            or (descriptor is not None
                and (descriptor != 'translated'
                    or not callable(getattr(field, 'translated', None))))):
        raise AccessError(gettext('office_admin.msg_export_field_invalid'))
    return name, field


def check_export_paths(Model, records, paths):
    """Check the records and every record reached along the paths (lists
    of field names, as export_data splits them)"""
    from trytond.model import Model as BaseModel
    check_records_readable(records)
    children = {}
    for path in paths:
        if not path:
            continue
        name, field = _split_name(Model, path[0])
        if len(path) > 1 and field._type not in _RELATIONS:
            raise AccessError(
                gettext('office_admin.msg_export_field_invalid'))
        children.setdefault(name, []).append(path[1:])
    for name, subpaths in children.items():
        field = Model._fields[name]
        if field._type not in _RELATIONS:
            continue
        targets = []
        with without_check_access():
            for record in records:
                value = getattr(record, name)
                if isinstance(value, (list, tuple)):
                    targets.extend(
                        v for v in value if isinstance(v, BaseModel))
                elif isinstance(value, BaseModel):
                    targets.append(value)
        by_model = {}
        for target in targets:
            by_model.setdefault(target.__name__, []).append(target)
        for model_name, model_records in by_model.items():
            Target = Pool().get(model_name)
            check_export_paths(
                Target, model_records, [p for p in subpaths if p] or [[]])


class OfficeAccessMixin(WorkflowGuardMixin):
    """Every office model: rules hold on every path (export included).

    `_workflow_fields`: the fields only the workflow's own methods write
    (see workflow_guard.py)."""
    __slots__ = ()

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            check_export_paths(
                cls, records, [f.split('/') for f in fields_names])
        return super().export_data(records, fields_names, header=header)

    @classmethod
    def readable_by(cls, ids, users):
        """Return {user id: the ids among ids he may read}: each user's
        search under his own access and rules, the users' joined in one
        query (UNION ALL) per 50 users and 200 ids. (A model of the mixin
        must filter its search in SQL: search(query=True) is what counts
        here.)"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        users = sorted({int(u) for u in users})
        result = {u: set() for u in users}
        ids = sorted({i for i in ids if i is not None and i >= 0})
        if not ids:
            return result
        for sub_ids, sub_users in product(
                [list(s) for s in grouped_slice(ids, 200)],
                [list(s) for s in grouped_slice(users, 50)]):
            queries = []
            for user in sub_users:
                # Without the sender's context: the recipient's employees
                # and companies must not be computed (and cached) from it
                with transaction.set_user(user), \
                        transaction.reset_context(), check_access():
                    if not ModelAccess.check(
                            cls.__name__, 'read', raise_exception=False):
                        continue
                    query = cls.search(
                        [('id', 'in', sub_ids)], order=[], query=True)
                queries.append(query.select(
                        Literal(user).as_('user'), Column(query, 'id')))
            if not queries:
                continue
            union = queries[0]
            if len(queries) > 1:
                union = Union(*queries, all_=True)
            cursor.execute(*union)
            for user, id_ in cursor:
                result[user].add(id_)
        return result

    @dualmethod
    def notify_user(
            cls, records, icon, label, description=None, user=None, **extra):
        "Notify a user only about the records he may read"
        transaction = Transaction()
        if user is not None and int(user) != transaction.user:
            ids = [r.id for r in records if r.id is not None and r.id >= 0]
            # What a sender already asked for several recipients at once
            known = transaction_cache(_READABLE_BY).get(
                (cls.__name__, int(user)))
            if known is not None and known['asked'].issuperset(ids):
                visible = known['readable']
            else:
                visible = cls.readable_by(ids, [user])[int(user)]
            records = [r for r in records if r.id in visible]
            if not records:
                return
        super().notify_user(
            records, icon, label, description=description, user=user,
            **extra)

    @classmethod
    def _get_related_field(cls, records, name):
        from trytond.model import Model as BaseModel
        path = cls._fields[name].related_path.split('.')
        field = cls._fields[name]
        multiple = field._type in {'one2many', 'many2many'}
        result = {}
        with without_check_access():
            for record in records:
                values = [record]
                for step in path:
                    next_values = []
                    for value in values:
                        value = getattr(value, step, None)
                        if isinstance(value, (list, tuple)):
                            next_values.extend(value)
                        elif value is not None:
                            next_values.append(value)
                    values = next_values
                values = [
                    v.id if isinstance(v, BaseModel) else v for v in values]
                if multiple:
                    result[record.id] = sorted(set(values))
                else:
                    result[record.id] = values[0] if values else None
        return result

    @classmethod
    def _search_related_field(cls, name, clause):
        path = cls._fields[name].related_path
        return [(path + clause[0][len(name):],) + tuple(clause[1:])]
