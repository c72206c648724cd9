"""Several processes under torchrun: NCCL on GPUs, gloo on CPU (one code path)."""

from __future__ import annotations

import os

import torch


def world() -> tuple[int, int]:
    """(world size, rank) as torchrun sets them; (1, 0) for a plain process."""
    return int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))


def setup(device: torch.device) -> torch.device:
    """Join the process group when launched by torchrun; the device this process trains on."""
    size, _ = world()
    if size > 1:
        import torch.distributed as dist

        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
    return device


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    return torch.nn.parallel.DistributedDataParallel(model) if world()[0] > 1 else model
