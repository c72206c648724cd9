"""The SNR plot pools the seeds of one run into a mean ± sd line (one legend entry per run)."""

from jericho_cli.reporting import plots


def _summary(exact_by_snr):
    return {"groups": {"mirror/robust": {"by_snr_db": {str(k): {"exact_match": v} for k, v in exact_by_snr.items()}}}}


def test_seeds_pool_into_one_line(tmp_path, monkeypatch):
    drawn = []
    real = plots.plt.Axes.errorbar

    def spy(self, x, y, yerr=None, **kw):
        drawn.append((list(x), list(y), list(yerr), kw["label"]))
        return real(self, x, y, yerr=yerr, **kw)

    monkeypatch.setattr(plots.plt.Axes, "errorbar", spy)
    summaries = {f"robust_seed{s}/score_x": _summary({10: v, 0: v / 2}) for s, v in enumerate([1.0, 0.8, 0.9])}
    summaries["plain/score_x"] = _summary({10: 0.0})
    assert plots.plot_accuracy_vs_snr(summaries, tmp_path / "snr.png")
    assert (tmp_path / "snr.png").stat().st_size > 0
    by_label = {label: (x, y, sd) for x, y, sd, label in drawn}
    x, y, sd = by_label["robust mirror (3 seeds)"]
    assert x == [10.0, 0.0]
    assert y[0] == 90.0 and abs(sd[0] - 10.0) < 1e-9 and y[1] == 45.0
    assert by_label["plain mirror"] == ([10.0], [0.0], [0.0])


def test_no_noisy_sets_no_plot(tmp_path):
    assert not plots.plot_accuracy_vs_snr({"a/score": {"groups": {"m/t": {}}}}, tmp_path / "snr.png")
    assert not (tmp_path / "snr.png").exists()
