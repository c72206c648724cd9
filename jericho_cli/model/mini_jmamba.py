"""Mini-JMamba: spectral front end -> Mamba-2 SSD + attention stack -> spectral answer frames.

The model hears the input frames, then runs on through an *answer slot* of silent frames (marked by
a learned embedding) and emits, for each slot frame, the log-magnitude spectrum of the answer
audio. A fixed Griffin-Lim inverse turns those frames into a waveform. Nothing on this path picks a
symbol: the auxiliary CTC head reads the same hidden states and is a training aid and diagnostic.

Positions (rotary, attention layers only) by default count input frames from 0 and answer-slot frames
again from 0, as a seq2seq decoder numbers its own steps: answer frame k and input frame k share a
position, so "answer at time k what you heard at time k" is a plain attention pattern
(`model.positions`: restart | continue | none, for the length-generalization study).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from ..config import LAYER_KINDS, ModelConfig
from . import cpu_kernels
from .answer_clock import silenced, slot_means
from .attention import MLP, ROTARY_BASE, CausalSelfAttention
from .copy_heads import CountCopyHead, PositionCopyHead
from .cores import HyenaBlock, LSTMBlock, S4DBlock
from .symbol_readout import SymbolReadout
from .features import Spectral
from .ssd import Mamba2Layer


def _eps(norm: nn.RMSNorm) -> float:
    return norm.eps if norm.eps is not None else torch.finfo(norm.weight.dtype).eps


def _compiled(block: nn.Module) -> bool:
    """Whether a block can stream as one compiled call a step: float32 on the CPU, kernels built."""
    return (all(not p.is_cuda and p.dtype == torch.float32 for p in block.parameters())
            and cpu_kernels.available())


def stepper(block: nn.Module, window: int | None = None):
    """`block.step` as a function (x_t, state, pos_t) -> (y_t, state) for a stream of steps over which
    the weights do not change (inference): the block's compiled step where it has one and can run
    it, its PyTorch step otherwise. Same maths either way (tests hold them equal)."""
    fast = getattr(block, "compiled_stepper", None)
    fn = fast(window) if fast is not None and _compiled(block) else None
    return fn or (lambda x_t, state, pos_t: block.step(x_t, state, pos_t, window))


class SSDBlock(nn.Module):
    def __init__(self, cfg: ModelConfig, lti: bool):
        super().__init__()
        self.norm = nn.RMSNorm(cfg.d_model)
        self.mixer = Mamba2Layer(cfg.d_model, d_state=cfg.d_state, d_conv=cfg.d_conv, expand=cfg.expand,
                                 headdim=cfg.headdim, chunk_size=cfg.chunk_size, lti=lti, neg_eig=cfg.neg_eig,
                                 integrators=cfg.ssd_integrators)

    def forward(self, x, pos):
        return x + self.mixer(self.norm(x))

    def step(self, x_t, state, pos_t=None, window=None):
        if state is None:
            state = self.mixer.init_state(len(x_t), x_t.device, x_t.dtype)
        y, state = self.mixer.step(self.norm(x_t), state)
        return x_t + y, state

    def compiled_stepper(self, window=None):
        m = self.mixer
        if m.lti or m.state_mask is not None or m.ssm_hooks or m.in_proj.bias is not None or m.out_proj.bias is not None:
            return None  # what only the PyTorch step does
        kernel = cpu_kernels.ssd_block_step(
            self.norm.weight, m.in_proj.weight, m.conv1d.weight[:, 0, :], m.conv1d.bias, m.dt_bias, m.A_log, m.D,
            m.norm.weight, m.out_proj.weight, eps=_eps(self.norm), gnorm_eps=m.norm.eps, heads=m.nheads,
            headdim=m.headdim, d_state=m.d_state, ngroups=m.ngroups, group=m.norm.group_size, neg_eig=m.neg_eig)

        def step(x_t, state, pos_t=None):
            y, conv, S = kernel(x_t, *(state or m.init_state(len(x_t), x_t.device, x_t.dtype)))
            return y, (conv, S)
        step.kernel = kernel
        return step


class AttnBlock(nn.Module):
    def __init__(self, cfg: ModelConfig, window: int | None):
        super().__init__()
        self.norm1, self.norm2 = nn.RMSNorm(cfg.d_model), nn.RMSNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg.d_model, cfg.n_heads, window, cfg.attn_sink)
        self.mlp = MLP(cfg.d_model, cfg.mlp_ratio)

    def forward(self, x, pos):
        x = x + self.attn(self.norm1(x), pos)
        return x + self.mlp(self.norm2(x))

    def step(self, x_t, cache, pos_t, window=None):
        y, cache = self.attn.step(self.norm1(x_t), pos_t, cache, window)
        x_t = x_t + y
        return x_t + self.mlp(self.norm2(x_t)), cache

    def compiled_stepper(self, window=None):
        a = self.attn
        kernel = cpu_kernels.attn_block_step(
            self.norm1.weight, a.qkv.weight, a.out.weight, self.norm2.weight, self.mlp.fc1.weight, self.mlp.fc2.weight,
            a.sink, eps1=_eps(self.norm1), eps2=_eps(self.norm2), heads=a.n_heads, base=ROTARY_BASE)

        def step(x_t, cache, pos_t):
            cache = cache or a.new_cache(window)
            slot, seen = cache.reserve(x_t, a.n_heads, x_t.shape[1] // a.n_heads)
            return kernel(x_t, pos_t, cache.keys, cache.values, slot, seen), cache
        step.kernel = kernel
        return step


class MiniJMamba(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.spec = Spectral(cfg.n_fft, cfg.hop, cfg.win, cfg.sample_rate, cfg.n_mels)
        k = cfg.downsample
        if cfg.frontend == "conv":
            self.conv = nn.Conv1d(1, cfg.d_model, cfg.n_fft, stride=cfg.hop, padding=cfg.n_fft // 2)
            n_in = cfg.d_model * k
        elif cfg.frontend in ("mel", "stft"):
            n_in = (cfg.n_mels if cfg.frontend == "mel" else self.spec.n_bins) * k
        else:  # config.model_config checks the choices; this guards direct construction
            raise ValueError(f"unknown frontend {cfg.frontend!r} (mel, stft, conv)")
        self.in_proj = nn.Linear(n_in * (1 + cfg.context), cfg.d_model)
        self.answer_embed = nn.Parameter(torch.randn(cfg.d_model) * 0.02)
        ssd_index = 0
        n_attn = cfg.layers.count("attn")
        windows = iter(cfg.attn_window if isinstance(cfg.attn_window, list) else [cfg.attn_window] * n_attn)
        blocks = []
        for kind in cfg.layers:
            if kind == "ssd":
                blocks.append(SSDBlock(cfg, lti=ssd_index in cfg.lti_layers))
                ssd_index += 1
            elif kind == "attn":
                blocks.append(AttnBlock(cfg, next(windows)))
            elif kind == "lstm":
                blocks.append(LSTMBlock(cfg.d_model))
            elif kind == "s4d":
                blocks.append(S4DBlock(cfg.d_model, cfg.d_state))
            elif kind == "hyena":
                blocks.append(HyenaBlock(cfg.d_model))
            else:
                raise ValueError(f"unknown layer kind {kind!r} ({', '.join(LAYER_KINDS)})")
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.RMSNorm(cfg.d_model)
        self.out_head = nn.Linear(cfg.d_model, self.spec.n_bins * k)
        if cfg.copy_head:  # copy-by-content: answer frames attend to the input's own STFT frames
            copy_only = cfg.copy_gate == "copy"
            self.copy = PositionCopyHead(cfg.d_model, copy_only=copy_only) if cfg.copy_align == "position" else \
                CountCopyHead(cfg.d_model, cfg.answer_clock_ms, 1000 * cfg.hop / cfg.sample_rate,
                              math.log(self.spec.log_floor), cfg.win, k, copy_only=copy_only)
        if cfg.symbol_readout:  # each answer symbol reads the states of the input symbol it answers
            self.readout = SymbolReadout(cfg.d_model, cfg.answer_clock_ms, 1000 * cfg.hop / cfg.sample_rate, k,
                                         cfg.readout_refractory_ms)
        self.ctc_head = nn.Linear(cfg.d_model, cfg.n_symbols + 1)
        nn.init.zeros_(self.out_head.weight)
        nn.init.constant_(self.out_head.bias, math.log(self.spec.log_floor))  # start silent

    # ------------------------------------------------------------------ geometry
    def _position_stretch(self, b: int, device) -> torch.Tensor | None:
        """Training only, with model.positions_stretch > 1: one scale in [1, stretch] per sequence for
        its rotary positions. Positions restarting in the answer slot stay aligned (step k still meets
        input step k at distance 0), and the distances a 2x-longer input brings (an answer step far past
        the input's end) occur in training, where attending there is wrong; the length study found an
        aligning head landing on a rotary alias at such a never-trained distance. Cf. randomized
        positional encodings (Ruoss et al., ACL 2023), which sample positions from a longer range."""
        if not self.training or self.cfg.positions_stretch <= 1:
            return None
        return 1 + (self.cfg.positions_stretch - 1) * torch.rand(b, device=device)

    def input_steps(self, n_samples: torch.Tensor) -> torch.Tensor:
        frames = n_samples // self.cfg.hop + 1
        return (frames + self.cfg.downsample - 1) // self.cfg.downsample

    def answer_steps(self, in_steps: torch.Tensor) -> torch.Tensor:
        k = self.cfg.downsample
        return torch.ceil(in_steps * self.cfg.answer_ratio).long() + (self.cfg.answer_pad + k - 1) // k

    def _with_tail(self, wave):
        # k hops of silence past the batch's end: every input step is made of real frames, never of
        # _stack's padding, so no utterance's features depend on its batch mates
        return torch.nn.functional.pad(wave, (0, self.cfg.downsample * self.cfg.hop))

    def _features(self, wave):
        wave = self._with_tail(wave)
        if self.cfg.frontend == "conv":
            return self.conv(wave[:, None]).transpose(1, 2)
        return self.spec.log_mel(wave) if self.cfg.frontend == "mel" else self.spec.log_mag(wave)

    def _stack(self, x):
        """(b, frames, f) -> (b, frames/k, f*k): downsampling by frame stacking."""
        k = self.cfg.downsample
        pad = (-x.shape[1]) % k
        if pad:
            x = torch.nn.functional.pad(x, (0, 0, 0, pad), value=float(x.min()) if x.numel() else 0.0)
        return x.reshape(x.shape[0], x.shape[1] // k, -1)

    def _with_context(self, x):
        """(b, T, f) -> (b, T, f*(1+c)): each step beside the c steps before it (the first step repeated
        before the start), so the input projection, and through it dt, sees where a tone begins."""
        steps = [x]
        for j in range(1, self.cfg.context + 1):
            steps.append(torch.cat([x[:, :1].expand(-1, min(j, x.shape[1]), -1), x[:, :-j]], 1)[:, : x.shape[1]])
        return torch.cat(steps, -1)

    def _input(self, wave):
        """Input steps (b, T_in_max, d_model) of a zero-padded batch of waves."""
        return self.in_proj(self._with_context(self._stack(self._features(wave))))

    # ------------------------------------------------------------------ forward
    def forward(self, wave: torch.Tensor, n_samples: torch.Tensor, ans_steps: torch.Tensor | None = None) -> dict:
        """wave (b, n) zero-padded, n_samples (b,). Returns answer log-magnitude frames and CTC logits.

        out["log_mag"] (b, A, k*bins) per answer step, out["ctc"] (b, A, V+1), out["ans_steps"] (b,).
        """
        h = self._input(wave)  # (b, T_in_max, d)
        t_in = self.input_steps(n_samples).clamp(max=h.shape[1])
        t_ans = self.answer_steps(t_in) if ans_steps is None else ans_steps
        total = int((t_in + t_ans).max())
        t = torch.arange(total, device=wave.device)[None, :]
        is_in = t < t_in[:, None]
        h = torch.nn.functional.pad(h, (0, 0, 0, max(0, total - h.shape[1])))[:, :total]
        x = torch.where(is_in[..., None], h, self.answer_embed.to(h.dtype))
        pos = {"restart": lambda: torch.where(is_in, t, t - t_in[:, None]),  # answer step k ~ input step k
               "continue": lambda: t.expand(len(t_in), -1),
               "none": lambda: torch.zeros_like(t).expand(len(t_in), -1)}[self.cfg.positions]()
        stretch = self._position_stretch(len(t_in), wave.device)
        if stretch is not None:
            pos = pos * stretch[:, None]
        for block in self.blocks:
            x = block(x, pos)
        x = self.norm(x)
        A = int(t_ans.max())
        idx = (t_in[:, None] + torch.arange(A, device=wave.device)[None]).clamp(max=total - 1)
        ans = torch.gather(x, 1, idx[..., None].expand(-1, -1, x.shape[-1]))
        out = {"ctc": self.ctc_head(ans), "ans_steps": t_ans, "in_steps": t_in}
        silent = None
        if self.cfg.symbol_readout:  # out["count"]: symbols heard up to each input step (train.loss.count)
            ans, out["count"], silent = self.readout(x[:, : int(t_in.max())], t_in, ans)
        log_mag = self.out_head(ans)
        if silent is not None:
            frames = silenced(self.answer_frames(log_mag), silent, math.log(self.spec.log_floor))
            log_mag = frames.reshape(log_mag.shape)
        if self.cfg.copy_head:
            frames = self._stack(self.spec.log_mag(self._with_tail(wave)))[:, : int(t_in.max())]
            if self.cfg.copy_align == "position":
                log_mag = self.copy(ans, x[:, : frames.shape[1]], frames, t_in, log_mag, stretch)
            else:  # out["count"]: symbols heard up to each input step, which train.loss.count trains;
                # out["copy_gate"]: the gate's mean logit over the answer (train.loss.copy_gate)
                frames = frames.reshape(len(frames), -1, self.spec.n_bins)
                log_mag, out["count"], gate = self.copy(x[:, : int(t_in.max())], frames, t_in, log_mag)
                if gate is not None:
                    out["copy_gate"] = gate
        out["log_mag"] = self._answer_slots(log_mag)
        return out

    @torch.no_grad()
    def stream(self, wave: torch.Tensor, n_samples: torch.Tensor, window: int | None = None) -> dict:
        """forward() one model step at a time, as a streaming decoder runs it: SSD, S4D and LSTM layers
        carry their recurrent state, attention layers a key/value cache of at most `window` steps
        (None: all, equal to forward()). Memory beyond the front end's frames is constant in length
        when a window is set. Batch size 1; returns what forward() returns."""
        if wave.shape[0] != 1:
            raise ValueError("stream() takes one utterance at a time")
        if self.cfg.copy_head or self.cfg.symbol_readout:
            raise ValueError("the copy head and the symbol readout attend over the whole input: no bounded-memory "
                             "streaming")
        h = self._input(wave)
        t_in = self.input_steps(n_samples).clamp(max=h.shape[1])
        t_ans = self.answer_steps(t_in)
        n_in, n_ans = int(t_in[0]), int(t_ans[0])
        steps = [stepper(block, window) for block in self.blocks]
        states: list = [None] * len(self.blocks)
        t_all = torch.arange(n_in + n_ans, device=wave.device)
        pos_all = {"restart": torch.where(t_all < n_in, t_all, t_all - n_in), "continue": t_all,
                   "none": torch.zeros_like(t_all)}[self.cfg.positions]
        embed = self.answer_embed.to(h.dtype)[None]
        outs = []
        for t in range(n_in + n_ans):
            x = embed if t >= n_in else h[:, t]
            for i, step in enumerate(steps):
                x, states[i] = step(x, states[i], pos_all[t:t + 1])
            if t >= n_in:
                outs.append(x)
        ans = self.norm(torch.stack(outs, 1))
        return {"log_mag": self._answer_slots(self.out_head(ans)), "ctc": self.ctc_head(ans), "ans_steps": t_ans,
                "in_steps": t_in}

    def _answer_slots(self, log_mag):
        """model.answer_slots: each answer symbol's tone frames say their slot's mean spectrum (on the
        canonical answer clock): an output head unsure of a symbol otherwise drifts from one tone to
        another within it, or splits it, and the scorer hears two symbols. Still the output head's own
        frames, averaged: no symbol is looked up."""
        if not self.cfg.answer_slots:
            return log_mag
        frames = slot_means(self.answer_frames(log_mag), 1000 * self.cfg.hop / self.cfg.sample_rate,
                            self.cfg.answer_clock_ms)
        return frames.reshape(log_mag.shape)

    def answer_frames(self, log_mag: torch.Tensor) -> torch.Tensor:
        """(b, A, k*bins) -> (b, A*k, bins) STFT frames."""
        return log_mag.reshape(log_mag.shape[0], -1, self.spec.n_bins)

    def to_wave(self, log_mag: torch.Tensor, n_iter: int | None = None) -> torch.Tensor:
        """Answer log-magnitude -> waveform (fixed, differentiable Griffin-Lim)."""
        mag = torch.exp(self.answer_frames(log_mag).float()) - self.spec.log_floor
        return self.spec.griffin_lim(mag.clamp_min(0), n_iter or self.cfg.gl_iters)

    def ssd_mixers(self) -> list:
        """The Mamba2Layer of each SSD block, in order (what probe records and prune masks)."""
        return [b.mixer for b in self.blocks if isinstance(b, SSDBlock)]

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """As nn.Module's, and a pruned checkpoint's state masks (`...mixer.state_mask`) are set
        first, so that a pruned model loads wherever an unpruned one does."""
        for i, block in enumerate(self.blocks):
            key = f"blocks.{i}.mixer.state_mask"
            if isinstance(block, SSDBlock) and key in state_dict:
                block.mixer.set_state_mask(torch.ones_like(state_dict[key]))
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def parameter_counts(self) -> dict[str, int]:
        groups = {"frontend": 0, "ssd": 0, "attention": 0, "core": 0, "output": 0, "ctc": 0}
        for name, p in self.named_parameters():
            if name.startswith("blocks."):
                i = int(name.split(".")[1])
                b = self.blocks[i]
                groups["ssd" if isinstance(b, SSDBlock) else "attention" if isinstance(b, AttnBlock)
                       else "core"] += p.numel()
            elif name.startswith(("out_head", "norm.", "copy.", "readout.")):
                groups["output"] += p.numel()
            elif name.startswith("ctc_head"):
                groups["ctc"] += p.numel()
            else:
                groups["frontend"] += p.numel()
        if not groups["core"]:
            del groups["core"]  # baseline cores (LSTM, S4D, Hyena) only
        groups["total"] = sum(groups.values())
        return groups
