"""Hugging Face causal-LM adapter, with a tiny randomly initialised GPT-2 and a character-level
tokenizer built locally (``tokenizers`` WordLevel + ``PreTrainedTokenizerFast``); nothing is downloaded."""
import pytest
import torch

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from moo.algorithms.reward_weighting import FixedWeights, RewardWeightingTrainer  # noqa: E402
from moo.problems.hf_policy import HFPolicy, HFTextTask  # noqa: E402

CHARS = "abcdefghijklmnopqrstuvwxyz ?!.0123456789"


@pytest.fixture(scope="module")
def tiny():
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{c: i + 3 for i, c in enumerate(CHARS)}}
    tk = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = tokenizers.pre_tokenizers.Split(tokenizers.Regex("."), behavior="isolated")
    tk.decoder = tokenizers.decoders.Fuse()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>",
                                               unk_token="<unk>")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(vocab), n_layer=1, n_embd=32, n_head=2, n_positions=64,
                                     bos_token_id=1, eos_token_id=1, pad_token_id=0)
    model = transformers.GPT2LMHeadModel(config)
    return tok, HFPolicy(model, tok.eos_token_id, tok.pad_token_id)


def reward_fn(prompts, responses):
    """Two toy objectives: the share of 'a' characters, and brevity."""
    return torch.tensor([[r.count("a") / max(len(r), 1), 1.0 - len(r) / 12] for r in responses])


def test_log_probs_match_an_unpadded_forward(tiny):
    tok, policy = tiny
    task = HFTextTask(tok, ["hello", "a longer prompt"], ["hi"], reward_fn, ("a", "short"), max_new_tokens=6)
    ro = task.sample(policy, ["hello", "a longer prompt"], 2, torch.Generator().manual_seed(0))
    assert ro.rewards.shape == (2, 2, 2) and ro.actions.shape[0] == 4
    lp = task.log_probs(policy, ro)
    assert bool((lp[~ro.mask] == 0).all())
    # rollout 2 belongs to the left-padded prompt set; score it again with no padding at all
    ids = tok(["a longer prompt"], return_tensors="pt")["input_ids"]
    n = int(ro.mask[2].sum())
    full = torch.cat([ids, ro.actions[2:3, :n]], 1)
    logits = policy.model(input_ids=full).logits[0, ids.shape[1] - 1:-1]
    ref = torch.log_softmax(logits, -1).gather(-1, ro.actions[2, :n, None])[:, 0]
    assert torch.allclose(lp[2, :n], ref, atol=1e-4)


def test_training_steps_and_validation(tiny):
    tok, policy = tiny
    task = HFTextTask(tok, ["say a", "say b", "hi"], ["say a", "hi"], reward_fn, ("a", "short"), max_new_tokens=8)
    before = [p.detach().clone() for p in policy.parameters()]
    trainer = RewardWeightingTrainer(policy, task, FixedWeights([0.5, 0.5]), estimator="rloo", group_size=3,
                                     batch_prompts=2, lr=1e-3, device="cpu", seed=0)
    hist = trainer.fit(2)
    assert len(hist) == 3 and len(hist[-1]["objectives"]) == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, policy.parameters()))
    v1, v2 = task.validate(policy), task.validate(policy)
    assert torch.equal(v1, v2)     # validation uses a fixed generator
