"""The report and the book in a real browser: they open offline with no console error, their
charts and links render and work, and they pass axe-core's serious accessibility rules."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from spinekb.bridge.batch import evaluate_sources
from spinekb.explain.book import write_book
from spinekb.explain.report import write_report
from spinekb.kb.checks import Issue

from conftest import console_errors, serious_accessibility_problems

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    lines = [json.dumps(o.to_json()) for o in evaluate_sources([str(ROOT / "examples" / "cases")])]
    write_report(lines, folder / "report.html", source="examples")
    return folder / "report.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    issue = Issue("threshold_differs", "info", ("SP-5.1",), (), "60 days here",
                  quotes=(("SP-5.1", "A face-to-face evaluation within the last 60 days."),))
    write_book(folder, issues=[issue])
    return folder


def test_report_charts_filter_and_links(browser, report_page, screenshots):
    """Charts are drawn (SVG with bars), the denial filter narrows the table, a criterion link lands on its words."""
    from selenium.webdriver.common.by import By

    browser.get(report_page.as_uri())
    assert console_errors(browser) == []
    charts = browser.find_elements(By.CSS_SELECTOR, "figure svg")
    assert len(charts) >= 3 and all(c.size["width"] > 200 and c.size["height"] > 30 for c in charts)
    assert browser.find_elements(By.CSS_SELECTOR, "figure svg path, figure svg rect")
    browser.save_screenshot(str(screenshots / "report-top.png"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#denial-table tbody tr")
    field = browser.find_element(By.ID, "denial-filter")
    field.send_keys("denied-no-trial")
    browser.implicitly_wait(1)
    import time
    time.sleep(0.5)
    shown = [r for r in rows if r.is_displayed()]
    assert 0 < len(shown) < len(rows)
    link = shown[0].find_element(By.CSS_SELECTOR, "a[href^='#c-']")
    target = link.get_attribute("href").split("#", 1)[1]
    _click(browser, link)
    assert browser.execute_script("return window.location.hash") == "#" + target
    assert browser.find_element(By.ID, target).is_displayed()
    browser.save_screenshot(str(screenshots / "report-criterion.png"))
    assert console_errors(browser) == []
    assert serious_accessibility_problems(browser) == []


def test_book_pages_links_and_search(browser, site, screenshots):
    """index.html opens; a section page shows highlighted words linked to criterion cards; search finds words."""
    from selenium.webdriver.common.by import By

    browser.get((site / "index.html").as_uri())
    assert console_errors(browser) == []
    assert serious_accessibility_problems(browser) == []
    _click(browser, browser.find_element(By.LINK_TEXT, "SP-5.1"))
    assert browser.title.startswith("SP-5.1")
    marks = browser.find_elements(By.CSS_SELECTOR, "a.q mark")
    assert len(marks) > 5
    browser.save_screenshot(str(screenshots / "book-sp5_1.png"))
    quote = browser.find_element(By.CSS_SELECTOR, "a.q")
    card = quote.get_attribute("href").split("#", 1)[1]
    _click(browser, quote)
    assert browser.find_element(By.ID, card).text.count("kb/") >= 1
    assert serious_accessibility_problems(browser) == []
    browser.get((site / "search.html").as_uri() + "?q=face-to-face+60")
    results = browser.find_elements(By.CSS_SELECTOR, "#results li")
    assert results and "SP-" in results[0].text
    browser.save_screenshot(str(screenshots / "book-search.png"))
    assert console_errors(browser) == []


def _click(driver, element) -> None:
    """Click as a reader does, once the element is scrolled clear of the sticky contents bar."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()
