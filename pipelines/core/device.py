"""Where models run and in what precision: CUDA, then Apple MPS, then CPU; half precision on a GPU."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    device: str  # "cuda", "mps" or "cpu"
    dtype_name: str  # "float32", "float16" or "bfloat16"

    @property
    def dtype(self):
        import torch

        return getattr(torch, self.dtype_name)

    @property
    def bytes_per_param(self) -> int:
        return 4 if self.dtype_name == "float32" else 2

    @property
    def is_gpu(self) -> bool:
        return self.device != "cpu"


def choose_placement(device: str = "auto", dtype: str = "auto") -> Placement:
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    if dtype == "auto":
        # float16 halves memory and is what GPUs are fast at; CPUs here have no fast half precision.
        dtype = "float32" if device == "cpu" else "float16"
    return Placement(device, dtype)


def free_memory_bytes(placement: Placement) -> int:
    """Memory free now on the device models will use (RAM for CPU and MPS, VRAM for CUDA)."""
    if placement.device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    import psutil

    return int(psutil.virtual_memory().available)
