"""A Hugging Face causal language model as a policy of :mod:`moo.algorithms.reward_weighting`.

:class:`HFPolicy` wraps a local ``transformers`` causal LM (anything whose forward takes
``input_ids``, ``attention_mask``, ``position_ids`` and returns ``.logits``) and samples with
a caller-controlled ``torch.Generator`` (``model.generate`` cannot take one).
:class:`HFTextTask` turns prompts and a user reward function into the policy-task contract.
Nothing is downloaded: pass a model and tokenizer you already have.

The tokenizer must provide ``__call__(texts, padding=True, return_tensors="pt")`` returning
``input_ids`` and ``attention_mask``, ``decode(ids, skip_special_tokens=True)``,
``eos_token_id`` and ``pad_token_id`` (a ``PreTrainedTokenizer(Fast)`` does). Prompts are
left-padded so that every response starts at the same column.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from moo.algorithms.reward_weighting.contract import Rollouts
from moo.errors import MooTypeError, MooValueError


class HFPolicy(nn.Module):
    """Sampling and token log-probabilities of a causal LM.

    Args:
        model: a ``transformers`` causal LM (e.g. ``AutoModelForCausalLM.from_pretrained(path)``).
        eos_token_id, pad_token_id: special token ids (from the tokenizer).
        temperature: sampling temperature (log-probabilities use the same temperature).

    The wrapped model stays in eval mode (dropout off) whatever ``train()`` says, so that
    training log-probabilities are those of the distribution the responses were sampled from.
    """

    def __init__(self, model: nn.Module, eos_token_id: int, pad_token_id: int, temperature: float = 1.0):
        super().__init__()
        if not isinstance(model, nn.Module):
            raise MooTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if temperature <= 0:
            raise MooValueError(f"temperature must be positive, got {temperature}")
        self.model, self.eos, self.pad, self.temperature = model, int(eos_token_id), int(pad_token_id), float(temperature)
        self.model.eval()

    def train(self, mode: bool = True) -> "HFPolicy":
        super().train(mode)
        self.model.eval()
        return self

    def _forward(self, ids: Tensor, attn: Tensor, past=None, use_cache: bool = False) -> tuple[Tensor, object]:
        pos = (attn.long().cumsum(-1) - 1).clamp_min(0)
        if past is not None:
            pos = pos[:, -ids.shape[1]:]
        out = self.model(input_ids=ids, attention_mask=attn, position_ids=pos, past_key_values=past,
                         use_cache=use_cache)
        return out.logits / self.temperature, getattr(out, "past_key_values", None)

    @torch.no_grad()
    def sample(self, prompt_ids: Tensor, prompt_mask: Tensor, max_new_tokens: int,
               generator: torch.Generator, greedy: bool = False) -> tuple[Tensor, Tensor]:
        """Responses ``[B, T]`` (each ending at ``eos`` or the cap) and their mask."""
        B = prompt_ids.shape[0]
        dev = prompt_ids.device
        attn = prompt_mask.long()
        logits, past = self._forward(prompt_ids, attn, use_cache=True)
        actions = torch.full((B, max_new_tokens), self.pad, dtype=torch.long, device=dev)
        mask = torch.zeros(B, max_new_tokens, dtype=torch.bool, device=dev)
        alive = torch.ones(B, dtype=torch.bool, device=dev)
        for t in range(max_new_tokens):
            last = logits[:, -1].float()
            if greedy:
                tok = last.argmax(-1)
            else:
                tok = torch.multinomial(torch.softmax(last, -1).cpu(), 1, generator=generator)[:, 0].to(dev)
            tok = torch.where(alive, tok, torch.full_like(tok, self.pad))
            actions[:, t], mask[:, t] = tok, alive
            alive = alive & (tok != self.eos)
            if not bool(alive.any()):
                break
            attn = torch.cat([attn, torch.ones(B, 1, dtype=attn.dtype, device=dev)], 1)
            logits, past = self._forward(tok[:, None], attn, past, use_cache=True)
        return actions, mask

    def log_probs(self, prompt_ids: Tensor, prompt_mask: Tensor, actions: Tensor, mask: Tensor) -> Tensor:
        """Per-token log-probabilities ``[B, T]`` of ``actions`` after the prompts."""
        ids = torch.cat([prompt_ids, actions], 1)
        attn = torch.cat([prompt_mask.long(), mask.long()], 1)
        logits, _ = self._forward(ids, attn)
        P = prompt_ids.shape[1]
        logits = logits[:, P - 1:-1]
        lp = torch.log_softmax(logits.float(), -1).gather(-1, actions[..., None])[..., 0]
        return lp * mask


RewardFn = Callable[[Sequence[str], Sequence[str]], Tensor]


class HFTextTask:
    """Prompts + a vector reward function as a policy task for :class:`HFPolicy`.

    Args:
        tokenizer: see the module docstring.
        train_prompts, val_prompts: prompt strings.
        reward_fn: ``reward_fn(prompts, responses) -> [n, m]`` rewards (maximized).
        objective_names: one name per objective.
        max_new_tokens: response length cap.
        val_seed: seed of the sampled validation responses (common random numbers).
        device: where token tensors are built (the model's device).
    """

    def __init__(self, tokenizer, train_prompts: Sequence[str], val_prompts: Sequence[str],
                 reward_fn: RewardFn, objective_names: Sequence[str], *, max_new_tokens: int = 32,
                 val_seed: int = 0, device: torch.device | str = "cpu"):
        if not train_prompts or not val_prompts:
            raise MooValueError("train_prompts and val_prompts must be non-empty")
        self.tokenizer, self.reward_fn = tokenizer, reward_fn
        self.train_prompts, self.val_prompts = list(train_prompts), list(val_prompts)
        self.objective_names = tuple(objective_names)
        self.n_obj = len(self.objective_names)
        self.max_new_tokens, self.val_seed, self.device = int(max_new_tokens), int(val_seed), torch.device(device)

    def prompts(self, n: int, generator: torch.Generator) -> list[str]:
        idx = torch.randint(0, len(self.train_prompts), (n,), generator=generator).tolist()
        return [self.train_prompts[i] for i in idx]

    def _encode(self, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
        tok = self.tokenizer
        side = getattr(tok, "padding_side", None)
        if side is not None:
            tok.padding_side = "left"
        try:
            enc = tok(list(texts), padding=True, return_tensors="pt")
        finally:
            if side is not None:
                tok.padding_side = side
        return enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device)

    def _score(self, prompts: list[str], actions: Tensor, mask: Tensor) -> tuple[list[str], Tensor]:
        texts = [self.tokenizer.decode(a[m].tolist(), skip_special_tokens=True)
                 for a, m in zip(actions.cpu(), mask.cpu())]
        r = torch.as_tensor(self.reward_fn(prompts, texts), dtype=torch.float64)
        if r.shape != (len(prompts), self.n_obj):
            raise MooValueError(f"reward_fn must return shape [{len(prompts)}, {self.n_obj}], got {list(r.shape)}")
        return texts, r

    def sample(self, policy: HFPolicy, prompts, group_size: int, generator: torch.Generator) -> Rollouts:
        rep = [p for p in prompts for _ in range(group_size)]
        ids, attn = self._encode(rep)
        actions, mask = policy.sample(ids, attn, self.max_new_tokens, generator)
        texts, r = self._score(rep, actions, mask)
        return Rollouts((ids, attn), actions, mask, r.reshape(len(prompts), group_size, self.n_obj),
                        {"texts": texts})

    def log_probs(self, policy: HFPolicy, rollouts: Rollouts) -> Tensor:
        ids, attn = rollouts.contexts
        return policy.log_probs(ids, attn, rollouts.actions, rollouts.mask)

    def validate(self, policy: HFPolicy) -> Tensor:
        g = torch.Generator().manual_seed(self.val_seed)
        ids, attn = self._encode(self.val_prompts)
        actions, mask = policy.sample(ids, attn, self.max_new_tokens, g)
        return self._score(self.val_prompts, actions, mask)[1].mean(0)
