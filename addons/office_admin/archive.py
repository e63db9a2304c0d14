# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Archives (档案): entries created from completed incoming and issued
outgoing documents, to be archived within a working day; electronic copies
of secret documents encrypted at rest; downloads of confidential ones
watermarked and logged."""
import base64
import hashlib
import io
import mimetypes
import os

from trytond import config
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from . import calendar_
from .deadline import DeadlineMixin
from .exceptions import ArchiveError
from .secrecy import SecrecyMixin, secrecy_rank

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


def decrypt(data, associated):
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    if not data.startswith(b'OAE1'):
        raise ArchiveError(gettext('office_admin.msg_archive_decrypt'))
    try:
        return AESGCM(archive_key()).decrypt(data[4:16], data[16:], associated)
    except InvalidTag:
        raise ArchiveError(gettext('office_admin.msg_archive_decrypt'))


class Archive(DeadlineMixin, SecrecyMixin, Workflow, ModelSQL, ModelView):
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


class ArchiveFile(ModelSQL, ModelView):
    "Electronic copy of an archive: encrypted at rest when secret"
    __name__ = 'office.archive.file'

    archive = fields.Many2One(
        'office.archive', "Archive", required=True, ondelete='CASCADE')
    name = fields.Char("File Name", required=True)
    data = fields.Function(
        fields.Binary("File", filename='name'), 'get_data',
        setter='set_data')
    content = fields.Binary("Stored Content", file_id='content_id')
    content_id = fields.Char("Stored Content ID", readonly=True)
    encrypted = fields.Boolean("Encrypted", readonly=True)
    size = fields.Integer("Size", readonly=True)
    digest = fields.Char("SHA-256", readonly=True)
    mimetype = fields.Char("Type", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Only the getter and setter of data touch the stored bytes
        cls.content.states = {'invisible': True}

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
            rank = secrecy_rank(file.archive.secrecy)
            stored = value
            encrypted = rank >= ENCRYPT_FROM
            if encrypted:
                stored = encrypt(value, cls._associated(file))
            cls.write([file], {
                    'content': stored,
                    'encrypted': encrypted,
                    'size': len(value),
                    'digest': hashlib.sha256(value).hexdigest(),
                    'mimetype': mimetype,
                    })

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
                if file.mimetype == 'application/pdf':
                    data = watermark(data, user)
                logs.append(Log(
                        user=user, resource=file.archive, action='download',
                        detail=file.name))
            result[file.id] = data
        if logs:
            with without_check_access():
                Log.save(logs)
        return result


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


class AccessLog(ModelSQL, ModelView):
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
            ], "Action", required=True, readonly=True)
    detail = fields.Char("Detail", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def check_modification(cls, mode, logs, values=None, external=False):
        super().check_modification(
            mode, logs, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise ArchiveError(gettext('office_admin.msg_access_log_readonly'))
