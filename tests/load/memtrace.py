# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""gunicorn configuration of bench_load's memory diagnostics, given through
GUNICORN_CMD_ARGS; each worker, once it has loaded the application:

- with OFFICE_TRACEMALLOC_DIR (bench_load --tracemalloc DIR): traces its
  allocations (tracemalloc, OFFICE_TRACEMALLOC_FRAMES frames) and dumps a
  snapshot to DIR/<pid>-<n>.snap every OFFICE_TRACEMALLOC_INTERVAL seconds;
  bench_load then compares each worker's first and last snapshots (where
  the memory a soak adds was allocated). Tracing slows the workers: the
  run's latencies are not the product's.
- with OFFICE_CENSUS_DIR (bench_load --census DIR): appends to
  DIR/<pid>.jsonl every OFFICE_CENSUS_INTERVAL seconds what its memory is
  made of: the RSS, the blocks Python's allocator holds for live objects,
  the objects the garbage collector tracks, the C heap in use and free
  (glibc's mallinfo2) and the entries of trytond's caches. Cheap enough to
  run at full load: it tells live objects that pile up (a leak) from a heap
  that keeps freed memory (fragmentation)."""
import ctypes
import gc
import json
import os
import resource
import sys
import threading
import time
import tracemalloc


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
            'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
            'fsmblks', 'uordblks', 'fordblks', 'keepcost')]


def _mallinfo():
    "glibc's heap: (in use, free in the heap, mapped apart), in bytes"
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None, None, None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return info.uordblks, info.fordblks, info.hblkhd


def _cache_entries():
    "The entries held by trytond's caches (all databases)"
    from trytond.cache import BaseCache
    total = 0
    for cache in list(BaseCache._instances.values()):
        for entries in list(getattr(cache, '_database_cache', {}).values()):
            total += len(entries)
    return total


def census():
    "One sample of what the worker's memory is made of"
    with open('/proc/self/statm') as statm:
        rss = int(statm.read().split()[1]) * resource.getpagesize()
    in_use, free, mapped = _mallinfo()
    return {
        'time': time.time(),
        'rss': rss,
        'py_blocks': sys.getallocatedblocks(),
        'gc_objects': len(gc.get_objects()),
        'heap_in_use': in_use,
        'heap_free': free,
        'mapped': mapped,
        'cache_entries': _cache_entries(),
        }


def _start_tracemalloc(directory):
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


def _start_census(directory):
    interval = float(os.environ.get('OFFICE_CENSUS_INTERVAL', 60))
    path = os.path.join(directory, f'{os.getpid()}.jsonl')

    def record():
        while True:
            with open(path, 'a') as output:
                output.write(json.dumps(census()) + '\n')
            time.sleep(interval)

    threading.Thread(target=record, daemon=True, name='census').start()


def post_worker_init(worker):
    if os.environ.get('OFFICE_TRACEMALLOC_DIR'):
        _start_tracemalloc(os.environ['OFFICE_TRACEMALLOC_DIR'])
    if os.environ.get('OFFICE_CENSUS_DIR'):
        _start_census(os.environ['OFFICE_CENSUS_DIR'])
