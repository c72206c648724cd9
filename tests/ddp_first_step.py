"""First-step gradients of `jericho train`'s own code path, for tests/test_distributed.py.

    python ddp_first_step.py OUT.pt BATCH [--set key=value ...]              # one process
    torchrun --nproc-per-node 2 ddp_first_step.py OUT.pt BATCH [--set ...]  # DDP, gloo on CPU

Rank 0 saves {parameter name: gradient} after the first step's backward (before clipping).
"""

import sys

import torch

from jericho_cli.config import load_config
from jericho_cli.data import pools
from jericho_cli.data.codebook import Codebook
from jericho_cli.training import distributed
from jericho_cli.training.batches import Batches
from jericho_cli.training.loop import backward, build

out, batch_size, sets = sys.argv[1], sys.argv[2], [a for a in sys.argv[3:] if a != "--set"]
cfg = load_config(None, sets + [f"train.batch_size={batch_size}"])
cb = Codebook.load(None)
cfg["model"]["n_symbols"] = len(cb.alphabet)
model = build(cfg, cb)
device = distributed.setup(torch.device("cpu"))
rank = distributed.world()[1]
net = distributed.wrap(model)
task = cfg["train"]["task"]
level = pools.split_levels(task, "train", cfg["data"])[-1]
exs = Batches(cfg, cb).examples(0, task, level, rank)
backward(net, model, exs, cfg, {s: i for i, s in enumerate(cb.alphabet)}, device, 0)
if rank == 0:
    torch.save({name: p.grad for name, p in model.named_parameters() if p.grad is not None}, out)
distributed.teardown()
