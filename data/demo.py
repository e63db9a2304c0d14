#!/usr/bin/env python3
# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Fill a database where office_admin is activated.

    python data/demo.py --database NAME [--small]

The default is the demo: a company in Asia/Shanghai with zh_CN, 8
departments with heads, about 30 employees whose users span every office
group, the seals, and seal requests in every state. Every demo user, admin
included, speaks the company's language (zh_CN); the web client shows and
takes times on the company's clock, whatever the browser's time zone
(company_timezone in the preferences). --small builds only the
organisation the tests use. Running it again on a filled database does
nothing (it is idempotent). The configuration comes from TRYTOND_CONFIG."""
import argparse
import datetime as dt
import sys
from decimal import Decimal

from proteus import Model, Wizard
from proteus import config as pconfig

from trytond.modules.company.tests.tools import create_company
from trytond.modules.office_admin.tests.tools import (
    ORGANISATION, setup_office, setup_supplies)

DEMO_PASSWORD = 'Office-2026'

# Extra departments and people of the demo, on top of the test organisation
DEMO_ORGANISATION = ORGANISATION + [
    ('HR', "人力资源部", None, [
            ('hr_head', "黄蓉", ['head'], 'confidential', 'head'),
            ('hr1', "郭靖", ['employee'], 'internal', None),
            ('hr2', "杨过", ['employee'], 'internal', None),
            ]),
    ('IT', "信息技术部", None, [
            ('it_head', "林峰", ['head'], 'confidential', 'head'),
            ('it_deputy', "何静", ['employee'], 'internal', 'deputy'),
            ('it1', "马超", ['employee'], 'internal', None),
            ('it2', "许晴", ['employee'], 'internal', None),
            ]),
    ('PRD', "生产部", None, [
            ('prd_head', "高峰", ['head'], 'confidential', 'head'),
            ('prd1', "罗军", ['employee'], 'internal', None),
            ('prd2', "谢娜", ['employee'], 'public', None),
            ('prd3', "韩雪", ['employee'], 'internal', None),
            ('prd4', "冯刚", ['employee'], 'internal', None),
            ]),
    ('PUR', "采购部", None, [
            ('pur_head', "邓超", ['head'], 'confidential', 'head'),
            ('pur1', "曹颖", ['employee'], 'internal', None),
            ('pur2', "彭宇", ['employee'], 'internal', None),
            ('pur3', "于洋", ['employee'], 'internal', None),
            ]),
    ('FIN-A', "会计核算组", 'FIN', [
            ('acc_head', "宋佳", ['head'], 'confidential', 'head'),
            ('acc1', "唐宁", ['employee'], 'internal', None),
            ('acc2', "潘越", ['employee'], 'internal', None),
            ]),
    ('OFF-A', "档案室", 'OFF', [
            ('archivist', "钱琳", ['staff'], 'secret', None),
            ]),
    ]


def connect(database):
    return pconfig.set_trytond(database=database)


def already_filled():
    Company = Model.get('company.company')
    return bool(Company.find([]))


def activate_chinese():
    """zh_CN with the translations of every activated module: ir.lang's
    Load Translations, unless trytond-admin -l zh_CN did it already (as in
    bin/demo and the README's recipe)"""
    Lang = Model.get('ir.lang')
    chinese, = Lang.find([('code', '=', 'zh_CN')])
    if not chinese.translatable:
        chinese.click('load_translations')
    return chinese


def make_company():
    Party = Model.get('party.party')
    Currency = Model.get('currency.currency')
    currencies = Currency.find([('code', '=', 'CNY')])
    if currencies:
        currency, = currencies
    else:
        currency = Currency(name="人民币", code='CNY', symbol='¥')
        currency.save()
    party = Party(name="华夏示范集团有限公司")
    party.save()
    create_company(party=party, currency=currency)


def demo_requests():
    "Seal requests in every state"
    User = Model.get('res.user')
    Seal = Model.get('office.seal')
    SealRequest = Model.get('office.seal.request')
    users = {u.login: u for u in User.find([])}
    seals = {s.code: s for s in Seal.find([])}
    config = pconfig.get_config()

    def as_user(login):
        config.user = users[login].id
        config._context = User.get_preferences(True, {})

    def new(login, title, seal='GZ', submit=True, **values):
        as_user(login)
        request = SealRequest(seal=seals[seal], document_title=title,
            purpose=values.pop('purpose', "对外报送"), **values)
        request.save()
        if submit:
            request.click('submit')
        return request

    def approve(login, request):
        as_user(login)
        request = SealRequest(request.id)
        request.click('approval_approve')
        return request

    def decide(login, request, action, comment):
        as_user(login)
        wizard = Wizard('office.approval.decide', [SealRequest(request.id)])
        wizard.form.comment = comment
        # Each decision is its own button (wizard state)
        wizard.execute('return_requester' if action == 'return' else action)

    next_week = dt.date.today() + dt.timedelta(days=7)
    new('sales1', "2027年度销售框架协议（草稿）", submit=False)
    new('hr1', "员工在职证明", copies=3, needed_by=next_week)
    new('it1', "软件采购合同", seal='HT', contract=True,
        amount=Decimal('86000'))
    request = new('prd1', "安全生产责任书", copies=5)
    approve('prd_head', request)
    request = new('pur1', "年度原材料采购合同", seal='HT', contract=True,
        amount=Decimal('1250000'))
    approve('pur_head', request)
    approve('office_head', request)
    request = new('fin1', "银行开户资料", seal='CW')
    approve('fin_head', request)
    approve('office_head', request)
    request = new('sales2', "投标文件", copies=2, secrecy='public')
    approve('sales_head', request)
    approve('office_head', request)
    as_user('clerk')
    request = SealRequest(request.id)
    request.click('use')
    request = new('hr2', "劳动合同（批量）", copies=12)
    approve('hr_head', request)
    approve('office_head', request)
    as_user('clerk')
    request = SealRequest(request.id)
    request.click('use')
    request.click('close')
    request = new('it2', "对外承诺函")
    decide('it_head', request, 'reject', "承诺范围过大，请法务审核后再提交")
    request = new('prd3', "设备验收单")
    decide('prd_head', request, 'return', "请附验收照片")
    as_user('prd4')
    request = SealRequest(seal=seals['GZ'], document_title="临时通行证明",
        purpose="门卫登记")
    request.save()
    request.click('cancel')
    config.user = 1
    config._context = User.get_preferences(True, {})


def demo_meetings():
    "Rooms, equipment and meetings in several states"
    User = Model.get('res.user')
    Group = Model.get('res.group')
    Room = Model.get('office.meeting.room')
    Equipment = Model.get('office.equipment')
    Meeting = Model.get('office.meeting')
    Rule = Model.get('office.approval.rule')
    IrModel = Model.get('ir.model')
    config = pconfig.get_config()
    users = {u.login: u for u in User.find([])}

    def as_user(login):
        config.user = users[login].id
        config._context = User.get_preferences(True, {})

    rooms = {}
    for name, seats, approval, location in [
            ("第一会议室", 8, False, "办公楼3楼301"),
            ("第二会议室", 12, False, "办公楼3楼302"),
            ("多功能厅", 60, False, "办公楼1楼"),
            ("董事会议室", 20, True, "办公楼8楼"),
            ("视频会议室", 10, False, "办公楼5楼501"),
            ]:
        room = Room(name=name, capacity=seats, needs_approval=approval,
            location=location)
        if seats >= 10:
            room.equipment.new(name=f"{name}投影仪", type='projector')
        if name == "视频会议室":
            room.equipment.new(name="视频会议系统", type='video_conference')
        room.save()
        rooms[name] = room
    Equipment(name="移动视频会议终端", type='video_conference',
        movable=True).save()
    Equipment(name="无线话筒套装", type='microphone', movable=True).save()
    rule = Rule(name="董事会议室预订审批", model=IrModel.find(
            [('name', '=', 'office.meeting')])[0])
    rule.tiers.new(name="综合办公室审批", reviewer_source='group',
        group=Group.find([('name', '=', 'Office Administrator')])[0])
    rule.save()

    def at(days, hour, minute=0):
        day = dt.date.today() + dt.timedelta(days=days)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return (dt.datetime.combine(day, dt.time(hour, minute))
            - dt.timedelta(hours=8))

    def meeting(login, topic, room, start, hours, attendees, **values):
        as_user(login)
        record = Meeting(topic=topic, room=rooms[room], start=start,
            end=start + dt.timedelta(hours=hours), **values)
        for attendee in attendees:
            record.attendees.new(employee=users[attendee].employee)
        record.save()
        return record

    weekly = meeting('sales_head', "销售部周例会", "第二会议室", at(2, 9), 1,
        ['sales1', 'sales2', 'north1'], recurrence='weekly', occurrences=6,
        agenda="1. 上周业绩回顾\n2. 本周重点客户\n3. 其他事项")
    weekly.click('request')
    board = meeting('gm', "2027年度经营计划讨论会", "董事会议室", at(5, 14), 2,
        ['vgm', 'office_head', 'fin_head', 'sales_head'],
        equipment_needed=['projector'])
    board.click('request')
    meeting('it_head', "信息系统升级方案评审", "视频会议室", at(3, 10), 1.5,
        ['it1', 'it2', 'it_deputy'],
        equipment_needed=['video_conference']).click('request')
    meeting('hr_head', "新员工入职培训", "多功能厅", at(7, 9), 3,
        ['hr1', 'hr2']).save()
    config.user = 1
    config._context = User.get_preferences(True, {})


def demo_receptions():
    "Customer receptions: one confirmed by the office, one to confirm"
    Party = Model.get('party.party')
    Room = Model.get('office.meeting.room')
    Reception = Model.get('office.reception')
    as_login(None)
    customer = Party(name="华为技术有限公司")
    customer.save()
    room, = Room.find([('name', '=', "第一会议室")])

    def at(days, hour):
        day = dt.date.today() + dt.timedelta(days=days)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return (dt.datetime.combine(day, dt.time(hour))
            - dt.timedelta(hours=8))

    receptions = []
    for login, title, days, catering in [
            ('sales_head', "华为年度合作洽谈", 4, True),
            ('sales1', "华为采购部回访", 9, False)]:
        as_login(login)
        reception = Reception(title=title, customer=customer, room=room,
            arrival=at(days, 14), departure=at(days, 16),
            purpose="年度合作洽谈及新品介绍",
            materials="公司画册、新品样品、合作方案（10 份）",
            welcome_text="热烈欢迎华为技术有限公司领导莅临指导")
        reception.guests.new(name="李明", title="副总裁")
        reception.guests.new(name="王芳", title="采购经理")
        if catering:
            reception.catering = True
            reception.catering_people = 6
            reception.catering_notes = "一位客人素食"
        reception.save()
        reception.click('submit')
        receptions.append(reception)
    as_login('clerk')
    Reception(receptions[0].id).click('confirm')
    as_login(None)


def demo_supplies():
    "Requisitions of office supplies in several states and a monthly plan"
    config = pconfig.get_config()
    User = Model.get('res.user')
    Product = Model.get('product.product')
    Requisition = Model.get('office.supply.requisition')
    Plan = Model.get('office.supply.plan')
    users = {u.login: u for u in User.find([])}
    products = {p.code: p for p in Product.find([('code', '!=', None)])}

    def as_user(login):
        config.user = users[login].id
        config._context = User.get_preferences(True, {})

    def requisition(login, *lines):
        as_user(login)
        record = Requisition()
        for code, quantity in lines:
            line = record.lines.new()
            line.product = Product(products[code].id)
            line.quantity = quantity
            line.purpose = "日常办公"
        record.save()
        return record

    requisition('sales1', ('PEN', 20), ('NOTE', 5))
    submitted = requisition('sales2', ('FOLDER', 10))
    submitted.click('submit')
    issued = requisition('fin1', ('A4', 2), ('PEN', 10))
    issued.click('submit')
    as_user('fin_head')
    Requisition(issued.id).click('approval_approve')
    as_user('clerk')
    Requisition(issued.id).click('issue')
    as_user('sales1')
    plan = Plan()
    for code, quantity in [('A4', 4), ('PEN', 50), ('TONER', 1)]:
        line = plan.lines.new()
        line.product = Product(products[code].id)
        line.quantity = quantity
    plan.save()
    config.user = 1
    config._context = User.get_preferences(True, {})


def as_login(login):
    "Act as the demo user login (admin for None)"
    User = Model.get('res.user')
    config = pconfig.get_config()
    if login is None:
        config.user = 1
    else:
        config.user, = [u.id for u in User.find([('login', '=', login)])]
    config._context = User.get_preferences(True, {})


def demo_people():
    "Users in Human Resources"
    User = Model.get('res.user')
    Group = Model.get('res.group')
    hr, = Group.find([('name', '=', 'Human Resources')])
    for user in User.find([('login', 'in', ['hr_head', 'hr1'])]):
        user.groups.append(Group(hr.id))
        user.save()


def admin_in_chinese(chinese):
    """The admin speaks the company's language too (last: the data above
    finds groups and rules by their English names)"""
    User = Model.get('res.user')
    admin = User(1)
    admin.language = chinese
    admin.save()


def demo_attendance():
    """Work schedules, the past month of punches with anomalies (late,
    early leave, missing punch, absence) and a 补卡 from one of them"""
    Schedule = Model.get('office.attendance.schedule')
    Assignment = Model.get('office.attendance.schedule.assignment')
    Employee = Model.get('company.employee')
    User = Model.get('res.user')
    Cron = Model.get('ir.cron')
    CalendarDay = Model.get('office.calendar.day')
    Anomaly = Model.get('office.attendance.anomaly')
    Correction = Model.get('office.attendance.correction')
    Import = 'office.attendance.import'

    as_login(None)
    day = Schedule(name="标准班", kind='fixed', start=dt.time(9, 0),
        end=dt.time(18, 0), grace_minutes=5)
    day.save()
    flexible = Schedule(name="弹性班", kind='flexible', start=dt.time(8, 30),
        latest_start=dt.time(10, 0), end=dt.time(17, 30), grace_minutes=0)
    flexible.save()
    today = dt.date.today()
    first = today - dt.timedelta(days=31)
    # The employees whose punches the gate reports (the others' attendance
    # is not tracked in the demo: no schedule, no absences)
    logins = ['sales1', 'sales2', 'north1', 'fin1', 'hr1', 'hr2', 'it1',
        'prd1', 'prd2', 'pur1', 'clerk']
    users = {u.login: u for u in User.find([('login', 'in', logins)])}
    for login in logins:
        Assignment(schedule=flexible if login == 'it1' else day,
            employee=Employee(users[login].employee.id),
            date_from=first).save()
    holidays = {d.date for d in CalendarDay.find([
                ('date', '>=', first), ('kind', '=', 'holiday')])}
    rows = ['employee,timestamp,device,method']
    for i, login in enumerate(logins):
        employee = Employee(users[login].employee.id)
        employee.clock_code = 'E%03d' % (i + 1)
        employee.save()
        date = first
        n = 0
        while date < today:
            if date.weekday() < 5 and date not in holidays:
                n += 1
                kind = (n * 7 + i * 3) % 23
                arrival, departure = dt.time(8, 50 + i % 8), dt.time(18, 5)
                if kind == 1:
                    arrival = dt.time(9, 25)   # late
                elif kind == 2:
                    departure = dt.time(17, 20)  # early leave
                if kind == 3:
                    punches = [arrival]        # missing check-out
                elif kind == 4 and i % 3 == 0:
                    punches = []               # absent
                else:
                    punches = [arrival, departure]
                for time in punches:
                    rows.append('%s,%s %s,GATE-1,fingerprint' % (
                            employee.clock_code, date.isoformat(),
                            time.strftime('%H:%M:%S')))
            date += dt.timedelta(days=1)
    wizard = Wizard(Import)
    wizard.form.data = '\n'.join(rows).encode()
    wizard.form.filename = 'gate.csv'
    wizard.execute('import_')
    # The daily check, day after day (it runs each night in production)
    check, = Cron.find([(
                'method', '=', 'office.attendance.anomaly|check_yesterday')])
    from unittest.mock import patch
    date = first
    while date < today:
        morning = dt.datetime.combine(date + dt.timedelta(days=1),
            dt.time(0, 0))
        with patch('trytond.modules.office_admin.calendar_.utcnow',
                return_value=morning):
            check.click('run_once')
        date += dt.timedelta(days=1)
    # One employee asks for a 补卡 from his missing check-out
    as_login('sales1')
    missing = Anomaly.find([('kind', '=', 'missing')], limit=1)
    if missing:
        anomaly, = missing
        with pconfig.get_config().set_context(default_anomaly=anomaly.id):
            correction = Correction()
        correction.reason = "忘记打下班卡"
        correction.save()
    as_login(None)


def demo_documents():
    """Incoming and outgoing documents in every state, and archives to
    archive and archived"""
    Group = Model.get('res.group')
    User = Model.get('res.user')
    Employee = Model.get('company.employee')
    DocumentType = Model.get('office.document.type')
    Incoming = Model.get('office.document.incoming')
    Outgoing = Model.get('office.document.outgoing')
    Archive = Model.get('office.archive')
    Rule = Model.get('office.approval.rule')
    IrModel = Model.get('ir.model')
    users = {u.login: u for u in User.find([])}

    as_login(None)
    rule = Rule(name="发文审批", model=IrModel.find(
            [('name', '=', 'office.document.outgoing')])[0])
    rule.tiers.new(name="部门审核", sequence=10,
        reviewer_source='requester_head')
    rule.tiers.new(name="办公室核稿", sequence=20, reviewer_source='group',
        group=Group.find([('name', '=', 'Office Staff')])[0])
    tier = rule.tiers.new(name="总经理签发", sequence=30,
        reviewer_source='users')
    tier.users.append(User(users['gm'].id))
    rule.save()

    letter, = DocumentType.find([('code', '=', 'in_letter')])

    def incoming(title, sender, state):
        as_login('clerk')
        document = Incoming(title=title, type=letter, sender=sender, pages=2)
        document.save()
        if state == 'cancelled':
            document.click('cancel')
            return document
        if state == 'registered':
            return document
        document.proposal = "拟请财务部牵头办理"
        document.click('propose')
        if state == 'proposed':
            return document
        as_login('gm')
        document = Incoming(document.id)
        document.instruction = "同意，请财务部按期办结"
        document.handlers.append(Employee(users['fin_head'].employee.id))
        document.handling_days = 5
        document.click('instruct')
        if state == 'handling':
            return document
        as_login('fin_head')
        document = Incoming(document.id)
        document.result = "已按要求办理完毕"
        document.click('complete')
        if state == 'completed':
            return document
        as_login('clerk')
        document = Incoming(document.id)
        document.click('archive')
        return document

    incoming("关于报送年度统计数据的函", "市统计局", 'registered')
    incoming("关于开展安全生产检查的通知", "市应急管理局", 'proposed')
    incoming("关于核对增值税发票的函", "市税务局", 'handling')
    incoming("关于年度审计工作安排的通知", "集团审计部", 'completed')
    incoming("关于春节期间值班安排的通知", "集团办公室", 'archived')
    incoming("重复登记的来函", "市统计局", 'cancelled')

    notice, = DocumentType.find([('code', '=', 'notice')])

    def approve(login, document):
        as_login(login)
        document = Outgoing(document.id)
        document.click('approval_approve')
        return document

    def outgoing(login, title, state):
        as_login(login)
        document = Outgoing(type=notice, title=title,
            main_recipients="各部门", body="根据公司安排，现通知如下……")
        document.save()
        if state == 'draft':
            return document
        if state == 'cancelled':
            document.click('cancel')
            return document
        document.click('submit')
        if state == 'submitted':
            return document
        head = {'sales1': 'sales_head', 'fin1': 'fin_head',
            'hr1': 'hr_head', 'it1': 'it_head'}[login]
        document = approve(head, document)
        document = approve('clerk', document)
        document = approve('gm', document)
        if state == 'signed':
            return document
        as_login('clerk')
        document = Outgoing(document.id)
        document.click('issue')
        if state == 'issued':
            return document
        document.click('archive')
        return document

    outgoing('sales1', "关于调整销售区域划分的通知", 'draft')
    outgoing('fin1', "关于报送年度预算的通知", 'submitted')
    outgoing('hr1', "关于开展年度体检的通知", 'signed')
    outgoing('it1', "关于信息系统停机维护的通知", 'issued')
    outgoing('hr1', "关于2027年春节放假安排的通知", 'archived')
    outgoing('sales1', "作废的通知草稿", 'cancelled')

    # The archive room archives one entry; the others wait
    as_login('clerk')
    pending = Archive.find([('state', '=', 'pending')], limit=1)
    for entry in pending:
        entry.retention = '30y'
        entry.room, entry.cabinet, entry.box = "档案室", "A-01", "2026-001"
        entry.click('archive')
    demo_loans()
    as_login(None)


def demo_loans():
    """Archive loans (档案借阅) through their approval: one waiting for the
    borrower's head, one lent and one returned"""
    Group = Model.get('res.group')
    Archive = Model.get('office.archive')
    Borrow = Model.get('office.archive.borrow')
    Rule = Model.get('office.approval.rule')
    IrModel = Model.get('ir.model')

    as_login(None)
    rule = Rule(name="档案借阅", model=IrModel.find(
            [('name', '=', 'office.archive.borrow')])[0])
    rule.tiers.new(name="部门审核", sequence=10,
        reviewer_source='requester_head')
    rule.tiers.new(name="档案室审核", sequence=20, reviewer_source='group',
        group=Group.find([('name', '=', 'Office Staff')])[0])
    rule.save()
    archived = Archive.find([('state', '=', 'archived')], limit=1)
    if not archived:
        return
    archive_id = archived[0].id
    today = dt.date.today()

    def borrow(login, purpose, days, medium, state):
        as_login(login)
        loan = Borrow(archive=Archive(archive_id), purpose=purpose,
            medium=medium, return_date=today + dt.timedelta(days=days))
        loan.click('submit')
        if state == 'submitted':
            return
        head = {'sales1': 'sales_head', 'fin1': 'fin_head',
            'hr1': 'hr_head', 'it1': 'it_head'}[login]
        for reviewer in [head, 'clerk']:
            as_login(reviewer)
            Borrow(loan.id).click('approval_approve')
        as_login('clerk')
        loan = Borrow(loan.id)
        loan.click('lend')
        if state == 'returned':
            loan.click('return_')

    borrow('fin1', "核对年度审计资料", 7, 'electronic', 'lent')
    borrow('hr1', "查阅值班安排原件", 3, 'paper', 'returned')
    borrow('sales1', "参考往年值班安排", 5, 'electronic', 'submitted')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--small', action='store_true',
        help="only the organisation the tests use")
    args = parser.parse_args()
    connect(args.database)
    if already_filled():
        print("database %s already has its data" % args.database)
        return 0
    make_company()
    if args.small:
        # The tests' organisation speaks the default language
        setup_office()
        setup_supplies()
        return 0
    chinese = activate_chinese()
    setup_office(organisation=DEMO_ORGANISATION, password=DEMO_PASSWORD,
        language=chinese)
    setup_supplies()
    demo_people()
    demo_requests()
    demo_meetings()
    demo_receptions()
    demo_supplies()
    demo_documents()
    demo_attendance()
    admin_in_chinese(chinese)
    print("demo data created in %s" % args.database)
    return 0


if __name__ == '__main__':
    sys.exit(main())
