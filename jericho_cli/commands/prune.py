"""`jericho prune`: keep a fraction of each SSD layer's state channels and measure what is lost."""

from ..cli import step


@step("prune", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def prune():
    """SSM state-channel pruning of a checkpoint (not implemented yet: issue #10)."""
    from ..analysis.prune import run

    run()  # raises UsageError (exit 2) until issue #10 lands
