# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The web client keeps the office's clock (sao, headless Chromium, the
browser in Europe/Paris, the company in Asia/Shanghai): a meeting at 09:00
in Shanghai shows at 09:00 in the list, the form and the calendar, and
10:30 typed in the form is stored as 02:30 UTC. Screenshots:
tests/artifacts/browser-tz-*.png."""
import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from test_browser import (  # noqa: F401
    browser, login, shot, visible, wait)
from test_browser_decide import click_now, displayed

selenium = pytest.importorskip('selenium')
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402,E501
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

MEETING = 'office.meeting'
OFFICE = ZoneInfo('Asia/Shanghai')


def open_url(driver, server, path, title=None):
    """Open path in a tab of the running client, as a link would; with
    title, until the tab shown has it (the workbench opened at login may
    come to the front late)"""
    url = f'#{server.database}/{path}'

    def shown(driver):
        active = driver.execute_script(
            "const tab = document.querySelector('#tablist > li.active');"
            "return tab ? tab.innerText : '';")
        if title and title in active:
            return True
        driver.execute_script("if (window.location.hash != arguments[0]) "
            "{ window.location.hash = arguments[0]; }", url)
        return not title
    wait(driver, shown, 60)


@pytest.fixture
def meeting(server):
    """sales1's confirmed meeting in 7 days (next week on the calendar),
    09:00 to 12:00 in Shanghai (01:00 to 04:00 UTC), in a room of its own"""
    office = server.client('office_head')
    stamp = int(time.time()) % 100000
    room, = office.model('office.meeting.room', 'create', [dict(
                name=f"时区会议室{stamp}", capacity=6)])
    day = dt.datetime.now(OFFICE).date() + dt.timedelta(days=7)
    start = dt.datetime.combine(day, dt.time(1, 0))
    organiser = server.client('sales1')
    topic = f"时区测试会议{stamp}"
    meeting_id, = organiser.model(MEETING, 'create', [dict(
                topic=topic, room=room, start=start,
                end=start + dt.timedelta(hours=3))])
    organiser.model(MEETING, 'request', [meeting_id])
    state, = organiser.read(MEETING, [meeting_id], ['state'])
    assert state['state'] == 'confirmed'
    return organiser, meeting_id, topic, day


def test_office_clock_in_paris(server, browser, meeting):  # noqa: F811
    organiser, meeting_id, topic, day = meeting
    browser.execute_cdp_cmd('Emulation.setTimezoneOverride',
        {'timezoneId': 'Europe/Paris'})
    login(browser, server, 'sales1')
    assert browser.execute_script(
        "return Intl.DateTimeFormat().resolvedOptions().timeZone"
        ) == 'Europe/Paris'
    # The zone comes with the preferences, not in every call's context
    preferences = organiser.call(
        'model.res.user.get_preferences', False, {})
    assert preferences['company_timezone'] == 'Asia/Shanghai'
    assert 'company_timezone' not in organiser.context
    assert browser.execute_script("return Sao.timezone") == 'Asia/Shanghai'

    # The list: 09:00, the office's time (the browser would say 02:00)
    open_url(browser, server, f'model/{MEETING}', "Office Meeting")
    row = wait(browser, lambda d: displayed(d,
            f'//table//tr[.//*[contains(text(), "{topic}")]]'), 60)[0]
    shot(browser, 'browser-tz-1-list')
    cells = [c.text for c in row.find_elements(By.XPATH, './td')]
    tabs = browser.execute_script(
        "return document.querySelector('#tablist').innerText")
    assert day.strftime('%m/%d/%Y') in cells, (cells, tabs)
    assert '09:00:00' in cells and '12:00:00' in cells, (cells, tabs)

    # The calendar: next week, the event in the 09:00 row
    for label in ["Office", "Meetings"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    visible(browser,
        '//*[normalize-space(text())="Meeting Calendar"]').click()
    visible(browser, '//*[contains(@class, "fc-view")]', 60)
    time.sleep(1)
    click_now(browser, browser.find_element(
            By.CSS_SELECTOR, '.fc-next-button'))
    event = wait(browser, lambda d: displayed(d,
            '//*[contains(@class, "fc-time-grid-event")]'
            f'[.//*[contains(text(), "{topic}")]]'), 60)[0]
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});", event)
    time.sleep(0.5)
    shot(browser, 'browser-tz-2-calendar')
    label = event.find_element(By.CSS_SELECTOR, '.fc-time')
    assert label.get_attribute('data-start') == '9:00', label.text
    slot = browser.find_element(By.XPATH, '//div[contains(@class, '
        '"fc-slats")]//tr[@data-time="09:00:00"]')
    assert abs(event.location['y'] - slot.location['y']) <= 3
    column = browser.find_element(By.XPATH, '//div[contains(@class, '
        '"fc-bg")]//td[@data-date="%s"]' % day.isoformat())
    assert (column.location['x'] <= event.location['x']
        < column.location['x'] + column.size['width'])

    # The form: 09:00; 10:30 typed is 10:30 in Shanghai, 02:30 UTC
    open_url(browser, server, f'model/{MEETING}/{meeting_id}')

    def start_input(driver):
        for element in displayed(driver, '//input[@name="start"]') or []:
            if element.get_attribute('value'):
                return element
        return False
    field = wait(browser, start_input, 60)
    assert field.get_attribute('value') == (
        day.strftime('%m/%d/%Y') + ' 09:00:00')
    field.send_keys(Keys.CONTROL, 'a')
    field.send_keys(Keys.DELETE)
    field.send_keys(day.strftime('%m/%d/%Y') + ' 10:30:00')
    field.send_keys(Keys.TAB)
    time.sleep(0.5)
    shot(browser, 'browser-tz-3-form')
    click_now(browser, wait(browser, lambda d: displayed(
                d, '//button[@title="Save"]'), 30)[0])

    def saved(driver):
        start, = organiser.read(MEETING, [meeting_id], ['start'])
        return start['start'] != dt.datetime.combine(day, dt.time(1, 0))
    wait(browser, saved, 30)
    start, = organiser.read(MEETING, [meeting_id], ['start'])
    assert start['start'] == dt.datetime.combine(day, dt.time(2, 30))
    # and the form shows what was typed
    wait(browser, lambda d: start_input(d).get_attribute('value')
        == day.strftime('%m/%d/%Y') + ' 10:30:00', 30)

    # Summer time is followed where there is one; without a company zone
    # the browser's is used
    clock = browser.execute_script("""
        const zone = Sao.timezone, result = {};
        const at = (utc) => Sao.DateTime(...utc, 0, 0, 0, true).format(
            'YYYY-MM-DD HH:mm Z');
        Sao.set_timezone('America/New_York');
        result.summer = at([2026, 6, 1, 13]);
        result.winter = at([2026, 11, 1, 14]);
        result.typed = Sao.DateTime(2026, 6, 1, 9, 0).toISOString();
        Sao.set_timezone(null);
        result.browser = at([2026, 6, 1, 13]);
        Sao.set_timezone(zone);
        return result;""")
    assert clock == {
        'summer': '2026-07-01 09:00 -04:00',
        'winter': '2026-12-01 09:00 -05:00',
        'typed': '2026-07-01T13:00:00.000Z',
        'browser': '2026-07-01 15:00 +02:00',
        }, clock
