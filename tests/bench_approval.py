#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the approval engine; prints figures, asserts nothing.

    .venv/bin/python tests/bench_approval.py [--clients 20] [--per-client 10]

Starts a throw-away PostgreSQL cluster (or uses PG_URI) and trytond under
gunicorn with 4 workers on loopback, then prints:

1. p50/p95 latency of submit and of approve over JSON-RPC with 20
   concurrent clients;
2. the ratio of create+submit of a seal request to a plain create of a bare
   model (a calendar day), one client, means;
3. the number of SQL queries of one approve action with 1 and with 1,000
   pending requests (it must not grow)."""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pgcluster  # noqa: E402
from serverkit import percentile, start_server  # noqa: E402

SEAL_REQUEST = 'office.seal.request'


def timed(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def concurrent(server, clients, per_client):
    requesters = ['sales1', 'sales2', 'north1']
    submit_times, approve_times = [], []
    created = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def submitter(i):
        client = server.client(requesters[i % len(requesters)])
        seal_id = client.search('office.seal', [('code', '=', 'GZ')])[0]
        barrier.wait()
        for n in range(per_client):
            request_id, = client.model(SEAL_REQUEST, 'create', [dict(
                        seal=seal_id, document_title=f"压测 {i}-{n}",
                        purpose="benchmark")])
            elapsed, _ = timed(lambda: client.model(
                    SEAL_REQUEST, 'submit', [request_id]))
            with lock:
                submit_times.append(elapsed)
                created.append(request_id)

    threads = [threading.Thread(target=submitter, args=(i,))
        for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    chunks = [created[i::clients] for i in range(clients)]
    barrier = threading.Barrier(clients)

    def approver(ids):
        client = server.client('sales_head')
        barrier.wait()
        for request_id in ids:
            elapsed, _ = timed(lambda: client.model(
                    SEAL_REQUEST, 'approval_approve', [request_id]))
            with lock:
                approve_times.append(elapsed)

    threads = [threading.Thread(target=approver, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return submit_times, approve_times


def overhead(server, n=30):
    admin = server.client('office_head')
    calendar = admin.search('office.calendar', [('default', '=', True)])[0]
    import datetime as dt
    bare = []
    for i in range(n):
        day = dt.date(2030, 1, 1) + dt.timedelta(days=i)
        elapsed, _ = timed(lambda: admin.model('office.calendar.day',
                'create', [dict(calendar=calendar, date=day, kind='holiday',
                        name='bench')]))
        bare.append(elapsed)
    client = server.client('sales1')
    seal_id = client.search('office.seal', [('code', '=', 'GZ')])[0]
    full = []
    for i in range(n):
        def create_submit():
            request_id, = client.model(SEAL_REQUEST, 'create', [dict(
                        seal=seal_id, document_title=f"overhead {i}",
                        purpose="benchmark")])
            client.model(SEAL_REQUEST, 'submit', [request_id])
        elapsed, _ = timed(create_submit)
        full.append(elapsed)
    return statistics.mean(full), statistics.mean(bare)


def query_counts(server):
    "Run count_queries in a fresh interpreter with the server's config"
    import subprocess
    output = subprocess.run(
        [sys.executable, __file__, '--count-queries', server.database],
        env=server.env, check=True, capture_output=True, text=True).stdout
    one, thousand = output.split()[-2:]
    return int(one), int(thousand)


def count_queries(database):
    """Count the SQL statements of one approve, in-process, with 1 and with
    1,000 pending requests (each in a transaction that is rolled back).
    trytond logs every statement at DEBUG on its PostgreSQL logger."""
    import logging

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(database)
    pool.init()

    class Counter(logging.Handler):
        count = 0

        def emit(self, record):
            self.count += 1
    sql_logger = logging.getLogger('trytond.backend.postgresql.database')

    def approve_one(pending):
        with Transaction().start(database, 0) as transaction:
            User = pool.get('res.user')
            Request = pool.get(SEAL_REQUEST)
            Seal = pool.get('office.seal')
            sales1, = User.search([('login', '=', 'sales1')])
            head, = User.search([('login', '=', 'sales_head')])
            seal, = Seal.search([('code', '=', 'GZ')])
            with transaction.set_user(sales1.id), transaction.set_context(
                    company=sales1.company.id, employee=sales1.employee.id):
                requests = Request.create([dict(
                            company=sales1.company.id, seal=seal.id,
                            requester=sales1.employee.id,
                            department=sales1.employee.department.id,
                            document_title=f"q{i}", purpose="q")
                        for i in range(pending + 1)])
                Request.submit(requests)
            # Warm the caches with one approve, then count the next one
            with transaction.set_user(head.id), transaction.set_context(
                    company=head.company.id, employee=head.employee.id,
                    _check_access=True):
                Request.approval_approve([Request(requests[-1].id)])
            counter = Counter()
            sql_logger.addHandler(counter)
            sql_logger.setLevel(logging.DEBUG)
            try:
                with transaction.set_user(head.id), transaction.set_context(
                        company=head.company.id, employee=head.employee.id,
                        _check_access=True):
                    Request.approval_approve([Request(requests[0].id)])
            finally:
                sql_logger.removeHandler(counter)
                sql_logger.setLevel(logging.WARNING)
            transaction.rollback()
            return counter.count

    return approve_one(1), approve_one(1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', type=int, default=20)
    parser.add_argument('--per-client', type=int, default=10)
    parser.add_argument('--count-queries', metavar='DATABASE',
        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_queries:
        print(*count_queries(args.count_queries))
        return
    from trytond.modules.office_admin.tests.tools import SMTPSink
    smtp = SMTPSink()
    with tempfile.TemporaryDirectory() as tmp:
        pg_dir = None
        pg_uri = os.environ.get('PG_URI')
        if not pg_uri:
            pg_dir = Path(tmp) / 'pg'
            pg_uri = pgcluster.start(pg_dir)
        server_dir = Path(tmp) / 'server'
        server_dir.mkdir()
        server, process = start_server(pg_uri, smtp.uri, server_dir,
            workers=4, database='office_bench')
        try:
            submit, approve = concurrent(
                server, args.clients, args.per_client)
            print(f"JSON-RPC, {args.clients} concurrent clients, "
                f"4 gunicorn workers, PostgreSQL:")
            for name, values in [('submit', submit), ('approve', approve)]:
                print(f"  {name:8} n={len(values):4}  "
                    f"p50={percentile(values, 50) * 1000:7.1f} ms  "
                    f"p95={percentile(values, 95) * 1000:7.1f} ms")
            full, bare = overhead(server)
            print(f"create+submit {full * 1000:.1f} ms vs plain create of a "
                f"bare model {bare * 1000:.1f} ms: ratio {full / bare:.1f}")
            one, thousand = query_counts(server)
            print(f"SQL queries of one approve: {one} with 1 pending "
                f"request, {thousand} with 1,000 pending")
        finally:
            process.terminate()
            process.wait(10)
            smtp.stop()
            if pg_dir:
                pgcluster.stop(pg_dir)


if __name__ == '__main__':
    main()
