"""The errors flamingo-eval raises for bad input. Each message names the file, record or key at fault;
the CLI prints them as one line (a traceback only with --debug)."""


class FlamingoEvalError(Exception):
    """Base class: a user-facing problem with input, not a bug."""


class SpecError(FlamingoEvalError, ValueError):
    """A model or benchmark spec that cannot be used."""


class WeightsError(FlamingoEvalError, ValueError):
    """A weights file that is missing, unreadable, or does not fit the model."""


class MediaError(FlamingoEvalError, ValueError):
    """An image or video that is missing, corrupt or empty."""


class DataError(FlamingoEvalError, ValueError):
    """A benchmark data file that is missing, malformed, or lacks a field a record needs."""


class ResultsError(FlamingoEvalError, ValueError):
    """A results folder (docs/results.md) that cannot be used: one a run cannot write or resume into, or
    a metrics.json, run.json or predictions file a report cannot read."""


class CacheWarning(UserWarning):
    """A cache file (derived data) that could not be used: it is named, dropped and computed again."""


class UnknownNameError(SpecError, KeyError):
    """A name that no registry holds (a data format, metric, vision encoder, ...); the message names the
    kind of thing, the name and the known choices. Also a ``KeyError`` (a failed lookup by name), and a
    ``ValueError`` through ``SpecError``, so the lookups it replaced are caught as before."""

    def __str__(self) -> str:  # KeyError's own would quote the whole message
        return str(self.args[0]) if self.args else ""
