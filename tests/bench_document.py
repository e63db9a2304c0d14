#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of document lists under record rules; prints figures, asserts
nothing.

    .venv/bin/python tests/bench_document.py [--documents 100000]

Loads incoming documents with SQL (secrecy spread over the five levels, 1 in
100 distributed to the low-clearance user, with the readers the module
stores), then prints the p50/p95 over
JSON-RPC of a list page (search_read of 80, default order) and of a text
search, for an employee of public clearance (record rules: clearance,
handler, recipient) and for the office head, and their ratio."""
import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from serverkit import percentile, bench_server  # noqa: E402

MODEL = 'office.document.incoming'


def load(server, count, reader):
    sql = f"""
INSERT INTO office_document_incoming (number, company, title, urgency,
    secrecy, secrecy_rank, type, sender, received, medium, state,
    escalation_level, create_uid, create_date)
SELECT '收〔2026〕' || lpad(g::text, 6, '0'), c.id,
    '关于' || (ARRAY['安全生产', '预算执行', '人事调整', '合同管理', '信息化'])[1 + g % 5]
        || '的通知 ' || g,
    'normal',
    (ARRAY['public', 'internal', 'confidential', 'secret', 'top_secret'])[1 + g % 5],
    g % 5, t.id, '上级单位 ' || (g % 50), current_date - (g % 365), 'paper',
    'registered', 0, 1, now()
FROM generate_series(1, {count}) g,
    (SELECT min(id) AS id FROM company_company) c,
    (SELECT min(id) AS id FROM office_document_type
        WHERE direction = 'incoming') t;
INSERT INTO office_distribution (resource, res_model, res_id, "user",
    distributed_by, distributed_at, reminders, secrecy_rank, create_uid,
    create_date)
SELECT 'office.document.incoming,' || d.id, 'office.document.incoming', d.id,
    {reader}, 1, now(), 0, d.secrecy_rank, 1, now()
FROM office_document_incoming d WHERE d.id % 100 = 0;
-- The readers the module stores (sync_readers): registrar and recipients
INSERT INTO office_document_incoming_reader (document, "user", create_uid,
    create_date)
SELECT d.id, d.create_uid, 1, now() FROM office_document_incoming d
UNION ALL
SELECT l.res_id, l."user", 1, now() FROM office_distribution l
WHERE l.res_model = 'office.document.incoming'
ON CONFLICT DO NOTHING;
ANALYZE office_document_incoming;
ANALYZE office_distribution;
ANALYZE office_document_incoming_reader;
"""
    start = time.perf_counter()
    subprocess.run(['psql', f'{server.pg_uri}/{server.database}', '-qc', sql],
        check=True, capture_output=True)
    return time.perf_counter() - start


def measure(client, domain, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.model(MODEL, 'search_read', domain, 0, 80, None,
            ['number', 'title', 'received', 'secrecy', 'state'])
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--documents', type=int, default=100000)
    parser.add_argument('--runs', type=int, default=50)
    args = parser.parse_args()
    with bench_server('office_bench_document') as (server, tmp):
        low = server.client('sales2')
        high = server.client('office_head')
        elapsed = load(server, args.documents, low.user_id)
        print(f"loaded {args.documents} documents in {elapsed:.1f} s")
        for label, domain in [
                ("list page", []),
                ("text search", [('title', 'ilike', '%预算执行%')])]:
            figures = {}
            for name, client in [("public clearance", low),
                    ("office head", high)]:
                measure(client, domain, 3)  # warm up
                times = measure(client, domain, args.runs)
                figures[name] = times
                print(f"{label:12} {name:17}: p50="
                    f"{percentile(times, 50) * 1000:7.1f} ms p95="
                    f"{percentile(times, 95) * 1000:7.1f} ms")
            ratio = (percentile(figures["public clearance"], 95)
                / percentile(figures["office head"], 95))
            print(f"{label:12} cost of the rules (p95 ratio): {ratio:.2f}")
        visible = low.model(MODEL, 'search_count', [])
        print(f"documents the public-clearance employee sees: {visible}")


if __name__ == '__main__':
    main()
