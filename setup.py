"""Which packages the wheel holds, for setuptools (everything else is in pyproject.toml).

``benchmarks/`` and ``prompts/`` stay at the top of the checkout (the project's layout), yet a
non-editable install must carry them: they ship as ``flamingo_eval/benchmarks`` and
``flamingo_eval/prompts``, where ``flamingo_eval.locations`` looks first. pyproject.toml cannot say
this with ``packages.find`` (it finds only folders inside the package tree), and a fixed list there
would have to name every new subpackage, so the list is made here.
"""

from setuptools import find_packages, setup

# package in the wheel -> folder in the checkout
SHIPPED_FOLDERS = {"flamingo_eval.benchmarks": "benchmarks", "flamingo_eval.prompts": "prompts"}

setup(
    packages=[*find_packages(include=["flamingo_eval", "flamingo_eval.*"]), *SHIPPED_FOLDERS],
    package_dir=SHIPPED_FOLDERS,
)
