# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Official documents (公文): incoming (收文) and outgoing (发文).

Numbers (收〔2026〕0001, 「办〔2026〕12号」) come from one counter per kind,
document type and year, taken under a row lock in the transaction that
registers or issues the document: consecutive, no gaps, no duplicates."""
from sql import Conflict, Null, Union

from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, DeactivableMixin, Index, ModelSQL, ModelView, Unique,
    Workflow, fields)
from trytond import backend
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.report import Report
from trytond.tools import grouped_slice, timezone as tz
from trytond.transaction import Transaction, without_check_access

from .access import OfficeAccessMixin
from . import calendar_
from .approval import ApprovalMixin
from .common import context_department
from .deadline import DeadlineMixin
from .distribution import DistributionMixin
from .exceptions import DocumentError
from .secrecy import SecrecyMixin
from .workflow_guard import check_clearance

URGENCY = [
    ('normal', "Normal (平件)"),
    ('urgent', "Urgent (加急)"),
    ('very_urgent', "Very Urgent (特急)"),
    ]


class DocumentType(OfficeAccessMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'office.document.type'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    direction = fields.Selection([
            ('incoming', "Incoming"),
            ('outgoing', "Outgoing"),
            ('internal', "Internal Report"),
            ], "Direction", required=True,
        help="Internal reports (such as the attendance report) are only "
        "filed in the archive: they are neither received nor issued.")
    core = fields.Boolean(
        "Core", help="Core documents are also signed by Leadership.")
    prefix = fields.Char(
        "Number Prefix",
        states={
            'invisible': Eval('direction') != 'outgoing',
            },
        help="The organ prefix of issued numbers, e.g. 办 gives 办〔2026〕12号.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.direction, t.code),
                'office_admin.msg_document_type_code_unique'),
            ]

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        super().__register__(module)
        # Migration: the attendance report type (a noupdate record) was
        # created as an incoming type
        table = cls.__table__()
        data = ModelData.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.direction], ['internal'],
                where=(table.direction == 'incoming')
                & table.id.in_(data.select(data.db_id,
                        where=(data.module == module)
                        & (data.fs_id == 'document_type_attendance')))))


class DocumentCounter(OfficeAccessMixin, ModelSQL):
    "The last number taken per kind, document type and year"
    __name__ = 'office.document.counter'

    kind = fields.Char("Kind", required=True)
    type = fields.Many2One(
        'office.document.type', "Type", ondelete='RESTRICT')
    year = fields.Integer("Year", required=True)
    last = fields.Integer("Last Number", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('kind_type_year_unique', Unique(t, t.kind, t.type, t.year),
                'office_admin.msg_document_counter_unique'),
            ]

    @classmethod
    def take(cls, kind, year, type_=None, count=1):
        """Return the next count numbers of (kind, type, year), locked until
        the end of the transaction so that two transactions never get the
        same one and a rolled-back one leaves no gap."""
        domain = [
            ('kind', '=', kind),
            ('year', '=', year),
            ('type', '=', type_.id if type_ else None),
            ]
        with without_check_access():
            counters = cls.search(domain, limit=1)
            if not counters:
                # Creating the year's counter: serialise with a table lock
                cls.lock()
                counters = cls.search(domain, limit=1)
                if not counters:
                    counter = cls(kind=kind, year=year, type=type_, last=0)
                    counter.save()
                    counters = [counter]
            counter, = counters
            cls.lock([counter])
            counter = cls(counter.id)
            first = counter.last + 1
            counter.last += count
            counter.save()
        return list(range(first, first + count))


class DocumentMixin(SecrecyMixin, DistributionMixin, ChatMixin):
    __slots__ = ()
    number = fields.Char("Number", readonly=True)
    company = fields.Many2One('company.company', "Company", required=True,
        states={'readonly': Eval('state') != 'draft'})
    title = fields.Char("Title", required=True,
        states={'readonly': ~Eval('state').in_(['draft', 'registered'])})
    urgency = fields.Selection(URGENCY, "Urgency", required=True, sort=False,
        states={'readonly': ~Eval('state').in_(['draft', 'registered'])})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'send_for_reading': {
                    'invisible': ~Eval('state').in_(cls._readable_states()),
                    'depends': ['state'],
                    'icon': 'tryton-forward',
                    },
                })

    @classmethod
    def _readable_states(cls):
        return ['registered', 'proposed', 'handling', 'completed', 'issued']

    @classmethod
    def on_modification(cls, mode, documents, field_names=None):
        super().on_modification(mode, documents, field_names=field_names)
        if mode == 'create' or (mode == 'write' and (
                    not field_names or field_names & cls._reader_fields)):
            cls.sync_readers(documents)

    @classmethod
    def on_distribution(cls, documents):
        super().on_distribution(documents)
        cls.sync_readers(documents)

    @classmethod
    def _readers_queries(cls, document, ids):
        "Return the queries of (document id, user id) of the readers"
        return [document.select(document.id, document.create_uid,
                where=document.id.in_(ids) & (document.create_uid != Null))]

    @classmethod
    def _employee_users(cls, query):
        """Return the query of (document id, user id) for the users of the
        (document id, employee id) of query"""
        pool = Pool()
        UserEmployee = pool.get('res.user-company.employee')
        user_employee = UserEmployee.__table__()
        return query.join(user_employee,
            condition=user_employee.employee == query.employee
            ).select(query.document, user_employee.user)

    @classmethod
    def sync_readers(cls, documents):
        """Store the users involved in each document (its readers, see
        `readers`): one indexed semi-join for the record rule instead of an
        OR over relations, which PostgreSQL can only scan. Running it again
        changes nothing."""
        pool = Pool()
        Distribution = pool.get('office.distribution')
        Reader = pool.get(cls._fields['readers'].relation_name)
        document = cls.__table__()
        line = Distribution.__table__()
        reader = Reader.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(
                sorted({int(d) for d in documents}), 200):
            sub_ids = list(sub_ids)
            queries = cls._readers_queries(document, sub_ids) + [
                line.select(line.res_id, line.user,
                    where=(line.res_model == cls.__name__)
                    & line.res_id.in_(sub_ids))]
            wanted = set()
            cursor.execute(*Union(*queries, all_=True))
            wanted.update((d, u) for d, u in cursor if d and u)
            cursor.execute(*reader.select(
                    reader.id, reader.document, reader.user,
                    where=reader.document.in_(sub_ids)))
            existing = {(d, u): i for i, d, u in cursor}
            to_delete = [i for k, i in existing.items() if k not in wanted]
            to_create = [list(k) for k in sorted(wanted) if k not in existing]
            for sub in grouped_slice(to_delete, 200):
                cursor.execute(*reader.delete(
                        where=reader.id.in_(list(sub))))
            # A concurrent sync may have inserted the same pair since the
            # read above: the unique constraint keeps one, nobody fails.
            for sub in grouped_slice(to_create, 200):
                cursor.execute(*reader.insert(
                        [reader.document, reader.user], list(sub),
                        on_conflict=Conflict(reader)))

    @classmethod
    @ModelView.button_action('office_admin.wizard_distribution_send')
    def send_for_reading(cls, documents):
        pass

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_urgency(cls):
        return 'normal'

    def get_rec_name(self, name):
        return '%s %s' % (self.number or '', self.title) if self.number \
            else self.title

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('title', operator, value),
            ]

    @classmethod
    def check_modification(cls, mode, documents, values=None, external=False):
        super().check_modification(
            mode, documents, values=values, external=external)
        if mode == 'write' and external and values and 'number' in values:
            raise DocumentError(gettext('office_admin.msg_document_number'))
        if mode == 'delete':
            for document in documents:
                if document.number:
                    raise DocumentError(gettext(
                            'office_admin.msg_document_delete',
                            document=document.rec_name))

    @classmethod
    def copy(cls, documents, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('number', None)
        return super().copy(documents, default=default)


class Incoming(
        OfficeAccessMixin, DeadlineMixin, DocumentMixin, Workflow, ModelSQL,
        ModelView):
    "Incoming document (收文)"
    __name__ = 'office.document.incoming'

    type = fields.Many2One(
        'office.document.type', "Type", required=True,
        domain=[('direction', '=', 'incoming')],
        states={'readonly': Eval('state') != 'registered'})
    sender = fields.Char("Sender Organisation", required=True,
        states={'readonly': Eval('state') != 'registered'})
    sender_number = fields.Char("Original Number",
        states={'readonly': Eval('state') != 'registered'})
    received = fields.Date("Received", required=True,
        states={'readonly': Eval('state') != 'registered'})
    pages = fields.Integer("Pages", domain=[
            ['OR', ('pages', '=', None), ('pages', '>', 0)]],
        states={'readonly': Eval('state') != 'registered'})
    medium = fields.Selection([
            ('paper', "Paper"),
            ('electronic', "Electronic"),
            ], "Medium", required=True,
        states={'readonly': Eval('state') != 'registered'})
    proposal = fields.Text("Proposed Handling (拟办)",
        states={'readonly': Eval('state') != 'registered'})
    instruction = fields.Text("Leadership Instruction (批示)",
        states={'readonly': Eval('state') != 'proposed'})
    instructed_by = fields.Many2One('res.user', "Instructed By",
        readonly=True)
    handlers = fields.Many2Many(
        'office.document.incoming-company.employee', 'document', 'employee',
        "Handlers (承办)",
        states={'readonly': ~Eval('state').in_(['registered', 'proposed'])})
    handling_days = fields.Integer("Handling Days",
        domain=[['OR', ('handling_days', '=', None),
                ('handling_days', '>', 0)]],
        states={'readonly': ~Eval('state').in_(['registered', 'proposed'])},
        help="Working days the handlers have, from the instruction.")
    result = fields.Text("Handling Result",
        states={
            'readonly': Eval('state') != 'handling',
            'required': Eval('state') == 'completed',
            })
    readers = fields.Many2Many(
        'office.document.incoming.reader', 'document', 'user', "Readers",
        readonly=True,
        help="The users involved: handlers, recipients, the registrar and "
        "the instructing leader (kept for the record rules).")
    state = fields.Selection([
            ('registered', "Registered"),
            ('proposed', "Proposed"),
            ('handling', "Handling"),
            ('completed', "Completed"),
            ('archived', "Archived"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.received, Index.Range())),
                Index(t, (t.number, Index.Similarity())),
                })
        cls._order = [('received', 'DESC'), ('id', 'DESC')]
        cls.secrecy.states = {
            'readonly': Eval('state') != 'registered',
            }
        cls._transitions |= {
            ('registered', 'proposed'),
            ('proposed', 'handling'),
            ('handling', 'completed'),
            ('completed', 'archived'),
            ('registered', 'cancelled'),
            }
        cls._buttons.update({
                'propose': {
                    'invisible': Eval('state') != 'registered',
                    'depends': ['state'],
                    },
                'instruct': {
                    'invisible': Eval('state') != 'proposed',
                    'depends': ['state'],
                    },
                'complete': {
                    'invisible': Eval('state') != 'handling',
                    'depends': ['state'],
                    },
                'archive': {
                    'invisible': Eval('state') != 'completed',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'registered',
                    'depends': ['state'],
                    },
                })

    _reader_fields = {'handlers', 'instructed_by'}

    @classmethod
    def default_state(cls):
        return 'registered'

    @classmethod
    def _readers_queries(cls, document, ids):
        pool = Pool()
        Handler = pool.get('office.document.incoming-company.employee')
        handler = Handler.__table__()
        return super()._readers_queries(document, ids) + [
            document.select(document.id, document.instructed_by,
                where=document.id.in_(ids)
                & (document.instructed_by != Null)),
            cls._employee_users(handler.select(
                    handler.document.as_('document'),
                    handler.employee.as_('employee'),
                    where=handler.document.in_(ids))),
            ]

    @classmethod
    def default_medium(cls):
        return 'paper'

    @classmethod
    def default_received(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def create(cls, vlist):
        "Register: every incoming document is numbered at once"
        pool = Pool()
        Counter = pool.get('office.document.counter')
        Date = pool.get('ir.date')
        vlist = [v.copy() for v in vlist]
        year = Date.today().year
        numbers = Counter.take('incoming', year, count=len(vlist))
        for values, n in zip(vlist, numbers):
            values['number'] = gettext(
                'office_admin.msg_incoming_number', year=year, n='%04d' % n)
        return super().create(vlist)

    @classmethod
    def validate(cls, documents):
        "A handler's clearance lets him read the document"
        pool = Pool()
        User = pool.get('res.user')
        super().validate(documents)
        for document in documents:
            if document.handlers:
                check_clearance([document], User.users_of_employees(
                        document.handlers).values())

    @classmethod
    def _deadline_open_domain(cls):
        return [('state', '=', 'handling')]

    def deadline_owners(self):
        User = Pool().get('res.user')
        return list(User.users_of_employees(self.handlers).values())

    def deadline_department(self):
        return self.handlers[0].department if self.handlers else None

    @classmethod
    @ModelView.button
    @Workflow.transition('proposed')
    def propose(cls, documents):
        for document in documents:
            if not document.proposal:
                raise DocumentError(gettext(
                        'office_admin.msg_incoming_proposal_required',
                        document=document.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('handling')
    def instruct(cls, documents):
        pool = Pool()
        Calendar = pool.get('office.calendar')
        User = pool.get('res.user')
        Notification = pool.get('office.notification')
        user = Transaction().user
        now = calendar_.utcnow()
        for document in documents:
            if not document.instruction or not document.handlers:
                raise DocumentError(gettext(
                        'office_admin.msg_incoming_instruction_required',
                        document=document.rec_name))
            document.instructed_by = user
            if document.handling_days:
                calendar = Calendar.get_calendar(document.company)
                document.deadline = calendar.add_working_days_at_end(
                    now, document.handling_days, document.company)
            document.escalation_level = 0
        cls.save(documents)
        for document in documents:
            Notification.send(
                [document],
                list(User.users_of_employees(document.handlers).values()),
                'office_admin.msg_incoming_to_handle',
                key='handle-%s' % document.id)

    @classmethod
    @ModelView.button
    @Workflow.transition('completed')
    def complete(cls, documents):
        pool = Pool()
        Archive = pool.get('office.archive')
        for document in documents:
            if not document.result:
                raise DocumentError(gettext(
                        'office_admin.msg_incoming_result_required',
                        document=document.rec_name))
        Archive.create_from(documents)

    @classmethod
    @ModelView.button
    @Workflow.transition('archived')
    def archive(cls, documents):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, documents):
        pass


class IncomingHandler(OfficeAccessMixin, ModelSQL):
    __name__ = 'office.document.incoming-company.employee'
    document = fields.Many2One(
        'office.document.incoming', "Document", required=True,
        ondelete='CASCADE')
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, ondelete='CASCADE')


class ReaderMixin(OfficeAccessMixin, ModelSQL):
    __slots__ = ()
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('document_user_unique', Unique(t, t.document, t.user),
                'office_admin.msg_document_reader_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.user, Index.Equality()),
                    (t.document, Index.Range())),
                })

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Document = pool.get(cls._fields['document'].model_name)
        exist = backend.TableHandler.table_exist(cls._table)
        super().__register__(module)
        if not exist:
            # Migration: store the readers of the existing documents
            document = Document.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*document.select(document.id))
            ids = [i for i, in cursor]
            if ids:
                Document.sync_readers(ids)


class IncomingReader(ReaderMixin):
    "Incoming Document Reader"
    __name__ = 'office.document.incoming.reader'
    document = fields.Many2One(
        'office.document.incoming', "Document", required=True,
        ondelete='CASCADE')


class OutgoingReader(ReaderMixin):
    "Outgoing Document Reader"
    __name__ = 'office.document.outgoing.reader'
    document = fields.Many2One(
        'office.document.outgoing', "Document", required=True,
        ondelete='CASCADE')


class UserEmployee(metaclass=PoolMeta):
    __name__ = 'res.user-company.employee'

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._sync_document_readers(records)

    @classmethod
    def on_delete(cls, records):
        employees = {r.employee.id for r in records}
        users = {r.user.id for r in records}
        return super().on_delete(records) + [
            lambda: cls._sync_document_readers(
                users=users, employees=employees)]

    @classmethod
    def _sync_document_readers(cls, records=(), users=(), employees=()):
        "The documents of the employees a user gained or lost"
        users = set(users) | {r.user.id for r in records}
        employees = set(employees) | {r.employee.id for r in records}
        sync_employee_documents(users, employees)


class Employee(metaclass=PoolMeta):
    __name__ = 'company.employee'

    @classmethod
    def on_delete(cls, employees):
        # The database deletes their handler and user links by cascade,
        # without the hooks that keep the readers in sync
        pool = Pool()
        UserEmployee = pool.get('res.user-company.employee')
        ids = [e.id for e in employees]
        with without_check_access():
            users = {l.user.id for l in UserEmployee.search([
                        ('employee', 'in', ids),
                        ])}
        return super().on_delete(employees) + [
            lambda: sync_employee_documents(users, ids)]


def sync_employee_documents(users, employees):
    """Sync the readers of the documents the users read or the employees
    handle or draft (without access checks: the caller's rules must not
    hide a document from the sync)"""
    pool = Pool()
    with without_check_access():
        for name, relation, column in [
                ('office.document.incoming',
                    'office.document.incoming-company.employee', 'employee'),
                ('office.document.outgoing', None, 'drafter'),
                ]:
            Document = pool.get(name)
            Reader = pool.get(Document._fields['readers'].relation_name)
            ids = {r.document.id for r in Reader.search([
                        ('user', 'in', list(users)),
                        ])}
            if relation:
                Relation = pool.get(relation)
                ids |= {r.document.id for r in Relation.search([
                            (column, 'in', list(employees)),
                            ])}
            else:
                ids |= {d.id for d in Document.search([
                            (column, 'in', list(employees)),
                            ])}
            Document.sync_readers(ids)


class Outgoing(
        OfficeAccessMixin, DocumentMixin, ApprovalMixin, Workflow, ModelSQL,
        ModelView):
    "Outgoing document (发文)"
    __name__ = 'office.document.outgoing'
    _approval_summary_fields = (
        'type', 'title', 'urgency', 'department', 'main_recipients',
        'copy_recipients')
    _workflow_own_fields = {'drafter', 'department'}
    _approval_transitions = {
        'approved': 'signed',
        'rejected': 'draft',
        'returned': 'draft',
        'withdrawn': 'draft',
        }
    _states = {'readonly': Eval('state') != 'draft'}

    type = fields.Many2One(
        'office.document.type', "Type", required=True, states=_states,
        domain=[('direction', '=', 'outgoing')])
    core = fields.Function(fields.Boolean("Core"), 'on_change_with_core')
    drafter = fields.Many2One(
        'company.employee', "Drafter", required=True, states=_states)
    department = fields.Many2One(
        'office.department', "Drafting Department", required=True,
        states=_states)
    main_recipients = fields.Text(
        "Main Recipients (主送)", required=True, states=_states)
    copy_recipients = fields.Text("Copy Recipients (抄送)", states=_states)
    body = fields.Text("Body", states=_states)
    readers = fields.Many2Many(
        'office.document.outgoing.reader', 'document', 'user', "Readers",
        readonly=True,
        help="The users involved: drafter, recipients and author (kept for "
        "the record rules).")
    signed_by = fields.Many2One('res.user', "Signed By", readonly=True)
    signed_at = fields.DateTime("Signed At", readonly=True)
    issued_at = fields.DateTime("Issued At", readonly=True)
    sequence_number = fields.Integer("Sequence Number", readonly=True)
    year = fields.Integer("Year", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "In Review"),
            ('signed', "Signed"),
            ('issued', "Issued"),
            ('archived', "Archived"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('type_year_number_unique',
                Unique(t, t.type, t.year, t.sequence_number),
                'office_admin.msg_document_counter_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.number, Index.Similarity())))
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'draft'),
            ('submitted', 'signed'),
            ('signed', 'issued'),
            ('issued', 'archived'),
            ('draft', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'issue': {
                    'invisible': Eval('state') != 'signed',
                    'depends': ['state'],
                    },
                'archive': {
                    'invisible': Eval('state') != 'issued',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    },
                })

    _reader_fields = {'drafter'}

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def _readers_queries(cls, document, ids):
        return super()._readers_queries(document, ids) + [
            cls._employee_users(document.select(
                    document.id.as_('document'),
                    document.drafter.as_('employee'),
                    where=document.id.in_(ids))),
            ]

    @classmethod
    def default_drafter(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_department(cls):
        return context_department()

    @fields.depends('type')
    def on_change_with_core(self, name=None):
        return bool(self.type and self.type.core)

    def approval_requester_employee(self):
        return self.drafter

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, documents):
        # The state first: a rule whose tiers all skip approves at once
        cls.write(documents, {'state': 'submitted'})
        cls.approval_submit(documents)

    @classmethod
    def _approval_on_approved(cls, documents):
        "The last tier of the rule is the signature (签发)"
        pool = Pool()
        Step = pool.get('office.approval.step')
        now = calendar_.utcnow()
        for document in documents:
            steps = Step.search([
                    ('request.res_model', '=', cls.__name__),
                    ('request.res_id', '=', document.id),
                    ('state', '=', 'approved'),
                    ], order=[('acted_at', 'DESC'), ('id', 'DESC')], limit=1)
            document.signed_by = steps[0].acted_by if steps else None
            document.signed_at = now
        cls.save(documents)

    @classmethod
    @ModelView.button
    @Workflow.transition('issued')
    def issue(cls, documents):
        """Number the signed documents: 「{prefix}〔{year}〕{n}号」 per type
        and year, consecutive and never twice"""
        pool = Pool()
        Counter = pool.get('office.document.counter')
        Date = pool.get('ir.date')
        year = Date.today().year
        now = calendar_.utcnow()
        for document in documents:
            if document.state != 'signed' or not document.signed_at:
                raise DocumentError(gettext(
                        'office_admin.msg_outgoing_not_signed',
                        document=document.rec_name))
        for document in sorted(documents, key=lambda d: d.id):
            n, = Counter.take('outgoing', year, type_=document.type)
            document.year = year
            document.sequence_number = n
            document.number = gettext(
                'office_admin.msg_outgoing_number',
                prefix=document.type.prefix or document.type.code,
                year=year, n=n)
            document.issued_at = now
        cls.save(documents)
        pool.get('office.archive').create_from(documents)

    @classmethod
    @ModelView.button
    @Workflow.transition('archived')
    def archive(cls, documents):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, documents):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, documents):
        pass


class RegisterReport(Report):
    "Registers (收文登记簿 / 发文登记簿) and the archive catalogue (档案目录)"
    __slots__ = ()

    @classmethod
    def _columns(cls, model):
        if model == 'office.document.incoming':
            return ['number', 'received', 'sender', 'sender_number', 'title',
                'secrecy', 'urgency', 'state']
        if model == 'office.document.outgoing':
            return ['number', 'type', 'title', 'drafter', 'department',
                'secrecy', 'signed_by', 'issued_at', 'state']
        return ['code', 'title', 'year', 'department', 'type', 'secrecy',
            'retention', 'room', 'cabinet', 'box', 'state']

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Model = pool.get('ir.model')
        context = super().get_context(records, header, data)
        model = records[0].__name__ if records else data.get('model')
        names = cls._columns(model)
        Record = pool.get(model)
        fields_ = Record.fields_get(names)
        context['title'] = Model.get_name(model)
        context['columns'] = [fields_[n]['string'] for n in names]

        def text(record, name):
            value = getattr(record, name)
            field = fields_[name]
            if field['type'] == 'selection':
                return dict(field['selection']).get(value, '')
            if hasattr(value, 'rec_name'):
                return value.rec_name
            return '' if value is None else str(value)
        context['rows'] = [[text(r, n) for n in names] for r in records]
        return context


class IncomingRegister(RegisterReport):
    __name__ = 'office.document.incoming.register'


class OutgoingRegister(RegisterReport):
    __name__ = 'office.document.outgoing.register'


class ArchiveCatalogue(RegisterReport):
    __name__ = 'office.archive.catalogue'


class OutgoingFormReport(Report):
    "The approval form (发文稿纸) and the front page of the issued document"
    __name__ = 'office.document.outgoing.form'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Outgoing = pool.get('office.document.outgoing')
        Calendar = pool.get('office.calendar')
        context = super().get_context(records, header, data)
        selections = Outgoing.fields_get(['secrecy', 'urgency'])
        context['secrecy'] = lambda d: dict(
            selections['secrecy']['selection'])[d.secrecy]
        context['urgency'] = lambda d: dict(
            selections['urgency']['selection'])[d.urgency]
        context['company'] = lambda d: d.company.rec_name
        timezone = Calendar.get_timezone()
        context['when'] = lambda v: v.replace(tzinfo=tz.UTC).astimezone(
            timezone).strftime('%Y-%m-%d %H:%M') if v else ''
        context['labels'] = {
            key: gettext('office_admin.msg_outgoing_form_%s' % key)
            for key in ['form', 'number', 'secrecy', 'urgency', 'type',
                'title', 'main', 'copy', 'drafter', 'department', 'tier',
                'reviewer', 'opinion', 'date', 'agree']}
        return context
