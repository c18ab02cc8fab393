"""The real app in a real browser, on the ledgers a manager meets: the 40-person x 60-day generated org,
the real shared corpus (every folder one person, no org directory) and, for the tables' widths, the
README's sample (`agentledger demo`).

Headless Chromium (Debian's chromium and chromium-driver, offline) loads every page at its own URL on
a laptop-sized window, saves a screenshot to $AGENTLEDGER_ARTIFACTS/browser/<ledger>/ (default: a
pytest tmp dir, printed) and checks what a browser can see: no exception and no chart error, no
Streamlit prompt meant for developers, no figure cut off, no axis that repeats a label, money never
SI-prefixed ($30m for three cents), flag spend counted once.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from analytics import periods, queries
from analytics.filters import Filters
from analytics.reports import REPORTS, run_report
from store.db import DB_ENV_VAR, reader
from tests.dashboard_app import APP, free_port, served, serving, wait_healthy
from dashboard.ui import usd
from tests.dashboard_ledgers import build_generated_ledger, build_ledger, build_real_corpus_ledger, some_session

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - depends on the machine
    webdriver = None

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER and webdriver),
    reason="no headless browser: install the Debian packages chromium and chromium-driver and `pip install selenium`",
)

PAGES = {
    "overview": "Overview",
    "teams": "Teams & people",
    "plugins": "Plugins & tools",
    "sessions": "Sessions",
    "session": "Session",
    "flags": "Flags",
    "reports": "Reports",
    "health": "Data health",
}
# A common laptop screen: where card labels were cut.
WINDOW = (1366, 3000)
# Words that only appear when Streamlit shows an exception box or the app failed to load.
FAILURE_MARKERS = ("Traceback", "StreamlitAPIException", "Error running app", "Exception:", "ModuleNotFoundError")
# Prompts Streamlit shows to developers; a manager must never meet them.
DEVELOPER_PROMPTS = ("Help agents write better apps", "Page not found", "Install the official Streamlit skills")
# A money tick: dollars and cents, whole dollars with thousands separators, or $12k / $1.2M.
MONEY_TICK = re.compile(r"^-?\$(\d{1,3}(,\d{3})*(\.\d\d)?|\d+(\.\d)?[kM])$")

# Every chart axis on the page: its title and its tick labels, in order (Streamlit draws Vega as SVG).
AXES_JS = """
const axes = [];
document.querySelectorAll('.vega-embed svg').forEach((svg, chart) => {
  svg.querySelectorAll('g.role-axis').forEach(axis => {
    const title = axis.querySelector('g.role-axis-title text');
    const labels = Array.from(axis.querySelectorAll('g.role-axis-label text')).map(t => t.textContent);
    axes.push({chart: chart, title: title ? title.textContent : '', labels: labels});
  });
});
return axes;
"""
# Figures and their labels that do not fit their box: the text is wider than what shows.
CUT_JS = """
const cut = [];
document.querySelectorAll('[data-testid=stMetricLabel], [data-testid=stMetricValue]').forEach(box => {
  [box, ...box.querySelectorAll('*')].forEach(el => {
    if (el.scrollWidth > el.clientWidth + 1) cut.push(box.dataset.testid + ': ' + box.textContent);
  });
});
return cut;
"""

# Each table's scroll area (Streamlit draws st.dataframe with glide-data-grid): how wide its columns
# are against how wide it shows. Wider means a sideways scroll bar and figures out of sight.
TABLE_WIDTHS_JS = """
return Array.from(document.querySelectorAll('[data-testid=stDataFrame]')).map(frame => {
  const scroller = frame.querySelector('.dvn-scroller');
  return scroller ? {columns: scroller.scrollWidth, shown: scroller.clientWidth} : null;
});
"""


@dataclass(frozen=True)
class Served:
    """A dashboard running on a ledger."""

    name: str
    db: Path
    url: str


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    target = os.environ.get("AGENTLEDGER_ARTIFACTS")
    path = Path(target) / "browser" if target else tmp_path_factory.mktemp("browser-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {path}")
    return path


def _serve(name: str, db: Path, artifacts: Path):
    (artifacts / name).mkdir(exist_ok=True)
    with served(["dashboard", "--db", str(db), "--no-browser"], artifacts / name / "server.log") as (process, url):
        if wait_healthy(url, process) != b"ok":
            raise RuntimeError(f"dashboard not healthy at {url} (exit code {process.poll()}, see {name}/server.log)")
        yield Served(name, db, url)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, artifacts):
    """The organisation the manager-dashboard issue was found on: 40 people, 60 days, seed 7."""
    db = build_generated_ledger(tmp_path_factory.mktemp("org-40x60") / "org.duckdb", users=40, days=60, seed=7)
    yield from _serve("generated-40x60", db, artifacts)


@pytest.fixture(scope="module")
def real(tmp_path_factory, artifacts):
    """The real shared corpus: every real-projects folder and every pair, one person per folder."""
    db = build_real_corpus_ledger(tmp_path_factory.mktemp("real-corpus") / "real.duckdb")
    yield from _serve("real-corpus", db, artifacts)


@pytest.fixture(scope="module")
def sample(tmp_path_factory, artifacts):
    """The README's sample: what `agentledger demo` loads (the shipped transcripts, org and repositories)."""
    db = build_ledger(tmp_path_factory.mktemp("sample") / "sample.duckdb")
    yield from _serve("sample", db, artifacts)


def _chromium(profile: Path):
    # Never fetch a driver or a browser: use the Debian packages' binaries, offline.
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = _chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def _settled(driver) -> bool:
    """The script run finished: a title is on the page and Streamlit's 'running' indicator is gone."""
    titles = driver.find_elements(By.CSS_SELECTOR, "h1")
    running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
    return bool(titles) and not any(el.is_displayed() and "Running" in el.text for el in running)


def _wait(driver) -> str:
    WebDriverWait(driver, 90, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]).until(_settled)
    time.sleep(1.5)  # charts draw after the script run ends (vega renders on the client)
    WebDriverWait(driver, 30, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]).until(_settled)
    return driver.find_element(By.TAG_NAME, "body").text


def _load(driver, url: str) -> str:
    driver.get_log("browser")  # forget what earlier pages logged
    driver.get(url)
    return _wait(driver)


def _console_errors(driver) -> list[str]:
    """Errors the page logged (a chart that failed to draw logs one), less the app-root probes Streamlit
    makes under a page's path and the icon font it asks the internet for (this machine is offline)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and "/_stcore/" not in e["message"] and "fonts.gstatic.com" not in e["message"]]


def _money_axis(title: str) -> bool:
    return "USD" in title


def problems(driver, text: str) -> list[str]:
    """Everything wrong a browser can see on the page now."""
    found = [f"exception box: {e.text[:300]}" for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')]
    found += [f"failure marker {m!r}" for m in FAILURE_MARKERS if m in text]
    found += [f"developer prompt {p!r}" for p in DEVELOPER_PROMPTS if p in text]
    found += ["a toast" for _ in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stToast"]')]
    found += ["the Deploy button" for _ in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stAppDeployButton"]')]
    found += [f"cut off: {c}" for c in driver.execute_script(CUT_JS)]
    for axis in driver.execute_script(AXES_JS):
        labels = [label for label in axis["labels"] if label]
        where = f"chart {axis['chart']} axis {axis['title']!r}"
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        found += [f"{where} repeats {repeated}"] if repeated else []
        found += [f"{where} cuts {label!r}" for label in labels if label.endswith("…")]
        if _money_axis(axis["title"]):
            found += [f"{where} money tick {label!r}" for label in labels if not MONEY_TICK.match(label)]
    found += [f"console: {message[:300]}" for message in _console_errors(driver)]
    return found


def _check_page(served_: Served, driver, artifacts: Path, page: str, query: str = "") -> str:
    text = _load(driver, f"{served_.url}/{page}{query}")
    driver.save_screenshot(str(artifacts / served_.name / f"{page}.png"))
    assert driver.current_url.split("?")[0].endswith(f"/{page}"), driver.current_url
    assert not problems(driver, text), problems(driver, text)
    assert PAGES[page] in text
    return text


def _session_query(db: Path) -> str:
    return f"?session={some_session(db, flagged=True)}"


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_of_the_generated_org(page, generated, browser, artifacts):
    _check_page(generated, browser, artifacts, page, _session_query(generated.db) if page == "session" else "")


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_of_the_real_corpus(page, real, browser, artifacts):
    # The default period (30 days with data) holds one session of the real corpus; every page is
    # checked over all of it as well, where most of the real shapes are.
    query = _session_query(real.db) if page == "session" else ""
    _check_page(real, browser, artifacts, page, query)
    first, last = _span(real.db)
    text = _load(browser, f"{real.url}/{page}{query}{'&' if query else '?'}period={first}&period={last}")
    browser.save_screenshot(str(artifacts / real.name / f"{page}-all-data.png"))
    assert not problems(browser, text), problems(browser, text)


def _span(db: Path):
    with reader(db) as con:
        choices = queries.filter_choices(con)
    return choices.first_day, choices.last_day


def _default_filters(db: Path) -> Filters:
    first, last = _span(db)
    start, end = periods.default_period(first, last)
    return Filters(date_from=start, date_to=end)


def _metric(driver, label: str) -> str:
    """The value of the st.metric card whose label is `label`."""
    for card in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
        if card.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.strip() == label:
            return card.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.strip()
    raise AssertionError(f"no card labelled {label!r}")


def test_the_root_and_every_typed_url_open_their_page(generated, browser):
    # Overview is at the root and at /overview (which answered "Page not found"), with a link's filters.
    first, _ = _span(generated.db)
    for path in ("", "overview"):
        text = _load(browser, f"{generated.url}/{path}?period={first}&period={first}&team=Payments")
        assert browser.current_url.split("?")[0] == f"{generated.url}/{path}", browser.current_url
        assert f"period={first}" in browser.current_url and "team=Payments" in browser.current_url
        assert "Overview" in text and f"{first:%d %b %Y} – {first:%d %b %Y} · team Payments" in text
        assert not problems(browser, text), problems(browser, text)


def test_flag_spend_is_counted_once_and_the_overlap_is_explained(generated, browser, artifacts):
    filters = _default_filters(generated.db)
    text = _load(browser, f"{generated.url}/flags?period={filters.date_from}&period={filters.date_to}")
    browser.save_screenshot(str(artifacts / generated.name / "flags-counted-once.png"))
    once, added = _metric(browser, "Flagged spend (USD)"), _metric(browser, "Sum over flags (USD)")
    with reader(generated.db) as con:
        summary = queries.summary(con, filters).row(0, named=True)
        flags = run_report(con, "flags", filters)
        top = queries.flagged_sessions(con, filters).row(0, named=True)
    # The page shows analytics' figures, and on this org flags overlap: counted once is less.
    assert once == usd(summary["flagged_cost_usd"])
    assert added == usd(summary["flags_cost_usd"]) == usd(flags["cost_usd"].sum())
    assert summary["flagged_cost_usd"] < summary["flags_cost_usd"]
    assert "How flags overlap." in text
    # The costliest flagged session (the idle_burn + usage_spike + zero_output, $11.66 each):
    # its card counts the spend once, and every flag's evidence on it reads in full.
    assert f"Flagged spend {usd(top['flagged_cost_usd'])} of the session's {usd(top['cost_usd'])}" in text
    assert top["flagged_cost_usd"] <= top["cost_usd"] < top["flags_cost_usd"]
    for evidence in flags.filter(flags["session_id"] == top["session_id"])["evidence"]:
        assert evidence in text


def test_headline_ratio_is_cost_weighted(generated, browser):
    filters = _default_filters(generated.db)
    _load(browser, f"{generated.url}/overview?period={filters.date_from}&period={filters.date_to}")
    with reader(generated.db) as con:
        summary = queries.summary(con, filters).row(0, named=True)
    assert _metric(browser, "Useful share of spend") == f"{summary['useful_cost_ratio']:.0%}"
    assert summary["useful_cost_ratio"] < summary["useful_output_ratio"]  # the token share flattered


def test_sessions_page_says_which_sessions_it_shows_and_pages_through_them(generated, browser, artifacts):
    filters = _default_filters(generated.db)
    with reader(generated.db) as con:
        total = run_report(con, "sessions", filters).height
    assert total > 1000
    text = _load(browser, f"{generated.url}/sessions?period={filters.date_from}&period={filters.date_to}")
    assert f"Sessions 1–500 of {total:,}" in text
    browser.find_element(By.CSS_SELECTOR, '[data-testid="stNumberInputStepUp"]').click()
    WebDriverWait(browser, 30, poll_frequency=0.3).until(lambda d: f"Sessions 501–1,000 of {total:,}" in _wait(d))
    browser.save_screenshot(str(artifacts / generated.name / "sessions-page-2.png"))


def test_a_short_session_reads_its_time_axis_in_seconds(real, browser, artifacts):
    with reader(real.db) as con:
        session = con.execute(
            "SELECT session_id FROM request_facts GROUP BY 1 HAVING count(*) >= 3"
            " AND date_diff('second', min(ts), max(ts)) BETWEEN 10 AND 180 ORDER BY 1 LIMIT 1"
        ).fetchone()[0]
    text = _load(browser, f"{real.url}/session?session={session}")
    browser.save_screenshot(str(artifacts / real.name / "session-short.png"))
    assert not problems(browser, text), problems(browser, text)
    time_axes = [a for a in browser.execute_script(AXES_JS) if a["title"] == "Time (UTC)"]
    assert len(time_axes) == 2
    for axis in time_axes:
        assert len(axis["labels"]) >= 2 and all(re.fullmatch(r"\d\d:\d\d:\d\d", label) for label in axis["labels"])


def test_the_period_says_what_it_holds_and_all_data_is_one_click(real, browser, artifacts):
    with reader(real.db) as con:
        everything = queries.summary(con, Filters()).row(0, named=True)
        recent = queries.summary(con, _default_filters(real.db)).row(0, named=True)
    assert recent["sessions"] < everything["sessions"]  # the trap: the default period holds almost nothing
    text = _load(browser, f"{real.url}/overview")
    assert f"Holds {recent['sessions']:,} of {everything['sessions']:,} sessions" in text
    pill = next(b for b in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"] button')
                if b.text.strip() == "All data")
    pill.click()
    first, last = _span(real.db)
    WebDriverWait(browser, 30, poll_frequency=0.3).until(lambda d: f"period={first}" in d.current_url)
    text = _wait(browser)
    browser.save_screenshot(str(artifacts / real.name / "overview-after-all-data.png"))
    assert f"period={last}" in browser.current_url
    assert f"Holds all {everything['sessions']:,} sessions" in text
    assert _metric(browser, "Spend (USD)") == f"${everything['cost_usd']:,.2f}"
    assert not problems(browser, text), problems(browser, text)


UNKNOWN_SUBAGENT = re.compile(r"^subagent:\(?unknown")


def test_an_unresolved_subagent_type_is_not_a_top_component_of_the_real_corpus(real, browser):
    first, last = _span(real.db)
    text = _load(browser, f"{real.url}/plugins?period={first}&period={last}")
    assert not problems(browser, text), problems(browser, text)
    with reader(real.db) as con:
        components = run_report(con, "plugins", Filters(date_from=first, date_to=last))
    ranked = components.filter(components["level"] == "component").sort("cost_usd", descending=True, nulls_last=True)
    top = ranked["component"].head(5).to_list()
    assert not [c for c in top if UNKNOWN_SUBAGENT.match(c)], top
    # The integrations chart lists its components costliest first: the first is never "unknown".
    integrations = next(a for a in browser.execute_script(AXES_JS) if a["chart"] == 0 and not a["title"] and a["labels"])
    assert not UNKNOWN_SUBAGENT.match(integrations["labels"][0]), integrations


def test_without_an_org_directory_people_are_listed_and_teams_explained(real, browser):
    first, last = _span(real.db)
    text = _load(browser, f"{real.url}/teams?period={first}&period={last}")
    assert "No org directory is loaded" in text and "People" in text
    text = _load(browser, f"{real.url}/health?period={first}&period={last}")
    assert "whose data stopped arriving" in text and "No org directory is loaded, so nobody is expected" in text


def test_no_developer_prompt_even_when_streamlit_runs_the_app_by_hand(tmp_path, real, artifacts, browser):
    """A laptop with a display and Claude Code installed, starting the app with plain `streamlit run`:
    Streamlit's own default would show the "Help agents write better apps" toast on every page. The
    app's .streamlit/config.toml turns it off; the control run (headless forced off on the command
    line) shows the toast, so the check can see it."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)  # what makes Streamlit think an agent could use its skills
    (home / ".streamlit").mkdir()
    (home / ".streamlit" / "credentials.toml").write_text('[general]\nemail = ""\n')
    db = real.db  # read-only: the module's other server reads it too
    # DISPLAY set: Streamlit would not be headless by default; BROWSER=true: nothing is opened if it tried.
    env = {**os.environ, "HOME": str(home), DB_ENV_VAR: str(db), "DISPLAY": ":99", "BROWSER": "true"}
    (artifacts / "by-hand").mkdir(exist_ok=True)
    for control in (False, True):
        port = free_port()
        command = [sys.executable, "-m", "streamlit", "run", APP, "--server.port", str(port)]
        command += ["--server.headless", "false"] if control else []
        with serving(command, port, artifacts / "by-hand" / f"server-{'control' if control else 'plain'}.log",
                     env=env, cwd=tmp_path) as (process, url):
            assert wait_healthy(url, process) == b"ok"
            text = _load(browser, f"{url}/overview")
            time.sleep(2)  # the toast appears shortly after the page
            text = browser.find_element(By.TAG_NAME, "body").text
            browser.save_screenshot(str(artifacts / "by-hand" / f"overview-{'control' if control else 'plain'}.png"))
            toast = "Help agents write better apps" in text
            assert toast == control, ("the control run must show the toast" if control else problems(browser, text))
            if not control:
                assert not problems(browser, text), problems(browser, text)


def _scrolling_tables(driver, tables: int) -> list[str]:
    """The drawn tables whose columns are wider than they show (a sideways scroll bar); also a complaint when
    fewer than `tables` tables are drawn, so a page that stopped drawing one cannot pass unseen."""
    widths = driver.execute_script(TABLE_WIDTHS_JS)
    found = [] if all(widths[:tables]) and len(widths) >= tables else [f"expected {tables} drawn tables: {widths}"]
    return found + [f"table {i}: {w['columns']} px of columns in {w['shown']} px"
                    for i, w in enumerate(widths) if w and w["columns"] > w["shown"] + 1]


# How many tables each page draws at least on both ledgers; a table folded in a closed expander (every flag,
# format drift) is not drawn. Data health: freshness, runs, files, people, arrivals, coverage (and the audit log).
LAPTOP_TABLES = [("teams", 3), ("flags", 1), ("plugins", 1), ("sessions", 1), ("health", 6)]


@pytest.mark.parametrize("page, tables", LAPTOP_TABLES)
def test_the_tables_fit_a_laptop_screen(page, tables, generated, browser, artifacts):
    """At 1366 px every table a manager reads shows every column it draws without a sideways scroll bar: Teams
    & people (Teams, what each team's spend bought in git, People), Flags (By flag type), Plugins & tools (All
    components), Sessions (the list) and Data health (every panel's table)."""
    _load(browser, f"{generated.url}/{page}")
    browser.save_screenshot(str(artifacts / generated.name / f"{page}-1366.png"))
    assert not _scrolling_tables(browser, tables)


@pytest.mark.parametrize("page, tables", [(p, t) for p, t in LAPTOP_TABLES if p in ("sessions", "health")])
def test_the_tables_fit_a_laptop_screen_on_the_readme_sample(page, tables, sample, browser, artifacts):
    _load(browser, f"{sample.url}/{page}")
    browser.save_screenshot(str(artifacts / sample.name / f"{page}-1366.png"))
    assert not _scrolling_tables(browser, tables)


def _pick_report(browser, kind: str, text: str) -> str:
    """Pick the report `kind` on the Reports page as a person does (its button); the page's text then."""
    if f"Download {kind}.csv" in text:
        return text
    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stMain"] [data-testid="stButtonGroup"] button')
                  if b.text.strip() == kind)
    browser.execute_script("arguments[0].click();", button)
    WebDriverWait(browser, 60, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: f"Download {kind}.csv" in d.find_element(By.TAG_NAME, "body").text)
    return _wait(browser)


def _report_tables(served_: Served, browser, artifacts: Path, query: str = "") -> dict[str, list[str]]:
    """Every report of the Reports page, picked as a person does (its button), and what scrolls in each."""
    text = _load(browser, f"{served_.url}/reports{query}")
    found = {}
    for kind in REPORTS:
        text = _pick_report(browser, kind, text)
        browser.save_screenshot(str(artifacts / served_.name / f"reports-{kind}-1366.png"))
        found[kind] = problems(browser, text) + _scrolling_tables(browser, 1)
    return found


@pytest.mark.parametrize("ledger", ["generated", "sample", "real"])
def test_every_report_fits_a_laptop_screen(ledger, request, browser, artifacts):
    """Each report's table shows what it is about, money first, within 1366 px; its other columns are hidden
    ones (the toolbar's Show/hide columns brings them back; the CSV holds them all). The real corpus over all
    its data: long folder names as people, long paths as projects."""
    served_ = request.getfixturevalue(ledger)
    first, last = _span(served_.db)
    found = _report_tables(served_, browser, artifacts, f"?period={first}&period={last}" if ledger == "real" else "")
    assert list(found) == list(REPORTS) and not {kind: what for kind, what in found.items() if what}, found


def test_folded_columns_are_a_click_away(generated, browser, artifacts):
    """The Sessions list folds its token and plumbing columns: the table's toolbar lists them to show again."""
    _load(browser, f"{generated.url}/sessions")
    table = browser.find_element(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", table)
    webdriver.ActionChains(browser).move_to_element(table).perform()
    button = WebDriverWait(browser, 10, poll_frequency=0.3).until(lambda d: next(
        (b for b in d.find_elements(By.CSS_SELECTOR, '[data-testid="stElementToolbar"] button')
         if b.get_attribute("aria-label") == "Show/hide columns"), None))
    button.click()
    time.sleep(1)
    browser.save_screenshot(str(artifacts / generated.name / "sessions-show-hide-columns.png"))
    menu = browser.find_element(By.TAG_NAME, "body").text
    assert {"Project", "Session", "Tokens", "Flagged (USD)"} <= set(menu.splitlines()), menu[-600:]
    assert "More columns: the table's Show/hide columns button" in menu


def test_a_flags_evidence_reads_in_full_on_the_reports_page(generated, browser, artifacts):
    """The flags report's evidence has 430 px of a laptop screen (~60 characters a line) and runs to ~250: it
    wraps in taller rows, and the row a person selects shows its evidence whole below the table."""
    with reader(generated.db) as con:
        first = run_report(con, "flags", _default_filters(generated.db)).row(0, named=True)
    _pick_report(browser, "flags", _load(browser, f"{generated.url}/reports"))
    browser.save_screenshot(str(artifacts / generated.name / "reports-flags-wrapped.png"))
    _click_first_row(browser, 0)
    WebDriverWait(browser, 30, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: "Open the session" in d.find_element(By.TAG_NAME, "body").text)
    text = _wait(browser)
    browser.save_screenshot(str(artifacts / generated.name / "reports-flags-selected.png"))
    assert not problems(browser, text), problems(browser, text)
    assert len(first["evidence"]) > 60 and first["evidence"] in text


def test_filters_travel_in_the_url(generated, browser, artifacts):
    team = "Payments"
    _load(browser, f"{generated.url}/overview?team={team}")
    # Navigate the way a person does, through the sidebar: the filter must come along.
    browser.find_element(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a[href$="/flags"]').click()
    WebDriverWait(browser, 30, poll_frequency=0.3).until(lambda d: "/flags" in d.current_url)
    text = _wait(browser)
    browser.save_screenshot(str(artifacts / generated.name / "flags-filtered.png"))
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
    return _wait(browser)


def test_clicking_a_person_then_a_session_keeps_the_filters(generated, browser, artifacts):
    team = "Payments"
    _load(browser, f"{generated.url}/teams?team={team}")
    _click_first_row(browser, 2)  # the People table, below Teams and what each team's spend bought
    text = _wait_for_page(browser, "sessions")
    browser.save_screenshot(str(artifacts / generated.name / "person-sessions.png"))
    assert "user=" in browser.current_url and f"team={team}" in browser.current_url
    assert f"team {team}" in text and "person " in text
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')

    _click_first_row(browser, 0)  # the sessions list
    text = _wait_for_page(browser, "session")
    browser.save_screenshot(str(artifacts / generated.name / "person-session.png"))
    assert "session=" in browser.current_url and f"team={team}" in browser.current_url
    assert "Timeline" in text
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')


# -- What the spend bought in git: the generated org's repositories are scanned, the real corpus's not --

def test_the_overview_headline_is_what_the_spend_bought_in_git(generated, browser, artifacts):
    filters = _default_filters(generated.db)
    text = _load(browser, f"{generated.url}/overview?period={filters.date_from}&period={filters.date_to}")
    browser.save_screenshot(str(artifacts / generated.name / "overview-git-headline.png"))
    with reader(generated.db) as con:
        bought = queries.git_headline(con, filters).row(0, named=True)
    assert bought["repositories"] > 0 and 0 < bought["surviving_cost_share"] <= bought["landed_cost_share"] < 1
    assert _metric(browser, "Surviving share of spend") == f"{bought['surviving_cost_share']:.0%}"
    assert _metric(browser, "Landed share of spend") == f"{bought['landed_cost_share']:.0%}"
    assert _metric(browser, "Spend that survives (USD)") == usd(bought["surviving_cost_usd"])
    assert "agentledger git scan" not in text
    assert not problems(browser, text), problems(browser, text)


def test_teams_draw_one_survival_line_per_team_by_age(generated, browser, artifacts):
    filters = _default_filters(generated.db)
    text = _load(browser, f"{generated.url}/teams?period={filters.date_from}&period={filters.date_to}")
    browser.execute_script("document.querySelectorAll('.vega-embed').forEach(c => c.scrollIntoView());")
    time.sleep(1)
    browser.save_screenshot(str(artifacts / generated.name / "teams-survival.png"))
    assert not problems(browser, text), problems(browser, text)
    with reader(generated.db) as con:
        curve = queries.survival_curve(con, filters)
    axes = {a["title"]: a["labels"] for a in browser.execute_script(AXES_JS)}
    assert axes["Days since the commit landed"] == [str(age) for age in sorted(set(curve["age_days"]))]
    shares = axes["Share of agent lines alive"]
    assert "100.0%" in shares and all(re.fullmatch(r"\d{1,3}\.\d%", label) for label in shares), shares
    legend = browser.execute_script(
        "return Array.from(document.querySelectorAll('.vega-embed g.role-legend-label text')).map(t => t.textContent);")
    assert sorted(legend) == sorted(set(curve["team"])) and len(legend) > 1


def test_a_sessions_commits_and_their_surviving_lines_are_on_its_page(generated, browser, artifacts):
    with reader(generated.db) as con:
        session = con.execute("SELECT session_id FROM git_links GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
        commits = queries.session_commits(con, session_id=session)
    text = _load(browser, f"{generated.url}/session?session={session}")
    browser.save_screenshot(str(artifacts / generated.name / "session-commits.png"))
    assert not problems(browser, text), problems(browser, text)
    assert "What came out of it in git" in text and "Turn by turn" in text and commits.height > 0
    assert "agentledger git scan" not in text and "No commit is linked" not in text


@pytest.mark.parametrize("page", ["overview", "teams", "plugins", "session", "health"])
def test_the_real_corpus_without_scanned_repositories_says_how_to_scan(page, real, browser, artifacts):
    first, last = _span(real.db)
    query = f"?period={first}&period={last}" + (f"&session={some_session(real.db, flagged=True)}" if page == "session" else "")
    text = _load(browser, f"{real.url}/{page}{query}")
    browser.save_screenshot(str(artifacts / real.name / f"{page}-not-scanned.png"))
    assert not problems(browser, text), problems(browser, text)
    assert "agentledger git scan PATH" in text
    assert not {"Surviving share of spend", "Landed share of spend", "Repositories"} & set(text.splitlines())
