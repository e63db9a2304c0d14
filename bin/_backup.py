# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Backup and restore of an office_admin database on PostgreSQL (used by
bin/backup and bin/restore).

A backup is one tar file:
    manifest.json   rows per table, SHA-256 and size of every stored file,
                    the files the database names but the filestore lacks
    database.dump   pg_dump in custom format, same snapshot as the counts
    filestore/...   the database's files, as trytond stores them

The archive key ([office] archive_key) is never read nor written here: the
configuration file is not part of a backup."""
import argparse
import datetime as dt
import glob
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

FORMAT = 'office_admin-backup/1'
SYSTEM_SCHEMAS = ('pg_catalog', 'information_schema', 'pg_toast')


def fail(message, code=1):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def load_config(path):
    from trytond import config
    if path:
        os.environ['TRYTOND_CONFIG'] = path
    path = os.environ.get('TRYTOND_CONFIG')
    if not path or not os.path.isfile(path):
        fail("no configuration: give -c trytond.conf or set TRYTOND_CONFIG")
    config.update_etc(path)
    uri = config.parse_uri(config.get('database', 'uri'))
    if uri.scheme not in {'postgresql', 'postgres'}:
        fail("bin/backup and bin/restore work on PostgreSQL; for SQLite "
            "stop the server and copy the database file and the filestore "
            "(see README, \"Backup and restore\")")
    return config


def conninfo(config, name):
    uri = config.parse_uri(config.get('database', 'uri'))
    return uri._replace(scheme='postgresql', path='/' + name).geturl()


def pg_tool(name):
    found = sorted(glob.glob(f'/usr/lib/postgresql/*/bin/{name}'),
        key=lambda p: int(p.split('/')[4]))
    if found:
        return found[-1]
    return shutil.which(name) or fail(f"{name} is not installed")


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as fp:
        for chunk in iter(lambda: fp.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def stored_file_columns(database):
    """(table, column, prefix) of every Binary field kept in the filestore,
    from the models of the database's activated modules"""
    from trytond.model import ModelSQL, fields
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        columns = set()
        for _, Model in pool.iterobject():
            if (not issubclass(Model, ModelSQL)
                    or Model._is_table_query()):
                continue
            for field in Model._fields.values():
                if isinstance(field, fields.Binary) and field.file_id:
                    columns.add((Model._table, field.file_id,
                            field.store_prefix or database))
    return sorted(columns)


def user_tables(cursor):
    cursor.execute(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN %s "
        "AND schemaname NOT LIKE 'pg_temp%%' ORDER BY 1, 2"
        % repr(SYSTEM_SCHEMAS))
    return [(s, t) for s, t in cursor.fetchall()]


def count_rows(cursor):
    from psycopg import sql
    counts = {}
    for schema, table in user_tables(cursor):
        cursor.execute(sql.SQL('SELECT count(*) FROM {}.{}').format(
                sql.Identifier(schema), sql.Identifier(table)))
        name = table if schema == 'public' else f'{schema}.{table}'
        counts[name] = cursor.fetchone()[0]
    return counts


def backup(args):
    import psycopg
    config = load_config(args.config)
    database = args.database
    root = os.path.normpath(config.get('database', 'path'))
    output = os.path.abspath(args.output or '%s-%s.tar' % (
            database, dt.datetime.now().strftime('%Y%m%d-%H%M%S')))
    columns = stored_file_columns(database)

    # One snapshot for the counts, the file references and pg_dump
    conn = psycopg.connect(conninfo(config, database), autocommit=False)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    cursor = conn.cursor()
    cursor.execute('SELECT pg_export_snapshot()')
    snapshot, = cursor.fetchone()
    counts = count_rows(cursor)
    referenced = []  # (prefix, file_id, table, column, record id)
    from psycopg import sql
    for table, column, prefix in columns:
        if table not in counts:
            continue
        cursor.execute(sql.SQL(
                "SELECT id, {c} FROM {t} WHERE {c} IS NOT NULL "
                "AND {c} != '' ORDER BY id").format(
                c=sql.Identifier(column), t=sql.Identifier(table)))
        referenced += [(prefix, f, table, column, i)
            for i, f in cursor.fetchall()]
    encrypted = set()
    if 'office_archive_file' in counts:
        cursor.execute("SELECT content_id FROM office_archive_file "
            "WHERE encrypted AND content_id IS NOT NULL")
        encrypted = {f for f, in cursor.fetchall()}

    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, 'database.dump')
        subprocess.run([pg_tool('pg_dump'), '--format=custom',
                f'--snapshot={snapshot}', '--file', dump,
                '--dbname', conninfo(config, database)], check=True)
        conn.rollback()
        conn.close()

        files = []
        prefixes = sorted({p for _, _, p in columns} | {database})
        for prefix in prefixes:
            base = os.path.join(root, prefix)
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames.sort()
                for name in sorted(filenames):
                    path = os.path.join(dirpath, name)
                    files.append({
                            'prefix': prefix, 'id': name,
                            'path': os.path.relpath(path, root),
                            'size': os.path.getsize(path),
                            'sha256': sha256_file(path),
                            'encrypted': name in encrypted,
                            })
        present = {(f['prefix'], f['id']) for f in files}
        missing = [{'prefix': p, 'id': f, 'table': t, 'column': c,
                'record': i}
            for p, f, t, c, i in referenced if (p, f) not in present]

        manifest = {
            'format': FORMAT,
            'database': database,
            'created': dt.datetime.now(dt.timezone.utc).isoformat(
                timespec='seconds'),
            'tables': counts,
            'files': files,
            'referenced_files': len(referenced),
            'missing_files': missing,
            'complete': not missing,
            'archive_key': "not included: keep [office] archive_key "
            "apart from the backups (see README)",
            }
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        partial = output + '.part'
        with tarfile.open(partial, 'w') as tar:
            info = tarfile.TarInfo('manifest.json')
            info.size = len(data)
            info.mtime = int(dt.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, 'database.dump')
            for file in files:
                tar.add(os.path.join(root, file['path']),
                    'filestore/' + file['path'], recursive=False)
        os.replace(partial, output)

    rows = sum(counts.values())
    encrypted_count = sum(f['encrypted'] for f in files)
    print(f"backup of {database}: {output}")
    print(f"  {len(counts)} tables, {rows} rows; {len(files)} stored files "
        f"({encrypted_count} encrypted with the archive key, which is NOT "
        "in the backup)")
    if missing:
        print(f"INCOMPLETE: {len(missing)} stored file(s) named by the "
            "database are missing from the filestore:")
        for m in missing:
            print(f"  missing {m['prefix']}/{m['id']} "
                f"({m['table']}.{m['column']} of record {m['record']})")
        return 2
    return 0


def _safe_members(tar):
    for member in tar.getmembers():
        name = os.path.normpath(member.name)
        if (not member.isfile() or name.startswith(('/', '..'))
                or not name.startswith('filestore/')):
            continue
        yield member, name


def restore(args):
    import psycopg
    from psycopg import sql
    config = load_config(args.config)
    root = os.path.normpath(config.get('database', 'path'))
    try:
        tar = tarfile.open(args.backup, 'r')
        manifest = json.load(tar.extractfile('manifest.json'))
    except (OSError, KeyError, tarfile.TarError, ValueError):
        fail(f"{args.backup} is not a backup made by bin/backup")
    if manifest.get('format') != FORMAT:
        fail(f"{args.backup}: unknown backup format")
    source = manifest['database']
    database = args.database or source

    def prefix_of(prefix):
        return database if prefix == source else prefix

    # Refuse before changing anything
    maintenance = conninfo(config, 'postgres')
    with psycopg.connect(maintenance, autocommit=True) as conn:
        cursor = conn.cursor()
        cursor.execute(
            'SELECT 1 FROM pg_database WHERE datname = %s', (database,))
        exists = bool(cursor.fetchone())
    if exists:
        with psycopg.connect(conninfo(config, database)) as conn:
            tables = user_tables(conn.cursor())
        if tables:
            fail(f"refused: the database {database} is not empty "
                f"({len(tables)} tables); bin/restore restores only into "
                "an empty database (drop it or choose another name with "
                "-d); nothing was changed")
    prefixes = {prefix_of(f['prefix']) for f in manifest['files']}
    prefixes.add(database)
    for prefix in sorted(prefixes):
        folder = os.path.join(root, prefix)
        if os.path.isdir(folder) and os.listdir(folder):
            fail(f"refused: the filestore folder {folder} is not empty; "
                "bin/restore restores only into an empty filestore; "
                "nothing was changed")

    if not exists:
        try:
            with psycopg.connect(maintenance, autocommit=True) as conn:
                conn.execute(sql.SQL(
                        "CREATE DATABASE {} TEMPLATE template0 "
                        "ENCODING 'UTF8'").format(sql.Identifier(database)))
        except psycopg.Error as exception:
            fail(f"cannot create the database {database} "
                f"({exception.diag.message_primary}): let a superuser "
                f"create it empty (createdb -O <role> -T template0 "
                f"{database}) and run bin/restore again")
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, 'database.dump')
        with open(dump, 'wb') as fp:
            shutil.copyfileobj(tar.extractfile('database.dump'), fp)
        result = subprocess.run([pg_tool('pg_restore'), '--no-owner',
                '--no-privileges', '--no-comments', '--exit-on-error',
                '--single-transaction', '--dbname',
                conninfo(config, database), dump])
        if result.returncode:
            fail(f"pg_restore failed; the database {database} was left "
                "empty")
    for member, name in _safe_members(tar):
        parts = name.split('/')[1:]
        parts[0] = prefix_of(parts[0])
        path = os.path.join(root, *parts)
        if not os.path.normpath(path).startswith(root + os.sep):
            continue
        os.makedirs(os.path.dirname(path), mode=0o770, exist_ok=True)
        with open(path, 'wb') as fp:
            shutil.copyfileobj(tar.extractfile(member), fp)
    tar.close()
    return verify(config, manifest, database, prefix_of, root)


def verify(config, manifest, database, prefix_of, root):
    import psycopg
    problems = []
    with psycopg.connect(conninfo(config, database)) as conn:
        counts = count_rows(conn.cursor())
    expected = manifest['tables']
    for table in sorted(set(expected) | set(counts)):
        if expected.get(table) != counts.get(table):
            problems.append(f"table {table}: {counts.get(table)} rows, "
                f"the backup had {expected.get(table)}")
    for file in manifest['files']:
        parts = file['path'].split('/')
        parts[0] = prefix_of(parts[0])
        path = os.path.join(root, *parts)
        if not os.path.isfile(path):
            problems.append(f"file {file['path']}: not restored")
        elif sha256_file(path) != file['sha256']:
            problems.append(f"file {file['path']}: checksum differs")
    rows = sum(counts.values())
    print(f"restored {manifest['database']} ({manifest['created']}) into "
        f"{database}:")
    print(f"  tables: {len(counts)}/{len(expected)}, rows: {rows}/"
        f"{sum(expected.values())}")
    print(f"  stored files: {len(manifest['files'])}, SHA-256 checked")
    if manifest['missing_files']:
        print(f"  the backup was INCOMPLETE: {len(manifest['missing_files'])}"
            " file(s) were already missing when it was made:")
        for m in manifest['missing_files']:
            print(f"    missing {m['prefix']}/{m['id']} "
                f"({m['table']}.{m['column']} of record {m['record']})")
    encrypted = [f for f in manifest['files'] if f['encrypted']]
    if encrypted:
        readable, message = check_archive_key(database)
        if readable:
            print(f"  encrypted archive files: {len(encrypted)}, the "
                "configured archive key decrypts them")
        else:
            print(f"  WARNING: encrypted archive files: {len(encrypted)} "
                f"stay unreadable: {message} Configure the archive key of "
                "the backed-up server ([office] archive_key); everything "
                "else works without it.")
    if problems:
        print("VERIFICATION FAILED:")
        for problem in problems:
            print("  " + problem)
        return 1
    print("verified: row counts and checksums match the manifest")
    return 0


def check_archive_key(database):
    """Decrypt every encrypted archive file with the configured key, as
    the server would; return (readable, message)"""
    from trytond.exceptions import UserError
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        from trytond.modules.office_admin.archive import decrypt
        File = pool.get('office.archive.file')
        try:
            for file in File.search([('encrypted', '=', True)]):
                if file.content is not None:
                    decrypt(bytes(file.content), File._associated(file))
        except UserError as exception:
            return False, exception.message
    return True, None


def main():
    parser = argparse.ArgumentParser(prog='bin/backup | bin/restore')
    sub = parser.add_subparsers(dest='command', required=True)
    parser_backup = sub.add_parser('backup')
    parser_backup.add_argument('-c', '--config')
    parser_backup.add_argument('-d', '--database', required=True)
    parser_backup.add_argument('-o', '--output')
    parser_restore = sub.add_parser('restore')
    parser_restore.add_argument('-c', '--config')
    parser_restore.add_argument('-d', '--database',
        help="the new database (default: the backed-up one's name)")
    parser_restore.add_argument('backup')
    args = parser.parse_args()
    sys.exit(backup(args) if args.command == 'backup' else restore(args))


if __name__ == '__main__':
    main()
