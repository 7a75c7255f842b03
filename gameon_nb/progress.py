"""Progress bars that end as one clean text line, whoever shows them.

    >>> bar = progress_bar(total=20, desc="train", unit="step", leave=False)  # .update(), .close()
    >>> for i in progress_bar(ids, desc="load episodes", disable=not progress): ...
    >>> front_end()      # 'live' in JupyterLab, 'headless' under papermill or `gameon batch`

Every long job of gameon_nb makes its bar here, of the kind `front_end()` decides:

- 'live', a kernel a person watches (Jupyter Server sets JPY_SESSION_NAME in its kernels, VS Code
  defines __vsc_ipynb_file__): an ipywidgets bar, shown under a display id and replaced, when it
  closes, by its final text line, so a saved notebook holds no view of a closed widget (which a
  reload shows as "Error displaying widget: model not found").
- 'headless', a kernel nobody watches (papermill, nbclient, `gameon batch`): silent while it runs,
  then its final line on stdout, e.g. `rounds: 100%|██████████| 2/2 [00:41<00:00, 20.5s/round]`.
- 'terminal', no kernel: tqdm's text bar on stderr.

A bar leaves its final line when `leave` and it counted something, or when it stopped short of its
total (an error, a deadline); with `leave=False` a finished bar leaves nothing. The environment
variable GAMEON_FRONT_END (live, headless or terminal) overrides the guess; `gameon batch` sets
headless for the kernels it runs.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from collections.abc import Iterable
from typing import Any, Literal, Never, TypeVar, get_args, overload

from tqdm.std import tqdm

__all__ = ["FRONT_END_VARIABLE", "FrontEnd", "front_end", "progress_bar"]

T = TypeVar("T")
FrontEnd = Literal["live", "headless", "terminal"]
FRONT_END_VARIABLE = "GAMEON_FRONT_END"


def front_end() -> FrontEnd:
    """Who shows this process's output: see the module docstring."""
    chosen = os.environ.get(FRONT_END_VARIABLE, "")
    if chosen:
        if chosen not in get_args(FrontEnd):
            raise ValueError(
                f"{FRONT_END_VARIABLE} is one of {', '.join(get_args(FrontEnd))}, not {chosen!r}"
            )
        return chosen  # type: ignore[return-value]  # checked against the Literal above
    ipython = sys.modules.get("IPython")  # never imported here: a kernel has it already
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or "IPKernelApp" not in shell.config:
        return "terminal"
    watched = "JPY_SESSION_NAME" in os.environ or "__vsc_ipynb_file__" in shell.user_ns
    return "live" if watched else "headless"


def _final_line(bar: tqdm[Any]) -> str | None:
    """The bar's last state as one line, or None when it should leave nothing."""
    stopped_short = bar.total is not None and bar.total > 0 and bar.n < bar.total
    if not (stopped_short or (bar.leave and bar.n > 0)):
        return None
    # the overall rate (not tqdm's moving average) and tqdm's default bar width
    return bar.format_meter(**{**bar.format_dict, "rate": None, "ncols": None})


class _LineBar(tqdm):  # type: ignore[type-arg]  # tqdm is generic to mypy only
    """Prints nothing while it runs; its final line on stdout when it closes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "gui": True})  # gui: tqdm itself writes nothing

    def display(self, msg: str | None = None, pos: int | None = None) -> None:
        return None

    def close(self) -> None:
        if self.disable:
            return
        shown = self.format_dict["elapsed"] >= (self.delay or 0)  # as a delayed bar would be
        line = _final_line(self)
        super().close()
        if shown and line:
            print(line, file=sys.stdout, flush=True)


@functools.cache
def _widget_bar() -> type[tqdm[Any]] | None:
    """The ipywidgets bar class, or None without ipywidgets (imported only when asked for)."""
    if importlib.util.find_spec("ipywidgets") is None:  # tqdm.notebook's bar is made of them
        return None
    from tqdm.notebook import tqdm_notebook

    class WidgetBar(tqdm_notebook):  # type: ignore[type-arg]
        """tqdm's ipywidgets bar, replaced by its final line (or nothing) when it closes."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._handle: Any = None
            super().__init__(*args, **{**kwargs, "display": False})
            if self.disable:
                return
            self.displayed = True  # tqdm never shows it itself: `_show` does, under a display id
            if not self.delay or self.delay <= 0:
                self._show()

        def _show(self) -> None:
            from IPython.display import display

            self._handle = display(self.container, display_id=True)  # type: ignore[no-untyped-call]

        def display(
            self,
            msg: str | None = None,
            pos: int | None = None,
            close: bool = False,
            bar_style: str | None = None,
            check_delay: bool = True,
        ) -> None:
            if check_delay and self._handle is None:  # tqdm asks once its delay has passed
                self._show()
            super().display(msg, pos, close, bar_style, check_delay=False)

        def close(self) -> None:
            if self.disable:
                return
            line = _final_line(self)
            tqdm.close(self)  # the bookkeeping only: a gui bar writes nothing
            if self._handle is not None:
                self._handle.update({"text/plain": line} if line else {}, raw=True)
            for widget in (self.container, *self.container.children):
                widget.close()

    return WidgetBar


@overload
def progress_bar(
    iterable: Iterable[T],
    *,
    desc: str,
    total: float | None = None,
    unit: str = "it",
    leave: bool = True,
    disable: bool = False,
    initial: float = 0,
    delay: float = 0.0,
) -> tqdm[T]: ...
@overload
def progress_bar(
    iterable: None = None,
    *,
    desc: str,
    total: float | None = None,
    unit: str = "it",
    leave: bool = True,
    disable: bool = False,
    initial: float = 0,
    delay: float = 0.0,
) -> tqdm[Never]: ...
def progress_bar(
    iterable: Iterable[T] | None = None,
    *,
    desc: str,
    total: float | None = None,
    unit: str = "it",
    leave: bool = True,
    disable: bool = False,
    initial: float = 0,
    delay: float = 0.0,
) -> tqdm[T] | tqdm[Never]:
    """A tqdm bar of the kind `front_end()` picks; tqdm's arguments, and the same use.

    >>> with progress_bar(total=len(jobs), desc="collect", unit="ep", leave=False) as bar:
    ...     bar.update()
    """
    kind = front_end()
    cls: type[tqdm[Any]] = tqdm
    if kind == "live":
        cls = _widget_bar() or _LineBar
    elif kind == "headless":
        cls = _LineBar
    options: dict[str, Any] = {"total": total, "unit": unit, "leave": leave, "disable": disable}
    bar: tqdm[Any] = cls(iterable, desc=desc, initial=initial, delay=delay, **options)
    return bar
