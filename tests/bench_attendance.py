#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of attendance; prints figures, asserts nothing.

    .venv/bin/python tests/bench_attendance.py [--employees 10000]
        [--recheck-employees 1000]

On a throw-away PostgreSQL cluster (or PG_URI) with trytond under gunicorn
(4 workers): creates the employees over JSON-RPC with a schedule that ended
a few hours ago (so that the daily job, run by hand, checks it); then

- a 10,000-punch batch to the clock-device endpoint as JSON, first send
  and resend (nothing stored the second time), and the same for CSV;
- the daily anomaly job for all employees, and its re-run;
- a month of late punches for 1,000 employees: their arrivals of the 30
  days before, then the check-outs arriving late, each batch checking its
  days again (Anomaly.recheck) - seconds and employee-days per second.

The figures depend on the machine and its load: compare runs on the same
machine."""
import argparse
import datetime as dt
import json
import random
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))

from serverkit import bench_server  # noqa: E402

TIMEZONE = ZoneInfo('Asia/Shanghai')


def make_employees(server, count, start):
    """Create count employees with clock codes and a shift starting at
    start (a local datetime), every day"""
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
                'name': "基准班", 'kind': 'shift', 'start': start.time(),
                'end': (start + SHIFT).time(), 'grace_minutes': 5,
                'working_days': 'every_day'}])
    admin.model('office.attendance.schedule.assignment', 'create', [{
                'schedule': schedule, 'department': department,
                'date_from': dt.date(2000, 1, 1)}])
    application, = admin.model('res.user.application', 'create', [{
                'user': admin.user_id, 'application': 'office_admin'}])
    key, = [a['key'] for a in admin.read(
            'res.user.application', [application], ['key'])]
    return key


SHIFT = dt.timedelta(hours=9)


def punches(codes, start, arrivals=True, departures=True):
    """The punches of a shift starting at start (local): most on time, some
    late, some early, some missing"""
    rows = []
    for i, code in enumerate(codes):
        kind = random.random()
        if kind < 0.03:
            continue  # absent
        arrival = start - dt.timedelta(minutes=10) + dt.timedelta(
            minutes=random.randint(0, 30 if kind < 0.15 else 12))
        if arrivals:
            rows.append((code, arrival))
        if kind < 0.05 or not departures:
            continue  # forgot to check out
        departure = start + SHIFT + dt.timedelta(
            minutes=random.randint(-40 if kind > 0.9 else 0, 30))
        rows.append((code, departure))
    return [{'employee': code, 'device': f'GATE-{i % 4}',
            'timestamp': at.replace(tzinfo=TIMEZONE).isoformat(),
            'method': 'face'} for i, (code, at) in enumerate(rows)]


def as_csv(rows):
    lines = ['employee,timestamp,device,method']
    lines += ['%(employee)s,%(timestamp)s,%(device)s,%(method)s' % r
        for r in rows]
    return ('\n'.join(lines) + '\n').encode()


def post(server, key, rows, csv=False):
    "Send one batch; return (seconds, stored, duplicates)"
    url = f'{server.url}/{server.database}/office_admin/attendance/punches'
    if csv:
        data, content_type = as_csv(rows), 'text/csv'
    else:
        data = json.dumps({'punches': rows}).encode()
        content_type = 'application/json'
    request = urllib.request.Request(url, data=data, headers={
            'Content-Type': content_type, 'Authorization': f'Bearer {key}'})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=1800) as response:
            result = json.loads(response.read())
    except urllib.error.HTTPError as error:
        sys.exit(f"batch refused after {time.perf_counter() - start:.0f} s: "
            f"{error.code} {error.read()[:2000]!r}")
    return (time.perf_counter() - start, len(result['stored']),
        len(result['duplicates']))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--employees', type=int, default=10000)
    parser.add_argument('--recheck-employees', type=int, default=1000)
    parser.add_argument('--days', type=int, default=30)
    parser.add_argument('--batch', type=int, default=10000)
    args = parser.parse_args()
    random.seed(2026)
    # A shift that ended (plus the hour of margin) a little before now
    now = dt.datetime.now(TIMEZONE).replace(tzinfo=None)
    start = (now - SHIFT - dt.timedelta(hours=3)).replace(
        minute=0, second=0, microsecond=0)
    with bench_server('office_bench_attendance') as (server, tmp):
        begin = time.perf_counter()
        key = make_employees(server, args.employees, start)
        print(f"created {args.employees} employees in "
            f"{time.perf_counter() - begin:.0f} s")
        codes = [f'B{i:05d}' for i in range(args.employees)]
        rows = punches(codes, start)
        json_rows, csv_rows = rows[:args.batch], rows[args.batch:]
        # The rest of the shift's punches, and the day before's for CSV
        csv_rows += punches(codes, start - dt.timedelta(days=1))
        csv_rows = csv_rows[:args.batch]
        for label, batch, csv in [('JSON', json_rows, False),
                ('CSV', csv_rows, True)]:
            for send in ['first send', 'resend']:
                elapsed, stored, duplicates = post(
                    server, key, batch, csv=csv)
                print(f"{label} batch of {len(batch)} punches, {send}: "
                    f"{elapsed:.1f} s ({stored} stored, {duplicates} "
                    "already stored)")

        admin = server.client('admin')
        cron, = admin.search('ir.cron', [
                ('method', '=',
                    'office.attendance.anomaly|check_yesterday')])
        for label in ["daily anomaly job", "the job re-run"]:
            begin = time.perf_counter()
            admin.model('ir.cron', 'run_once', [cron])
            elapsed = time.perf_counter() - begin
            anomalies = admin.search('office.attendance.anomaly',
                [('date', '=', start.date())], ['kind'])
            kinds = {}
            for anomaly in anomalies:
                kind = anomaly['kind']
                kinds[kind] = kinds.get(kind, 0) + 1
            print(f"{label} for {args.employees} employees: "
                f"{elapsed:.1f} s; anomalies "
                f"{dict(sorted(kinds.items()))}")

        # A month of late punches for the first recheck employees: the
        # arrivals of each day first (the days are checked again: a
        # check-out is missing), then the check-outs arrive late
        codes = codes[:args.recheck_employees]
        days = [start - dt.timedelta(days=d)
            for d in range(args.days + 1, 1, -1)]
        for label, arrivals, departures in [
                ('arrivals', True, False),
                ('late check-outs', False, True)]:
            rows = [r for day in days
                for r in punches(codes, day, arrivals, departures)]
            elapsed, stored = 0, 0
            for i in range(0, len(rows), args.batch):
                seconds, n, _ = post(server, key, rows[i:i + args.batch])
                elapsed += seconds
                stored += n
            missing = len(admin.search('office.attendance.anomaly', [
                        ('kind', '=', 'missing'),
                        ('date', '>=', days[0].date()),
                        ('date', '<=', days[-1].date()),
                        ]))
            print(f"a month ({len(days)} days) of {label} for "
                f"{len(codes)} employees: {stored} punches in "
                f"{elapsed:.1f} s, each day checked again = "
                f"{stored / elapsed:.0f} employee-days/s; "
                f"{missing} missing check-outs left")


if __name__ == '__main__':
    main()
