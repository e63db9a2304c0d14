# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import json
import textwrap
import uuid
from collections import defaultdict
from functools import partial

from sql import Select

from trytond import backend
from trytond.i18n import gettext, ngettext
from trytond.ir.resource import ResourceAccessMixin
from trytond.model import Model
from trytond.model.exceptions import AccessError
from trytond.res.notification import Notification as TrytondNotification
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, check_access, without_check_access)

from .access import check_export_paths


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _office_model(cls, model_name):
        return model_name.startswith('office.') or model_name in {
            'attendance.line', 'attendance.sheet', 'attendance.sheet.line'}

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        if cls._office_model(model_name):
            context.update(User.get_office_context())
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        if any(cls._office_model(m) for m in model_names):
            context = User.get_office_context()
            key = (*key, context['user_id'], context['clearance_rank'],
                tuple(context['employees']),
                tuple(context['departments']),
                tuple(context['headed_departments']))
        return key


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('office.approval.step|check_timeouts',
                    "Office: Approval Timeouts"),
                ('office.deadline|escalate',
                    "Office: Escalate Overdue Deadlines"),
                ('office.calendar|seed_holidays_cron',
                    "Office: Seed Public Holidays"),
                ('office.meeting|send_reminders',
                    "Office: Meeting Reminders"),
                ('office.task|remind_due',
                    "Office: Remind Tasks Due Soon"),
                ('office.distribution|remind_unread',
                    "Office: Remind Unread Distributions"),
                ])


def check_resources(resources, mode='read'):
    """The one visibility check of what hangs on a record (attachments,
    notes, e-mails, logs, chat, notifications): raise AccessError unless
    the user may `mode` every resource ('model,id' or records), with model
    access and record rules, as `read` checks them."""
    pool = Pool()
    ModelAccess = pool.get('ir.model.access')
    Rule = pool.get('ir.rule')
    transaction = Transaction()
    if not transaction.user or not transaction.check_access:
        return
    by_model = defaultdict(set)
    for resource in resources:
        if not resource:
            continue
        model, id_ = str(resource).split(',')
        try:
            id_ = int(id_)
        except ValueError:
            continue
        if id_ >= 0:
            by_model[model].add(id_)
    for model, ids in by_model.items():
        ModelAccess.check(model, mode=mode)
        for sub_ids in grouped_slice(sorted(ids), 1000):
            Rule.check(model, list(sub_ids), mode=mode)


def readable_ids(model, ids):
    "Return the ids of model the user may read (model access and rules)"
    pool = Pool()
    ModelAccess = pool.get('ir.model.access')
    transaction = Transaction()
    if not transaction.user or not transaction.check_access:
        return set(ids)
    try:
        Model = pool.get(model)
    except KeyError:
        return set()
    if not ModelAccess.check(model, mode='read', raise_exception=False):
        return set()
    result = set()
    for sub_ids in grouped_slice(sorted(ids), 1000):
        result.update(map(int, Model.search([('id', 'in', list(sub_ids))])))
    return result


class ResourceVisibilityMixin:
    """Attachments, notes, e-mails and logs of a record: every path (read,
    search, export, the data route) checks the resource with
    check_resources()."""
    __slots__ = ()

    @classmethod
    def check_access(cls, ids, mode='read'):
        transaction = Transaction()
        if transaction.user == 0 or not transaction.check_access:
            return
        with without_check_access():
            resources = [r.resource for r in cls.browse(ids)]
        for model_name, ids in _group(resources).items():
            for model_name, check_mode in cls._convert_check_access(
                    model_name, mode):
                check_resources(
                    ['%s,%s' % (model_name, i) for i in ids], check_mode)

    @classmethod
    def search(cls, domain, offset=0, limit=None, order=None, count=False,
            **kwargs):
        """Keep only the items whose resource the user may read, as
        trytond does, but without failing on a resource whose model the
        user may not access (a note on a budget must not break an
        employee's list of notes)"""
        transaction = Transaction()
        if (kwargs.get('query', False) or not transaction.user
                or not transaction.check_access):
            return super().search(domain, offset=offset, limit=limit,
                order=order, count=count, **kwargs)
        base = super(ResourceAccessMixin, cls).search
        fetched, loop = [], 0
        result = base(domain, offset=offset, limit=limit, order=order,
            count=False, **kwargs)
        while True:
            with without_check_access():
                records = cls.browse(result)
            allowed = set()
            for model_name, ids in _group(
                    r.resource for r in records).items():
                allowed.update(
                    (model_name, i) for i in readable_ids(model_name, ids))
            fetched.extend(r for r in records
                if not isinstance(r.resource, Model)
                or (r.resource.__name__, r.resource.id) in allowed)
            if limit is None or len(fetched) >= limit:
                if limit is not None:
                    fetched = fetched[:limit]
                break
            loop += 1
            result = base(domain, offset=offset + loop * limit, limit=limit,
                order=order, count=False, **kwargs)
            if not result:
                break
        if count:
            return len(fetched)
        return cls.browse(fetched)

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            cls.check_access([r.id for r in records], mode='read')
            check_export_paths(
                cls, records, [f.split('/') for f in fields_names])
        return super().export_data(records, fields_names, header=header)


def _group(resources):
    result = defaultdict(set)
    for resource in resources:
        if isinstance(resource, Model) and resource.id is not None:
            result[resource.__name__].add(resource.id)
    return result


class Attachment(ResourceVisibilityMixin, metaclass=PoolMeta):
    __name__ = 'ir.attachment'


class Note(ResourceVisibilityMixin, metaclass=PoolMeta):
    __name__ = 'ir.note'


class Email(ResourceVisibilityMixin, metaclass=PoolMeta):
    __name__ = 'ir.email'


class ModelLog(ResourceVisibilityMixin, metaclass=PoolMeta):
    __name__ = 'ir.model.log'

    @classmethod
    def _validate(cls, records, field_names=None):
        """Not the log trytond writes itself: nobody may create or change a
        log (ir.model.access), trytond writes it without access checks at
        commit (a button, a transition) and what it writes is valid by
        construction; validating it read each new log and its record back,
        three statements after every button"""
        if not Transaction().check_access:
            return
        super()._validate(records, field_names=field_names)


class Queue(metaclass=PoolMeta):
    __name__ = 'ir.queue'

    @classmethod
    def _validate(cls, records, field_names=None):
        """Not a task trytond queues itself (Queue.push, without access
        checks): its values are valid by construction and validating read
        it back, one statement per queued task of an action"""
        if not Transaction().check_access:
            return
        super()._validate(records, field_names=field_names)


class ChatChannel(metaclass=PoolMeta):
    __name__ = 'ir.chat.channel'

    @classmethod
    def check_access(cls, resource):
        """Tryton checks only the model access of a chat; the record rules
        of the resource are checked too (secrecy, recipients), so that a
        conversation never shows what its record hides."""
        # A model without chat is refused first, whatever the record: the
        # validation of a new channel would name the record
        if str(resource).split(',')[0] not in dict(cls.get_models()):
            raise AccessError(gettext('office_admin.msg_chat_no_channel'))
        super().check_access(resource)
        with check_access():
            check_resources([resource])


class _BellUpdate:
    """Updates the bells of the users whose notices changed, at commit
    (see Notification.on_modification): a data manager of the transaction,
    after trytond stored the notices of the transaction, before the
    database commits"""

    def __init__(self):
        self.changed = defaultdict(list)

    def __eq__(self, other):
        return isinstance(other, _BellUpdate)

    def __hash__(self):
        return hash(_BellUpdate)

    @staticmethod
    def bus():
        "trytond's bus when it publishes with pg_notify, else None"
        from trytond.bus import Bus, LongPollingBus
        return Bus if Bus is LongPollingBus else None

    def tpc_begin(self, transaction):
        pass

    def commit(self, transaction):
        from sql.aggregate import Count
        from sql.functions import Function

        from trytond.protocols.jsonrpc import JSONEncoder
        changed, self.changed = self.changed, defaultdict(list)
        if not changed:
            return
        pool = Pool()
        Notification = pool.get('res.notification')
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        table = Notification.__table__()
        cursor = transaction.connection.cursor()
        counts = {}
        for sub_users in grouped_slice(sorted(changed), 1000):
            cursor.execute(*table.select(table.user, Count(),
                    where=table.user.in_(list(sub_users)) & table.unread,
                    group_by=[table.user]))
            counts.update(cursor)
        shorten = partial(textwrap.shorten, width=100, placeholder="...")
        payloads = []
        for user, notices in sorted(changed.items()):
            # The notices created, else those read or deleted (trytond's
            # message lists the notices of its change), each once
            created = [n for n in notices if not n[0]]
            notices = list({n[1]: n for n in sorted(
                        created or notices, reverse=True)}.values())[::-1]
            messages = ['\n'.join(map(shorten, filter(None, n[2:])))
                for n in notices[:4]] if counts.get(user) else []
            if counts.get(user) and len(notices) > 4:
                number = len(notices) - 4
                messages.append(ngettext('res.msg_notification_silenced',
                        number, number=lang.format_number(number)))
            payloads.append(json.dumps({
                        'channel': f'notification:{user}',
                        'message': {
                            'type': 'user-notification',
                            'count': counts.get(user, 0),
                            'content': messages,
                            'message_id': str(uuid.uuid4()),
                            },
                        }, cls=JSONEncoder, separators=(',', ':')))

        class PgNotify(Function):
            __slots__ = ()
            _function = 'pg_notify'
        channel = self.bus()._channel
        for sub_payloads in grouped_slice(payloads, 100):
            cursor.execute(*Select(
                    [PgNotify(channel, p) for p in sub_payloads]))

    def tpc_vote(self, transaction):
        pass

    def tpc_finish(self, transaction):
        pass

    def tpc_abort(self, transaction):
        self.changed.clear()


class Notification(metaclass=PoolMeta):
    """A user sees only the notices about office records he may read"""
    __name__ = 'res.notification'

    @classmethod
    def _hidden(cls, notifications):
        "Return the ids of the notifications about records one cannot read"
        pool = Pool()
        Rule = pool.get('ir.rule')
        by_model = defaultdict(set)
        records = {}
        with without_check_access():
            notifications = cls.browse([int(n) for n in notifications])
            values = [(n.id, n.model, n.records) for n in notifications]
        for id_, model, ids in values:
            if (model and ids and Rule._office_model(model)):
                try:
                    ids = {int(i) for i in json.loads(ids)}
                except (ValueError, TypeError):
                    ids = {-1}
                records[id_] = (model, ids)
                by_model[model].update(ids)
        with check_access():
            readable = {
                m: readable_ids(m, ids) for m, ids in by_model.items()}
        return {n for n, (m, ids) in records.items()
            if not ids <= readable[m]}

    @classmethod
    def search(cls, domain, offset=0, limit=None, order=None, count=False,
            **kwargs):
        transaction = Transaction()
        if (kwargs.get('query', False) or not transaction.user
                or not transaction.check_access):
            return super().search(domain, offset=offset, limit=limit,
                order=order, count=count, **kwargs)
        # Filter in Python: a user has few notifications
        records = super().search(domain, order=order, **kwargs)
        hidden = cls._hidden(records)
        records = [r for r in records if r.id not in hidden][offset or 0:]
        if limit is not None:
            records = records[:limit]
        if count:
            return len(records)
        return cls.browse(records)

    @classmethod
    def read(cls, ids, fields_names):
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            if cls._hidden(ids):
                raise AccessError(gettext('office_admin.msg_resource_access'))
        return super().read(ids, fields_names)

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            if cls._hidden(records):
                raise AccessError(gettext('office_admin.msg_resource_access'))
        return super().export_data(records, fields_names, header=header)

    @classmethod
    def on_modification(cls, mode, notifications, field_names=None):
        """The bells of the users whose unread notices changed are updated
        once, at commit, for all of them: one count and one statement that
        publishes every user's message. res.notification counts and
        publishes at each change, one statement per user: an approval
        marks the reviewer's notice read and tells the requester and the
        next reviewer, seven statements. The message is trytond's (the
        user's unread count and the notices changed, the created ones
        first); without channels (SQLite) nothing is counted."""
        bell = (mode in {'create', 'delete'}
            or (mode == 'write'
                and (not field_names or 'unread' in field_names)))
        if not bell or _BellUpdate.bus() is None:
            return super().on_modification(
                mode, notifications, field_names=field_names)
        # trytond's res.notification counts and publishes after its
        # super(): skip it, keep the rest of the chain
        super(TrytondNotification, cls).on_modification(
            mode, notifications, field_names=field_names)
        transaction = Transaction()
        if not transaction.database.has_channel():
            return
        update = transaction.join(_BellUpdate())
        for notification in notifications:
            update.changed[notification.user.id].append(
                (mode != 'create', notification.id, notification.label,
                    notification.description))

    @classmethod
    def get_count(cls):
        with check_access():
            return cls.search([
                    ('user', '=', Transaction().user),
                    ('unread', '=', True),
                    ], count=True)

    @classmethod
    def unread_about(cls, keys):
        """Return the unread notices of users about records, in one query:
        keys are (user, model, records) with records the JSON list a notice
        stores (as `notify_user` writes it); the result is the list of
        (id, user, model, records, label) that match a key"""
        keys = {(int(u), m, r) for u, m, r in keys if u and m and r}
        if not keys:
            return []
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = []
        # Filtered in SQL on each column's values, exactly in Python: the
        # unread notices of a user are few (a partial index on user)
        for sub_keys in grouped_slice(
                sorted(keys), backend.MAX_QUERY_PARAMS // 3):
            sub_keys = list(sub_keys)
            cursor.execute(*table.select(
                    table.id, table.user, table.model, table.records,
                    table.label,
                    where=table.user.in_(sorted({k[0] for k in sub_keys}))
                    & table.model.in_(sorted({k[1] for k in sub_keys}))
                    & table.records.in_(sorted({k[2] for k in sub_keys}))
                    & table.unread))
            result.extend(row for row in cursor if row[1:4] in keys)
        return result

    @classmethod
    def create(cls, vlist):
        """The same notice about the same record for the same user is one
        notice: the unread ones it repeats (an invitation sent again after
        each change of a meeting) are replaced by the newest"""
        notifications = super().create(vlist)
        newest = {}
        for notification, values in zip(notifications, vlist):
            if values.get('model') and values.get('records'):
                key = (values.get('user'), values['model'],
                    values['records'], values.get('label'))
                newest[key] = max(newest.get(key, 0), notification.id)
        replaced = [id_
            for id_, user, model, records, label in cls.unread_about(
                k[:3] for k in newest)
            if newest.get((user, model, records, label), id_) != id_]
        if replaced:
            with without_check_access():
                cls.delete(cls.browse(replaced))
        return notifications


class Translation(metaclass=PoolMeta):
    __name__ = 'ir.translation'

    @classmethod
    def translation_import(cls, lang, module, po_path):
        # locale/zh_CN.po also overrides the Tryton modules' translations,
        # which needs theirs loaded: trytond-admin -u office_admin -l zh_CN
        # loads only the modules it updates (never ir and res)
        if module == 'office_admin':
            cls._office_load_dependencies(lang)
        result = super().translation_import(lang, module, po_path)
        if module == 'office_admin':
            cls._office_confirm_overrides(lang, po_path)
        return result

    @classmethod
    def _office_load_dependencies(cls, lang):
        "Load lang for the modules office_admin depends on that lack it"
        from trytond.modules import (
            create_graph, get_module_info, load_translations)
        pool = Pool()
        modules, todo = set(), ['office_admin']
        while todo:
            name = todo.pop()
            if name not in modules:
                modules.add(name)
                todo.extend(get_module_info(name).get('depends', []))
        modules.discard('office_admin')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.module,
                where=(table.lang == lang) & table.module.in_(list(modules)),
                group_by=[table.module]))
        loaded = {m for m, in cursor}
        if modules <= loaded:
            return
        for node in create_graph(modules):
            if node.name not in loaded:
                load_translations(pool, node, {lang})

    @classmethod
    def _office_confirm_overrides(cls, lang, po_path):
        """Clear fuzzy on the overridden translations whose value the
        override repeats: trytond changes only a different value, and a
        fuzzy translation is never shown"""
        import polib
        if isinstance(po_path, str):
            po_path = [po_path]
        confirmed = set()
        for path in po_path:
            for entry in polib.pofile(path):
                if entry.obsolete or 'fuzzy' in entry.flags:
                    continue
                ttype, name, res_id = entry.msgctxt.split(':')
                if '.' in res_id:
                    confirmed.add((res_id.split('.')[0], ttype, name,
                            entry.msgid, entry.msgstr))
        if not confirmed:
            return
        fuzzy = cls.search([
                ('lang', '=', lang),
                ('fuzzy', '=', True),
                ('module', 'in', list({c[0] for c in confirmed})),
                ])
        cls.write([t for t in fuzzy
                if (t.module, t.type, t.name, t.src, t.value) in confirmed],
            {'fuzzy': False})
