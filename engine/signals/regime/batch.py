"""Forward-backward for many equal-length return windows at once, each window's numbers
independent of the batch it is computed in.

The EM fit (`fit.py`) runs on a batch of windows: a backtest's every refit together, or a
live refit as a batch of one. Live and backtest must label the same bars the same way, so
a window's parameters must come out bit for bit the same whatever else is in its batch and
wherever it sits. Everything here therefore obeys three rules:

- Arrays are laid out (time, states, windows): one step of the time loop is a contiguous
  (K, B) block, and one state of one step a contiguous row of B windows.
- Arithmetic is elementwise (+, -, *, /, maximum, where are exact IEEE operations, so a
  window's result cannot depend on its neighbours). Sums over states or time are written
  out as additions in an order fixed by K or T alone: numpy's reductions pick sequential or
  pairwise order from the shape (a batch of one reduces over a contiguous axis, which numpy
  sums pairwise; a batch of many does not), and BLAS blocks by size.
- exp and log run only on fresh C-contiguous arrays into fresh outputs: numpy sends such
  calls through one SIMD kernel for every element, but falls back to the C library (whose
  last bit may differ) for an output that is strided or overlaps its input, which would
  make a batch of one and a batch of many take different paths.

Work other than the time recursion runs over blocks of `BLOCK` steps, so that a batch of
hundreds of windows keeps its temporaries in cache instead of streaming arrays of tens of
megabytes through memory several times per EM iteration.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

_LOG_2PI = float(np.log(2.0 * np.pi))
# Time steps per block (at least; a long window's blocks are 1/64 of it, so its per-block
# Python overhead stays bounded). Part of the arithmetic: sums over time add block by
# block, so a different value gives other last bits (the same for every batch size).
# Measured on two windows of 500 daily returns (a small file's fits): 329 ms at 32, 206 ms
# at 128, the same iterations and log-likelihoods to 1e-10; 200 windows took the same time
# at either (a block's temporaries stay a few MB).
BLOCK = 128
# Windows longer than this scan time in chunks (`_chunked_scan`): about 3 sqrt(T) Python
# steps instead of T, for K times the arithmetic. A batch of a backtest's hundreds of
# windows of a few hundred returns is faster stepped one return at a time; a single live
# refit on tens of thousands of returns would take a minute that way. The choice depends
# on the length alone, so a window still gets the same bits in any batch.
LONG = 4096
# Up to this many columns (each window is two: forward and backward), three-state scans
# step in Python floats (`_float_steps`): the same bits, without numpy's per-call cost.
# Measured on windows of 500: floats win up to three windows, arrays from four.
FLOAT_COLUMNS = 6


def sum_states(x: np.ndarray) -> np.ndarray:
    """Sum over the states axis (second to last), as K-1 additions in state order."""
    k = x.shape[-2]
    total = x[..., 0, :] + x[..., 1, :] if k > 1 else x[..., 0, :].copy()
    for i in range(2, k):
        total += x[..., i, :]
    return total


def max_states(x: np.ndarray) -> np.ndarray:
    """Maximum over the states axis (second to last)."""
    out = x[..., 0, :].copy()
    for i in range(1, x.shape[-2]):
        np.maximum(out, x[..., i, :], out=out)
    return out


def sum_time(x: np.ndarray) -> np.ndarray:
    """Sum over axis 0 as a balanced tree whose shape depends on the length alone: halves
    added elementwise, an odd last row folded into the last pair. Each column gets the same
    additions in the same order in any batch, and the tree keeps the rounding error
    ~log2(T) instead of ~T."""
    while len(x) > 1:
        half = len(x) // 2
        paired = x[:half] + x[half:2 * half]
        if len(x) % 2:
            paired[-1] += x[-1]
        x = paired
    return x[0]


def _blocks(n: int) -> range:
    return range(0, n, max(BLOCK, n // 64))


def emissions(xt: np.ndarray, means: np.ndarray, vars_: np.ndarray,
              backward: bool) -> tuple[np.ndarray, np.ndarray]:
    """Scaled emission densities for `scan`, and their log scale (T, B).

    b_t(k) = N(x_t; mean_k, var_k) / max_k N(x_t; mean_k, var_k) for returns `xt` (T, B)
    under per-window parameters (K, B). Returned as (T, K, B), or with `backward` as
    (T, K, 2B) whose last B columns hold the same b in reverse time order."""
    n, m = xt.shape
    k = means.shape[0]
    half = -0.5 / vars_
    const = -0.5 * (_LOG_2PI + np.log(np.ascontiguousarray(vars_)))
    out = np.empty((n, k, 2 * m if backward else m))
    shift = np.empty((n, m))
    for t0, t1 in itertools.pairwise((*_blocks(n), n)):
        log_b = xt[t0:t1, None, :] - means
        log_b *= log_b
        log_b *= half
        log_b += const
        top = max_states(log_b)
        shift[t0:t1] = top
        log_b -= top[:, None, :]
        b = np.exp(log_b)  # fresh output from a contiguous input: see the module doc
        out[t0:t1, :, :m] = b
        if backward:
            out[n - t1:n - t0, :, m:] = b[::-1]
    return out, shift


def scan(start: np.ndarray, trans: np.ndarray,
         emission: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """v_t = normalise((v_{t-1} @ trans) * e_t), v_0 = normalise(start * e_0), per column.

    `start` (K, M), `trans` (K, K, M), `emission` (T, K, M). Returns the normalised v_t
    (T, K, M), the prediction before the emission, v_{t-1} @ trans (T, K, M; `start` at
    t = 0), and each step's normaliser (T, M). One Python step per t for all M columns,
    or, for windows longer than `LONG`, `_chunked_scan`."""
    if len(emission) > LONG:
        return _chunked_scan(start, trans, emission)
    probs, pred, norms = _first_step(start, emission)
    k, m = emission.shape[1:]
    if k == 3 and m <= FLOAT_COLUMNS:
        _float_steps(probs, pred, norms, trans, emission)
        return probs, pred, norms
    for prev, p, e, s, out in zip(probs[:-1], pred[1:], emission[1:], norms[1:], probs[1:],
                                  strict=True):
        # prod[i, j] = v_{t-1}(i) trans(i, j); the prediction sums it over i, in order.
        prod = prev[:, None, :] * trans
        np.add(prod[0], prod[1], out=p)
        for i in range(2, k):
            p += prod[i]
        v = p * e
        np.add(v[0], v[1], out=s)
        for j in range(2, k):
            s += v[j]
        np.divide(v, s, out=out)
    return probs, pred, norms


def _float_steps(probs: np.ndarray, pred: np.ndarray, norms: np.ndarray,
                 trans: np.ndarray, emission: np.ndarray) -> None:
    """`scan`'s time loop for three states, one column at a time in Python floats.

    A float's +, * and / are the IEEE operations numpy applies elementwise, and below they
    run in the array loop's order (each prediction sums its three products left to
    right, then the normaliser its three terms), so every bit is the array loop's. At a
    width of one window (its forward and backward columns) numpy's cost per call, about
    eight calls a step, is most of the time: a live refit and a small file's fits were
    three times slower batched than before batching."""
    for c in range(emission.shape[2]):
        (t00, t01, t02), (t10, t11, t12), (t20, t21, t22) = trans[:, :, c].tolist()
        a0, a1, a2 = probs[0, :, c].tolist()
        steps: list[float] = []
        keep = steps.extend
        for e0, e1, e2 in emission[1:, :, c].tolist():
            q0 = a0 * t00 + a1 * t10 + a2 * t20
            q1 = a0 * t01 + a1 * t11 + a2 * t21
            q2 = a0 * t02 + a1 * t12 + a2 * t22
            v0, v1, v2 = q0 * e0, q1 * e1, q2 * e2
            z = v0 + v1 + v2
            a0, a1, a2 = v0 / z, v1 / z, v2 / z
            keep((a0, a1, a2, q0, q1, q2, z))
        if steps:
            block = np.array(steps).reshape(-1, 7)
            probs[1:, :, c] = block[:, :3]
            pred[1:, :, c] = block[:, 3:6]
            norms[1:, c] = block[:, 6]


def _first_step(start: np.ndarray, emission: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The outputs of a scan, (T, K, M), (T, K, M) and (T, M), with step 0 filled in."""
    n, k, m = emission.shape
    probs = np.empty((n, k, m))
    pred = np.empty((n, k, m))
    norms = np.empty((n, m))
    pred[0] = start
    v = start * emission[0]
    norms[0] = sum_states(v)
    np.divide(v, norms[0], out=probs[0])
    return probs, pred, norms


def _chunked_scan(start: np.ndarray, trans: np.ndarray,
                  emission: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`scan` for long windows: the steps cut into chunks of ~sqrt(T), whose products of
    step matrices M_t = trans * e_t are built for all chunks at once (rescaled to sum 1
    after each step), the vector carried across chunk ends, and every row rebuilt from its
    chunk's start and partial product (`stream.filter_batch` does the same for the live
    filter). Predictions and normalisers then follow from the rows in a few array
    operations. Elementwise throughout, like `scan`."""
    n, k, m = emission.shape
    probs, pred, norms = _first_step(start, emission)
    steps = n - 1
    length = int(np.sqrt(steps))
    chunks = -(-steps // length)
    # Step j of chunk c in column c * m + w (window w); padding steps (emission 1) come
    # after the last real one and never touch it.
    padded = np.ones((chunks * length, k, m))
    padded[:steps] = emission[1:]
    e = padded.reshape(chunks, length, k, m).transpose(1, 2, 0, 3).reshape(length, k, -1)
    trans_c = np.tile(trans, (1, 1, chunks))
    products = np.empty((length, k, k, chunks * m))
    q = None
    for j in range(length):
        step = trans_c * e[j][None]
        if q is not None:
            acc = q[:, 0, None, :] * step[None, 0]
            for i in range(1, k):
                acc = acc + q[:, i, None, :] * step[None, i]
            step = acc
        q = step / sum_states(sum_states(step))
        products[j] = q
    del e, padded
    starts = np.empty((k, chunks * m))
    u = probs[0]
    last = products[-1]
    for c in range(chunks):
        starts[:, c * m:(c + 1) * m] = u
        u = _vecmat(u, last[:, :, c * m:(c + 1) * m])
        u = u / sum_states(u)
    rows = np.empty((length, k, chunks * m))
    for j in range(length):
        w = _vecmat(starts, products[j])
        rows[j] = w / sum_states(w)
    del products
    ordered = rows.reshape(length, k, chunks, m).transpose(2, 0, 1, 3)
    probs[1:] = ordered.reshape(chunks * length, k, m)[:steps]
    for t0, t1 in itertools.pairwise((*_blocks(steps), steps)):
        pred[1 + t0:1 + t1] = _vecmat(probs[t0:t1], trans)
        norms[1 + t0:1 + t1] = sum_states(pred[1 + t0:1 + t1] * emission[1 + t0:1 + t1])
    return probs, pred, norms


def _vecmat(u: np.ndarray, m: np.ndarray) -> np.ndarray:
    """u @ m for vectors (..., K, M) and matrices (K, K, M), summed over i in order."""
    acc = u[..., 0, None, :] * m[0]
    for i in range(1, u.shape[-2]):
        acc = acc + u[..., i, None, :] * m[i]
    return acc


def loglikelihoods(xt: np.ndarray, start: np.ndarray, trans: np.ndarray, means: np.ndarray,
                   vars_: np.ndarray) -> np.ndarray:
    """log p(x_1..x_T) of each window (B,): returns `xt` (T, B), parameters per window."""
    b, shift = emissions(xt, means, vars_, backward=False)
    _, _, norms = scan(start, trans, b)
    return sum_time(shift + np.log(norms))


@dataclass(frozen=True)
class Expectations:
    """What an EM update needs from forward-backward, per window; d_t(k) = x_t - mean_k
    under the parameters the expectations were taken with."""

    occupancy: np.ndarray  # (K, B) sum over t of gamma_t(k) = P(s_t = k | x_1..x_T)
    first: np.ndarray  # (K, B) sum over t of gamma_t(k) d_t(k)
    second: np.ndarray  # (K, B) sum over t of gamma_t(k) d_t(k)^2
    xi_sum: np.ndarray  # (K, K, B) sum over t of P(s_{t-1} = i, s_t = j | x_1..x_T)
    gamma0: np.ndarray  # (K, B) gamma at the first step
    loglik: np.ndarray  # (B,) log p(x_1..x_T)


def expectations(xt: np.ndarray, start: np.ndarray, trans: np.ndarray, means: np.ndarray,
                 vars_: np.ndarray) -> Expectations:
    """Forward-backward over every window (columns of `xt`, (T, B)) in one time loop.

    The backward recursion is the forward one run from the end with the transposed
    matrix: with u_t = b_t * beta_t, u_t = normalise((u_{t+1} @ A^T) * b_t) from
    u_{T-1} = normalise(b_{T-1}), and its prediction u_{t+1} @ A^T is beta_t (up to scale).
    So both directions go through `scan` together, as 2B columns: the Python-level loop
    over time runs once per EM iteration for all windows and both directions."""
    n, m = xt.shape
    b, shift = emissions(xt, means, vars_, backward=True)
    probs, pred, norms = scan(np.concatenate([start, np.ones_like(start)], axis=1),
                              np.concatenate([trans, trans.transpose(1, 0, 2)], axis=2), b)
    del b
    parts: dict[str, list[np.ndarray]] = {name: [] for name in
                                          ("occupancy", "first", "second", "xi", "loglik")}
    gamma0 = None
    for t0, t1 in itertools.pairwise((*_blocks(n), n)):
        pairs = min(t1, n - 1) - t0  # steps t of this block with a successor t + 1
        # Views, not copies: each is read once or twice, and only by exact arithmetic.
        alpha = probs[t0:t1, :, :m]  # P(s_t | x_1..x_t)
        # beta_t (scaled arbitrarily, ones at the end) was the backward prediction at
        # step n-1-t; u_{t+1} = b_{t+1} beta_{t+1} its normalised vector at step n-2-t.
        beta = pred[n - t1:n - t0, :, m:][::-1]
        u_next = probs[n - 1 - t0 - pairs:n - 1 - t0, :, m:][::-1]
        joint = alpha * beta
        # z_t normalises gamma_t; it also normalises the pairs (t, t+1), because
        # sum_ij alpha_t(i) A(i, j) u_{t+1}(j) = sum_i alpha_t(i) beta_t(i).
        z = sum_states(joint)[:, None, :]
        gamma = joint / z
        if gamma0 is None:
            gamma0 = gamma[0]
        d = xt[t0:t1, None, :] - means
        weighted = gamma * d
        parts["occupancy"].append(sum_time(gamma))
        parts["first"].append(sum_time(weighted))
        weighted *= d
        parts["second"].append(sum_time(weighted))
        if pairs:
            scaled = alpha[:pairs] / z[:pairs]
            parts["xi"].append(sum_time(scaled[:, :, None, :] * u_next[:, None, :, :]))
        logs = np.log(np.ascontiguousarray(norms[t0:t1, :m]))
        logs += shift[t0:t1]
        parts["loglik"].append(sum_time(logs))
    sums = {name: sum_time(np.stack(blocks)) for name, blocks in parts.items()}
    return Expectations(occupancy=sums["occupancy"], first=sums["first"],
                        second=sums["second"], xi_sum=trans * sums["xi"], gamma0=gamma0,
                        loglik=sums["loglik"])
