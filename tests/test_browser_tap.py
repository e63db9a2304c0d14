# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What a tap and a click do on a list's row in the web client (sao,
headless Chromium; web/patches/sao-tap-opens.patch). On a phone (390x844,
touch) one tap on a card of his approvals to do (the workbench's My
Approvals) opens the step with the request's title, one tap on another
card's 同意 approves it, and a tap on a card's check box selects it; on a
desktop a click only selects the row and a double click opens it. Find a
Room: a click on a free room's row picks that room (a click on a second
row picks the second alone) and Book and Submit submits it. Taps and
clicks are counted; screenshots: tests/artifacts/browser-tap-*.png."""
import datetime as dt
import time
import uuid

import pytest

from test_browser import (  # noqa: F401
    browser, login, phone, shot, type_into, visible, wait)
from test_browser_decide import displayed, tap
from test_browser_workbench import login as workbench_login

selenium = pytest.importorskip('selenium')
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402,E501
from selenium.webdriver.common.by import By  # noqa: E402

SEAL_REQUEST = 'office.seal.request'
MEETING = 'office.meeting'
APPROVE = ('Approve', '同意')


def click(driver, element):
    "A mouse click"
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});", element)
    ActionChains(driver).move_to_element(element).click().perform()


def submit_request(server, title):
    requester = server.client('sales1')
    seal, = requester.search('office.seal', [('code', '=', 'GZ')])
    request_id, = requester.model(SEAL_REQUEST, 'create', [dict(
                seal=seal, document_title=title, purpose="点按测试",
                copies=1)])
    requester.model(SEAL_REQUEST, 'submit', [request_id])
    return request_id


def head_step_state(server, request_id):
    head = server.client('sales_head')
    step_ids = head.search('office.approval.step', [
            ('request.res_id', '=', request_id),
            ('request.res_model', '=', SEAL_REQUEST),
            ('tier_name', '=', '部门负责人审核')])
    step, = head.read('office.approval.step', step_ids, ['state'])
    return step['state']


def card(driver, title, where=''):
    "The row (on a phone: the card) of the step of title"
    return wait(driver, lambda d: displayed(d,
            f'{where}//table//tr[.//*[contains(text(), "{title}")]]'),
        90)[0]


def form_title(driver):
    "The title shown by an open step form, or False"
    for field in displayed(driver,
            '//*[contains(@class, "form")]//input[@name="title"]') or []:
        value = field.get_attribute('value')
        if value:
            return value
    return False


def test_phone_tap_opens_and_presses(server, browser):  # noqa: F811
    phone(browser)
    stamp = uuid.uuid4().hex[:6]
    opened, approved = f"点按打开 {stamp}", f"点按同意 {stamp}"
    # The list is in order of submission: the card to approve is not the
    # first (sao's current record), whose buttons worked at once already
    opened_id = submit_request(server, opened)
    approved_id = submit_request(server, approved)
    # The workbench opens at login with his approvals to do as cards
    workbench_login(browser, server, 'sales_head')
    todo = '(//div[contains(@class, "board-action")])[1]'
    card(browser, opened, todo)
    # The lists are drawn once the counts on their tabs are shown
    wait(browser, lambda d: any(
            (c.get_attribute('textContent') or '').strip() not in {'', '0'}
            for c in d.find_elements(By.XPATH,
                '//div[contains(@class, "board")]'
                '//*[contains(@class, "badge")]')), 60)
    time.sleep(1)
    shot(browser, 'browser-tap-1-phone-cards')

    # A tap on a card's check box selects it (for the actions on several
    # records) and opens nothing
    box = card(browser, opened, todo).find_element(
        By.XPATH, './td[contains(@class, "selection-state")]/input')
    tap(browser, box)
    wait(browser, lambda d: box.is_selected(), 10)
    time.sleep(1)
    assert not displayed(browser, '//div[contains(@class, "modal")]'
        '//input[@name="title"]')

    # One tap on 同意 of a card approves it
    row = card(browser, approved, todo)
    button = row.find_element(By.XPATH, './/button[' + ' or '.join(
            f'normalize-space(.)="{w}"' for w in APPROVE) + ']')
    tap(browser, button)
    taps = 1  # 同意 (before: the card, then 同意)
    try:
        wait(browser, lambda d: head_step_state(server, approved_id)
            == 'approved', 30)
    finally:
        shot(browser, 'browser-tap-2-phone-approved')
    assert head_step_state(server, opened_id) == 'pending'
    # The confirmation is closed
    ok = wait(browser, lambda d: displayed(d,
            '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="OK" or normalize-space(.)="确定"]'),
        30)[0]
    tap(browser, ok)
    taps += 1  # the confirmation's OK
    assert taps == 2
    wait(browser, lambda d: not displayed(d,
            '//div[contains(@class, "modal") and contains(@class, "in")]'),
        10)

    # One tap on a card opens its step: the request's title is shown
    row = card(browser, opened, todo)
    tap(browser, row.find_element(
            By.XPATH, f'.//*[contains(text(), "{opened}")]'))
    assert wait(browser, form_title, 30) == opened
    shot(browser, 'browser-tap-3-phone-opened')
    assert head_step_state(server, opened_id) == 'pending'


def test_desktop_click_selects_double_click_opens(
        server, browser):  # noqa: F811
    title = f"点击选中 {uuid.uuid4().hex[:6]}"
    submit_request(server, title)
    login(browser, server, 'sales_head')
    for label in ["Office", "Approvals", "My Approvals"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    row = card(browser, title)
    cell = row.find_element(By.XPATH, f'.//*[contains(text(), "{title}")]')
    click(browser, cell)
    # The click selects the row and opens nothing
    wait(browser, lambda d: 'selected' in (row.get_attribute('class') or ''))
    time.sleep(2)
    assert not form_title(browser)
    assert row.is_displayed()
    shot(browser, 'browser-tap-4-desktop-selected')
    ActionChains(browser).double_click(cell).perform()
    assert wait(browser, form_title, 30) == title


@pytest.fixture
def two_rooms(server):
    "Two rooms open all day, free in 13 days at local 15:00"
    office = server.client('office_head')
    stamp = uuid.uuid4().hex[:6]
    names = [f"点选甲室{stamp}", f"点选乙室{stamp}"]
    ids = office.model('office.meeting.room', 'create', [dict(
                name=name, capacity=4, open_from=dt.time(0, 0),
                open_to=dt.time(23, 59)) for name in names])
    return dict(zip(names, ids))


def test_find_a_room_click_picks_the_row(server, browser, two_rooms):
    (first, second) = list(two_rooms)
    topic = f"点选预订 {uuid.uuid4().hex[:6]}"
    login(browser, server, 'sales1')
    clicks = 0
    for label in ["Office", "Meetings"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    visible(browser, '//*[normalize-space(text())="Find a Room"]').click()
    clicks += 1
    wait(browser, lambda d: displayed(d, '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="Search"]'), 30)
    time.sleep(1)
    # In 13 days at 15:00 the browser's time, half an hour
    day = dt.date.today() + dt.timedelta(days=13)
    type_into(browser, 'start', dt.datetime.combine(
            day, dt.time(15, 0)).strftime('%m/%d/%Y %H:%M:%S'))
    type_into(browser, 'duration', '0:30')
    click(browser, displayed(browser, '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="Search"]')[0])
    clicks += 1
    type_into(browser, 'topic', topic)

    def room_to_book(driver):
        for room in displayed(driver, '//div[contains(@class, "modal")]'
                '//input[@name="room"]') or []:
            return room.get_property('value') or ''
        return ''

    def pick(name):
        "Click the room's name in its row: the row is picked"
        row = wait(browser, lambda d: displayed(d,
                f'//table//tr[.//*[contains(text(), "{name}")]]'), 30)[0]
        click(browser, row.find_element(
                By.XPATH, f'.//*[contains(text(), "{name}")]'))
        wait(browser, lambda d: name in room_to_book(d), 15)
    # A click on a row picks it; a click on another picks that one alone
    pick(first)
    pick(second)
    clicks += 1
    time.sleep(0.5)
    ticked = [box for box in browser.find_elements(By.XPATH,
            '//div[contains(@class, "modal")]//table//tr'
            '//td[not(contains(@class, "selection-state"))]'
            '//input[@type="checkbox"]') if box.is_selected()]
    assert len(ticked) == 1
    shot(browser, 'browser-tap-5-room-picked')
    click(browser, displayed(browser, '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="Book and Submit"]')[0])
    clicks += 1
    requester = server.client('sales1')

    def booked(driver):
        try:
            ids = requester.search(MEETING, [('topic', '=', topic)])
        except WebDriverException:
            return False
        return ids and requester.read(MEETING, ids, ['state', 'room'])
    meeting, = wait(browser, booked, 30)
    shot(browser, 'browser-tap-6-room-booked')
    assert meeting['room'] == two_rooms[second]
    assert meeting['state'] == 'confirmed'
    # Find a Room, Search, the row, Book and Submit (and the typing)
    assert clicks == 4
