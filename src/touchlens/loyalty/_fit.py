"""Shared maximum-likelihood machinery of the loyalty models: inputs, optimiser, Hessian.

A model supplies ``value_and_grad(params) -> (sum log-likelihood, gradient)`` in its natural
(positive) parameters; :func:`maximise` optimises over ``log(params)`` with L-BFGS-B then
Newton, and :func:`standard_errors` inverts the Hessian (finite differences of the analytic
gradient) at the optimum.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from touchlens.errors import ConfigError

ValueAndGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]

# Parameters live in [1e-8, 1e8]: beyond, the model is at a boundary (e.g. BG/NBD with no
# evidence of drop-out sends a, b → ∞) and the fit is reported as not converged.
LOG_BOUNDS = (float(np.log(1e-8)), float(np.log(1e8)))


class ConvergenceWarning(UserWarning):
    """A maximum-likelihood fit stopped at a boundary or without converging."""


def warn_if_not_converged(model: str, converged: bool, params: dict[str, float], *,
                          stacklevel: int = 3) -> None:
    if not converged:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in params.items())
        warnings.warn(f"{model} fit did not converge to an interior optimum ({shown}); "
                      "the data may hold too few repeat purchases", ConvergenceWarning,
                      stacklevel=stacklevel)


def as_array(name: str, values: Any, *, allow_zero: bool = True) -> np.ndarray:
    """A 1-d float array of finite, non-negative values (``ConfigError`` otherwise)."""
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size and not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be finite numbers")
    if arr.size and (arr.min() < 0 or (not allow_zero and arr.min() == 0)):
        bound = "non-negative" if allow_zero else "positive"
        raise ConfigError(f"{name} must be {bound}")
    return arr


def check_positive(**params: float) -> None:
    """Raise ``ConfigError`` unless every parameter is a finite positive number."""
    for name, value in params.items():
        if not np.isfinite(value) or value <= 0:
            raise ConfigError(f"parameter {name} must be a positive number, not {value!r}")


def wsum(w: np.ndarray, v: np.ndarray) -> float:
    """Σ w·v without BLAS: ``np.dot`` goes through a threaded BLAS whose start-up dominates
    (tens of ms per call on a busy machine) for the vectors of a likelihood evaluation."""
    return float(np.einsum("i,i->", w, v))


def compress(columns: list[np.ndarray], weights: np.ndarray | None
             ) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of ``columns`` with summed weights: the likelihood is a weighted sum,
    so duplicates (common when times are whole days) are evaluated once.

    Rows are keyed by hashing (``pandas.factorize``), column by column: O(n), no sort.
    """
    w = np.ones(len(columns[0])) if weights is None else np.asarray(weights, dtype=float)
    if len(columns[0]) == 0:
        return columns, w
    key, _ = pd.factorize(columns[0])
    for col in columns[1:]:
        codes, uniques = pd.factorize(col)
        key, _ = pd.factorize(key.astype(np.int64) * len(uniques) + codes)
    n_groups = int(key.max()) + 1
    first = np.full(n_groups, len(key), dtype=np.int64)
    np.minimum.at(first, key, np.arange(len(key)))
    summed = np.bincount(key, weights=w, minlength=n_groups)
    return [np.ascontiguousarray(c[first]) for c in columns], summed


@dataclass
class Optimum:
    """A maximum-likelihood solution: natural parameters, log-likelihood, the Hessian there
    (None at a boundary), and whether it is an interior optimum with a vanishing gradient."""

    params: np.ndarray
    log_likelihood: float
    hessian: np.ndarray | None
    converged: bool


def single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """BLAS limited to one thread: the optimiser works on 3–4 parameters, and waking a
    threaded BLAS for each tiny product cost more than the whole likelihood (≈ 6 ms per
    L-BFGS-B step on a busy 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it only the speed differs
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def maximise(value_and_grad: ValueAndGrad, start: np.ndarray, n: float, *,
             tol: float = 1e-8, max_iter: int = 500) -> Optimum:
    """Maximise a log-likelihood over ``log(params)``: L-BFGS-B to ``tol`` (gradient of the
    mean log-likelihood), then Newton steps with a finite-difference Hessian of the analytic
    gradient until the step is below 1e-10 (quadratic convergence: usually one or two)."""

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            ll, grad = value_and_grad(params)
        if not np.isfinite(ll) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(theta)
        return -ll / n, -(grad * params) / n

    result = minimize(objective, np.log(start), jac=True, method="L-BFGS-B",
                      bounds=[LOG_BOUNDS] * len(start),
                      options={"maxiter": max_iter, "ftol": 1e-15, "gtol": tol})
    params = np.exp(result.x)
    ll, grad = value_and_grad(params)
    if at_bound(params):
        return Optimum(params, float(ll), None, False)
    theta = result.x
    h = hessian(value_and_grad, params, grad)
    converged = False
    for _ in range(8):
        p = np.exp(theta)
        g = grad * p  # d ll / d theta
        h_theta = h * np.outer(p, p) + np.diag(g)
        try:
            step = np.linalg.solve(h_theta, -g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1.0:
            break
        if np.max(np.abs(step)) < 1e-10:
            converged = True
            break
        with np.errstate(all="ignore"):
            new_ll, new_grad = value_and_grad(np.exp(theta + step))
        if not np.isfinite(new_ll) or new_ll < ll - 1e-12 * abs(ll):
            break
        theta, ll, grad = theta + step, new_ll, new_grad
        h = hessian(value_and_grad, np.exp(theta), grad)
    converged = converged and bool(result.success or np.max(np.abs(grad * np.exp(theta))) / n
                                   < 1e-6)
    return Optimum(np.exp(theta), float(ll), h, converged)


def at_bound(params: np.ndarray) -> bool:
    """True when a parameter sits on the optimiser's bounds (a boundary solution)."""
    theta = np.log(params)
    return bool(np.any(np.abs(theta - np.array(LOG_BOUNDS)[:, None]).min(axis=0) < 1e-3))


def hessian(value_and_grad: ValueAndGrad, params: np.ndarray, grad: np.ndarray | None = None,
            rel_step: float = 1e-6) -> np.ndarray:
    """Hessian of the log-likelihood in natural parameters: forward differences of the
    analytic gradient (central when ``grad`` at ``params`` is not given), symmetrised."""
    k = len(params)
    h = np.empty((k, k))
    for j in range(k):
        step = rel_step * max(abs(params[j]), 1e-8)
        up = params.copy()
        up[j] += step
        if grad is None:
            down = params.copy()
            down[j] -= step
            h[:, j] = (value_and_grad(up)[1] - value_and_grad(down)[1]) / (2 * step)
        else:
            h[:, j] = (value_and_grad(up)[1] - grad) / step
    return (h + h.T) / 2


def standard_errors(h: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(standard errors, covariance) from the inverse observed information −H⁻¹
    (NaN when there is no Hessian or it is not negative definite)."""
    nan = np.full((k, k), np.nan)
    if h is None:
        return np.full(k, np.nan), nan
    try:
        cov = np.linalg.inv(-h)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan), nan
    diag = np.diag(cov)
    se = np.sqrt(np.where(diag > 0, diag, np.nan))
    return se, cov


def fit_into(model: Any, label: str, names: tuple[str, ...], value_and_grad: ValueAndGrad,
             start: np.ndarray, n: float) -> None:
    """Maximise the log-likelihood (:func:`maximise`, the model's ``tol``/``max_iter``) and
    store the fit on ``model``: ``params_``, ``standard_errors_`` (dicts keyed by ``names``),
    ``covariance_``, ``log_likelihood_``, ``n_customers_``, ``converged_`` (also false when a
    standard error is not finite); warns under ``label`` when not converged."""
    with single_threaded_blas():
        opt = maximise(value_and_grad, start, n, tol=model.tol, max_iter=model.max_iter)
    se, cov = standard_errors(opt.hessian, len(opt.params))
    model.params_ = dict(zip(names, (float(v) for v in opt.params), strict=True))
    model.standard_errors_ = dict(zip(names, (float(v) for v in se), strict=True))
    model.covariance_ = cov
    model.log_likelihood_ = opt.log_likelihood
    model.n_customers_ = round(n)
    model.converged_ = opt.converged and bool(np.all(np.isfinite(se)))
    warn_if_not_converged(label, model.converged_, model.params_, stacklevel=4)
