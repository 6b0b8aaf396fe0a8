"""The PyTorch ``.bin`` check that runs before transformers reads a checkpoint's weights."""

import pickle

import numpy as np
import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.lm.checkpoint import check_torch_bin


@pytest.mark.parametrize("legacy", [False, True])
def test_a_tensor_only_bin_passes(tmp_path, legacy):
    file = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.zeros(3, 2)}, file, _use_new_zipfile_serialization=not legacy)
    check_torch_bin(file)


def test_random_bytes_are_always_one_sentence(tmp_path):
    """On random bytes the weights-only unpickler fails in many ways (IndexError, EOFError,
    UnpicklingError...); every one of them must become the same WorkbenchError. Seeded, so a
    failure here reproduces."""
    rng = np.random.default_rng(0)
    file = tmp_path / "pytorch_model.bin"
    for size in rng.integers(1, 8192, size=300):
        file.write_bytes(rng.bytes(int(size)))
        with pytest.raises(WorkbenchError, match="damaged or holds pickled objects"):
            check_torch_bin(file)


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickled_object_is_refused_without_running(tmp_path):
    file = tmp_path / "pytorch_model.bin"
    file.write_bytes(pickle.dumps({"w": _Payload(tmp_path / "PWNED")}))
    with pytest.raises(WorkbenchError):
        check_torch_bin(file)
    assert not (tmp_path / "PWNED").exists()
