# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Counts on the menu entries in the web client (sao, headless Chromium,
desktop 1366x900): a department head, in Chinese, sees on 我的审批 in the
menu the count of the steps waiting for him, approves one from the list,
and the count goes down without a reload (ir.ui.menu's badge,
addons/office_admin/menu.py; web/patches/sao-menu-counters.patch).
Screenshots: tests/artifacts/browser-menu-counts-*.png."""
import time

import pytest

from test_browser import browser, shot, wait  # noqa: F401
from test_browser_decide import click_now, displayed
from test_browser_workbench import device_size, login, words

selenium = pytest.importorskip('selenium')
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

SEAL_REQUEST = 'office.seal.request'
HEAD = 'fin_head'
REQUESTER = 'fin1'
OFFICE = ('Office', '综合办公')
APPROVALS = ('Approvals', '审批')
MY_APPROVALS = ('My Approvals', '我的审批')
TO_REVIEW = ('To Review', '待我审批')
APPROVE = ('Approve', '同意')
OK = ('OK', '确定')


def pending(head):
    "The count of the head's My Approvals, as its tab counts it"
    return head.model('office.approval.step', 'search_count',
        [('mine', '=', True), ('state', '=', 'pending')], 0, None)


def menu_row(driver, labels):
    "The displayed row of the main menu whose entry is named one of labels"
    return displayed(driver,
        '//div[@id="menu"]//tr[.//div[contains(@class, "column-char")]'
        f'[{words(*labels)}]]')


def badge_text(driver, labels):
    "The count shown on the menu entry, '' when none, None when not shown"
    rows = menu_row(driver, labels)
    if not rows:
        return None
    badges = rows[0].find_elements(By.XPATH,
        './/*[contains(@class, "menu-badge")]')
    if not badges:
        return None
    return (badges[0].get_attribute('textContent') or '').strip()


def tab_count(driver, labels):
    "The counter on the displayed tab of a list named one of labels"
    counters = displayed(driver,
        '//a[@role="tab"][%s]/span[contains(@class, "badge")]' % ' or '.join(
            f'starts-with(normalize-space(.), "{t}")' for t in labels))
    if not counters:
        return None
    return (counters[0].get_attribute('textContent') or '').strip()


def open_entry(driver, labels):
    "Double-click the menu entry named one of labels (expand or open it)"
    entry = wait(driver, lambda d: displayed(d,
            '//div[@id="menu"]//div[contains(@class, "column-char")]'
            f'[{words(*labels)}]'), 60)[0]
    ActionChains(driver).double_click(entry).perform()
    time.sleep(0.5)


@pytest.fixture
def chinese_head(server):
    """The head works in Chinese for the test: Tryton's zh_CN is loaded if
    it is not, and both are put back as they were"""
    admin = server.client('admin')
    head = server.client(HEAD)
    chinese, = admin.search('ir.lang', [('code', '=', 'zh_CN')],
        ['translatable'])
    if not chinese['translatable']:
        admin.model('ir.lang', 'load_translations', [chinese['id']])
    language, = admin.read('res.user', [head.user_id], ['language'])
    head.model('res.user', 'set_preferences', {'language': 'zh_CN'})
    yield server.client(HEAD)
    admin.model('res.user', 'write', [head.user_id],
        {'language': language['language']})
    if not chinese['translatable']:
        admin.model('ir.lang', 'unload_translations', [chinese['id']])


def test_menu_count_goes_down_after_approval(
        server, browser, chinese_head):  # noqa: F811
    press = device_size(browser, 'desktop')
    requester = server.client(REQUESTER)
    seal, = requester.search('office.seal', [('code', '=', 'GZ')])
    titles = ["菜单计数一", "菜单计数二"]
    for title in titles:
        request_id, = requester.model(SEAL_REQUEST, 'create', [dict(
                    seal=seal, document_title=title, purpose="菜单计数测试",
                    copies=1)])
        requester.model(SEAL_REQUEST, 'submit', [request_id])
    head = chinese_head
    before = pending(head)
    assert before >= 2

    login(browser, server, HEAD)
    # The menu, in Chinese: 综合办公 ▸ 审批 ▸ 我的审批 with its count
    open_entry(browser, OFFICE)
    open_entry(browser, APPROVALS)
    wait(browser, lambda d: menu_row(d, MY_APPROVALS), 30)
    wait(browser, lambda d: badge_text(d, MY_APPROVALS) == str(before), 30)
    assert menu_row(browser, ['我的审批']), "the menu is not in Chinese"
    # Entries without counted tabs show no count
    assert badge_text(browser, APPROVALS) == ''
    time.sleep(0.5)
    shot(browser, 'browser-menu-counts-before')

    # He opens his approvals and approves the first request (a mark on
    # the page tells whether it is reloaded)
    browser.execute_script("window.menuCountsMark = true;")
    open_entry(browser, MY_APPROVALS)
    wait(browser, lambda d: tab_count(d, TO_REVIEW) == str(before), 60)
    row = wait(browser, lambda d: displayed(d,
            '//div[contains(@class, "tab-content")]'
            f'//tr[.//*[contains(text(), "{titles[0]}")]]'), 60)[0]
    row.find_element(By.XPATH, f'.//*[contains(text(), "{titles[0]}")]'
        ).click()
    time.sleep(0.5)
    button = wait(browser, lambda d: displayed(d,
            '//div[contains(@class, "tab-content")]'
            f'//tr[.//*[contains(text(), "{titles[0]}")]]'
            f'//button[{words(*APPROVE)}]'), 30)[0]
    press(browser, button)

    # The count on the menu goes down, without a reload of the page, and
    # so does the counter on the list's tab
    wait(browser, lambda d: pending(head) == before - 1, 30)
    for ok in displayed(browser,
            f'//div[contains(@class, "modal")]//button[{words(*OK)}]') or []:
        click_now(browser, ok)
    wait(browser, lambda d: badge_text(d, MY_APPROVALS) == str(before - 1),
        30)
    wait(browser, lambda d: tab_count(d, TO_REVIEW) == str(before - 1), 30)
    assert browser.execute_script("return window.menuCountsMark === true")
    time.sleep(0.5)
    shot(browser, 'browser-menu-counts-after')
