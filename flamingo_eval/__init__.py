"""flamingo-eval: a few-shot evaluation harness for Flamingo-style visual language models."""

__version__ = "0.1.0"
