# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, Id
from trytond.transaction import Transaction

from .access import OfficeAccessMixin
from .exceptions import SealRequestError


def integer_setting(name, string, default, minimum=1, maximum=None,
        help=None):
    """Return a mixin for office.configuration with the integer setting
    name, from minimum (to maximum) or empty; Configuration.get_setting
    reads it, default when empty"""
    domain = [(name, '>=', minimum)]
    if maximum is not None:
        domain.append((name, '<=', maximum))
    return type('IntegerSetting', (), {
            '__slots__': (),
            name: fields.Integer(
                string, help=help,
                domain=[['OR', (name, '=', None), domain]]),
            'default_' + name: classmethod(lambda cls: default),
            })


class Configuration(OfficeAccessMixin, ModelSingleton, ModelSQL, ModelView):
    __name__ = 'office.configuration'

    seal_request_sequence = fields.Many2One(
        'ir.sequence', "Seal Request Sequence",
        domain=[
            ('sequence_type', '=',
                Id('office_admin', 'sequence_type_seal_request')),
            ],
        help="Numbers seal requests when they are submitted.")
    meeting_reminder_minutes = fields.Integer(
        "Meeting Reminder (minutes)",
        domain=[['OR',
                ('meeting_reminder_minutes', '=', None),
                ('meeting_reminder_minutes', '>', 0)]],
        help="How long before a meeting its attendees are reminded.")

    # ---- Office supplies -------------------------------------------------
    supply_warehouse = fields.Many2One(
        'stock.location', "Supply Warehouse",
        domain=[('type', '=', 'warehouse')],
        help="The office-supply store: requisitions are issued from its "
        "storage location and its order points replenish it.")
    supply_category = fields.Many2One(
        'product.category', "Supply Category",
        help="Only products in this category (or below it) are office "
        "supplies.")
    supply_consumption_parent = fields.Many2One(
        'stock.location', "Consumption Locations",
        domain=[('type', '=', 'production')],
        help="The production location under which each department's consumption "
        "location is created.")
    supply_requisition_sequence = fields.Many2One(
        'ir.sequence', "Requisition Sequence",
        domain=[
            ('sequence_type', '=',
                Id('office_admin', 'sequence_type_supply_requisition')),
            ],
        help="Numbers requisitions when they are submitted.")
    supply_approval_threshold = fields.Numeric(
        "Office Approval Above", digits=(16, 2),
        domain=[['OR',
                ('supply_approval_threshold', '=', None),
                ('supply_approval_threshold', '>=', 0)]],
        help="Requisitions worth more than this amount are also approved "
        "by an Office Administrator after the department head.")
    supply_plan_due_day = fields.Integer(
        "Plans Due On Day",
        domain=[('supply_plan_due_day', '>=', 1),
            ('supply_plan_due_day', '<=', 28)],
        help="Monthly demand plans are due on this day of the month.")
    supply_plan_due_rule = fields.Selection([
            ('calendar', "Calendar Day"),
            ('next_working', "Next Working Day When Not Working"),
            ('working', "Nth Working Day of the Month"),
            ], "Due Day Rule", required=True, sort=False,
        help="Calendar day: exactly that day. Next working day: postponed "
        "to the next working day when that day is a weekend or holiday. "
        "Nth working day: counted in working days from the 1st.")
    supply_plan_remind_day = fields.Integer(
        "Remind From Day",
        domain=[('supply_plan_remind_day', '>=', 1),
            ('supply_plan_remind_day', '<=', Eval(
                    'supply_plan_due_day', 28))],
        help="Departments without a submitted plan are reminded every "
        "day from this day of the month until the plan is submitted.")
    supply_stocktake_months = fields.Integer(
        "Stocktake Every (months)",
        domain=[['OR',
                ('supply_stocktake_months', '=', None),
                ('supply_stocktake_months', '>', 0)]],
        help="A draft stocktake of the store is prepared when the last one "
        "is older than this. Empty for none.")

    @classmethod
    def default_meeting_reminder_minutes(cls):
        return 30

    @classmethod
    def default_supply_plan_due_day(cls):
        return 5

    @classmethod
    def default_supply_plan_due_rule(cls):
        return 'next_working'

    @classmethod
    def default_supply_plan_remind_day(cls):
        return 1

    @classmethod
    def default_supply_stocktake_months(cls):
        return 3

    @classmethod
    def default_supply_requisition_sequence(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        try:
            return ModelData.get_id(
                'office_admin', 'sequence_supply_requisition')
        except KeyError:
            return None

    @classmethod
    def default_seal_request_sequence(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        try:
            return ModelData.get_id('office_admin', 'sequence_seal_request')
        except KeyError:
            return None

    # The stored settings, for the engine's reads (see read)
    _settings_cache = Cache('office.configuration.settings', context=False)

    @classmethod
    def _cached_names(cls):
        "The settings stored in a column that no context changes"
        return {name for name, field in cls._fields.items()
            if not isinstance(field, fields.Function)
            and field._type not in {'one2many', 'many2many', 'binary'}
            and not getattr(field, 'translate', False)}

    @classmethod
    def read(cls, ids, fields_names):
        """The reads of the engine (buttons, jobs: no access check) of
        stored settings come from a cache of the process: an action reads
        the configuration once or more, two statements each (the
        singleton's search and read). trytond's Cache clears it in every
        process when the configuration changes (create, write, delete):
        cleared before the change, the transaction that changes it keeps
        what it reads to itself (trytond's Cache), a change rolled back
        (refused by a check) leaves nothing behind."""
        transaction = Transaction()
        names = set(fields_names)
        if (transaction.check_access
                or transaction.context.get('_datetime')
                or not names <= cls._cached_names()):
            return super().read(ids, fields_names)
        values = cls._settings_cache.get(None)
        if values is None or not names <= values.keys():
            singleton = cls.get_singleton()
            if not singleton:
                # The defaults, which may depend on the context
                return super().read(ids, fields_names)
            values, = super().read(
                [singleton.id], sorted(cls._cached_names()))
            cls._settings_cache.set(None, values)
        return [{**{n: values[n] for n in names}, 'id': id_}
            for id_ in ids]

    @classmethod
    def create(cls, vlist):
        cls._settings_cache.clear()
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        cls._settings_cache.clear()
        super().write(*args)

    @classmethod
    def delete(cls, records):
        cls._settings_cache.clear()
        super().delete(records)

    def get_setting(self, name):
        "Return the setting name, its default when it is empty"
        value = getattr(self, name)
        if value is None:
            value = getattr(self, 'default_' + name)()
        return value

    def get_seal_request_sequence(self):
        sequence = self.seal_request_sequence
        if not sequence:
            default = self.default_seal_request_sequence()
            if default is None:
                raise SealRequestError(gettext(
                        'office_admin.msg_seal_request_no_sequence'))
            sequence = Pool().get('ir.sequence')(default)
        return sequence
