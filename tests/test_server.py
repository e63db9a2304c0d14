# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The seal-request flow over JSON-RPC against a real trytond on
PostgreSQL, with e-mails received by a real SMTP server, and what an
unprivileged user cannot do through RPC."""
import time

import pytest
from rpc import RPCError

SEAL_REQUEST = 'office.seal.request'


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def seal_id(client, code):
    ids = client.search('office.seal', [('code', '=', code)])
    assert len(ids) == 1
    return ids[0]


def new_request(client, title, code='GZ', **values):
    values = dict(seal=seal_id(client, code), document_title=title,
        purpose="RPC test", **values)
    request_id, = client.model(SEAL_REQUEST, 'create', [values])
    client.model(SEAL_REQUEST, 'submit', [request_id])
    return request_id


@pytest.fixture(scope='module')
def submitted(server, smtp):
    sales1 = server.client('sales1')
    request_id = new_request(sales1, "RPC 用印申请")
    return request_id


def test_submit_notifies_reviewer_by_mail(server, smtp, submitted):
    sales1 = server.client('sales1')
    request, = sales1.read(SEAL_REQUEST, [submitted],
        ['state', 'number', 'approval_current'])
    assert request['state'] == 'submitted'
    assert request['approval_current'] == '周杰'
    assert wait_for(lambda: any(
            request['number'] in s for s in smtp.to('sales_head@example.com')))
    # Later tiers are not told yet
    assert not any(request['number'] in s
        for s in smtp.to('office_head@example.com'))


def test_other_employee_cannot_find_read_or_export(server, submitted):
    sales2 = server.client('sales2')
    assert sales2.search(SEAL_REQUEST, [('id', '=', submitted)]) == []
    assert sales2.model(SEAL_REQUEST, 'search_count',
        [('document_title', 'ilike', '%RPC%')]) == 0
    assert sales2.model(SEAL_REQUEST, 'search', [
            ('rec_name', 'ilike', '%RPC%')], 0, None, None) == []
    with pytest.raises(RPCError) as info:
        sales2.read(SEAL_REQUEST, [submitted], ['document_title'])
    assert 'Office Seal Request' in info.value.message, info.value.error
    with pytest.raises(RPCError):
        sales2.model(SEAL_REQUEST, 'export_data', [submitted],
            ['document_title'], {})
    # A user of another department neither
    fin1 = server.client('fin1')
    assert fin1.search(SEAL_REQUEST, [('id', '=', submitted)]) == []
    # Nor through the approval history
    assert sales2.search('office.approval.step', [
            ('request.res_id', '=', submitted)]) == []


def test_nobody_approves_another_reviewer_step(server, submitted):
    head = server.client('sales_head')
    step_ids = head.search('office.approval.step', [
            ('request.res_id', '=', submitted),
            ('request.res_model', '=', SEAL_REQUEST),
            ('state', '=', 'pending')])
    assert len(step_ids) == 1
    for login in ['sales1', 'sales2', 'office_head']:
        client = server.client(login)
        with pytest.raises(RPCError):
            client.model('office.approval.step', 'approve', step_ids)
        with pytest.raises(RPCError):
            client.model(SEAL_REQUEST, 'approval_approve', [submitted])
    # The history is an audit trail: nobody writes or deletes it
    for login in ['sales_head', 'office_head', 'admin']:
        client = server.client(login)
        with pytest.raises(RPCError):
            client.model('office.approval.step', 'write', step_ids,
                {'state': 'approved'})
        with pytest.raises(RPCError):
            client.model('office.approval.step', 'delete', step_ids)
    step, = head.read('office.approval.step', step_ids, ['state'])
    assert step['state'] == 'pending'


def test_user_cannot_raise_own_clearance(server):
    sales2 = server.client('sales2')
    with pytest.raises(RPCError):
        sales2.model('res.user', 'write', [sales2.user_id],
            {'clearance': 'top_secret'})
    # Preferences ignore what is not a preference
    try:
        sales2.call('model.res.user.set_preferences',
            {'clearance': 'top_secret'}, sales2.context)
    except RPCError:
        pass
    admin = server.client('office_head')
    user, = admin.read('res.user', [sales2.user_id], ['clearance'])
    assert user['clearance'] == 'public'


def test_secret_request_hidden_from_lower_clearance(server):
    # The sales head (confidential) writes a confidential request; his
    # employee sales1 (internal) does not see it, the office head (secret)
    # does.
    head = server.client('sales_head')
    request_id, = head.model(SEAL_REQUEST, 'create', [dict(
                seal=seal_id(head, 'GZ'), document_title="人事调整（秘密）",
                purpose="内部", secrecy='confidential')])
    assert server.client('sales1').search(
        SEAL_REQUEST, [('id', '=', request_id)]) == []
    assert server.client('office_head').search(
        SEAL_REQUEST, [('id', '=', request_id)]) == [request_id]
    # Nobody creates above his own clearance
    sales1 = server.client('sales1')
    with pytest.raises(RPCError):
        sales1.model(SEAL_REQUEST, 'create', [dict(
                    seal=seal_id(sales1, 'GZ'), document_title="越权",
                    purpose="x", secrecy='secret')])


def test_full_flow_over_rpc(server, smtp, submitted):
    server.client('sales_head').model(SEAL_REQUEST, 'approval_approve',
        [submitted])
    server.client('office_head').model(SEAL_REQUEST, 'approval_approve',
        [submitted])
    clerk = server.client('clerk')
    clerk.model(SEAL_REQUEST, 'use', [submitted])
    request, = clerk.read(SEAL_REQUEST, [submitted],
        ['state', 'used_copies', 'number'])
    assert request['state'] == 'used'
    assert wait_for(lambda: any(
            'is approved' in s and request['number'] in s
            for s in smtp.to('sales1@example.com')))
