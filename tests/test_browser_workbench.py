# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The workbench in the web client (sao, headless Chromium), on a desktop
(1366x900) and on a phone (390x844, touch): a department head logs in,
lands on his workbench with the count of what waits for him, approves a
seal request from its row, the title in sight, and is told it worked; an
employee submits a request and sees its whole approval chain. The taps
are counted; screenshots are kept in tests/artifacts/browser-2x-*.png."""
import time

import pytest
from conftest import password

from test_browser import (  # noqa: F401
    browser, desktop, phone, shot, visible, wait)
from test_browser_decide import click_now, displayed, tap

selenium = pytest.importorskip('selenium')
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

SEAL_REQUEST = 'office.seal.request'
# Most of these tests run in English; the Chinese words are there for
# users whose language is zh_CN
APPROVE = ('Approve', '同意')
SUBMIT = ('Submit', '提交')
OK = ('OK', '确定')


def words(*texts):
    "An XPath condition: the element's text is one of texts"
    return ' or '.join(f'normalize-space(.)="{t}"' for t in texts)


def device_size(driver, device):
    "Emulate device ('phone' or 'desktop'); return how it presses"
    if device == 'phone':
        phone(driver)
        return tap
    desktop(driver)
    return click_now


def login(driver, server, login_name):
    "Log in; return once the workbench opened at login shows its lists"
    driver.get(f'{server.url}/#{server.database}')
    field = visible(driver, '//input[@id="login"]')
    for database in driver.find_elements(
            By.XPATH, '//input[@id="database"]'):
        if database.is_displayed() and not database.get_attribute('value'):
            database.send_keys(server.database)
    field.send_keys(login_name)
    field.send_keys(Keys.ENTER)
    secret = visible(driver,
        '//div[contains(@class, "modal")]//input[@type="password"]')
    secret.send_keys(password(login_name))
    secret.send_keys(Keys.ENTER)


def submit_request(server, title, submit=True):
    requester = server.client('sales1')
    seal, = requester.search('office.seal', [('code', '=', 'GZ')])
    request_id, = requester.model(SEAL_REQUEST, 'create', [dict(
                seal=seal, document_title=title, purpose="工作台测试",
                copies=1)])
    if submit:
        requester.model(SEAL_REQUEST, 'submit', [request_id])
    return requester, request_id


def head_step(server, request_id):
    head = server.client('sales_head')
    step_ids = head.search('office.approval.step', [
            ('request.res_id', '=', request_id),
            ('request.res_model', '=', SEAL_REQUEST),
            ('tier_name', '=', '部门负责人审核')])
    steps = head.read('office.approval.step', step_ids,
        ['state', 'acted_by'])
    return [s for s in steps if s['state'] != 'pending'] or False


@pytest.mark.parametrize('device', ['desktop', 'phone'])
def test_head_approves_from_workbench(server, browser, device):  # noqa: F811
    press = device_size(browser, device)
    title = f"工作台审批 {device}"
    requester, request_id = submit_request(server, title)

    login(browser, server, 'sales_head')
    # The workbench opens by itself: its approvals count what waits and
    # its rows show the request's title
    row = wait(browser, lambda d: displayed(d,
            '//div[contains(@class, "board")]'
            f'//tr[.//*[contains(text(), "{title}")]]'), 90)[0]
    # The count of what waits for him, on the tab of his approvals
    wait(browser, lambda d: any(
            (c.get_attribute('textContent') or '').strip() not in {'', '0'}
            for c in d.find_elements(By.XPATH,
                '//div[contains(@class, "board")]'
                '//*[contains(@class, "badge")]')), 60)
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});", row)
    time.sleep(0.5)
    shot(browser, f'browser-2x-workbench-{device}')

    # On the desktop a click on a button of another row only selects that
    # row: click the title, then 同意; on the phone a tap on the title
    # opens the step and a tap on 同意 presses it at once
    # (web/patches/sao-tap-opens.patch)
    taps = 0
    if device == 'desktop':
        cell = row.find_element(
            By.XPATH, f'.//*[contains(text(), "{title}")]')
        press(browser, cell)
        taps += 1
        time.sleep(0.5)
    button = wait(browser, lambda d: displayed(d,
            '//div[contains(@class, "board")]'
            f'//tr[.//*[contains(text(), "{title}")]]'
            f'//button[{words(*APPROVE)}]'), 10)[0]
    press(browser, button)
    taps += 1
    # The confirmation names the request and who comes next
    def confirmation(driver):
        for text in displayed(driver,
                '//div[contains(@class, "modal")]//textarea') or []:
            value = text.get_attribute('value') or ''
            if title in value and (
                    'Approved' in value or '已同意' in value):
                return value
        return False
    message = wait(browser, confirmation, 30)
    assert '张丽' in message
    time.sleep(0.5)
    shot(browser, f'browser-2x-approved-{device}')
    step, = wait(browser, lambda d: head_step(server, request_id), 30)
    assert step['state'] == 'approved'
    assert step['acted_by'] == server.client('sales_head').user_id
    assert taps <= 3
    ok = wait(browser, lambda d: displayed(d,
            f'//div[contains(@class, "modal")]//button[{words(*OK)}]'), 10)
    press(browser, ok[0])
    # Back on the workbench, 同意 is no longer offered on the request in
    # any of its lists: the department's pending approvals, which shows it
    # too, is refreshed with the list it was approved from
    # (web/patches/sao-board-refresh.patch)
    wait(browser, lambda d: not displayed(d,
            '//div[contains(@class, "board-action")]'
            f'//tr[.//*[contains(text(), "{title}")]]'
            f'//button[{words(*APPROVE)}]'), 30)
    assert displayed(browser, '(//div[contains(@class, "board-action")])[2]'
        f'//tr[.//*[contains(text(), "{title}")]]')
    shot(browser, f'browser-2x-after-{device}')


@pytest.mark.parametrize('device', ['desktop', 'phone'])
def test_employee_submits_and_sees_chain(
        server, browser, device):  # noqa: F811
    press = device_size(browser, device)
    title = f"提交看流程 {device}"
    requester, request_id = submit_request(server, title, submit=False)

    login(browser, server, 'sales1')
    wait(browser, lambda d: displayed(d,
            '//div[contains(@class, "board")]'), 90)
    browser.get(f'{server.url}/#{server.database}'
        f'/model/{SEAL_REQUEST}/{request_id}')
    submit = wait(browser, lambda d: displayed(d,
            f'//button[{words(*SUBMIT)}]'), 60)[0]
    time.sleep(0.5)
    press(browser, submit)
    # The chain: his head reviews now, the office comes next
    chain = wait(browser, lambda d: displayed(d,
            '//textarea[@name="approval_chain"]'), 30)[0]
    wait(browser, lambda d: '综合办公室审核' in (
            chain.get_attribute('value') or ''), 30)
    value = chain.get_attribute('value')
    assert '部门负责人审核' in value and '周杰' in value
    assert '综合办公室审核' in value
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});", chain)
    time.sleep(0.5)
    shot(browser, f'browser-2x-chain-{device}')
    state, = requester.read(SEAL_REQUEST, [request_id], ['approval_state'])
    assert state['approval_state'] == 'pending'
