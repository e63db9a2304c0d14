# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Out-of-office delegations over JSON-RPC on PostgreSQL: only the reviewer
who delegates (or an Office Administrator) creates, changes or ends one; the
substitute reads it. The windows lie in the future so that no step of the
other tests is routed."""
import datetime as dt

import pytest
from rpc import RPCError

DELEGATION = 'office.approval.delegation'
NOT_OWN = (
    "Only the reviewer who delegates or an Office Administrator can "
    "create, change or end a delegation.")


def refused(call, *args):
    with pytest.raises(RPCError) as info:
        call(*args)
    return info.value.message


def test_delegation_owned_by_the_reviewer(server):
    start = dt.datetime.now().replace(microsecond=0) + dt.timedelta(days=60)
    end = start + dt.timedelta(days=3)
    sales1 = server.client('sales1')
    head = server.client('sales_head')
    fin_head = server.client('fin_head')

    # Nobody makes himself another reviewer's substitute
    assert refused(sales1.model, DELEGATION, 'create', [dict(
                user=head.user_id, substitute=sales1.user_id,
                start=start, end=end)]) == NOT_OWN
    assert head.search(DELEGATION, [('user', '=', head.user_id)]) == []

    delegation_id, = head.model(DELEGATION, 'create', [dict(
                substitute=fin_head.user_id, start=start, end=end)])
    try:
        # The substitute reads it but neither extends, ends, deletes nor
        # copies it
        record, = fin_head.read(DELEGATION, [delegation_id], ['end'])
        assert record['end'] == end
        for values in [{'end': end + dt.timedelta(days=30)},
                {'active': False}, {'user': fin_head.user_id}]:
            assert refused(fin_head.model, DELEGATION, 'write',
                [delegation_id], values) == NOT_OWN
        assert refused(fin_head.model, DELEGATION, 'delete',
            [delegation_id]) == NOT_OWN
        assert refused(fin_head.model, DELEGATION, 'copy',
            [delegation_id], {}) == NOT_OWN
        # A colleague gets the same answer as for an id that does not exist
        assert refused(sales1.model, DELEGATION, 'write',
            [delegation_id], {'end': end}) == NOT_OWN
        assert refused(sales1.model, DELEGATION, 'write',
            [10 ** 9], {'end': end}) == NOT_OWN
        record, = head.read(DELEGATION, [delegation_id], ['end', 'active'])
        assert record == {'id': delegation_id, 'end': end, 'active': True}
        # An Office Administrator may shorten it
        server.client('office_head').model(DELEGATION, 'write',
            [delegation_id], {'end': end - dt.timedelta(days=1)})
    finally:
        head.model(DELEGATION, 'delete', [delegation_id])
    assert head.search(DELEGATION, [('user', '=', head.user_id)]) == []
