# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two users acting at once, through four trytond workers on PostgreSQL."""
import threading
from decimal import Decimal

import pytest
from rpc import RPCError

SEAL_REQUEST = 'office.seal.request'
ROUNDS = 5


def run_together(*calls):
    "Run the calls in threads released at the same instant"
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = ('ok', call())
        except RPCError as e:
            results[i] = ('error', e)
    threads = [threading.Thread(target=run, args=(i, c))
        for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def seal_id(client, code):
    return client.search('office.seal', [('code', '=', code)])[0]


def steps(client, request_id, tier):
    ids = client.search('office.approval.step', [
            ('request.res_model', '=', SEAL_REQUEST),
            ('request.res_id', '=', request_id),
            ('tier_name', '=', tier)])
    return client.read('office.approval.step', ids,
        ['state', 'reviewer.rec_name', 'acted_at'])


def test_two_leaders_approve_same_tier_at_once(server):
    "或签: both leaders click at once; exactly one approval counts"
    requester = server.client('north1')
    leaders = [server.client('gm'), server.client('vgm')]
    for _ in range(ROUNDS):
        request_id, = requester.model(SEAL_REQUEST, 'create', [dict(
                    seal=seal_id(requester, 'HT'), contract=True,
                    amount=Decimal('500000'), document_title="并发合同",
                    purpose="并发测试")])
        requester.model(SEAL_REQUEST, 'submit', [request_id])
        server.client('sales_head').model(
            SEAL_REQUEST, 'approval_approve', [request_id])
        server.client('office_head').model(
            SEAL_REQUEST, 'approval_approve', [request_id])

        results = run_together(*[
                (lambda c=c: c.model(
                        SEAL_REQUEST, 'approval_approve', [request_id]))
                for c in leaders])
        outcomes = sorted(r[0] for r in results)
        assert outcomes == ['error', 'ok'], results
        error = next(r[1] for r in results if r[0] == 'error')
        # Refused by the engine, which says who decided (or, without the
        # winner's name yet, that the step is no longer his)
        assert ('Already approved by' in error.message
            or 'not the current reviewer' in error.message), error.error

        leadership = steps(requester, request_id, '领导审批')
        assert sorted(s['state'] for s in leadership) == [
            'approved', 'cancelled']
        request, = requester.read(SEAL_REQUEST, [request_id], ['state'])
        assert request['state'] == 'approved'


@pytest.fixture(scope='module')
def countersign_rule(server):
    "A rule where both leaders must approve (会签) the finance seal"
    admin = server.client('admin')
    model, = admin.search('ir.model', [('name', '=', SEAL_REQUEST)])
    users = admin.search('res.user', [('login', 'in', ['gm', 'vgm'])])
    rule_id, = admin.model('office.approval.rule', 'create', [dict(
                name="财务章会签", sequence=1, model=model,
                condition="[('seal.code', '=', 'CW')]",
                tiers=[('create', [dict(
                                name="领导会签", sequence=10,
                                reviewer_source='users', mode='all',
                                users=[('add', users)])])])])
    yield rule_id
    admin.model('office.approval.rule', 'write', [rule_id],
        {'active': False})


def test_countersign_at_once_loses_no_approval(server, countersign_rule):
    "会签: both click at once; both approvals are kept, it closes once"
    requester = server.client('fin1')
    leaders = [server.client('gm'), server.client('vgm')]
    for _ in range(ROUNDS):
        request_id, = requester.model(SEAL_REQUEST, 'create', [dict(
                    seal=seal_id(requester, 'CW'), document_title="会签",
                    purpose="并发测试")])
        requester.model(SEAL_REQUEST, 'submit', [request_id])
        results = run_together(*[
                (lambda c=c: c.model(
                        SEAL_REQUEST, 'approval_approve', [request_id]))
                for c in leaders])
        assert [r[0] for r in results] == ['ok', 'ok'], results
        assert sorted(s['state'] for s in steps(
                    requester, request_id, '领导会签')) == [
            'approved', 'approved']
        request, = requester.read(SEAL_REQUEST, [request_id],
            ['state', 'approval_state'])
        assert request['state'] == 'approved'
        # The request was closed exactly once
        requests = requester.search('office.approval.request', [
                ('res_model', '=', SEAL_REQUEST),
                ('res_id', '=', request_id)])
        assert len(requests) == 1


def test_submitted_at_once_get_distinct_numbers(server):
    clients = [server.client(login) for login in
        ['sales1', 'sales2', 'fin1', 'north1', 'clerk', 'vgm'] * 2]
    ids = []
    for client in clients:
        request_id, = client.model(SEAL_REQUEST, 'create', [dict(
                    seal=seal_id(client, 'GZ'), document_title="编号",
                    purpose="并发")])
        ids.append(request_id)
    results = run_together(*[
            (lambda c=c, i=i: c.model(SEAL_REQUEST, 'submit', [i]))
            for c, i in zip(clients, ids)])
    assert all(r[0] == 'ok' for r in results), results
    admin = server.client('office_head')
    numbers = [r['number'] for r in admin.read(SEAL_REQUEST, ids, ['number'])]
    assert None not in numbers
    assert len(set(numbers)) == len(numbers)
