# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Fifty signed outgoing documents of one type issued at the same time get
fifty distinct consecutive numbers (PostgreSQL, four workers)."""
import datetime as dt

from test_concurrency import run_together

COUNT = 50


def test_fifty_documents_issued_at_once(server):
    admin = server.client('admin')
    type_id, = admin.model('office.document.type', 'create', [dict(
                name="通报", code='circular', direction='outgoing',
                prefix='测')])
    model, = admin.search('ir.model', [('name', '=', 'office.document.outgoing')])
    # A rule without tiers: submitting signs at once
    admin.model('office.approval.rule', 'create', [dict(
                name="通报免审", sequence=1, model=model,
                condition="[('type.code', '=', 'circular')]")])
    clerk = server.client('clerk')
    ids = clerk.model('office.document.outgoing', 'create', [dict(
                type=type_id, title=f"通报 {i}", main_recipients="各部门",
                secrecy='internal') for i in range(COUNT)])
    clerk.model('office.document.outgoing', 'submit', ids)
    states = {d['state'] for d in clerk.read(
            'office.document.outgoing', ids, ['state'])}
    assert states == {'signed'}, states
    issuers = [server.client(login) for login in ['clerk', 'office_head']]
    results = run_together(*[
            (lambda c=issuers[i % 2], d=d: c.model(
                    'office.document.outgoing', 'issue', [d]))
            for i, d in enumerate(ids)])
    assert all(r[0] == 'ok' for r in results), [
        r[1].error for r in results if r[0] == 'error'][:3]
    numbers = [d['number'] for d in clerk.read(
            'office.document.outgoing', ids, ['number'])]
    year = dt.date.today().year
    assert sorted(numbers) == sorted(
        f'测〔{year}〕{n}号' for n in range(1, COUNT + 1))
