"""The codebook: which signal stands for which symbol, and the timing of a symbol sequence."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import JerichoError
from ..io.files import read_yaml

DEFAULT_CODEBOOK = Path(__file__).with_name("codebook.yaml")


@dataclass(frozen=True)
class Codebook:
    symbols: dict[str, tuple[float, ...]]  # symbol -> one or more frequencies (Hz)
    sample_rate: int = 16000
    symbol_ms: float = 100.0
    gap_ms: float = 50.0
    lead_ms: float = 50.0
    ramp_ms: float = 5.0
    amplitude: float = 0.5
    source: str = field(default="<builtin>", compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, path: str | Path | None = None) -> "Codebook":
        path = Path(path) if path else DEFAULT_CODEBOOK
        raw = read_yaml(path, "codebook")
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict, source: str = "<dict>") -> "Codebook":
        if not isinstance(raw, dict) or not isinstance(raw.get("symbols"), dict) or not raw["symbols"]:
            raise JerichoError("codebook needs a non-empty 'symbols' mapping", source)
        keys = ("sample_rate", "symbol_ms", "gap_ms", "lead_ms", "ramp_ms", "amplitude")
        unknown = set(raw) - set(keys) - {"symbols"}
        if unknown:
            raise JerichoError(f"unknown codebook key {sorted(unknown)[0]!r} (keys: symbols, {', '.join(keys)})",
                               source)
        kwargs = {}
        for k in keys:
            if k in raw:
                kind = type(getattr(cls, k))
                try:
                    kwargs[k] = kind(raw[k])
                except (TypeError, ValueError):
                    raise JerichoError(f"{k} must be a number, got {raw[k]!r}", source) from None
                if not (math.isfinite(kwargs[k]) and kwargs[k] >= 0) or (k in ("sample_rate", "symbol_ms")
                                                                         and kwargs[k] <= 0):
                    raise JerichoError(f"{k} must be a positive number, got {raw[k]!r}", source)
        if not 0 < kwargs.get("amplitude", cls.amplitude) <= 1:
            raise JerichoError("amplitude must be in (0, 1]", source)
        sr = kwargs.get("sample_rate", cls.sample_rate)
        symbols = {}
        for sym, spec in raw["symbols"].items():
            sym = str(sym)
            if len(sym) != 1:
                raise JerichoError(f"symbol {sym!r} must be one character", source)
            freqs = spec.get("freqs", [spec.get("freq")]) if isinstance(spec, dict) else [spec]
            try:
                freqs = tuple(float(f) for f in freqs)
            except (TypeError, ValueError):
                raise JerichoError(f"symbol {sym!r} needs 'freq' or 'freqs' in Hz", source) from None
            if not freqs or any(not 0 < f < sr / 2 for f in freqs):
                raise JerichoError(f"symbol {sym!r}: frequency outside (0, {sr / 2:g}) Hz", source)
            symbols[sym] = freqs
        if len(set(symbols.values())) != len(symbols):
            raise JerichoError("two symbols share the same frequencies", source)
        return cls(symbols=symbols, source=source, **kwargs)

    def to_dict(self) -> dict:
        return {
            "sample_rate": self.sample_rate, "symbol_ms": self.symbol_ms, "gap_ms": self.gap_ms,
            "lead_ms": self.lead_ms, "ramp_ms": self.ramp_ms, "amplitude": self.amplitude,
            "symbols": {s: {"freqs": list(f)} for s, f in self.symbols.items()},
        }

    # ------------------------------------------------------------------ queries
    @property
    def alphabet(self) -> list[str]:
        return list(self.symbols)

    def index(self, symbol: str) -> int:
        return self.alphabet.index(symbol)

    def check_symbols(self, seq, where: str, what: str = "symbols") -> None:
        for s in seq:
            if s not in self.symbols:
                raise JerichoError(f"unknown symbol {s!r} in {what!r} (not in codebook {self.source})", where)

    def require(self, symbols, what: str) -> None:
        """Fail unless every one of `symbols` has a signal (e.g. what a task's inputs can use)."""
        missing = [s for s in dict.fromkeys(symbols) if s not in self.symbols]
        if missing:
            raise JerichoError(f"codebook has no signal for {' '.join(missing)} (needed by {what})", self.source)

    def samples(self, ms: float) -> int:
        return int(round(ms * self.sample_rate / 1000.0))

    def canonical_seconds(self, n_symbols: int) -> float:
        """Duration of the canonical rendering of `n_symbols` symbols."""
        if n_symbols == 0:
            return 2 * self.lead_ms / 1000
        return (2 * self.lead_ms + n_symbols * self.symbol_ms + (n_symbols - 1) * self.gap_ms) / 1000

    def fingerprint(self) -> str:
        return hashlib.sha1(repr(sorted(self.to_dict().items())).encode()).hexdigest()[:12]

    def band_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decision bands: (distinct freqs, low edges, high edges), split at geometric midpoints."""
        f = np.array(sorted({x for fs in self.symbols.values() for x in fs}))
        if len(f) == 1:
            return f, f / 1.05, f * 1.05
        mid = np.sqrt(f[1:] * f[:-1])
        lo = np.concatenate([[f[0] ** 2 / mid[0]], mid])
        hi = np.concatenate([mid, [f[-1] ** 2 / mid[-1]]])
        return f, lo, hi
