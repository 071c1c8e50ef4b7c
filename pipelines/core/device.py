"""Where models run and in what precision: CUDA, then Apple MPS, then CPU; half precision on a GPU; and, on a
CPU, which engine runs them and how their weights are quantized (a loader reads `engine` and `quantize`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    device: str  # "cuda", "mps" or "cpu"
    dtype_name: str  # "float32", "float16" or "bfloat16"
    # Settings.engine / Settings.quantize as they apply here: "auto" lets each loader pick what measured best
    # for its task on a CPU; a GPU always gets ("torch", "none"), the fp16 path.
    engine: str = "torch"
    quantize: str = "none"

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


def choose_placement(device: str = "auto", dtype: str = "auto", engine: str = "torch",
                     quantize: str = "none") -> Placement:
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
    if device != "cpu":  # the faster engines and int8/int4 kernels here are CPU paths
        engine, quantize = "torch", "none"
    return Placement(device, dtype, engine, quantize)


def free_memory_bytes(placement: Placement) -> int:
    """Memory free now on the device models will use (RAM for CPU and MPS, VRAM for CUDA)."""
    if placement.device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    import psutil

    return int(psutil.virtual_memory().available)
