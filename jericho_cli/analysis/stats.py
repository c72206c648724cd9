"""Small, dependency-free estimators the analyses share: standardising, PCA, k-means++, ridge and
logistic probes, a diagonal-Gaussian mixture density network, bootstrap intervals.

Each is fitted on one set and applied to another; nothing here sees evaluation data while fitting.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def standardize(train: np.ndarray, *others: np.ndarray, eps: float = 1e-6):
    """z-scores with the train set's mean and sd (sd clamped: constant channels stay 0)."""
    mu, sd = train.mean(0), np.maximum(train.std(0), eps)
    return [(a - mu) / sd for a in (train, *others)]


class PCA:
    def __init__(self, n: int):
        self.n = n

    def fit(self, x: np.ndarray) -> "PCA":
        self.mean = x.mean(0)
        _, s, vt = np.linalg.svd(x - self.mean, full_matrices=False)
        self.components = vt[: self.n]
        self.explained = (s[: self.n] ** 2).sum() / max((s ** 2).sum(), 1e-30)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) @ self.components.T


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 50, n_init: int = 3) -> np.ndarray:
    """Centroids (k, d) by Lloyd's algorithm from k-means++ seeds; the best of n_init by inertia."""
    k = min(k, len(x))
    best, best_inertia = None, np.inf
    for _ in range(n_init):
        c = [x[rng.integers(len(x))]]
        d2 = ((x - c[0]) ** 2).sum(1)
        for _ in range(1, k):
            p = d2 / d2.sum() if d2.sum() > 0 else None
            c.append(x[rng.choice(len(x), p=p)])
            d2 = np.minimum(d2, ((x - c[-1]) ** 2).sum(1))
        c = np.array(c)
        for _ in range(iters):
            lab, _ = assign(x, c)
            new = np.array([x[lab == j].mean(0) if np.any(lab == j) else c[j] for j in range(k)])
            if np.allclose(new, c):
                break
            c = new
        lab, dist = assign(x, c)
        inertia = float((dist ** 2).sum())
        if inertia < best_inertia:
            best, best_inertia = c, inertia
    return best


def assign(x: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of each row and its distance (the assignment's confidence: smaller = surer)."""
    d2 = (x ** 2).sum(1)[:, None] - 2 * x @ centroids.T + (centroids ** 2).sum(1)[None]
    lab = d2.argmin(1)
    return lab, np.sqrt(np.maximum(d2[np.arange(len(x)), lab], 0))


def ridge(x_train, y_train, x_eval, alphas=(0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)) -> np.ndarray:
    """Ridge regression predictions on x_eval, the penalty chosen among `alphas` on the last third of
    the training rows (contiguous rows: whole utterances) and refitted on all of them. One SVD serves
    every penalty, in whichever of the primal or dual forms is smaller."""
    def fit(x, y):
        mx, my = x.mean(0), y.mean()
        u, s, vt = np.linalg.svd(x - mx, full_matrices=False)
        uty = u.T @ (y - my)
        return lambda a, xe: (xe - mx) @ (vt.T @ (s / (s ** 2 + a) * uty)) + my

    cut = len(x_train) * 2 // 3
    inner = fit(x_train[:cut], y_train[:cut])
    best = max(alphas, key=lambda a: r2(y_train[cut:], inner(a, x_train[cut:])))
    return fit(x_train, y_train)(best, x_eval)


def r2(y, pred) -> float:
    ss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / ss if ss > 0 else 0.0


def logistic(x_train, y_train, x_eval, n_classes: int, l2: float = 1e-3, iters: int = 100, seed: int = 0
             ) -> np.ndarray:
    """Multinomial logistic regression (L-BFGS, L2 penalty); predicted classes on x_eval."""
    torch.manual_seed(seed)
    xt = torch.as_tensor(x_train, dtype=torch.float32)
    yt = torch.as_tensor(y_train, dtype=torch.long)
    lin = torch.nn.Linear(xt.shape[1], n_classes)
    opt = torch.optim.LBFGS(lin.parameters(), lr=1.0, max_iter=iters, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lin(xt), yt) + l2 * (lin.weight ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return lin(torch.as_tensor(x_eval, dtype=torch.float32)).argmax(1).numpy()


def bootstrap_ci(groups: np.ndarray, stat, n: int = 200, seed: int = 0, level: float = 0.95):
    """Percentile interval of stat(indices) over resamples of whole groups (utterances), so steps of
    one utterance, which are not independent, move together."""
    rng = np.random.default_rng(seed)
    ids = np.unique(groups)
    members = {g: np.flatnonzero(groups == g) for g in ids}
    vals = []
    for _ in range(n):
        pick = rng.choice(ids, size=len(ids))
        v = stat(np.concatenate([members[g] for g in pick]))
        if np.isfinite(v):
            vals.append(v)
    if not vals:
        return [float("nan"), float("nan")]
    lo, hi = np.percentile(vals, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return [float(lo), float(hi)]


def trimmed_mean(x: np.ndarray, cut: float = 0.1) -> float:
    x = np.sort(np.asarray(x))
    k = int(len(x) * cut)
    return float(x[k: len(x) - k].mean()) if len(x) > 2 * k else float(x.mean())


# ------------------------------------------------------------------------------ densities
def diag_gauss_nll(y: np.ndarray, mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Per-row negative log-likelihood (nats) of y under N(mu, diag(var))."""
    return 0.5 * (np.log(2 * math.pi * var) + (y - mu) ** 2 / var).sum(1)


class MDN(torch.nn.Module):
    """p(y | x) as a mixture of K diagonal Gaussians from a 2-layer MLP (log-sigma clamped)."""

    def __init__(self, d_in: int, d_out: int, k: int = 4, width: int = 128):
        super().__init__()
        self.k, self.d = k, d_out
        self.net = torch.nn.Sequential(torch.nn.Linear(d_in, width), torch.nn.GELU(),
                                       torch.nn.Linear(width, width), torch.nn.GELU(),
                                       torch.nn.Linear(width, k * (1 + 2 * d_out)))

    def nll(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        logit, mu, log_sd = torch.split(out, [self.k, self.k * self.d, self.k * self.d], -1)
        mu = mu.view(-1, self.k, self.d)
        log_sd = log_sd.view(-1, self.k, self.d).clamp(-7, 5)
        comp = (-0.5 * ((y[:, None] - mu) / log_sd.exp()) ** 2 - log_sd - 0.5 * math.log(2 * math.pi)).sum(-1)
        return -torch.logsumexp(torch.log_softmax(logit, -1) + comp, -1)


def fit_mdn(x_train, y_train, x_eval, y_eval, k: int = 4, width: int = 128, epochs: int = 40,
            batch: int = 256, lr: float = 1e-3, seed: int = 0) -> np.ndarray:
    """Train an MDN on (x_train, y_train); per-row NLL (nats) on the evaluation set."""
    torch.manual_seed(seed)
    xt, yt = (torch.as_tensor(a, dtype=torch.float32) for a in (x_train, y_train))
    model = MDN(xt.shape[1], yt.shape[1], k, width)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=gen).split(batch):
            loss = model.nll(xt[idx], yt[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return model.nll(torch.as_tensor(x_eval, dtype=torch.float32),
                         torch.as_tensor(y_eval, dtype=torch.float32)).numpy().astype(float)
