"""Browser-test fixtures: one JupyterLab + Chromium per session, screenshots of failures.

    >>> def test_x(lab: JupyterLab) -> None:       # lab.root is a fresh temporary directory
    ...     write_notebook(lab.root / "x.ipynb", ["1 + 1"])
    ...     page = lab.open("x.ipynb"); lab.run_all(page)

Tests skip, naming the install command, where Chromium or playwright is missing. A failing
test leaves a screenshot of every open page in test-artifacts/<test>-failed-<n>.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.harness import JupyterLab, browser_missing, jupyter_lab


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """The session's JupyterLab and browser (prefer `lab`, which also screenshots failures)."""
    reason = browser_missing()
    if reason is not None:
        pytest.skip(reason)
    with jupyter_lab(tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture
def lab(lab_server: JupyterLab, request: pytest.FixtureRequest) -> Iterator[JupyterLab]:
    """The session's JupyterLab; on failure every open page is screenshot, and the pages the
    test opened are closed after it (pages of wider-scoped fixtures stay open)."""
    first = len(lab_server.pages)
    yield lab_server
    if request.node.stash.get(_FAILED, False):
        for n, page in enumerate(lab_server.pages):
            lab_server.screenshot(page, f"{request.node.name}-failed-{n}")
    for page in lab_server.pages[first:]:
        page.context.close()
    del lab_server.pages[first:]
