"""Everything the command line prints goes through here (the only module that prints).

Human output is rich tables and lines on stdout, errors on stderr. With ``--json``
every command prints exactly one JSON document on stdout: the result, or the problem
``{"code", "title", "detail", ...}``.
"""

import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table


class Output:
    """Renders results and problems, as text for people or as one JSON document."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self._out = Console(highlight=False, soft_wrap=True, emoji=False)
        self._err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

    def emit_json(self, document: Any) -> None:
        print(json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False))

    def result(
        self, document: Mapping[str, Any], *, message: str | None = None
    ) -> None:
        """A single result: JSON as is, or a message plus key/value lines."""
        if self.as_json:
            self.emit_json(document)
            return
        if message:
            self._out.print(message)
        for key, value in document.items():
            if isinstance(value, Mapping | list):
                value = json.dumps(value, indent=2)
            self._out.print(f"[bold]{escape(str(key))}[/bold]: {escape(str(value))}")

    def text(self, text: str) -> None:
        """Text exactly as given (e.g. a signed note), for piping."""
        sys.stdout.write(text)

    def document(self, document: Mapping[str, Any]) -> None:
        """A JSON document (e.g. a DID document), pretty-printed in both modes."""
        if self.as_json:
            self.emit_json(document)
        else:
            self._out.print_json(json.dumps(document))

    def table(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        columns: Iterable[str],
        title: str,
        key: str,
    ) -> None:
        """Rows as a rich table, or as ``{key: rows}`` in JSON."""
        if self.as_json:
            self.emit_json({key: list(rows)})
            return
        table = Table(title=title)
        names = list(columns)
        for name in names:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(
                *("" if row.get(name) is None else str(row[name]) for name in names)
            )
        if rows:
            self._out.print(table)
        else:
            self._out.print(f"{title}: none")

    def problem(self, problem: Mapping[str, Any]) -> None:
        """An error: JSON on stdout, or ``error [code]: detail`` on stderr."""
        if self.as_json:
            self.emit_json(problem)
            return
        code, detail = escape(str(problem["code"])), escape(str(problem["detail"]))
        self._err.print(f"[bold red]error[/bold red] \\[{code}]: {detail}")
        hint = problem.get("hint")
        if hint:
            self._err.print(f"hint: {escape(str(hint))}")

    def warning(self, text: str) -> None:
        """A warning, always on stderr so that stdout stays one JSON document."""
        self._err.print(f"[yellow]warning[/yellow]: {escape(text)}")

    @contextlib.contextmanager
    def progress(
        self, description: str, *, total: int
    ) -> Iterator[Callable[[int], None]]:
        """A progress bar on stderr (none with ``--json``); yields ``advance(n)``."""
        if self.as_json or total <= 0:
            yield lambda _count: None
            return
        columns = (
            TextColumn(escape(description)),
            BarColumn(),
            MofNCompleteColumn(),
        )
        with Progress(*columns, console=self._err) as bar:
            task = bar.add_task(description, total=total)
            yield lambda count: bar.advance(task, count)

    def heading(self, text: str) -> None:
        self._out.print(f"\n[bold cyan]{escape(text)}[/bold cyan]")

    def step(self, text: str) -> None:
        self._out.print(f"[bold]{escape(text)}[/bold]")

    def detail(self, text: str, *, seconds: float, exit_code: int) -> None:
        self._out.print(text, markup=False)
        self._out.print(f"[dim](exit {exit_code}, {seconds:.2f} s)[/dim]")

    def verified(self, text: str) -> None:
        """A check the demo made, and passed."""
        self._out.print(f"[bold green]✓[/bold green] {escape(text)}")

    def pending(self, text: str) -> None:
        """A step that cannot run yet (never a faked result)."""
        self._out.print(f"[bold yellow]…[/bold yellow] [yellow]{escape(text)}[/yellow]")

    def summary(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """The demo's step list: what ran and what is pending."""
        table = Table(title="The story")
        for name in ("step", "what", "result"):
            table.add_column(name, overflow="fold")
        for row in rows:
            result = str(row["result"])
            style = "green" if result == "passed" else "yellow"
            table.add_row(
                escape(str(row["step"])),
                escape(str(row["what"])),
                f"[{style}]{escape(result)}[/{style}]",
            )
        self._out.print(table)

    def prompt_secret(self, label: str) -> str:
        """Read a secret from the terminal without echo."""
        import getpass

        return getpass.getpass(f"{label}: ")


def stdin_is_interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()
