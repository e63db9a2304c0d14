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
from collections import defaultdict, namedtuple
from email.message import EmailMessage

from trytond import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, Model, ModelSQL, ModelView, Unique, fields
from trytond.model.chat import ChatMessage, ChatMixin
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
    def queue_email(cls, logs, name, subject, body, attachments=None,
            chat=None):
        """E-mail the address of each log through the queue, in one task;
        name: the addressee's name, or a list of them, one per log;
        chat: (message id, variables) to post in the chat of the logs'
        record by the same task. Return whether a task was queued."""
        logs = [log for log in logs if log.address]
        if not logs:
            return False
        if isinstance(name, str) or name is None:
            name = [name] * len(logs)
        cls.__queue__.deliver(logs,
            [format_address(log.address, n) for log, n in zip(logs, name)],
            subject, body, attachments=attachments, chat=chat)
        return True

    @classmethod
    def deliver(cls, logs, to, subject, body, attachments=None, attempt=0,
            chat=None):
        """Queued: send the e-mail of logs and file it on the record; to:
        the To header, or a list of them, one per log; chat: (message id,
        variables) posted in the record's chat unless the logs were all
        e-mailed already (a task run again).

        Sent once: the log is locked and marked. When SMTP fails the task
        is queued again later ([office] email_retries, email_retry_delay);
        the last failure is an `ir.error` the Office Administrators see
        (Solve runs the task again). A record deleted meanwhile: nothing is
        sent, and the log says so."""
        pool = Pool()
        Email = pool.get('ir.email')
        if isinstance(to, str):
            to = [to] * len(logs)
        to = dict(zip(map(int, logs), to))
        cls.lock(logs)
        logs = cls.browse(logs)
        if chat and not all(log.emailed for log in logs):
            record = logs[0].resource
            if _exists(record) and isinstance(record, ChatMixin):
                message_id, variables = chat
                record._chat_dispatch([record], ChatMessage(
                        msg_id=message_id, n=None, variables=variables,
                        audience='internal'))
        for log in logs:
            if log.emailed or not log.address:
                logger.info("notification %s: already e-mailed", log.id)
                continue
            record = log.resource
            if not _exists(record):
                logger.warning(
                    "notification %s: %s was deleted, no e-mail sent",
                    log.id, log.resource)
                continue
            msg = _message(to[log.id], subject, body, attachments)
            try:
                send_message(msg, strict=True)
            except Exception as exception:
                logger.warning(
                    "could not e-mail %s about %s (attempt %s): %s",
                    log.address, record, attempt + 1, exception,
                    exc_info=logger.isEnabledFor(logging.DEBUG))
                cls._retry(log, to[log.id], subject, body, attachments,
                    attempt, exception)
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

_Recipient = namedtuple('_Recipient', ['id', 'name', 'email', 'clearance'])


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
        users = sorted({int(u) for u in users if u})
        if not records or not users:
            return 0
        # Read only what is needed (a browse reads the users' companies
        # and employees too)
        by_language = defaultdict(list)
        with without_check_access():
            for user in User.read(users,
                    ['name', 'email', 'clearance', 'language.code']):
                language = (user.get('language.') or {}).get('code')
                by_language[language].append(_Recipient(
                        user['id'], user['name'], user['email'],
                        user['clearance']))
        sent = 0
        with without_check_access():
            for sub_records in grouped_slice(records, 100):
                sub_records = list(sub_records)
                already = set()
                if key:
                    for log in Log.search([
                                ('resource', 'in',
                                    [str(r) for r in sub_records]),
                                ('key', '=', key),
                                ('user', 'in', users),
                                ]):
                        already.add((str(log.resource), log.user.id))
                logs, emails, chats = [], defaultdict(list), {}
                for language, lang_users in by_language.items():
                    rendered = cls._render_all(
                        sub_records, language, message_id, variables)
                    for record in sub_records:
                        label, description, rank = rendered[str(record)]
                        # Nobody is told about what his clearance hides
                        for user in lang_users:
                            if ((str(record), user.id) in already
                                    or secrecy_rank(user.clearance) < rank):
                                continue
                            record.notify_user(
                                icon, label, description, user=user.id)
                            if chat and isinstance(record, ChatMixin):
                                chats.setdefault(record, None)
                            log = Log(resource=record, user=user.id,
                                key=key or cls._unique_key(), message=label,
                                emailed=False)
                            if email and user.email:
                                log.address = user.email
                                emails[record, label, description].append(
                                    (log, user.name))
                            logs.append(log)
                            sent += 1
                Log.save(logs)
                # One task for the e-mails of a record in a language, the
                # post in its chat by the first
                for (record, label, description), addressees in (
                        emails.items()):
                    post = None
                    if record in chats and chats[record] is None:
                        chats[record] = post = (message_id,
                            dict(variables, record=record.rec_name))
                    if not Log.queue_email([log for log, _ in addressees],
                            [n for _, n in addressees], label, description,
                            attachments=attachments, chat=post):
                        chats[record] = None
                for record, post in chats.items():
                    if post is None:
                        record.chat_post(
                            message_id, record=record.rec_name, **variables)
        return sent

    @classmethod
    def _unique_key(cls):
        import uuid
        return 'once-%s' % uuid.uuid4().hex

    @classmethod
    def _render_all(cls, records, language, message_id, variables):
        """Return {record: (label, description, secrecy rank)} of records
        in language, each model's records read once"""
        pool = Pool()
        IrModel = pool.get('ir.model')
        by_model = defaultdict(list)
        for record in records:
            by_model[record.__class__].append(record.id)
        result = {}
        with Transaction().set_context(language=language):
            for Model_, ids in by_model.items():
                model = IrModel.get_name(Model_.__name__)
                # Read again in the recipient's language (the caller's
                # instances cache their names in the caller's, e.g. a
                # job's English)
                for record in Model_.browse(ids):
                    rank = getattr(record, 'secrecy_rank', None) or 0
                    result[str(record)] = (
                        gettext(message_id, record=record.rec_name,
                            **variables),
                        '%s: %s' % (model, record.rec_name), rank)
        return result

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
