"""`jericho probe`: what a model's recurrent state holds (state norms, linear probes, structure)."""

from ..cli import step


@step("probe", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def probe():
    """State analysis of a checkpoint or of feature sequences (not implemented yet: issue #10)."""
    from ..analysis.probe import run

    run()  # raises UsageError (exit 2) until issue #10 lands
