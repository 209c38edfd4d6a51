"""Small user-defined problems that tests load by ``module:Class``."""
import time

import torch

from moo import Problem


class Schaffer(Problem):
    """Schaffer's N.1 generalised: f1 = |x|^2, f2 = |x - 2|^2 on [-5, 5]^d (front known)."""

    differentiable = True

    def __init__(self, n_var: int = 2):
        super().__init__(n_var, 2, [[-5.0] * n_var, [5.0] * n_var], name="schaffer")

    def _evaluate(self, X):
        return torch.stack([X.pow(2).sum(-1), (X - 2).pow(2).sum(-1)], -1)

    @property
    def ideal(self):
        return torch.tensor([0.0, 0.0], dtype=torch.float64)

    @property
    def nadir(self):
        return torch.tensor([4.0 * self.n_var, 4.0 * self.n_var], dtype=torch.float64)


class Ring(Problem):
    """Schaffer's two objectives on [-5, 5]^2 with the constraint ``|x| >= radius``; counts the rows
    its constraints are asked about."""

    def __init__(self, radius: float):
        super().__init__(2, 2, [[-5.0, -5.0], [5.0, 5.0]], n_constr=1, name="ring")
        self.radius = radius
        self.constraint_rows = 0

    def _evaluate(self, X):
        return torch.stack([X.pow(2).sum(-1), (X - 2).pow(2).sum(-1)], -1)

    def _constraints(self, X):
        self.constraint_rows += X.shape[0]
        return (self.radius - X.norm(dim=-1)).unsqueeze(-1)


class Slow(Schaffer):
    """Schaffer with a pause per batch, so a CLI run can be killed mid-way."""

    def _evaluate(self, X):
        time.sleep(0.05)
        return super()._evaluate(X)


class Raises(Schaffer):
    def _evaluate(self, X):
        raise RuntimeError("simulator crashed")


class Interrupt(Exception):
    """Raised by :func:`interrupt_at` to stop a run as a crash would."""


def interrupt_at(step):
    """A solve callback that raises :class:`Interrupt` at history record ``step``."""
    def callback(rec):
        if rec["step"] == step:
            raise Interrupt
    return callback
