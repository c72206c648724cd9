"""State analyses of a checkpoint: state norms vs length, linear probes, latent structure (issue #10)."""

from ..errors import UsageError


def run(*args, **kwargs):
    raise UsageError("not implemented yet (analyses planned: state-norms, linear-probes, structure, "
                     "predictability)")
