# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Background work on Tryton's queue, with faults: an office action never
waits for SMTP; with SMTP stopped the mail waits in the queue and goes out
when it is back; with trytond-worker stopped the tasks wait, then run once.
Against the session's server (gunicorn + trytond-worker + trytond-cron on
PostgreSQL) and SMTP sink; each test puts them back as it found them."""
import socket
import threading
import time

import psycopg

SEAL_REQUEST = 'office.seal.request'
REVIEWER = 'sales_head@example.com'  # first reviewer of sales1's requests


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def submit(client, title):
    "Create and submit a seal request; return its id and number"
    seal, = client.search('office.seal', [('code', '=', 'GZ')])
    request_id, = client.model(SEAL_REQUEST, 'create', [dict(
                seal=seal, document_title=title, purpose="queue test")])
    client.model(SEAL_REQUEST, 'submit', [request_id])
    request, = client.read(SEAL_REQUEST, [request_id], ['number'])
    return request_id, request['number']


def mails(smtp, number):
    "How many mails about number the reviewer received"
    return sum(number in s for s in smtp.to(REVIEWER))


def query(server, sql, *params):
    with psycopg.connect(f'{server.pg_uri}/{server.database}') as conn:
        return conn.execute(sql, params).fetchall()


def deliveries(server, request_id):
    """The reviewer's e-mail of the request: [(emailed, email_error)] of its
    log and [(dequeued, finished)] of its queued tasks"""
    logs = query(server, 'SELECT l.id, l.emailed, l.email_error '
        'FROM office_notification_log l JOIN res_user u ON u.id = l.user '
        'WHERE l.resource = %s AND u.email = %s',
        f'{SEAL_REQUEST},{request_id}', REVIEWER)
    tasks = query(server, "SELECT dequeued_at IS NOT NULL, "
        "finished_at IS NOT NULL FROM ir_queue "
        "WHERE data::jsonb ->> 'method' = 'deliver' "
        "AND data::jsonb -> 'instances' = %s::jsonb ORDER BY id",
        str([i for i, _, _ in logs]))
    return [(e, r) for _, e, r in logs], tasks


def test_smtp_stopped_mail_waits_then_goes_once(server, smtp):
    sales1 = server.client('sales1')
    smtp.stop()
    try:
        request_id, number = submit(sales1, "SMTP stopped")

        def failed():
            logs, _ = deliveries(server, request_id)
            return len(logs) == 1 and not logs[0][0] and bool(logs[0][1])
        # The action succeeded; the worker tried, failed and queued the
        # mail again for later
        assert wait_for(failed)
        assert mails(smtp, number) == 0
    finally:
        smtp.start()
    assert wait_for(lambda: mails(smtp, number) == 1)
    # marked sent when the worker's transaction commits
    assert wait_for(lambda: deliveries(server, request_id)[0]
        == [(True, None)])
    logs, tasks = deliveries(server, request_id)
    # the failed try and the one that sent, both finished
    assert len(tasks) >= 2 and all(f for _, f in tasks)
    time.sleep(2)
    assert mails(smtp, number) == 1


def test_worker_stopped_tasks_wait_then_run_once(server, smtp):
    sales1 = server.client('sales1')
    server.stop_background('worker')
    try:
        submitted = [submit(sales1, f"worker stopped {i}") for i in range(2)]
        time.sleep(1)
        for request_id, number in submitted:
            logs, tasks = deliveries(server, request_id)
            assert logs == [(False, None)]
            assert tasks == [(False, False)]  # waiting, not taken
            assert mails(smtp, number) == 0
    finally:
        server.start_background('worker')
    assert wait_for(lambda: all(
            mails(smtp, number) == 1 for _, number in submitted))
    for request_id, number in submitted:
        assert wait_for(lambda: deliveries(server, request_id)[0]
            == [(True, None)])
    time.sleep(2)
    for request_id, number in submitted:
        assert mails(smtp, number) == 1
        logs, tasks = deliveries(server, request_id)
        assert tasks == [(True, True)]  # one task, run once


def test_action_does_not_wait_for_smtp(server, smtp):
    """An SMTP server that accepts connections and never answers: the
    submit returns at once (before, it waited for SMTP in the request)"""
    sales1 = server.client('sales1')
    sales1.timeout = 10
    smtp.stop()
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(('127.0.0.1', smtp.port))
    silent.listen(16)
    result = {}

    def run():
        started = time.monotonic()
        result['submitted'] = submit(sales1, "SMTP silent")
        result['seconds'] = time.monotonic() - started
    thread = threading.Thread(target=run, daemon=True)
    try:
        thread.start()
        thread.join(12)
        assert 'submitted' in result, "the submit waited for SMTP"
        assert result['seconds'] < 5
    finally:
        # Connections waiting in the backlog are reset: the worker's try
        # fails and is queued again; then SMTP is back
        silent.close()
        smtp.start()
    request_id, number = result['submitted']
    assert wait_for(lambda: mails(smtp, number) == 1)
    assert wait_for(lambda: deliveries(server, request_id)[0]
        == [(True, None)])
