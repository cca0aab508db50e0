"""Rich progress bars for the run loop: one per benchmark, with examples/s and the time left."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from ..engine.runner import Progress as RunProgress


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:  # noqa: D102
        speed = task.finished_speed or task.speed
        return Text("-- ex/s" if speed is None else f"{speed:.2f} ex/s", style="cyan")


class RichProgress(RunProgress):
    def __init__(self, console: Console) -> None:
        self.bars = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
            TextColumn("eta"), TimeRemainingColumn(), console=console,
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()

    def start(self, label: str, total: int, done: int) -> None:
        if label in self.tasks:
            self.bars.update(self.tasks[label], total=total, completed=done)
        else:
            self.tasks[label] = self.bars.add_task(label, total=total, completed=min(done, total))

    def advance(self, label: str, count: int) -> None:
        self.bars.advance(self.tasks[label], count)
