# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A minute of the office load (tests/bench_load.py, Locust) against the
tests' server: every action of the mix runs, and nothing fails but the
refusals the office means."""
import bench_load

USERS = 20
SECONDS = 60
ACTIONS = {
    'log in', 'open My Approvals', 'submit request', 'approve request',
    'book and cancel room', 'search documents', 'search archives',
    'post punch batch', 'read ledger', 'download watermarked file',
    }


def test_load_smoke(server, tmp_path):
    setup = bench_load.prepare(server, tmp_path, rooms=4, archives=5,
        wait=(2, 5), tour=True)
    prefix = str(tmp_path / 'locust')
    bench_load.run_locust(server, setup, SECONDS, USERS, 10, prefix)
    actions, errors = bench_load.read_stats(prefix)
    bench_load.print_report(actions, errors, None, SECONDS, USERS)
    assert errors == [], errors
    assert set(actions) >= ACTIONS, ACTIONS - set(actions)
    for name, figures in actions.items():
        assert figures['count'] > 0, name
        assert figures['errors'] == 0, (name, figures)
