"""A two-task image problem from scikit-learn's bundled ``load_digits`` (the Multi-MNIST
construction of Sabour et al. 2017, as used by PHN — Navon et al., ICLR 2021 — shrunk to 8 × 8).

Each example overlays two digits on one ``8 × (8 + shift)`` canvas, the first at the left edge and
the second ``shift`` columns to the right, combined by pixel-wise maximum (symmetric: neither
digit is drawn over the other, the two share the ``8 - shift`` middle columns); task 1 predicts
the left digit, task 2 the right one. Train, validation and test images are composed from disjoint
parts (50 / 20 / 30 %) of the 1,797 digits (a seeded split), so no validation or test digit is
seen in training.

The decision vector is the flat parameter vector of a small shared-trunk network
``x -> relu(W1 x + b1) -> (W_left h + b_left, W_right h + b_right)``; the objectives are the two
mean cross-entropy losses on the training set. ``evaluate`` is batched over parameter vectors and
differentiable, so gradient-based learners (PHN, PSL) train through it.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError
from moo.problem import Problem
from moo.registry import register_problem


def compose_digits(images: np.ndarray, labels: np.ndarray, n: int, shift: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random overlapping pairs: images ``[n, 8, 8 + shift]`` in ``[0, 1]`` and labels ``[n, 2]``."""
    i, j = rng.integers(0, len(images), size=(2, n))
    h, w = images.shape[1:]
    canvas = np.zeros((n, h, w + shift))
    canvas[:, :, :w] = images[i]
    canvas[:, :, shift:] = np.maximum(canvas[:, :, shift:], images[j])
    return canvas, np.stack([labels[i], labels[j]], -1)


@register_problem("multitask-digits")
class MultiTaskDigits(Problem):
    """Left/right digit classification on overlapping ``load_digits`` pairs (two CE losses).

    Args:
        n_train, n_val, n_test: composed examples in each split.
        shift: horizontal offset of the right digit (4: the digits overlap by half).
        hidden: width of the shared hidden layer of the target network.
        seed: the split and the pairing (the data set is fixed by it, not by the solver's seed).
    """

    differentiable = True
    N_CLASSES = 10

    def __init__(self, n_train: int = 2000, n_val: int = 500, n_test: int = 1000, shift: int = 4, hidden: int = 32,
                 seed: int = 0):
        for arg, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test), ("shift", shift),
                           ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MooValueError(f"{arg} must be a positive integer, got {value!r}")
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = digits.images / 16.0
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(images))
        cut = np.cumsum([int(0.5 * len(images)), int(0.2 * len(images))])
        self.data = {}
        for split, idx, n in (("train", order[:cut[0]], n_train), ("val", order[cut[0]:cut[1]], n_val),
                              ("test", order[cut[1]:], n_test)):
            x, y = compose_digits(images[idx], digits.target[idx], n, shift, rng)
            self.data[split] = (torch.as_tensor(x.reshape(n, -1)), torch.as_tensor(y))
        self.image_shape = x.shape[1:]
        self.n_in = int(np.prod(self.image_shape))
        self.hidden = hidden
        # (name, shape) of each parameter tensor, in the order of the flat vector
        self.layout = [("W1", (hidden, self.n_in)), ("b1", (hidden,)),
                       ("W_left", (self.N_CLASSES, hidden)), ("b_left", (self.N_CLASSES,)),
                       ("W_right", (self.N_CLASSES, hidden)), ("b_right", (self.N_CLASSES,))]
        n_var = sum(math.prod(s) for _, s in self.layout)
        bound = 10.0  # nominal box: trained weights stay far inside it
        super().__init__(n_var, 2, [[-bound] * n_var, [bound] * n_var], name="multitask-digits")

    def unflatten(self, X: Tensor) -> dict[str, Tensor]:
        """The flat parameters ``X [B, n_var]`` as named tensors ``[B, *shape]``."""
        out, start = {}, 0
        for name, shape in self.layout:
            size = math.prod(shape)
            out[name] = X[:, start:start + size].reshape(X.shape[0], *shape)
            start += size
        return out

    def logits(self, X: Tensor, split: str = "train") -> tuple[Tensor, Tensor]:
        """Logits of the left and right heads, each ``[B, n_examples, 10]`` for ``X [B, n_var]``."""
        if split not in self.data:
            raise MooValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        if X.dim() != 2 or X.shape[-1] != self.n_var:
            raise ShapeError(f"X must have shape [B, {self.n_var}], got {list(X.shape)}")
        inputs = self.data[split][0].to(X)
        p = self.unflatten(X)
        h = torch.relu(torch.einsum("nd,bhd->bnh", inputs, p["W1"]) + p["b1"].unsqueeze(1))
        left = torch.einsum("bnh,bch->bnc", h, p["W_left"]) + p["b_left"].unsqueeze(1)
        right = torch.einsum("bnh,bch->bnc", h, p["W_right"]) + p["b_right"].unsqueeze(1)
        return left, right

    def losses(self, X: Tensor, split: str = "train") -> Tensor:
        """Mean cross-entropy of each task, ``[..., 2]``, on ``split``."""
        flat = X.reshape(-1, self.n_var)
        labels = self.data[split][1].to(X.device)
        out = []
        for task, logits in enumerate(self.logits(flat, split)):
            logp = torch.log_softmax(logits, -1)
            target = labels[:, task].expand(flat.shape[0], -1).unsqueeze(-1)
            out.append(-logp.gather(-1, target).squeeze(-1).mean(-1))
        return torch.stack(out, -1).reshape(X.shape[:-1] + (2,))

    def accuracy(self, X: Tensor, split: str = "test") -> Tensor:
        """Accuracy of each task, ``[..., 2]``, on ``split``."""
        flat = X.reshape(-1, self.n_var)
        labels = self.data[split][1].to(X.device)
        acc = [(lg.argmax(-1) == labels[:, t]).to(X.dtype).mean(-1) for t, lg in enumerate(self.logits(flat, split))]
        return torch.stack(acc, -1).reshape(X.shape[:-1] + (2,))

    def initial_weights(self, generator: torch.Generator) -> Tensor:
        """A flat parameter vector ``[n_var]`` drawn like PyTorch's ``nn.Linear`` default
        (uniform on ``±1/sqrt(fan_in)``), from ``generator``."""
        parts = []
        for name, shape in self.layout:
            fan_in = self.n_in if name in ("W1", "b1") else self.hidden
            u = torch.rand(math.prod(shape), generator=generator, dtype=torch.float64)
            parts.append((2 * u - 1) / math.sqrt(fan_in))
        return torch.cat(parts)

    def _evaluate(self, X: Tensor) -> Tensor:
        return self.losses(X, "train")

    @property
    def ideal(self) -> Tensor:
        return torch.zeros(2, dtype=torch.float64)

    @property
    def ref_point(self) -> Tensor:
        """``ln 10`` per task: the loss of the uniform prediction, so hypervolume counts only
        what beats chance."""
        return torch.full((2,), math.log(self.N_CLASSES), dtype=torch.float64)
