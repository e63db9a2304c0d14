# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What an office user meets in zh_CN is Chinese: menus, window titles and
tabs, the labels, buttons and selection values of every view the menus
(and their actions, relates and wizards) open, and the module's notices."""
import re
from xml.etree import ElementTree

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, _DBTestCase, with_transaction)
from trytond.transaction import Transaction

LANGUAGE = 'zh_CN'
# Placeholders of messages (%(name)s, %s) and of sao (%1)
PLACEHOLDER = re.compile(r'%\(\w+\)[sdir]|%[sdir]|%\d')
WORD = re.compile(r'[A-Za-z][A-Za-z0-9]*')
# Words that stay as they are in Chinese office software
ALLOWED = {
    'PDF', 'ID', 'XML', 'CSV', 'URL', 'IP', 'API', 'SMTP', 'CNY', 'SIP',
    'Skype'}
ARCH_ATTRIBUTES = ('string', 'confirm', 'sum')
GROUPS = {
    'employee': ['office_admin.group_employee'],
    'head': [
        'office_admin.group_employee', 'office_admin.group_department_head'],
    'office': ['office_admin.group_office_admin'],
    'leader': ['office_admin.group_leadership'],
    'hr': ['office_admin.group_hr'],
    }


def untranslated(source, value):
    "Whether value is the English source left as it is"
    if not source or value != source:
        return False
    words = WORD.findall(PLACEHOLDER.sub('', value))
    return any(w not in ALLOWED for w in words)


class Collector:
    "Gather (where, English, Chinese) of what a user meets"

    def __init__(self):
        self.strings = {}
        self.models = set()
        self.wizards = set()
        self.views = set()

    def add(self, where, source, value):
        if untranslated(source, value):
            self.strings.setdefault((where, source), value)

    def twice(self, function, *args):
        "Call function in English and in Chinese"
        with Transaction().set_context(language='en'):
            en = function(*args)
        with Transaction().set_context(language=LANGUAGE):
            zh = function(*args)
        return en, zh

    def menus(self):
        pool = Pool()
        Menu = pool.get('ir.ui.menu')
        menus = Menu.search([])
        en, zh = self.twice(
            lambda: {m.id: m.name for m in Menu.browse(menus)})
        for menu in menus:
            self.add('menu', en[menu.id], zh[menu.id])
        for menu in menus:
            if menu.action:
                self.action(menu.action)

    def action(self, action):
        pool = Pool()
        Action = pool.get('ir.action')
        action_id = action.id if hasattr(action, 'id') else action
        kind = action.__name__ if hasattr(action, '__name__') else None
        Model = pool.get(kind) if kind else Action
        en, zh = self.twice(lambda: Model(action_id).name)
        self.add('action', en, zh)
        record = Model(action_id)
        if kind == 'ir.action.act_window':
            for domain in record.act_window_domains:
                en, zh = self.twice(
                    lambda: pool.get('ir.action.act_window.domain')(
                        domain.id).name)
                self.add('tab of %s' % record.res_model, en, zh)
            if record.res_model:
                views = [(v.view.id, v.view.type)
                    for v in record.act_window_views] or [
                    (None, 'tree'), (None, 'form')]
                for view_id, view_type in views:
                    self.view(record.res_model, view_id, view_type)
                if not record.act_window_views:
                    self.model(record.res_model)
        elif kind == 'ir.action.wizard':
            self.wizard(record.wiz_name)

    def model(self, model_name, depth=0):
        pool = Pool()
        if model_name in self.models:
            return
        self.models.add(model_name)
        for view_type in ['tree', 'form']:
            self.view(model_name, None, view_type, depth)
        Model = pool.get(model_name)
        toolbar_en, toolbar_zh = self.twice(Model.view_toolbar_get)
        for key in ['print', 'action', 'relate']:
            for a_en, a_zh in zip(toolbar_en[key], toolbar_zh[key]):
                self.add('%s of %s' % (key, model_name),
                    a_en['name'], a_zh['name'])
                if a_en['type'] == 'ir.action.wizard':
                    self.wizard(a_en['wiz_name'])
                elif a_en['type'] == 'ir.action.act_window' and depth < 1:
                    if a_en.get('res_model'):
                        self.model(a_en['res_model'], depth + 1)

    def view(self, model_name, view_id, view_type, depth=0):
        pool = Pool()
        if (model_name, view_id, view_type) in self.views:
            return
        self.views.add((model_name, view_id, view_type))
        Model = pool.get(model_name)
        en, zh = self.twice(Model.fields_view_get, view_id, view_type)
        where = '%s %s' % (model_name, view_type)
        arch_en = ElementTree.fromstring(en['arch'])
        arch_zh = ElementTree.fromstring(zh['arch'])
        for node_en, node_zh in zip(arch_en.iter(), arch_zh.iter()):
            for attribute in ARCH_ATTRIBUTES:
                self.add(where, node_en.get(attribute),
                    node_zh.get(attribute))
        for name, field_en in en['fields'].items():
            field_zh = zh['fields'][name]
            self.add('%s.%s' % (model_name, name),
                field_en.get('string'), field_zh.get('string'))
            if isinstance(field_en.get('selection'), list):
                for (_, s_en), (_, s_zh) in zip(
                        field_en['selection'], field_zh['selection']):
                    self.add('%s.%s' % (model_name, name), s_en, s_zh)
            relation = field_en.get('relation')
            if (field_en['type'] in {'one2many', 'many2many'}
                    and relation and depth < 2):
                self.model(relation, depth + 1)
        if depth == 0:
            self.model(model_name, depth)

    def wizard(self, wizard_name):
        pool = Pool()
        if wizard_name in self.wizards:
            return
        self.wizards.add(wizard_name)
        Wizard = pool.get(wizard_name, type='wizard')
        for state_name, state in Wizard.states.items():
            if not hasattr(state, 'get_buttons'):
                continue
            en, zh = self.twice(state.get_buttons, Wizard, state_name)
            for b_en, b_zh in zip(en, zh):
                self.add('wizard %s' % wizard_name,
                    b_en['string'], b_zh['string'])
            self.view(state.model_name, None, 'form', 1)


class TranslationTestCase(_DBTestCase):
    "zh_CN of what an office user meets"
    module = 'office_admin'
    extras = ['document_incoming']

    @classmethod
    def setUpClass(cls):
        # The database of the module tests (no second installation), with
        # Chinese loaded as an administrator does (ir.lang's button)
        super().setUpClass()
        with Transaction().start(DB_NAME, 0, close=True) as transaction:
            Lang = Pool().get('ir.lang')
            language, = Lang.search([('code', '=', LANGUAGE)])
            Lang.load_translations([language])
            transaction.commit()

    def _user(self, company, role):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Lang = pool.get('ir.lang')
        language, = Lang.search([('code', '=', LANGUAGE)])
        groups = [ModelData.get_id(*g.split('.')) for g in GROUPS[role]]
        user, = User.create([{
                    'name': role,
                    'login': 'i18n-%s' % role,
                    'language': language.id,
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    'groups': [('add', groups)],
                    }])
        return user

    def _collect(self, role):
        company = create_company()
        with set_company(company):
            user = self._user(company, role)
        collector = Collector()
        with Transaction().set_user(user.id), \
                Transaction().set_context(
                    _check_access=True, company=company.id,
                    language=LANGUAGE):
            collector.menus()
        return collector

    def _assert_translated(self, collector):
        missing = sorted(
            '%s: %r' % key for key in collector.strings)
        self.assertFalse(missing,
            msg='%d untranslated strings:\n%s' % (
                len(missing), '\n'.join(missing)))

    @with_transaction()
    def test_employee_sees_chinese(self):
        "An Office Employee's menus, views and buttons are in Chinese"
        self._assert_translated(self._collect('employee'))

    @with_transaction()
    def test_head_sees_chinese(self):
        "A Department Head's menus, views and buttons are in Chinese"
        self._assert_translated(self._collect('head'))

    @with_transaction()
    def test_office_sees_chinese(self):
        "An Office Administrator's (so Office Staff's) screens are in Chinese"
        self._assert_translated(self._collect('office'))

    @with_transaction()
    def test_leadership_and_hr_see_chinese(self):
        "Leadership's and Human Resources' screens are in Chinese"
        self._assert_translated(self._collect('leader'))
        self._assert_translated(self._collect('hr'))

    @with_transaction()
    def test_notices_are_chinese(self):
        "Every message of the module has its Chinese text"
        pool = Pool()
        Message = pool.get('ir.message')
        ModelData = pool.get('ir.model.data')
        data = ModelData.search([
                ('module', '=', 'office_admin'),
                ('model', '=', 'ir.message'),
                ])
        ids = [d.db_id for d in data]
        with Transaction().set_context(language='en'):
            en = {m.id: m.text for m in Message.browse(ids)}
        with Transaction().set_context(language=LANGUAGE):
            zh = {m.id: m.text for m in Message.browse(ids)}
        missing = sorted(
            '%s: %r' % (d.fs_id, en[d.db_id]) for d in data
            if untranslated(en[d.db_id], zh[d.db_id]))
        self.assertFalse(missing, msg='\n'.join(missing))

    @with_transaction()
    def test_employees_do_not_see_parties_and_products(self):
        "Parties and Products are not in an employee's menu"
        pool = Pool()
        Menu = pool.get('ir.ui.menu')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        with set_company(company):
            user = self._user(company, 'employee')
        hidden = {
            ModelData.get_id('party', 'menu_party'),
            ModelData.get_id('product', 'menu_main_product'),
            }
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            menus = {m.id for m in Menu.search([('parent', '=', None)])}
        self.assertFalse(menus & hidden)

