"""A headless Debian chromium driven by Selenium (chromium-driver), for the page tests.

The Makefile installs chromium and chromium-driver (`make browser`, run by `make test`); where they
cannot be installed, these tests skip and say why. Screenshots go to SPINEKB_SCREENSHOTS (default:
the test's temporary folder) so a person can look at them."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for the session (its console log is read by the tests)."""
    if not CHROMIUM or not DRIVER:
        pytest.skip("browser tests need Debian's chromium and chromium-driver: run `make browser` "
                    "(apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("browser tests need selenium: pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400",
                     "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots are saved."""
    folder = Path(os.environ.get("SPINEKB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def console_errors(driver) -> list[str]:
    """The browser console's errors since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def serious_accessibility_problems(driver) -> list[str]:
    """axe-core's serious and critical violations on the current page (skipped if axe is missing)."""
    try:
        from axe_selenium_python import Axe
    except ImportError:
        pytest.skip("accessibility checks need axe-selenium-python: pip install -e '.[test]'")
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in results["violations"]
            if v.get("impact") in ("serious", "critical")]


@pytest.fixture(autouse=True)
def _fresh_console(request) -> None:
    """Each test reads only its own console messages (the browser is shared by the session)."""
    if "browser" in request.fixturenames:
        request.getfixturevalue("browser").get_log("browser")
