"""The web explorer (``/`` of spinekb serve) in a real browser: load an example, decide it, see the
answer and the graph, zoom the graph, edit a field and decide again."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from conftest import console_errors, serious_accessibility_problems


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The service (its explorer at /), on a free loopback port, in a thread."""
    import uvicorn

    from spinekb.cli.service import create_app

    app = create_app()  # the explorer is part of the service
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(200):
        if running.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def test_load_an_example_decide_zoom_and_decide_again(browser, server, screenshots):
    """Pick an example, Decide: the decision, the answer and the graph show; the graph zooms; an
    edited field is decided again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(server + "/")
    assert "spinekb explorer" in browser.title
    Select(browser.find_element(By.ID, "example")).select_by_value("denied-no-trial")
    case_field = (By.ID, "case")
    WebDriverWait(browser, 10).until(
        lambda d: '"denied-no-trial"' in d.find_element(*case_field).get_attribute("value"))
    browser.find_element(By.ID, "decide").click()
    WebDriverWait(browser, 60).until(ready.presence_of_element_located((By.CSS_SELECTOR, "article.study")))
    study = browser.find_element(By.CSS_SELECTOR, "article.study")
    assert "DENIED" in study.find_element(By.CSS_SELECTOR, ".decision").text.upper()
    assert "sp5_1" in study.find_element(By.CSS_SELECTOR, "pre.answer").text
    graph = study.find_element(By.CSS_SELECTOR, ".graph svg")
    before = browser.execute_script("return arguments[0].viewBox.baseVal.width", graph)
    browser.execute_script("arguments[0].parentNode.dispatchEvent(new WheelEvent('wheel', "
                           "{deltaY: -200, clientX: 300, clientY: 300, bubbles: true, cancelable: true}))", graph)
    assert browser.execute_script("return arguments[0].viewBox.baseVal.width", graph) < before
    browser.save_screenshot(str(screenshots / "explorer-denied.png"))
    assert console_errors(browser) == []
    assert serious_accessibility_problems(browser) == []
    # change a field (the study requested: CT instead of MRI) and decide again
    text = browser.find_element(By.ID, "case").get_attribute("value")
    assert '"72148"' in text
    browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, "case"),
                           text.replace('"72148"', '"72131"'))
    browser.find_element(By.ID, "decide").click()
    WebDriverWait(browser, 60).until(ready.presence_of_element_located((By.ID, "study-72131")))
    assert "72131" in browser.find_element(By.ID, "study-72131-h").text
    assert '"72131"' in browser.find_element(By.ID, "case").get_attribute("value"), "the edited case is kept"


def test_a_bad_case_says_why(browser, server):
    """A pasted case that is not valid JSON: one line naming the problem, the text kept for editing."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    browser.execute_script("document.getElementById('case').value = '{broken'")
    browser.find_element(By.ID, "decide").click()
    WebDriverWait(browser, 30).until(ready.presence_of_element_located((By.ID, "error")))
    assert browser.find_element(By.ID, "error").text.startswith("error: invalid JSON")
    assert browser.find_element(By.ID, "case").get_attribute("value") == "{broken"
