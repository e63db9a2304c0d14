#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Run the module's unittest suites (ModuleTestCase and the rst scenarios,
which pytest would not collect) and print exact counts.

    python tests/run_module_tests.py LABEL

Prints `LABEL: N passed, N failed` last and exits non-zero on any failure
or when no test ran."""
import sys
import time
import unittest

SUITES = [
    'trytond.modules.office_admin.tests.test_module',
    'trytond.modules.office_admin.tests.test_scenario',
    'trytond.modules.office_admin.tests.test_translation',
    ]


def main():
    label = sys.argv[1] if len(sys.argv) > 1 else 'module'
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in SUITES:
        suite.addTests(loader.loadTestsFromName(name))
    scenarios = sum(1 for t in _flatten(suite) if 'rst' in str(t))
    start = time.monotonic()
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    failed = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{label}: {result.testsRun} tests ({scenarios} scenarios) in "
        f"{time.monotonic() - start:.0f}s")
    print(f"{label}: {passed} passed, {failed} failed")
    return 1 if failed or not result.testsRun or not scenarios else 0


def _flatten(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _flatten(test)
        else:
            yield test


if __name__ == '__main__':
    sys.exit(main())
