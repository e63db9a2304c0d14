# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Office supplies (办公用品) on Tryton's stock: the store, the department
consumption locations, yearly budgets, the consumption ledger, the reasons of
the purchase requests the order points generate and the store's stocktakes.

Requisitions live in supply_requisition.py, monthly demand plans and their
consolidation into purchase requests in supply_plan.py."""
import contextvars
import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from sql import Column, Conflict, Literal, Table, Union
from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp, Extract

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .access import OfficeAccessMixin
from .calendar_ import local_today
from .common import for_each_company
from .exceptions import SupplyError, SupplyValidationError

logger = logging.getLogger(__name__)


def supply_config():
    """Return the office configuration, checked to be set up for office
    supplies"""
    Config = Pool().get('office.configuration')
    config = Config(1)
    if not config.supply_warehouse or not config.supply_category:
        raise SupplyError(gettext('office_admin.msg_supply_not_configured'))
    return config


def supply_storage():
    "Return the storage location of the office-supply store"
    config = supply_config()
    storage = config.supply_warehouse.storage_location
    if not storage:
        raise SupplyError(gettext('office_admin.msg_supply_not_configured'))
    return storage


def issue_from_store(lines, backorders=(), shortage=None):
    """Issue from the office store as done stock moves dated today; return
    the moves done.

    lines: (origin, product, quantity, to_location, company) to issue, the
    quantity in the product's default unit. backorders: records whose moves
    still draft or assigned (what an earlier issue could not take) are
    issued again with the lines. The products are locked first, so two
    issues at once never take the same units (the second one sees what the
    first did). Tryton assigns what the store and its children hold: with
    shortage (an exception), nothing is issued when anything is short and
    shortage is raised; without it, what is short stays as draft moves (a
    back-order, which Tryton's supply forecast sees)."""
    pool = Pool()
    Move = pool.get('stock.move')
    Product = pool.get('product.product')
    lines = list(lines)
    origins = ({str(l[0]) for l in lines}
        | {str(r) for r in backorders})
    if not origins:
        return []
    storage = supply_storage()
    today = local_today()
    with without_check_access():
        pending = []
        for sub in grouped_slice(list({str(r) for r in backorders}), 200):
            pending.extend(Move.search([
                        ('origin', 'in', list(sub)),
                        ('state', 'in', ['draft', 'assigned']),
                        ], order=[('id', 'ASC')]))
        Product.lock(list(
                {l[1] for l in lines} | {m.product for m in pending}))
        moves = [Move(
                product=product,
                unit=product.default_uom,
                quantity=product.default_uom.round(quantity),
                from_location=storage,
                to_location=to_location,
                company=company,
                origin=origin)
            for origin, product, quantity, to_location, company in lines]
        moves += pending
        for move in moves:
            move.planned_date = today
        Move.save(moves)
        if not Move.assign_try(moves, with_childs=True) and shortage:
            raise shortage
        # A partly available move is split: the assigned part is a copy
        assigned = []
        for sub in grouped_slice(list(origins), 200):
            assigned.extend(Move.search([
                        ('origin', 'in', list(sub)),
                        ('state', '=', 'assigned'),
                        ], order=[('id', 'ASC')]))
        for move in assigned:
            move.effective_date = today
        Move.save(assigned)
        Move.do(assigned)
    return assigned


def new_purchase_request(product, quantity, company, origin, supply_date):
    """Return a draft purchase request (not saved) for the office store of
    quantity (in the product's default unit) of product"""
    pool = Pool()
    Request = pool.get('purchase.request')
    Uom = pool.get('product.uom')
    config = supply_config()
    unit = product.purchase_uom or product.default_uom
    return Request(
        product=product,
        description=product.rec_name,
        quantity=unit.ceil(Uom.compute_qty(
                product.default_uom, quantity, unit, round=False)),
        unit=unit,
        computed_quantity=quantity,
        computed_unit=product.default_uom,
        purchase_date=local_today(company),
        supply_date=supply_date,
        company=company,
        warehouse=config.supply_warehouse,
        origin=origin,
        state='draft')


def check_office_supplies(products, record_name):
    "Raise when one of products is not in the office-supply category"
    pool = Pool()
    Product = pool.get('product.product')
    config = supply_config()
    products = {p for p in products if p}
    if not products:
        return
    with without_check_access():
        ok = set()
        for sub in grouped_slice(list(products), 200):
            ok.update(Product.search([
                        ('id', 'in', [p.id for p in sub]),
                        ('template.categories_all', '=',
                            config.supply_category.id),
                        ('active', 'in', [True, False]),
                        ], order=[]))
    for product in sorted(products - ok, key=lambda p: p.id):
        raise SupplyValidationError(gettext(
                'office_admin.msg_supply_not_office_supply',
                product=product.rec_name, record=record_name))


class SupplyLineMixin:
    """Lines asking for office supplies (requisitions, plans): positive
    quantities of office-supply products, checked before Tryton's generic
    domain validation so the user reads a clear message"""
    __slots__ = ()
    # The name of the Many2One to the document the lines belong to
    _supply_document = None

    @classmethod
    def check_lines(cls, lines):
        by_document = defaultdict(set)
        for line in lines:
            if line.quantity is None or line.quantity <= 0:
                raise SupplyValidationError(gettext(
                        'office_admin.msg_supply_quantity_positive',
                        product=line.product.rec_name if line.product
                        else '', quantity=line.quantity))
            document = getattr(line, cls._supply_document)
            by_document[document.rec_name].add(line.product)
        for name, products in by_document.items():
            check_office_supplies(products, name)

    @classmethod
    def _validate(cls, lines, field_names=None):
        if field_names is None or {'quantity', 'product'} & set(field_names):
            cls.check_lines(lines)
        super()._validate(lines, field_names=field_names)


class _Excluded(Table):
    """The row proposed to ON CONFLICT DO UPDATE (python-sql's Excluded is
    quoted in capitals, a name PostgreSQL does not know)"""

    def __init__(self):
        super().__init__('excluded')

    @property
    def alias(self):
        return 'excluded'

    @property
    def has_alias(self):
        return False


Excluded = _Excluded()


def _decimal(value):
    "Return value (a number, or bytes from SQLite) as a Decimal"
    if isinstance(value, bytes):
        value = value.decode()
    return value if isinstance(value, Decimal) else Decimal(str(value))


def product_costs(products, company=None):
    "Return {product id: unit cost} in the company's currency"
    pool = Pool()
    Product = pool.get('product.product')
    company_id = company.id if company else (
        Transaction().context.get('company'))
    costs = {}
    with Transaction().set_context(company=company_id), \
            without_check_access():
        for product in Product.browse([p.id for p in products if p]):
            cost = product.cost_price or product.list_price or Decimal(0)
            costs[product.id] = cost
    return costs


class Configuration(metaclass=PoolMeta):
    __name__ = 'office.configuration'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'supply_setup_locations': {
                    'icon': 'tryton-launch',
                    },
                })

    @classmethod
    @ModelView.button
    def supply_setup_locations(cls, configurations):
        "Create the missing consumption location of every department"
        pool = Pool()
        Department = pool.get('office.department')
        departments = Department.search([('supply_location', '=', None)])
        Department.create_supply_locations(departments)


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    office_supply = fields.Function(
        fields.Boolean("Office Supply"),
        'get_office_supply', searcher='search_office_supply')

    @classmethod
    def get_office_supply(cls, products, name):
        Config = Pool().get('office.configuration')
        category = Config(1).supply_category
        ids = set()
        if category:
            with without_check_access():
                for sub in grouped_slice(products, 200):
                    ids.update(p.id for p in cls.search([
                                ('id', 'in', [p.id for p in sub]),
                                ('template.categories_all', '=', category.id),
                                ('active', 'in', [True, False]),
                                ], order=[]))
        return {p.id: p.id in ids for p in products}

    @classmethod
    def search_office_supply(cls, name, clause):
        Config = Pool().get('office.configuration')
        category = Config(1).supply_category
        _, operator, value = clause[:3]
        positive = (operator == '=') == bool(value)
        if not category:
            return [('id', '=', -1)] if positive else []
        clause = ('template.categories_all', '=', category.id)
        if positive:
            return [clause]
        return [('id', 'not in', cls.search(
                    [clause, ('active', 'in', [True, False])],
                    order=[], query=True))]

    @classmethod
    def search_domain(cls, domain, active_test=None, tables=None):
        # The product fields of requisitions and plans search with this
        # context: only office supplies are proposed
        if Transaction().context.get('office_supply'):
            domain = [domain, ('office_supply', '=', True)]
        return super().search_domain(
            domain, active_test=active_test, tables=tables)


class Department(metaclass=PoolMeta):
    __name__ = 'office.department'

    supply_location = fields.Many2One(
        'stock.location', "Supply Consumption Location",
        domain=[('type', '=', 'production')],
        ondelete='RESTRICT',
        help="Where the office supplies issued to the department go; "
        "the consumption ledger counts what reaches it.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('supply_location_unique', Unique(t, t.supply_location),
                'office_admin.msg_supply_location_unique'),
            ]

    @classmethod
    def on_modification(cls, mode, departments, field_names=None):
        pool = Pool()
        Ledger = pool.get('office.supply.ledger')
        super().on_modification(mode, departments, field_names=field_names)
        # The ledger counts the moves of a department's current location
        if ((mode == 'create' and any(d.supply_location for d in departments))
                or (mode == 'write' and 'supply_location' in field_names)):
            Ledger.recompute_departments(departments)

    @classmethod
    def create_supply_locations(cls, departments):
        """Give each department without one a consumption location under the
        configured parent; idempotent"""
        pool = Pool()
        Config = pool.get('office.configuration')
        Location = pool.get('stock.location')
        config = Config(1)
        departments = [d for d in departments if not d.supply_location]
        if not departments:
            return []
        parent = config.supply_consumption_parent
        with without_check_access():
            if not parent:
                parent = Location(
                    name=gettext('office_admin.msg_supply_consumption_root'),
                    code='OA-CONS', type='production')
                parent.save()
                config.supply_consumption_parent = parent
                config.save()
            locations = Location.create([{
                        'name': d.name,
                        'code': 'OA-%s' % d.code,
                        'type': 'production',
                        'parent': parent.id,
                        } for d in departments])
            for department, location in zip(departments, locations):
                department.supply_location = location
            cls.save(departments)
        return locations


class Budget(OfficeAccessMixin, ModelSQL, ModelView):
    "A department's yearly office-supply budget"
    __name__ = 'office.supply.budget'

    company = fields.Many2One('company.company', "Company", required=True)
    department = fields.Many2One(
        'office.department', "Department", required=True,
        domain=[('company', '=', Eval('company', -1))])
    year = fields.Integer(
        "Year", required=True,
        domain=[('year', '>=', 2000), ('year', '<=', 2200)])
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True,
        domain=[('amount', '>=', 0)])
    consumed = fields.Function(
        fields.Numeric("Consumed", digits=(16, 2)), 'get_usage')
    committed = fields.Function(
        fields.Numeric("Committed", digits=(16, 2),
            help="Requisitions submitted or approved, not yet issued."),
        'get_usage')
    remaining = fields.Function(
        fields.Numeric("Remaining", digits=(16, 2)), 'get_usage')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('department_year_unique', Unique(t, t.department, t.year),
                'office_admin.msg_supply_budget_unique'),
            ]
        cls._order = [('year', 'DESC'), ('department', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_year(cls):
        return local_today().year

    def get_rec_name(self, name):
        return '%s %s' % (self.department.rec_name, self.year)

    @classmethod
    def usage(cls, department, year, exclude=None):
        """Return (consumed, committed) cost of the department's supplies in
        the year; exclude: a requisition not to count"""
        pool = Pool()
        Ledger = pool.get('office.supply.ledger')
        Requisition = pool.get('office.supply.requisition')
        with without_check_access():
            consumed = sum((l.cost or 0 for l in Ledger.search([
                            ('department', '=', department.id),
                            ('year', '=', year),
                            ])), Decimal(0))
            committed = Decimal(0)
            domain = [
                ('department', '=', department.id),
                ('state', 'in', ['submitted', 'approved', 'partial']),
                ('date', '>=', dt.date(year, 1, 1)),
                ('date', '<=', dt.date(year, 12, 31)),
                ]
            if exclude:
                domain.append(('id', '!=', exclude.id))
            for requisition in Requisition.search(domain):
                committed += requisition.pending_amount or 0
        return consumed, committed

    @classmethod
    def get_usage(cls, budgets, names):
        result = {n: {} for n in names}
        for budget in budgets:
            consumed, committed = cls.usage(budget.department, budget.year)
            values = {
                'consumed': consumed,
                'committed': committed,
                'remaining': budget.amount - consumed - committed,
                }
            for name in names:
                result[name][budget.id] = values[name].quantize(
                    Decimal('0.01'))
        return result


class Ledger(OfficeAccessMixin, ModelSQL, ModelView):
    """Office-supply consumption per department, product and month: the
    done stock moves into (and back from) the departments' consumption
    locations, summed in a table kept up to date in the transaction that
    does, cancels, changes or deletes a move (`Move` below), checked
    against the moves by a daily job.

    A table rather than a materialized view: the figures must be those of
    the moves at every moment (budgets are checked against them), and a
    view refreshed by a job is stale between refreshes and does not exist
    on SQLite.  Each update is an UPSERT of the difference, so two moves
    done at once for the same row never lose one another (on PostgreSQL
    the second waits for the first's row lock, then is retried by trytond
    as a serialization failure)."""
    __name__ = 'office.supply.ledger'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True,
        ondelete='CASCADE')
    department = fields.Many2One(
        'office.department', "Department", required=True, readonly=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='CASCADE',
        context={'company': Eval('company', -1)}, depends={'company'})
    year = fields.Integer("Year", required=True, readonly=True)
    month = fields.Integer("Month", required=True, readonly=True)
    period = fields.Function(fields.Char("Period"), 'get_period')
    quantity = fields.Float("Quantity", readonly=True)
    cost = fields.Numeric("Cost", digits=(16, 2), readonly=True)
    move_count = fields.Integer(
        "Moves", readonly=True,
        help="The number of done moves counted in the line.")

    # The columns that make a line of the ledger, and those summed
    _keys = ['company', 'department', 'product', 'year', 'month']
    _sums = ['quantity', 'cost', 'move_count']

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('line_unique',
                Unique(t, t.company, t.department, t.product, t.year,
                    t.month),
                'office_admin.msg_supply_ledger_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.year, Index.Range()), (t.month, Index.Range())))
        cls._order = [
            ('year', 'DESC'), ('month', 'DESC'),
            ('department', 'ASC'), ('product', 'ASC'), ('id', 'ASC')]

    @classmethod
    def __register__(cls, module):
        # Before this table, the ledger was a view of the moves: fill it
        # from the moves done so far the first time it is created
        created = not backend.TableHandler.table_exist(cls._table)
        super().__register__(module)
        if created:
            cls.add_moves(None, 1)

    def get_period(self, name):
        if self.year and self.month:
            return '%04d-%02d' % (self.year, self.month)

    # The whole office's year is thousands of lines: they are read without
    # browsing them (trytond's browse checks every id against all the others)

    @classmethod
    def search_read(cls, domain, offset=0, limit=None, order=None,
            fields_names=None):
        query = cls.search(
            domain, offset=offset, limit=limit, order=order, query=True)
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        ids = [i for i, in cursor]
        fields_names = list(fields_names or ['id'])
        if 'id' not in fields_names:
            fields_names.append('id')
        rows = cls.read(ids, fields_names)
        index = {i: n for n, i in enumerate(ids)}
        rows.sort(key=lambda r: index[r['id']])
        return rows

    @classmethod
    def read(cls, ids, fields_names):
        # The period is made from the year and month read, not by the
        # Function field (which browses the lines)
        names = [n for n in fields_names if n != 'period']
        extra = []
        if 'period' in fields_names:
            extra = [n for n in ['year', 'month'] if n not in names]
        rows = super().read(ids, names + extra)
        cent = Decimal('0.01')
        for row in rows:
            if 'period' in fields_names:
                row['period'] = ('%04d-%02d' % (row['year'], row['month'])
                    if row['year'] and row['month'] else None)
            for name in extra:
                del row[name]
            # The cost is stored exact (the sum of the moves'), shown in
            # cents
            if row.get('cost') is not None:
                row['cost'] = _decimal(row['cost']).quantize(cent)
        return rows

    @classmethod
    def moves_query(cls, move_ids=None, department_ids=None, sign=1):
        """Return the query of the ledger lines computed from the done moves
        (columns: _keys + _sums), of the given moves or departments only,
        multiplied by sign"""
        pool = Pool()
        Move = pool.get('stock.move')
        Department = pool.get('office.department')

        def moves(column, direction):
            # One equi-join per direction (an OR join defeats hash joins)
            move = Move.__table__()
            department = Department.__table__()
            where = move.state == 'done'
            if move_ids is not None:
                where &= move.id.in_(list(move_ids))
            if department_ids is not None:
                where &= department.id.in_(list(department_ids))
            return move.join(department,
                condition=getattr(move, column) == department.supply_location
                ).select(
                    move.company.as_('company'),
                    department.id.as_('department'),
                    move.product.as_('product'),
                    move.effective_date.as_('date'),
                    (move.internal_quantity * direction).as_('quantity'),
                    (cls.cost.sql_cast(move.internal_quantity)
                        * Coalesce(move.cost_price, 0) * direction
                        ).as_('cost'),
                    where=where)
        lines = Union(moves('to_location', 1), moves('from_location', -1),
            all_=True)
        year = cls.year.sql_cast(Extract('YEAR', lines.date))
        month = cls.month.sql_cast(Extract('MONTH', lines.date))
        return lines.select(
            lines.company.as_('company'),
            lines.department.as_('department'),
            lines.product.as_('product'),
            year.as_('year'),
            month.as_('month'),
            (cls.quantity.sql_cast(Sum(lines.quantity)) * sign
                ).as_('quantity'),
            (cls.cost.sql_cast(Sum(lines.cost)) * sign).as_('cost'),
            (Count(lines.product) * sign).as_('move_count'),
            # A WHERE clause tells SQLite that ON CONFLICT is not a join's
            where=Literal(True),
            group_by=[lines.company, lines.department, lines.product,
                year, month])

    @classmethod
    def _upsert(cls, lines):
        """Add lines (a query or a list of rows, columns: _keys + _sums) to
        the ledger; return the ids of the lines it touched (None when the
        database cannot tell)"""
        transaction = Transaction()
        database = transaction.database
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        keys = [Column(table, k) for k in cls._keys]
        sums = [Column(table, s) for s in cls._sums]
        who = [transaction.user, CurrentTimestamp()]
        if isinstance(lines, list):
            values = [list(row) + who for row in lines]
        else:
            values = lines.select(
                *[Column(lines, c) for c in cls._keys + cls._sums],
                Literal(transaction.user), CurrentTimestamp(),
                where=Literal(True))
        insert = table.insert(
            keys + sums + [table.create_uid, table.create_date], values,
            on_conflict=Conflict(table, indexed_columns=keys,
                columns=sums + [table.write_uid, table.write_date],
                values=[c + Column(Excluded, c.name) for c in sums]
                + [Literal(transaction.user), CurrentTimestamp()]))
        if database.has_returning():
            insert.returning = [table.id]
            cursor.execute(*insert)
            return {i for i, in cursor}
        cursor.execute(*insert)

    @classmethod
    def remove_empty(cls, ids):
        "Remove the lines that count no move any more"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        if ids is None:
            cursor.execute(*table.delete(where=table.move_count == 0))
            return
        for sub_ids in grouped_slice(list(ids), backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.delete(
                    where=table.id.in_(list(sub_ids))
                    & (table.move_count == 0)))

    @classmethod
    def add_moves(cls, move_ids, sign, cleanup=True):
        """Add (sign 1) or remove (sign -1) the done moves among move_ids
        (all when None) to the ledger; return the ids of the lines touched
        (None when unknown), emptied lines are removed when cleanup"""
        touched = set()
        if move_ids is None:
            touched = cls._upsert(cls.moves_query(sign=sign))
        else:
            # Two directions in the union: each gets half of the parameters
            size = backend.MAX_QUERY_PARAMS // 2 - 10
            for sub_ids in grouped_slice(list(move_ids), size):
                result = cls._upsert(cls.moves_query(
                        move_ids=list(sub_ids), sign=sign))
                touched = _union(touched, result)
        if cleanup:
            cls.remove_empty(touched)
        return touched

    @classmethod
    def recompute_departments(cls, departments):
        """Recompute the lines of the departments from the moves (their
        consumption location changed)"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub in grouped_slice(departments, backend.MAX_QUERY_PARAMS):
            ids = [int(d) for d in sub]
            cursor.execute(*table.delete(where=table.department.in_(ids)))
            cls._upsert(cls.moves_query(department_ids=ids))

    @classmethod
    def differences(cls):
        """Return the lines where the ledger differs from the done moves,
        as a sorted list of (key, ledger values, moves values); the values
        are (quantity, cost, move count), None for a missing line"""
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        size = len(cls._keys)

        def read(query):
            result = {}
            cursor.execute(*query)
            for row in cursor:
                result[tuple(row[:size])] = (
                    row[size] or 0,
                    _decimal(row[size + 1] or 0),
                    row[size + 2] or 0)
            return result
        # Under trytond's REPEATABLE READ both reads see the same snapshot
        stored = read(table.select(
                *[Column(table, c) for c in cls._keys + cls._sums]))
        computed = read(cls.moves_query())

        def same(a, b):
            return (a is not None and b is not None
                and abs(a[0] - b[0]) < 1e-6
                and abs(a[1] - b[1]) < Decimal('0.0001')
                and a[2] == b[2])
        return [(key, stored.get(key), computed.get(key))
            for key in sorted(stored.keys() | computed.keys())
            if not same(stored.get(key), computed.get(key))]

    @classmethod
    def check_ledger(cls, repair=True):
        """Compare the ledger with the done moves and, when repair, correct
        it; return the differences found (see differences). Scheduled
        daily; each difference is logged."""
        differences = cls.differences()
        for key, stored, computed in differences:
            logger.warning(
                "supply ledger %s: %s in the ledger, %s from the moves%s",
                dict(zip(cls._keys, key)), stored, computed,
                ", repaired" if repair else "")
        if repair and differences:
            zero = (0, Decimal(0), 0)
            cls._upsert([
                    list(key) + [c - s for c, s in zip(
                            computed or zero, stored or zero)]
                    for key, stored, computed in differences])
            cls.remove_empty(None)
        return differences


# The moves whose ledger lines an outer write of moves is updating
_ledger_moves = contextvars.ContextVar(
    'office_supply_ledger_moves', default=frozenset())


def _union(a, b):
    "Union of two sets of ids where None means unknown"
    return None if a is None or b is None else a | b


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    # What a move brings to the ledger depends on these fields
    _supply_ledger_fields = {
        'state', 'product', 'quantity', 'unit', 'internal_quantity',
        'from_location', 'to_location', 'company', 'effective_date',
        'cost_price'}

    @classmethod
    def write(cls, *args):
        # The ledger takes out what the done moves brought, then adds what
        # they bring after the write (done, cancelled, cost changed)
        Ledger = Pool().get('office.supply.ledger')
        outer = _ledger_moves.get()
        actions = iter(args)
        ids = set()
        for moves, values in zip(actions, actions):
            if values.keys() & cls._supply_ledger_fields:
                ids.update(int(m) for m in moves)
        ids -= outer
        if not ids:
            return super().write(*args)
        touched = Ledger.add_moves(ids, -1, cleanup=False)
        # A write the write makes on the same moves (computed fields) is
        # counted by this one
        token = _ledger_moves.set(outer | ids)
        try:
            super().write(*args)
        finally:
            _ledger_moves.reset(token)
        touched = _union(touched, Ledger.add_moves(ids, 1, cleanup=False))
        Ledger.remove_empty(touched)

    @classmethod
    def delete(cls, moves):
        Ledger = Pool().get('office.supply.ledger')
        touched = Ledger.add_moves([int(m) for m in moves], -1, cleanup=False)
        super().delete(moves)
        Ledger.remove_empty(touched)


class PurchaseRequest(metaclass=PoolMeta):
    __name__ = 'purchase.request'

    office_reason = fields.Function(
        fields.Text("Why"), 'get_office_reason')

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() | {'office.supply.consolidation'}

    @classmethod
    def get_office_reason(cls, requests, name):
        result = {}
        for request in requests:
            origin = request.origin
            text = None
            unit = request.unit.symbol if request.unit else ''
            if origin and origin.__name__ == 'stock.order_point':
                text = gettext(
                    'office_admin.msg_supply_reason_order_point',
                    product=request.product.rec_name if request.product
                    else '',
                    warehouse=origin.warehouse_location.rec_name
                    if origin.warehouse_location else '',
                    stock=request.stock_level or 0,
                    minimum=origin.min_quantity or 0,
                    target=origin.target_quantity or 0,
                    quantity=request.quantity, unit=unit)
            elif (origin and origin.__name__ == 'office.supply.consolidation'
                    and origin.id >= 0):
                text = gettext(
                    'office_admin.msg_supply_reason_consolidation',
                    consolidation=origin.rec_name,
                    quantity=request.quantity, unit=unit,
                    departments=', '.join(sorted(
                            {p.department.rec_name for p in origin.plans
                                if any(l.product == request.product
                                    for l in p.lines)})))
            result[request.id] = text
        return result


class StocktakeVariance(OfficeAccessMixin, ModelSQL, ModelView):
    "A counted line of a stocktake of the office-supply store"
    __name__ = 'office.supply.stocktake.variance'

    inventory = fields.Many2One('stock.inventory', "Stocktake", readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    date = fields.Date("Date", readonly=True)
    location = fields.Many2One('stock.location', "Location", readonly=True)
    product = fields.Many2One(
        'product.product', "Product", readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    expected_quantity = fields.Float("Expected", readonly=True)
    quantity = fields.Float("Counted", readonly=True)
    variance = fields.Float("Variance", readonly=True)
    unit_cost = fields.Function(
        fields.Numeric("Unit Cost", digits=(16, 4)), 'get_value')
    value = fields.Function(
        fields.Numeric("Variance Value", digits=(16, 2)), 'get_value')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('inventory', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        Line = pool.get('stock.inventory.line')
        line = Line.__table__()
        inventory = Inventory.__table__()
        return line.join(inventory,
            condition=line.inventory == inventory.id).select(
            line.id.as_('id'),
            line.inventory.as_('inventory'),
            inventory.company.as_('company'),
            inventory.date.as_('date'),
            inventory.location.as_('location'),
            line.product.as_('product'),
            Coalesce(line.expected_quantity, 0).as_('expected_quantity'),
            line.quantity.as_('quantity'),
            (Coalesce(line.quantity, 0)
                - Coalesce(line.expected_quantity, 0)).as_('variance'),
            where=inventory.state.in_(['draft', 'done']))

    @classmethod
    def get_value(cls, lines, names):
        by_company = defaultdict(list)
        for line in lines:
            by_company[line.company].append(line)
        result = {n: {} for n in names}
        for company, sub in by_company.items():
            costs = product_costs({l.product for l in sub}, company)
            for line in sub:
                cost = costs.get(line.product.id, Decimal(0))
                if 'unit_cost' in names:
                    result['unit_cost'][line.id] = cost
                if 'value' in names:
                    result['value'][line.id] = (
                        Decimal(str(line.variance or 0)) * cost).quantize(
                        Decimal('0.01'))
        return result


class Inventory(metaclass=PoolMeta):
    __name__ = 'stock.inventory'

    @classmethod
    @for_each_company
    def office_plan_stocktakes(cls):
        """Prepare a draft stocktake of the office-supply store, with its
        lines, when the last one is older than the configured interval;
        idempotent: never a second draft. Scheduled: for every company when
        the job has none."""
        pool = Pool()
        Config = pool.get('office.configuration')
        Date = pool.get('ir.date')
        config = Config(1)
        if (not config.supply_warehouse or not config.supply_stocktake_months
                or not config.supply_warehouse.storage_location):
            return []
        storage = config.supply_warehouse.storage_location
        company = Transaction().context.get('company')
        if not company:
            return []
        today = Date.today()
        if cls.search([
                    ('location', '=', storage.id),
                    ('state', '=', 'draft'),
                    ], limit=1):
            return []
        months = config.supply_stocktake_months
        year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
        since = dt.date(year, month + 1, min(today.day, 28))
        if cls.search([
                    ('location', '=', storage.id),
                    ('state', '=', 'done'),
                    ('date', '>', since),
                    ], limit=1):
            return []
        inventory = cls(location=storage, date=today, company=company)
        inventory.save()
        cls.complete_lines([inventory])
        return [inventory]


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('office.supply.plan|remind_plans',
                    "Office: Supply Plan Reminders"),
                ('stock.inventory|office_plan_stocktakes',
                    "Office: Prepare Supply Stocktakes"),
                ('office.supply.ledger|check_ledger',
                    "Office: Check Supply Ledger"),
                ])


class OrderPoint(metaclass=PoolMeta):
    __name__ = 'stock.order_point'

    @classmethod
    @for_each_company
    def supply_stock(cls):
        """Tryton's supply job (purchase requests for the order points
        under their minimum). Run by the scheduler it skips the days that
        are not working days of the company calendar, and it runs for
        every company when the job has none (its record is created before
        any company exists)."""
        pool = Pool()
        Calendar = pool.get('office.calendar')
        Company = pool.get('company.company')
        transaction = Transaction()
        company = Company(transaction.context['company'])
        if transaction.context.get('_cron') == (
                'stock.order_point|supply_stock'):
            today = local_today(company)
            if not Calendar.get_calendar(company).is_working_day(today):
                logger.info(
                    "supply job skipped: %s is not a working day of "
                    "company %s", today, company.id)
                return
        super().supply_stock()
