#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A day of office load with Locust; prints figures, asserts nothing.

    .venv/bin/python tests/bench_load.py [--minutes 10] [--users 200]
        [--soak 30] [--documents 5000] [--wait 10,30] [--spawn-rate 2]

Starts a throw-away PostgreSQL cluster (or uses PG_URI) and trytond under
gunicorn with 4 workers on loopback with the --small organisation, prepares
rooms, archive entries with watermarked files, incoming documents, a clock
device and its employees, then runs tests/load/locustfile.py headless for
the given time and prints, per action: the count, the throughput, p50 / p95 /
p99, the unexpected errors and, apart, the intended refusals; then the
errors by message and the RSS of each gunicorn worker at start and end.
--soak N runs N minutes and prints the RSS series (sampled every 30 s) to
show whether memory grows; --tracemalloc DIR (with tests/load/memtrace.py)
says where the memory a run adds was allocated: each worker's first
snapshot (after --trace-interval seconds) against its last, by call
stack; --census DIR records every --census-interval seconds what each
worker's memory is made of (live Python objects, the C heap's used and
free parts, trytond's cache entries) and prints their trends, cheap enough
for a soak at full rate."""
import argparse
import base64
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from serverkit import ROOT, bench_server  # noqa: E402

LOCUSTFILE = ROOT / 'tests' / 'load' / 'locustfile.py'
CLOCK_EMPLOYEES = 6
# The actions of the locustfile
ACTIONS = {
    'log in', 'open My Approvals', 'submit request', 'approve request',
    'book and cancel room', 'search documents', 'search archives',
    'post punch batch', 'read ledger', 'download watermarked file',
    }


def as_bytes(data):
    return {'__class__': 'bytes', 'base64': base64.b64encode(data).decode()}


def prepare(server, directory, documents=0, rooms=8, archives=20,
        wait=(10, 30), smoke=None):
    """Create what the load needs; write and return the path of the setup
    file the locustfile reads (LOAD_SETUP). wait: the think time of a user
    between two actions (min, max seconds); smoke: every user runs each of
    its actions once when it starts, and the run stops once smoke seconds
    have passed and every action has run."""
    admin = server.client('admin')
    office = server.client('office_head')
    company = office.context['company']
    stamp = dt.datetime.now().strftime('%H%M%S')
    room_ids = office.model('office.meeting.room', 'create', [{
                'name': f"压测会议室 {stamp}-{i}", 'capacity': 20,
                'open_from': dt.time(0, 0), 'open_to': dt.time(23, 59)}
            for i in range(rooms)])
    seal, = office.search('office.seal', [('code', '=', 'GZ')])

    # The clock device: an application key of the HR user and employees
    # of their own with clock codes
    application, = admin.model('res.user.application', 'create', [{
                'user': admin.user_id, 'application': 'office_admin'}])
    key, = [a['key'] for a in admin.read(
            'res.user.application', [application], ['key'])]
    parties = admin.model('party.party', 'create', [
            {'name': f"压测员工 {stamp}-{i}"} for i in range(CLOCK_EMPLOYEES)])
    codes = [f'L{stamp}{i}' for i in range(CLOCK_EMPLOYEES)]
    admin.model('company.employee', 'create', [
            {'party': p, 'company': company, 'clock_code': c}
            for p, c in zip(parties, codes)])

    # Archive entries, and confidential ones with a text file that
    # downloads as a watermarked PDF
    department, = office.search('office.department', [('code', '=', 'OFF')])
    doc_type = office.search('office.document.type', [])[0]
    entries = [{
            'company': company, 'year': 2026, 'department': department,
            'type': doc_type, 'title': f"压测档案 {stamp} 第{i}卷",
            'secrecy': 'internal'} for i in range(archives)]
    for i in range(2):
        entries.append({
                'company': company, 'year': 2026, 'department': department,
                'type': doc_type, 'title': f"压测涉密档案 {stamp}-{i}",
                'secrecy': 'confidential',
                'files': [('create', [{'name': f'minutes-{i}.txt',
                                'data': as_bytes(
                                    ("会议纪要 minutes %d\n" % i).encode()
                                    * 40)}])]})
    entry_ids = office.model('office.archive', 'create', entries)
    files = office.search('office.archive.file',
        [('archive', 'in', entry_ids)])

    if documents:
        import bench_document
        reader = server.client('sales2').user_id
        bench_document.load(server, documents, reader)

    setup = {
        'database': server.database, 'rooms': room_ids, 'seal': seal,
        'punch_key': key, 'clock_codes': codes, 'files': files,
        'wait': list(wait), 'tour': bool(smoke),
        'until_every_action': smoke, 'actions': sorted(ACTIONS),
        }
    path = Path(directory) / 'load-setup.json'
    path.write_text(json.dumps(setup))
    return path


def rss(pid):
    "The resident memory of pid in MiB (None when it is gone)"
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    except OSError:
        return None


class MemorySampler(threading.Thread):
    "Samples the RSS of the server's workers every interval seconds"

    def __init__(self, server, interval):
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.samples = []  # (seconds, {pid: MiB})
        self.stopped = threading.Event()
        self.start_time = time.monotonic()

    def sample(self):
        self.samples.append((time.monotonic() - self.start_time,
                {pid: rss(pid) for pid in sorted(self.server.worker_pids())}))

    def run(self):
        while not self.stopped.wait(self.interval):
            self.sample()

    def stop(self):
        self.stopped.set()
        self.join()
        self.sample()


def print_memory_growth(directory, top=12):
    "Compare each worker's first and last tracemalloc snapshots"
    import tracemalloc

    snapshots = {}
    for path in sorted(Path(directory).glob('*.snap')):
        snapshots.setdefault(path.name.split('-')[0], []).append(path)
    for pid, paths in sorted(snapshots.items()):
        if len(paths) < 2:
            continue
        first = tracemalloc.Snapshot.load(str(paths[0]))
        last = tracemalloc.Snapshot.load(str(paths[-1]))
        total = sum(s.size for s in last.statistics('filename')) - sum(
            s.size for s in first.statistics('filename'))
        print(f"\nworker {pid}: traced memory {total / 2 ** 20:+.1f} MiB "
            f"from snapshot {paths[0].stem} to {paths[-1].stem}, "
            f"largest growths:")

        def growths(key):
            for stat in last.compare_to(first, key):
                if stat.size_diff > 0:
                    yield stat, (f"  {stat.size_diff / 2 ** 20:+7.2f} MiB "
                        f"{stat.count_diff:+8d} blocks")
        print("  by file:")
        for stat, size in islice(growths('filename'), top):
            name = stat.traceback[0].filename.split('site-packages/')[-1]
            print(f"{size}  {name}")
        print("  by call stack:")
        for stat, size in islice(growths('traceback'), top):
            print(size)
            # The allocation first, then its callers
            frames = [f for f in reversed(stat.traceback)
                if 'gunicorn' not in f.filename
                and 'werkzeug' not in f.filename]
            for frame in frames[:8]:
                name = frame.filename.split('site-packages/')[-1]
                print(f"        {name}:{frame.lineno}")


def print_census(directory, warm=600):
    """Print each worker's census (tests/load/memtrace.py) every 10
    minutes and the trend after the first warm seconds, per 10 minutes,
    of each measure: live objects that pile up (Python blocks, tracked
    objects, the C heap in use, cache entries) or a heap that keeps freed
    memory (the heap's free part, RSS alone)"""
    import statistics
    measures = [('rss', 'RSS MiB', 2 ** 20),
        ('py_blocks', 'Py blocks k', 1e3),
        ('gc_objects', 'GC objects k', 1e3),
        ('heap_in_use', 'heap used MiB', 2 ** 20),
        ('heap_free', 'heap free MiB', 2 ** 20),
        ('mapped', 'mmap MiB', 2 ** 20),
        ('cache_entries', 'cache entries', 1)]
    for path in sorted(Path(directory).glob('*.jsonl')):
        samples = [json.loads(line) for line in path.read_text().split('\n')
            if line.strip()]
        if len(samples) < 2:
            continue
        start = samples[0]['time']
        print(f"\nworker {path.stem}: census every "
            f"{samples[1]['time'] - start:.0f} s, {len(samples)} samples")
        print("  minute " + " ".join(f"{title:>14}" for _, title, _ in
                measures))
        shown = []
        for sample in samples:
            minute = (sample['time'] - start) / 60
            if not shown or minute >= shown[-1] + 10 or sample is samples[-1]:
                shown.append(minute)
                print(f"  {minute:6.1f} " + " ".join(
                        f"{(sample[k] or 0) / unit:14.1f}"
                        for k, _, unit in measures))
        later = [s for s in samples if s['time'] - start >= warm]
        if len(later) >= 3:
            times = [(s['time'] - start) / 600 for s in later]

            def slope(key, unit):
                return statistics.linear_regression(
                    times, [(s[key] or 0) / unit for s in later]).slope
            print("  trend  " + " ".join(
                    f"{slope(k, unit):+14.2f}" for k, _, unit in measures)
                + f"   per 10 min after minute {warm / 60:.0f}")


def run_locust(server, setup, seconds, users, spawn_rate, prefix):
    "Run Locust headless; return its exit code"
    env = dict(os.environ, LOAD_SETUP=str(setup))
    bindir = Path(sys.executable).parent
    command = [bindir / 'locust', '-f', LOCUSTFILE, '--headless',
        '--users', str(users), '--spawn-rate', str(spawn_rate),
        '--run-time', f'{seconds}s', '--host', server.url,
        '--csv', prefix, '--only-summary', '--stop-timeout', '30',
        '--loglevel', 'WARNING']
    with open(f'{prefix}.log', 'w') as log:
        return subprocess.run(command, env=env, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT).returncode


def read_stats(prefix):
    """Per action from Locust's CSV: {name: dict(count, rate, p50, p95,
    p99, errors, refusals)} and the errors [(name, message, count)] of the
    requests and of the script."""
    actions = {}
    refusals = {}
    with open(f'{prefix}_stats.csv', newline='') as fp:
        for row in csv.DictReader(fp):
            if row['Type'] == 'ACTION':
                actions[row['Name']] = {
                    'count': int(row['Request Count']),
                    'rate': float(row['Requests/s']),
                    'p50': float(row['50%'] or 0),
                    'p95': float(row['95%'] or 0),
                    'p99': float(row['99%'] or 0),
                    'errors': int(row['Failure Count']),
                    }
            elif row['Type'] == 'REFUSED':
                refusals[row['Name']] = int(row['Request Count'])
    for name, figures in actions.items():
        figures['refusals'] = refusals.get(name, 0)
    errors = []
    with open(f'{prefix}_failures.csv', newline='') as fp:
        for row in csv.DictReader(fp):
            errors.append(
                (row['Name'], row['Error'], int(row['Occurrences'])))
    # Exceptions of the load script itself (a crashed task) are errors too
    with open(f'{prefix}_exceptions.csv', newline='') as fp:
        for row in csv.DictReader(fp):
            errors.append(('locustfile', row['Message'], int(row['Count'])))
    return actions, errors


def print_report(actions, errors, sampler, seconds, users):
    print(f"\n{users} users, {seconds / 60:.1f} min, 4 gunicorn workers, "
        f"{os.cpu_count()} CPUs (shared)")
    header = (f"{'action':28} {'count':>7} {'per s':>7} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'refused':>8}")
    print(header)
    print('-' * len(header))
    for name in sorted(actions):
        f = actions[name]
        print(f"{name:28} {f['count']:7d} {f['rate']:7.2f} {f['p50']:8.0f} "
            f"{f['p95']:8.0f} {f['p99']:8.0f} {f['errors']:7d} "
            f"{f['refusals']:8d}")
    total = sum(f['count'] for f in actions.values())
    print(f"{'all actions':28} {total:7d} {total / seconds:7.2f}")
    if errors:
        print("\nerrors (request, message, occurrences):")
        for name, message, count in errors:
            print(f"  {name}: {message} × {count}")
    else:
        print("\nno unexpected errors")
    if sampler:
        first, last = sampler.samples[0][1], sampler.samples[-1][1]
        print("\ngunicorn worker RSS (MiB): start -> end")
        for pid in sorted(set(first) | set(last)):
            start, end = first.get(pid), last.get(pid)
            print(f"  worker {pid}: "
                f"{'-' if start is None else f'{start:.0f}'} -> "
                f"{'-' if end is None else f'{end:.0f}'}")


def print_series(sampler):
    pids = sorted({pid for _, s in sampler.samples for pid in s})
    print("\nRSS series (MiB) per worker:")
    print(f"{'min':>6} " + ' '.join(f'{pid:>8}' for pid in pids))
    for at, sample in sampler.samples:
        print(f"{at / 60:6.1f} " + ' '.join(
                f"{sample[pid]:8.0f}" if sample.get(pid) else f"{'-':>8}"
                for pid in pids))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--minutes', type=float, default=10)
    parser.add_argument('--users', type=int, default=200)
    parser.add_argument('--spawn-rate', type=float, default=2)
    parser.add_argument('--soak', type=float, default=None,
        help="run this many minutes and print the RSS series")
    parser.add_argument('--documents', type=int, default=5000)
    parser.add_argument('--tracemalloc', metavar='DIR', default=None,
        help="trace the workers' allocations, snapshots in DIR")
    parser.add_argument('--trace-interval', type=float, default=300,
        help="seconds between two snapshots of --tracemalloc")
    parser.add_argument('--census', metavar='DIR', default=None,
        help="each worker records what its memory is made of, in DIR")
    parser.add_argument('--census-interval', type=float, default=60,
        help="seconds between two records of --census")
    parser.add_argument('--wait', default='10,30',
        help="think time of a user between actions, min,max seconds")
    args = parser.parse_args()
    minutes = args.soak or args.minutes
    seconds = int(minutes * 60)
    wait = tuple(float(w) for w in args.wait.split(','))
    started = time.perf_counter()
    if args.tracemalloc:
        Path(args.tracemalloc).mkdir(parents=True, exist_ok=True)
        os.environ.update(
            OFFICE_TRACEMALLOC_DIR=str(Path(args.tracemalloc).resolve()),
            OFFICE_TRACEMALLOC_INTERVAL=str(args.trace_interval))
    if args.census:
        Path(args.census).mkdir(parents=True, exist_ok=True)
        os.environ.update(
            OFFICE_CENSUS_DIR=str(Path(args.census).resolve()),
            OFFICE_CENSUS_INTERVAL=str(args.census_interval))
    if args.tracemalloc or args.census:
        os.environ['GUNICORN_CMD_ARGS'] = '-c ' + str(
            ROOT / 'tests' / 'load' / 'memtrace.py')
    with bench_server('office_bench_load') as (server, tmp):
        print(f"server ready in {time.perf_counter() - started:.0f} s")
        setup = prepare(server, tmp, documents=args.documents,
            wait=wait)
        sampler = MemorySampler(server, 30 if args.soak else 60)
        sampler.sample()
        sampler.start()
        prefix = str(Path(tmp) / 'locust')
        run_locust(server, setup, seconds, args.users, args.spawn_rate,
            prefix)
        sampler.stop()
        actions, errors = read_stats(prefix)
        print_report(actions, errors, sampler, seconds, args.users)
        if args.soak:
            print_series(sampler)
    if args.tracemalloc:
        print_memory_growth(args.tracemalloc)
    if args.census:
        print_census(args.census)


if __name__ == '__main__':
    main()
