# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Archives (档案): entries created from completed incoming and issued
outgoing documents, to be archived within a working day; electronic copies
of secret documents encrypted at rest; downloads of confidential ones
watermarked and logged."""
import base64
import hashlib
import html
import io
import mimetypes
import os

from sql import Null

from trytond import config
from trytond.filestore import filestore
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .access import OfficeAccessMixin, copy_from_parent
from . import calendar_
from .approval import ApprovalMixin
from .deadline import DeadlineMixin
from .exceptions import ArchiveError
from .secrecy import (
    RANK_COPIES, SecrecyMixin, copy_secrecy_rank, secrecy_rank)

RETENTION = [
    (None, ""),
    ('10y', "10 Years"),
    ('30y', "30 Years"),
    ('permanent', "Permanent"),
    ]
# Files of this rank and above are encrypted at rest (机密, 绝密)
ENCRYPT_FROM = secrecy_rank('secret')
# Downloads of this rank and above are watermarked and logged (秘密+)
WATERMARK_FROM = secrecy_rank('confidential')
MAX_SIZE = 20 * 1024 * 1024
# Text rendered into a watermarked PDF at download: larger is refused
MAX_RENDERED_TEXT = 2 * 1024 * 1024


def archive_key():
    """The archive key from the configuration ([office] archive_key, 32
    bytes in base64): never in the database nor the filestore."""
    value = config.get('office', 'archive_key', default=None) or \
        os.environ.get('OFFICE_ARCHIVE_KEY')
    if not value:
        raise ArchiveError(gettext('office_admin.msg_archive_no_key'))
    key = base64.b64decode(value)
    if len(key) != 32:
        raise ArchiveError(gettext('office_admin.msg_archive_no_key'))
    return key


def encrypt(data, associated):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    nonce = os.urandom(12)
    return b'OAE1' + nonce + AESGCM(archive_key()).encrypt(
        nonce, data, associated)


class _FilestoreEraser:
    """Erase the files a transaction replaced, once it is committed: the
    plaintext of a copy that became secret does not stay in the filestore
    until ir.filestore.queue removes it (90 days later)"""

    def __init__(self):
        self.files = set()

    def __eq__(self, other):
        return isinstance(other, _FilestoreEraser)

    def __hash__(self):
        return hash(_FilestoreEraser)

    def abort(self, trans):
        self.files.clear()

    def tpc_begin(self, trans):
        pass

    def commit(self, trans):
        pass

    def tpc_vote(self, trans):
        pass

    def tpc_finish(self, trans):
        for prefix, file_id in self.files:
            erase_stored_file(file_id, prefix)
        self.files.clear()

    def tpc_abort(self, trans):
        self.files.clear()


def erase_stored_file(file_id, prefix):
    "Overwrite a file of the filestore with zeros, then remove it"
    if '-' not in file_id:
        # Older content-addressed ids may be shared with other records
        return
    filename = getattr(filestore, '_filename', None)
    if filename:
        try:
            path = filename(file_id, prefix)
            size = os.path.getsize(path)
            with open(path, 'r+b') as fp:
                fp.write(b'\0' * size)
                fp.flush()
                os.fsync(fp.fileno())
        except OSError:
            pass
    filestore.delete(file_id, prefix)


def decrypt(data, associated):
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    if not data.startswith(b'OAE1'):
        raise ArchiveError(gettext('office_admin.msg_archive_decrypt'))
    try:
        return AESGCM(archive_key()).decrypt(data[4:16], data[16:], associated)
    except InvalidTag:
        raise ArchiveError(gettext('office_admin.msg_archive_decrypt'))


class ArchiveBorrowMixin:
    """Archives readable by the employees who borrowed them, until the loan
    ends: `borrowers` is the same in SQL and in Python whoever evaluates it
    (Rule.check searches as root), so record rules may use it."""
    __slots__ = ()
    _borrow_archive_column = 'id'
    borrowers = fields.Function(
        fields.Many2Many('company.employee', None, None, "Borrowers"),
        'get_borrowers', searcher='search_borrowers')

    @classmethod
    def _lent(cls):
        "Return the query of (archive, borrower) of the current loans"
        pool = Pool()
        Borrow = pool.get('office.archive.borrow')
        borrow = Borrow.__table__()
        return borrow, ((borrow.state == 'lent')
            & (borrow.access_until > calendar_.utcnow()))

    @classmethod
    def get_borrowers(cls, records, name):
        table = cls.__table__()
        borrow, where = cls._lent()
        column = getattr(table, cls._borrow_archive_column)
        cursor = Transaction().connection.cursor()
        result = {r.id: set() for r in records}
        for sub_ids in grouped_slice([r.id for r in records], 200):
            cursor.execute(*table.join(borrow,
                    condition=borrow.archive == column
                    ).select(table.id, borrow.borrower,
                    where=where & table.id.in_(list(sub_ids))))
            for id_, borrower in cursor:
                result[id_].add(borrower)
        return {k: sorted(v) for k, v in result.items()}

    @classmethod
    def search_borrowers(cls, name, clause):
        _, operator, value = clause[:3]
        table = cls.__table__()
        borrow, where = cls._lent()
        column = getattr(table, cls._borrow_archive_column)
        if operator not in {'=', 'in'}:
            return [('id', '=', -1)]
        values = value if operator == 'in' else [value]
        values = [int(v) for v in values if v is not None] or [-1]
        return [('id', 'in', table.join(borrow,
                    condition=borrow.archive == column
                    ).select(table.id,
                    where=where & borrow.borrower.in_(values)))]


class Archive(OfficeAccessMixin, 
        ArchiveBorrowMixin, DeadlineMixin, SecrecyMixin, Workflow, ModelSQL,
        ModelView):
    __name__ = 'office.archive'
    _rec_name = 'title'
    _states = {'readonly': Eval('state') != 'pending'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    code = fields.Char(
        "Classification Code", readonly=True,
        help="Year – department – type – serial.")
    year = fields.Integer("Year", required=True, states=_states)
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states)
    type = fields.Many2One(
        'office.document.type', "Type", required=True, states=_states)
    title = fields.Char("Title", required=True, states=_states)
    source = fields.Reference(
        "Source", selection=[
            (None, ''),
            ('office.document.incoming', "Incoming Document"),
            ('office.document.outgoing', "Outgoing Document"),
            ], readonly=True)
    retention = fields.Selection(
        RETENTION, "Retention", states={
            'readonly': _states['readonly'],
            'required': Eval('state') == 'archived',
            })
    room = fields.Char("Room", states=_states)
    cabinet = fields.Char("Cabinet", states=_states)
    box = fields.Char("Box", states=_states)
    keywords = fields.Char("Keywords", states=_states)
    files = fields.One2Many(
        'office.archive.file', 'archive', "Electronic Copies",
        states=_states)
    state = fields.Selection([
            ('pending', "To Archive"),
            ('archived', "Archived"),
            ], "State", readonly=True, required=True)
    archived_at = fields.DateTime("Archived At", readonly=True)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.year, Index.Range()),
                    (t.department, Index.Range())),
                Index(t, (t.source, Index.Equality())),
                })
        cls.secrecy.states = {'readonly': Eval('state') != 'pending'}
        cls._transitions |= {('pending', 'archived')}
        cls._buttons.update({
                'archive': {
                    'invisible': Eval('state') != 'pending',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def _lowered_below_encryption(cls, archives, secrecy):
        "The archives that would leave the encrypted ranks with secrecy"
        if secrecy_rank(secrecy) >= ENCRYPT_FROM:
            return []
        return [a for a in archives
            if secrecy_rank(a.secrecy) >= ENCRYPT_FROM]

    @classmethod
    def check_modification(cls, mode, archives, values=None, external=False):
        pool = Pool()
        File = pool.get('office.archive.file')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        super().check_modification(
            mode, archives, values=values, external=external)
        if mode != 'write' or 'secrecy' not in values:
            return
        lowered = cls._lowered_below_encryption(archives, values['secrecy'])
        if not lowered or not Transaction().user:
            return
        with without_check_access():
            encrypted = File.search([
                    ('archive', 'in', [a.id for a in lowered]),
                    ('encrypted', '=', True),
                    ], limit=1)
        admin = ModelData.get_id('office_admin', 'group_office_admin')
        if encrypted and admin not in User.get_groups():
            raise AccessError(gettext(
                    'office_admin.msg_archive_lower_secrecy'))

    @classmethod
    def write(cls, *args):
        """Store the copies of an entry as its new secrecy says, in the same
        transaction: encrypted from secret up, in clear below (an audited
        act, see check_modification)"""
        pool = Pool()
        File = pool.get('office.archive.file')
        Log = pool.get('office.access.log')
        actions = iter(args)
        changed, before = [], {}
        with without_check_access():
            for archives, values in zip(actions, actions):
                if 'secrecy' in values:
                    changed.extend(archives)
                    for archive in cls.browse(archives):
                        before[archive.id] = archive.secrecy
        super().write(*args)
        if not changed:
            return
        with without_check_access():
            files = File.search([
                    ('archive', 'in', list(before)),
                    ], order=[('id', 'ASC')])
            decrypted = File.sync_encryption(files)
            archives = cls.browse(list({f.archive.id for f in decrypted}))
            Log.create([{
                        'user': Transaction().user,
                        'resource': str(archive),
                        'action': 'lower',
                        'detail': '%s → %s' % (
                            before[archive.id], archive.secrecy),
                        } for archive in archives])

    @classmethod
    def on_modification(cls, mode, archives, field_names=None):
        pool = Pool()
        File = pool.get('office.archive.file')
        Borrow = pool.get('office.archive.borrow')
        super().on_modification(mode, archives, field_names=field_names)
        if mode == 'write' and (not field_names
                or field_names & {'secrecy', 'secrecy_rank', 'department'}):
            File.sync_archive(archives=archives)
            Borrow.sync_archive(archives=archives)

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', '=', 'pending')]

    def deadline_owners(self):
        User = Pool().get('res.user')
        return User.users_in_group('office_admin.group_office_staff')

    def deadline_department(self):
        return self.department

    @classmethod
    def create_from(cls, documents):
        """Create the entries of completed or issued documents, due within
        24 working hours (the same time on the next working day)"""
        pool = Pool()
        Calendar = pool.get('office.calendar')
        now = calendar_.utcnow()
        with without_check_access():
            existing = {str(a.source) for a in cls.search([
                        ('source', 'in', [str(d) for d in documents]),
                        ])}
            entries = []
            for document in documents:
                if str(document) in existing:
                    continue
                calendar = Calendar.get_calendar(document.company)
                department = getattr(document, 'department', None) or (
                    document.handlers[0].department
                    if getattr(document, 'handlers', None) else None)
                entries.append(cls(
                        company=document.company, year=now.year,
                        department=department, type=document.type,
                        title=document.rec_name, source=document,
                        secrecy=document.secrecy,
                        deadline=calendar.add_working_days_same_time(
                            now, 1, document.company)))
            cls.save([e for e in entries if e.department])
        return entries

    @classmethod
    @ModelView.button
    @Workflow.transition('archived')
    def archive(cls, archives):
        for archive in archives:
            if not archive.retention:
                raise ArchiveError(gettext(
                        'office_admin.msg_archive_retention',
                        archive=archive.rec_name))
            serial = cls.search_count([
                    ('year', '=', archive.year),
                    ('department', '=', archive.department.id),
                    ('type', '=', archive.type.id),
                    ('state', '=', 'archived'),
                    ]) + 1
            archive.code = '%s-%s-%s-%04d' % (
                archive.year, archive.department.code, archive.type.code,
                serial)
            archive.archived_at = calendar_.utcnow()
        cls.save(archives)


class ArchiveFile(
        OfficeAccessMixin, ArchiveBorrowMixin, ModelSQL, ModelView):
    "Electronic copy of an archive: encrypted at rest when secret"
    __name__ = 'office.archive.file'
    _borrow_archive_column = 'archive'

    archive = fields.Many2One(
        'office.archive', "Archive", required=True, ondelete='CASCADE')
    # Copied from the archive for the record rules (see access.py)
    secrecy_rank = fields.Integer("Secrecy Rank", readonly=True)
    department = fields.Many2One(
        'office.department', "Department", readonly=True)
    name = fields.Char("File Name", required=True)
    data = fields.Function(
        fields.Binary("File", filename='name'), 'get_data',
        setter='set_data')
    content = fields.Binary("Stored Content", file_id='content_id')
    content_id = fields.Char("Stored Content ID", readonly=True)
    encrypted = fields.Boolean("Encrypted", readonly=True)
    size = fields.Integer("Size", readonly=True)
    stored_digest = fields.Char(
        "Stored SHA-256", readonly=True,
        help="The digest of the bytes as stored: of the ciphertext when "
        "the copy is encrypted, so that it confirms no guess of the text.")
    mimetype = fields.Char("Type", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.archive, Index.Range())),
                Index(t, (t.secrecy_rank, Index.Range())),
                })
        # Only the getter and setter of data touch the stored bytes
        cls.content.states = {'invisible': True}

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        table_h = cls.__table_handler__(module)
        # Migration: the SHA-256 of the plaintext confirmed guesses of
        # encrypted copies; keep the digest of the stored bytes instead
        if table_h.column_exist('digest'):
            cls._migrate_stored_digest()
            table_h.drop_column('digest')

        # Migration: fill the fields the record rules read
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id,
                where=table.secrecy_rank == Null))
        ids = [i for i, in cursor]
        if ids:
            cls.sync_archive(files=cls.browse(ids))

    @classmethod
    def _migrate_stored_digest(cls):
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        prefix = cls.content.store_prefix or transaction.database.name
        cursor.execute(*table.select(
                table.id, table.content, table.content_id))
        for id_, content, content_id in cursor.fetchall():
            data = content
            if content_id:
                try:
                    data = filestore.get(content_id, prefix=prefix)
                except OSError:
                    data = None
            digest = hashlib.sha256(bytes(data)).hexdigest() \
                if data is not None else None
            cursor.execute(*table.update(
                    [table.stored_digest], [digest],
                    where=table.id == id_))

    @classmethod
    def check_modification(cls, mode, files, values=None, external=False):
        super().check_modification(
            mode, files, values=values, external=external)
        if mode == 'write' and 'archive' in values:
            if any(f.archive.id != values['archive'] for f in files):
                raise AccessError(gettext(
                        'office_admin.msg_archive_file_move'))

    @classmethod
    def copy(cls, files, default=None):
        "A copy shares no stored bytes: they are bound to the record's id"
        new_files = super().copy(files, default=default)
        with without_check_access():
            for old, new in zip(cls.browse(files), new_files):
                stored = old.content
                if stored is None:
                    continue
                data = bytes(stored)
                if old.encrypted:
                    data = decrypt(data, cls._associated(old))
                cls._store(new, data)
        return new_files

    @classmethod
    def _store(cls, file, data):
        """Store data as the copy's entry's secrecy says (encrypted from
        secret up); the file it replaces is erased at commit"""
        transaction = Transaction()
        with without_check_access():
            file, = cls.browse([file.id])
        encrypted = secrecy_rank(file.archive.secrecy) >= ENCRYPT_FROM
        stored = encrypt(data, cls._associated(file)) if encrypted else data
        old_id = file.content_id
        with without_check_access():
            cls.write([file], {
                    'content': stored,
                    'encrypted': encrypted,
                    'stored_digest': hashlib.sha256(stored).hexdigest(),
                    })
        if old_id:
            table = cls.__table__()
            cursor = transaction.connection.cursor()
            cursor.execute(*table.select(
                    table.id, where=table.content_id == old_id, limit=1))
            if not cursor.fetchone():
                prefix = cls.content.store_prefix or transaction.database.name
                transaction.join(_FilestoreEraser()).files.add(
                    (prefix, old_id))

    @classmethod
    def sync_encryption(cls, files):
        """Store each copy encrypted or in clear as the secrecy of its
        entry now says; return the copies that were decrypted"""
        decrypted = []
        with without_check_access():
            for file in cls.browse(files):
                encrypted = secrecy_rank(file.archive.secrecy) >= ENCRYPT_FROM
                if bool(file.encrypted) == encrypted:
                    continue
                stored = file.content
                if stored is None:
                    cls.write([file], {'encrypted': encrypted})
                    continue
                data = bytes(stored)
                if file.encrypted:
                    data = decrypt(data, cls._associated(file))
                    decrypted.append(file)
                cls._store(file, data)
        return decrypted

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Archive = pool.get('office.archive')
        values = super().preprocess_values(mode, values)
        if values.get('archive') is not None and int(values['archive']) >= 0:
            with without_check_access():
                archive = Archive(int(values['archive']))
                values['secrecy_rank'] = archive.secrecy_rank
                values['department'] = (
                    archive.department.id if archive.department else None)
        return values

    @classmethod
    def on_modification(cls, mode, files, field_names=None):
        super().on_modification(mode, files, field_names=field_names)
        if mode == 'create' or (mode == 'write' and (
                    not field_names or 'archive' in field_names)):
            cls.sync_archive(files=files)

    @classmethod
    def sync_archive(cls, files=None, archives=None):
        "Copy the secrecy rank and department of the archive onto its files"
        copy_from_parent(cls, 'archive', {
                'secrecy_rank': 'secrecy_rank',
                'department': 'department',
                }, records=files, parents=archives)

    @classmethod
    def check_file(cls, name, data):
        import puremagic
        if len(data) > MAX_SIZE:
            raise ArchiveError(gettext(
                    'office_admin.msg_archive_file_size', name=name,
                    size=MAX_SIZE // (1024 * 1024)))
        expected, _ = mimetypes.guess_type(name)
        try:
            found = {m.mime_type for m in puremagic.magic_string(data)}
        except puremagic.PureError:
            found = set()
        if expected and found and expected not in found:
            raise ArchiveError(gettext(
                    'office_admin.msg_archive_file_type', name=name))
        return expected or 'application/octet-stream'

    @classmethod
    def set_data(cls, files, name, value):
        if value is None:
            return
        value = bytes(value)
        for file in files:
            mimetype = cls.check_file(file.name, value)
            cls.write([file], {
                    'size': len(value),
                    'mimetype': mimetype,
                    })
            cls._store(file, value)

    @classmethod
    def _associated(cls, file):
        return ('office.archive.file,%s' % file.id).encode()

    @classmethod
    def get_data(cls, files, name):
        pool = Pool()
        Log = pool.get('office.access.log')
        User = pool.get('res.user')
        context = Transaction().context
        result = {}
        logs = []
        user = User(Transaction().user)
        for file in files:
            if context.get('%s.%s' % (cls.__name__, name)) == 'size':
                result[file.id] = file.size
                continue
            with without_check_access():
                stored = cls(file.id).content
            if stored is None:
                result[file.id] = None
                continue
            data = bytes(stored)
            if file.encrypted:
                data = decrypt(data, cls._associated(file))
            rank = secrecy_rank(file.archive.secrecy)
            if rank >= WATERMARK_FROM:
                data = watermark(as_pdf(data, file.mimetype), user)
                logs.append({
                        'user': user.id,
                        'resource': str(file.archive),
                        'action': 'download',
                        'detail': file.name,
                        })
            result[file.id] = data
        if logs:
            # Reads run in read-only transactions (PostgreSQL): the log is
            # written in a transaction of its own, kept even if the read
            # fails later, as ir.avatar does for its cache
            with Transaction().new_transaction(), without_check_access():
                Log.create(logs)
        return result


def _data_only(url, *args, **kwargs):
    "Fetch nothing but data: URLs while rendering uploaded content"
    import weasyprint
    if not url.startswith('data:'):
        raise ValueError("external resource refused")
    return weasyprint.default_url_fetcher(url, *args, **kwargs)


def as_pdf(data, mimetype):
    """Return data as a PDF to watermark: PDF as is, text and images
    rendered on A4 pages; any other type cannot be watermarked and its
    download is refused"""
    import weasyprint
    mimetype = mimetype or ''
    if mimetype == 'application/pdf':
        return data
    style = (
        '@page { size: A4; margin: 20mm 15mm 30mm 15mm } '
        'body { margin: 0; font-family: "WenQuanYi Micro Hei", sans-serif } '
        'pre { white-space: pre-wrap; word-wrap: break-word; '
        'font-size: 9pt; font-family: "WenQuanYi Micro Hei Mono", '
        '"WenQuanYi Micro Hei", monospace } '
        'img { max-width: 100%; max-height: 240mm }')
    if mimetype.startswith('text/'):
        if len(data) > MAX_RENDERED_TEXT:
            raise ArchiveError(gettext(
                    'office_admin.msg_archive_text_too_large',
                    size=MAX_RENDERED_TEXT // (1024 * 1024)))
        text = data.decode('utf-8', errors='replace')
        body = '<pre>%s</pre>' % html.escape(text)
    elif mimetype.startswith('image/'):
        body = '<img src="data:%s;base64,%s">' % (
            html.escape(mimetype), base64.b64encode(data).decode())
    else:
        raise ArchiveError(gettext('office_admin.msg_archive_no_watermark'))
    page = '<html><head><meta charset="utf-8"><style>%s</style></head>' \
        '<body>%s</body></html>' % (style, body)
    return weasyprint.HTML(
        string=page, url_fetcher=_data_only).write_pdf()


def watermark(data, user):
    """Stamp the user's name, login and the time on every page"""
    import weasyprint
    from pypdf import PdfReader, PdfWriter
    now = calendar_.utcnow().strftime('%Y-%m-%d %H:%M UTC')
    text = '%s (%s) %s' % (user.name, user.login, now)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages:
        width = float(page.mediabox.width)
        height = float(page.mediabox.height)
        html = (
            '<html><head><style>@page { size: %spt %spt; margin: 0 } '
            'body { margin: 0; font-family: "WenQuanYi Micro Hei", '
            'sans-serif } div { position: absolute; bottom: 20pt; left: 20pt;'
            ' color: rgba(200, 0, 0, 0.6); font-size: 10pt } '
            '</style></head><body><div>%s</div></body></html>') % (
            width, height, text.replace('<', '&lt;'))
        stamp = PdfReader(io.BytesIO(
                weasyprint.HTML(string=html).write_pdf())).pages[0]
        page.merge_page(stamp)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


class AccessLog(OfficeAccessMixin, ModelSQL, ModelView):
    "Who opened what: never edited nor deleted"
    __name__ = 'office.access.log'

    user = fields.Many2One('res.user', "User", required=True, readonly=True)
    resource = fields.Reference(
        "Record", selection=[
            ('office.archive', "Archive"),
            ('office.document.incoming', "Incoming Document"),
            ('office.document.outgoing', "Outgoing Document"),
            ], required=True, readonly=True)
    action = fields.Selection([
            ('download', "Download"),
            ('read', "Read"),
            ('print', "Print"),
            ('lower', "Lower Secrecy"),
            ], "Action", required=True, readonly=True)
    detail = fields.Char("Detail", readonly=True)
    # Copied from the record for the clearance rule (see access.py), kept
    # in sync by sync_rank(): a log names its record
    secrecy_rank = fields.Integer("Secrecy Rank", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Migration: fill the rank the clearance rule reads
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.resource,
                where=table.secrecy_rank == Null))
        resources = {r for r, in cursor}
        if resources:
            cls.sync_rank(resources)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('resource'):
            values['secrecy_rank'] = cls._rank(values['resource'])
        return values

    @classmethod
    def _rank(cls, resource):
        pool = Pool()
        model, id_ = str(resource).split(',')
        Model = pool.get(model)
        if 'secrecy_rank' not in Model._fields:
            return 0
        with without_check_access():
            return Model(int(id_)).secrecy_rank or 0

    @classmethod
    def sync_rank(cls, resources):
        "Copy the secrecy rank of the resources onto their logs"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        by_rank = {}
        for resource in resources:
            by_rank.setdefault(cls._rank(resource), []).append(str(resource))
        for rank, names in by_rank.items():
            for sub in grouped_slice(names, 200):
                cursor.execute(*table.update(
                        [table.secrecy_rank], [rank],
                        where=table.resource.in_(list(sub))))

    @classmethod
    def check_modification(cls, mode, logs, values=None, external=False):
        super().check_modification(
            mode, logs, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise ArchiveError(gettext('office_admin.msg_access_log_readonly'))


class Borrow(
        OfficeAccessMixin, DeadlineMixin, ApprovalMixin, Workflow, ModelSQL,
        ModelView):
    "Borrowing of an archive (档案借阅)"
    __name__ = 'office.archive.borrow'
    _approval_summary_fields = ('archive', 'medium', 'purpose', 'return_date')
    _workflow_own_fields = {'borrower', 'department'}
    _reference_catalogue = {'archive'}
    _approval_transitions = {
        'approved': 'approved',
        'rejected': 'rejected',
        'returned': 'draft',
        'withdrawn': 'draft',
        }
    _states = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    archive = fields.Many2One(
        'office.archive', "Archive", required=True, states=_states,
        domain=[('state', '=', 'archived')])
    borrower = fields.Many2One(
        'company.employee', "Borrower", required=True, states=_states)
    department = fields.Many2One(
        'office.department', "Department", required=True, states=_states)
    purpose = fields.Text("Purpose", required=True, states=_states)
    medium = fields.Selection([
            ('paper', "Paper"),
            ('electronic', "Electronic"),
            ], "Medium", required=True, states=_states)
    return_date = fields.Date(
        "Return Date", required=True, states=_states)
    lent_at = fields.DateTime("Lent At", readonly=True)
    access_until = fields.DateTime(
        "Access Until", readonly=True,
        help="An electronic loan gives access until then, by itself.")
    returned_at = fields.DateTime("Returned At", readonly=True)
    # Copied from the archive for the clearance rule (see access.py), kept
    # in sync by sync_archive(): a loan shows its archive's title
    secrecy_rank = fields.Integer("Secrecy Rank", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('lent', "Lent"),
            ('returned', "Returned"),
            ('rejected', "Rejected"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.archive, Index.Range()),
                (t.state, Index.Equality())))
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'approved'),
            ('submitted', 'rejected'),
            ('submitted', 'draft'),
            ('approved', 'lent'),
            ('lent', 'returned'),
            ('draft', 'cancelled'),
            ('approved', 'cancelled'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'lend': {
                    'invisible': Eval('state') != 'approved',
                    'depends': ['state'],
                    },
                'return_': {
                    'invisible': Eval('state') != 'lent',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'approved']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_medium(cls):
        return 'electronic'

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Migration: fill the rank the clearance rule reads
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id,
                where=table.secrecy_rank == Null))
        ids = [i for i, in cursor]
        if ids:
            cls.sync_archive(borrows=cls.browse(ids))

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Archive = pool.get('office.archive')
        values = super().preprocess_values(mode, values)
        if values.get('archive') is not None and int(values['archive']) >= 0:
            with without_check_access():
                values['secrecy_rank'] = (
                    Archive(int(values['archive'])).secrecy_rank or 0)
        return values

    @classmethod
    def on_modification(cls, mode, borrows, field_names=None):
        super().on_modification(mode, borrows, field_names=field_names)
        if mode == 'write' and (not field_names or 'archive' in field_names):
            cls.sync_archive(borrows=borrows)

    @classmethod
    def sync_archive(cls, borrows=None, archives=None):
        "Copy the secrecy rank of the archive onto its loans"
        pool = Pool()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        if borrows is not None:
            column, records = table.id, borrows
        else:
            column, records = table.archive, archives
        ids = []
        for sub_ids in grouped_slice([r.id for r in records], 200):
            cursor.execute(*table.select(table.id,
                    where=column.in_(list(sub_ids))))
            ids.extend(i for i, in cursor)
        copy_from_parent(
            cls, 'archive', {'secrecy_rank': 'secrecy_rank'}, records=ids)
        for sub_ids in grouped_slice(ids, 200):
            sub_ids = list(sub_ids)
            # The approval requests of the loans follow their rank
            for name in RANK_COPIES:
                copy_secrecy_rank(pool.get(name), lambda t: (
                        (t.res_model == cls.__name__)
                        & t.res_id.in_(sub_ids)))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_borrower(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_department(cls):
        from .common import context_department
        return context_department()

    def approval_requester_employee(self):
        return self.borrower

    @classmethod
    def validate_fields(cls, borrows, field_names):
        super().validate_fields(borrows, field_names)
        if 'return_date' in field_names:
            cls.check_deadline_future(
                [b for b in borrows if b.state == 'draft'], 'return_date')

    @classmethod
    def check_available(cls, borrows):
        for borrow in borrows:
            others = cls.search([
                    ('archive', '=', borrow.archive.id),
                    ('id', '!=', borrow.id),
                    ('state', 'in', ['submitted', 'approved', 'lent']),
                    ('medium', '=', 'paper'),
                    ], limit=1)
            if borrow.medium == 'paper' and others:
                raise ArchiveError(gettext(
                        'office_admin.msg_borrow_already_lent',
                        archive=borrow.archive.rec_name))

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', '=', 'lent')]

    def deadline_owners(self):
        User = Pool().get('res.user')
        return list(User.users_of_employees([self.borrower]).values())

    def deadline_department(self):
        return self.department

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, borrows):
        cls.check_deadline_future(borrows, 'return_date')
        with without_check_access():
            cls.check_available(borrows)
        cls.write(borrows, {'state': 'submitted'})
        cls.approval_submit(borrows)

    @classmethod
    @ModelView.button
    @Workflow.transition('lent')
    def lend(cls, borrows):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        now = calendar_.utcnow()
        for borrow in borrows:
            calendar = Calendar.get_calendar(borrow.company)
            end = calendar.end_of_working_day(
                calendar.next_working_day(borrow.return_date), borrow.company)
            borrow.lent_at = now
            borrow.deadline = end
            borrow.escalation_level = 0
            borrow.access_until = end if borrow.medium == 'electronic' \
                else None
        cls.save(borrows)

    @classmethod
    @ModelView.button
    @Workflow.transition('returned')
    def return_(cls, borrows):
        cls.write(borrows, {
                'returned_at': calendar_.utcnow(),
                'access_until': None,
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, borrows):
        pass
