"""Mini-JMamba: SSD maths, streaming, parameter counts, training, decode, resume."""

import json
import logging

from pathlib import Path

import pytest
import torch

from jericho_cli.config import ModelConfig
from jericho_cli.errors import JerichoError
from jericho_cli.model.mini_jmamba import MiniJMamba
from jericho_cli.model.ssd import Mamba2Layer, auto_chunk, ssd_chunked, ssd_chunked_reference, ssd_recurrent
from jericho_cli.training.optim import build_optimizer


def _inputs(b=2, l=77, h=4, p=8, g=2, n=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    f = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)  # noqa: E731
    return dict(x=f(b, l, h, p), dt=torch.rand(b, l, h, generator=gen, dtype=torch.float64) * 0.5,
                A=-torch.rand(h, generator=gen, dtype=torch.float64) * 4, B=f(b, l, g, n), C=f(b, l, g, n),
                D=f(h), initial_state=f(b, h, p, n))


@pytest.mark.parametrize("scan", [ssd_chunked, ssd_chunked_reference])
@pytest.mark.parametrize("neg_eig", [False, True])
@pytest.mark.parametrize("chunk,length,groups", [(8, 77, 2), (16, 50, 1), (64, 33, 4), (32, 96, 1), (128, 5, 2),
                                                 (8, 300, 1)])  # 300 / 8: more chunks than one matrix takes
def test_chunked_equals_recurrence_forward_and_gradients(chunk, length, groups, neg_eig, scan):
    """Both chunked scans (the fast one and the reference written as the maths reads) against the
    step-by-step recurrence in float64: ragged lengths, groups of heads, [-1, 1] eigenvalues, an
    initial state; outputs, final state and every input's gradient."""
    args = _inputs(l=length, g=groups)
    for v in args.values():
        v.requires_grad_(True)
    y0, s0 = ssd_recurrent(**args, neg_eig=neg_eig)
    y1, s1 = scan(**args, chunk_size=chunk, neg_eig=neg_eig)
    torch.testing.assert_close(y1, y0, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(s1, s0, rtol=1e-10, atol=1e-10)
    w = torch.randn_like(y0)
    g0 = torch.autograd.grad((y0 * w).sum() + s0.sum(), list(args.values()))
    g1 = torch.autograd.grad((y1 * w).sum() + s1.sum(), list(args.values()))
    for a, b in zip(g0, g1):
        torch.testing.assert_close(b, a, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("neg_eig", [False, True])
def test_whole_model_gradients_equal_a_one_step_at_a_time_scan(neg_eig, monkeypatch):
    # the [-1, 1] path through the whole model (front end, SSD + attention, heads, losses' inputs):
    # every parameter's gradient with the chunked scan equals the one with the sequential recurrence
    import jericho_cli.model.ssd as ssd_mod
    torch.manual_seed(0)
    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "downsample": 2, "neg_eig": neg_eig,
                                          "chunk_size": 16})).double()
    torch.nn.init.normal_(m.out_head.weight, std=0.1)
    wave, n = torch.randn(2, 4000, dtype=torch.float64) * 0.1, torch.tensor([4000, 3000])

    def grads():
        m.zero_grad()
        out = m(wave, n)
        w = torch.linspace(-1, 1, out["log_mag"].numel(), dtype=torch.float64).view_as(out["log_mag"])
        ((out["log_mag"] * w).sum() + out["ctc"].pow(2).mean()).backward()
        return {k: p.grad.clone() for k, p in m.named_parameters() if p.grad is not None}

    chunked = grads()
    calls = []

    def sequential_scan(x, dt, A, B, C, chunk_size=64, D=None, initial_state=None, neg_eig=False):
        calls.append(neg_eig)
        return ssd_mod.ssd_recurrent(x, dt, A, B, C, D, initial_state, neg_eig)

    monkeypatch.setattr(ssd_mod, "ssd_chunked", sequential_scan)
    sequential = grads()
    assert calls == [neg_eig] * 2  # both SSD layers ran the sequential reference
    assert chunked.keys() == sequential.keys() and any("A_log" in k for k in chunked)
    for k in chunked:
        torch.testing.assert_close(chunked[k], sequential[k], rtol=1e-8, atol=1e-10, msg=k)


def test_chunk_length_follows_the_sequence_within_the_configured_limit():
    assert [auto_chunk(n, 64) for n in (5, 100, 300, 1000, 100000)] == [16, 16, 32, 32, 64]
    assert auto_chunk(100000, 32) == 32 and auto_chunk(10, 8) == 8


def test_negative_eigenvalues_flip_the_state_sign():
    # a large step with neg_eig gives a ~ -1: an impulse alternates sign, as parity needs
    x = torch.zeros(1, 6, 1, 1, dtype=torch.float64)
    x[0, 0] = 1.0
    ones = torch.ones(1, 6, 1, 1, dtype=torch.float64)
    y, _ = ssd_chunked(x, torch.full((1, 6, 1), 50.0, dtype=torch.float64), -torch.ones(1, dtype=torch.float64),
                       ones, ones, chunk_size=4, neg_eig=True)
    assert torch.allclose(y[0, :, 0, 0] / 50.0, torch.tensor([1.0, -1, 1, -1, 1, -1], dtype=torch.float64))


@pytest.mark.parametrize("kw", [{}, {"lti": True}, {"neg_eig": True}, {"ngroups": 2}, {"integrators": 3}])
def test_streaming_step_equals_full_forward(kw):
    torch.manual_seed(0)
    m = Mamba2Layer(32, d_state=16, headdim=8, chunk_size=16, **kw).double()
    u = torch.randn(2, 37, 32, dtype=torch.float64)
    y, final = m(u, return_state=True)
    state = m.init_state(2, dtype=torch.float64)
    ys = []
    for t in range(u.shape[1]):
        o, state = m.step(u[:, t], state)
        ys.append(o)
    torch.testing.assert_close(torch.stack(ys, 1), y, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(state[1], final, rtol=1e-10, atol=1e-10)


def test_state_dict_matches_mamba_ssm_names_and_shapes():
    m = Mamba2Layer(128, d_state=64, headdim=32, expand=2)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    d_inner, nheads, conv_dim = 256, 8, 256 + 2 * 64
    assert shapes == {"in_proj.weight": (2 * d_inner + 2 * 64 + nheads, 128), "conv1d.weight": (conv_dim, 1, 4),
                      "conv1d.bias": (conv_dim,), "dt_bias": (nheads,), "A_log": (nheads,), "D": (nheads,),
                      "norm.weight": (d_inner,), "out_proj.weight": (128, d_inner)}
    dt = torch.nn.functional.softplus(m.dt_bias)
    assert torch.all((dt > 9e-4) & (dt < 0.11))  # log-uniform init in [1e-3, 1e-1]
    assert torch.all((-torch.exp(m.A_log) <= -1) & (-torch.exp(m.A_log) >= -16))


def test_appendix_config_parameter_count(cli):
    counts = MiniJMamba(ModelConfig.from_dict({"name": "appendix"})).parameter_counts()
    assert 0.85e6 <= counts["total"] <= 0.95e6, counts
    assert sum(1 for k in ModelConfig.from_dict({"name": "appendix"}).layers if k == "ssd") == 4
    plan = ModelConfig.from_dict({"name": "plan"}).layers
    assert plan.count("ssd") == 10 and plan.count("attn") == 2
    res = cli("train", "--dry-run", "--set", "model.name=appendix")
    assert res.exit_code == 0 and json.loads(res.stdout)["parameters"]["total"] == counts["total"]


def test_output_path_is_continuous_audio():
    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "downsample": 2}))
    torch.nn.init.normal_(m.out_head.weight, std=0.01)  # starts at zero (silence); give it a slope
    wave = torch.randn(2, 8000) * 0.1
    out = m(wave, torch.tensor([8000, 6000]))
    audio = m.to_wave(out["log_mag"], n_iter=2)
    assert audio.shape[0] == 2 and audio.shape[1] == (m.answer_frames(out["log_mag"]).shape[1] - 1) * 160
    # gradients flow from the waveform back to the input projection (no discrete step in between)
    audio.pow(2).mean().backward()
    assert m.in_proj.weight.grad is not None and m.in_proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("frontend,copy_head,context", [("mel", False, 0), ("stft", True, 0), ("conv", False, 0),
                                                        ("mel", False, 2)])
def test_an_utterance_answer_does_not_depend_on_its_batch_mates(frontend, copy_head, context):
    # audio that ends mid-tone (no trailing silence): torch.stft's reflection at the batch's edge and
    # frame-stacking padding would otherwise change the longest utterance's last frames, so decode's
    # batch size and data-parallel shards would change answers
    torch.manual_seed(0)
    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "downsample": 3, "frontend": frontend,
                                          "copy_head": copy_head, "context": context})).eval()
    torch.nn.init.normal_(m.out_head.weight, std=0.1)
    t = torch.arange(9000) / 16000
    a, b = torch.sin(2 * torch.pi * 700 * t[:7777]), 0.3 * torch.sin(2 * torch.pi * 1300 * t)
    with torch.no_grad():
        alone = m(a[None], torch.tensor([len(a)]))
        batch = m(torch.stack([torch.nn.functional.pad(a, (0, len(b) - len(a))), b]), torch.tensor([len(a), len(b)]))
        steps = int(alone["ans_steps"][0])
    torch.testing.assert_close(batch["log_mag"][0, :steps], alone["log_mag"][0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batch["ctc"][0, :steps], alone["ctc"][0], rtol=1e-5, atol=1e-5)


TINY = ["--set", "model.name=cpu_small", "--set", "model.downsample=2", "--set", "train.batch_size=4",
        "--set", "train.val_n=4", "--set", "train.warmup=5", "--set", "data.mirror.iid_levels=[3,3]"]


def test_training_reduces_the_loss(tmp_path, cli):
    res = cli("train", "--out", tmp_path, "--quiet", *TINY, "--set", "train.steps=80", "--set", "train.val_every=20")
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "log" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["spec_l1"] < rows[0]["spec_l1"] * 0.9
    assert (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()


def test_resume_continues_from_the_saved_step_with_identical_results(tmp_path, cli):
    args = ["train", "--quiet", *TINY, "--set", "train.steps=20", "--set", "train.val_every=10"]
    assert cli(*args, "--out", tmp_path / "a").exit_code == 0
    assert cli(*args, "--out", tmp_path / "b", "--set", "train.stop_at=10").exit_code == 0  # stopped at 10
    res = cli(*args, "--out", tmp_path / "b", "--resume")
    assert res.exit_code == 0
    log = (tmp_path / "b" / "log" / "train.log").read_text()
    assert "resumed from" in log and "at step 10" in log
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=False)
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=False)
    assert a["step"] == b["step"] == 20
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=1e-4, atol=1e-5)


def test_train_init_starts_from_another_runs_weights_and_resume_keeps_its_own(tmp_path, cli):
    """train.init (fine-tuning): the run starts from the given weights, not from its seed's; a resumed
    run continues from its own last.pt whatever train.init says then, and does not read it (the init
    checkpoint may be gone by then)."""
    base = ["train", "--quiet", *TINY, "--set", "train.val_every=1"]
    weights = lambda d, f="last.pt": torch.load(tmp_path / d / f, weights_only=True)["model"]  # noqa: E731
    assert cli(*base, "--set", "train.steps=3", "--out", tmp_path / "a").exit_code == 0
    still = [*base, "--set", "train.steps=2", "--set", "train.lr=1e-12", "--set", "train.seed=5"]  # weights stay put
    assert cli(*still, "--out", tmp_path / "fresh").exit_code == 0
    res = cli(*still, "--set", f"train.init={tmp_path / 'a' / 'best.pt'}", "--set", "train.stop_at=1",
              "--out", tmp_path / "b")
    assert res.exit_code == 0, res.output
    res = cli(*still, "--set", f"train.init={tmp_path / 'deleted.pt'}", "--resume", "--out", tmp_path / "b")
    assert res.exit_code == 0, res.output
    a, b, fresh = weights("a", "best.pt"), weights("b"), weights("fresh")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=1e-6)
    assert any(not torch.allclose(fresh[k], a[k]) for k in a)


def test_decode_writes_wavs_the_scorer_reads(tmp_path, cli):
    assert cli("train", "--out", tmp_path / "exp", "--quiet", *TINY, "--set", "train.steps=2",
               "--set", "train.val_every=2").exit_code == 0
    assert cli("synth", "--task", "mirror", "--split", "test_iid", "--n", 5, "--out", tmp_path / "d",
               "--quiet").exit_code == 0
    res = cli("decode", "--ckpt", tmp_path / "exp" / "best.pt", tmp_path / "d", "--out", tmp_path / "dec",
              "--quiet", "--batch-size", 2)
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (tmp_path / "dec" / "manifest.jsonl").read_text().splitlines()]
    assert len(recs) == 5 and all("aux_symbols" in r for r in recs)
    res = cli("score", "--ref", tmp_path / "d", "--hyp", tmp_path / "dec", "--out", tmp_path / "s", "--quiet")
    assert res.exit_code == 0, res.output  # an untrained model's audio is read and graded, not rejected
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["overall"]["count"] == 5 and "aux_exact_match" in summary["overall"]
    bad = cli("decode", "--ckpt", tmp_path / "d" / "manifest.jsonl", tmp_path / "d", "--out", tmp_path / "x")
    assert bad.exit_code == 1 and "not a usable jericho checkpoint" in bad.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA and mamba-ssm")
@pytest.mark.parametrize("lti", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_matches_mamba_ssm_kernels_on_gpu(lti, dtype):
    """mamba-ssm's Triton SSD kernel and our chunked scan agree (fp32 and under bf16 autocast, selective
    and LTI layers), forward and backward."""
    from jericho_cli.model.ssd import _mamba_ssm_scan

    if _mamba_ssm_scan() is None:
        pytest.skip("mamba-ssm not installed (pip install '.[gpu]')")
    torch.manual_seed(0)
    m = Mamba2Layer(128, d_state=64, headdim=32, chunk_size=64, lti=lti).cuda()
    u = torch.randn(2, 300, 128, device="cuda", requires_grad=True)
    tol = 1e-3 if dtype == torch.float32 else 3e-2

    def run(kernel: bool):
        m.use_kernel = kernel
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
            y = m(u)
        return y.float(), torch.autograd.grad(y.float().sum(), u)[0]

    (y_gpu, g1), (y_ref, g2) = run(True), run(False)
    assert ((y_gpu - y_ref).norm() / y_ref.norm()).item() <= tol
    assert ((g1 - g2).norm() / g2.norm()).item() <= tol


def test_missing_kernels_on_cuda_are_a_logged_warning(monkeypatch, caplog):
    """Without mamba-ssm, a CUDA forward pass says so once (not a silent fallback)."""
    from jericho_cli.model import ssd

    monkeypatch.setattr(ssd, "_KERNEL", None)
    monkeypatch.setattr(ssd, "_KERNEL_ERROR", "ModuleNotFoundError: No module named 'mamba_ssm'")
    monkeypatch.setattr(ssd, "_warned", False)
    logger = logging.getLogger("jericho")
    monkeypatch.setattr(logger, "propagate", False)  # as the CLI sets it: records reach only its handlers
    logger.addHandler(caplog.handler)
    try:
        assert ssd._mamba_ssm_scan() is None and ssd._mamba_ssm_scan() is None
    finally:
        logger.removeHandler(caplog.handler)
    warnings = [r for r in caplog.records if "mamba-ssm kernels unavailable" in r.getMessage()]
    assert len(warnings) == 1 and "No module named 'mamba_ssm'" in warnings[0].getMessage()


@pytest.mark.parametrize("positions", ["restart", "continue", "none"])
def test_position_schemes_run_and_differ(positions):
    torch.manual_seed(0)
    cfg = {"name": "cpu_small", "downsample": 2, "positions": positions}
    m = MiniJMamba(ModelConfig.from_dict(cfg))
    torch.nn.init.normal_(m.out_head.weight, std=0.1)
    wave, n = torch.randn(2, 8000), torch.tensor([8000, 6000])
    out = m(wave, n)["log_mag"]
    ref = MiniJMamba(ModelConfig.from_dict({**cfg, "positions": "restart"}))
    ref.load_state_dict(m.state_dict())
    same = torch.allclose(out, ref(wave, n)["log_mag"])
    assert same == (positions == "restart")


@pytest.mark.parametrize("copy_head", [False, True])
def test_position_stretch_acts_in_training_only(copy_head):
    """model.positions_stretch scales rotary positions while training (a fresh draw per sequence) and
    never in evaluation, where the model is the unstretched one with the same weights."""
    torch.manual_seed(0)
    cfg = {"name": "cpu_small", "downsample": 2, "copy_head": copy_head, "attn_sink": True}
    m = MiniJMamba(ModelConfig.from_dict({**cfg, "positions_stretch": 2.5}))
    torch.nn.init.normal_(m.out_head.weight, std=0.1)
    ref = MiniJMamba(ModelConfig.from_dict(cfg))
    ref.load_state_dict(m.state_dict())
    wave, n = torch.randn(2, 8000), torch.tensor([8000, 6000])
    run = lambda model, train, seed=1: (model.train(train), torch.manual_seed(seed), model(wave, n)["log_mag"])[2]  # noqa: E731
    assert torch.equal(run(m, False), run(ref, False))
    assert torch.allclose(run(ref, True), run(ref, False), atol=1e-6)  # no stretch: training changes nothing
    stretched = run(m, True)
    assert not torch.allclose(stretched, run(ref, True), atol=1e-4)
    assert torch.equal(stretched, run(m, True))  # the draw follows torch's seed: same seed, same bytes
    assert not torch.equal(stretched, run(m, True, seed=2))


@pytest.mark.parametrize("window", [None, 5])
def test_attention_sink_is_one_extra_softmax_column(window):
    """The sink equals attention written out by hand with one unrotated key/value every query sees."""
    from jericho_cli.model.attention import CausalSelfAttention, rotary
    torch.manual_seed(0)
    att = CausalSelfAttention(16, 2, window=window, sink=True).double()
    x, pos = torch.randn(2, 9, 16, dtype=torch.float64), torch.arange(9)[None].expand(2, -1)
    q, k, v = att.qkv(x).view(2, 9, 3, 2, 8).permute(2, 0, 3, 1, 4)
    q, k = rotary(q, pos), rotary(k, pos)
    scores = q @ k.transpose(-1, -2) / 8 ** 0.5
    i = torch.arange(9)
    allowed = (i[None] <= i[:, None]) & ((i[:, None] - i[None]) < (window or 99))
    scores = scores.masked_fill(~allowed, float("-inf"))
    sink = (q @ att.sink[0][None, :, :, None]) / 8 ** 0.5  # (b, h, t, 1)
    w = torch.softmax(torch.cat([sink, scores], -1), -1)
    y = w[..., :1] * att.sink[1][None, :, None] + w[..., 1:] @ v
    expect = att.out(y.transpose(1, 2).reshape(2, 9, 16))
    assert torch.allclose(att(x, pos), expect, atol=1e-10)


@pytest.mark.parametrize("t,window", [(9, 4), (37, 8), (5, 16), (12, 1), (64, 16)])
@pytest.mark.parametrize("sink", [False, True])
def test_windowed_attention_in_blocks_equals_the_dense_mask(t, window, sink):
    """Block-local attention (linear in t) equals attention with the full (t, t) window mask."""
    import torch.nn.functional as F
    from jericho_cli.model.attention import windowed_attention
    torch.manual_seed(t)
    q, k, v = (torch.randn(2, 3, t, 8, dtype=torch.float64) for _ in range(3))
    i = torch.arange(t)
    allowed = (i[None] <= i[:, None]) & ((i[:, None] - i[None]) < window)
    sk = sv = None
    if sink:
        sk, sv = torch.randn(2, 3, 1, 8, dtype=torch.float64), torch.randn(2, 3, 1, 8, dtype=torch.float64)
        allowed = torch.cat([torch.ones(t, 1, dtype=torch.bool), allowed], 1)
        dense = F.scaled_dot_product_attention(q, torch.cat([sk, k], 2), torch.cat([sv, v], 2), attn_mask=allowed)
    else:
        dense = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    blocks = windowed_attention(q, k, v, window, (sk, sv) if sink else None)
    torch.testing.assert_close(blocks, dense, rtol=1e-10, atol=1e-10)


def test_copy_head_says_only_what_the_input_holds_when_its_gate_is_open():
    """With the gate fully open and no gain, every answer frame is an attention-weighted mix of the
    input's own STFT frames: per bin, within their range (how an unheard tone can be copied)."""
    torch.manual_seed(0)
    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "downsample": 2, "copy_head": True}))
    with torch.no_grad():
        m.copy.gate_gain.bias.copy_(torch.tensor([50.0, 0.0]))
    wave, n = torch.randn(1, 8000) * 0.1, torch.tensor([8000])
    out = m(wave, n)["log_mag"]
    frames = m._stack(m.spec.log_mag(wave))  # the whole wave is input here
    lo, hi = frames.amin(1, keepdim=True), frames.amax(1, keepdim=True)
    assert bool(((out >= lo - 1e-4) & (out <= hi + 1e-4)).all())
    out.sum().backward()
    assert m.copy.q.weight.grad.abs().sum() > 0


def test_s4d_convolution_equals_its_recurrence():
    from jericho_cli.model.cores import S4DBlock
    torch.manual_seed(0)
    blk = S4DBlock(8, d_state=8)
    x = torch.randn(2, 30, 8)
    full = blk(x)
    state, steps = blk.init_state(2), []
    for t in range(30):
        y, state = blk.step(x[:, t], state)
        steps.append(y)
    torch.testing.assert_close(full, torch.stack(steps, 1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", ["lstm", "s4d", "hyena", "attn", "ssd"])
def test_every_core_is_causal(kind):
    """Changing the input at step 20 leaves every output before it unchanged."""
    torch.manual_seed(0)
    cfg = ModelConfig.from_dict({"name": "cpu_small", "layers": [kind, kind]})
    m = MiniJMamba(cfg)
    x = torch.randn(1, 40, cfg.d_model)
    y = x.clone()
    y[:, 20:] += 1.0
    pos = torch.arange(40)[None]
    for b in m.blocks:
        x, y = b(x, pos), b(y, pos)
    torch.testing.assert_close(x[:, :20], y[:, :20], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(x[:, 20:], y[:, 20:])


@pytest.mark.parametrize("layers", ["attn,attn,attn,attn", "lstm,lstm", "s4d,attn,s4d,attn", "hyena,attn,hyena,attn",
                                    "ssd,ssd,ssd,ssd"])
def test_each_core_trains_a_few_steps_and_decodes(tmp_path, cli, layers):
    res = cli("train", "--out", tmp_path / "exp", "--quiet", *TINY, "--set", "train.steps=2",
              "--set", "train.val_every=2", "--set", f"model.layers=[{layers}]")
    assert res.exit_code == 0, res.output
    assert cli("synth", "--task", "mirror", "--split", "test_iid", "--n", 2, "--out", tmp_path / "d",
               "--quiet").exit_code == 0
    res = cli("decode", "--ckpt", tmp_path / "exp" / "best.pt", tmp_path / "d", "--out", tmp_path / "dec", "--quiet")
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "dec" / "wav").glob("*.wav"))) == 2


@pytest.mark.parametrize("core", ["transformer", "lstm", "s4d", "hyena", "ssd_only"])
def test_baseline_cores_match_mini_jmamba_parameters_within_ten_percent(core):
    from jericho_cli.config import load_config, model_config
    base = load_config(["recipes/mirror/conf/tuning/train_cpu_plain.yaml"], [])
    cfg = load_config(["recipes/mirror/conf/tuning/train_cpu_plain.yaml", f"recipes/conf/cores/{core}.yaml"], [])
    n = {k: MiniJMamba(model_config(c["model"])).parameter_counts()["total"] for k, c in (("base", base), (core, cfg))}
    assert abs(n[core] / n["base"] - 1) <= 0.10, n


def test_a_config_may_include_a_task_config_then_a_core(tmp_path):
    from jericho_cli.config import load_config
    root = Path(__file__).resolve().parent.parent
    conf = tmp_path / "mirror_lstm.yaml"
    conf.write_text(f"include: [{root / 'recipes/mirror/conf/tuning/train_cpu_plain.yaml'}, {root / 'recipes/conf/cores/lstm.yaml'}]\n"
                    "train: {steps: 7}\n")
    cfg = load_config([str(conf)], [])
    assert cfg["model"]["layers"] == ["lstm"] * 4 and cfg["model"]["downsample"] == 2  # core over task
    assert cfg["data"]["mirror"]["iid_levels"] == [3, 5] and cfg["train"]["steps"] == 7  # file over both


@pytest.mark.parametrize("neg_eig", [False, True])
def test_integrator_heads_keep_an_exact_running_sum_and_stay_pinned_in_training(neg_eig):
    torch.manual_seed(0)
    m = Mamba2Layer(32, d_state=16, headdim=8, integrators=2, neg_eig=neg_eig)  # 8 heads, 2 pinned
    seen = {}
    m.ssm_hooks.append(lambda layer, x, dt, A, B, C: seen.update(x=x, dt=dt, A=A, B=B))
    u = torch.randn(2, 29, 32)
    y, final = m(u, return_state=True)
    a = torch.exp(seen["dt"] * seen["A"])
    assert bool((a[..., :2] == 1).all()) and bool((a[..., 2:] < 1).all())
    running_sum = torch.einsum("blh,blhp,bln->bhpn", seen["dt"][..., :2], seen["x"][:, :, :2], seen["B"][:, :, 0])
    torch.testing.assert_close(final[:, :2], running_sum, rtol=1e-4, atol=1e-4)
    before = m.A_log.detach().clone()
    opt = build_optimizer(m, {"lr": 0.1, "weight_decay": 0.1})  # training's optimizer
    for _ in range(3):
        opt.zero_grad()
        m(u).pow(2).mean().backward()
        opt.step()
    assert torch.equal(m.A_log[:2], before[:2]) and not torch.equal(m.A_log[2:], before[2:])
    with pytest.raises(ValueError, match="integrators=9"):
        Mamba2Layer(32, d_state=16, headdim=8, integrators=9)


@pytest.mark.parametrize("layers,sink,context", [(["ssd", "attn", "ssd", "attn"], False, 0),
                                                 (["ssd", "attn", "ssd", "attn"], True, 1),
                                                 (["lstm", "s4d", "attn"], False, 0)])
def test_streaming_one_step_at_a_time_equals_the_batch_forward(layers, sink, context):
    torch.manual_seed(0)
    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "downsample": 2, "layers": layers,
                                          "attn_sink": sink, "context": context})).eval()
    torch.nn.init.normal_(m.out_head.weight, std=0.1)
    wave, n = torch.randn(1, 6000) * 0.1, torch.tensor([6000])
    with torch.no_grad():
        full = m(wave, n)
    live = m.stream(wave, n)
    torch.testing.assert_close(live["log_mag"], full["log_mag"], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(live["ctc"], full["ctc"], rtol=1e-4, atol=1e-4)


def test_input_context_shows_each_step_the_steps_before_it_and_none_after():
    # model.context: the input projection sees step t beside t-1..t-c (so dt can see a tone's onset)
    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "context": 2}))
    x = torch.arange(5.0)[None, :, None]  # (b, T, f): step t's feature is t
    assert m._with_context(x)[0].tolist() == [[0, 0, 0], [1, 0, 0], [2, 1, 0], [3, 2, 1], [4, 3, 2]]
    assert m.in_proj.in_features == 3 * 48 * m.cfg.downsample
    assert m._with_context(x[:, :1])[0].tolist() == [[0, 0, 0]]


@pytest.mark.parametrize("window", [8, [8, None], [None, 3]])
def test_streaming_with_a_window_equals_a_windowed_model(window):
    torch.manual_seed(0)
    cfg = {"name": "cpu_small", "downsample": 2, "attn_window": window}
    m = MiniJMamba(ModelConfig.from_dict(cfg)).eval()
    attn = [b.attn.window for b in m.blocks if hasattr(b, "attn")]
    assert attn == (window if isinstance(window, list) else [window, window])
    torch.nn.init.normal_(m.out_head.weight, std=0.1)
    wave, n = torch.randn(1, 6000) * 0.1, torch.tensor([6000])
    with torch.no_grad():
        full = m(wave, n)
    torch.testing.assert_close(m.stream(wave, n)["log_mag"], full["log_mag"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("key,value,complaint", [("attn_window", [8], "one window per attention layer, and there are 2"),
                                                 ("attn_window", [8, 0], "must be a positive number of steps"),
                                                 ("attn_window", "8", "must be an integer or a list"),
                                                 ("ssd_integrators", 9, "an SSD layer has only 8 heads")])
def test_window_lists_and_pinned_heads_are_checked_against_the_layers(key, value, complaint):
    with pytest.raises(JerichoError, match=complaint):
        ModelConfig.from_dict({"name": "cpu_small", key: value})


def test_decode_stream_gives_the_batch_decode_answers(tmp_path, cli):
    assert cli("train", "--out", tmp_path / "exp", "--quiet", *TINY, "--set", "train.steps=2",
               "--set", "train.val_every=2").exit_code == 0
    assert cli("synth", "--task", "mirror", "--split", "test_iid", "--n", 3, "--out", tmp_path / "d",
               "--quiet").exit_code == 0
    for name, extra in (("batch", []), ("stream", ["--stream"])):
        res = cli("decode", "--ckpt", tmp_path / "exp" / "best.pt", tmp_path / "d", "--out", tmp_path / name,
                  "--quiet", *extra)
        assert res.exit_code == 0, res.output
    import soundfile as sf
    for a in sorted((tmp_path / "batch" / "wav").glob("*.wav")):
        x, y = sf.read(a)[0], sf.read(tmp_path / "stream" / "wav" / a.name)[0]
        assert len(x) == len(y) and float(abs(x - y).max()) < 1e-3
    bad = cli("decode", "--ckpt", tmp_path / "exp" / "best.pt", tmp_path / "d", "--out", tmp_path / "w",
              "--window", 4)
    assert bad.exit_code == 2 and "--window needs --stream" in bad.stderr


def test_training_writes_tensorboard_events_readable_by_tensorboard(tmp_path, cli):
    pytest.importorskip("tensorboard", reason="tensorboard is an optional extra (pip install tensorboard)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    res = cli("train", "--out", tmp_path / "exp", "--quiet", *TINY, "--set", "train.steps=4",
              "--set", "train.val_every=2")
    assert res.exit_code == 0, res.output
    acc = EventAccumulator(str(tmp_path / "exp" / "tb"), size_guidance={"images": 0, "audio": 0}).Reload()
    tags = acc.Tags()
    assert {"train/lr", "loss/spec_l1", "loss/ctc", "val/mirror/exact", "val/mirror/aux_exact"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("val/mirror/exact")] == [2, 4]
    assert len(acc.Scalars("loss/spec_l1")) == 4
    assert "answers/mirror/val0" in tags["images"] and "answers/mirror/val0" in tags["audio"]
    # and off by a switch
    res = cli("train", "--out", tmp_path / "off", "--quiet", *TINY, "--set", "train.steps=2",
              "--set", "train.val_every=2", "--set", "train.tensorboard=false")
    assert res.exit_code == 0 and not (tmp_path / "off" / "tb").exists()


def test_spectral_convergence_keeps_an_unsure_tone_loud_where_log_l1_fades_it():
    # three equally likely answers: a tone in bin 2, 5 or 8. Fitted to all three, L1 on log magnitudes
    # sits at each bin's median (silence); spectral convergence keeps a third of the tone in each.
    from jericho_cli.model.losses import masked_l1, spectral_convergence
    floor, tone = 1e-4, 30.0
    targets = []
    for b in (2, 5, 8):
        t = torch.full((1, 4, 10), floor)
        t[..., b] = tone
        targets.append(t.log())
    mask = torch.ones(1, 4)
    peaks = {}
    for name, loss in (("l1", lambda p, t: masked_l1(p, t, mask)), ("sc", lambda p, t: spectral_convergence(p, t, mask))):
        pred = torch.zeros(1, 4, 10, requires_grad=True)
        opt = torch.optim.Adam([pred], lr=0.05)
        for _ in range(600):
            opt.zero_grad()
            sum(loss(pred, t) for t in targets).backward()
            opt.step()
        peaks[name] = pred.detach().exp().max().item()
    assert peaks["sc"] > 0.2 * tone and peaks["l1"] < 0.05 * tone, peaks
    same = targets[0]
    assert spectral_convergence(same, same, mask).item() < 1e-6


def test_spectral_convergence_split_over_processes_averages_to_the_whole_batch_gradient():
    # what DDP does with two processes, each holding half the batch: average their gradients
    from jericho_cli.model.losses import spectral_convergence
    g = torch.Generator().manual_seed(0)
    pred, tgt = torch.randn(4, 6, 10, generator=g), torch.randn(4, 6, 10, generator=g) * 2
    mask = (torch.rand(4, 6, generator=g) > 0.3).float()
    whole = pred.clone().requires_grad_()
    spectral_convergence(whole, tgt, mask).backward()

    def sums(rows):
        p, t, m = pred[rows].exp(), tgt[rows].exp(), mask[rows].unsqueeze(-1)
        return (((t - p) * m) ** 2).sum(), ((t * m) ** 2).sum()

    halves = [slice(0, 2), slice(2, 4)]
    err_all, ref_all = (sum(x) for x in zip(*map(sums, halves)))
    exact, naive = torch.zeros_like(pred), torch.zeros_like(pred)
    for rows in halves:
        for grads, total in ((exact, iter([err_all, ref_all])), (naive, None)):
            part = pred[rows].clone().requires_grad_()
            reduce = (lambda x, it=total: next(it)) if total is not None else None
            spectral_convergence(part, tgt[rows], mask[rows], reduce, 2).backward()
            grads[rows] = part.grad / 2
    assert torch.allclose(exact, whole.grad, rtol=1e-5, atol=1e-7)
    assert not torch.allclose(naive, whole.grad, rtol=1e-2)  # each half on its own would not be


# ---------------------------------------------------------------- the compiled CPU path (scan.c)
from jericho_cli.model import cpu_kernels  # noqa: E402

needs_c = pytest.mark.skipif(not cpu_kernels.available(), reason="no C compiler: the compiled CPU scan is not built")


def _rel(a, b):
    return float((a.detach().double() - b.detach().double()).norm() / b.detach().double().norm())


@needs_c
@pytest.mark.parametrize("neg_eig", [False, True])
@pytest.mark.parametrize("length,groups", [(1, 1), (31, 2), (32, 1), (33, 4), (100, 1)])  # around its checkpoints
def test_compiled_scan_equals_the_recurrence_in_values_and_gradients(length, groups, neg_eig):
    from jericho_cli.model.ssd import _transitions
    args = _inputs(l=length, g=groups)
    x, dt, A, B, C, S0 = (args[k] for k in ("x", "dt", "A", "B", "C", "initial_state"))
    ref_in = [t.clone().requires_grad_(True) for t in (x, dt, B, C, S0)]
    c_in = [t.float().requires_grad_(True) for t in (x, dt, B, C, S0)]
    y0, s0 = ssd_recurrent(ref_in[0], ref_in[1], A, ref_in[2], ref_in[3], initial_state=ref_in[4], neg_eig=neg_eig)
    X, DT, BB, CC, SS = c_in
    y1, s1 = cpu_kernels.scan(X * DT[..., None], _transitions(DT, A.float(), neg_eig), BB, CC, SS)
    assert _rel(y1, y0) < 1e-5 and _rel(s1, s0) < 1e-5
    w, ws = torch.randn_like(y0), torch.randn_like(s0)
    g0 = torch.autograd.grad((y0 * w).sum() + (s0 * ws).sum(), ref_in)
    g1 = torch.autograd.grad((y1 * w.float()).sum() + (s1 * ws.float()).sum(), c_in)
    for name, a, b in zip(("x", "dt", "B", "C", "initial state"), g1, g0):
        assert _rel(a, b) < 1e-5, name


@needs_c
@pytest.mark.parametrize("bias", [True, False])
def test_compiled_causal_conv_equals_conv1d(bias):
    torch.manual_seed(0)
    ch, k = 24, 4
    x = torch.randn(3, 37, ch, dtype=torch.float64, requires_grad=True)
    w = torch.randn(ch, k, dtype=torch.float64, requires_grad=True)
    b = torch.randn(ch, dtype=torch.float64, requires_grad=True) if bias else None
    ref = torch.nn.functional.conv1d(x.transpose(1, 2), w[:, None], b, padding=k - 1, groups=ch)[..., :37].transpose(1, 2)
    xf, wf = x.detach().float().requires_grad_(True), w.detach().float().requires_grad_(True)
    bf = b.detach().float().requires_grad_(True) if bias else None
    out = cpu_kernels.causal_conv(xf, wf, bf)
    assert _rel(out, ref) < 1e-6
    g = torch.randn_like(ref)
    wrt, wrt_f = [x, w] + ([b] if bias else []), [xf, wf] + ([bf] if bias else [])
    for a, r in zip(torch.autograd.grad((out * g.float()).sum(), wrt_f), torch.autograd.grad((ref * g).sum(), wrt)):
        assert _rel(a, r) < 1e-6


@needs_c
@pytest.mark.parametrize("kw", [{}, {"lti": True}, {"neg_eig": True}, {"ngroups": 2}])
def test_float32_layer_runs_the_compiled_path_and_matches_pytorch_and_streaming(kw, monkeypatch):
    torch.manual_seed(0)
    m = Mamba2Layer(32, d_state=16, headdim=8, **kw)
    u = torch.randn(2, 70, 32, requires_grad=True)
    calls = []
    real = cpu_kernels.scan
    monkeypatch.setattr(cpu_kernels, "scan", lambda *a: calls.append(1) or real(*a))
    y, final = m(u, return_state=True)
    assert calls == [1]
    (gu,) = torch.autograd.grad(y.sum() + final.sum(), u)
    monkeypatch.setattr(cpu_kernels, "_lib", None)
    monkeypatch.setattr(cpu_kernels, "_why", "off for this test")
    y_t, final_t = m(u, return_state=True)
    (gu_t,) = torch.autograd.grad(y_t.sum() + final_t.sum(), u)
    assert _rel(y, y_t) < 1e-5 and _rel(final, final_t) < 1e-5 and _rel(gu, gu_t) < 1e-5
    state, ys = m.init_state(2), []
    with torch.no_grad():
        for t in range(u.shape[1]):
            o, state = m.step(u[:, t], state)
            ys.append(o)
    assert _rel(torch.stack(ys, 1), y) < 1e-5 and _rel(state[1], final) < 1e-5


def test_without_a_compiler_the_pytorch_scan_runs_and_says_why(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(cpu_kernels, "_lib", None)
    monkeypatch.setattr(cpu_kernels, "_why", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # nothing built there yet
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    with caplog.at_level("WARNING", logger="jericho"):
        assert not cpu_kernels.available()
    assert "compiled CPU kernels unavailable" in caplog.text
    torch.manual_seed(0)
    m = Mamba2Layer(32, d_state=16, headdim=8)
    u = torch.randn(2, 20, 32)
    assert torch.isfinite(m(u)).all()  # the PyTorch scan took over
    monkeypatch.setattr(cpu_kernels, "_why", None)
    monkeypatch.setenv("JERICHO_SCAN", "torch")
    assert not cpu_kernels.available() and cpu_kernels._why == "JERICHO_SCAN=torch"


@needs_c
@pytest.mark.parametrize("window,sink,neg_eig", [(None, False, False), (8, True, True)])
def test_compiled_streaming_blocks_equal_the_pytorch_steps(window, sink, neg_eig):
    # step.c: one call per block and step (what decode --stream runs); the same answers as the PyTorch
    # steps, with the attention ring wrapping (window 8) and the unwindowed cache growing past 64 slots
    from jericho_cli.model.mini_jmamba import stepper

    torch.manual_seed(0)
    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "layers": ["ssd", "attn"], "attn_sink": sink,
                                          "neg_eig": neg_eig})).eval()
    for p in m.parameters():  # away from the initial values (unit norms, D = 1)
        p.data.add_(torch.randn_like(p) * 0.05)
    xs = torch.randn(80, 2, m.cfg.d_model)

    def run(steps):
        states, out = [None, None], []
        with torch.no_grad():
            for t, x in enumerate(xs):
                pos = torch.tensor([t, 3 * t])  # rows at different positions
                for i, step in enumerate(steps):
                    x, states[i] = step(x, states[i], pos)
                out.append(x)
        return torch.stack(out)

    compiled = [stepper(b, window) for b in m.blocks]
    assert all(hasattr(f, "kernel") for f in compiled)
    pytorch = [lambda x, s, p, b=b: b.step(x, s, p, window) for b in m.blocks]
    torch.testing.assert_close(run(compiled), run(pytorch), rtol=1e-5, atol=1e-5)


def test_blocks_without_a_compiled_step_stream_with_their_pytorch_step(monkeypatch):
    from jericho_cli.model.mini_jmamba import stepper

    m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "layers": ["ssd", "lstm"], "lti_layers": [0]})).eval()
    called = []
    for b in m.blocks:
        monkeypatch.setattr(b, "step", lambda *a, _b=b: called.append(type(_b).__name__) or (a[0], None))
    with torch.no_grad():
        for b in m.blocks:
            stepper(b)(torch.zeros(1, m.cfg.d_model), None, torch.tensor([0]))
    assert called == ["SSDBlock", "LSTMBlock"]  # LTI SSD: only the PyTorch step has B, C from parameters


@pytest.mark.parametrize("align", ["position", "count"])
def test_copy_gate_copy_answers_with_the_copy_alone(align):
    """model.copy_gate: copy holds the gate at 1: the output head's frames never reach the answer
    (whatever its weights), and no gradient reaches it through the answer; learned mixes them in."""
    torch.manual_seed(0)
    outs = {}
    for gate in ("copy", "learned"):
        m = MiniJMamba(ModelConfig.from_dict({"name": "cpu_small", "downsample": 2, "copy_head": True,
                                              "copy_align": align, "copy_gate": gate}))
        wave, n = torch.randn(1, 8000) * 0.1, torch.tensor([8000])
        before = m(wave, n)["log_mag"].detach()
        with torch.no_grad():
            m.out_head.bias.add_(5.0)
        after = m(wave, n)["log_mag"]
        outs[gate] = (before - after.detach()).abs().max().item()
        after.sum().backward()
        grad = m.out_head.bias.grad
        assert (grad is None or grad.abs().sum() == 0) == (gate == "copy")
    assert outs["copy"] == 0 and outs["learned"] > 0.1
