#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the inspection job; prints figures, asserts nothing.

    .venv/bin/python tests/bench_inspection.py [--facilities 2000]
        [--frequency weekly]

Installs the module on a throw-away SQLite database (or on PostgreSQL when
TRYTOND_DATABASE_URI and DB_NAME say so, as for the module tests) with the
scenarios' organisation, creates the facilities of one category and a plan
with a checklist of three items on them (weekly on Mondays by default),
sets the job's horizon to a whole year and runs the job
(`office.inspection.plan|generate_rounds`) on 1 January 2026: the time,
the rounds created and the SQL statements; then runs it again (nothing to
create: its time, count and statements); then once more with the usual
horizon of 7 days (a daily run of a year-old plan).

The figures depend on the machine and its load: compare runs on the same
machine."""
import argparse
import datetime as dt
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest.mock import patch
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))

TIMEZONE = ZoneInfo('Asia/Shanghai')


class Counter(logging.Handler):
    "Count the SQL statements trytond logs at DEBUG"

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        self.count += 1


def utc(*args):
    return dt.datetime(*args, tzinfo=TIMEZONE).astimezone(
        dt.timezone.utc).replace(tzinfo=None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--facilities', type=int, default=2000)
    parser.add_argument('--frequency', default='weekly',
        choices=['daily', 'weekly', 'monthly', 'quarterly', 'yearly'])
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix='bench-inspection-')
    if not os.environ.get('TRYTOND_DATABASE_URI'):
        os.environ['TRYTOND_DATABASE_URI'] = 'sqlite://'
        os.environ['TRYTOND_DATABASE__PATH'] = tmp
        os.environ['DB_NAME'] = 'bench'
    os.environ.pop('TRYTOND_CONFIG', None)
    os.environ.setdefault('DB_CACHE', os.path.join(tmp, 'cache'))

    # Before the first connection: SQLite traces its statements only
    # when DEBUG is on as it connects
    logger = logging.getLogger('trytond.backend')
    counter = Counter()
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    from proteus import Model
    from trytond.modules.company.tests.tools import create_company
    from trytond.modules.office_admin.tests.tools import setup_office
    from trytond.pool import Pool
    from trytond.tests.tools import activate_modules
    from trytond.transaction import Transaction, TransactionError

    started = time.monotonic()
    config = activate_modules('office_admin', create_company, setup_office)
    database = config.database_name

    def set_horizon(days):
        # Through proteus: saving the singleton locks its table, which
        # needs the retry the RPC dispatcher does
        Configuration = Model.get('office.configuration')
        configuration = Configuration(1)
        configuration.inspection_horizon_days = days
        configuration.save()
    print(f"database: {os.environ['TRYTOND_DATABASE_URI']} "
        f"(installed in {time.monotonic() - started:.0f} s)")

    with Transaction().start(database, 0) as transaction:
        pool = Pool()
        Calendar = pool.get('office.calendar')
        Category = pool.get('office.facility.category')
        Facility = pool.get('office.facility')
        Plan = pool.get('office.inspection.plan')
        Department = pool.get('office.department')
        Company = pool.get('company.company')
        company, = Company.search([])
        calendar, = Calendar.search([('default', '=', True)])
        Calendar.seed_holidays([calendar], years=[2026, 2027])
        office, = Department.search([('code', '=', 'OFF')])
        category = Category(name="空调")
        category.save()
        started = time.monotonic()
        facilities = [Facility(
                company=company, code=f'AC-{n:05d}', name="空调",
                category=category, building="A座", floor=str(n % 20),
                room=str(n), team=office)
            for n in range(args.facilities)]
        Facility.save(facilities)
        print(f"{args.facilities} facilities created in "
            f"{time.monotonic() - started:.1f} s")
        plan = Plan(
            company=company, name="空调巡检", scope='facility',
            category=category, frequency=args.frequency, weekday='0',
            day=1, month=1, team=office, start_date=dt.date(2026, 1, 1),
            items=[
                {'name': "制冷正常", 'kind': 'check'},
                {'name': "出风温度", 'kind': 'value', 'minimum': 10,
                    'maximum': 18},
                {'name': "外观", 'kind': 'check', 'required': False},
                ])
        plan.save()
        transaction.commit()
    set_horizon(364)

    def run(label, *now):
        extras = {}
        while True:
            # As the scheduler does: a transaction that must lock what it
            # did not lock yet starts again with the locks
            with Transaction().start(database, 0, **extras) as transaction, \
                    patch('trytond.modules.office_admin.calendar_.utcnow',
                        return_value=utc(*now)):
                pool = Pool()
                Plan = pool.get('office.inspection.plan')
                Round = pool.get('office.inspection.round')
                counter.count = 0
                started = time.monotonic()
                try:
                    created = Plan.generate_rounds()
                except TransactionError as exception:
                    transaction.rollback()
                    exception.fix(extras)
                    continue
                transaction.commit()
                elapsed = time.monotonic() - started
                statements = counter.count
                total = Round.search_count([])
            break
        rate = f", {created / elapsed:.0f} rounds/s" if created else ""
        print(f"{label}: {created} rounds created in {elapsed:.2f} s"
            f"{rate}, {statements} SQL statements; {total} rounds in all")

    print(f"plan: {args.frequency} on {args.facilities} facilities, "
        "checklist of 3 items")
    run("first run, horizon one year (1 Jan 2026)", 2026, 1, 1, 3, 0)
    run("second run, same year", 2026, 1, 1, 3, 5)
    set_horizon(7)
    run("daily run, horizon 7 days (1 Jun 2026)", 2026, 6, 1, 3, 0)


if __name__ == '__main__':
    main()
