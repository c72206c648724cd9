"""State-channel pruning of SSD layers: selective, random and learned keep masks (issue #10)."""

from ..errors import UsageError


def run(*args, **kwargs):
    raise UsageError("not implemented yet (modes planned: selective, random, learned)")
