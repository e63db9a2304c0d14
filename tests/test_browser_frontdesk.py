# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The front desk in the web client (desktop, the office's time zone): a
host pre-registered a visit for today; the clerk opens Office ▸ Visitors ▸
Today's Visitors, finds the visitor and checks him in from the row; the
host is told at once. Screenshot kept in
tests/artifacts/browser-frontdesk-checked-in.png."""
import datetime as dt
import os
import time

import pytest

from test_browser import (  # noqa: F401
    browser, desktop, login, shot, visible, wait)
from test_browser_decide import click_now, displayed
from test_browser_workbench import words

selenium = pytest.importorskip('selenium')
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402,E501
from selenium.webdriver.common.by import By  # noqa: E402

CHECK_IN = ('Check In', '签到')


def pre_register(server, name):
    "sales1 expects a visitor today; return the visit's id"
    host = server.client('sales1')
    visitor, = host.model('office.visitor', 'create', [{
                'company': host.context['company'],
                'name': name, 'organization': "华东贸易",
                'mobile': '139' + str(int.from_bytes(os.urandom(3)))[:8]}])
    employee, = host.read('company.employee', [host.context['employee']],
        ['department'])
    now = dt.datetime.utcnow().replace(microsecond=0)
    visit, = host.model('office.visit', 'create', [{
                'company': host.context['company'],
                'host': employee['id'], 'department': employee['department'],
                'arrival_from': now + dt.timedelta(minutes=5),
                'arrival_to': now + dt.timedelta(hours=2),
                'purpose': "商务洽谈",
                'lines': [('create', [{'visitor': visitor}])]}])
    return host, visit


def test_front_desk_checks_visitor_in(server, browser):  # noqa: F811
    # The front desk is in the office: its browser runs in the company's
    # time zone (Today's Visitors is today there)
    browser.execute_cdp_cmd('Emulation.setTimezoneOverride',
        {'timezoneId': 'Asia/Shanghai'})
    desktop(browser)
    name = f"访客{os.urandom(2).hex()}"
    host, visit_id = pre_register(server, name)
    before = host.search('res.notification', [])

    # Logs in and opens Today's Visitors from the menu (the workbench
    # opened at login has a list of that name too)
    login(browser, server, 'clerk')
    menu = '//div[@id="menu"]//*[normalize-space(text())="%s"]'
    visible(browser, menu % "Office", 60)
    for label in ["Office", "Visitors"]:
        entry = visible(browser, menu % label)
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    visible(browser, menu % "Today's Visitors").click()
    row = wait(browser, lambda d: displayed(d,
            f'//tr[.//*[contains(text(), "{name}")]]'), 60)[0]
    button = row.find_element(By.XPATH, f'.//button[{words(*CHECK_IN)}]')
    click_now(browser, row.find_element(
            By.XPATH, f'.//*[contains(text(), "{name}")]'))
    time.sleep(0.5)
    click_now(browser, button)

    def checked_in(driver):
        visit, = host.read('office.visit', [visit_id], ['state'])
        return visit['state'] == 'checked_in'
    wait(browser, checked_in, 60)
    # The row shows it, without the button
    wait(browser, lambda d: not displayed(d,
            f'//tr[.//*[contains(text(), "{name}")]]'
            f'//button[{words(*CHECK_IN)}]'), 30)
    time.sleep(0.5)
    shot(browser, 'browser-frontdesk-checked-in')
    # The host is told at once
    new = [n for n in host.search('res.notification', [])
        if n not in before]
    assert new, "the host got no notice"
    notices = host.read('res.notification', new, ['description', 'label'])
    assert any(name in (n['description'] or '') + (n['label'] or '')
        for n in notices), notices
