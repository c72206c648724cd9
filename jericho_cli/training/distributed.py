"""Several processes under torchrun: NCCL on GPUs, gloo on CPU (one code path)."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """(world size, rank) as torchrun sets them; (1, 0) for a plain process."""
    return int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))


def setup(device: torch.device) -> torch.device:
    """Join the process group when launched by torchrun; the device this process trains on."""
    size, _ = world()
    if size > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
    return device


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    return torch.nn.parallel.DistributedDataParallel(model) if world()[0] > 1 else model


def sum_over_processes(x: torch.Tensor) -> torch.Tensor:
    """x (detached) summed over the processes of a running process group (x itself in a plain process)."""
    x = x.detach().clone()
    if dist.is_initialized():
        dist.all_reduce(x)
    return x


def mean_over_processes(x: torch.Tensor) -> torch.Tensor:
    """x averaged over the processes of a running process group (x itself in a plain process)."""
    if not dist.is_initialized():
        return x
    x = x.detach().clone()
    dist.all_reduce(x)
    return x / dist.get_world_size()


def barrier() -> None:
    """Wait for every process of a running process group (nothing in a plain process)."""
    if dist.is_initialized():
        dist.barrier()


def teardown() -> None:
    """Leave the process group (a no-op in a plain process)."""
    if dist.is_initialized():
        dist.destroy_process_group()
