"""From a benchmark spec and its files in the official format to k-shot prompts."""

from __future__ import annotations

from flamingo_eval.benchmark import get_benchmark
from flamingo_eval.data.splits import load_benchmark_data
from flamingo_eval.prompting.builder import few_shot_prompts
from flamingo_eval.prompting.render import load_template
from flamingo_eval.prompting.selection import make_selector

from ..data.fixtures import write_jpeg, write_json


def write_coco(root):
    """A Karpathy-split dataset_coco.json with 6 train and 2 test images, and the JPEGs."""
    images = []
    for i in range(8):
        folder, split = ("train2014", "train") if i < 6 else ("val2014", "test")
        name = f"COCO_{folder}_{i:012d}.jpg"
        write_jpeg(root / folder / name, i)
        images.append({"filepath": folder, "filename": name, "imgid": i, "cocoid": 100 + i, "split": split,
                       "sentences": [{"raw": f" Caption {i}. "}, {"raw": f"Other caption {i}."}]})
    write_json(root / "dataset_coco.json", {"images": images, "dataset": "coco"})


def test_coco_spec_to_prompts(tmp_path):
    write_coco(tmp_path / "coco")
    spec = get_benchmark("coco")
    data = load_benchmark_data(spec, tmp_path)
    assert [e.id for e in data.pool] == [str(100 + i) for i in range(6)] and [e.id for e in data.eval] == ["106", "107"]
    template = load_template(spec.prompt.template)
    selector = make_selector("random", data.pool, seed=42, trial=0, query_set_size=spec.query_set_size)
    four = list(few_shot_prompts(data.eval, selector, template, shots=4))
    for prompt in four:
        assert prompt.text.count("<image>") == 5 and len(prompt.media) == 5
        assert prompt.text.endswith("<|endofchunk|>\n<image>Output:")
        first = prompt.demo_ids[0]
        assert prompt.text.startswith(f"<image>Output:Caption {int(first) - 100}.<|endofchunk|>\n")  # stripped first caption
        assert prompt.media[-1].path.name == f"COCO_val2014_{int(prompt.query_id) - 100:012d}.jpg"
    zero = list(few_shot_prompts(data.eval, selector, template, shots=0, zero_shot_text_demos=spec.prompt.zero_shot_text_demos))
    assert all(p.text.count("<image>") == 1 and len(p.demo_ids) == 2 and p.text.startswith("Output:") for p in zero)
    assert list(few_shot_prompts(data.eval, selector, template, shots=4)) == four  # reproducible
