# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The one notification service every office process calls.

It writes Tryton's own `res.notification` (in-app, pushed on the bus) in
the caller's transaction; what is for others goes to Tryton's queue
(`ir.queue`, run by trytond-worker): the e-mail (filed on the record as an
`ir.email`, see `NotificationLog.deliver`) and the post in the record's chat
(`ChatMixin.chat_post` queues itself). A `key` makes a notification happen
once per record and user however often a job re-runs: the log has a unique
constraint on it, and marks the e-mail sent so that a task run again sends
nothing twice."""
import datetime as dt
import logging
from email.message import EmailMessage

from trytond import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, Model, ModelSQL, ModelView, Unique, fields
from trytond.model.chat import ChatMixin
from trytond.pool import Pool
from trytond.sendmail import send_message
from trytond.tools.email_ import format_address, set_from_header
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .access import OfficeAccessMixin
from .secrecy import secrecy_rank

logger = logging.getLogger(__name__)


class NotificationLog(OfficeAccessMixin, ModelSQL, ModelView):
    __name__ = 'office.notification.log'

    resource = fields.Reference(
        "Resource", selection='get_models', required=True, readonly=True)
    # None for an e-mail to someone who is not a user (a meeting's guest)
    user = fields.Many2One(
        'res.user', "User", readonly=True, ondelete='CASCADE')
    key = fields.Char("Key", required=True, readonly=True)
    message = fields.Char("Message", readonly=True)
    address = fields.Char("E-mail Address", readonly=True,
        help="Where the e-mail goes; it waits in the queue until sent.")
    emailed = fields.Boolean("E-mailed", readonly=True)
    email_error = fields.Char("E-mail Error", readonly=True,
        help="Why the last attempt failed; it is tried again later.")

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

    @classmethod
    def queue_email(cls, logs, name, subject, body, attachments=None):
        "E-mail the address of each log through the queue (one task each)"
        for log in logs:
            cls.__queue__.deliver(
                [log], format_address(log.address, name), subject, body,
                attachments=attachments)

    @classmethod
    def deliver(cls, logs, to, subject, body, attachments=None, attempt=0):
        """Queued: send the e-mail of logs and file it on the record.

        Sent once: the log is locked and marked. When SMTP fails the task
        is queued again later ([office] email_retries, email_retry_delay);
        the last failure is an `ir.error` the Office Administrators see
        (Solve runs the task again). A record deleted meanwhile: nothing is
        sent, and the log says so."""
        pool = Pool()
        Email = pool.get('ir.email')
        cls.lock(logs)
        for log in cls.browse(logs):
            if log.emailed or not log.address:
                logger.info("notification %s: already e-mailed", log.id)
                continue
            record = log.resource
            if not _exists(record):
                logger.warning(
                    "notification %s: %s was deleted, no e-mail sent",
                    log.id, log.resource)
                continue
            msg = _message(to, subject, body, attachments)
            try:
                send_message(msg, strict=True)
            except Exception as exception:
                logger.warning(
                    "could not e-mail %s about %s (attempt %s): %s",
                    log.address, record, attempt + 1, exception,
                    exc_info=logger.isEnabledFor(logging.DEBUG))
                cls._retry(log, to, subject, body, attachments, attempt,
                    exception)
                continue
            with without_check_access():
                Email.from_message(msg, resource=record).save()
            log.emailed = True
            log.email_error = None
            log.save()

    @classmethod
    def _retry(cls, log, to, subject, body, attachments, attempt,
            exception):
        retries = config.getint('office', 'email_retries', default=8)
        delay = config.getfloat('office', 'email_retry_delay', default=60)
        error = str(exception) or exception.__class__.__name__
        if (config.getboolean('queue', 'worker', default=False)
                and attempt < retries):
            later = dt.timedelta(seconds=min(delay * 2 ** attempt, 3600))
            with Transaction().set_context(queue_scheduled_at=later):
                cls.__queue__.deliver([log], to, subject, body,
                    attachments=attachments, attempt=attempt + 1)
            log.email_error = error[:200]
            log.save()
            return
        raise UserError(gettext(
                'office_admin.msg_notification_email_failed',
                address=log.address), error)


def _exists(record):
    "Tell whether record is still in the database"
    if record is None or record.id is None or record.id < 0:
        return False
    with without_check_access(), inactive_records():
        return bool(record.__class__.search(
                [('id', '=', record.id)], limit=1))


def _message(to, subject, body, attachments=None):
    """The e-mail: subject, body and attachments
    [(filename, data, maintype, subtype)]"""
    msg = EmailMessage()
    from_ = config.get('email', 'from')
    set_from_header(msg, from_, from_)
    msg['To'] = to
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
    return msg

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
                logs, emails = [], []
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
                        if chat and not chat_done and isinstance(
                                record, ChatMixin):
                            record.chat_post(
                                message_id, record=record.rec_name,
                                **variables)
                            chat_done = True
                        log = Log(resource=record, user=user,
                            key=key or cls._unique_key(), message=label,
                            emailed=False)
                        if email and user.email:
                            log.address = user.email
                            emails.append((log, user.name, description))
                        logs.append(log)
                        sent += 1
                Log.save(logs)
                for log, name, description in emails:
                    Log.queue_email([log], name, log.message, description,
                        attachments=attachments)
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
    def email_address(cls, record, address, name, message_id,
            attachments=None, **variables):
        "E-mail someone who is not a user (an external guest), queued"
        pool = Pool()
        Log = pool.get('office.notification.log')
        with without_check_access():
            label = gettext(message_id, record=record.rec_name, **variables)
            model = pool.get('ir.model').get_name(record.__name__)
            log = Log(resource=record, user=None, key=cls._unique_key(),
                message=label, address=address, emailed=False)
            log.save()
            Log.queue_email([log], name, label,
                '%s: %s' % (model, record.rec_name), attachments=attachments)
        return True

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
