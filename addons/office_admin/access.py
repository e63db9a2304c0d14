# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One access mixin for every office model.

Tryton applies record rules in SQL for `search`/`read`, but `export_data`
(over RPC and through the `/<db>/data/<model>` route) evaluates them in
Python on loaded records, following dotted paths on its own.  Office models
refuse an export of any record that `read` would refuse: every record the
export reaches (the exported records and every record along each field
path) is checked with `ir.rule` in SQL, exactly as `read` does.

Writing record rules for an office model (so that SQL and Python agree):
- put the rule on stored fields of the model itself (copy a secrecy rank, a
  department or a list of involved users onto the record and keep it in
  sync); never a dotted leaf (`archive.secrecy_rank`);
- never a Function field without a stored twin in a rule;
- test every path (search, read, export, the data route) with a user who
  must not see the record (tests/test_access_matrix.py covers every office
  model).
"""
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

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


def _field_name(name):
    if '.' in name:
        name = name.split('.', 1)[0]
    if ':lang=' in name:
        name = name.split(':lang=', 1)[0]
    return name


def check_export_paths(Model, records, paths):
    """Check the records and every record reached along the paths (lists
    of field names, as export_data splits them)"""
    from trytond.model import Model as BaseModel
    check_records_readable(records)
    children = {}
    for path in paths:
        if not path:
            continue
        children.setdefault(_field_name(path[0]), []).append(path[1:])
    for name, subpaths in children.items():
        field = Model._fields.get(name)
        if field is None or field._type not in {
                'many2one', 'one2many', 'many2many', 'reference', 'one2one'}:
            continue
        targets = []
        for record in records:
            value = getattr(record, name)
            if isinstance(value, (list, tuple)):
                targets.extend(v for v in value if isinstance(v, BaseModel))
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
