# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Counts on the menu entries (我的审批 3).

A menu entry whose action is a list with counted tabs (act-window domains
with `count`) shows the count of its first counted tab: what the tab
would show when the entry is opened, computed on the server through the
user's eyes (his access rights and record rules), at most 99+. Nothing is
counted for the other entries: one query finds the counted ones among the
entries the client reads, then one `search_count` each. The web client
reads the badge with the entry and reads it again after each action
(web/patches/sao-menu-counters.patch)."""
import logging

from sql import Literal, Null

from trytond.exceptions import UserError
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import PYSONDecoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, check_access

logger = logging.getLogger(__name__)

# Beyond it the badge says 99+, as sao's tab counters do
BADGE_LIMIT = 99


class Menu(metaclass=PoolMeta):
    __name__ = 'ir.ui.menu'

    badge = fields.Function(fields.Char("Count"), 'get_badge')

    @classmethod
    def get_badge(cls, menus, name):
        badges = {m.id: None for m in menus}
        # The getter runs without access checks: count through the user's
        # eyes, as his list does
        with check_access():
            for menu_id in cls._counted_menus([m.id for m in menus]):
                count = cls._menu_count(menu_id)
                if count:
                    badges[menu_id] = (
                        f'{BADGE_LIMIT}+' if count > BADGE_LIMIT
                        else str(count))
        return badges

    @classmethod
    def _counted_menus(cls, menu_ids):
        "Return the ids of menu_ids whose list action has a counted tab"
        pool = Pool()
        Keyword = pool.get('ir.action.keyword')
        Action = pool.get('ir.action')
        Window = pool.get('ir.action.act_window')
        Domain = pool.get('ir.action.act_window.domain')
        keyword = Keyword.__table__()
        action = Action.__table__()
        window = Window.__table__()
        domain = Domain.__table__()
        cursor = Transaction().connection.cursor()
        counted = set()
        for sub_ids in grouped_slice(menu_ids, 500):
            references = [f'{cls.__name__},{i}' for i in sub_ids]
            cursor.execute(*keyword
                .join(action, condition=keyword.action == action.id)
                .join(window, condition=window.action == action.id)
                .join(domain, condition=domain.act_window == window.id)
                .select(keyword.model,
                    where=(keyword.keyword == 'tree_open')
                    & keyword.model.in_(references)
                    & (action.active == Literal(True))
                    & (window.res_model != Null)
                    & (domain.count == Literal(True))
                    & (domain.active == Literal(True)),
                    group_by=[keyword.model]))
            counted.update(int(r.split(',')[1]) for r, in cursor)
        return sorted(counted)

    @classmethod
    def _menu_count(cls, menu_id):
        "Return the count of the first counted tab of the menu's action"
        pool = Pool()
        Keyword = pool.get('ir.action.keyword')
        # The action as the client gets it: none if the user may not read
        # its model (cached per language and groups)
        actions = Keyword.get_keyword('tree_open', (cls.__name__, menu_id))
        for action in actions:
            if action['type'] != 'ir.action.act_window':
                continue
            if not action['res_model'] or action.get('context_model'):
                continue
            tabs = [d for d in action['domains'] if d[2]]
            if not tabs:
                continue
            try:
                return cls._action_count(action, tabs[0][1])
            except UserError:
                # A tab the user cannot count has no badge
                logger.debug(
                    "menu %s not counted", menu_id, exc_info=True)
                return None

    @classmethod
    def _action_count(cls, action, tab_domain):
        "Count as sao does for the tab: decoded like Sao.Action.exec_action"
        pool = Pool()
        transaction = Transaction()
        Model = pool.get(action['res_model'])
        context = {
            'active_model': None,
            'active_id': None,
            'active_ids': [],
            }
        context.update(transaction.context)
        context['_user'] = transaction.user
        action_context = PYSONDecoder(context).decode(
            action['pyson_context'] or '{}')
        context.update(action_context)
        context['context'] = context
        decoder = PYSONDecoder(context)
        domain = [
            decoder.decode(action['pyson_domain'] or '[]'),
            decoder.decode(action['pyson_search_value'] or '[]'),
            decoder.decode(tab_domain or '[]'),
            ]
        with transaction.set_context(action_context):
            return Model.search_count(domain, limit=BADGE_LIMIT + 1)
