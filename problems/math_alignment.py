"""A built-in math-alignment task that trains on CPU in minutes.

The CPU-sized analogue of the math setting of Lu et al., "Learning to Optimize
Multi-Objective Alignment Through Dynamic Reward Weighting" (2025): a small character-level
GRU policy answers generated arithmetic questions ``(a o1 b) o2 c`` (digits ``a, b, c``,
``o1, o2`` in ``+ -``), and each response gets the paper's three 0/1 rewards:

* **accuracy** — the last ``\\boxed{...}`` holds the correct value;
* **conciseness** — the response is shorter than the running mean length of the training
  responses sampled so far (the mean of the current batch when none has been seen yet);
* **format** — a ``\\boxed{...}`` answer and at least two step markers ``#``.

**Validation objectives** (:meth:`MathAlignmentTask.validate`) are accuracy and format rates as
above, but conciseness is ``1 - mean length / max_len``, a function of the policy alone. The
running-mean test is a fine training reward but a broken measurement: it changes as training
goes on even when the policy does not, and on this task it flips on a knife edge. A trained
policy writes the compact worked solution, whose length is set by the question (21 to 27
characters, by the digits of the intermediate results), and the running mean creeps towards 23
as early short answers are averaged out; when it passes 23.0 the share of "concise" validation
responses jumps from 0.38 to 0.67 with no change of policy. (The paper's reference code also
evaluates conciseness as a mean response length.)

The warm start (:func:`warm_start`) is a short supervised phase on a mixture of answer
styles, so the initial policy spreads over the trade-off: worked solutions with a box
(``#3+4=7#7+5=12\\boxed{12}``), verbose ones that restate the question first, bare boxed
answers (``\\boxed{12}``: concise, no steps) and worked solutions without a box. The policy
conforms to the contract of :mod:`moo.algorithms.reward_weighting` through
:class:`MathAlignmentTask`.
"""
from __future__ import annotations

import re

import torch
from torch import Tensor, nn

from moo.algorithms.reward_weighting.contract import Rollouts
from moo.errors import MooValueError

PAD, BOS, EOS = 0, 1, 2
CHARS = "0123456789+-*()=#\\boxed{}"
VOCAB = ["<pad>", "<bos>", "<eos>"] + list(dict.fromkeys(CHARS))
STOI = {c: i for i, c in enumerate(VOCAB)}
OBJECTIVES = ("accuracy", "conciseness", "format")
STYLES = ("full", "verbose", "direct", "plain")
STYLE_PROBS = (0.4, 0.2, 0.2, 0.2)
_BOXED = re.compile(r"\\boxed\{(-?\d+)\}")


def encode(text: str) -> list[int]:
    """Character ids of ``text`` (every character must be in the vocabulary)."""
    try:
        return [STOI[ch] for ch in text]
    except KeyError as exc:
        raise MooValueError(f"character {exc.args[0]!r} is not in the math task's vocabulary") from None


def decode(ids) -> str:
    """Text of ids, stopping at ``<eos>`` and skipping padding."""
    out = []
    for i in ids:
        i = int(i)
        if i == EOS:
            break
        if i > EOS:
            out.append(VOCAB[i])
    return "".join(out)


def make_questions(n: int, generator: torch.Generator) -> list[tuple[str, int, int]]:
    """``n`` questions ``(text, intermediate, answer)`` drawn with ``generator``."""
    digits = torch.randint(0, 10, (n, 3), generator=generator).tolist()
    o1 = torch.randint(0, 2, (n,), generator=generator).tolist()
    o2 = torch.randint(0, 2, (n,), generator=generator).tolist()
    ops = {"+": lambda x, y: x + y, "-": lambda x, y: x - y}
    out = []
    for (a, b, c), i, j in zip(digits, o1, o2):
        p, q = "+-"[i], "+-"[j]
        s = ops[p](a, b)
        out.append((f"({a}{p}{b}){q}{c}", s, ops[q](s, c)))
    return out


def solution(question: tuple[str, int, int], style: str) -> str:
    """The reference response of ``question`` in one of :data:`STYLES`."""
    text, s, r = question
    a, p, b, q, c = text[1], text[2], text[3], text[5], text[6]
    steps = f"#{a}{p}{b}={s}#{s}{q}{c}={r}"
    box = f"\\boxed{{{r}}}"
    return {"full": steps + box, "verbose": f"#{text}" + steps + box, "direct": box, "plain": steps}[style]


def rewards_of(responses: list[str], answers: list[int], mean_length: float) -> Tensor:
    """The three 0/1 rewards ``[n, 3]`` (accuracy, conciseness, format)."""
    out = torch.zeros(len(responses), 3, dtype=torch.float64)
    for k, (resp, ans) in enumerate(zip(responses, answers)):
        boxed = _BOXED.findall(resp)
        out[k, 0] = float(bool(boxed) and int(boxed[-1]) == ans)
        out[k, 1] = float(len(resp) < mean_length)
        out[k, 2] = float(bool(boxed) and resp.count("#") >= 2)
    return out


class CharGRUPolicy(nn.Module):
    """A one-layer GRU over characters: ``sample`` responses, score ``log_probs``."""

    def __init__(self, vocab_size: int = len(VOCAB), embed: int = 32, hidden: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.gru = nn.GRU(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def _logits(self, ids: Tensor, h: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out, h = self.gru(self.embed(ids), h)
        return self.head(out), h

    def log_probs(self, prompts: Tensor, actions: Tensor, mask: Tensor) -> Tensor:
        """Per-token log-probabilities ``[B, T]`` of ``actions`` after ``prompts [B, P]``."""
        ids = torch.cat([prompts, actions[:, :-1]], 1)
        logits, _ = self._logits(ids)
        logits = logits[:, prompts.shape[1] - 1:]
        lp = torch.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        return lp * mask

    @torch.no_grad()
    def sample(self, prompts: Tensor, max_len: int, generator: torch.Generator,
               greedy: bool = False) -> tuple[Tensor, Tensor]:
        """Sample responses ``[B, T]`` (ending with ``<eos>``) and their mask."""
        logits, h = self._logits(prompts)
        last = logits[:, -1]
        B = prompts.shape[0]
        actions = torch.full((B, max_len), PAD, dtype=torch.long, device=prompts.device)
        alive = torch.ones(B, dtype=torch.bool, device=prompts.device)
        mask = torch.zeros(B, max_len, dtype=torch.bool, device=prompts.device)
        for t in range(max_len):
            if greedy:
                tok = last.argmax(-1)
            else:
                probs = torch.softmax(last.float(), -1).cpu()
                tok = torch.multinomial(probs, 1, generator=generator).squeeze(-1).to(prompts.device)
            tok = torch.where(alive, tok, torch.full_like(tok, PAD))
            actions[:, t] = tok
            mask[:, t] = alive
            alive = alive & (tok != EOS)
            if not bool(alive.any()):
                break
            step_logits, h = self._logits(tok[:, None], h)
            last = step_logits[:, -1]
        return actions, mask


def _prompt_tensor(questions, device) -> Tensor:
    return torch.tensor([[BOS] + encode(q[0]) for q in questions], dtype=torch.long, device=device)


def warm_start(policy: CharGRUPolicy, *, steps: int = 600, batch: int = 64, lr: float = 5e-3,
               seed: int = 0, device: torch.device | str = "cpu") -> list[float]:
    """Supervised warm start on the style mixture :data:`STYLE_PROBS`; returns the losses."""
    g = torch.Generator().manual_seed(int(seed))
    policy.to(device).train()
    opt = torch.optim.Adam(policy.parameters(), lr=lr)
    probs = torch.tensor(STYLE_PROBS)
    losses = []
    for _ in range(int(steps)):
        qs = make_questions(batch, g)
        styles = torch.multinomial(probs, batch, replacement=True, generator=g).tolist()
        targets = [encode(solution(q, STYLES[s])) + [EOS] for q, s in zip(qs, styles)]
        T = max(map(len, targets))
        actions = torch.tensor([t + [PAD] * (T - len(t)) for t in targets], dtype=torch.long, device=device)
        mask = actions != PAD
        lp = policy.log_probs(_prompt_tensor(qs, device), actions, mask)
        loss = -lp.sum() / mask.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    policy.eval()
    return losses


class MathAlignmentTask:
    """The math-alignment policy task (see module docstring).

    Args:
        n_val: validation questions (fixed by ``val_seed``), scored with sampled responses
            drawn from a generator re-seeded on each call (common random numbers).
        max_len: longest response in characters.
        val_seed: seed of the validation questions and sampling.
        device: where prompts are built (the policy's device).
    """

    n_obj = 3
    objective_names = OBJECTIVES

    def __init__(self, *, n_val: int = 128, max_len: int = 40, val_seed: int = 12345,
                 device: torch.device | str = "cpu"):
        self.max_len, self.val_seed, self.device = int(max_len), int(val_seed), torch.device(device)
        self.val_questions = make_questions(int(n_val), torch.Generator().manual_seed(self.val_seed + 1))
        self.length_sum, self.length_count = 0.0, 0

    @property
    def mean_length(self) -> float | None:
        return self.length_sum / self.length_count if self.length_count else None

    def prompts(self, n: int, generator: torch.Generator) -> list[tuple[str, int, int]]:
        return make_questions(n, generator)

    def _respond(self, policy, questions, generator, repeat: int = 1):
        qs = [q for q in questions for _ in range(repeat)]
        prompt = _prompt_tensor(qs, self.device)
        actions, mask = policy.sample(prompt, self.max_len, generator)
        texts = [decode(a) for a in actions.tolist()]
        return qs, prompt, actions, mask, texts

    def sample(self, policy, prompts, group_size: int, generator: torch.Generator) -> Rollouts:
        qs, prompt, actions, mask, texts = self._respond(policy, prompts, generator, group_size)
        lengths = [len(t) for t in texts]
        mean = self.mean_length if self.length_count else sum(lengths) / len(lengths)
        r = rewards_of(texts, [q[2] for q in qs], mean)
        self.length_sum += float(sum(lengths))
        self.length_count += len(lengths)
        return Rollouts(prompt, actions, mask, r.reshape(len(prompts), group_size, 3),
                        {"texts": texts, "mean_length": mean})

    def log_probs(self, policy, rollouts: Rollouts) -> Tensor:
        return policy.log_probs(rollouts.contexts, rollouts.actions, rollouts.mask)

    def validate(self, policy) -> Tensor:
        """Validation (accuracy, conciseness, format): conciseness is ``1 - mean length / max_len``
        (see module docstring), so the vector depends on the policy only."""
        g = torch.Generator().manual_seed(self.val_seed)
        qs, _, _, _, texts = self._respond(policy, self.val_questions, g)
        out = rewards_of(texts, [q[2] for q in qs], mean_length=0.0).mean(0)
        out[1] = 1.0 - sum(map(len, texts)) / (len(texts) * self.max_len)
        return out
