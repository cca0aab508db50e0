"""The built-in data formats. Importing this package registers every reader with
``formats.register_format``; ``formats.read_examples`` does so before looking a format up.

  karpathy        COCO / Flickr30k captions (Karpathy splits)         karpathy.py
  vqa, textvqa,   image question answering                            vqa.py
  vizwiz
  msrvtt_qa,      video question answering                            videoqa.py
  msvd_qa, ivqa,
  nextqa
  star            STAR video multiple choice (Charades clips)         star.py
  video_captions  VATEX / YouCook2 / id -> captions video captioning  videocaption.py
  hateful_memes,  classification by ranking class names               classification.py
  imagenet
  hf              a locally saved Hugging Face dataset                hf.py
"""

# importing each module registers its formats
from . import classification, hf, karpathy, star, videocaption, videoqa, vqa  # noqa: F401
