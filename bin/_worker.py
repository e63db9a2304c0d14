# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""trytond-worker for the SQLite demo (used by bin/demo).

trytond 8.0's worker does not run on SQLite: it waits for PostgreSQL's
NOTIFY with a selector on its connection ("Invalid file object" at start)
and its pull query fails on SQLite ("no such table: a") after marking the
task as taken, so the task never runs. This one polls: every `--timeout`
seconds it takes the next due task (`ir.queue`, in one IMMEDIATE
transaction: two pollers never take the same task) and runs it with
trytond's own `run_task` (its retries and error reports included), one at
a time. On PostgreSQL it hands over to trytond-worker. Same arguments."""
import datetime as dt
import sys
import time


def _pull(pool):
    "Take the next due task of pool's database; return its id or None"
    from trytond.transaction import Transaction
    with Transaction().start(pool.database_name, 0) as transaction:
        Queue = pool.get('ir.queue')
        now = dt.datetime.now()
        tasks = Queue.search([
                ('dequeued_at', '=', None),
                ['OR',
                    ('scheduled_at', '=', None),
                    ('scheduled_at', '<=', now),
                    ],
                ], order=[('scheduled_at', 'ASC NULLS FIRST'),
                ('expected_at', 'ASC NULLS FIRST'), ('id', 'ASC')], limit=1)
        if not tasks:
            return None
        Queue.write(tasks, {'dequeued_at': now})
        transaction.commit()
        return tasks[0].id


def main():
    from trytond import commandline, config
    options = commandline.get_parser_worker().parse_args()
    config.update_etc(options.configfile)
    from trytond import backend
    if backend.name != 'sqlite':
        from trytond.cli.worker import main as worker
        sys.argv[0] = 'trytond-worker'
        return worker()
    from trytond import worker
    from trytond.backend import DatabaseOperationalError
    commandline.config_log(options)
    if not config.getboolean('queue', 'worker', default=False):
        return
    pools = worker.initializer(options, worker=False)
    worker.logger.info("polling %s every %s s",
        ', '.join(options.database_names), options.timeout)
    while True:
        ran = False
        for pool in pools:
            try:
                task_id = _pull(pool)
            except DatabaseOperationalError:
                continue
            if task_id:
                worker.run_task(pool, task_id)
                ran = True
        if not ran:
            time.sleep(options.timeout)


if __name__ == '__main__':
    sys.exit(main())
