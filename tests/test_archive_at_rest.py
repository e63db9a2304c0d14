# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Encryption at rest of archive files on PostgreSQL with several workers:
a file uploaded while its entry was internal leaves no plaintext in the
database dump nor in the filestore once the entry is raised to secret, and
still downloads (watermarked) for a cleared user."""
import base64
import io
import os
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

PG_DUMP = '/usr/lib/postgresql/15/bin/pg_dump'


def as_bytes(data):
    return {'__class__': 'bytes', 'base64': base64.b64encode(data).decode()}


def found_in_dump(server, needles):
    dump = subprocess.run(
        [PG_DUMP, '--data-only', f'{server.pg_uri}/{server.database}'],
        check=True, stdout=subprocess.PIPE).stdout
    return [n for n in needles if n in dump]


def found_in_filestore(server, needle):
    root = Path(server.env['TRYTOND_CONFIG']).parent / 'filestore'
    return [p for p in root.rglob('*')
        if p.is_file() and needle in p.read_bytes()]


def pdf_text(data):
    return ''.join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope='module')
def office_head(server):
    return server.client('office_head')


def new_entry(client, title, secrecy, name, data):
    department, = client.search('office.department', [('code', '=', 'OFF')])
    doc_type = client.search('office.document.type', [])[0]
    entry, = client.model('office.archive', 'create', [{
                'company': client.context['company'],
                'year': 2026, 'department': department, 'type': doc_type,
                'title': title, 'secrecy': secrecy,
                'files': [('create', [{
                                'name': name, 'data': as_bytes(data)}])],
                }])
    file, = client.search('office.archive.file', [('archive', '=', entry)])
    return entry, file


def test_raised_to_secret_leaves_no_plaintext(server, office_head):
    marker = b'ATREST-' + os.urandom(8).hex().encode()
    text = b'Minutes of the office meeting ' + marker + b'\n'
    needles = [marker, marker.hex().encode()]
    entry, file = new_entry(
        office_head, "At rest", 'internal', 'minutes.txt', text)
    # The check finds the plaintext while the entry is internal
    assert found_in_filestore(server, marker)

    office_head.model('office.archive', 'write', [entry],
        {'secrecy': 'secret'})

    assert found_in_dump(server, needles) == []
    assert found_in_filestore(server, marker) == []
    stored, = office_head.read('office.archive.file', [file],
        ['encrypted', 'stored_digest', 'size'])
    assert stored['encrypted'] is True
    assert stored['size'] == len(text)

    # A cleared user still downloads it, as a watermarked PDF
    data, = office_head.read('office.archive.file', [file], ['data'])
    content = pdf_text(data['data'])
    assert marker.decode() in content
    assert '(office_head)' in content


def test_text_of_confidential_entry_is_watermarked(server, office_head):
    marker = b'CONF-' + os.urandom(8).hex().encode()
    _, file = new_entry(office_head, "Confidential text", 'confidential',
        'report.txt', b'Quarterly figures ' + marker)
    data, = office_head.read('office.archive.file', [file], ['data'])
    assert data['data'].startswith(b'%PDF')
    content = pdf_text(data['data'])
    assert marker.decode() in content
    assert '(office_head)' in content
