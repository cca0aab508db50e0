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


class CacheWarning(UserWarning):
    """A cache file (derived data) that could not be used: it is named, dropped and computed again."""
