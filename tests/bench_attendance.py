#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of attendance; prints figures, asserts nothing.

    .venv/bin/python tests/bench_attendance.py [--employees 10000]

On a throw-away PostgreSQL cluster (or PG_URI) with trytond under gunicorn
(4 workers): creates the employees over JSON-RPC, sends yesterday's punches
through the clock-device endpoint (HTTP, batches of 1,000, 4 devices at
once) and prints the punches per second, then runs the daily anomaly job
for all employees and prints its time, and the time of a second run (which
changes nothing)."""
import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))

import pgcluster  # noqa: E402
from serverkit import start_server  # noqa: E402

TIMEZONE = ZoneInfo('Asia/Shanghai')


def make_employees(server, count):
    admin = server.client('admin')
    company, = admin.search('company.company', [])
    department, = admin.search('office.department', [('code', '=', 'SAL')])
    done = 0
    while done < count:
        size = min(500, count - done)
        parties = admin.model('party.party', 'create', [
                {'name': f"基准员工{done + i:05d}"} for i in range(size)])
        admin.model('company.employee', 'create', [{
                    'party': party, 'company': company,
                    'department': department,
                    'clock_code': f'B{done + i:05d}'}
                for i, party in enumerate(parties)])
        done += size
    schedule, = admin.model('office.attendance.schedule', 'create', [{
                'name': "基准班", 'kind': 'fixed', 'start': dt.time(9, 0),
                'end': dt.time(18, 0), 'grace_minutes': 5,
                'working_days': 'every_day'}])
    admin.model('office.attendance.schedule.assignment', 'create', [{
                'schedule': schedule, 'department': department,
                'date_from': dt.date(2000, 1, 1)}])
    application, = admin.model('res.user.application', 'create', [{
                'user': admin.user_id, 'application': 'office_admin'}])
    key, = [a['key'] for a in admin.read(
            'res.user.application', [application], ['key'])]
    return key


def punches(count, date):
    "Yesterday's punches: most on time, some late, some early, some missing"
    rows = []
    for i in range(count):
        code = f'B{i:05d}'
        kind = random.random()
        if kind < 0.03:
            continue  # absent
        arrival = dt.datetime.combine(date, dt.time(8, 50)) + dt.timedelta(
            minutes=random.randint(0, 30 if kind < 0.15 else 12))
        rows.append((code, arrival))
        if kind < 0.05:
            continue  # forgot to check out
        departure = dt.datetime.combine(date, dt.time(18, 0)) + dt.timedelta(
            minutes=random.randint(-40 if kind > 0.9 else 0, 30))
        rows.append((code, departure))
    return [{'employee': code, 'device': f'GATE-{i % 4}',
            'timestamp': at.replace(tzinfo=TIMEZONE).isoformat(),
            'method': 'face'} for i, (code, at) in enumerate(rows)]


def send(server, key, rows, batch, devices):
    url = f'{server.url}/{server.database}/office_admin/attendance/punches'
    batches = [rows[i:i + batch] for i in range(0, len(rows), batch)]
    stored = []
    lock = threading.Lock()

    def device(queue):
        while True:
            with lock:
                if not queue:
                    return
                chunk = queue.pop()
            request = urllib.request.Request(url,
                data=json.dumps({'punches': chunk}).encode(),
                headers={'Content-Type': 'application/json',
                    'Authorization': f'Bearer {key}'})
            with urllib.request.urlopen(request, timeout=300) as response:
                result = json.loads(response.read())
            with lock:
                stored.append(len(result['stored']))
    start = time.perf_counter()
    threads = [threading.Thread(target=device, args=(batches,))
        for _ in range(devices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, sum(stored)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--employees', type=int, default=10000)
    parser.add_argument('--batch', type=int, default=1000)
    parser.add_argument('--devices', type=int, default=4)
    args = parser.parse_args()
    random.seed(2026)
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
            workers=4, database='office_bench_attendance')
        try:
            start = time.perf_counter()
            key = make_employees(server, args.employees)
            print(f"created {args.employees} employees in "
                f"{time.perf_counter() - start:.0f} s")
            yesterday = dt.datetime.now(TIMEZONE).date() - dt.timedelta(
                days=1)
            rows = punches(args.employees, yesterday)
            elapsed, stored = send(
                server, key, rows, args.batch, args.devices)
            print(f"punch intake: {stored} punches in {elapsed:.1f} s = "
                f"{stored / elapsed:.0f} punches/s (batches of {args.batch}, "
                f"{args.devices} devices at once)")
            elapsed, again = send(server, key, rows, args.batch, args.devices)
            print(f"the same punches sent again: {again} stored, "
                f"{len(rows) / elapsed:.0f} rows/s")

            admin = server.client('admin')
            cron, = admin.search('ir.cron', [
                    ('method', '=',
                        'office.attendance.anomaly|check_yesterday')])
            for label in ["daily anomaly job", "the job re-run"]:
                start = time.perf_counter()
                admin.model('ir.cron', 'run_once', [cron])
                elapsed = time.perf_counter() - start
                anomalies = admin.search('office.attendance.anomaly',
                    [('date', '=', yesterday)], ['kind'])
                kinds = {}
                for anomaly in anomalies:
                    kinds[anomaly['kind']] = kinds.get(anomaly['kind'], 0) + 1
                print(f"{label} for {args.employees + 8} employees: "
                    f"{elapsed:.1f} s; anomalies {dict(sorted(kinds.items()))}")
        finally:
            process.terminate()
            process.wait(10)
            smtp.stop()
            if pg_dir:
                pgcluster.stop(pg_dir)


if __name__ == '__main__':
    main()
