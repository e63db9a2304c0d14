# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The README's PostgreSQL recipe, followed as written: steps 3 to 7 run in
bash on a throw-away cluster with password authentication (only paths,
ports and the number of workers are changed); steps 1 and 2 (network
installs) are checked by what they leave. Prints the time of each step."""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pgcluster
from rpc import Client
from serverkit import ROOT, free_port

SUPERUSER_PASSWORD = 'postgres-Pass-2026'


def recipe_steps():
    """The steps of the README's recipe: {label: text}, in order"""
    readme = (ROOT / 'README.md').read_text()
    section = readme.split('## Running on PostgreSQL with several workers',
        1)[1]
    block = re.search(r'```sh\n(.*?)```', section, re.S).group(1)
    steps, label = {}, None
    for line in block.splitlines(keepends=True):
        match = re.match(r'# (\d)\. |# (Optional)', line)
        if match:
            label = match.group(1) or match.group(2)
            steps[label] = ''
        steps[label] += line
    return steps


def start_cluster(directory):
    """A cluster whose superuser is postgres and where every role logs in
    with a password (scram-sha-256), on a free loopback port"""
    bindir = pgcluster._bindir()
    data = directory / 'data'
    data.mkdir(parents=True)
    pwfile = directory / 'pwfile'
    pwfile.write_text(SUPERUSER_PASSWORD + '\n')
    if os.geteuid() == 0:
        import pwd
        user = pwd.getpwnam('postgres')
        for path in (directory, data, pwfile):
            os.chown(path, user.pw_uid, user.pw_gid)
        parent = directory.parent
        while str(parent) != '/':
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
            parent = parent.parent
    pgcluster._run([os.path.join(bindir, 'initdb'), '-D', str(data),
            '-U', 'postgres', '--auth=scram-sha-256', f'--pwfile={pwfile}',
            '-E', 'UTF8', '--locale=C.UTF-8'], stdout=subprocess.DEVNULL)
    port = pgcluster._free_port()
    options = ' '.join(['-c listen_addresses=127.0.0.1', f'-c port={port}',
            f'-c unix_socket_directories={directory}', '-c fsync=off',
            '-c synchronous_commit=off', '-c full_page_writes=off'])
    pgcluster._run([os.path.join(bindir, 'pg_ctl'), '-D', str(data), '-o',
            options, '-l', str(directory / 'log'), '-w', 'start'],
        stdout=subprocess.DEVNULL)
    return port


def test_steps_1_2_left_what_they_install():
    "The virtualenv has the module and gunicorn; sao has its dependencies"
    steps = recipe_steps()
    assert "pip install '.[postgresql]' gunicorn" in steps['2']
    assert steps['2'].count('&& npm install') == 2
    bindir = Path(sys.executable).parent
    for tool in ('trytond-admin', 'trytond-cron', 'gunicorn'):
        assert (bindir / tool).exists(), tool
    sao = ROOT / 'web' / 'node_modules' / 'tryton-sao'
    assert (sao / 'index.html').exists()
    assert (sao / 'node_modules' / 'jquery').is_dir()


def test_recipe_steps_3_to_7(tmp_path, smtp):
    steps = recipe_steps()
    web_port = free_port()
    pg_dir = tmp_path / 'pg'
    pg_port = start_cluster(pg_dir)
    superuser = (f'postgresql://postgres:{SUPERUSER_PASSWORD}'
        f'@127.0.0.1:{pg_port}/postgres')
    replace = [
        ('su postgres -c psql', f"psql '{superuser}'"),
        ('/opt/office_admin', str(ROOT)),
        ('/etc/trytond', str(tmp_path / 'etc')),
        ('/var/lib/trytond', str(tmp_path / 'filestore')),
        ('/var/log/trytond', str(tmp_path / 'log')),
        ('127.0.0.1:5432', f'127.0.0.1:{pg_port}'),
        ('127.0.0.1:8000', f'127.0.0.1:{web_port}'),
        ('smtp://127.0.0.1:25', smtp.uri),
        ('gunicorn -w 4', 'gunicorn -w 2'),
        ]
    timing = tmp_path / 'timing'
    script = f'set -euo pipefail\ncd {ROOT}\n'
    for label in ['3', '4', '5', 'Optional', '6', '7']:
        text = steps[label]
        for old, new in replace:
            text = text.replace(old, new)
        script += f'echo "{label} $EPOCHREALTIME" >> {timing}\n' + text
    script += f'echo "end $EPOCHREALTIME" >> {timing}\n'
    env = {k: v for k, v in os.environ.items()
        if not k.startswith(('TRYTOND', 'OFFICE_', 'DB_', 'PG'))
        and k != 'TRYTONPASSFILE'}
    process = subprocess.Popen(['bash', '-c', script], env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, output[-4000:]

        # Timings of the steps
        marks = [line.split() for line in timing.read_text().splitlines()]
        print()
        for (label, start), (_, end) in zip(marks, marks[1:]):
            print(f'recipe step {label}: {float(end) - float(start):.1f} s')

        # 7: the JSON-RPC path answered the login with a session
        answer = json.loads(output.strip().splitlines()[-1])
        assert answer[0] > 0 and len(answer[1]) > 20
        url = f'http://127.0.0.1:{web_port}'
        # The web client is served on /
        page = urllib.request.urlopen(url + '/', timeout=30).read()
        assert b'sao' in page.lower() or b'tryton' in page.lower()

        # The admin password came from TRYTONPASSFILE (no prompt)
        admin = Client(url, 'office', 'admin', 'choose-an-admin-password')
        assert admin.search('res.user', [('login', '=', 'admin')])

        # The archive key: a secret file is stored, encrypted, in the
        # configured filestore and read back (watermarked PDF)
        head = Client(url, 'office', 'office_head',
            'office_head-Pass-2026')
        marker = b'RECIPE-' + os.urandom(6).hex().encode()
        department, = head.search(
            'office.department', [('code', '=', 'OFF')])
        doc_type = head.search('office.document.type', [])[0]
        entry, = head.model('office.archive', 'create', [{
                    'company': head.context['company'],
                    'year': 2026, 'department': department,
                    'type': doc_type, 'title': "Recipe", 'secrecy': 'secret',
                    'files': [('create', [{'name': 'minutes.txt',
                                    'data': {'__class__': 'bytes',
                                        'base64': base64.b64encode(
                                            b'Minutes ' + marker).decode()},
                                    }])],
                    }])
        file, = head.search('office.archive.file', [('archive', '=', entry)])
        data, = head.read('office.archive.file', [file], ['data'])
        assert data['data'].startswith(b'%PDF')
        stored = [p for p in (tmp_path / 'filestore' / 'office').rglob('*')
            if p.is_file()]
        assert stored
        assert not any(marker in p.read_bytes() for p in stored)

        # 6: the queue worker and the scheduler run beside the workers,
        # each with its log
        assert (tmp_path / 'log' / 'web.log').exists()
        assert (tmp_path / 'log' / 'cron.log').exists()
        assert (tmp_path / 'log' / 'worker.log').exists()
        commands = subprocess.run(['ps', '-e', '-o', 'pgid=,args='],
            capture_output=True, text=True).stdout.splitlines()
        for command in ['trytond-cron -d office', 'bin/_worker.py -d office']:
            assert any(c.split(None, 1)[0] == str(process.pid)
                and command in c for c in commands), command
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(process.pid, signal.SIGKILL)
        pgcluster.stop(pg_dir)
        shutil.rmtree(tmp_path / 'filestore', ignore_errors=True)
