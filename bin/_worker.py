# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The office's queue worker: bin/demo, the tests' server and the README's
deployment run it instead of trytond-worker (same arguments).

trytond 8.0's worker does not run on SQLite: it waits for PostgreSQL's
NOTIFY with a selector on its connection ("Invalid file object" at start)
and its pull query fails on SQLite ("no such table: a") after marking the
task as taken, so the task never runs. This one polls: every `--timeout`
seconds it takes the next due task (`ir.queue`, in one IMMEDIATE
transaction: two pollers never take the same task) and runs it with
trytond's own `run_task` (its retries and error reports included), one at
a time. On PostgreSQL it runs trytond-worker's own loop and starts it
again when its connection breaks (see `_postgresql`). Same arguments."""
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


class _Reconnect(Exception):
    "The worker's listening connection is gone: start the worker again"


def _postgresql(options):
    """Run trytond-worker, started again when its connection breaks.

    trytond 8.0's worker opens one connection at start (to pull tasks and
    LISTEN for new ones) and never replaces it: after PostgreSQL restarts
    or fails over, it loops on the dead connection and runs nothing more.
    Here a pull on a broken connection ends `work()` (its process pool
    finishes the running tasks) and a new one starts with new
    connections, once the database answers again."""
    from trytond import commandline, worker
    from trytond.backend import DatabaseOperationalError
    from trytond.pool import Pool
    commandline.config_log(options)
    pull = worker.Queue.pull

    def checked_pull(self, name=None):
        try:
            return pull(self, name=name)
        except DatabaseOperationalError:
            if self.connection.broken or self.connection.closed:
                try:
                    self.database.put_connection(self.connection)
                except Exception:
                    pass
                raise _Reconnect
            raise
    worker.Queue.pull = checked_pull
    with commandline.pidfile(options):
        Pool.start()
        while True:
            try:
                worker.work(options)
                return
            except (KeyboardInterrupt, SystemExit):
                return
            except _Reconnect:
                worker.logger.warning(
                    "connection to the database lost, reconnecting")
            except Exception as exception:
                # The database does not answer yet (restart, fail-over)
                worker.logger.warning("cannot start: %s", exception)
            time.sleep(2)


def main():
    from trytond import commandline, config
    options = commandline.get_parser_worker().parse_args()
    config.update_etc(options.configfile)
    from trytond import backend
    if backend.name != 'sqlite':
        return _postgresql(options)
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
