"""Datasets and media loading for the evaluation harness."""
