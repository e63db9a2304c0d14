# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""bin/backup and bin/restore: a backup of the demo database with a secret
(encrypted) archive file restores into a second PostgreSQL cluster with the
same rows and files; without the archive key the secret file stays
unreadable with a clear message and everything else works; a non-empty
database is refused; a file missing from the filestore is named."""
import base64
import hashlib
import json
import os
import subprocess
import tarfile
import time
from pathlib import Path

import psycopg
import pytest

import pgcluster
from rpc import RPCError
from serverkit import ROOT, Server, _gunicorn, free_port, write_config


def as_bytes(data):
    return {'__class__': 'bytes', 'base64': base64.b64encode(data).decode()}


def run(command, env, *args):
    return subprocess.run([ROOT / 'bin' / command, *map(str, args)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


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
    return file


def stored_path(server, file_id):
    root = server.directory / 'filestore' / server.database
    return root / file_id[:2] / file_id[2:4] / file_id


def test_backup_restore_into_new_cluster(server, smtp, tmp_path):
    office_head = server.client('office_head')
    secret_text = b'Secret minutes ' + os.urandom(8).hex().encode()
    plain_text = b'Internal minutes ' + os.urandom(8).hex().encode()
    secret = new_entry(office_head, "Backup secret", 'secret',
        'secret.txt', secret_text)
    plain = new_entry(office_head, "Backup internal", 'internal',
        'plain.txt', plain_text)
    key = server.env['OFFICE_ARCHIVE_KEY']

    backup = tmp_path / 'office.tar'
    start = time.monotonic()
    result = run('backup', server.env, '-d', server.database, '-o', backup)
    print(f"\nbin/backup: {time.monotonic() - start:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'encrypted with the archive key' in result.stdout

    # The archive key is nowhere in the backup
    raw = backup.read_bytes()
    assert key.encode() not in raw
    assert base64.b64decode(key) not in raw
    with tarfile.open(backup) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile('manifest.json'))
    assert {'manifest.json', 'database.dump'} <= set(names)
    assert manifest['complete'] and not manifest['missing_files']
    assert manifest['tables']['office_archive_file'] >= 2
    assert manifest['tables']['res_user'] > 5
    # Every file as stored: the secret one as ciphertext
    with psycopg.connect(f'{server.pg_uri}/{server.database}') as conn:
        stored = dict(conn.execute(
                'SELECT id, content_id FROM office_archive_file '
                'WHERE id IN (%s, %s)', (secret, plain)).fetchall())
    files = {f['id']: f for f in manifest['files']}
    for record in (secret, plain):
        path = stored_path(server, stored[record])
        entry = files[stored[record]]
        assert entry['sha256'] == hashlib.sha256(
            path.read_bytes()).hexdigest()
    assert files[stored[secret]]['encrypted']
    assert not files[stored[plain]]['encrypted']

    # A second cluster and filestore, as a new machine; no archive key
    pg_dir = tmp_path / 'pg2'
    uri = pgcluster.start(pg_dir)
    other = None
    try:
        directory = tmp_path / 'restored'
        directory.mkdir()
        port = free_port()
        conf = write_config(directory, uri, smtp.uri, port)
        env = dict(server.env, TRYTOND_CONFIG=str(conf),
            TRYTOND_DATABASE_NAMES='office_restored')
        env.pop('OFFICE_ARCHIVE_KEY')
        start = time.monotonic()
        result = run('restore', env, '-d', 'office_restored', backup)
        print(f"bin/restore: {time.monotonic() - start:.1f} s")
        print(result.stdout)
        assert result.returncode == 0, result.stdout + result.stderr
        assert 'verified: row counts and checksums match' in result.stdout
        assert 'stay unreadable: No archive key is configured' \
            in result.stdout

        # Counts and checksums, checked here too
        with psycopg.connect(f'{uri}/office_restored') as conn:
            for table in ('office_archive_file', 'res_user',
                    'office_seal_request', 'ir_attachment'):
                count, = conn.execute(
                    f'SELECT count(*) FROM {table}').fetchone()
                assert count == manifest['tables'][table], table
        restored = directory / 'filestore' / 'office_restored'
        for file in manifest['files']:
            path = restored / Path(file['path']).relative_to(
                server.database)
            assert hashlib.sha256(
                path.read_bytes()).hexdigest() == file['sha256']

        # The restored database serves; the secret file says why not
        process = _gunicorn(directory, port, env, 1)
        other = process
        restored_server = Server(f'http://127.0.0.1:{port}',
            'office_restored', uri, env)
        head = restored_server.client('office_head')
        data, = head.read('office.archive.file', [plain], ['data'])
        assert data['data'] == plain_text
        with pytest.raises(RPCError) as error:
            head.read('office.archive.file', [secret], ['data'])
        assert 'No archive key is configured' in error.value.message
        assert head.search('office.department', [])
        other_file = new_entry(head, "After restore", 'internal',
            'new.txt', b'Written after the restore')
        data, = head.read('office.archive.file', [other_file], ['data'])
        assert data['data'] == b'Written after the restore'

        # A database that is not empty is refused, nothing changes
        result = run('restore', env, '-d', 'office_restored', backup)
        assert result.returncode == 1
        assert 'refused: the database office_restored is not empty' \
            in result.stderr
        data, = head.read('office.archive.file', [plain], ['data'])
        assert data['data'] == plain_text
    finally:
        if other:
            other.terminate()
            other.wait(10)
        pgcluster.stop(pg_dir)


def test_backup_names_missing_files(server, tmp_path):
    office_head = server.client('office_head')
    file = new_entry(office_head, "Backup missing", 'internal',
        'lost.txt', b'Soon lost')
    with psycopg.connect(f'{server.pg_uri}/{server.database}') as conn:
        file_id, = conn.execute(
            'SELECT content_id FROM office_archive_file WHERE id = %s',
            (file,)).fetchone()
    path = stored_path(server, file_id)
    kept = path.read_bytes()
    path.unlink()
    try:
        backup = tmp_path / 'incomplete.tar'
        result = run(
            'backup', server.env, '-d', server.database, '-o', backup)
    finally:
        path.write_bytes(kept)
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'INCOMPLETE: 1 stored file(s)' in result.stdout
    assert (f'missing {server.database}/{file_id} '
        f'(office_archive_file.content_id of record {file})') in result.stdout
    with tarfile.open(backup) as tar:
        manifest = json.load(tar.extractfile('manifest.json'))
    assert manifest['complete'] is False
    assert [m['id'] for m in manifest['missing_files']] == [file_id]
