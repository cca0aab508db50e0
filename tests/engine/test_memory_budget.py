"""--token-budget auto: per-token costs measured from a probe prefill, the budget sized to free memory."""

from __future__ import annotations

import pytest

from flamingo_eval.engine import memory_budget, resources
from flamingo_eval.engine.memory_budget import TokenCosts, measure_costs, token_budget
from flamingo_eval.engine.resources import Resources
from flamingo_eval.engine.settings import RunSettings
from flamingo_eval.errors import SpecError
from flamingo_eval.model import load_model

from ..conftest import tiny_spec


@pytest.mark.parametrize("lm, kv_heads, heads", [("llama", 2, 4), ("gpt_neox", 4, 4), ("mpt", 4, 4)])
def test_kv_bytes_are_every_layers_keys_and_values_of_one_token(lm, kv_heads, heads):
    costs = measure_costs(load_model(tiny_spec(lm)), probe_tokens=16)
    # 4 layers x (keys + values) x kv heads x head dim (64 / heads) x 4 bytes (float32)
    assert costs.kv_bytes == 4 * 2 * kv_heads * (64 // heads) * 4
    assert not costs.measured and costs.activation_bytes == costs.kv_bytes  # no CUDA allocator to count here


def test_the_budget_divides_the_free_memory_by_a_tokens_peak_cost():
    costs = TokenCosts(kv_bytes=1000, activation_bytes=500, measured=True)
    # a token: its activations, its keys and values, and a copy for each of 3 beams = 4500 bytes
    assert token_budget(costs, free_bytes=1_000_000, beams=3, fraction=0.8) == 800_000 // 4500
    assert token_budget(costs, free_bytes=1_000_000, beams=1, fraction=1.0) == 1_000_000 // 2500
    assert token_budget(costs, free_bytes=10, beams=3) == 1  # nothing fits: one prompt per batch
    with pytest.raises(ValueError, match="fraction"):
        token_budget(costs, free_bytes=10, beams=1, fraction=0)


def test_auto_budget_is_measured_once_per_model_and_sized_by_beams(monkeypatch):
    monkeypatch.setattr(memory_budget, "free_memory", lambda device: 100_000)
    settings = RunSettings(benchmarks=("coco",), model="tiny", token_budget="auto")
    made = Resources(settings)
    monkeypatch.setattr(made, "model", lambda name: load_model(tiny_spec()))
    kv = 4 * 2 * 2 * 16 * 4  # the tiny LLaMA's (see above); activations estimated as much again off the GPU
    assert made.token_budget("tiny", 1) == int(0.8 * 100_000) // (kv * 3)
    assert made.token_budget("tiny", 3) == int(0.8 * 100_000) // (kv * 5)
    calls = []
    monkeypatch.setattr(resources, "measure_costs", lambda pipe: calls.append(pipe))
    made.token_budget("tiny", 5)
    assert calls == []  # the costs were measured for the first call only
    assert Resources(RunSettings(benchmarks=("coco",), token_budget=300)).token_budget("tiny", 3) == 300


@pytest.mark.parametrize("value", ["lots", 0, -5, 2.5, True])
def test_a_token_budget_is_a_positive_number_or_auto(value):
    with pytest.raises(SpecError, match="token_budget must be a number of tokens"):
        RunSettings(benchmarks=("coco",), token_budget=value)


def test_free_memory_on_the_host_is_what_is_available():
    assert memory_budget.free_memory("cpu") > 0
