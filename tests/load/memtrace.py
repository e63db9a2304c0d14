# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""gunicorn configuration of bench_load --tracemalloc DIR: each worker
traces its allocations (tracemalloc, OFFICE_TRACEMALLOC_FRAMES frames) once
it has loaded the application and dumps a snapshot to
DIR/<pid>-<n>.snap every OFFICE_TRACEMALLOC_INTERVAL seconds; bench_load
then compares each worker's first and last snapshots (where the memory a
soak adds was allocated). Tracing slows the workers: the run's latencies
are not the product's."""
import os
import threading
import time
import tracemalloc


def post_worker_init(worker):
    directory = os.environ['OFFICE_TRACEMALLOC_DIR']
    interval = float(os.environ.get('OFFICE_TRACEMALLOC_INTERVAL', 300))
    tracemalloc.start(int(os.environ.get('OFFICE_TRACEMALLOC_FRAMES', 12)))

    def dump():
        number = 0
        while True:
            time.sleep(interval)
            number += 1
            snapshot = tracemalloc.take_snapshot().filter_traces([
                    tracemalloc.Filter(False, tracemalloc.__file__),
                    ])
            path = os.path.join(directory, f'{os.getpid()}-{number:03d}')
            snapshot.dump(path + '.tmp')
            os.replace(path + '.tmp', path + '.snap')

    threading.Thread(target=dump, daemon=True, name='memtrace').start()
