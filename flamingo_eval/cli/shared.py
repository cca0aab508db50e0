"""What every command shares: the typer app, the console, the ``--debug`` switch, the way user errors
are printed, and the small parsers and printers several commands use. Commands live beside it
(``*_commands.py``) and import from here; nothing here imports them."""

from __future__ import annotations

import functools
import inspect
import typing
import os
from pathlib import Path
from typing import Annotated, Callable

import typer
from rich.markup import escape
from rich.console import Console

from ..errors import FlamingoEvalError, SpecError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Few-shot evaluation of Flamingo-style models.")
console = Console()


@app.callback()
def main(ctx: typer.Context, debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False) -> None:
    ctx.obj = {"debug": debug}  # this invocation's, read back by user_errors: no module-level state
    # transformers' GGUF conversion draws tqdm bars that would drown the command's own output
    os.environ.setdefault("TQDM_DISABLE", "1")


def user_errors(command: Callable) -> Callable:
    """Print a user mistake (bad spec, missing file, ...) as one line and exit 1; a traceback only with --debug.

    Besides the harness's own errors, an ``OSError`` (a path the system refuses: no permission, no space,
    a file where a folder belongs) is the user's to fix and names its file; it is printed the same way.
    The wrapper takes typer's context (added to the command's signature) to read this invocation's
    ``--debug``.
    """

    @functools.wraps(command)
    def run(ctx: typer.Context, *args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (FlamingoEvalError, OSError) as err:
            if (ctx.find_root().obj or {}).get("debug"):
                raise
            # the message is text, not markup: a "[...]" in it (a list, a file name) must print as it is
            console.print(f"[bold red]error:[/] {escape(_describe(err))}", highlight=False)
            raise typer.Exit(1) from None

    hints = typing.get_type_hints(command, include_extras=True)  # typer reads the options from these
    signature = inspect.signature(command)
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    run.__signature__ = signature.replace(parameters=[context, *params])
    run.__annotations__ = {"ctx": typer.Context, **hints}
    return run


def parse_shots(text: str, flag: str = "--shots") -> tuple[int, ...]:
    """``"0,4,8"`` -> (0, 4, 8); a SpecError naming the option otherwise."""
    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise SpecError(f"{flag} must be comma-separated integers, got {text!r}") from None


def parse_token_budget(text: str | None) -> int | str | None:
    """``--token-budget``: a number becomes an int; anything else (``auto``, or a mistake the settings
    name) is passed on as given."""
    return int(text) if text is not None and text.strip().isdigit() else text


def _describe(err: Exception) -> str:
    if isinstance(err, OSError) and not isinstance(err, FlamingoEvalError):
        where = " -> ".join(str(f) for f in (err.filename, err.filename2) if f is not None)
        return f"{where}: {err.strerror or err}" if where else f"{type(err).__name__}: {err}"
    return str(err)


def print_report(folders: list[Path], paper: bool = False) -> None:
    """The comparison tables of results folders, drawn in the terminal."""
    from ..report import report_tables, to_rich

    for title, table in report_tables(folders, paper=paper):
        console.print(to_rich(table, title))


def print_skipped(out: Path) -> None:
    """Say how many records, prompts and pool items were left out (--skip-bad) and where they are listed,
    and how many predictions have no answers to be scored against."""
    from ..engine.results import ResultsFolder

    folder = ResultsFolder(out)
    for line in (folder.skipped_summary(), folder.unscored_summary()):
        if line:
            console.print(f"[yellow]{escape(line)}[/]", highlight=False)
