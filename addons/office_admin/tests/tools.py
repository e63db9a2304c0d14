# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Build an organisation with proteus: used by the scenarios, the demo data
and the benchmarks, so that all of them speak of the same company."""
from proteus import Model
from proteus.config import get_config
from trytond.modules.company.tests.tools import get_company

__all__ = ['setup_office', 'setup_supplies', 'get_user', 'start_smtp',
    'count_statements', 'GROUPS', 'ORGANISATION', 'SUPPLIES']

GROUPS = {
    'admin': "Office Administrator",
    'staff': "Office Staff",
    'head': "Department Head",
    'leader': "Leadership",
    'employee': "Office Employee",
    }

# code, name, parent code, [(login, name, groups, clearance, role)]
# role: 'head', 'deputy' or None
ORGANISATION = [
    ('GM', "总经理办公室", None, [
            ('gm', "王建国", ['leader', 'head'], 'top_secret', 'head'),
            ('vgm', "李明", ['leader'], 'secret', None),
            ]),
    ('OFF', "综合办公室", None, [
            ('office_head', "张丽", ['admin', 'head'], 'secret', 'head'),
            ('clerk', "陈晓", ['staff'], 'confidential', None),
            ]),
    ('FIN', "财务部", None, [
            ('fin_head', "刘芳", ['head'], 'confidential', 'head'),
            ('fin1', "赵强", ['employee'], 'internal', None),
            ]),
    ('SAL', "销售部", None, [
            ('sales_head', "周杰", ['head'], 'confidential', 'head'),
            ('sales1', "吴磊", ['employee'], 'internal', None),
            ('sales2', "郑爽", ['employee'], 'public', None),
            ]),
    ('SAL-N', "华北销售组", 'SAL', [
            ('north1', "孙伟", ['employee'], 'internal', None),
            ]),
    ]


def get_user(login, config=None):
    User = Model.get('res.user', config=config)
    user, = User.find([('login', '=', login)])
    return user


def setup_office(config=None, organisation=None, timezone='Asia/Shanghai',
        password=None, language=None):
    """Create departments, employees with users in the office groups, the
    company calendar, seals and the seal-request approval rule."""
    if config is None:
        config = get_config()
    organisation = organisation or ORGANISATION
    Calendar = Model.get('office.calendar', config=config)
    Company = Model.get('company.company', config=config)
    Department = Model.get('office.department', config=config)
    Employee = Model.get('company.employee', config=config)
    Group = Model.get('res.group', config=config)
    Party = Model.get('party.party', config=config)
    User = Model.get('res.user', config=config)
    Seal = Model.get('office.seal', config=config)
    Rule = Model.get('office.approval.rule', config=config)
    IrModel = Model.get('ir.model', config=config)

    company = get_company(config=config)
    calendar, = Calendar.find([('default', '=', True)])
    calendar.click('seed_holidays')
    company.timezone = timezone
    company.office_calendar = calendar
    company.save()

    groups = {k: Group.find([('name', '=', v)])[0] for k, v in GROUPS.items()}
    admin = User(config.user)
    admin.clearance = 'top_secret'
    admin.save()

    departments = {}
    heads = {}
    for code, name, parent, members in organisation:
        department = Department(name=name, code=code, company=company)
        if parent:
            department.parent = departments[parent]
        department.save()
        departments[code] = department
        for login, person, group_keys, clearance, role in members:
            party = Party(name=person)
            party.save()
            employee = Employee(party=party, company=company)
            employee.department = department
            employee.save()
            user = User(name=person, login=login, email=f'{login}@example.com')
            user.password = password or f'{login}-Pass-2026'
            if language:
                user.language = language
            user.clearance = clearance
            user.companies.append(Company(company.id))
            user.company = company
            user.employees.append(Employee(employee.id))
            user.employee = employee
            for key in group_keys:
                user.groups.append(Group(groups[key].id))
            user.save()
            if role:
                heads.setdefault(code, {})[role] = employee
        for role, employee in heads.get(code, {}).items():
            setattr(department, role, employee)
        department.save()

    clerk, = Employee.find([('party.name', '=', "陈晓")])
    for name, type_, code in [
            ("公章", 'official', 'GZ'),
            ("合同专用章", 'contract', 'HT'),
            ("财务专用章", 'finance', 'CW'),
            ("法人章", 'legal_rep', 'FR'),
            ]:
        Seal(name=name, type=type_, code=code, company=company,
            keeper=clerk, location="综合办公室保险柜").save()

    rule = Rule(name="用印审批", sequence=100, model=IrModel.find(
            [('name', '=', 'office.seal.request')])[0])
    tier = rule.tiers.new(
        name="部门负责人审核", sequence=10, reviewer_source='requester_head')
    tier = rule.tiers.new(
        name="综合办公室审核", sequence=20, reviewer_source='group',
        group=Group(groups['admin'].id))
    tier = rule.tiers.new(
        name="领导审批", sequence=30, reviewer_source='leadership',
        condition="[('contract', '=', True), ('amount', '>', 100000)]")
    del tier
    rule.save()
    return departments


# code, name, unit, cost, stock, order point (min, target) or None
SUPPLIES = [
    ('A4', "A4复印纸（箱）", 'u', '120.00', 20, (5, 30)),
    ('PEN', "中性笔", 'u', '2.50', 200, (50, 300)),
    ('FOLDER', "文件夹", 'u', '5.00', 100, (20, 150)),
    ('STAPLER', "订书机", 'u', '25.00', 10, (3, 15)),
    ('TONER', "硒鼓", 'u', '450.00', 4, (2, 8)),
    ('NOTE', "笔记本", 'u', '8.00', 60, None),
    ]


def setup_supplies(config=None, supplies=None, threshold='1000'):
    """Set up office supplies on Tryton stock: the category, the store (a
    warehouse), products with their cost and stock, order points on the
    store, the consumption location of every department, and stock rights
    for the office staff"""
    import datetime as dt
    from decimal import Decimal
    if config is None:
        config = get_config()
    Category = Model.get('product.category', config=config)
    Config = Model.get('office.configuration', config=config)
    Group = Model.get('res.group', config=config)
    Location = Model.get('stock.location', config=config)
    ModelData = Model.get('ir.model.data', config=config)
    OrderPoint = Model.get('stock.order_point', config=config)
    Template = Model.get('product.template', config=config)
    Uom = Model.get('product.uom', config=config)
    User = Model.get('res.user', config=config)
    supplies = SUPPLIES if supplies is None else supplies

    category = Category(name="办公用品")
    category.save()
    storage = Location(name="办公用品库位", code='OS-STO', type='storage')
    storage.save()
    input_ = Location(name="办公用品收货", code='OS-IN', type='storage')
    input_.save()
    output = Location(name="办公用品发货", code='OS-OUT', type='storage')
    output.save()
    lost_found, = Location.find([('type', '=', 'lost_found')], limit=1)
    store = Location(name="办公用品库", code='OS', type='warehouse',
        storage_location=storage, input_location=input_,
        output_location=output, lost_found_location=lost_found)
    store.save()
    for location in [storage, input_, output]:
        location.parent = store
        location.save()

    configuration = Config(1)
    configuration.supply_warehouse = store
    configuration.supply_category = category
    configuration.supply_approval_threshold = Decimal(threshold)
    configuration.save()
    configuration.click('supply_setup_locations')

    unit, = Uom.find([('name', '=', 'Unit')])
    products = {}
    for code, name, _, cost, _, _ in supplies:
        template = Template(name=name, type='goods', default_uom=unit,
            list_price=Decimal(cost), purchasable=True)
        template.categories.append(Category(category.id))
        template.code = code
        template.save()
        product, = template.products
        product.cost_price = Decimal(cost)
        product.save()
        products[code] = product
    # The opening stock: a stocktake of the store a season ago
    Inventory = Model.get('stock.inventory', config=config)
    inventory = Inventory(location=storage,
        date=dt.date.today() - dt.timedelta(days=120))
    for code, _, _, _, quantity, _ in supplies:
        if quantity:
            line = inventory.lines.new()
            line.product = products[code]
            line.quantity = quantity
    inventory.click('confirm')
    for code, _, _, _, _, point in supplies:
        if point:
            OrderPoint(type='purchase', product=products[code],
                location=store, min_quantity=point[0],
                target_quantity=point[1]).save()

    def group(module, fs_id):
        return Group(ModelData.get_id(module, fs_id, config.context))
    extra = [group('stock', 'group_stock'),
        group('purchase_request', 'group_purchase_request')]
    office = Group.find([('name', 'in', [GROUPS['staff'], GROUPS['admin']])])
    for user in User.find([('groups', 'in', [g.id for g in office])]):
        for g in extra:
            if g not in user.groups:
                user.groups.append(Group(g.id))
        user.save()
    return products


class SMTPSink:
    "A real SMTP server on loopback that keeps the messages it receives"

    def __init__(self):
        import socket

        from aiosmtpd.controller import Controller
        self.messages = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import email
                from email import policy
                message = email.message_from_bytes(
                    envelope.content, policy=policy.default)
                sink.messages.append((envelope.rcpt_tos, message))
                return '250 OK'

        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(
            Handler(), hostname='127.0.0.1', port=self.port)
        self.controller.start()
        self._handler = Handler

    def start(self):
        "Start again after stop, on the same port (SMTP back)"
        from aiosmtpd.controller import Controller
        self.controller = Controller(
            self._handler(), hostname='127.0.0.1', port=self.port)
        self.controller.start()

    @property
    def uri(self):
        return f'smtp://127.0.0.1:{self.port}'

    def to(self, address):
        "Return the subjects of the messages received for address"
        return sorted(str(m['Subject']) for rcpts, m in self.messages
            if address in rcpts)

    def clear(self):
        self.messages.clear()

    def stop(self):
        self.controller.stop()


def start_smtp():
    """Start an SMTP sink on loopback and send trytond's e-mails to it"""
    from trytond import config
    sink = SMTPSink()
    config.set('email', 'uri', sink.uri)
    return sink


def count_statements(config, model, method, ids, exclude=None):
    """Call model.method on the records ids as the user of config, as an RPC
    call does (access checked, the transaction restarted to take a lock),
    and return (statements, excluded): the SQL statements it ran (each
    cursor execute, the restarted attempt included) and those run inside
    exclude, a (model, class method) whose cost is counted apart.
    The queued tasks run afterwards, as proteus runs them."""
    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    from trytond.worker import run_task
    if backend.name == 'postgresql':
        from trytond.backend.postgresql.database import (
            LoggingCursor as Cursor)
    else:
        from trytond.backend.sqlite.database import SQLiteCursor as Cursor
    import threading

    from trytond.cache import Cache
    pool = Pool(config.database_name)
    counts = {'all': 0, 'excluded': 0, 'depth': 0, 'sync': 0}
    execute = Cursor.execute
    thread = threading.get_ident()

    def counting(self, *args, **kwargs):
        # Only this call's: not another thread's (trytond's cache listener)
        # nor the cache synchronisation trytond runs when its timeout
        # passed (a matter of time, not of the call)
        if threading.get_ident() == thread and not counts['sync']:
            counts['all'] += 1
            if counts['depth']:
                counts['excluded'] += 1
        return execute(self, *args, **kwargs)

    sync = vars(Cache)['sync']

    def syncing(cls, transaction):
        counts['sync'] += 1
        try:
            return sync.__func__(cls, transaction)
        finally:
            counts['sync'] -= 1

    patched = None
    if exclude:
        Excluded = pool.get(exclude[0])
        own = exclude[1] in vars(Excluded)
        original = getattr(Excluded, exclude[1])

        def wrapper(cls, *args, **kwargs):
            counts['depth'] += 1
            try:
                return original(*args, **kwargs)
            finally:
                counts['depth'] -= 1
        patched = (Excluded, own, vars(Excluded).get(exclude[1]))
        setattr(Excluded, exclude[1], classmethod(wrapper))
    context = dict(config.context, _check_access=True)
    extras = {}
    Cursor.execute = counting
    Cache.sync = classmethod(syncing)
    try:
        while True:
            with Transaction().start(config.database_name, config.user,
                    context=context, **extras) as transaction:
                try:
                    Model = pool.get(model)
                    getattr(Model, method)(Model.browse(ids))
                except TransactionError as e:
                    transaction.rollback()
                    e.fix(extras)
                    continue
                transaction.commit()
            break
    finally:
        Cursor.execute = execute
        Cache.sync = sync
        if patched:
            Excluded, own, value = patched
            if own:
                setattr(Excluded, exclude[1], value)
            else:
                delattr(Excluded, exclude[1])
    while transaction.tasks:
        run_task(config.database_name, transaction.tasks.pop())
    return counts['all'], counts['excluded']
