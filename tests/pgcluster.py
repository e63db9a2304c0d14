#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A throw-away PostgreSQL cluster on loopback for the tests.

    python tests/pgcluster.py start DIR   # prints the URI, e.g.
                                          # postgresql://tryton@127.0.0.1:54321
    python tests/pgcluster.py stop DIR

`initdb` runs in DIR (as the `postgres` system user when run as root, since
PostgreSQL refuses to run as root), the server listens on a free port of
127.0.0.1 only, with trust authentication for the `tryton` role, and
`btree_gist` is created in template1 so every test database has it."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time


def _bindir():
    candidates = sorted(glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'),
        key=lambda p: int(p.split('/')[4]))
    if candidates:
        return os.path.dirname(candidates[-1])
    if shutil.which('pg_ctl'):
        return os.path.dirname(os.path.realpath(shutil.which('pg_ctl')))
    sys.exit("PostgreSQL is not installed (Debian package postgresql)")


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run(args, **kwargs):
    if os.geteuid() == 0:
        user = pwd.getpwnam('postgres')

        def demote():
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        kwargs['preexec_fn'] = demote
    return subprocess.run(args, check=True, **kwargs)


def start(directory):
    bindir = _bindir()
    directory = os.path.abspath(directory)
    data = os.path.join(directory, 'data')
    if os.path.exists(os.path.join(directory, 'uri')):
        stop(directory)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(data)
    if os.geteuid() == 0:
        user = pwd.getpwnam('postgres')
        os.chown(directory, user.pw_uid, user.pw_gid)
        os.chown(data, user.pw_uid, user.pw_gid)
        # The postgres user must traverse the (private) temporary parents
        parent = os.path.dirname(directory)
        while parent not in {'/', ''}:
            mode = os.stat(parent).st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
            parent = os.path.dirname(parent)
    _run([os.path.join(bindir, 'initdb'), '-D', data, '-U', 'tryton',
            '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'],
        stdout=subprocess.DEVNULL)
    port = _free_port()
    options = ' '.join([
            '-c listen_addresses=127.0.0.1',
            f'-c port={port}',
            f'-c unix_socket_directories={directory}',
            '-c fsync=off', '-c synchronous_commit=off',
            '-c full_page_writes=off',
            '-c max_connections=200',
            '-c shared_buffers=256MB',
            ])
    _run([os.path.join(bindir, 'pg_ctl'), '-D', data, '-o', options,
            '-l', os.path.join(directory, 'log'), '-w', 'start'],
        stdout=subprocess.DEVNULL)
    uri = f'postgresql://tryton@127.0.0.1:{port}'
    for _ in range(50):
        try:
            subprocess.run([os.path.join(bindir, 'psql'), uri + '/template1',
                    '-qc', 'CREATE EXTENSION IF NOT EXISTS btree_gist'],
                check=True, capture_output=True)
            break
        except subprocess.CalledProcessError:
            time.sleep(0.2)
    else:
        sys.exit("PostgreSQL did not start: see %s/log" % directory)
    with open(os.path.join(directory, 'uri'), 'w') as fp:
        fp.write(uri)
    return uri


def stop(directory):
    data = os.path.join(os.path.abspath(directory), 'data')
    if os.path.exists(data):
        _run([os.path.join(_bindir(), 'pg_ctl'), '-D', data, '-m', 'fast',
                'stop'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == '__main__':
    command, directory = sys.argv[1:3]
    if command == 'start':
        print(start(directory))
    elif command == 'stop':
        try:
            stop(directory)
        except subprocess.CalledProcessError:
            pass
    else:
        sys.exit("usage: pgcluster.py start|stop DIR")
