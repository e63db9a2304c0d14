#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the front desk's check-in on PostgreSQL with 4 workers:
hosts pre-register today's visits, then CLIENTS front-desk clients at once
each scan their share of QR codes (the check-in wizard with the visit's
token, as the desk's scanner types it). Prints p50/p95/p99 of a check-in
(the three calls of the wizard), the throughput, the errors, and checks
that every visit was checked in exactly once and every host told.

    .venv/bin/python tests/bench_visit.py [--clients 20] [--per-client 10]
"""
import argparse
import datetime as dt
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from rpc import Client, RPCError  # noqa: E402
from serverkit import bench_server, password, percentile  # noqa: E402

HOSTS = ['sales1', 'sales2', 'fin1', 'north1']
TOKEN_PREFIX = 'OAV1:'


def pre_register(server, count):
    "The hosts register count visits for today; return their tokens"
    tokens = []
    now = dt.datetime.utcnow().replace(microsecond=0)
    per_host = -(-count // len(HOSTS))
    for login in HOSTS:
        host = server.client(login)
        employee, = host.read('company.employee', [host.context['employee']],
            ['department'])
        visitors = host.model('office.visitor', 'create', [{
                    'company': host.context['company'],
                    'name': f"来访者{login}{i}", 'organization': "基准测试公司",
                    'mobile': f'138{os.getpid() % 1000:03d}{i:05d}'}
                for i in range(per_host)])
        visits = host.model('office.visit', 'create', [{
                    'company': host.context['company'],
                    'host': employee['id'],
                    'department': employee['department'],
                    'arrival_from': now + dt.timedelta(minutes=5),
                    'arrival_to': now + dt.timedelta(hours=3),
                    'purpose': "基准测试",
                    'lines': [('create', [{'visitor': v}])]}
                for v in visitors])
        tokens += [v['token'] for v in host.read(
                'office.visit', visits, ['token'])]
    return tokens[:count]


def check_in(client, token):
    context = client.context
    session, _, _ = client.call(
        'wizard.office.visit.check_in.create', context)
    try:
        client.call('wizard.office.visit.check_in.execute', session,
            {'ask': {'code': TOKEN_PREFIX + token}}, 'check_in', context)
    finally:
        client.call('wizard.office.visit.check_in.delete', session, context)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', type=int, default=20)
    parser.add_argument('--per-client', type=int, default=10)
    args = parser.parse_args()
    count = args.clients * args.per_client
    with bench_server('office_bench_visit') as (server, tmp):
        begin = time.perf_counter()
        tokens = pre_register(server, count)
        print(f"pre-registered {len(tokens)} visits in "
            f"{time.perf_counter() - begin:.1f} s")
        desks = [Client(server.url, server.database, 'clerk',
                password('clerk')) for _ in range(args.clients)]
        times, errors = [], []
        lock = threading.Lock()
        barrier = threading.Barrier(args.clients)

        def desk(client, share):
            barrier.wait()
            for token in share:
                start = time.perf_counter()
                try:
                    check_in(client, token)
                except RPCError as e:
                    with lock:
                        errors.append(e.message)
                    continue
                with lock:
                    times.append(time.perf_counter() - start)

        threads = [threading.Thread(target=desk, args=(
                    client, tokens[i::args.clients]))
            for i, client in enumerate(desks)]
        begin = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - begin
        print(f"check-in, {args.clients} desks at once, n={len(times)}: "
            f"p50={percentile(times, 50) * 1000:.0f} ms "
            f"p95={percentile(times, 95) * 1000:.0f} ms "
            f"p99={percentile(times, 99) * 1000:.0f} ms, "
            f"{len(times) / elapsed:.1f} check-ins/s, "
            f"{len(errors)} errors {sorted(set(errors))[:3]}")
        admin = server.client('admin')
        states = admin.search('office.visit', [
                ('purpose', '=', "基准测试")], ['state', 'checked_in_at'])
        checked = [s for s in states if s['state'] == 'checked_in']
        print(f"visits checked in: {len(checked)} of {len(states)}")
        # Checking in again is refused, nothing changes
        again = 0
        for token in tokens[:5]:
            try:
                check_in(desks[0], token)
            except RPCError:
                again += 1
        print(f"a second scan refused: {again} of 5")


if __name__ == '__main__':
    main()
