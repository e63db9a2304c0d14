# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two office clerks issue two approved requisitions for the last units of
a product at the same instant, through four trytond workers on PostgreSQL:
the store never gives more than it holds."""
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
