"""Files and repositories on the Hugging Face Hub, by reference: ``hf:ORG/NAME[@REVISION][/PATH]``
(a model repository) or ``hf:datasets/ORG/NAME[@REVISION][/PATH]`` (a dataset repository: a benchmark's
``data.root`` or ``--data-root`` may name one).

A spec path (``lm.path``, ``vision.weights``, ``openflamingo_checkpoint``, ...) or ``--model`` may name
a Hub repository (a folder: the whole snapshot) or a file in one. They are fetched once through
``huggingface_hub`` into its standard cache (``$HF_HOME/hub``, ``models--ORG--NAME/snapshots/<commit>/``)
and read from there afterwards; with ``HF_HUB_OFFLINE=1`` they resolve from that cache alone, and a file
that is not there is an error saying what to download. ``REVISION`` (a branch, tag or commit) pins what
is fetched; the commit actually used is recorded in run.json (``hub_commit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import SpecError

PREFIX = "hf:"


@dataclass(frozen=True)
class HubRef:
    """A repository (``path`` None) or a file in one, at a revision (None: the default branch)."""

    repo: str  # "ORG/NAME"
    revision: str | None = None
    path: str | None = None
    repo_type: str = "model"  # or "dataset"

    def __str__(self) -> str:
        kind = "datasets/" if self.repo_type == "dataset" else ""
        return PREFIX + kind + self.repo + (f"@{self.revision}" if self.revision else "") + (f"/{self.path}" if self.path else "")


def is_hub_ref(value: str) -> bool:
    return str(value).startswith(PREFIX)


def parse_hub_ref(text: str) -> HubRef:
    """``hf:ORG/NAME[@REVISION][/PATH]`` -> HubRef; SpecError for anything else."""
    body = text[len(PREFIX):] if text.startswith(PREFIX) else text
    repo_type = "model"
    if body.startswith("datasets/"):
        repo_type, body = "dataset", body[len("datasets/"):]
    parts = body.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise SpecError(f"{text!r}: a Hub reference is hf:ORG/NAME[@REVISION][/PATH]")
    name, _, revision = parts[1].partition("@")
    if not name or (_ and not revision):
        raise SpecError(f"{text!r}: a Hub reference is hf:ORG/NAME[@REVISION][/PATH]")
    path = "/".join(parts[2:]) or None
    return HubRef(repo=f"{parts[0]}/{name}", revision=revision or None, path=path, repo_type=repo_type)


def hub_path(text: str, *, where: str = "") -> Path:
    """The local path of a Hub reference: its file, or its repository's snapshot folder, fetched into
    the standard cache when not there (only from the cache when ``HF_HUB_OFFLINE`` is set).

    SpecError naming ``where`` and the reference, saying what to download, when it cannot be had.
    """
    ref = parse_hub_ref(text)
    try:
        import huggingface_hub
        from huggingface_hub import errors
    except ImportError:  # pragma: no cover - a dependency of transformers
        raise SpecError(f"{where}: {text} needs the huggingface_hub package") from None
    try:
        if ref.path is None:
            return Path(huggingface_hub.snapshot_download(ref.repo, revision=ref.revision, repo_type=ref.repo_type))
        return Path(huggingface_hub.hf_hub_download(ref.repo, ref.path, revision=ref.revision, repo_type=ref.repo_type))
    except errors.LocalEntryNotFoundError:
        what = f"{ref.path} of {ref.repo}" if ref.path else ref.repo
        raise SpecError(f"{where + ': ' if where else ''}{text}: {what} is not in the local Hub cache "
                        f"({huggingface_hub.constants.HF_HUB_CACHE}) and the Hub cannot be reached"
                        f"{' (HF_HUB_OFFLINE is set)' if huggingface_hub.constants.HF_HUB_OFFLINE else ''}; "
                        f"download it where there is a network: {download_command(ref)}") from None
    except (errors.RepositoryNotFoundError, errors.GatedRepoError) as err:
        raise SpecError(f"{where + ': ' if where else ''}{text}: repository {ref.repo} not found or not accessible "
                        f"({type(err).__name__}; a private or gated one needs `huggingface-cli login`)") from None
    except errors.RevisionNotFoundError:
        raise SpecError(f"{where + ': ' if where else ''}{text}: {ref.repo} has no revision {ref.revision!r}") from None
    except errors.EntryNotFoundError:
        raise SpecError(f"{where + ': ' if where else ''}{text}: {ref.repo} has no file {ref.path!r}") from None


def download_command(ref: HubRef) -> str:
    """The command that puts ``ref`` into the cache: ``huggingface-cli download ORG/NAME [PATH] [--revision R]``."""
    return " ".join(["huggingface-cli download", ref.repo, *([ref.path] if ref.path else []),
                     *(["--repo-type", "dataset"] if ref.repo_type == "dataset" else []),
                     *(["--revision", ref.revision] if ref.revision else [])])


def hub_commit(path: Path | str) -> str | None:
    """The commit a path inside the Hub cache belongs to (``.../snapshots/<commit>/...``), else None."""
    parts = Path(path).parts
    for i, part in enumerate(parts[:-1]):
        if part == "snapshots" and i > 0 and parts[i - 1].startswith(("models--", "datasets--")):
            return parts[i + 1]
    return None
