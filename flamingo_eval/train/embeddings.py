"""Trainable embeddings for the added tokens only (<image>, <|endofchunk|>), with the LM frozen.

The rows live in small parameters spliced into the LM's input embeddings and output logits by forward
hooks, so no gradient is computed for the 49k frozen rows (a tied output layer would otherwise cost a
vocabulary-sized weight gradient every step). ``write_back`` copies them into the LM's matrices, where
``save_adapters`` reads them.
"""

from __future__ import annotations

import torch
from torch import nn

from ..model.flamingo import Flamingo


class AddedTokenRows(nn.Module):
    def __init__(self, model: Flamingo, token_ids: tuple[int, ...]) -> None:
        super().__init__()
        lm = model.lm
        self.token_ids = list(token_ids)
        self.ids = torch.tensor(self.token_ids)
        inp = lm.get_input_embeddings()
        out = lm.get_output_embeddings()
        self.input_rows = nn.Parameter(inp.weight.detach()[self.ids].clone().float())
        # a tied LM (SmolLM2) reads its output layer from the input matrix: one set of rows serves both
        untied = out is not None and out.weight is not inp.weight
        self.output_rows = nn.Parameter(out.weight.detach()[self.ids].clone().float()) if untied else None
        self._handles = [inp.register_forward_hook(self._embed)]
        if out is not None:
            self._handles.append(out.register_forward_hook(self._logits))
        self._model = [model]  # not a submodule: the rows are this module's only parameters

    def _embed(self, module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        ids = args[0]
        hit = torch.isin(ids, self.ids.to(ids.device))  # (B, T)
        if not hit.any():
            return output
        index = (ids[..., None] == self.ids.to(ids.device)).float().argmax(-1)  # (B, T) row of each added id
        rows = self.input_rows.to(output.dtype)[index]  # (B, T, d)
        return torch.where(hit[..., None], rows, output)

    def _logits(self, module: nn.Module, args: tuple, logits: torch.Tensor) -> torch.Tensor:
        hidden = args[0]  # (B, T, d)
        rows = self.output_rows if self.output_rows is not None else self.input_rows
        added = hidden @ rows.to(hidden.dtype).T  # (B, T, n_added)
        logits = logits.clone()
        logits[..., self.ids.to(logits.device)] = added.to(logits.dtype)
        return logits

    def write_back(self) -> None:
        """Copy the trained rows into the LM's embedding matrices (for saving and evaluation)."""
        lm = self._model[0].lm
        with torch.no_grad():
            inp = lm.get_input_embeddings().weight
            inp[self.ids] = self.input_rows.to(inp.dtype)
            if self.output_rows is not None:
                out = lm.get_output_embeddings().weight
                out[self.ids] = self.output_rows.to(out.dtype)

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
