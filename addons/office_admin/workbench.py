# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The workbench (工作台): each office user's home.

A board per role (employee, department head, office, leadership): a
`board` view, opened by an act-window without model, made of the lists of
what waits for the user, each list with counted tabs. The board of the
user's highest role opens at login (a login action added to the user's
preferences), and each board has its menu entry."""
from trytond.pool import Pool, PoolMeta

# The boards, from the highest role down: (group, act_window) xml ids
WORKBENCHES = [
    ('group_leadership', 'act_workbench_leadership'),
    ('group_office_admin', 'act_workbench_office'),
    ('group_office_staff', 'act_workbench_office'),
    ('group_department_head', 'act_workbench_head'),
    ('group_employee', 'act_workbench_employee'),
    ]


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    def workbench_action(self):
        "Return the id of the ir.action of the user's workbench or None"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ActWindow = pool.get('ir.action.act_window')
        groups = {g.id for g in self.groups}
        for group, action in WORKBENCHES:
            if ModelData.get_id('office_admin', group) in groups:
                return ActWindow(ModelData.get_id(
                        'office_admin', action)).action.id

    @classmethod
    def _get_preferences(cls, user, context_only=False):
        preferences = super()._get_preferences(
            user, context_only=context_only)
        if not context_only and 'actions' in preferences:
            action = user.workbench_action()
            if action and action not in preferences['actions']:
                preferences['actions'] = (
                    [action] + list(preferences['actions']))
        return preferences
