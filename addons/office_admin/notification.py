# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The one notification service every office process calls.

It writes Tryton's own `res.notification` (in-app, pushed on the bus), sends
an e-mail through `ir.email` (filed on the record) and posts in the record's
chat. A `key` makes a notification happen once per record and user however
often a job re-runs: the log has a unique constraint on it."""
import logging
from email.message import EmailMessage

from trytond import config
from trytond.i18n import gettext
from trytond.model import Index, Model, ModelSQL, ModelView, Unique, fields
from trytond.model.chat import ChatMixin
from trytond.pool import Pool
from trytond.sendmail import send_message_transactional
from trytond.tools.email_ import format_address, set_from_header
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .access import OfficeAccessMixin
from .secrecy import secrecy_rank

logger = logging.getLogger(__name__)


class NotificationLog(OfficeAccessMixin, ModelSQL, ModelView):
    __name__ = 'office.notification.log'

    resource = fields.Reference(
        "Resource", selection='get_models', required=True, readonly=True)
    user = fields.Many2One(
        'res.user', "User", required=True, readonly=True, ondelete='CASCADE')
    key = fields.Char("Key", required=True, readonly=True)
    message = fields.Char("Message", readonly=True)
    emailed = fields.Boolean("E-mailed", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('resource_user_key_unique', Unique(t, t.resource, t.user, t.key),
                'office_admin.msg_notification_duplicate'),
            ]
        cls._sql_indexes.add(Index(t, (t.resource, Index.Equality())))
        cls._order.insert(0, ('create_date', 'DESC'))

    @classmethod
    def get_models(cls):
        return Pool().get('ir.model').get_name_items()

class Notification:
    "Service: notify users of something that happened to records"
    __slots__ = ()

    @classmethod
    def send(cls, records, users, message_id, key=None, email=True,
            chat=True, icon='tryton-notification', attachments=None,
            **variables):
        """Notify each of users about each of records with the message.

        key: when given, a (record, user, key) is notified at most once.
        variables: for the message; `record` is added with the record's
        name. Return the number of (record, user) pairs notified."""
        pool = Pool()
        Log = pool.get('office.notification.log')
        User = pool.get('res.user')
        users = [u for u in {int(u): u for u in users if u}.values()]
        if not records or not users:
            return 0
        users = User.browse(users)
        sent = 0
        with without_check_access():
            for sub_records in grouped_slice(records, 100):
                sub_records = list(sub_records)
                already = set()
                if key:
                    resources = [str(r) for r in sub_records]
                    for logs in grouped_slice(resources, 100):
                        for log in Log.search([
                                    ('resource', 'in', list(logs)),
                                    ('key', '=', key),
                                    ('user', 'in', [u.id for u in users]),
                                    ]):
                            already.add((str(log.resource), log.user.id))
                logs = []
                for record in sub_records:
                    chat_done = False
                    # Nobody is told about what his clearance hides
                    rank = getattr(record, 'secrecy_rank', None) or 0
                    for user in users:
                        if (str(record), user.id) in already:
                            continue
                        if secrecy_rank(user.clearance) < rank:
                            continue
                        label, description = cls._render(
                            record, user, message_id, variables)
                        record.notify_user(
                            icon, label, description, user=user.id)
                        emailed = False
                        if email and user.email:
                            emailed = cls._email(
                                record, user.email, user.name, label,
                                description, attachments)
                        if chat and not chat_done and isinstance(
                                record, ChatMixin):
                            record.chat_post(
                                message_id, record=record.rec_name,
                                **variables)
                            chat_done = True
                        logs.append(Log(
                                resource=record, user=user,
                                key=key or cls._unique_key(),
                                message=label, emailed=emailed))
                        sent += 1
                Log.save(logs)
        return sent

    @classmethod
    def _unique_key(cls):
        import uuid
        return 'once-%s' % uuid.uuid4().hex

    @classmethod
    def _render(cls, record, user, message_id, variables):
        language = user.language.code if user.language else None
        with Transaction().set_context(language=language):
            # Read again in the recipient's language (the caller's instance
            # caches its names in the caller's, e.g. a job's English)
            record = record.__class__(record.id)
            label = gettext(
                message_id, record=record.rec_name, **variables)
            model = Pool().get('ir.model').get_name(record.__name__)
            description = '%s: %s' % (model, record.rec_name)
        return label, description

    @classmethod
    def _email(cls, record, address, name, subject, body, attachments=None):
        """Send at commit, not strictly: an SMTP outage is logged and never
        undoes the business action. The mail is filed on the record.
        attachments: [(filename, data, maintype, subtype)]"""
        pool = Pool()
        Email = pool.get('ir.email')
        msg = EmailMessage()
        from_ = config.get('email', 'from')
        set_from_header(msg, from_, from_)
        msg['To'] = format_address(address, name)
        msg['Subject'] = subject
        msg.set_content('%s\n\n%s\n' % (subject, body))
        for filename, data, maintype, subtype in attachments or []:
            params = {}
            if (maintype, subtype) == ('text', 'calendar'):
                method = b'CANCEL' if b'METHOD:CANCEL' in data else b'REQUEST'
                params['params'] = {'method': method.decode()}
            msg.add_attachment(
                data, maintype=maintype, subtype=subtype, filename=filename,
                **params)
        try:
            send_message_transactional(msg, strict=False)
            Email.from_message(msg, resource=record).save()
        except Exception:
            logger.warning(
                "could not e-mail %s about %s", address, record,
                exc_info=True)
            return False
        return True

    @classmethod
    def email_address(cls, record, address, name, message_id,
            attachments=None, **variables):
        "E-mail someone who is not a user (an external guest)"
        with without_check_access():
            label = gettext(message_id, record=record.rec_name, **variables)
            model = Pool().get('ir.model').get_name(record.__name__)
            return cls._email(record, address, name, label,
                '%s: %s' % (model, record.rec_name), attachments)

    @classmethod
    def already_sent(cls, record, key):
        "Tell whether any user was notified about the record with key"
        pool = Pool()
        Log = pool.get('office.notification.log')
        return bool(Log.search([
                    ('resource', '=', str(record)),
                    ('key', '=', key),
                    ], limit=1))

class OfficeNotification(Notification, Model):
    __name__ = 'office.notification'
