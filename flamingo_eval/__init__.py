"""flamingo-eval: a few-shot evaluation harness for Flamingo-style visual language models."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``flamingo_eval.evaluate`` without importing torch and the engine until it is used
    if name == "evaluate":
        from .api import evaluate

        return evaluate
    raise AttributeError(f"module 'flamingo_eval' has no attribute {name!r}")
