"""protector-dashboard in a real browser, against the lab's Horizon.

Debian's ``chromium`` and ``chromium-driver`` (headless), driven by
selenium. The lab runs Horizon with the plugin for site-a
(lab/protector_lab/horizon.py). Every page a test visits is saved as a
screenshot under ``test-results/dashboard/`` (``RESULTS`` of the
Makefile), so a failure can be looked at, and a pass shown.
"""
import os
import shutil
import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.ui import WebDriverWait

from protector_lab import client as lab_client

pytestmark = pytest.mark.lab

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GROUPS = "/project/protection_groups/"
# The peer-site sign-in page (doc/dashboard.md).
PEER_SIGN_IN = GROUPS + "peer/"
SHOTS = os.path.join(os.environ.get("RESULTS") or
                     os.path.join(ROOT, "test-results"), "dashboard")


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    driver_bin = shutil.which("chromedriver")
    assert chromium and driver_bin, (
        "chromium and chromium-driver (apt) are needed: make test installs "
        "them (tools/ensure_browser.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(
        options=options, service=webdriver.ChromeService(driver_bin))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def dashboard(lab):
    return lab.site_a.url("horizon")


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def wait(driver, condition, timeout=60):
    return WebDriverWait(driver, timeout).until(condition)


def log_in(driver, url, creds):
    driver.delete_all_cookies()
    driver.get(url + "/auth/login/")
    wait(driver, ec.presence_of_element_located((By.ID, "id_username")))
    driver.find_element(By.ID, "id_username").send_keys(creds["username"])
    driver.find_element(By.ID, "id_password").send_keys(creds["password"])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver, lambda d: "/auth/login" not in d.current_url)


def sign_out(driver):
    """The user menu's Sign Out (a POST with the page's CSRF token)."""
    driver.get(driver.current_url)
    form = wait(driver, ec.presence_of_element_located(
        (By.CSS_SELECTOR, "form[action$='/auth/logout/']")))
    driver.execute_script("arguments[0].submit();", form)
    wait(driver, lambda d: "/auth/login" in d.current_url)


def page(driver, url, name):
    """Load ``url``, save its screenshot, and return the page's error
    messages (Horizon shows API failures as ``.alert-danger``)."""
    driver.get(url)
    wait(driver, ec.presence_of_element_located((By.ID, "content_body")))
    shot(driver, name)
    assert "/auth/login" not in driver.current_url, driver.current_url
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR,
                                                 ".alert-danger")
            if e.is_displayed()]


def test_every_panel_loads(lab, browser, dashboard):
    log_in(browser, dashboard, lab.site_a.demo)
    shot(browser, "01-project-overview")
    for path, name in (("/project/protection_groups/", "02-groups"),
                       ("/project/dr_operations/", "03-operations")):
        errors = page(browser, dashboard + path, name)
        assert errors == [], (path, errors)
        # The panel group is in the navigation.
        assert "Disaster Recovery" in browser.page_source
    log_in(browser, dashboard, lab.site_a.admin)
    errors = page(browser, dashboard + "/admin/dr_sites/", "04-admin-sites")
    assert errors == [], errors
    assert browser.find_elements(By.CSS_SELECTOR, "table")


def test_sign_out_forgets_the_session(lab, browser, dashboard):
    log_in(browser, dashboard, lab.site_a.demo)
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    # Server-side sessions: the browser holds the session id, nothing else
    # of the user's (no token, no service catalog).
    assert set(cookies) <= {"sessionid", "csrftoken", "login_region",
                            "login_domain", "django_language",
                            "recent_project"}, cookies
    sign_out(browser)
    browser.get(dashboard + "/project/protection_groups/")
    wait(browser, lambda d: "/auth/login" in d.current_url)
    shot(browser, "05-signed-out")


# ---- the drill, through the dashboard only ----------------------------------

def fill(driver, values):
    """Type into text fields and pick <select> options (by visible text,
    or by value when the text is not there)."""
    for name, value in values.items():
        field = wait(driver, ec.presence_of_element_located(
            (By.ID, "id_" + name)))
        if field.tag_name == "select":
            select = Select(field)
            texts = [o.text for o in select.options]
            match = [t for t in texts if value in t]
            if match:
                select.select_by_visible_text(match[0])
            else:
                select.select_by_value(value)
        elif field.get_attribute("type") == "checkbox":
            # Horizon's theme hides the box behind its label: click it as
            # the label would.
            if field.is_selected() != bool(value):
                driver.execute_script("arguments[0].click();", field)
        else:
            field.clear()
            field.send_keys(value)


def submit(driver, field):
    """Submit the form holding the field ``field`` (not the header's
    Sign Out form, also a form on every page)."""
    form = driver.find_element(By.ID, "id_" + field).find_element(
        By.XPATH, "./ancestor::form")
    button = form.find_element(By.CSS_SELECTOR, "[type=submit]")
    driver.execute_script("arguments[0].click();", button)


def form_page(driver, url, name, values):
    driver.get(url)
    fill(driver, values)
    shot(driver, name)
    submit(driver, next(iter(values)))


def peer_sign_in(driver, dashboard, site, creds):
    form_page(driver, dashboard + PEER_SIGN_IN, "10-peer-sign-in", {
        "site": site, "username": creds["username"],
        "password": creds["password"]})
    wait(driver, lambda d: PEER_SIGN_IN not in d.current_url)


def watch_operation(driver, protector, op_id, name, timeout=600):
    """The operation page until the operation ends; its final state."""
    driver.get(driver.current_url)
    op = protector.wait(op_id, timeout=timeout)
    driver.refresh()
    wait(driver, ec.presence_of_element_located((By.ID, "content_body")))
    shot(driver, name)
    return op


def test_drill_through_the_dashboard(lab, sites, browser, dashboard):
    a = sites["a"]
    name = "ui-%s" % uuid.uuid4().hex[:6]
    server, _ = lab_client.make_vm(a.conn, name + "-vm", data_volumes=0)
    pg_id = None
    try:
        log_in(browser, dashboard, lab.site_a.demo)
        peer_sign_in(browser, dashboard, "site-b", lab.site_b.demo)

        form_page(browser, dashboard + GROUPS + "create/", "11-create-group",
                  {"name": name, "primary_site_id": "site-a",
                   "secondary_site_id": "site-b",
                   "volume_type_id": "replicated-async"})
        wait(browser, lambda d: "/create/" not in d.current_url)
        status, body = a.call("GET", "/protection-groups?name=%s" % name,
                              peer=False)
        groups = [g for g in body["protection_groups"] if g["name"] == name]
        assert status == 200 and len(groups) == 1, body
        pg_id = groups[0]["id"]
        group = dashboard + GROUPS + pg_id + "/"

        form_page(browser, group + "add_member/", "12-add-member",
                  {"instance_id": server.id})
        wait(browser, lambda d: "/add_member/" not in d.current_url)
        form_page(browser, group + "policy/", "13-policy", {
            "primary_fa_url": "https://fa-a.lab.example",
            "primary_fa_api_token": "T-ui-a",
            "secondary_fa_url": "https://fa-b.lab.example",
            "secondary_fa_api_token": "T-ui-b",
            "pure_pg_name": "pg-" + name,
            "replication_interval": "300", "rpo_minutes": "15"})
        wait(browser, lambda d: "/policy/" not in d.current_url)
        errors = page(browser, group, "14-group-detail")
        assert errors == [], errors
        browser.find_element(By.LINK_TEXT, "Members").click()
        wait(browser, lambda d: name + "-vm" in d.page_source or
             server.id in d.page_source)
        shot(browser, "14-group-members")

        # A mapping to a network site-b does not have: the preflight
        # table says so, and nothing starts.
        action = group + "action/test_failover/"
        form_page(browser, action, "15-preflight-failing",
                  {"network_mapping": "net-a=no-such-net"})
        wait(browser, ec.presence_of_element_located(
            (By.CSS_SELECTOR, ".alert-danger, .has-error, .error")))
        shot(browser, "16-preflight-refused")
        assert "no-such-net" in browser.page_source
        for here in (a, sites["b"]):
            status, body = here.call(
                "GET", "/operations?protection_group_id=%s" % pg_id,
                peer=False)
            assert status == 200 and body["operations"] == [], body

        # The real drill: preflight shown, confirmed, operation watched.
        form_page(browser, action, "17-preflight",
                  {"network_mapping": "net-a=net-b"})
        wait(browser, ec.presence_of_element_located((By.ID, "id_confirmed")))
        shot(browser, "18-preflight-table")
        fill(browser, {"confirmed": True})
        submit(browser, "confirmed")
        wait(browser, lambda d: "/dr_operations/" in d.current_url)
        op_id = browser.current_url.rstrip("/").rsplit("/", 1)[1]
        # It runs on site-b's engine and lives there (the target site).
        op = watch_operation(browser, sites["b"], op_id,
                             "19-test-failover-done")
        assert op["status"] == "completed", op
        assert "completed" in browser.find_element(
            By.ID, "content_body").text.lower()

        form_page(browser, group + "action/test_cleanup/",
                  "20-test-cleanup", {"confirmed": True})
        wait(browser, lambda d: "/dr_operations/" in d.current_url)
        op_id = browser.current_url.rstrip("/").rsplit("/", 1)[1]
        op = watch_operation(browser, sites["b"], op_id,
                             "21-test-cleanup-done")
        assert op["status"] == "completed", op

        # The RPO state: the group's detail checks it live (and stores
        # it), the list shows what was stored, without a per-row API
        # call. (Mock storage keeps each site's array apart: site A's
        # holds no replicated snapshot, so the state is "unknown".)
        status, body = a.call("GET", "/protection-groups/%s" % pg_id,
                              peer=False)
        assert status == 200, body
        live = body["protection_group"]
        assert page(browser, group, "22-group-rpo") == []
        assert live["rpo_detail"] in browser.page_source
        assert page(browser, dashboard + GROUPS, "23-groups-rpo") == []
        cell = browser.find_element(
            By.XPATH, "//tr[.//a[normalize-space()='%s']]"
            "//span[contains(@title, '(checked ')]" % name)
        assert cell.text == {"ok": "OK", "unknown": "Unknown"}.get(
            live["rpo_status"], cell.text), cell.text
        assert live["rpo_detail"] in cell.get_attribute("title")
    finally:
        if pg_id:
            lab_client.delete_group(a, pg_id)
        lab_client.delete_servers(a.conn, [server.id], with_volumes=True)
