# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Visitors' ID numbers on PostgreSQL with several workers: the front desk
reads only the masked form over RPC (read, search_read, export), nobody
searches on the number, an employee who is not the host sees neither the
visit nor the visitor, the Office Administrator reads the number in full,
and neither the database dump nor the filestore holds it in clear."""
import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from rpc import RPCError

PG_DUMP = '/usr/lib/postgresql/15/bin/pg_dump'


def found_in_dump(server, needles):
    dump = subprocess.run(
        [PG_DUMP, '--data-only', f'{server.pg_uri}/{server.database}'],
        check=True, stdout=subprocess.PIPE).stdout
    return [n for n in needles if n in dump]


def found_in_filestore(server, needle):
    root = Path(server.env['TRYTOND_CONFIG']).parent / 'filestore'
    if not root.exists():
        return []
    return [p for p in root.rglob('*')
        if p.is_file() and needle in p.read_bytes()]


@pytest.fixture(scope='module')
def visit(server):
    "A visit of sales1 with a visitor whose ID number is random"
    host = server.client('sales1')
    number = '3101011990' + os.urandom(4).hex().upper()
    visitor, = host.model('office.visitor', 'create', [{
                'company': host.context['company'],
                'name': "隐私测试访客", 'organization': "测试公司",
                'mobile': '139' + str(int.from_bytes(os.urandom(3)))[:8],
                'id_type': 'resident_id', 'id_number': number}])
    employee, = host.read('company.employee', [host.context['employee']],
        ['department'])
    now = dt.datetime.utcnow().replace(microsecond=0)
    visit, = host.model('office.visit', 'create', [{
                'company': host.context['company'],
                'host': employee['id'], 'department': employee['department'],
                'arrival_from': now + dt.timedelta(minutes=5),
                'arrival_to': now + dt.timedelta(hours=2),
                'purpose': "隐私测试",
                'lines': [('create', [{'visitor': visitor}])]}])
    return {'visit': visit, 'visitor': visitor, 'number': number}


def masked(number):
    return '*' * (len(number) - 4) + number[-4:]


def test_front_desk_reads_masked(server, visit):
    clerk = server.client('clerk')
    number = visit['number']
    record, = clerk.read('office.visitor', [visit['visitor']],
        ['id_number', 'name'])
    assert record['id_number'] == masked(number)
    listed = clerk.search('office.visitor',
        [('id', '=', visit['visitor'])], ['id_number'])
    assert [r['id_number'] for r in listed] == [masked(number)]
    exported = clerk.model('office.visitor', 'export_data',
        [visit['visitor']], ['name', 'id_number'])
    assert exported == [["隐私测试访客", masked(number)]]
    # Nobody searches on the number (it would confirm guesses)
    for login in ['clerk', 'office_head']:
        with pytest.raises(RPCError):
            server.client(login).search('office.visitor',
                [('id_number', '=', number)])
    # The stored columns are not fields: no RPC path reaches them
    for field in ['id_cipher', 'id_key']:
        with pytest.raises(RPCError):
            clerk.read('office.visitor', [visit['visitor']], [field])
    # The host reads the masked form too
    host = server.client('sales1')
    record, = host.read('office.visitor', [visit['visitor']], ['id_number'])
    assert record['id_number'] == masked(number)
    # Only an Office Administrator reads it in full
    head = server.client('office_head')
    record, = head.read('office.visitor', [visit['visitor']], ['id_number'])
    assert record['id_number'] == number


def test_other_employee_sees_nothing(server, visit):
    other = server.client('fin1')
    assert other.search('office.visit', [('id', '=', visit['visit'])]) == []
    assert other.search(
        'office.visitor', [('id', '=', visit['visitor'])]) == []
    assert other.search('office.visit.line', []) == []
    with pytest.raises(RPCError):
        other.read('office.visit', [visit['visit']], ['purpose'])
    with pytest.raises(RPCError):
        other.read('office.visitor', [visit['visitor']], ['id_number'])
    with pytest.raises(RPCError):
        other.model('office.visitor', 'export_data',
            [visit['visitor']], ['id_number'])


def test_no_plaintext_at_rest(server, visit):
    number = visit['number'].encode()
    needles = [number, number.hex().encode(), number[-10:]]
    assert found_in_dump(server, needles) == []
    assert found_in_filestore(server, number) == []
    # The check would find it: the dump holds the visitor's name
    assert found_in_dump(server, ["隐私测试访客".encode()])
