"""JupyterLab in headless Chromium, for tests that need a real browser.

    >>> with jupyter_lab(root) as lab:                  # server on 127.0.0.1, token, temp dirs
    ...     write_notebook(root / "nb.ipynb", ["import gameon_nb", "..."])
    ...     page = lab.open("nb.ipynb")                 # a Playwright Page, kernel ready
    ...     lab.run_all(page)                           # raises CellError on any error output
    ...     lab.execute(page, "print(viewer.index)")    # read the kernel's state
    ...     lab.screenshot(page, "my-test")             # test-artifacts/my-test.png

JupyterLab runs from this interpreter with its own config, data, runtime, settings and workspace
directories under the root's parent, so nothing of the user's Jupyter set-up leaks in. The
browser is Debian's /usr/bin/chromium driven by the playwright package (never `playwright
install`). Pages get `lab.js` injected; it drives the app through `window.jupyterapp`.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Playwright

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DECODED",
    "POLL_MS",
    "CellError",
    "JupyterLab",
    "browser_missing",
    "first_frame",
    "jupyter_lab",
    "pixels",
    "write_notebook",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DECODED = "img => img.complete && img.naturalWidth > 0"
POLL_MS = 100  # poll on a timer: animation frames can stall in a busy headless browser
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("GAMEON_TEST_ARTIFACTS", REPO / "test-artifacts"))
"""Where screenshots go (gitignored); GAMEON_TEST_ARTIFACTS moves it."""
LAB_JS = Path(__file__).with_name("lab.js")
# No news feed, no update check, no notification toasts over the notebook.
_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
}


class CellError(AssertionError):
    """A notebook cell failed or did not run; the message holds the tracebacks."""


def browser_missing() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is missing (pip install -e '.[browser]')"
    return None


def write_notebook(path: Path, cells: Sequence[str], *, kernel: str = "python3") -> Path:
    """A notebook of code cells (no outputs) at `path`, with kernel metadata."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": kernel,
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ALLOWED_CONSOLE: dict[re.Pattern[str], str] = {
    re.compile(r"^pageerror: (Syncing error: )?no comm channel defined$"): (
        "thrown by @jupyter-widgets/base WidgetModel.sync when a front-end view changes a model "
        "that has no comm (a model restored from a notebook's saved widget state, or one whose "
        "Python widget was closed); JupyterLab's own widget manager, not a widget of ours, and "
        "each test asserts its widget's behaviour after it. Which view triggers it is not yet "
        "traced."
    ),
}
"""Console errors a test may see, each with the reason it is not the project's fault; every other
console error and uncaught page error fails the browser tests."""


@dataclass
class JupyterLab:
    """A running JupyterLab server and a Chromium browser pointed at it; see the module doc."""

    root: Path
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path
    playwright: Playwright
    browser: Browser
    artifacts: Path = ARTIFACTS
    console: list[str] = field(default_factory=list)
    """Console errors and uncaught page errors of every page opened, as 'type: text'."""

    def unexpected_console(self) -> list[str]:
        """Console errors not on `ALLOWED_CONSOLE` (with the reason each allowed one is there)."""
        return [line for line in self.console if not any(p.search(line) for p in ALLOWED_CONSOLE)]

    pages: list[Page] = field(default_factory=list)

    def open(self, path: str, *, timeout: float = 90) -> Page:
        """A new page with notebook `path` (relative to the root) open and its kernel ready."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 1000})
        context.add_init_script(path=str(LAB_JS))
        page = context.new_page()
        page.set_default_timeout(timeout * 1000)
        page.on(
            "console",
            lambda m: self.console.append(f"{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.pages.append(page)
        page.goto(f"{self.url}/lab/tree/{path}?reset&token={self.token}")
        status = page.evaluate(
            "([path, ms]) => gameonLab.kernelStatus(path, ms)", [path, int(timeout * 1000)]
        )
        if status not in ("idle", "busy", "starting"):
            raise CellError(f"the kernel of {path} is {status!r}; server log:\n{self.log_tail()}")
        return page

    def run_all(self, page: Page, path: str | None = None) -> list[dict[str, Any]]:
        """Run every cell of the page's notebook, wait for the kernel, raise on any error."""
        path = path or self._path(page)
        cells: list[dict[str, Any]] = page.evaluate("(path) => gameonLab.runAll(path)", path)
        errors = [e for cell in cells for e in cell["errors"]]
        not_run = [i for i, cell in enumerate(cells) if cell["count"] is None]
        if errors or not_run:
            raise CellError(
                f"{path}: cells not run: {not_run}; errors:\n" + "\n".join(errors)
                if errors
                else f"{path}: cells not run: {not_run}"
            )
        return cells

    def execute(self, page: Page, code: str, path: str | None = None) -> str:
        """Run `code` in the page's kernel (not in a cell) and return what it printed."""
        path = path or self._path(page)
        result: dict[str, Any] = page.evaluate(
            "([path, code]) => gameonLab.execute(path, code)", [path, code]
        )
        if result["error"]:
            raise CellError(f"{code!r} failed in the kernel of {path}: {result['error']}")
        return str(result["out"])

    def wait_idle(self, page: Page, path: str | None = None) -> None:
        """Wait until the page's kernel is idle (e.g. after a click that runs kernel code)."""
        page.evaluate("(path) => gameonLab.waitIdle(path)", path or self._path(page))

    def screenshot(self, page: Page, name: str, *, full_page: bool = True) -> Path:
        """Save a PNG of the page as `<artifacts>/<name>.png` and return its path."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def _path(self, page: Page) -> str:
        marker = "/lab/tree/"
        url = page.url.split("?")[0]
        if marker not in url:
            raise ValueError(f"{page.url} is not a notebook page; pass path=")
        return url.split(marker, 1)[1]


def _wait_ready(
    url: str, token: str, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"{url}/api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"JupyterLab not up after {timeout} s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # The server shuts its kernels down on SIGTERM; its process group (ours) goes after.
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def jupyter_lab(
    root: Path,
    *,
    artifacts: Path = ARTIFACTS,
    startup_timeout: float = 60,
) -> Iterator[JupyterLab]:
    """Start JupyterLab serving `root` and a headless Chromium; stop both on exit."""
    from playwright.sync_api import sync_playwright

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    home = root.parent / f".{root.name}-jupyter"
    for sub in ("config", "data", "runtime", "settings", "workspaces", "ipython"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    for name, settings in _SETTINGS.items():
        target = home / "settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings))
    env = os.environ | {
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    port, token = _free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    log = home / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    playwright = None
    try:
        _wait_ready(url, token, process, log, startup_timeout)
        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        lab = JupyterLab(root, url, token, process, log, playwright, browser, artifacts)
        try:
            yield lab
        finally:
            browser.close()
    finally:
        if playwright is not None:
            playwright.stop()
        _stop(process)
        shutil.rmtree(home / "runtime", ignore_errors=True)


def pixels(png: bytes) -> np.ndarray:
    """A screenshot's RGB pixels, signed so that differences do not wrap."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def first_frame(page: Page, viewer: Locator) -> tuple[Locator, str | None, np.ndarray]:
    """Wait for a RolloutViewer's first frame (decoded, from a blob); check it is step 0 and not
    blank. Returns the frame's <img>, its src and its pixels."""
    frame = viewer.locator("img.gameon-rollout-frame")
    page.wait_for_function(
        f"img => ({DECODED})(img) && img.src.startsWith('blob:')",
        arg=frame.element_handle(),
        polling=POLL_MS,
    )
    src, shown = frame.get_attribute("src"), pixels(frame.screenshot())
    assert frame.get_attribute("data-step") == "0"
    assert shown.std() > 5, "the frame is blank"
    return frame, src, shown
