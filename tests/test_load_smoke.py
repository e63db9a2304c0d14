# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Under a minute of the office load (tests/bench_load.py, Locust) against
the tests' server: 20 users, each running its actions once and then the
mix, for 20 s and until every action has run; nothing fails but the
refusals the office means."""
import time

import bench_load

USERS = 20
SECONDS = 20
# At most, when a loaded machine is slow to run every action once
MAX_SECONDS = 180


def test_load_smoke(server, tmp_path):
    setup = bench_load.prepare(server, tmp_path, rooms=4, archives=5,
        wait=(2, 5), smoke=SECONDS)
    prefix = str(tmp_path / 'locust')
    started = time.monotonic()
    bench_load.run_locust(server, setup, MAX_SECONDS, USERS, 10, prefix)
    seconds = time.monotonic() - started
    actions, errors = bench_load.read_stats(prefix)
    bench_load.print_report(actions, errors, None, seconds, USERS)
    assert errors == [], errors
    assert set(actions) >= bench_load.ACTIONS, (
        bench_load.ACTIONS - set(actions))
    for name, figures in actions.items():
        assert figures['count'] > 0, name
        assert figures['errors'] == 0, (name, figures)
