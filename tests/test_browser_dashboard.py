"""The real app in a real browser: headless Chromium loads every page, finds no exception, saves screenshots.

Needs the Debian packages chromium and chromium-driver and the selenium package. Screenshots go to
$AGENTLEDGER_ARTIFACTS (default: a pytest tmp dir, printed) so a person can look at them.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.dashboard_app import served, wait_healthy
from tests.dashboard_ledgers import build_generated_ledger, some_session

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - depends on the machine
    webdriver = None

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER and webdriver),
    reason="no headless browser: install the Debian packages chromium and chromium-driver and `pip install selenium`",
)

PAGES = {
    "": "Overview",  # the default page lives at the root URL
    "teams": "Teams & people",
    "plugins": "Plugins & tools",
    "sessions": "Sessions",
    "session": "Session",
    "flags": "Flags",
    "reports": "Reports",
    "health": "Data health",
}
# Words that only appear when Streamlit shows an exception box or the app failed to load.
FAILURE_MARKERS = ("Traceback", "StreamlitAPIException", "Error running app", "Exception:", "ModuleNotFoundError")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    target = os.environ.get("AGENTLEDGER_ARTIFACTS")
    path = Path(target) / "browser" if target else tmp_path_factory.mktemp("browser-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {path}")
    return path


@pytest.fixture(scope="module")
def running_app(tmp_path_factory, artifacts):
    """`agentledger dashboard` on a demo ledger, on a free localhost port, headless."""
    db = build_generated_ledger(tmp_path_factory.mktemp("browser-db") / "demo.duckdb")
    with served(["dashboard", "--db", str(db), "--no-browser"], artifacts / "dashboard-server.log") as (process, url):
        if wait_healthy(url, process) != b"ok":
            raise RuntimeError(f"dashboard not healthy at {url} (exit code {process.poll()}, see dashboard-server.log)")
        yield url, db


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    # Never fetch a driver or a browser: use the Debian packages' binaries, offline.
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1600,2200"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _settled(driver) -> bool:
    """The script run finished: a title is on the page and Streamlit's 'running' indicator is gone."""
    titles = driver.find_elements(By.CSS_SELECTOR, "h1")
    running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
    return bool(titles) and not any(el.is_displayed() and "Running" in el.text for el in running)


def _load(driver, url: str) -> str:
    driver.get(url)
    WebDriverWait(driver, 60, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]).until(_settled)
    time.sleep(1.5)  # charts draw after the script run ends (vega renders on the client)
    WebDriverWait(driver, 30, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]).until(_settled)
    return driver.find_element(By.TAG_NAME, "body").text


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_loads_in_a_real_browser(page, running_app, browser, artifacts):
    url, db = running_app
    query = f"?session={some_session(db, flagged=True)}" if page == "session" else ""
    text = _load(browser, f"{url}/{page}{query}")
    browser.save_screenshot(str(artifacts / f"{page or 'overview'}.png"))
    exceptions = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    assert not exceptions, exceptions[0].text
    assert not [m for m in FAILURE_MARKERS if m in text], text[:2000]
    assert PAGES[page] in text


def test_filters_travel_in_the_url(running_app, browser, artifacts):
    url, db = running_app
    from tests.dashboard_ledgers import some_team_and_user

    team, _ = some_team_and_user(db)
    _load(browser, f"{url}/?team={team}")
    # Navigate the way a person does, through the sidebar: the filter must come along.
    browser.find_element(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a[href$="/flags"]').click()
    WebDriverWait(browser, 30, poll_frequency=0.3).until(lambda d: "/flags" in d.current_url)
    WebDriverWait(browser, 60, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]).until(_settled)
    time.sleep(1.5)
    text = browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(artifacts / "flags-filtered.png"))
    assert f"team {team}" in text
    assert f"team={team}" in browser.current_url


def _click_first_row(browser, table_index: int) -> None:
    """Tick the first body row of the n-th table on the page (the grid is a canvas: click by position)."""
    table = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')[table_index]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", table)
    time.sleep(0.5)
    size = table.size  # offsets are from the element's centre; header and body rows are ~35 px tall
    webdriver.ActionChains(browser).move_to_element_with_offset(
        table, -size["width"] / 2 + 18, -size["height"] / 2 + 35 + 17
    ).click().perform()


def _wait_for_page(browser, path: str) -> str:
    WebDriverWait(browser, 30, poll_frequency=0.3).until(lambda d: f"/{path}?" in d.current_url)
    WebDriverWait(browser, 60, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]).until(_settled)
    time.sleep(1.0)
    return browser.find_element(By.TAG_NAME, "body").text


def test_clicking_a_person_then_a_session_keeps_the_filters(running_app, browser, artifacts):
    from tests.dashboard_ledgers import some_team_and_user

    url, db = running_app
    team, _ = some_team_and_user(db)
    _load(browser, f"{url}/teams?team={team}")
    _click_first_row(browser, 1)  # the People table
    text = _wait_for_page(browser, "sessions")
    browser.save_screenshot(str(artifacts / "person-sessions.png"))
    assert "user=" in browser.current_url and f"team={team}" in browser.current_url
    assert f"team {team}" in text and "person " in text
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')

    _click_first_row(browser, 0)  # the sessions list
    text = _wait_for_page(browser, "session")
    browser.save_screenshot(str(artifacts / "person-session.png"))
    assert "session=" in browser.current_url and f"team={team}" in browser.current_url
    assert "Timeline" in text
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
