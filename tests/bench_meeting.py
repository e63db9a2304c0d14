#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of room booking; prints figures, asserts nothing.

    .venv/bin/python tests/bench_meeting.py [--rooms 200] [--bookings 100000]

On a throw-away PostgreSQL cluster (or PG_URI) with trytond under gunicorn
(4 workers), loads the rooms and a year of confirmed bookings with SQL, then
prints the p50/p95 of "find a room" over JSON-RPC and of booking (create +
request) with 20 concurrent clients, and how many bookings the database
refused as overlapping."""
import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from rpc import RPCError  # noqa: E402
from serverkit import percentile, bench_server  # noqa: E402


def load(server, rooms, bookings):
    "Insert the rooms and the bookings with SQL, non-overlapping per room"
    per_room = bookings // rooms
    sql = f"""
INSERT INTO office_meeting_room (name, capacity, company, open_from, open_to,
    needs_approval, active, create_uid, create_date)
SELECT 'Bench room ' || g, 4 + g % 40, c.id, '07:00', '21:00', false, true,
    0, now()
FROM generate_series(1, {rooms}) g, (SELECT min(id) AS id FROM company_company) c;
WITH room AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n
    FROM office_meeting_room WHERE name LIKE 'Bench room %'),
organiser AS (
    SELECT e.id AS employee, e.department, e.company
    FROM company_employee e WHERE e.department IS NOT NULL
    ORDER BY e.id LIMIT 1)
INSERT INTO office_meeting (company, topic, organiser, department, room,
    start, "end", state, sequence, reminder_sent, escalation_level,
    create_uid, create_date)
SELECT o.company, 'Bench ' || room.id || '-' || s, o.employee, o.department,
    room.id,
    date_trunc('day', now()) + ((s / 4) || ' days')::interval
        + ((1 + (s % 4) * 2) || ' hours')::interval,
    date_trunc('day', now()) + ((s / 4) || ' days')::interval
        + ((2 + (s % 4) * 2) || ' hours')::interval,
    'confirmed', 1, false, 0, 0, now()
FROM room, organiser o, generate_series(0, {per_room - 1}) s;
ANALYZE office_meeting;
ANALYZE office_meeting_room;
"""
    start = time.perf_counter()
    subprocess.run(['psql', f'{server.pg_uri}/{server.database}', '-qc', sql],
        check=True, capture_output=True)
    return time.perf_counter() - start


def find_room(client, start, duration, seats):
    context = client.context
    session, _, _ = client.call(
        'wizard.office.meeting.find_room.create', context)
    result = client.call('wizard.office.meeting.find_room.execute',
        session, {'start': {
                'start': start, 'duration': duration, 'seats': seats,
                'attendees': [], 'equipment': []}},
        'search', context)
    client.call('wizard.office.meeting.find_room.delete', session, context)
    return result['view']['defaults']['rooms']


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rooms', type=int, default=200)
    parser.add_argument('--bookings', type=int, default=100000)
    parser.add_argument('--searches', type=int, default=200)
    parser.add_argument('--clients', type=int, default=20)
    parser.add_argument('--per-client', type=int, default=10)
    args = parser.parse_args()
    random.seed(2026)
    with bench_server('office_bench_meeting') as (server, tmp):
        elapsed = load(server, args.rooms, args.bookings)
        print(f"loaded {args.rooms} rooms and {args.bookings} bookings "
            f"in {elapsed:.1f} s")
        client = server.client('sales1')
        base = dt.datetime.combine(dt.date.today(), dt.time(0))
        times, found = [], []
        for _ in range(args.searches):
            start = base + dt.timedelta(
                days=random.randint(1, 120), hours=random.randint(1, 9))
            begin = time.perf_counter()
            rooms = find_room(client, start, dt.timedelta(hours=1),
                random.randint(2, 30))
            times.append(time.perf_counter() - begin)
            found.append(len(rooms))
        print(f"find a room over {args.rooms} rooms / {args.bookings} "
            f"bookings, n={len(times)}: p50="
            f"{percentile(times, 50) * 1000:.1f} ms p95="
            f"{percentile(times, 95) * 1000:.1f} ms "
            f"(mean {statistics.mean(found):.0f} rooms free)")

        admin = server.client('office_head')
        room_ids = admin.search('office.meeting.room',
            [('name', 'like', 'Bench room %')])
        logins = ['sales1', 'sales2', 'north1', 'fin1', 'clerk']
        latencies, refused = [], []
        lock = threading.Lock()
        barrier = threading.Barrier(args.clients)

        def book(i):
            rpc = server.client(logins[i % len(logins)])
            rng = random.Random(i)
            barrier.wait()
            for _ in range(args.per_client):
                start = base + dt.timedelta(days=rng.randint(130, 140),
                    hours=rng.randint(1, 9))
                meeting_id, = rpc.model('office.meeting', 'create', [dict(
                            topic='bench', room=rng.choice(room_ids[:10]),
                            start=start,
                            end=start + dt.timedelta(hours=1))])
                begin = time.perf_counter()
                try:
                    rpc.model('office.meeting', 'request', [meeting_id])
                    ok = True
                except RPCError:
                    ok = False
                with lock:
                    latencies.append(time.perf_counter() - begin)
                    refused.append(not ok)
        threads = [threading.Thread(target=book, args=(i,))
            for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"booking (request) with {args.clients} concurrent "
            f"clients, n={len(latencies)}: p50="
            f"{percentile(latencies, 50) * 1000:.1f} ms p95="
            f"{percentile(latencies, 95) * 1000:.1f} ms; "
            f"{sum(refused)} refused as overlapping")


if __name__ == '__main__':
    main()
