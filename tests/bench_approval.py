#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the approval engine; prints figures, asserts nothing.

    .venv/bin/python tests/bench_approval.py [--clients 20] [--per-client 10]

Starts a throw-away PostgreSQL cluster (or uses PG_URI) and trytond under
gunicorn with 4 workers on loopback, then prints, in one run:

1. one client: the mean and p50 of create+submit of a seal request and of
   its approve, against a plain create of a bare model (a calendar day);
   the ratios (goal: <= 3 each);
2. p50/p95 latency of submit and of approve over JSON-RPC with 20
   concurrent clients, and the p95 against the single-client p50
   (goal: <= 2);
3. the number of SQL statements of one approve action with 1, 1,000 and
   10,000 pending requests (goal: the same, <= 25).

With --profile, the statements of the approve counted with 1 pending
request are also printed (stderr) grouped by where they come from: the
innermost frames of office_admin and of trytond, e.g. to compare with the
breakdown of issue 12's notes:

    .venv/bin/python tests/bench_approval.py --profile"""
import argparse
import collections
import os
import random
import statistics
import sys
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from trytond.pool import Pool  # noqa: E402
from serverkit import percentile, bench_server  # noqa: E402

SEAL_REQUEST = 'office.seal.request'


def timed(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def pause(think):
    "A user's think time: uniform around think seconds (mean think)"
    if think:
        time.sleep(random.uniform(0, 2 * think))


def create_submit(client, seal_id, title):
    "Create a seal request as client and submit it; return its id"
    request_id, = client.model(SEAL_REQUEST, 'create', [dict(
                seal=seal_id, document_title=title, purpose="benchmark")])
    client.model(SEAL_REQUEST, 'submit', [request_id])
    return request_id


def concurrent(server, clients, per_client, think=0):
    requesters = ['sales1', 'sales2', 'north1']
    submit_times, approve_times = [], []
    created = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def submitter(i):
        client = server.client(requesters[i % len(requesters)])
        seal_id = client.search('office.seal', [('code', '=', 'GZ')])[0]
        barrier.wait()
        pause(think / 2)
        for n in range(per_client):
            elapsed, request_id = timed(
                lambda: create_submit(client, seal_id, f"压测 {i}-{n}"))
            with lock:
                submit_times.append(elapsed)
                created.append(request_id)
            pause(think)

    threads = [threading.Thread(target=submitter, args=(i,))
        for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    submit_wall = time.perf_counter() - start

    chunks = [created[i::clients] for i in range(clients)]
    barrier = threading.Barrier(clients)

    def approver(ids):
        client = server.client('sales_head')
        barrier.wait()
        pause(think / 2)
        for request_id in ids:
            elapsed, _ = timed(lambda: client.model(
                    SEAL_REQUEST, 'approval_approve', [request_id]))
            with lock:
                approve_times.append(elapsed)
            pause(think)

    threads = [threading.Thread(target=approver, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    approve_wall = time.perf_counter() - start
    return (submit_times, submit_wall), (approve_times, approve_wall)


def overhead(server, n=60, warm=8):
    """One client: return the latencies of a bare create, of create+submit
    and of approve (the requests approved by their department head). Each
    action first runs warm times untimed, so that every worker has served
    it once (a worker's first call of a model fills its caches)"""
    admin = server.client('office_head')
    calendar = admin.search('office.calendar', [('default', '=', True)])[0]
    import datetime as dt
    bare = []
    for i in range(warm + n):
        day = dt.date(2030, 1, 1) + dt.timedelta(days=i)
        elapsed, _ = timed(lambda: admin.model('office.calendar.day',
                'create', [dict(calendar=calendar, date=day, kind='holiday',
                        name='bench')]))
        bare.append(elapsed)
    client = server.client('sales1')
    seal_id = client.search('office.seal', [('code', '=', 'GZ')])[0]
    full, ids = [], []
    for i in range(warm + n):
        elapsed, request_id = timed(
            lambda: create_submit(client, seal_id, f"overhead {i}"))
        full.append(elapsed)
        ids.append(request_id)
    head = server.client('sales_head')
    approve = []
    for request_id in ids:
        elapsed, _ = timed(lambda: head.model(
                SEAL_REQUEST, 'approval_approve', [request_id]))
        approve.append(elapsed)
    return bare[warm:], full[warm:], approve[warm:]


def query_counts(server, many, profile=False):
    "Run count_queries in a fresh interpreter with the server's config"
    import subprocess
    result = subprocess.run(
        [sys.executable, __file__, '--count-queries', server.database,
            '--pending', str(many)] + (['--profile'] if profile else []),
        env=server.env, check=True, capture_output=True, text=True)
    if profile:
        print(result.stderr, file=sys.stderr)
    return [int(v) for v in result.stdout.split()[-5:]]


def add_pending(transaction, request_id, count):
    """Add count pending seal requests (with their approval request, step
    and involved users) copied in SQL from the pending request_id: as many
    requests waiting in the tables as a busy office has, in seconds"""
    pool = Pool()
    cursor = transaction.connection.cursor()
    Request = pool.get(SEAL_REQUEST)
    Approval = pool.get('office.approval.request')
    Step = pool.get('office.approval.step')
    Involved = pool.get('office.approval.request-res.user')

    def columns(Model, *excluded):
        cursor.execute('SELECT * FROM "%s" LIMIT 0' % Model._table)
        return [d[0] for d in cursor.description
            if d[0] not in {'id', *excluded}]

    def max_id(Model):
        cursor.execute('SELECT MAX(id) FROM "%s"' % Model._table)
        return cursor.fetchone()[0]

    def copy(Model, where, mapping, source, since):
        cols = columns(Model, *mapping)
        cursor.execute(
            'INSERT INTO "{t}" ({c}, {m}) SELECT {sc}, {v} '
            'FROM "{t}" AS o, "{s}" AS n WHERE {w} AND n.id > %s '
            'ORDER BY n.id'.format(t=Model._table,
                c=', '.join('"%s"' % c for c in cols),
                m=', '.join('"%s"' % c for c in mapping),
                sc=', '.join('o."%s"' % c for c in cols),
                v=', '.join(mapping.values()), s=source._table, w=where),
            (since,))

    approval_id, = [a.id for a in Approval.search([
                ('resource', '=', '%s,%s' % (SEAL_REQUEST, request_id))])]
    seal_since = max_id(Request)
    cols = columns(Request, 'number')
    cursor.execute(
        'INSERT INTO "{t}" ({c}, "number") SELECT {oc}, '
        "o.number || '-' || g FROM \"{t}\" AS o, "
        'generate_series(1, %s) AS g WHERE o.id = %s ORDER BY g'.format(
            t=Request._table, c=', '.join('"%s"' % c for c in cols),
            oc=', '.join('o."%s"' % c for c in cols)),
        (count, request_id))
    approval_since = max_id(Approval)
    copy(Approval, 'o.id = %d' % approval_id, {'res_id': 'n.id'},
        Request, seal_since)
    copy(Step, 'o.request = %d' % approval_id, {'request': 'n.id'},
        Approval, approval_since)
    copy(Involved, 'o.request = %d' % approval_id, {'request': 'n.id'},
        Approval, approval_since)
    for Model in [Request, Approval, Step, Involved]:
        cursor.execute('ANALYZE "%s"' % Model._table)


def rpc_context(user):
    "The context a client sends with its calls (the user's preferences)"
    context = dict(company=user.company.id, employee=user.employee.id,
        _check_access=True)
    if user.language:
        context['language'] = user.language.code
    return context


def dispatch(database, user, context, call):
    """Return call() run in a transaction of user on database as trytond's
    RPC dispatcher runs a call: started again with the locks that a
    TransactionError asks for, committed at the end"""
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        with Transaction().start(database, user,
                context=context, **extras) as transaction:
            try:
                result = call()
            except TransactionError as e:
                transaction.rollback()
                e.fix(extras)
                continue
            transaction.commit()
        return result


def count_queries(database, many, profile=False):
    """Count the SQL statements of one approve, in-process, with 1, 1,000
    and many pending requests. Each action runs in its own transaction, as over
    RPC, after two approves that warm the process's caches (a worker that
    already served). trytond logs every statement at DEBUG on its
    PostgreSQL logger. The requests are committed: the database is the
    benchmark's own."""
    import logging

    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(database)
    pool.init()

    import threading

    from trytond.cache import Cache

    class Counter(logging.Handler):
        "Count the statements of this thread but trytond's cache sync"
        count = 0
        syncing = 0
        thread = threading.get_ident()

        def __init__(self):
            super().__init__()
            self.origins = collections.Counter()
            self.statements = []

        def emit(self, record):
            if record.thread == self.thread and not Counter.syncing:
                self.count += 1
                if profile:
                    where = origin()
                    self.origins[where] += 1
                    self.statements.append(
                        (where, ' '.join(record.getMessage().split())))

    def origin():
        "The innermost frames of office_admin and of trytond, as a text"
        def short(frame):
            return '%s:%s' % (Path(frame.filename).name, frame.name)
        stack = traceback.extract_stack()
        office = [f for f in stack if '/office_admin/' in f.filename
            and '/tests/' not in f.filename]
        trytond = [f for f in stack if '/trytond/' in f.filename
            and '/backend/' not in f.filename
            and '/modules/' not in f.filename]
        return '%s | %s' % (
            ' < '.join(short(f) for f in reversed(office[-2:])) or '-',
            short(trytond[-1]) if trytond else '-')
    sql_logger = logging.getLogger('trytond.backend.postgresql.database')
    # The cache synchronisation runs when its timeout passed: a matter of
    # time, not of the approval
    sync = vars(Cache)['sync']

    def syncing(cls, transaction):
        Counter.syncing += 1
        try:
            return sync.__func__(cls, transaction)
        finally:
            Counter.syncing -= 1
    Cache.sync = classmethod(syncing)

    def approve_one(pending):
        with Transaction().start(database, 0) as transaction:
            User = pool.get('res.user')
            Request = pool.get(SEAL_REQUEST)
            Seal = pool.get('office.seal')
            sales1, = User.search([('login', '=', 'sales1')])
            head, = User.search([('login', '=', 'sales_head')])
            seal, = Seal.search([('code', '=', 'GZ')])
            # Nothing else waits: the previous phases approved theirs
            Request.approval_abandon(Request.search([
                        ('state', '=', 'submitted')]))
            with transaction.set_user(sales1.id), transaction.set_context(
                    company=sales1.company.id, employee=sales1.employee.id):
                requests = Request.create([dict(
                            company=sales1.company.id, seal=seal.id,
                            requester=sales1.employee.id,
                            department=sales1.employee.department.id,
                            document_title=f"q{i}", purpose="q")
                        for i in range(3 if pending == 1 else 4)])
                Request.submit(requests)
            if pending > 1:
                add_pending(transaction, requests[1].id, pending - 2)
            first, warm = requests[0].id, [r.id for r in requests[-2:]]
            # As an RPC call sets it
            head_id, context = head.id, rpc_context(head)
            transaction.commit()

        def approve(request_id):
            def call():
                Request = pool.get(SEAL_REQUEST)
                Request.approval_approve([Request(request_id)])
            dispatch(database, head_id, context, call)
        # Warm the caches of the process with two approves (the first
        # fills the cache of the rule's tiers, the second reads what the
        # tiers read from it need: the access to their fields)
        for request_id in warm:
            approve(request_id)
        counter = Counter()
        sql_logger.addHandler(counter)
        sql_logger.setLevel(logging.DEBUG)
        try:
            approve(first)
        finally:
            sql_logger.removeHandler(counter)
            sql_logger.setLevel(logging.WARNING)
        if profile and pending == 1:
            print(f"The {counter.count} statements of one approve, "
                "by origin (office_admin | trytond):", file=sys.stderr)
            for where, count in counter.origins.most_common():
                print(f"  {count:3}  {where}", file=sys.stderr)
            print("In order:", file=sys.stderr)
            for i, (where, statement) in enumerate(counter.statements, 1):
                print(f"  {i:3}  {where}\n       {statement[:300]}",
                    file=sys.stderr)
        return counter.count

    def create_submit():
        "The statements of a create and of a submit by the requester"
        with Transaction().start(database, 0):
            User = pool.get('res.user')
            Seal = pool.get('office.seal')
            sales1, = User.search([('login', '=', 'sales1')])
            user, seal_id = sales1.id, Seal.search([('code', '=', 'GZ')])[0].id
            context = rpc_context(sales1)

        def rpc(method, arg):
            def call():
                Request = pool.get(SEAL_REQUEST)
                records = Request.browse(arg) if method == 'submit' else arg
                result = getattr(Request, method)(records)
                return [r.id for r in result or []]
            return dispatch(database, user, context, call)

        def create():
            return rpc('create', [dict(seal=seal_id,
                        document_title="count", purpose="count")])
        for _ in range(2):
            rpc('submit', create())
        counts = []
        for call in [create, None]:
            counter = Counter()
            sql_logger.addHandler(counter)
            sql_logger.setLevel(logging.DEBUG)
            try:
                if call:
                    ids = call()
                else:
                    rpc('submit', ids)
            finally:
                sql_logger.removeHandler(counter)
                sql_logger.setLevel(logging.WARNING)
            counts.append(counter.count)
            if profile:
                name = 'create' if call else 'submit'
                print(f"The {counter.count} statements of a {name}:",
                    file=sys.stderr)
                for i, (where, statement) in enumerate(
                        counter.statements, 1):
                    print(f"  {i:3}  {where}\n       {statement[:300]}",
                        file=sys.stderr)
        return counts

    return (approve_one(1), approve_one(1000), approve_one(many),
        *create_submit())


def cpu_profile(database, rounds=40, warm=5):
    """Profile (cProfile) create+submit and approve in-process, each action
    in its own transaction as over RPC, after warm untimed rounds; print
    the functions by own time and the office_admin ones by cumulative
    time (stderr)"""
    import cProfile
    import io
    import pstats

    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0):
        User = pool.get('res.user')
        Seal = pool.get('office.seal')
        sales1, = User.search([('login', '=', 'sales1')])
        head, = User.search([('login', '=', 'sales_head')])
        seal_id = Seal.search([('code', '=', 'GZ')])[0].id
        users = {
            'sales1': (sales1.id, rpc_context(sales1)),
            'head': (head.id, rpc_context(head)),
            }

    def rpc(login, method, *args):
        """As the RPC dispatcher: restarted to take the locks asked; a list
        of ids as first argument are the instances of a button"""
        user, context = users[login]

        def call():
            Request = pool.get(SEAL_REQUEST)
            records = args
            if method != 'create':
                records = (Request.browse(args[0]),) + args[1:]
            return getattr(Request, method)(*records)
        return dispatch(database, user, context, call)

    def create_submit(i):
        request, = rpc('sales1', 'create', [dict(seal=seal_id,
                    document_title=f"profile {i}", purpose="profile")])
        rpc('sales1', 'submit', [request.id])
        return request.id

    def approve(request_id):
        rpc('head', 'approval_approve', [request_id])

    for i in range(warm):
        approve(create_submit(i))
    results = {}
    for name in ['create+submit', 'approve']:
        results[name] = cProfile.Profile()
    ids = []
    results['create+submit'].enable()
    for i in range(rounds):
        ids.append(create_submit(i))
    results['create+submit'].disable()
    results['approve'].enable()
    for request_id in ids:
        approve(request_id)
    results['approve'].disable()
    for name, profiler in results.items():
        if os.environ.get('BENCH_PROFILE_DIR'):
            # For pstats' callers and callees
            profiler.dump_stats(os.path.join(os.environ['BENCH_PROFILE_DIR'],
                    name.replace('+', '_') + '.prof'))
        for sort, restriction in [('tottime', 30),
                ('cumulative', '/office_admin/')]:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(sort)
            if isinstance(restriction, str):
                stats.print_stats(restriction, 40)
            else:
                stats.print_stats(restriction)
            print(f"=== {name}, {rounds} rounds, by {sort} ===",
                file=sys.stderr)
            print(out.getvalue(), file=sys.stderr)


def print_counts(one, thousand, many, create, submit, pending):
    print(f"SQL statements of one approve: {one} with 1 pending "
        f"request, {thousand} with 1,000, {many} with {pending:,} pending; "
        f"of a create {create} and of its submit {submit}")


def print_latencies(name, values, reference=None):
    "reference: the bare create's latencies, for the ratios of mean and p50"
    mean = statistics.mean(values)
    line = (f"  {name:14} n={len(values):4}  mean={mean * 1000:7.1f} ms  "
        f"p50={percentile(values, 50) * 1000:7.1f} ms  "
        f"p95={percentile(values, 95) * 1000:7.1f} ms")
    if reference is not None:
        line += (f"  ratio mean={mean / statistics.mean(reference):4.1f}"
            f" p50={percentile(values, 50) / percentile(reference, 50):4.1f}")
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', type=int, default=20)
    parser.add_argument('--per-client', type=int, default=10)
    parser.add_argument('--think', type=float, default=0,
        help="mean seconds a client waits between its actions, drawn "
        "uniformly from 0 to twice it (0: none)")
    parser.add_argument('--pending', type=int, default=10000,
        help="pending requests of the second SQL count")
    parser.add_argument('--count-queries', metavar='DATABASE',
        help=argparse.SUPPRESS)
    parser.add_argument('--profile', action='store_true',
        help="print the statements of one approve by origin (stderr)")
    parser.add_argument('--cprofile', action='store_true',
        help="profile create+submit and approve in-process (stderr; "
        "BENCH_PROFILE_DIR=DIR also saves the profiles there for pstats)")
    parser.add_argument('--sql-only', action='store_true',
        help="only count the statements (no latency runs)")
    args = parser.parse_args()
    if args.count_queries and args.cprofile:
        cpu_profile(args.count_queries)
        return
    if args.count_queries:
        print(*count_queries(args.count_queries, args.pending,
                profile=args.profile))
        return
    with bench_server('office_bench') as (server, tmp):
        if args.cprofile:
            import subprocess
            subprocess.run([sys.executable, __file__, '--count-queries',
                    server.database, '--cprofile'], env=server.env,
                check=True)
            return
        if args.sql_only:
            one, thousand, many, create, submit = query_counts(
                server, args.pending, profile=args.profile)
            print_counts(one, thousand, many, create, submit, args.pending)
            return
        bare, full, approve = overhead(server)
        print("JSON-RPC, one client, 4 gunicorn workers, PostgreSQL:")
        print_latencies('bare create', bare)
        print_latencies('create+submit', full, bare)
        print_latencies('approve', approve, bare)
        single = {'create+submit': percentile(full, 50),
            'approve': percentile(approve, 50)}
        submit, approve = concurrent(
            server, args.clients, args.per_client, args.think)
        print(f"JSON-RPC, {args.clients} concurrent clients "
            f"(think time {args.think} s), 4 gunicorn workers, PostgreSQL:")
        for name, (values, wall) in [
                ('create+submit', submit), ('approve', approve)]:
            print_latencies(name, values)
            throughput = len(values) / wall
            # With no think time the clients keep every worker busy: the
            # latency is then the clients over the throughput (Little's law)
            print(f"    p95 / single-client p50 = "
                f"{percentile(values, 95) / single[name]:.1f}; "
                f"throughput {throughput:.1f}/s")
        one, thousand, many, create, submit = query_counts(
            server, args.pending, profile=args.profile)
        print_counts(one, thousand, many, create, submit, args.pending)


if __name__ == '__main__':
    main()
