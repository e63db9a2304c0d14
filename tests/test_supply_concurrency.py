# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two office clerks issue two approved requisitions for the last units of
a product at the same instant, through four trytond workers on PostgreSQL:
the store never gives more than it holds.  Moves done and cancelled at the
same instant for one line of the consumption ledger all count in it."""
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from test_concurrency import run_together


def _requisition(server, login, head, product, quantity):
    client = server.client(login)
    requisition_id, = client.model('office.supply.requisition', 'create', [{
                'lines': [('create', [{
                                'product': product,
                                'quantity': quantity,
                                'purpose': "并发测试",
                                }])],
                }])
    client.model('office.supply.requisition', 'submit', [requisition_id])
    # The department head, then (above the threshold) the office approves
    for reviewer in [head, 'office_head']:
        reviewer = server.client(reviewer)
        state, = reviewer.read('office.supply.requisition', [requisition_id],
            ['state', 'approval_can_act'])
        if state['approval_can_act']:
            reviewer.model('office.supply.requisition', 'approval_approve',
                [requisition_id])
    state, = client.read(
        'office.supply.requisition', [requisition_id], ['state'])
    assert state['state'] == 'approved', state
    return requisition_id


def _in_store(client, product):
    store, = client.search('stock.location', [('code', '=', 'OS-STO')])
    context = dict(client.context, locations=[store])
    quantity, = client.call('model.product.product.read', [product],
        ['quantity'], context)
    return quantity['quantity']


def _put_in_store(server, product, quantity):
    "The store receives quantity units (found stock, as the admin)"
    admin = server.client('admin')
    store, = admin.search('stock.location', [('code', '=', 'OS-STO')])
    found, = admin.search('stock.location', [('type', '=', 'lost_found')])[:1]
    uom, = [p['default_uom'] for p in admin.read(
            'product.product', [product], ['default_uom'])]
    move_id, = admin.model('stock.move', 'create', [{
                'product': product, 'unit': uom, 'quantity': quantity,
                'from_location': found, 'to_location': store}])
    admin.model('stock.move', 'do', [move_id])


ROUNDS = 4


def test_two_issues_for_the_last_units(server):
    clerk = server.client('clerk')
    product, = clerk.search('product.product', [('code', '=', 'TONER')])
    issuers = [server.client('clerk'), server.client('office_head')]
    for round_ in range(ROUNDS):
        available = _in_store(clerk, product)
        if available < 2:
            _put_in_store(server, product, 2 - available)
            available = _in_store(clerk, product)
        first = _requisition(
            server, 'sales1', 'sales_head', product, available)
        second = _requisition(server, 'fin1', 'fin_head', product, available)

        results = run_together(*[
                (lambda c=c, r=r: c.model(
                        'office.supply.requisition', 'issue', [r]))
                for c, r in zip(issuers, [first, second])])
        assert all(kind == 'ok' for kind, _ in results), results

        lines = clerk.search('office.supply.requisition.line',
            [('requisition', 'in', [first, second])],
            ['requisition', 'issued_quantity', 'backorder_quantity'])
        issued = sum(l['issued_quantity'] for l in lines)
        assert issued == available, (round_, lines)
        assert sorted(l['backorder_quantity'] for l in lines) == [
            0, available]
        assert _in_store(clerk, product) == 0
        states = sorted(r['state'] for r in clerk.read(
                'office.supply.requisition', [first, second], ['state']))
        assert states == ['approved', 'issued'], states


def _ledger_from_moves(admin, location, product, day):
    "(quantity, cost, moves) of the done moves into and out of location"
    first = day.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(1)
    quantity, cost, count = 0, Decimal(0), 0
    for direction, sign in [('to_location', 1), ('from_location', -1)]:
        for move in admin.search('stock.move', [
                    (direction, '=', location),
                    ('product', '=', product),
                    ('state', '=', 'done'),
                    ('effective_date', '>=', first),
                    ('effective_date', '<=', last),
                    ], ['internal_quantity', 'cost_price']):
            quantity += sign * move['internal_quantity']
            cost += sign * Decimal(str(move['internal_quantity'])) * (
                move['cost_price'] or 0)
            count += 1
    return quantity, cost.quantize(Decimal('0.01')), count


def _ledger(clerk, department, product, day):
    lines = clerk.search('office.supply.ledger', [
            ('department', '=', department),
            ('product', '=', product),
            ('year', '=', day.year),
            ('month', '=', day.month),
            ], ['quantity', 'cost', 'move_count'])
    assert len(lines) <= 1, lines
    if not lines:
        return 0, Decimal('0.00'), 0
    line, = lines
    return line['quantity'], line['cost'], line['move_count']


def test_moves_done_at_once_for_one_ledger_line(server):
    """Four moves of the same product to the same department in the same
    month are done at the same instant by four workers, then two are
    cancelled while two more are done: the ledger line (one row, updated
    by each transaction) loses none of them"""
    admin = server.client('admin')
    clerk = server.client('clerk')
    movers = [server.client('admin') for _ in range(4)]
    found, = admin.search('stock.location', [('type', '=', 'lost_found')])[:1]
    department, = admin.search(
        'office.department', [('supply_location', '!=', None)])[:1]
    location, = [d['supply_location'] for d in admin.read(
            'office.department', [department], ['supply_location'])]
    product, = admin.search('product.product', [('code', '=', 'FOLDER')])
    uom, = [p['default_uom'] for p in admin.read(
            'product.product', [product], ['default_uom'])]
    day = dt.datetime.now(ZoneInfo('Asia/Shanghai')).date()

    def create(count):
        return admin.model('stock.move', 'create', [{
                    'product': product, 'unit': uom, 'quantity': i + 1,
                    'from_location': found, 'to_location': location,
                    'effective_date': day,
                    } for i in range(count)])

    before = _ledger(clerk, department, product, day)
    done = []
    for round_ in range(ROUNDS):
        moves = create(4)
        results = run_together(*[
                (lambda c=c, m=m: c.model('stock.move', 'do', [m]))
                for c, m in zip(movers, moves)])
        assert all(kind == 'ok' for kind, _ in results), results
        done.extend(moves)
        assert _ledger(clerk, department, product, day) == (
            _ledger_from_moves(admin, location, product, day)), round_

        # Two done moves cancelled while two new ones are done
        cancelled, done = done[:2], done[2:]
        moves = create(2)
        calls = [(lambda c=c, m=m: c.model('stock.move', 'cancel', [m]))
            for c, m in zip(movers[:2], cancelled)]
        calls += [(lambda c=c, m=m: c.model('stock.move', 'do', [m]))
            for c, m in zip(movers[2:], moves)]
        results = run_together(*calls)
        assert all(kind == 'ok' for kind, _ in results), results
        done.extend(moves)
        assert _ledger(clerk, department, product, day) == (
            _ledger_from_moves(admin, location, product, day)), round_

    # The line gained exactly the moves left done
    after = _ledger(clerk, department, product, day)
    quantities = {m['id']: m['internal_quantity'] for m in admin.read(
            'stock.move', done, ['internal_quantity'])}
    assert after[2] - before[2] == len(done)
    assert after[0] - before[0] == sum(quantities.values())
