# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A department head logs into the web client (sao) in headless Chromium
(Debian's package, no browser download), opens "My Approvals" and approves
a seal request. Screenshots are kept in tests/artifacts/."""
import datetime as dt
import shutil
import tempfile
import time

import pytest
from conftest import ARTIFACTS, password

selenium = pytest.importorskip('selenium')
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402,E501
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'


@pytest.fixture
def browser():
    if not shutil.which(CHROMEDRIVER):
        pytest.fail("chromium-driver is not installed (Debian package)")
    profile = tempfile.mkdtemp(prefix='office-chromium-')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    for flag in ['--headless=new', '--no-sandbox', '--disable-gpu',
            '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--disable-dev-shm-usage',
            '--window-size=1400,900', f'--user-data-dir={profile}',
            '--lang=en-US']:
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        shot(driver, 'browser-last')
        try:
            logs = driver.get_log('browser')
        except Exception:
            logs = []
        (ARTIFACTS / 'browser-console.log').write_text(
            '\n'.join(str(entry) for entry in logs))
        driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def emulate(driver, width, height, scale=1, mobile=False, touch=None):
    """Show the pages on a width x height screen (CSS pixels, scale device
    pixels each), as a phone's browser if mobile; touch turns the touch
    screen on (5 fingers) or off, None leaves it as it is"""
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': width, 'height': height, 'deviceScaleFactor': scale,
            'mobile': mobile})
    if touch is not None:
        driver.execute_cdp_cmd('Emulation.setTouchEmulationEnabled',
            {'enabled': True, 'maxTouchPoints': 5} if touch
            else {'enabled': False})


def phone(driver, scale=1):
    "A 390x844 phone with a touch screen"
    emulate(driver, 390, 844, scale=scale, mobile=True, touch=True)


def desktop(driver):
    "A 1366x900 desktop screen"
    emulate(driver, 1366, 900)


def shot(driver, name):
    driver.save_screenshot(str(ARTIFACTS / f'{name}.png'))


def wait(driver, condition, timeout=30):
    return WebDriverWait(driver, timeout).until(condition)


def visible(driver, xpath, timeout=30):
    return wait(driver, EC.visibility_of_element_located(
            (By.XPATH, xpath)), timeout)


def displayed_input(driver, name, timeout=30):
    """Return the displayed input named name, once it takes a click (sao
    re-renders forms while it loads them: an input found too early may be
    replaced before it is typed into)"""
    def find(driver):
        for element in driver.find_elements(
                By.XPATH, f'//input[@name="{name}"]'):
            try:
                if element.is_displayed() and element.is_enabled():
                    element.click()
                    return element
            except WebDriverException:
                continue
        return False
    return wait(driver, find, timeout)


def type_into(driver, name, *keys, timeout=30):
    "Type keys into the displayed input named name, retrying while sao renders"
    def typed(driver):
        try:
            displayed_input(driver, name, 5).send_keys(*keys)
            return True
        except WebDriverException:
            return False
    wait(driver, typed, timeout)
    return displayed_input(driver, name, timeout)


def login(driver, server, login_name):
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
    # The workbench opens at login (tests/test_browser_workbench.py); these
    # tests start from the menu: close it once it is there (on a phone the
    # menu is hidden while a tab is open)
    try:
        wait(driver, lambda d: d.execute_script(
                "return window.Sao && Sao.Tab && Sao.Tab.tabs ? "
                "Sao.Tab.tabs.length : 0"), 60)
    except TimeoutException:
        pass
    driver.execute_script(
        "Sao.Tab.tabs.slice().forEach(function(tab) { tab.close(); });")
    wait(driver, lambda d: not d.execute_script(
            "return Sao.Tab.tabs.length"), 30)
    # The menu is loaded
    visible(driver, '//*[normalize-space(text())="Office"]', 60)


def test_head_approves_from_my_approvals(server, browser):
    requester = server.client('sales1')
    seal, = requester.search('office.seal', [('code', '=', 'GZ')])
    request_id, = requester.model('office.seal.request', 'create', [dict(
                seal=seal, document_title="浏览器审批测试", purpose="UI")])
    requester.model('office.seal.request', 'submit', [request_id])

    login(browser, server, 'sales_head')
    shot(browser, 'browser-1-logged-in')
    for label in ["Office", "Approvals", "My Approvals"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    # The tab opens with the step of the request to review, shown by its
    # title (the approval centre's rows say what is approved)
    row = visible(browser,
        '//table//tr[.//*[contains(text(), "浏览器审批测试")]]', 60)
    shot(browser, 'browser-2-my-approvals')
    row.find_element(By.XPATH, './td[2]').click()
    time.sleep(0.5)
    button = row.find_element(By.XPATH,
        './/button[contains(normalize-space(.), "Approve")]')
    ActionChains(browser).move_to_element(button).click(button).perform()
    wait(browser, lambda d: requester.read('office.seal.request',
            [request_id], ['approval_current'])[0]['approval_current']
        == '张丽', 30)
    time.sleep(1)
    shot(browser, 'browser-3-approved')
    step_ids = requester.search('office.approval.step', [
            ('request.res_id', '=', request_id),
            ('request.res_model', '=', 'office.seal.request'),
            ('tier_name', '=', '部门负责人审核')])
    step, = requester.read('office.approval.step', step_ids,
        ['state', 'acted_by'])
    assert step['state'] == 'approved'
    assert step['acted_by'] == server.client('sales_head').user_id


def test_book_room_from_calendar_view(server, browser):
    "An employee clicks a free slot in the meeting calendar and books"
    admin = server.client('office_head')
    room_id, = admin.model('office.meeting.room', 'create', [dict(
                name="浏览器测试会议室", capacity=10)])
    login(browser, server, 'sales2')
    for label in ["Office", "Meetings", "Meeting Calendar"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    visible(browser, '//*[contains(@class, "fc-view")]', 60)
    # Next week, so that the slot is in the future
    browser.find_element(By.CSS_SELECTOR, '.fc-next-button').click()
    time.sleep(1)
    wednesday, = [h for h in browser.find_elements(
            By.CSS_SELECTOR, '.fc-day-header')
        if h.is_displayed() and h.text.startswith('Wed')]
    slot = wait(browser, EC.presence_of_element_located((By.XPATH,
                '//div[contains(@class, "fc-slats")]'
                '//tr[@data-time="10:00:00"]/td[2]')))
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});", slot)
    time.sleep(0.5)
    x = (wednesday.location['x'] + wednesday.size['width'] // 2
        - slot.location['x'] - slot.size['width'] // 2)
    ActionChains(browser).move_to_element_with_offset(slot, x, 0).click(
        ).perform()
    displayed_input(browser, 'topic')
    shot(browser, 'browser-4-new-meeting')
    type_into(browser, 'topic', "浏览器预订测试")
    room = type_into(browser, 'room', "浏览器测试")
    room.send_keys(Keys.TAB)
    time.sleep(1.5)
    # sao asks which room when the text is not a whole name
    try:
        row = visible(browser, '//div[contains(@class, "modal")]'
            '//td[contains(normalize-space(.), "浏览器测试会议室")]', 10)
    except Exception:
        row = None
    if row is not None:
        ActionChains(browser).double_click(row).perform()
        time.sleep(1)
        for ok in browser.find_elements(By.XPATH,
                '//div[contains(@class, "modal")]'
                '//button[normalize-space(.)="OK"]'):
            if ok.is_displayed():
                ok.click()
        time.sleep(1)
    request = visible(browser,
        '//button[contains(normalize-space(.), "Request")]')
    ActionChains(browser).move_to_element(request).click(request).perform()

    def booked(driver):
        ids = admin.search('office.meeting', [
                ('topic', '=', "浏览器预订测试")])
        if not ids:
            return False
        meeting, = admin.read('office.meeting', ids,
            ['state', 'room', 'start'])
        return meeting if meeting['state'] == 'confirmed' else False
    meeting = wait(browser, booked, 30)
    time.sleep(1)
    shot(browser, 'browser-5-booked')
    assert meeting['room'] == room_id
    assert meeting['start'].weekday() == 2  # Wednesday


def test_register_and_distribute_incoming(server, browser):
    "The office clerk registers an incoming letter and distributes it"
    login(browser, server, 'clerk')
    for label in ["Office", "Documents", "Incoming Documents"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    new = visible(browser, '//button[@title="New"]', 30)
    new.click()


    type_into(browser, 'title', "关于浏览器测试的来函")
    type_into(browser, 'sender', "测试单位")
    doc_type = type_into(browser, 'type', "Letter")
    doc_type.send_keys(Keys.TAB)
    time.sleep(1.5)
    try:
        row = visible(browser, '//div[contains(@class, "modal")]'
            '//td[contains(normalize-space(.), "Letter")]', 5)
        ActionChains(browser).double_click(row).perform()
        time.sleep(1)
    except Exception:
        pass
    browser.find_element(By.XPATH, '//button[@title="Save"]').click()
    admin = server.client('office_head')

    def registered(driver):
        ids = admin.search('office.document.incoming', [
                ('title', '=', "关于浏览器测试的来函")])
        return ids[0] if ids else False
    document_id = wait(browser, registered, 30)
    number, = [d['number'] for d in admin.read(
            'office.document.incoming', [document_id], ['number'])]
    assert number.startswith('收〔')
    shot(browser, 'browser-6-incoming-registered')

    distribute = visible(browser,
        '//button[contains(normalize-space(.), "Distribute")]')
    ActionChains(browser).move_to_element(distribute).click(
        distribute).perform()
    users = visible(browser, '//div[contains(@class, "modal")]'
        '//input[@type="text" or @type="search"]', 20)
    users.send_keys("fin1")
    # Pick the user from the completion list
    choice = visible(browser, '//div[contains(@class, "modal")]'
        '//*[contains(@class, "dropdown-menu")]'
        '//*[normalize-space(text())="赵强"]', 20)
    choice.click()
    time.sleep(1)
    shot(browser, 'browser-7-distribute')
    ok = [b for b in browser.find_elements(By.XPATH,
            '//div[contains(@class, "modal")]'
            '//button[contains(normalize-space(.), "Distribute")]')
        if b.is_displayed()]
    ok[-1].click()

    def distributed(driver):
        lines = admin.search('office.distribution', [
                ('res_model', '=', 'office.document.incoming'),
                ('res_id', '=', document_id)])
        return lines or False
    wait(browser, distributed, 30)
    shot(browser, 'browser-8-distributed')
    fin1 = server.client('fin1')
    assert fin1.search('office.document.incoming',
        [('id', '=', document_id)]) == [document_id]


def test_employee_requests_office_supplies(server, browser):
    "An employee fills a requisition of office supplies and submits it"
    login(browser, server, 'sales2')
    for label in ["Office", "Office Supplies", "Requisitions"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    new = visible(browser, '//button[@title="New"]', 30)
    new.click()
    time.sleep(1)
    shot(browser, 'browser-9-new-requisition')
    # The "New" of the lines widget adds an editable row
    add = wait(browser, lambda d: [b for b in d.find_elements(By.XPATH,
                '//*[contains(@class, "one2many")]//button[@title="New"]')
            if b.is_displayed()] or False, 30)
    add[0].click()
    time.sleep(1)

    def edit_cell(column, *keys):
        """Click the new row under the header of column and type into the
        editor sao opens there"""
        def typed(driver):
            try:
                header = [h for h in driver.find_elements(By.XPATH,
                        '//*[contains(@class, "one2many")]//table//th')
                    if h.is_displayed()
                    and normalize(h.text) == column][0]
                row = [r for r in driver.find_elements(By.XPATH,
                        '//*[contains(@class, "one2many")]//table//tbody/tr')
                    if r.is_displayed()][0]
                dx = (header.location['x'] + header.size['width'] // 2
                    - row.location['x'] - row.size['width'] // 2)
                ActionChains(driver).move_to_element_with_offset(
                    row, dx, 0).click().perform()
                time.sleep(0.7)
                active = driver.switch_to.active_element
                if active.tag_name != 'input' or not active.is_displayed():
                    return False
                active.send_keys(*keys)
                return active
            except (WebDriverException, IndexError):
                return False
        return wait(browser, typed, 30)

    def normalize(text):
        return ' '.join(text.split())
    edit_cell("Product", "中性笔")
    # Pick the product from the completion list
    choice = visible(browser, '//*[contains(@class, "dropdown-menu")]'
        '//*[contains(normalize-space(.), "[PEN] 中性笔")]', 20)
    choice.click()
    time.sleep(1)
    shot(browser, 'browser-10a-product-chosen')
    # The row is being edited: its quantity editor is the input under the
    # "Quantity" header
    header = [h for h in browser.find_elements(By.XPATH,
            '//*[contains(@class, "one2many")]//table//th')
        if h.is_displayed() and normalize(h.text) == "Quantity"][0]
    column_x = header.location['x'] + header.size['width'] // 2
    inputs = [i for i in browser.find_elements(By.XPATH,
            '//*[contains(@class, "one2many")]//table//tbody/tr[1]//input')
        if i.is_displayed()]
    quantity = min(inputs, key=lambda i: abs(
            i.location['x'] + i.size['width'] // 2 - column_x))
    quantity.click()
    time.sleep(0.7)
    # sao re-renders the editor it focuses
    quantity = browser.switch_to.active_element
    quantity.send_keys(Keys.CONTROL, 'a')
    quantity.send_keys("12")
    quantity.send_keys(Keys.TAB)
    time.sleep(0.5)
    shot(browser, 'browser-10-requisition-line')
    # The wide editable list may overlap the toolbar: click it as a user's
    # pointer would reach it once the page settles
    save = browser.find_element(By.XPATH, '//button[@title="Save"]')
    browser.execute_script("arguments[0].click();", save)
    employee = server.client('sales2')

    def saved(driver):
        ids = employee.search('office.supply.requisition',
            [('create_uid', '=', employee.user_id)])
        return ids[0] if ids else False
    requisition_id = wait(browser, saved, 30)
    shot(browser, 'browser-11-requisition-saved')
    submit = visible(browser,
        '//button[contains(normalize-space(.), "Submit")]')
    ActionChains(browser).move_to_element(submit).click(submit).perform()

    def submitted(driver):
        state, = employee.read('office.supply.requisition',
            [requisition_id], ['state'])
        return state['state'] == 'submitted'
    wait(browser, submitted, 30)
    shot(browser, 'browser-12-requisition-submitted')
    requisition, = employee.read('office.supply.requisition',
        [requisition_id], ['number', 'department', 'lines', 'approval_current'])
    assert requisition['number'].startswith('LY')
    assert requisition['approval_current'] == '周杰'
    line, = employee.read('office.supply.requisition.line',
        requisition['lines'], ['product.code', 'quantity'])
    assert (line['product.']['code'], line['quantity']) == ('PEN', 12)


def test_head_approves_monthly_attendance(server, browser):
    "The department head opens the month's attendance report and approves it"
    admin = server.client('admin')
    department, = admin.search('office.department', [('code', '=', 'SAL')])
    schedule, = admin.model('office.attendance.schedule', 'create', [{
                'name': "浏览器测试班", 'kind': 'fixed',
                'start': dt.time(9, 0), 'end': dt.time(18, 0),
                'grace_minutes': 5, 'working_days': 'calendar'}])
    admin.model('office.attendance.schedule.assignment', 'create', [{
                'schedule': schedule, 'department': department,
                'date_from': dt.date(2000, 1, 1)}])
    month = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    month = month.replace(day=1)
    report_id, = admin.model('office.attendance.month', 'create', [{
                'department': department, 'month': month}])
    admin.model('office.attendance.month', 'compute', [report_id])
    admin.model('office.attendance.month', 'submit', [report_id])

    login(browser, server, 'sales_head')
    for label in ["Office", "Attendance", "Monthly Attendance Reports"]:
        entry = [e for e in browser.find_elements(By.XPATH,
                f'//*[normalize-space(text())="{label}"]')
            if e.is_displayed()]
        entry = entry[0] if entry else visible(
            browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    tab = visible(browser, '//*[contains(@class, "nav")]'
        '//*[starts-with(normalize-space(.), "Submitted")]', 30)
    tab.click()
    row = visible(browser,
        '//table//tr[.//*[contains(text(), "销售部")]]', 60)
    shot(browser, 'browser-13-attendance-months')
    ActionChains(browser).double_click(row).perform()
    approve = visible(browser,
        '//button[contains(normalize-space(.), "Approve")]', 30)
    shot(browser, 'browser-14-attendance-month')
    browser.execute_script("arguments[0].click();", approve)

    def approved(driver):
        state, = admin.read('office.attendance.month', [report_id], ['state'])
        return state['state'] == 'approved'
    wait(browser, approved, 30)
    shot(browser, 'browser-15-attendance-month-approved')
    head = server.client('sales_head')
    report, = head.read('office.attendance.month', [report_id],
        ['state', 'lines'])
    assert report['state'] == 'approved' and report['lines']


def csp_violations(driver):
    "The console entries in which Chromium refused something under the CSP"
    return [entry for entry in driver.get_log('browser')
        if 'Content Security Policy' in entry.get('message', '')]


def test_sao_works_under_the_content_security_policy(server, browser):
    """sao is served with the security headers, its inline script and
    everything it does pass the policy: log in, open a form, change a field,
    save; the policy is enforced (an injected inline script does not run)"""
    import urllib.request
    with urllib.request.urlopen(server.url + '/') as response:
        headers = response.headers
    policy = headers['Content-Security-Policy']
    assert "frame-ancestors 'self'" in policy
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in (
        policy.split('script-src')[1].split(';')[0])
    assert headers['X-Content-Type-Options'] == 'nosniff'
    assert headers['X-Frame-Options'] == 'SAMEORIGIN'
    assert headers['Referrer-Policy'] == 'same-origin'
    assert 'Strict-Transport-Security' not in headers  # plain HTTP

    requester = server.client('sales1')
    seal, = requester.search('office.seal', [('code', '=', 'GZ')])
    request_id, = requester.model('office.seal.request', 'create', [dict(
                seal=seal, document_title="CSP 表单测试", purpose="CSP")])
    login(browser, server, 'sales1')
    # The menu button is a javascript:void(0) link
    toggle = browser.find_element(By.CSS_SELECTOR, '[data-toggle="menu"]')
    toggle.click()
    time.sleep(0.3)
    toggle.click()
    browser.get(f'{server.url}/#{server.database}'
        f'/model/office.seal.request/{request_id}')
    title = type_into(browser, 'document_title',
        Keys.CONTROL, 'a', Keys.NULL, "CSP 表单测试（已修改）")
    title.send_keys(Keys.TAB)
    time.sleep(0.5)
    save = visible(browser, '//button[@title="Save"]')
    browser.execute_script("arguments[0].click();", save)

    def saved(driver):
        request, = requester.read('office.seal.request', [request_id],
            ['document_title'])
        return request['document_title'] == "CSP 表单测试（已修改）"
    wait(browser, saved, 30)
    shot(browser, 'browser-16-csp-form-saved')
    assert csp_violations(browser) == []

    # The policy is enforced: an inline script injected into the page does
    # not run, and Chromium reports it
    ran = browser.execute_script("""
        var script = document.createElement('script');
        script.textContent = 'window.officeInlineRan = true;';
        document.body.appendChild(script);
        return window.officeInlineRan === true;""")
    assert ran is False
    assert csp_violations(browser)


def test_secret_document_invisible_in_web_client(server, browser):
    """An internal-clearance employee's list of outgoing documents does not
    show his own draft once the office raised it to secret"""
    employee = server.client('sales1')
    notice, = employee.search('office.document.type', [
            ('code', '=', 'notice'), ('direction', '=', 'outgoing')])
    visible_id, secret_id = employee.model(
        'office.document.outgoing', 'create', [dict(
                type=notice, title=title, main_recipients="各部门",
                secrecy='internal')
            for title in ["浏览器可见发文", "浏览器机密发文"]])
    server.client('office_head').model('office.document.outgoing', 'write',
        [secret_id], {'secrecy': 'secret'})
    assert employee.search('office.document.outgoing',
        [('id', '=', secret_id)]) == []

    login(browser, server, 'sales1')
    for label in ["Office", "Documents", "Outgoing Documents"]:
        entry = visible(browser, f'//*[normalize-space(text())="{label}"]')
        ActionChains(browser).double_click(entry).perform()
        time.sleep(0.5)
    visible(browser,
        '//table//tr[.//*[contains(text(), "浏览器可见发文")]]', 60)
    time.sleep(1)
    shot(browser, 'browser-17-outgoing-list-internal-user')
    assert "浏览器机密发文" not in browser.page_source
    # Nor by the record's address
    browser.get(f'{server.url}/#{server.database}'
        f'/model/office.document.outgoing/{secret_id}')
    time.sleep(3)
    shot(browser, 'browser-18-secret-by-address')
    assert "浏览器机密发文" not in browser.page_source
