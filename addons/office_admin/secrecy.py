# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Secrecy levels (密级) and the record-rule pattern that hides records above
a user's clearance.

A model that mixes in `SecrecyMixin` stores both the level's key and its rank;
the rule `[('secrecy_rank', '<=', Eval('clearance_rank', 0))]` (see
`rule_group_*_clearance` in the XML files) then filters search, read, count
and export through Tryton's own `ir.rule` machinery."""
from trytond.model import Index, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

SECRECY_LEVELS = [
    ('public', "Public"),
    ('internal', "Internal"),
    ('confidential', "Confidential"),
    ('secret', "Secret"),
    ('top_secret', "Top Secret"),
    ]
SECRECY_RANK = {key: rank for rank, (key, _) in enumerate(SECRECY_LEVELS)}


def secrecy_rank(level):
    return SECRECY_RANK.get(level or 'public', 0)


class SecrecyMixin:
    __slots__ = ()
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
        user = User(Transaction().user)
        clearance = user.clearance if user.id else 'top_secret'
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
