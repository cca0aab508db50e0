from flamingo_eval.prompting.postprocess import caption, vqa


def test_vqa_keeps_the_first_answer_before_a_new_item_or_comma():
    assert vqa("yes<|endofchunk|>") == "yes<|endofchunk|>"  # special tokens are removed by decoding, not here
    assert vqa(" two Question: what") == "two"
    assert vqa("red, blue and green") == "red"
    assert vqa("cat Short answer: dog") == "cat"
    assert vqa("a dog Answer") == "a dog"


def test_caption_cuts_at_the_next_output_and_drops_quotes():
    assert caption(' A "big" cat sits.\nOutput: another') == "A big cat sits."
    assert caption("A dog") == "A dog"
