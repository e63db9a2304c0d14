# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Secrecy levels (密级) and the record-rule pattern that hides records above
a user's clearance.

A model that mixes in `SecrecyMixin` stores both the level's key and its rank;
the rule `[('secrecy_rank', '<=', Eval('clearance_rank', 0))]` (see
`rule_group_*_clearance` in the XML files) then filters search, read, count
and export through Tryton's own `ir.rule` machinery.  Records that show a
classified record (its approval requests, steps and copies, its
distribution, the files of an archive) store the same rank, kept in sync
when the secrecy changes, under the same rule (see access.py)."""
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import SecrecyWarning

SECRECY_LEVELS = [
    ('public', "Public"),
    ('internal', "Internal"),
    ('confidential', "Confidential"),
    ('secret', "Secret"),
    ('top_secret', "Top Secret"),
    ]
SECRECY_RANK = {key: rank for rank, (key, _) in enumerate(SECRECY_LEVELS)}
# Models whose records carry the rank of a classified record (their
# `resource` as res_model/res_id columns) for their clearance rule; a model
# with a `sync_access(ids)` class method is told after its ranks change.
RANK_COPIES = ['office.approval.request', 'office.distribution']


def secrecy_rank(level):
    return SECRECY_RANK.get(level or 'public', 0)


def copy_secrecy_rank(Copy, where):
    """Set the secrecy_rank of the rows of Copy matching where(table) from
    their resource; return the ids updated."""
    pool = Pool()
    table = Copy.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(table.id, table.res_model,
            where=where(table)))
    by_model = {}
    for id_, model in cursor:
        by_model.setdefault(model, []).append(id_)
    for model, ids in by_model.items():
        try:
            Model = pool.get(model)
        except KeyError:
            Model = None
        for sub_ids in grouped_slice(ids, 200):
            if Model is not None and 'secrecy_rank' in Model._fields:
                resource = Model.__table__()
                value = Coalesce(resource.select(resource.secrecy_rank,
                        where=resource.id == table.res_id), 0)
            else:
                value = 0
            cursor.execute(*table.update([table.secrecy_rank], [value],
                    where=table.id.in_(list(sub_ids))))
    ids = [i for ids in by_model.values() for i in ids]
    if ids and hasattr(Copy, 'sync_access'):
        Copy.sync_access(ids)
    return ids


class SecrecyMixin:
    __slots__ = ()
    # Submitting a record (its state becomes one of these) with a secrecy
    # lower than the submitter's default needs his explicit confirmation,
    # logged in ir.model.log: a client that sent a level the user did not
    # choose (a stale form) is stopped there, not after approval.
    _secrecy_submit_states = {'submitted'}
    secrecy = fields.Selection(
        SECRECY_LEVELS, "Secrecy", required=True, sort=False,
        states={
            'readonly': Eval('state', 'draft') != 'draft',
            },
        help="Users whose clearance is lower do not see the record at all.")
    secrecy_rank = fields.Integer("Secrecy Rank", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        table = cls.__table__()
        cls._sql_indexes.add(Index(table, (table.secrecy_rank, Index.Range())))

    @classmethod
    def default_secrecy(cls):
        "Internal, or the user's clearance when it is lower"
        pool = Pool()
        User = pool.get('res.user')
        if Transaction().user:
            # The clearance of the record rules' context (cached per user)
            clearance = SECRECY_LEVELS[
                User.get_office_context()['clearance_rank']][0]
        else:
            clearance = 'top_secret'
        if secrecy_rank(clearance) < secrecy_rank('internal'):
            return clearance
        return 'internal'

    @classmethod
    def default_secrecy_rank(cls):
        return secrecy_rank(cls.default_secrecy())

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if 'secrecy' in values:
            values['secrecy_rank'] = secrecy_rank(values['secrecy'])
        return values

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if (mode == 'write'
                and values.get('state') in cls._secrecy_submit_states):
            cls.check_secrecy_lowered(records, values.get('secrecy'))

    @classmethod
    def check_secrecy_lowered(cls, records, secrecy=None):
        """Ask the user to confirm each record submitted below his default
        secrecy (a warning per record and level) and log the confirmation"""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        default = cls.default_secrecy()
        names = None
        confirmed = []
        for record in records:
            level = secrecy or record.secrecy
            if secrecy_rank(level) >= secrecy_rank(default):
                continue
            key = Warning.format(
                f'office_admin.secrecy_lowered.{level}', [record])
            if Warning.check(key):
                if names is None:
                    names = dict(cls.fields_get(
                            ['secrecy'])['secrecy']['selection'])
                raise SecrecyWarning(key, gettext(
                        'office_admin.msg_secrecy_lowered',
                        secrecy=names.get(level, level),
                        default=names.get(default, default)))
            confirmed.append((record, level))
        for record, level in confirmed:
            cls.log([record], 'secrecy_lowered', level)

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        super().on_modification(mode, records, field_names=field_names)
        if mode == 'write' and (not field_names
                or field_names & {'secrecy', 'secrecy_rank'}):
            # The logs of who opened the record follow its rank
            pool.get('office.access.log').sync_rank(records)
            # The records that show what this one says follow its rank
            for name in RANK_COPIES:
                Copy = pool.get(name)
                for sub_ids in grouped_slice([r.id for r in records], 200):
                    sub_ids = list(sub_ids)
                    copy_secrecy_rank(Copy, lambda t: (
                            (t.res_model == cls.__name__)
                            & t.res_id.in_(sub_ids)))


class ModelLog(metaclass=PoolMeta):
    "The audit of a secrecy lowered on submission (see SecrecyMixin)"
    __name__ = 'ir.model.log'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        event = ('secrecy_lowered', "Secrecy lowered to")
        if event not in cls.event.selection:
            cls.event.selection.append(event)

    def get_action(self, name):
        if self.event == 'secrecy_lowered' and self.resource:
            selection = self.resource.fields_get(
                ['secrecy'])['secrecy']['selection']
            return dict(selection).get(self.target, self.target)
        return super().get_action(name)
