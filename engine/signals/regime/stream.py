"""The causal regime filter, one arithmetic for the live stream and the whole-frame batch.

The forward recursion alpha_t ∝ alpha_{t-1} A diag(b_t) is sequential in t. To vectorize it
over a long series and still let a live filter, which sees one return at a time, reach the
same numbers bit for bit, both compute it in fixed chunks of `CHUNK` steps:

- step 0: v_0 = normalise(startprob * b_0);
- in chunk c (steps 1 + c*CHUNK ..), Q holds the product of the chunk's step matrices
  M_t = A diag(b_t) so far, rescaled to sum to 1 after each step, and the filtered
  vector is v_t = normalise(u_c Q), u_c being the vector at the end of the previous chunk.

The live filter updates Q once per return. The batch builds the Q of every chunk at once
(CHUNK numpy steps over all chunks), carries u_c across chunks (one short step per chunk),
and rebuilds Q to write every row. Each product, sum and exponential is an elementwise
numpy operation in a fixed order (no BLAS, no pairwise reduction), so a row computed alone
equals the same row computed inside a batch, bit for bit; argmax labels therefore agree
exactly. Rescaling never changes a normalised vector, so nothing underflows however long
the series.
"""

from __future__ import annotations

import numpy as np

from engine.signals.regime.inference import HMMParams

CHUNK = 32  # steps per chunk: long enough to amortise numpy calls, short enough to stay in cache
_LOG_2PI = float(np.log(2.0 * np.pi))


def scaled_emission(x: np.ndarray, means: np.ndarray, vars_: np.ndarray,
                    log_vars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """b = exp(log N(x; mean_k, var_k) - shift) with each row's largest entry 1, and the shift.

    `x` (...,) against parameters broadcastable to (..., K)."""
    diff = x[..., None] - means
    log_b = -0.5 * (_LOG_2PI + log_vars + diff * diff / vars_)
    shift = log_b[..., 0]
    for k in range(1, log_b.shape[-1]):
        shift = np.maximum(shift, log_b[..., k])
    return np.exp(log_b - shift[..., None]), shift


def _sum_last(v: np.ndarray) -> np.ndarray:
    total = v[..., 0]
    for k in range(1, v.shape[-1]):
        total = total + v[..., k]
    return total


def _normalised(v: np.ndarray) -> np.ndarray:
    return v / _sum_last(v)[..., None]


def _vecmat(u: np.ndarray, m: np.ndarray) -> np.ndarray:
    """u @ m over leading axes, as K elementwise products added in state order."""
    acc = u[..., 0, None] * m[..., 0, :]
    for i in range(1, u.shape[-1]):
        acc = acc + u[..., i, None] * m[..., i, :]
    return acc


def _matmat(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    acc = q[..., :, 0, None] * m[..., None, 0, :]
    for i in range(1, q.shape[-1]):
        acc = acc + q[..., :, i, None] * m[..., None, i, :]
    return acc


def _rescaled(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = _sum_last(_sum_last(q))
    return q / total[..., None, None], total


class RegimeFilter:
    """Causal P(state_t | r_1..r_t) for a fixed fitted model, one return at a time; equal
    bit for bit to `filter_batch` over the same returns."""

    def __init__(self, params: HMMParams, labels: tuple[str, ...]) -> None:
        self._params = params
        self._labels = labels
        self._log_vars = np.log(params.vars)
        self._steps = 0
        self._alpha: np.ndarray | None = None
        self._u = np.empty(0)  # filtered vector at the end of the previous chunk
        self._q = np.empty(0)  # rescaled product of this chunk's step matrices
        self._log_u = 0.0  # log p(r_1..) at the end of the previous chunk
        self._log_q = 0.0  # log of the scales taken out of Q in this chunk
        self.loglik = 0.0  # log p(r_1..r_t) of the returns seen so far

    def update(self, r: float) -> np.ndarray:
        """Take the next return; give the filtered state probabilities (K,) after it."""
        if not np.isfinite(r):
            raise ValueError(f"return must be finite, got {r}")
        p = self._params
        b, shift = scaled_emission(np.array(float(r)), p.means, p.vars, self._log_vars)
        shift = float(shift)
        if self._steps == 0:
            v = p.startprob * b
            s = float(_sum_last(v))
            self._alpha = v / s
            self.loglik = shift + float(np.log(s))
            self._u, self._log_u = self._alpha, self.loglik
        else:
            step = p.transmat * b[None, :]
            position = (self._steps - 1) % CHUNK
            if position == 0:
                self._q, total = _rescaled(step)
                self._log_q = shift + float(np.log(total))
            else:
                self._q, total = _rescaled(_matmat(self._q, step))
                self._log_q += shift + float(np.log(total))
            w = _vecmat(self._u, self._q)
            s = float(_sum_last(w))
            self._alpha = w / s
            self.loglik = self._log_u + self._log_q + float(np.log(s))
            if position == CHUNK - 1:
                self._u, self._log_u = self._alpha, self.loglik
        self._steps += 1
        return self._alpha.copy()

    @property
    def probabilities(self) -> np.ndarray | None:
        """The latest filtered probabilities, None before the first update."""
        return None if self._alpha is None else self._alpha.copy()

    @property
    def label(self) -> str | None:
        """Label of the most probable current state, None before the first update."""
        return None if self._alpha is None else self._labels[int(self._alpha.argmax())]


def filter_batch(models: list[HMMParams], returns: np.ndarray) -> np.ndarray:
    """Filtered probabilities (S, L, K) of S independent series (S, L), series s under
    model s, each from its model's start probabilities: what S `RegimeFilter`s give.

    Rows past the end of a shorter series may be padded with any finite return; they never
    touch earlier rows (the filter is causal).

    The arithmetic is `RegimeFilter`'s, element for element, with the states first and the
    series (or chunks) last: numpy then runs each operation over long rows instead of
    looping over runs of K entries, and a product or sum is the same IEEE operation on the
    same operands in either layout."""
    x = np.asarray(returns, dtype=np.float64)
    n_series, length = x.shape
    k = models[0].n_states
    out = np.empty((n_series, length, k))
    if length == 0:
        return out
    start = np.stack([m.startprob for m in models], axis=-1)  # (K, S)
    trans = np.stack([m.transmat for m in models], axis=-1)  # (K, K, S)
    means = np.stack([m.means for m in models], axis=-1)
    vars_ = np.stack([m.vars for m in models], axis=-1)
    # log(var) per model on its own (K,) array, exactly as RegimeFilter takes it.
    log_vars = np.stack([np.log(m.vars) for m in models], axis=-1)
    b0 = _emission_columns(x[:, 0], means, vars_, log_vars)
    v0 = _normalised_columns(start * b0)
    out[:, 0] = v0.T
    if length == 1:
        return out

    # Steps 1.. in chunks of CHUNK, padded with zero returns to whole chunks; column
    # s * n_chunks + c is chunk c of series s.
    n_chunks = -(-(length - 1) // CHUNK)
    width = n_series * n_chunks
    steps = np.zeros((n_series, n_chunks * CHUNK))
    steps[:, : length - 1] = x[:, 1:]
    steps = np.ascontiguousarray(steps.reshape(width, CHUNK).T)  # (CHUNK, width)
    per_chunk = np.repeat(np.arange(n_series), n_chunks)
    b = _emission_columns(steps, means[:, per_chunk], vars_[:, per_chunk],
                          log_vars[:, per_chunk])  # (CHUNK, K, width)
    trans_c = trans[:, :, per_chunk]

    # Work arrays for the products, reused step after step: fresh arrays of this size
    # each step cost more in page faults (the allocator hands them back to the system)
    # than the arithmetic on them. out= changes where a result goes, not its bits.
    step, term, acc = (np.empty((k, k, width)) for _ in range(3))
    pair = (np.empty((k, k, width)), np.empty((k, k, width)))  # Q before and after a step

    def products():  # Q after each step of every chunk, in step order (a reused array)
        q = None
        for j in range(CHUNK):
            np.multiply(trans_c, b[j][None, :, :], out=step)
            if q is None:
                product = step
            else:
                product = acc
                np.multiply(q[:, 0, None, :], step[None, 0, :, :], out=product)
                for i in range(1, k):
                    np.multiply(q[:, i, None, :], step[None, i, :, :], out=term)
                    np.add(product, term, out=product)
            rows = product[:, 0, :]
            for c in range(1, k):
                rows = rows + product[:, c, :]
            q = pair[(j + 1) % 2]
            np.divide(product, _sum_first(rows), out=q)
            yield j, q

    for j, q in products():
        if j == CHUNK - 1:
            last = q.reshape(k, k, n_series, n_chunks).copy()
    # Carry each series' vector across its chunks: u_{c+1} = normalise(u_c Q_c).
    starts = np.empty((k, n_series, n_chunks))
    u = v0
    for c in range(n_chunks):
        starts[:, :, c] = u
        u = _normalised_columns(_vecmat_columns(u, last[:, :, :, c]))
    starts = starts.reshape(k, width)
    rows = np.empty((CHUNK, k, width))
    for j, q in products():
        rows[j] = _normalised_columns(_vecmat_columns(starts, q))
    filtered = rows.reshape(CHUNK, k, n_series, n_chunks).transpose(2, 3, 0, 1)
    out[:, 1:] = filtered.reshape(n_series, n_chunks * CHUNK, k)[:, : length - 1]
    return out


# The helpers above for arrays with the states first and any number of columns last.

def _emission_columns(x: np.ndarray, means: np.ndarray, vars_: np.ndarray,
                      log_vars: np.ndarray) -> np.ndarray:
    """`scaled_emission`'s b for returns x (..., N) under parameters (K, N): (..., K, N)."""
    diff = x[..., None, :] - means
    log_b = -0.5 * (_LOG_2PI + log_vars + diff * diff / vars_)
    shift = log_b[..., 0, :]
    for k in range(1, log_b.shape[-2]):
        shift = np.maximum(shift, log_b[..., k, :])
    return np.exp(log_b - shift[..., None, :])


def _sum_first(v: np.ndarray) -> np.ndarray:
    total = v[0]
    for k in range(1, len(v)):
        total = total + v[k]
    return total


def _normalised_columns(v: np.ndarray) -> np.ndarray:
    return v / _sum_first(v)


def _vecmat_columns(u: np.ndarray, m: np.ndarray) -> np.ndarray:
    acc = u[0] * m[0]
    for i in range(1, len(u)):
        acc = acc + u[i] * m[i]
    return acc
