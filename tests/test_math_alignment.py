"""The built-in math-alignment task: questions, the paper's three rewards, warm start, training."""
import torch

from moo.algorithms.reward_weighting import FixedWeights, RewardWeightingTrainer
from moo.problems.math_alignment import (EOS, CharGRUPolicy, MathAlignmentTask, decode, encode,
                                         make_questions, rewards_of, solution, warm_start)


def test_questions_and_solutions_are_correct():
    for text, s, r in make_questions(50, torch.Generator().manual_seed(0)):
        a, p, b, q, c = int(text[1]), text[2], int(text[3]), text[5], int(text[6])
        inner = a + b if p == "+" else a - b
        assert s == inner and r == (inner + c if q == "+" else inner - c)
    q = ("(3+4)-5", 7, 2)
    assert solution(q, "full") == "#3+4=7#7-5=2\\boxed{2}"
    assert solution(q, "direct") == "\\boxed{2}"
    assert solution(q, "verbose").startswith("#(3+4)-5#")
    assert decode(encode("#1+2=3") + [EOS] + encode("99")) == "#1+2=3"


def test_rewards_hand_cases():
    responses = ["#3+4=7#7-5=2\\boxed{2}", "\\boxed{2}", "#3+4=7#7-5=2", "#3+4=7\\boxed{3}", "\\boxed{-2}"]
    r = rewards_of(responses, [2, 2, 2, 2, -2], mean_length=12.0)
    expected = torch.tensor([[1, 0, 1],      # correct, long, boxed + 2 steps
                             [1, 1, 0],      # correct, short (9 < 12), no steps
                             [0, 0, 0],      # no box: not accurate, 12 is not < 12, no format
                             [0, 0, 0],      # wrong answer, one step only
                             [1, 1, 0]], dtype=torch.float64)
    assert torch.equal(r, expected)


def test_warm_start_and_a_short_training_run():
    torch.manual_seed(0)
    policy = CharGRUPolicy(embed=16, hidden=32)
    losses = warm_start(policy, steps=15, batch=16, seed=0)
    assert sum(losses[-3:]) / 3 < 0.9 * losses[0]
    state = {k: v.clone() for k, v in policy.state_dict().items()}
    task = MathAlignmentTask(n_val=16)
    assert task.mean_length is None
    trainer = RewardWeightingTrainer(policy, task, FixedWeights([1, 1, 1]), estimator="grpo",
                                     group_size=4, batch_prompts=4, device="cpu", seed=0)
    hist = trainer.fit(2)
    assert len(hist) == 3
    assert all(0 <= v <= 1 for h in hist for v in h["objectives"])
    assert task.length_count == 2 * 16 and task.mean_length > 0
    # same seed, same start -> same history
    p2 = CharGRUPolicy(embed=16, hidden=32)
    p2.load_state_dict(state)
    h2 = RewardWeightingTrainer(p2, MathAlignmentTask(n_val=16), FixedWeights([1, 1, 1]), estimator="grpo",
                                group_size=4, batch_prompts=4, device="cpu", seed=0).fit(2)
    assert [h["objectives"] for h in h2] == [h["objectives"] for h in hist]


def test_log_probs_match_sampling_distribution():
    torch.manual_seed(1)
    policy = CharGRUPolicy(embed=8, hidden=16)
    task = MathAlignmentTask(n_val=4, max_len=6)
    ro = task.sample(policy, task.prompts(2, torch.Generator().manual_seed(0)), 3, torch.Generator().manual_seed(1))
    lp = task.log_probs(policy, ro)
    assert lp.shape == ro.actions.shape and bool((lp[~ro.mask] == 0).all())
    # step by step re-scoring of the first rollout with the recurrent state
    prompt, acts = ro.contexts[0:1], ro.actions[0]
    logits, h = policy._logits(prompt)
    total = 0.0
    for t in range(int(ro.mask[0].sum())):
        total += torch.log_softmax(logits[0, -1], -1)[acts[t]].item()
        logits, h = policy._logits(acts[t].view(1, 1), h)
    assert abs(total - lp[0].sum().item()) < 1e-4


class _FixedAnswer(torch.nn.Module):
    """A stub policy that answers every question with the same text."""

    def __init__(self, text: str):
        super().__init__()
        self.ids = encode(text) + [EOS]

    def sample(self, prompts, max_len, generator, greedy=False):
        actions = torch.tensor([self.ids] * prompts.shape[0])
        return actions, torch.ones_like(actions, dtype=torch.bool)


def test_validation_depends_on_the_policy_only():
    task = MathAlignmentTask(n_val=32, max_len=40)
    answers = [q[2] for q in task.val_questions]
    bare = task.validate(_FixedAnswer("\\boxed{2}"))
    # conciseness is 1 - mean length / max_len: 9 characters out of 40
    assert torch.allclose(bare, torch.tensor([answers.count(2) / 32, 1 - 9 / 40, 0.0], dtype=torch.float64))
    worked = _FixedAnswer("#1+1=2#2+0=2\\boxed{2}")
    before = task.validate(worked)
    assert before[1].item() == 1 - 21 / 40 and before[2].item() == 1.0
    # the training reward's running mean moves; the validation vector must not
    for mean in (5.0, 100.0):
        task.length_sum, task.length_count = mean * 10, 10
        assert torch.equal(task.validate(worked), before)
