"""Causal filtering v_t ∝ v_{t-1} A diag(b_t) over a whole series in few numpy steps.

The forward recursion of a hidden Markov model is sequential in t, but it is a product
of KxK step matrices M_t = A diag(b_t), and matrix products are associative. `chunked_scan`
cuts the series into C chunks of L steps and:

1. multiplies out each chunk's L matrices, all chunks at once (L batched steps on (C, K, K)
   arrays that stay in cache; the (n, K, K) stack is never built);
2. carries the start vector across the C chunk products with `prefix_scan`: pairing
   neighbours (P_1 P_2, P_3 P_4, ...) halves the problem, whose answer gives every second
   vector, and one batched vector-matrix product fills in the rest; recursing takes
   ~log2(C) levels and about C matrix products in total (a work-efficient, Blelloch-style
   scan rather than Hillis-Steele doubling, which does C log C);
3. runs all chunks forward from their start vectors at once (L batched steps on (C, K)).

Every matrix and vector is kept normalised (entries summing to 1: over a stack, a sum is
one BLAS matrix-vector product, much cheaper than a max) with its log scale carried
alongside, so nothing underflows however long the series; the log scales add up to the
log-likelihood. `sequential_scan` is the plain loop the tests hold both against.
"""

from __future__ import annotations

import numpy as np

# Below this length the plain loop is cheaper than another level of numpy calls.
_SEQUENTIAL_BELOW = 16
# Chunk length bounds: long enough to amortise the per-step numpy call overhead over many
# chunks, short enough that the chunk stack stays in cache.
_MIN_CHUNK, _MAX_CHUNK = 8, 256


def row_maxima(x: np.ndarray) -> np.ndarray:
    """x.max(axis=1) for a narrow (n, K) array, as K-1 elementwise maxima (several times
    faster than numpy's reduction over a short axis)."""
    out = x[:, 0].copy()
    for k in range(1, x.shape[1]):
        np.maximum(out, x[:, k], out=out)
    return out


def _scaled(log_emission: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp(log b) shifted so each row's largest entry is 1, and the shifts."""
    shift = row_maxima(log_emission)
    return np.exp(log_emission - shift[:, None]), shift


def sequential_scan(
    v0: np.ndarray, log_v0: float, transmat: np.ndarray, log_emission: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reference: v_t = v_{t-1} @ A * b_t, normalised, one step at a time.

    `v0` is a start vector summing to 1 with log scale `log_v0`; `log_emission` (m, K).
    Returns the m normalised vectors after each step and their cumulative log scales.
    """
    m, k = log_emission.shape
    b, shift = _scaled(log_emission)
    out = np.empty((m, k))
    logs = np.empty(m)
    v, log_v = v0, log_v0
    for t in range(m):
        v = (v @ transmat) * b[t]
        s = v.sum()
        v = v / s
        log_v = log_v + shift[t] + np.log(s)
        out[t] = v
        logs[t] = log_v
    return out, logs


def chunked_scan(
    v0: np.ndarray, log_v0: float, transmat: np.ndarray, log_emission: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Same result as `sequential_scan`, computed chunk-parallel (see the module doc)."""
    m, k = log_emission.shape
    chunk = int(np.clip(np.sqrt(m), _MIN_CHUNK, _MAX_CHUNK))
    n_chunks = m // chunk
    if n_chunks < 2:
        return sequential_scan(v0, log_v0, transmat, log_emission)
    used = n_chunks * chunk
    b, shift = _scaled(log_emission)
    b_chunks = b[:used].reshape(n_chunks, chunk, k)
    shift_chunks = shift[:used].reshape(n_chunks, chunk)

    # 1. Each chunk's product of step matrices.
    prods = np.broadcast_to(np.eye(k), (n_chunks, k, k)).copy()
    prod_logs = shift_chunks.sum(axis=1)
    ones_kk = np.ones(k * k)
    for j in range(chunk):
        prods = np.matmul(prods, transmat)
        prods *= b_chunks[:, j, None, :]
        s = prods.reshape(n_chunks, -1) @ ones_kk
        prods /= s[:, None, None]
        prod_logs += np.log(s)

    # 2. The vector entering each chunk.
    entering, entering_logs = prefix_scan(v0, log_v0, prods[:-1], prod_logs[:-1])
    v = np.vstack([v0[None, :], entering])
    log_v = np.concatenate([[log_v0], entering_logs])

    # 3. All chunks forward from their entering vectors.
    out = np.empty((m, k))
    logs = np.empty(m)
    out_chunks = out[:used].reshape(n_chunks, chunk, k)
    log_chunks = logs[:used].reshape(n_chunks, chunk)
    ones_k = np.ones(k)
    for j in range(chunk):
        v = v @ transmat
        v *= b_chunks[:, j]
        s = v @ ones_k
        v /= s[:, None]
        log_v = log_v + shift_chunks[:, j] + np.log(s)
        out_chunks[:, j] = v
        log_chunks[:, j] = log_v
    if used < m:
        out[used:], logs[used:] = sequential_scan(
            out[used - 1], logs[used - 1], transmat, log_emission[used:]
        )
    return out, logs


def prefix_scan(
    v0: np.ndarray, log_v0: float, mats: np.ndarray, log_mats: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """v_t = v_{t-1} @ mats[t] (normalised) for explicit step matrices, by recursive pairing.

    `mats` (m, K, K) are non-negative with log scales `log_mats` (m,). Returns the m
    normalised vectors and their cumulative log scales.
    """
    m, k = len(mats), len(v0)
    if m < _SEQUENTIAL_BELOW:
        out = np.empty((m, k))
        logs = np.empty(m)
        v, log_v = v0, log_v0
        for t in range(m):
            v = v @ mats[t]
            s = v.sum()
            v = v / s
            log_v = log_v + log_mats[t] + np.log(s)
            out[t], logs[t] = v, log_v
        return out, logs
    half = m // 2
    pairs = np.matmul(mats[0 : 2 * half : 2], mats[1 : 2 * half : 2])
    pair_scale = pairs.reshape(half, -1) @ np.ones(k * k)
    pairs /= pair_scale[:, None, None]
    pair_logs = log_mats[0 : 2 * half : 2] + log_mats[1 : 2 * half : 2] + np.log(pair_scale)
    # v after steps 2, 4, ..., 2*half (1-based): the same problem on half the length.
    odd_v, odd_logs = prefix_scan(v0, log_v0, pairs, pair_logs)

    # v after steps 1, 3, 5, ...: one step from the vector before it.
    n_even = (m + 1) // 2
    prev_v = np.vstack([v0[None, :], odd_v[: n_even - 1]])
    prev_logs = np.concatenate([[log_v0], odd_logs[: n_even - 1]])
    even_v = np.einsum("nk,nkj->nj", prev_v, mats[0::2])
    s = even_v @ np.ones(k)
    even_v /= s[:, None]
    even_logs = prev_logs + log_mats[0::2] + np.log(s)

    out = np.empty((m, k))
    logs = np.empty(m)
    out[0::2], logs[0::2] = even_v, even_logs
    out[1::2], logs[1::2] = odd_v, odd_logs
    return out, logs
