# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""trytond's HTTP data route (/<db>/data/<model>, the CSV export the web
client links to) refuses what read refuses: the records of a secret seal
request's approval and a secret archive with its attachment and note, to a
public-clearance employee logged in with his session."""
import base64
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

MARKER = 'ZX-ROUTE-SECRET'


def data_route(server, client, model, domain, fields):
    query = [('d', json.dumps(domain)), ('l', 'en')]
    query += [('f', f) for f in fields]
    url = '%s/%s/data/%s?%s' % (server.url, server.database, model,
        urllib.parse.urlencode(query))
    request = urllib.request.Request(url, headers={
            'Authorization': f'Session {client.session}'})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors='replace')


@pytest.fixture(scope='module')
def secret(server):
    "A secret seal request submitted by vgm and a secret archive of OFF"
    vgm = server.client('vgm')
    seal, = vgm.search('office.seal', [('code', '=', 'GZ')])
    request_id, = vgm.model('office.seal.request', 'create', [{
                'seal': seal, 'document_title': MARKER + ' 协议',
                'purpose': "route test", 'secrecy': 'secret'}])
    vgm.model('office.seal.request', 'submit', [request_id])
    approval, = vgm.search('office.approval.request', [
            ('res_model', '=', 'office.seal.request'),
            ('res_id', '=', request_id)])
    steps = vgm.search('office.approval.step', [('request', '=', approval)])
    assert steps

    office_head = server.client('office_head')
    department, = office_head.search(
        'office.department', [('code', '=', 'OFF')])
    type_ = office_head.search('office.document.type', [])[0]
    archive, = office_head.model('office.archive', 'create', [{
                'year': dt.date.today().year, 'department': department,
                'type': type_, 'title': MARKER + ' 档案',
                'secrecy': 'secret'}])
    resource = 'office.archive,%s' % archive
    attachment, = office_head.model('ir.attachment', 'create', [{
                'resource': resource, 'name': 'plan.txt',
                'data': {'__class__': 'bytes', 'base64': base64.b64encode(
                        (MARKER + ' bytes').encode()).decode()}}])
    note, = office_head.model('ir.note', 'create', [{
                'resource': resource, 'message': MARKER + ' note'}])
    return {
        'request': request_id, 'approval': approval, 'steps': steps,
        'archive': archive, 'attachment': attachment, 'note': note,
        }


@pytest.mark.parametrize('model,key,fields', [
        ('office.seal.request', 'request', ['document_title']),
        ('office.approval.request', 'approval', ['rec_name', 'steps/comment']),
        ('office.approval.step', 'steps', ['tier_name', 'request/rec_name']),
        ('office.archive', 'archive', ['title']),
        ('ir.attachment', 'attachment', ['name', 'data']),
        ('ir.attachment', 'attachment', ['name', 'resource/title']),
        ('ir.note', 'note', ['message']),
        ])
def test_data_route_refuses_hidden_records(
        server, secret, model, key, fields):
    sales2 = server.client('sales2')
    ids = secret[key] if isinstance(secret[key], list) else [secret[key]]
    status, body = data_route(server, sales2, model, ids, fields)
    assert status in {400, 403}, (status, body[:300])
    assert MARKER not in body
    assert 'Traceback' not in body


def test_data_route_search_hides_records(server, secret):
    sales2 = server.client('sales2')
    for model, domain, fields in [
            ('office.approval.step', [], ['tier_name', 'request/rec_name']),
            ('ir.attachment',
                [('resource', '=', 'office.archive,%s' % secret['archive'])],
                ['name', 'data']),
            ('ir.note', [], ['message']),
            ]:
        status, body = data_route(server, sales2, model, domain, fields)
        assert status == 200, (model, status, body[:300])
        assert MARKER not in body


def test_data_route_invalid_path_is_a_clear_error(server, secret):
    vgm = server.client('vgm')
    status, body = data_route(
        server, vgm, 'office.approval.step', secret['steps'],
        ['request.rec_name'])
    assert status == 400, (status, body[:300])
    assert 'AttributeError' not in body
    assert 'cannot be exported' in body


def test_data_route_owners_export(server, secret):
    vgm = server.client('vgm')
    status, body = data_route(
        server, vgm, 'office.approval.step', secret['steps'],
        ['tier_name', 'request/rec_name'])
    assert status == 200, (status, body[:300])
    assert len(body.strip().splitlines()) == 1 + len(secret['steps'])
    office_head = server.client('office_head')
    status, body = data_route(
        server, office_head, 'ir.note', [secret['note']], ['message'])
    assert status == 200, (status, body[:300])
    assert MARKER + ' note' in body


def test_notes_on_models_one_cannot_access_are_left_out(server):
    """A note on a record of a model the employee may not access at all
    (a department budget) is left out of his notes; his list and the data
    route keep working (trytond's resource check raised instead)"""
    admin = server.client('admin')
    department = admin.search('office.department', [])[0]
    company = admin.search('company.company', [])[0]
    budget, = admin.model('office.supply.budget', 'create', [{
                'company': company, 'department': department,
                'year': 2199, 'amount': '10.00'}])
    admin.model('ir.note', 'create', [{
                'resource': 'office.supply.budget,%s' % budget,
                'message': MARKER + ' budget note'}])
    sales2 = server.client('sales2')
    assert MARKER + ' budget note' not in str(
        sales2.model('ir.note', 'search_read', [], 0, None, None,
            ['message']))
    status, body = data_route(server, sales2, 'ir.note', [], ['message'])
    assert status == 200, (status, body[:300])
    assert MARKER not in body
