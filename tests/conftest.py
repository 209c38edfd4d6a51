import os
import sys

import pytest
import torch

# user-problem modules used by CLI tests (``--problem toy_problems:Slow``) live beside the tests
sys.path.insert(0, os.path.dirname(__file__))
# tiny tensors: one thread avoids oversubscription when several workers share the cores
torch.set_num_threads(1)


@pytest.fixture
def shared_dir():
    """``../shared`` beside the checkout, or skip when it is absent."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "shared")
    if not os.path.isdir(path):
        pytest.skip("../shared is not present")
    return os.path.abspath(path)
