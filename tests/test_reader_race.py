# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two transactions storing the readers of the same document at once
(PostgreSQL): the second waits for the first on the unique index, then gets
a serialization failure that trytond retries (instead of a unique violation
that failed the user's save) and keeps the first one's row."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys, threading, time
    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    database, document_id = sys.argv[1], int(sys.argv[2])
    Pool(database).init()
    with Transaction().start(database, 0) as transaction:
        pool = Pool()
        Document = pool.get('office.document.incoming')
        Reader = pool.get('office.document.incoming.reader')
        document = Document(document_id)
        assert document.readers
        Reader.delete(Reader.search([('document', '=', document.id)]))
        transaction.commit()
    first = Transaction().start(database, 0)
    pool = Pool()
    pool.get('office.document.incoming').sync_readers([document.id])
    errors = []
    retries = []
    def second():
        # As trytond's dispatcher: an operational error (serialization
        # failure) retries the call, any other error is the user's
        for attempt in range(5):
            try:
                with Transaction().start(database, 0) as transaction:
                    pool.get('office.document.incoming').sync_readers(
                        [document.id])
                    transaction.commit()
                return
            except backend.DatabaseOperationalError:
                retries.append(attempt)
            except Exception as exception:
                errors.append(repr(exception))
                return
    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(2)  # the second transaction waits on the unique index
    first.commit()
    first.stop()
    thread.join(60)
    with Transaction().start(database, 0):
        count = pool.get('office.document.incoming.reader').search_count(
            [('document', '=', document.id)])
    print('ERRORS', errors)
    print('COUNT', count)
    print('RETRIES', len(retries))
    ''')


def test_readers_synced_twice_at_once(server):
    clerk = server.client('clerk')
    letter, = clerk.search('office.document.type', [('code', '=', 'in_letter')])
    document, = clerk.model('office.document.incoming', 'create', [{
                'type': letter, 'title': "并发读者", 'sender': "某局",
                'secrecy': 'internal'}])
    result = subprocess.run(
        [sys.executable, '-c', SCRIPT, server.database, str(document)],
        env=server.env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'ERRORS []' in result.stdout, result.stdout + result.stderr[-2000:]
    count = int(result.stdout.split('COUNT ')[1].split()[0])
    assert count > 0
    # The race happened: the second transaction waited and was retried
    retries = int(result.stdout.split('RETRIES ')[1].split()[0])
    assert retries >= 1, result.stdout
