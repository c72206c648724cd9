"""`jericho report --html`: the page's content, and the page in a real browser (headless Chromium via
its driver): every audio element has a playable source, every image loads, no console errors."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUMMARIES = sorted(str(p) for p in ROOT.glob("outputs/mirror/mirror_cpu_seed*/score_*/summary.json"))
EXAMPLES = ROOT / "examples" / "audio" / "index.jsonl"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from jericho_cli.reporting.html import write_html
    out = tmp_path_factory.mktemp("html") / "report"
    return write_html(str(out), SUMMARIES, examples=str(EXAMPLES))


def test_page_holds_tables_plots_and_every_example(page):
    text = page.read_text()
    n = len(EXAMPLES.read_text().splitlines())
    assert text.count("<audio controls") == 3 * n and text.count("spectrogram'") == 3 * n
    assert "<table><tr><th>task/split</th>" in text and "accuracy_vs_length.png" in text  # the book, plots
    assert "<mark>" in text and "class='bad'" in text and "class='ok'" in text  # failures are marked
    rows = [__import__("json").loads(line) for line in EXAMPLES.read_text().splitlines()]
    for domain in {r.get("domain", "tone") for r in rows}:  # a row of players per input domain
        assert f"inputs in the {domain} domain" in text
    assert "http://" not in text and "https://" not in text and "<script" not in text  # opens from a file
    for src in __import__("re").findall(r"src='([^']+)'", text):
        assert (page.parent / src).is_file(), src


def test_markdown_tables_and_text_convert():
    from jericho_cli.reporting.html import markdown_to_html
    html = markdown_to_html("## Title\n\nSome **bold** `x<y`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n  more\n- two\n")
    assert "<h3>Title</h3>" in html and "<strong>bold</strong>" in html and "<code>x&lt;y</code>" in html
    assert "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>" in html
    assert "<li>one more</li><li>two</li>" in html


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("no Chromium and chromedriver installed (Debian: apt-get install chromium chromium-driver; "
                    "make test installs them when it can)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,1800",
              "--autoplay-policy=no-user-gesture-required"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


def test_page_in_a_real_browser(page, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait
    browser = _browser()
    try:
        browser.get(page.as_uri())
        WebDriverWait(browser, 30).until(lambda b: b.execute_script(
            "return document.readyState == 'complete' && [...document.images].every(i => i.complete) && "
            "[...document.querySelectorAll('audio')].every(a => a.readyState >= 1 || a.error)"))
        audio = browser.execute_script(
            "return [...document.querySelectorAll('audio')].map(a => [a.currentSrc, a.error && a.error.code, "
            "a.readyState, a.duration, a.canPlayType('audio/wav')])")
        assert audio and all(src and err is None and ready >= 1 and dur > 0 and can for src, err, ready, dur, can
                             in audio), [a for a in audio if a[1] is not None or a[2] < 1][:3]
        images = browser.execute_script("return [...document.images].map(i => [i.src, i.naturalWidth])")
        assert images and all(w > 0 for _, w in images), [i for i in images if not i[1]][:3]
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors[:3]
        assert browser.save_screenshot(str(tmp_path / "page.png"))
        assert (tmp_path / "page.png").stat().st_size > 10000
    finally:
        browser.quit()
