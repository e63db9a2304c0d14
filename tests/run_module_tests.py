#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Run the module's unittest suites (ModuleTestCase and the rst scenarios,
which pytest would not collect) and print exact counts.

    python tests/run_module_tests.py LABEL [PATTERN...]

PATTERNs select tests as `python -m unittest -k` does. Prints the slowest
tests, then `LABEL: N passed, N failed` last and exits non-zero on any
failure or when no test ran.

With DB_CACHE, a scenario database missing from the cache is built from the
nearest cached one (the same modules with the longest cached part of its
set-up, or the module tests' database of the same modules) instead of a new
installation: the modules are installed once per run, not once per set-up.
On PostgreSQL the cached databases are template databases of the cluster
during the run (a copy takes a second where pg_restore takes several): the
DB_CACHE folder's dumps are restored into them first and the new ones are
dumped to it at the end."""
import contextlib
import itertools
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.parse

# How many of the slowest tests are listed
SLOWEST = 12

SUITES = [
    'trytond.modules.office_admin.tests.test_module',
    'trytond.modules.office_admin.tests.test_scenario',
    'trytond.modules.office_admin.tests.test_translation',
    ]


def main():
    label = sys.argv[1] if len(sys.argv) > 1 else 'module'
    loader = unittest.TestLoader()
    patterns = sys.argv[2:]
    if patterns:
        loader.testNamePatterns = [
            p if '*' in p else f'*{p}*' for p in patterns]
    _layer_scenario_databases()
    suite = unittest.TestSuite()
    for name in SUITES:
        suite.addTests(loader.loadTestsFromName(name))
    scenarios = sum(1 for t in _flatten(suite) if 'rst' in str(t))
    start = time.monotonic()
    with _pg_templates():
        result = unittest.TextTestRunner(
            verbosity=1, resultclass=TimedResult).run(suite)
    failed = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{label}: slowest tests")
    for seconds, name in sorted(result.durations, reverse=True)[:SLOWEST]:
        print(f"{label}: {seconds:6.1f}s {name}")
    print(f"{label}: {result.testsRun} tests ({scenarios} scenarios) in "
        f"{time.monotonic() - start:.0f}s")
    print(f"{label}: {passed} passed, {failed} failed")
    return 1 if failed or not result.testsRun or not scenarios else 0


class TimedResult(unittest.TextTestResult):
    "Records how long each test took (its class set-up included)"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.durations = []
        self._last = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        now = time.monotonic()
        self.durations.append((now - self._last, _name(test)))
        self._last = now


def _name(test):
    name = test.id()
    if 'rst' in str(test):
        name = str(test).rsplit('/', 1)[-1]
    return name


def _layer_scenario_databases():
    """Replace trytond.tests.tools.activate_modules (which the scenarios
    import when they run) by one that starts a missing database from the
    nearest cached one"""
    from trytond.tests import test_tryton, tools

    if not test_tryton.DB_CACHE:
        return
    activate_modules = tools.activate_modules

    def cache_name(modules, setup):
        # as trytond.tests.tools.activate_modules names it
        name = '-'.join(sorted(modules))
        if setup:
            name += '--' + '|'.join(tools._func_name(f) for f in setup)
        return name

    def restore_nearest(modules, setup):
        "Restore the nearest database; return how much of setup it has"
        for done in range(len(setup), 0, -1):
            if test_tryton.restore_db_cache(
                    cache_name(modules, setup[:done])):
                return done
        # the modules alone: as activate_modules or ModuleTestCase left them
        for names in itertools.permutations(modules):
            if test_tryton.restore_db_cache('-'.join(names)):
                return 0
        activate_modules(modules)  # installs, then caches the modules alone
        return 0

    def layered_activate_modules(modules, *setup):
        if isinstance(modules, str):
            modules = [modules]
        done = restore_nearest(modules, setup)
        config = tools._get_config()
        for done in range(done + 1, len(setup) + 1):
            setup[done - 1](config=config)
            test_tryton.backup_db_cache(cache_name(modules, setup[:done]))
        return config

    tools.activate_modules = layered_activate_modules


@contextlib.contextmanager
def _pg_templates():
    """On PostgreSQL with a DB_CACHE folder: use trytond's template cache
    (DB_CACHE=postgresql://...) for the run, filled from the folder first
    and saved to it at the end"""
    from trytond import backend
    from trytond import config
    from trytond.tests import test_tryton

    folder = test_tryton.DB_CACHE
    if (backend.name != 'postgresql' or not folder
            or folder.startswith('postgresql://')):
        yield
        return
    import psycopg
    from psycopg.sql import SQL, Identifier

    uri = urllib.parse.urlsplit(config.get('database', 'uri'))
    options, env = test_tryton._pg_options()
    jobs = ['-j', test_tryton.DB_CACHE_JOBS]

    def execute(query, name=None):
        if name:
            query = SQL(query).format(Identifier(name))
        with psycopg.connect(uri._replace(path='/postgres').geturl(),
                autocommit=True) as connection:
            cursor = connection.execute(query)
            return cursor.fetchall() if cursor.description else None

    def templates():
        # the names trytond gives them (test_tryton._db_cache_file)
        return {name for name, in execute(
                "SELECT datname FROM pg_database "
                "WHERE datname ~ '^test-[0-9a-f]{40}$'")}

    def dump(name):
        return os.path.join(folder, f'{name[5:]}-postgresql.dump')

    os.makedirs(folder, exist_ok=True)
    before = templates()  # not ours: left as they are
    try:
        for entry in sorted(os.listdir(folder)):
            match = re.fullmatch(r'([0-9a-f]{40})-postgresql\.dump', entry)
            name = match and f'test-{match.group(1)}'
            if name and name not in before:
                execute("CREATE DATABASE {} TEMPLATE template0", name)
                if subprocess.run(['pg_restore', '-d', name, *jobs,
                            *options, dump(name)], env=env).returncode:
                    # installed again by the tests that need it
                    print(f"cannot restore {dump(name)}", file=sys.stderr)
                    execute("DROP DATABASE {} WITH (FORCE)", name)
        test_tryton.DB_CACHE = uri._replace(path='').geturl()
        yield
    finally:
        test_tryton.DB_CACHE = folder
        for name in sorted(templates() - before):
            if not os.path.exists(dump(name)):
                subprocess.run(['pg_dump', '-f', dump(name), '-F', 'd',
                        *jobs, *options, name], env=env, check=True)
            execute("DROP DATABASE {} WITH (FORCE)", name)


def _flatten(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _flatten(test)
        else:
            yield test


if __name__ == '__main__':
    sys.exit(main())
