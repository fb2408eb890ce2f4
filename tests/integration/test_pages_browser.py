"""The pages as a person sees them, in a real headless Chromium (Debian's ``chromium``).

Playwright drives the system browser (``executable_path``): nothing is downloaded. The index is
served from 127.0.0.1 like GitHub Pages would, without a URL in pkgindex.toml, so the install
commands must carry the URL the page derives from its own address.

``PKGINDEX_SCREENSHOTS=DIR`` saves a screenshot of each page there (docs/images holds them).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, make_wheel, pkgindex, static_server):
    root = tmp_path_factory.mktemp("browser-index")
    (root / "pkgindex.toml").write_text('title = "GT4Py package index"\n')
    for version in ("2025.12.1", "43!2026.4.27", "43!2026.4.28"):
        make_wheel(root / "dace", "dace", version, requires_python=">=3.10")
    make_wheel(root / "dace", "dace", "43!2026.4.28", tag="cp311-cp311-manylinux_2_28_x86_64")
    for name in ("ghex", "gt4py-helpers", "numpy-fork", "atlas4py"):
        make_wheel(root / name, name, "0.5")
    assert pkgindex("generate", root).returncode == 0
    yank = ("yank", "dace", "43!2026.4.27", "--reason", "built from the wrong commit")
    assert pkgindex(*yank, "--root", root).returncode == 0
    assert pkgindex("status", "atlas4py", "deprecated", "--root", root).returncode == 0
    return static_server(root)


def screenshot(page, name: str) -> None:
    directory = os.environ.get("PKGINDEX_SCREENSHOTS")
    if directory:
        page.screenshot(path=str(Path(directory) / name), full_page=True)


def test_root_page_filter_narrows_the_list(browser, site):
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    try:
        page.goto(site.url)
        rows = page.locator("tbody tr")
        assert rows.count() == 5
        assert page.locator("tr[data-name=dace] td").all_inner_texts()[:3] == [
            "dace",
            "43!2026.4.28",
            "4",
        ]
        assert page.locator("code[data-index-url]").inner_text() == site.url
        screenshot(page, "root-page.png")
        page.fill("#filter", "G")
        assert [row.inner_text().split("\t")[0] for row in rows.all() if row.is_visible()] == [
            "ghex",
            "gt4py-helpers",
        ]
        page.fill("#filter", "numpy_fork")  # spelled another way: normalized like a name
        assert page.locator("#shown").inner_text() == "1"
        assert page.locator("tr[data-name=numpy-fork]").is_visible()
        page.fill("#filter", "")
        assert page.locator("#shown").inner_text() == "5"
    finally:
        page.close()


def test_project_page_newest_first_real_url_and_yanked_files(browser, site):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(site.url + "dace/")
        links = page.locator("td.file a").all_inner_texts()
        assert links[:2] == [
            "dace-43!2026.4.28-cp311-cp311-manylinux_2_28_x86_64.whl",
            "dace-43!2026.4.28-py3-none-any.whl",
        ]
        assert links[-1] == "dace-2025.12.1-py3-none-any.whl"
        pip = page.locator("pre").first.inner_text()
        assert pip == f"pip install --index-url {site.url} dace"
        assert f'url = "{site.url}"' in page.locator("pre").nth(1).inner_text()
        assert "extra-index-url" not in "".join(page.locator("pre").all_inner_texts())
        yanked = page.locator("tr.yanked")
        assert yanked.count() == 1
        assert yanked.locator("td.file").inner_text() == (
            "dace-43!2026.4.27-py3-none-any.whl yanked: built from the wrong commit"
        )
        style = yanked.locator("a").evaluate("a => getComputedStyle(a).textDecorationLine")
        assert style == "line-through"
        screenshot(page, "project-page.png")
        page.click("text=All projects")  # a GET form (no extra <a>): the URL gains a bare "?"
        page.wait_for_url(re.compile(re.escape(site.url) + r"\??$"))
        assert page.title() == "GT4Py package index"
    finally:
        page.close()


def test_pages_read_without_javascript(browser, site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.url + "dace/")
        assert not page.locator("[data-needs-url]").is_visible()
        assert page.locator("[data-no-url]").is_visible()
        assert page.locator("td.file a").count() == 4
        page.goto(site.url)
        assert not page.locator("#filter").is_visible()
        assert page.locator("tbody tr").count() == 5
    finally:
        context.close()
