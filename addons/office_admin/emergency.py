# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Emergency supplies (应急物资): first-aid kits, fire extinguishers, masks…
are products of the emergency category kept in their own location of the
office store, in lots whose expiry dates are those of Tryton's
`stock_lot_sled` (the earlier of the shelf-life expiration date and the
expiration date).

A daily job warns the office a configured number of days before a lot in
the emergency location expires and proposes its replacement as a purchase
request (the supply machinery); once per lot: the notice it records is
unique per lot."""
import datetime as dt
from collections import defaultdict

from sql import Literal, Null, Union
from sql.aggregate import Min, Sum
from sql.conditionals import Least
from sql.functions import Abs

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from . import calendar_
from .access import OfficeAccessMixin
from .calendar_ import local_today
from .common import for_each_company
from .configuration import integer_setting
from .exceptions import SupplyValidationError
from .supply import new_purchase_request, supply_config

DEFAULT_WARNING_DAYS = 30
EXPIRY_STATES = [
    ('valid', "Valid"),
    ('expiring', "Expiring"),
    ('expired', "Expired"),
    ('none', "No Expiry Date"),
    ]


def emergency_location():
    "Return the emergency location, None when not configured"
    Config = Pool().get('office.configuration')
    return Config(1).emergency_location


def emergency_locations():
    "Return the ids of the emergency location and of its children"
    Location = Pool().get('stock.location')
    location = emergency_location()
    if not location:
        return set()
    with without_check_access():
        return {l.id for l in Location.search([
                    ('parent', 'child_of', [location.id]),
                    ], order=[])}


class Configuration(
        integer_setting(
            'emergency_warning_days', "Warn Before Expiry (days)",
            DEFAULT_WARNING_DAYS,
            help="The office is told this many days before a lot of "
            "emergency supplies expires (30)."),
        metaclass=PoolMeta):
    __name__ = 'office.configuration'

    emergency_location = fields.Many2One(
        'stock.location', "Emergency Location",
        domain=[('type', '=', 'storage')],
        help="Where the emergency supplies are kept: a storage location of "
        "the office store outside its storage location (requisitions do "
        "not take from it).")
    emergency_category = fields.Many2One(
        'product.category', "Emergency Category",
        help="Only products in this category (or below it) are kept in "
        "the emergency location.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'emergency_setup_location': {
                    'invisible': Bool(Eval('emergency_location')),
                    'depends': ['emergency_location'],
                    'icon': 'tryton-launch',
                    },
                })

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        if field_names is None or {
                'emergency_location', 'supply_warehouse'} & field_names:
            cls.check_emergency_location(configurations)

    @classmethod
    def check_emergency_location(cls, configurations):
        """The emergency location is in the office store, outside the
        storage location requisitions and repairs take from"""
        Location = Pool().get('stock.location')
        for config in configurations:
            location = config.emergency_location
            if not location:
                continue
            warehouse = config.supply_warehouse
            storage = warehouse.storage_location if warehouse else None
            inside = warehouse and Location.search([
                    ('id', '=', location.id),
                    ('parent', 'child_of', [warehouse.id]),
                    ])
            if not inside or (storage and Location.search([
                            ('id', '=', location.id),
                            ('parent', 'child_of', [storage.id]),
                            ])):
                raise SupplyValidationError(gettext(
                        'office_admin.msg_emergency_location_invalid'))

    @classmethod
    @ModelView.button
    def emergency_setup_location(cls, configurations):
        "Create the emergency location in the office store"
        pool = Pool()
        Location = pool.get('stock.location')
        config = supply_config()
        if config.emergency_location:
            return
        with without_check_access():
            location = Location(
                name=gettext('office_admin.msg_emergency_location_name'),
                code='OA-EMERG', type='storage',
                parent=config.supply_warehouse)
            location.save()
            config.emergency_location = location
            config.save()


class Supply(OfficeAccessMixin, ModelSQL, ModelView):
    """The lots in the emergency location: their quantity there (done
    moves, its children included) and their expiry date"""
    __name__ = 'office.emergency.supply'

    company = fields.Many2One('company.company', "Company", readonly=True)
    product = fields.Many2One(
        'product.product', "Product", readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    lot = fields.Many2One('stock.lot', "Lot", readonly=True)
    quantity = fields.Float("Quantity", digits='unit', readonly=True)
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'get_unit')
    expiry_date = fields.Date(
        "Expiry Date", readonly=True,
        help="The earlier of the lot's shelf-life expiration date and its "
        "expiration date.")
    expiry_state = fields.Function(
        fields.Selection(EXPIRY_STATES, "Expiry"),
        'get_expiry_state', searcher='search_expiry_state')
    notice = fields.Many2One(
        'office.emergency.notice', "Expiry Notice", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('expiry_date', 'ASC NULLS LAST'), ('product', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Move = pool.get('stock.move')
        Lot = pool.get('stock.lot')
        Notice = pool.get('office.emergency.notice')
        lot = Lot.__table__()
        notice = Notice.__table__()
        location_ids = list(emergency_locations()) or [-1]

        def moves(column, sign):
            move = Move.__table__()
            return move.select(
                move.id.as_('move'),
                move.company.as_('company'),
                move.product.as_('product'),
                move.lot.as_('lot'),
                (move.internal_quantity * sign).as_('quantity'),
                where=(move.state == 'done') & (move.lot != Null)
                & getattr(move, column).in_(location_ids))
        lines = Union(moves('to_location', 1), moves('from_location', -1),
            all_=True)
        quantity = cls.quantity.sql_cast(Sum(lines.quantity))
        stock = lines.select(
            Min(lines.move).as_('id'),
            lines.company.as_('company'),
            lines.product.as_('product'),
            lines.lot.as_('lot'),
            quantity.as_('quantity'),
            where=Literal(True),
            group_by=[lines.company, lines.product, lines.lot],
            having=Abs(quantity) > 1e-9)
        return stock.join(lot, condition=stock.lot == lot.id
            ).join(notice, 'LEFT',
                condition=(notice.lot == stock.lot)
                & (notice.company == stock.company)
            ).select(
                stock.id.as_('id'),
                stock.company.as_('company'),
                stock.product.as_('product'),
                stock.lot.as_('lot'),
                stock.quantity.as_('quantity'),
                cls.expiry_date.sql_cast(Least(
                        lot.shelf_life_expiration_date,
                        lot.expiration_date)).as_('expiry_date'),
                notice.id.as_('notice'))

    def get_unit(self, name):
        return self.product.default_uom.id if self.product else None

    @classmethod
    def window(cls):
        "Return (today, the last date of the warning window)"
        Config = Pool().get('office.configuration')
        today = local_today()
        days = Config(1).get_setting('emergency_warning_days')
        return today, today + dt.timedelta(days=days)

    @classmethod
    def get_expiry_state(cls, supplies, name):
        today, limit = cls.window()
        result = {}
        for supply in supplies:
            date = supply.expiry_date
            if not date:
                state = 'none'
            elif date < today:
                state = 'expired'
            elif date <= limit:
                state = 'expiring'
            else:
                state = 'valid'
            result[supply.id] = state
        return result

    @classmethod
    def search_expiry_state(cls, name, clause):
        _, operator, value = clause[:3]
        today, limit = cls.window()
        domains = {
            'none': [('expiry_date', '=', None)],
            'expired': [('expiry_date', '<', today)],
            'expiring': [
                ('expiry_date', '>=', today), ('expiry_date', '<=', limit)],
            'valid': [('expiry_date', '>', limit)],
            }
        values = set(value if operator in {'in', 'not in'} else [value])
        if operator in {'!=', 'not in'}:
            values = set(domains) - values
        elif operator not in {'=', 'in'}:
            return []
        return [['OR'] + [domains[v] for v in sorted(values) if v in domains]]

    def get_rec_name(self, name):
        return '%s / %s' % (self.product.rec_name, self.lot.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('product.rec_name',) + tuple(clause[1:]),
            ('lot.rec_name',) + tuple(clause[1:]),
            ]

    @classmethod
    @for_each_company
    def warn_expiry(cls):
        """Scheduled daily: warn the office of the lots in the emergency
        location that expire within the configured days (or have expired)
        and propose their replacement as purchase requests; once per lot
        (the notice). For every company when the job has none."""
        pool = Pool()
        Config = pool.get('office.configuration')
        Lot = pool.get('stock.lot')
        Notice = pool.get('office.emergency.notice')
        Notification = pool.get('office.notification')
        Request = pool.get('purchase.request')
        User = pool.get('res.user')
        config = Config(1)
        company_id = Transaction().context.get('company')
        if not company_id or not config.emergency_location:
            return 0
        today, limit = cls.window()
        domain = [
            ('company', '=', company_id),
            ('quantity', '>', 0),
            ('expiry_date', '<=', limit),
            ('notice', '=', None),
            ]
        with without_check_access():
            supplies = cls.search(domain, order=[('id', 'ASC')])
        if not supplies:
            return 0
        users = (User.users_in_group('office_admin.group_office_staff')
            + User.users_in_group('office_admin.group_office_admin'))
        # A second run meanwhile waits, then finds the notices
        Lot.lock([s.lot for s in supplies])
        with without_check_access():
            supplies = cls.search(domain, order=[('id', 'ASC')])
        count = 0
        for sub in grouped_slice(supplies, 100):
            sub = list(sub)
            with without_check_access():
                now = calendar_.utcnow()
                notices = Notice.create([{
                            'company': company_id,
                            'lot': s.lot.id,
                            'product': s.product.id,
                            'quantity': s.quantity,
                            'expiry_date': s.expiry_date,
                            'notified_at': now,
                            } for s in sub])
                requests = [new_purchase_request(
                        n.product, n.quantity, n.company, n,
                        max(n.expiry_date, today))
                    for n in notices]
                Request.save(requests)
                for notice, request in zip(notices, requests):
                    notice.request = request
                Notice.save(notices)
            by_message = defaultdict(list)
            for notice in notices:
                by_message[
                    'office_admin.msg_emergency_expired'
                    if notice.expiry_date < today
                    else 'office_admin.msg_emergency_expiring'].append(
                    notice)
            for message, records in sorted(by_message.items()):
                Notification.send(records, users, message, key='expiry')
            count += len(notices)
        return count


class Notice(OfficeAccessMixin, ModelSQL, ModelView):
    """The office was told that a lot of emergency supplies expires and its
    replacement was proposed: once per lot"""
    __name__ = 'office.emergency.notice'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    lot = fields.Many2One(
        'stock.lot', "Lot", required=True, readonly=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    quantity = fields.Float(
        "Quantity", digits='unit', readonly=True,
        help="The quantity in the emergency location when the office was "
        "told.")
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'get_unit')
    expiry_date = fields.Date("Expiry Date", readonly=True)
    notified_at = fields.DateTime("Notified At", readonly=True)
    request = fields.Many2One(
        'purchase.request', "Purchase Request", readonly=True,
        ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('lot_unique', Unique(t, t.company, t.lot),
                'office_admin.msg_emergency_notice_unique'),
            ]
        cls._order = [('notified_at', 'DESC'), ('id', 'DESC')]

    def get_unit(self, name):
        return self.product.default_uom.id if self.product else None

    def get_rec_name(self, name):
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        return gettext('office_admin.msg_emergency_notice_name',
            product=self.product.rec_name, lot=self.lot.rec_name,
            quantity=lang.format_number(
                self.quantity or 0, self.product.default_uom.digits),
            unit=self.product.default_uom.symbol,
            date=lang.strftime(self.expiry_date)
            if self.expiry_date else '-')

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('product.rec_name',) + tuple(clause[1:]),
            ('lot.rec_name',) + tuple(clause[1:]),
            ]


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    @ModelView.button
    def do(cls, moves):
        super().do(moves)
        cls.check_emergency_moves(moves)

    @classmethod
    def check_emergency_moves(cls, moves):
        """What enters the emergency location is an emergency supply, in a
        lot (its expiry date is the lot's)"""
        pool = Pool()
        Config = pool.get('office.configuration')
        Product = pool.get('product.product')
        locations = emergency_locations()
        moves = [m for m in moves
            if m.to_location.id in locations
            and m.from_location.id not in locations]
        if not moves:
            return
        for move in moves:
            if not move.lot:
                raise SupplyValidationError(gettext(
                        'office_admin.msg_emergency_lot_required',
                        product=move.product.rec_name))
        category = Config(1).emergency_category
        if not category:
            return
        products = {m.product for m in moves}
        with without_check_access():
            ok = set(Product.search([
                        ('id', 'in', [p.id for p in products]),
                        ('template.categories_all', '=', category.id),
                        ('active', 'in', [True, False]),
                        ], order=[]))
        for product in sorted(products - ok, key=lambda p: p.id):
            raise SupplyValidationError(gettext(
                    'office_admin.msg_emergency_not_emergency_supply',
                    product=product.rec_name))


class PurchaseRequest(metaclass=PoolMeta):
    __name__ = 'purchase.request'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() | {'office.emergency.notice'}

    @classmethod
    def get_office_reason(cls, requests, name):
        result = super().get_office_reason(requests, name)
        for request in requests:
            origin = request.origin
            if (origin and origin.__name__ == 'office.emergency.notice'
                    and origin.id >= 0):
                result[request.id] = gettext(
                    'office_admin.msg_emergency_reason',
                    notice=origin.rec_name)
        return result


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('office.emergency.supply|warn_expiry',
                "Office: Emergency Supply Expiry"))

