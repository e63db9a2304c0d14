# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Booking a room in the web client (sao, headless Chromium): a clash names
the rooms free at that time, and Find a Room books the ticked row and
submits the meeting with one click. Screenshots: tests/artifacts/
browser-3x-*.png."""
import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from test_browser import (  # noqa: F401
    browser, login, shot, type_into, visible, wait)

selenium = pytest.importorskip('selenium')
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402,E501
from selenium.webdriver.common.by import By  # noqa: E402

MEETING = 'office.meeting'


def displayed(driver, xpath):
    "The displayed elements at xpath, or False"
    try:
        return [e for e in driver.find_elements(By.XPATH, xpath)
            if e.is_displayed()] or False
    except WebDriverException:
        return False


def click(driver, element):
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


@pytest.fixture
def rooms(server):
    "Two rooms open all day; the first held from local 10:00 in 12 days"
    office = server.client('office_head')
    stamp = int(time.time()) % 100000
    names = [f"浏览器一号室{stamp}", f"浏览器二号室{stamp}"]
    ids = office.model('office.meeting.room', 'create', [dict(
                name=name, capacity=6, open_from=dt.time(0, 0),
                open_to=dt.time(23, 59)) for name in names])
    # 12 days ahead at 02:00 UTC (10:00 in Shanghai), one hour
    start = dt.datetime.combine(
        dt.date.today() + dt.timedelta(days=12), dt.time(2, 0))
    head = server.client('sales_head')
    held, = head.model(MEETING, 'create', [dict(
                topic="浏览器占用会议", room=ids[0], start=start,
                end=start + dt.timedelta(hours=1))])
    head.model(MEETING, 'request', [held])
    return dict(zip(names, ids)), start


def test_clash_lists_free_rooms_and_one_click_books(server, browser, rooms):
    (first, second), start = list(rooms[0]), rooms[1]
    requester = server.client('sales1')
    clash, = requester.model(MEETING, 'create', [dict(
                topic="浏览器冲突会议", room=rooms[0][first],
                start=start + dt.timedelta(minutes=30),
                end=start + dt.timedelta(minutes=90))])

    # A clash: submitting the meeting says which rooms are free instead
    login(browser, server, 'sales1')
    browser.get(f'{server.url}/#{server.database}/model/{MEETING}/{clash}')
    request = wait(browser, lambda d: displayed(d,
            '//button[normalize-space(.)="Request"]'), 60)[0]
    time.sleep(0.5)
    click(browser, request)
    message = wait(browser, lambda d: displayed(d,
            '//div[contains(@class, "modal")]'
            f'//*[contains(text(), "{second}")]'), 30)[0]
    shot(browser, 'browser-3x-1-clash-free-rooms')
    assert 'already booked' in message.text
    assert second in message.text
    assert requester.read(MEETING, [clash], ['state'])[0]['state'] == 'draft'
    for close in displayed(browser, '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="OK" or normalize-space(.)="Close"'
            ' or @data-dismiss="modal"]') or []:
        try:
            close.click()
        except WebDriverException:
            pass
    time.sleep(0.5)

    # Find a Room: search, tick the free row, one click books and submits
    browser.get(f'{server.url}/#{server.database}')
    visible(browser, '//*[normalize-space(text())="Office"]', 60)
    for label in ["Office", "Meetings"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    # sao opens a menu leaf on every click: one click, one wizard
    visible(browser, '//*[normalize-space(text())="Find a Room"]').click()
    wait(browser, lambda d: displayed(d, '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="Search"]'), 30)
    time.sleep(1)
    assert len(displayed(browser, '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="Search"]')) == 1
    # The user types the office's time (the company's time zone, whatever
    # the browser's: web/patches/sao-company-timezone.patch)
    local = (start + dt.timedelta(minutes=30)).replace(
        tzinfo=dt.timezone.utc).astimezone(ZoneInfo('Asia/Shanghai'))
    local = local.replace(second=0, microsecond=0)
    type_into(browser, 'start', local.strftime('%m/%d/%Y %H:%M:%S'))
    type_into(browser, 'duration', '1:00')
    shot(browser, 'browser-3x-2-find-room')
    search = wait(browser, lambda d: displayed(d,
            '//div[contains(@class, "modal")]'
            '//button[normalize-space(.)="Search"]'), 30)[0]
    click(browser, search)
    row = wait(browser, lambda d: displayed(d,
            f'//table//tr[.//*[contains(text(), "{second}")]]'), 30)[0]
    assert not displayed(browser,
        f'//table//tr[.//*[contains(text(), "{first}")]]')
    type_into(browser, 'topic', "浏览器一步预订")
    # The row's 预订 (Book) box, not sao's row-selection box
    book_box = './/td[not(contains(@class, "selection-state"))]' \
        '//input[@type="checkbox"]'

    def ticked(driver):
        "Tick the row's Book box until Room to Book shows the room"
        for room in displayed(driver, '//div[contains(@class, "modal")]'
                '//input[@name="room"]') or []:
            if second in (room.get_property('value') or ''):
                return True
        for box in row.find_elements(By.XPATH, book_box):
            try:
                if box.is_displayed():
                    click(driver, box)
                    time.sleep(0.5)
                    return False
            except WebDriverException:
                continue
        return False
    wait(browser, ticked, 30)
    shot(browser, 'browser-3x-3-ticked')
    book = displayed(browser, '//div[contains(@class, "modal")]'
        '//button[normalize-space(.)="Book and Submit"]')[0]
    click(browser, book)

    def booked(driver):
        ids = requester.search(MEETING, [('topic', '=', "浏览器一步预订")])
        if not ids:
            return False
        return requester.read(MEETING, ids, ['state', 'room'])
    meeting, = wait(browser, booked, 30)
    shot(browser, 'browser-3x-4-booked')
    assert meeting['room'] == rooms[0][second]
    assert meeting['state'] == 'confirmed'
