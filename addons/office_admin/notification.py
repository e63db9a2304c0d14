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
from contextlib import contextmanager
from email.message import EmailMessage

from sql.functions import CurrentTimestamp

from trytond import config
from trytond.cache import Cache
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

from .access import OfficeAccessMixin, readable_by_known
from .common import clear_transaction_cache, transaction_cache
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
    def insert(cls, logs):
        """Write the new logs (instances) of the notification service in
        one INSERT and return them saved, in their order. They are the
        service's own records, valid by construction, and the database
        keeps a key once (the unique constraint): trytond's create read
        each back and its record (four statements). Without RETURNING
        (SQLite): saved."""
        transaction = Transaction()
        if not logs:
            return []
        if not transaction.database.has_returning():
            cls.save(logs)
            return logs
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        saved = []
        for sub_logs in grouped_slice(logs, 100):
            keys, values = [], []
            for log in sub_logs:
                resource = str(log.resource)
                user = int(log.user) if log.user is not None else None
                keys.append((resource, user, log.key))
                # a value not given is the field's default: empty
                values.append([transaction.user, CurrentTimestamp(),
                        resource, user, log.key,
                        getattr(log, 'message', None),
                        getattr(log, 'address', None),
                        bool(getattr(log, 'emailed', False))])
            cursor.execute(*table.insert([table.create_uid,
                        table.create_date, table.resource, table.user,
                        table.key, table.message, table.address,
                        table.emailed], values,
                    returning=[table.id, table.resource, table.user,
                        table.key]))
            ids = {(r, u, k): i for i, r, u, k in cursor}
            # Created in this transaction, as trytond's create records it:
            # lock() leaves them alone (locking them would restart it)
            transaction.create_records[cls.__name__].extend(ids.values())
            saved.extend(cls(ids[key]) for key in keys)
        return saved

    @classmethod
    def queue_email(cls, logs, name, subject, body, attachments=None,
            chat=None):
        """E-mail the address of each log through the queue, in one task;
        name: the addressee's name, or a list of them, one per log;
        chat: (message id, variables) to post in the chat of the logs'
        record by the same task. Return whether a task was queued."""
        batch = cls.email_batch(logs, name, subject, body,
            attachments=attachments, chat=chat)
        if batch:
            cls.queue_batches([batch])
        return bool(batch)

    @classmethod
    def email_batch(cls, logs, name, subject, body, attachments=None,
            chat=None):
        """Return what queue_batches() takes to e-mail the address of each
        log (name and chat as in queue_email), or None without address"""
        logs = [log for log in logs if log.address]
        if not logs:
            return None
        if isinstance(name, str) or name is None:
            name = [name] * len(logs)
        return (logs,
            [format_address(log.address, n) for log, n in zip(logs, name)],
            subject, body, attachments, chat)

    @classmethod
    def queue_batches(cls, batches):
        """Queue the e-mails of batches (see email_batch) in one task: one
        batch is delivered by deliver() itself, several by deliver_all()"""
        if len(batches) == 1:
            (logs, to, subject, body, attachments, chat), = batches
            cls.__queue__.deliver(logs, to, subject, body,
                attachments=attachments, chat=chat)
        elif batches:
            cls.__queue__.deliver_all(
                [log for batch in batches for log in batch[0]],
                [[[log.id for log in logs], to, subject, body, attachments,
                        chat]
                    for logs, to, subject, body, attachments, chat
                    in batches])

    @classmethod
    def deliver_all(cls, logs, batches):
        """Queued: deliver() each of batches, [log ids, to, subject, body,
        attachments, chat], with its logs that still exist"""
        # All at once: each lock restarts the transaction
        cls.lock(logs)
        existing = {log.id: log for log in logs}
        for ids, to, subject, body, attachments, chat in batches:
            kept = [(existing[i], t) for i, t in zip(ids, to)
                if i in existing]
            if kept:
                cls.deliver([log for log, _ in kept], [t for _, t in kept],
                    subject, body, attachments=attachments, chat=chat)

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

# One notification to send (see Notification.send)
_Call = namedtuple('_Call', ['records', 'users', 'message_id', 'key',
        'email', 'chat', 'icon', 'attachments', 'variables', 'new_key'])
# The notifications a batch() block keeps: depth and calls
_BATCH = 'office.notification.batch'
_Recipient = namedtuple(
    '_Recipient', ['id', 'name', 'email', 'clearance', 'language'])
# user_infos between transactions, cleared by res.user
_USER_INFOS = Cache('office.notification.user_infos', context=False)


def user_infos(user_ids):
    """Return {id: (id, name, email, clearance, language)} of the users,
    read once per transaction (see transaction_cache) and kept between
    transactions in a trytond Cache (res.user clears both when a user
    changes, in every process): an action names and notifies the same
    people several times, and the same reviewers every day. Only these
    columns: a browse of a user reads his companies and employees too."""
    User = Pool().get('res.user')
    cache = transaction_cache('office.notification.users')
    ids = {int(u) for u in user_ids if u}
    for id_ in ids - cache.keys():
        info = _USER_INFOS.get(id_)
        if info is not None:
            cache[id_] = _Recipient(*info)
    missing = sorted(ids - cache.keys())
    if missing:
        with without_check_access():
            for user in User.read(missing,
                    ['name', 'email', 'clearance', 'language.code']):
                cache[user['id']] = info = _Recipient(
                    user['id'], user['name'], user['email'],
                    user['clearance'],
                    (user.get('language.') or {}).get('code'))
                _USER_INFOS.set(user['id'], tuple(info))
    return {i: cache[i] for i in ids if i in cache}


def clear_user_infos():
    "Forget the users' names and addresses (a user changed)"
    _USER_INFOS.clear()
    clear_transaction_cache('office.notification.users')


def user_name(user):
    "Return the name of user (rec_name of res.user), read once"
    if user is None:
        return ''
    info = user_infos([user]).get(int(user))
    return info.name if info else ''


class Notification:
    "Service: notify users of something that happened to records"
    __slots__ = ()

    @classmethod
    def send(cls, records, users, message_id, key=None, email=True,
            chat=True, icon='tryton-notification', attachments=None,
            new_key=False, **variables):
        """Notify each of users about each of records with the message.

        key: when given, a (record, user, key) is notified at most once;
        new_key: the key names something that did not exist before (a step
        created or decided now): it is not looked for (the database still
        refuses it twice). variables: for the message; `record` is added
        with the record's name. Return the number of (record, user) pairs
        notified."""
        return cls._send_all([_Call(records, users, message_id, key, email,
                    chat, icon, attachments, variables, new_key)])

    @classmethod
    def send_later(cls, records, users, message_id, key=None, email=True,
            chat=True, icon='tryton-notification', attachments=None,
            new_key=False, **variables):
        """As send, but inside a batch() block the notification is sent at
        the end of the block with the others (nothing is returned)"""
        call = _Call(records, users, message_id, key, email, chat, icon,
            attachments, variables, new_key)
        batch = transaction_cache(_BATCH)
        if batch.get('depth'):
            batch['calls'].append(call)
            return
        return cls._send_all([call])

    @classmethod
    @contextmanager
    def batch(cls):
        """Send what send_later() is given in the block at its end, at
        once: the recipients read once, the notices already sent looked
        for in one query, the logs written in one call and the e-mails of
        all in one queued task (an approval tells the requester and the
        next reviewer). Nothing is sent when the block fails."""
        batch = transaction_cache(_BATCH)
        if not batch.get('depth'):
            batch['calls'] = []
        batch['depth'] = batch.get('depth', 0) + 1
        try:
            yield
        except BaseException:
            batch['depth'] -= 1
            if not batch['depth']:
                batch['calls'] = []
            raise
        batch['depth'] -= 1
        if not batch['depth']:
            calls, batch['calls'] = batch['calls'], []
            cls._send_all(calls)

    @classmethod
    def _send_all(cls, calls):
        "Send the notifications of calls (_Call); return the pairs notified"
        pool = Pool()
        Log = pool.get('office.notification.log')
        calls = [c._replace(users=sorted({int(u) for u in c.users if u}))
            for c in calls]
        calls = [c for c in calls if c.records and c.users]
        if not calls:
            return 0
        infos = user_infos({u for c in calls for u in c.users})
        sent = 0
        logs, emails, chats = [], defaultdict(list), {}
        with without_check_access():
            # Who was told already, for the keyed calls, in one query per
            # 100 records
            already = set()
            keyed = [c for c in calls if c.key and not c.new_key]
            resources = sorted({str(r) for c in keyed for r in c.records})
            for sub_resources in grouped_slice(resources, 100):
                for log in Log.search([
                            ('resource', 'in', list(sub_resources)),
                            ('key', 'in', sorted({c.key for c in keyed})),
                            ('user', 'in',
                                sorted({u for c in keyed for u in c.users})),
                            ]):
                    already.add((str(log.resource), log.user.id, log.key))
            # Which records each recipient may read: one query per model
            known = readable_by_known(
                {r for c in calls for r in c.records},
                {u for c in calls for u in c.users})
            with known:
                sent += cls._notify_all(calls, infos, already, logs, emails,
                    chats)
            saved = dict(zip(map(id, logs), Log.insert(logs)))
            # The e-mails of a record in a language, the post in its chat
            # by the first, all in one task
            batches = []
            for (record, label, description, index), addressees in (
                    emails.items()):
                call = calls[index]
                post = None
                if (record, index) in chats and chats[record, index] is None:
                    chats[record, index] = post = (call.message_id,
                        dict(call.variables, record=record.rec_name))
                # (every addressee has an address)
                batches.append((
                        [saved[id(log)] for log, _ in addressees],
                        [format_address(log.address, n)
                            for log, n in addressees],
                        label, description, call.attachments, post))
            Log.queue_batches(batches)
            for (record, index), post in chats.items():
                if post is None:
                    call = calls[index]
                    record.chat_post(call.message_id,
                        record=record.rec_name, **call.variables)
        return sent

    @classmethod
    def _notify_all(cls, calls, infos, already, logs, emails, chats):
        """Notify in the application the recipients of calls, fill the
        logs, the e-mails and the chat posts to write; return the number
        of (record, user) pairs notified"""
        pool = Pool()
        Log = pool.get('office.notification.log')
        sent = 0
        for index, call in enumerate(calls):
            by_language = defaultdict(list)
            for user in (infos[u] for u in call.users if u in infos):
                by_language[user.language].append(user)
            for sub_records in grouped_slice(call.records, 100):
                sub_records = list(sub_records)
                for language, lang_users in by_language.items():
                    rendered = cls._render_all(sub_records, language,
                        call.message_id, call.variables)
                    for record in sub_records:
                        label, description, rank = rendered[str(record)]
                        # Nobody is told about what his clearance hides
                        for user in lang_users:
                            once = (str(record), user.id, call.key)
                            if (once in already
                                    or secrecy_rank(user.clearance)
                                    < rank):
                                continue
                            record.notify_user(call.icon, label,
                                description, user=user.id)
                            if call.key:
                                already.add(once)
                            if call.chat and isinstance(
                                    record, ChatMixin):
                                chats.setdefault((record, index), None)
                            log = Log(resource=record, user=user.id,
                                key=call.key or cls._unique_key(),
                                message=label, emailed=False)
                            if call.email and user.email:
                                log.address = user.email
                                emails[record, label, description,
                                    index].append((log, user.name))
                            logs.append(log)
                            sent += 1
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
        transaction = Transaction()
        # In another language than the caller's, read again (the caller's
        # instances cache their names in his, e.g. a job's English); in
        # his, from what he read
        context = {}
        default = pool.get('ir.configuration').get_language()
        if (language or default) != transaction.language:
            context['language'] = language
        with transaction.set_context(**context):
            for Model_, ids in by_model.items():
                model = IrModel.get_name(Model_.__name__)
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
