#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of office supplies; prints figures, asserts nothing.

    .venv/bin/python tests/bench_supply.py [--departments 50] [--lines 100000]

On a throw-away PostgreSQL cluster (or PG_URI) with trytond under gunicorn
(4 workers): creates the departments and their consumption locations over
JSON-RPC, loads a year of issued requisitions (5 lines each, one done stock
move per line) with SQL, then drops the ledger table and updates the module
as an upgrade would (the table is filled from the moves), checks the table
against the moves in SQL (again after moves done and cancelled over
JSON-RPC), times the consistency job, then prints the p50/p95 of reading the
consumption ledger (the whole year for the office, one department for its
head) and the time of consolidating one approved plan per department into
purchase requests."""
import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))

from serverkit import percentile, bench_server  # noqa: E402


def psql(server, sql):
    return subprocess.run(
        ['psql', f'{server.pg_uri}/{server.database}', '-qtAc', sql],
        check=True, capture_output=True, text=True).stdout.strip()


# The ledger computed from the done moves as it was before the table (the
# view of office_admin 8.0.0), to check the table against
MOVES_LEDGER = """
SELECT company, department, product, year, month,
    sum(quantity) AS quantity, sum(cost) AS cost, count(*) AS move_count
FROM (
    SELECT m.company, d.id AS department, m.product,
        extract(year FROM m.effective_date)::integer AS year,
        extract(month FROM m.effective_date)::integer AS month,
        m.internal_quantity AS quantity,
        m.internal_quantity::numeric * coalesce(m.cost_price, 0) AS cost
    FROM stock_move m JOIN office_department d
        ON d.supply_location = m.to_location
    WHERE m.state = 'done'
    UNION ALL
    SELECT m.company, d.id, m.product,
        extract(year FROM m.effective_date)::integer,
        extract(month FROM m.effective_date)::integer,
        -m.internal_quantity,
        -m.internal_quantity::numeric * coalesce(m.cost_price, 0)
    FROM stock_move m JOIN office_department d
        ON d.supply_location = m.from_location
    WHERE m.state = 'done') AS lines
GROUP BY company, department, product, year, month"""
LEDGER = """
SELECT company, department, product, year, month, quantity, cost, move_count
FROM office_supply_ledger"""


def identity(server):
    "Return (lines of the ledger, lines that differ from the moves)"
    lines = int(psql(server, 'SELECT count(*) FROM office_supply_ledger'))
    differ = int(psql(server, f"""
SELECT count(*) FROM (
    ({MOVES_LEDGER} EXCEPT {LEDGER})
    UNION ALL ({LEDGER} EXCEPT {MOVES_LEDGER})) AS differences"""))
    return lines, differ


def upgrade(server):
    """Drop the ledger table and update the module, as an upgrade from the
    ledger view: __register__ fills the table from the moves"""
    psql(server, 'DROP TABLE office_supply_ledger')
    start = time.perf_counter()
    subprocess.run([Path(sys.executable).parent / 'trytond-admin',
            '-d', server.database, '-u', 'office_admin'],
        env=server.env, check=True, capture_output=True)
    return time.perf_counter() - start


def more_moves(server, departments, day, count=20, cancel=5):
    """Issue count moves to the departments over JSON-RPC, the same product
    and month for all, and cancel some of them"""
    admin = server.client('admin')
    found, = admin.search('stock.location', [('type', '=', 'lost_found')])[:1]
    product, = admin.search('product.product', [('code', '=', 'PEN')])
    uom, = [p['default_uom'] for p in admin.read(
            'product.product', [product], ['default_uom'])]
    locations = [d['supply_location'] for d in admin.read(
            'office.department', departments[:2], ['supply_location'])]
    ids = admin.model('stock.move', 'create', [{
                'product': product, 'unit': uom, 'quantity': 1 + i % 3,
                'from_location': found,
                'to_location': locations[i % len(locations)],
                'effective_date': day,
                } for i in range(count)])
    for move in ids:
        admin.model('stock.move', 'do', [move])
    admin.model('stock.move', 'cancel', ids[:cancel])


def make_departments(server, count):
    admin = server.client('office_head')
    existing = admin.search('office.department', [])
    missing = count - len(existing)
    if missing > 0:
        admin.model('office.department', 'create', [
                {'name': f"基准部门{i:02d}", 'code': f'B{i:02d}'}
                for i in range(missing)])
    admin.model('office.configuration', 'supply_setup_locations', [1])
    return admin.search('office.department', [('supply_location', '!=', None)])


def load(server, lines):
    "A year of received requisitions, 5 lines each, with their done moves"
    requisitions = lines // 5
    sql = f"""
WITH dept AS (
    SELECT d.id, d.supply_location, row_number() OVER (ORDER BY d.id) - 1 AS n,
        count(*) OVER () AS total
    FROM office_department d WHERE d.supply_location IS NOT NULL),
emp AS (SELECT min(id) AS id, min(company) AS company FROM company_employee)
INSERT INTO office_supply_requisition (company, department, requester, date,
    state, number, office_approval, backorder_closed, create_uid, create_date)
SELECT emp.company, dept.id, emp.id,
    (date_trunc('year', now()) + ((g % 365) || ' days')::interval)::date,
    'received', 'BENCH-' || g, false, false, 0, now()
FROM generate_series(0, {requisitions - 1}) g
JOIN dept ON dept.n = g % dept.total, emp;
WITH product AS (
    SELECT p.id, t.default_uom, row_number() OVER (ORDER BY p.id) - 1 AS n,
        count(*) OVER () AS total
    FROM product_product p JOIN product_template t ON t.id = p.template
    WHERE p.code IS NOT NULL)
INSERT INTO office_supply_requisition_line (requisition, product, quantity,
    purpose, unit_cost, create_uid, create_date)
SELECT r.id, product.id, 1 + (r.id + k) % 7, 'bench', 3.5, 0, now()
FROM office_supply_requisition r, generate_series(0, 4) k, product
WHERE r.number LIKE 'BENCH-%' AND product.n = (r.id + k) % product.total;
INSERT INTO stock_move (product, unit, quantity, internal_quantity,
    from_location, to_location, company, state, effective_date, planned_date,
    cost_price, origin, create_uid, create_date)
SELECT l.product, t.default_uom, l.quantity, l.quantity,
    (SELECT storage_location FROM stock_location WHERE code = 'OS'),
    d.supply_location, r.company, 'done', r.date, r.date, 3.5,
    'office.supply.requisition.line,' || l.id, 0, now()
FROM office_supply_requisition_line l
JOIN office_supply_requisition r ON r.id = l.requisition
JOIN office_department d ON d.id = r.department
JOIN product_product p ON p.id = l.product
JOIN product_template t ON t.id = p.template
WHERE r.number LIKE 'BENCH-%';
ANALYZE stock_move;
ANALYZE office_supply_requisition;
ANALYZE office_supply_requisition_line;
"""
    start = time.perf_counter()
    psql(server, sql)
    return time.perf_counter() - start


def plans(server, month):
    """One approved plan per department for month, 6 lines each: the plans
    the demo or the reminder job already made for month (one per department
    and month) are approved with these lines instead"""
    sql = f"""
INSERT INTO office_supply_plan (company, department, month, state,
    escalation_level, create_uid, create_date)
SELECT d.company, d.id, '{month.isoformat()}', 'approved', 0, 0, now()
FROM office_department d WHERE d.supply_location IS NOT NULL
ON CONFLICT (department, month) DO NOTHING;
UPDATE office_supply_plan SET state = 'approved'
WHERE month = '{month.isoformat()}' AND consolidation IS NULL
    AND department IN (
        SELECT id FROM office_department WHERE supply_location IS NOT NULL);
DELETE FROM office_supply_plan_line WHERE plan IN (
    SELECT id FROM office_supply_plan
    WHERE month = '{month.isoformat()}' AND state = 'approved'
        AND consolidation IS NULL);
INSERT INTO office_supply_plan_line (plan, product, quantity, create_uid,
    create_date)
SELECT pl.id, p.id, 10 + pl.id % 20, 0, now()
FROM office_supply_plan pl, product_product p
WHERE pl.month = '{month.isoformat()}' AND pl.state = 'approved'
    AND pl.consolidation IS NULL AND p.code IS NOT NULL;
"""
    psql(server, sql)


def timed(call, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return times, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--departments', type=int, default=50)
    parser.add_argument('--lines', type=int, default=100000)
    parser.add_argument('--runs', type=int, default=30)
    args = parser.parse_args()
    with bench_server('office_bench_supply') as (server, tmp):
        departments = make_departments(server, args.departments)
        elapsed = load(server, args.lines)
        print(f"loaded {args.lines} requisition lines and done moves over "
            f"{len(departments)} departments in {elapsed:.1f} s")
        elapsed = upgrade(server)
        print(f"module update filling the ledger table from the moves "
            f"(trytond-admin -u office_admin): {elapsed:.1f} s")
        lines, differ = identity(server)
        print(f"identity check after the fill: {lines} ledger lines, "
            f"{differ} differing from the moves")
        day = dt.datetime.now(ZoneInfo('Asia/Shanghai')).date()
        more_moves(server, departments, day)
        lines, differ = identity(server)
        print(f"identity check after 20 moves done and 5 cancelled over "
            f"JSON-RPC: {lines} ledger lines, {differ} differing")
        admin = server.client('admin')
        cron, = admin.search('ir.cron',
            [('method', '=', 'office.supply.ledger|check_ledger')])
        times, _ = timed(
            lambda: admin.model('ir.cron', 'run_once', [cron]), 1)
        print(f"consistency job (office.supply.ledger|check_ledger) over "
            f"the moves: {times[0] * 1000:.0f} ms")
        year = day.year
        fields = ['department', 'product', 'period', 'quantity', 'cost']
        clerk = server.client('clerk')
        times, rows = timed(lambda: clerk.search(
                'office.supply.ledger', [('year', '=', year)], fields),
            args.runs)
        print(f"ledger, whole year for the office ({len(rows)} rows): "
            f"p50={percentile(times, 50) * 1000:.0f} ms "
            f"p95={percentile(times, 95) * 1000:.0f} ms")
        head = server.client('sales_head')
        times, rows = timed(lambda: head.search(
                'office.supply.ledger', [('year', '=', year)], fields),
            args.runs)
        print(f"ledger, a department head's year ({len(rows)} rows): "
            f"p50={percentile(times, 50) * 1000:.0f} ms "
            f"p95={percentile(times, 95) * 1000:.0f} ms")

        today = dt.date.today()
        month = (today.replace(day=1) + dt.timedelta(days=32)).replace(
            day=1)
        plans(server, month)
        context = clerk.context
        start = time.perf_counter()
        session, _, _ = clerk.call(
            'wizard.office.supply.consolidate.create', context)
        clerk.call('wizard.office.supply.consolidate.execute', session,
            {'start': {'month': month, 'plans': [], 'missing': []}},
            'consolidate', context)
        elapsed = time.perf_counter() - start
        consolidation, = clerk.search('office.supply.consolidation',
            [('month', '=', month)], ['plans', 'requests'])
        print(f"consolidation of {len(consolidation['plans'])} plans "
            f"into {len(consolidation['requests'])} purchase requests: "
            f"{elapsed * 1000:.0f} ms")


if __name__ == '__main__':
    main()
