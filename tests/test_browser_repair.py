# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reporting a fault from a phone (390x844, touch) in the web client:
an employee scans a facility's QR label (its web address), taps "Report a
Fault", types what is wrong and saves; the repair is the facility's, his,
with its 24-hour response deadline. Screenshot kept in
tests/artifacts/browser-phone-report-fault.png."""
import datetime as dt
import time
import uuid

import pytest

from test_browser import browser, shot, wait  # noqa: F401
from test_browser_decide import displayed
from test_browser_workbench import device_size, login, words

selenium = pytest.importorskip('selenium')
from selenium.webdriver.common.by import By  # noqa: E402

REPORT = ('Report a Fault', '报修')
SAVE = ('Save', '保存')


def facility(server):
    "A facility registered by the office; return (id, web address)"
    head = server.client('office_head')
    categories = head.search('office.facility.category', [
            ('name', '=', "浏览器测试设施")])
    category, = categories or head.model(
        'office.facility.category', 'create', [{'name': "浏览器测试设施"}])
    code = f'AC-{uuid.uuid4().hex[:6]}'
    facility_id, = head.model('office.facility', 'create', [{
                'code': code, 'name': "空调", 'category': category,
                'building': "A座", 'floor': "3", 'room': "301"}])
    url, = head.read('office.facility', [facility_id], ['url'])
    return facility_id, url['url']


def test_employee_reports_fault_from_phone(server, browser):  # noqa: F811
    press = device_size(browser, 'phone')
    facility_id, url = facility(server)
    # The address the server was reached at (no path: the root)
    assert url.startswith(server.url), url
    assert url.endswith(f'#{server.database}/model/office.facility/'
        f'{facility_id}'), url
    employee = server.client('fin1')
    before = employee.search('office.repair', [
            ('facility', '=', facility_id)])
    assert before == []

    login(browser, server, 'fin1')
    wait(browser, lambda d: d.execute_script(
            "return window.Sao && Sao.Tab && Sao.Tab.tabs ? "
            "Sao.Tab.tabs.length : 0"), 90)
    # The phone's camera opens the label's address in the web client
    browser.get(url)
    button = wait(browser, lambda d: displayed(d,
            f'//button[{words(*REPORT)}]'), 90)[0]
    taps = 0
    press(browser, button)
    taps += 1
    description = wait(browser, lambda d: displayed(d,
            '//textarea[@name="description"]'), 60)[0]
    # The repair is prefilled with the facility
    wait(browser, lambda d: any(
            'AC-' in (e.get_attribute('value') or '')
            for e in d.find_elements(By.XPATH, '//input[@name="facility"]')),
        30)
    press(browser, description)
    taps += 1
    description.send_keys("空调不制冷，室温30度")
    time.sleep(0.5)
    save = wait(browser, lambda d: displayed(d,
            f'//button[@title="Save" or @title="保存" or {words(*SAVE)}]'),
        30)[0]
    press(browser, save)
    taps += 1

    def saved(driver):
        return employee.search('office.repair', [
                ('facility', '=', facility_id)]) or False
    repair_id, = wait(browser, saved, 60)
    time.sleep(1)
    shot(browser, 'browser-phone-report-fault')
    repair, = employee.read('office.repair', [repair_id], [
            'description', 'state', 'reporter', 'deadline', 'create_date'])
    me, = employee.read('res.user', [employee.user_id], ['employee'])
    assert repair['description'] == "空调不制冷，室温30度"
    assert repair['state'] == 'reported'
    assert repair['reporter'] == me['employee']
    # 24 clock hours to respond (the default, round the clock)
    created, deadline = repair['create_date'], repair['deadline']
    assert abs((deadline - created) - dt.timedelta(hours=24)) < \
        dt.timedelta(minutes=2), (created, deadline)
    # Open label, tap the button, tap the box and type, save
    assert taps <= 3
