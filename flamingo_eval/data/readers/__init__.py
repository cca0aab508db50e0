"""The built-in data formats. Importing this package registers every reader with
``formats.register_format``; ``formats.read_examples`` does so before looking a format up.

  karpathy        COCO / Flickr30k captions (Karpathy splits)         karpathy.py
  vqa, textvqa,   image question answering                            vqa.py
  vizwiz
  msrvtt_qa,      video question answering                            videoqa.py
  msvd_qa, ivqa,
  nextqa
  video_captions  VATEX / YouCook2 / id -> captions video captioning  videocaption.py
  hf              a locally saved Hugging Face dataset                hf.py
"""

from . import hf, karpathy, videocaption, videoqa, vqa  # noqa: F401  (each module registers its formats)
