# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the reviewer chose is what is saved: a department head rejects a
seal request in the web client (sao, headless Chromium), once on a phone
(390x844, touch: a tap delivers press and click at once) and once on the
desktop with instant synthetic clicks; the server has the step rejected
with his reason, never approved."""
import time

import pytest

from test_browser import (  # noqa: F401
    browser, login, phone, shot, wait)

selenium = pytest.importorskip('selenium')
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.actions import interaction  # noqa: E402
from selenium.webdriver.common.actions.action_builder import (  # noqa: E402
    ActionBuilder)
from selenium.webdriver.common.actions.pointer_input import (  # noqa: E402
    PointerInput)
from selenium.webdriver.common.by import By  # noqa: E402

SEAL_REQUEST = 'office.seal.request'


def submit_request(server, title):
    requester = server.client('sales1')
    seal, = requester.search('office.seal', [('code', '=', 'GZ')])
    request_id, = requester.model(SEAL_REQUEST, 'create', [dict(
                seal=seal, document_title=title, purpose="驳回测试")])
    requester.model(SEAL_REQUEST, 'submit', [request_id])
    return requester, request_id


def displayed(driver, xpath):
    "The displayed elements at xpath, or False"
    try:
        return [e for e in driver.find_elements(By.XPATH, xpath)
            if e.is_displayed()] or False
    except WebDriverException:
        return False


def tap(driver, element):
    """Tap element with a finger: touchstart, touchend, then the press and
    click Chromium derives from them, at once"""
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});", element)
    finger = PointerInput(interaction.POINTER_TOUCH, 'finger')
    actions = ActionBuilder(driver, mouse=finger, duration=0)
    actions.pointer_action.move_to(element).pointer_down().pointer_up()
    actions.perform()


def click_now(driver, element):
    "A synthetic click, dispatched at once (no pointer travel, no delay)"
    driver.execute_script("arguments[0].click();", element)


def reject_in_web_client(server, driver, request_id, reason, press):
    login(driver, server, 'sales_head')
    driver.get(f'{server.url}/#{server.database}'
        f'/model/{SEAL_REQUEST}/{request_id}')
    decide = wait(driver, lambda d: displayed(d,
            '//button[contains(normalize-space(.), "Decide")]'), 60)[0]
    time.sleep(0.5)
    press(driver, decide)
    comment = wait(driver, lambda d: displayed(d,
            '//div[contains(@class, "modal")]'
            '//textarea[@name="comment"]'), 30)[0]
    press(driver, comment)
    comment.send_keys(reason)
    # Reject right after typing, as a hurried thumb would
    reject, = wait(driver, lambda d: displayed(d,
            '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="Reject"]'), 10)
    press(driver, reject)


def rejected_step(server, request_id):
    head = server.client('sales_head')
    step_ids = head.search('office.approval.step', [
            ('request.res_id', '=', request_id),
            ('request.res_model', '=', SEAL_REQUEST),
            ('tier_name', '=', '部门负责人审核')])
    steps = head.read('office.approval.step', step_ids,
        ['state', 'comment', 'acted_by', 'decided_as'])
    return [s for s in steps if s['state'] != 'pending'] or False


@pytest.mark.parametrize('device', ['phone', 'desktop'])
def test_reject_stays_reject(server, browser, device):  # noqa: F811
    if device == 'phone':
        phone(browser)
        press = tap
    else:
        press = click_now
    reason = f"用途不清（{device}）"
    requester, request_id = submit_request(server, f"驳回测试 {device}")
    reject_in_web_client(server, browser, request_id, reason, press)
    step, = wait(browser, lambda d: rejected_step(server, request_id), 30)
    shot(browser, f'browser-decide-{device}')
    assert step['state'] == 'rejected'
    assert step['comment'] == reason
    assert step['decided_as'] == 'reviewer'
    assert step['acted_by'] == server.client('sales_head').user_id
    request, = requester.read(SEAL_REQUEST, [request_id],
        ['approval_state', 'state'])
    assert request['approval_state'] == 'rejected'
