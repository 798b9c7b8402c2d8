"""Time per epoch of MultiTaskMLPRegressor vs sklearn's MLPRegressor and PyTorch.

Usage::

    python benchmarks/mlp_speed.py [--epochs 5] [--threads 2]

* single task (T = 1): skmtl vs ``sklearn.neural_network.MLPRegressor``,
  same architecture, Adam, batch 200, float32 data (sklearn keeps float32).
* multi-task (n = 20,000, d = 100, T = 10, wide layout): skmtl vs an
  equivalent PyTorch CPU model (shared trunk (100,), a linear head per task
  as one (100, T) layer, masked 0.5 * MSE per task, Adam, batch 200,
  float32, the same thread count), when ``torch`` is importable.

Timings are the median over runs of (fit time / epochs) with tol=0 so that
every run does exactly ``--epochs`` epochs.
"""

import argparse
import os
import time
import warnings

import numpy as np


def _median_epoch_time(fit, epochs, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fit()
        times.append((time.perf_counter() - start) / epochs)
    return float(np.median(times))


def make_data(n, d, n_tasks, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d).astype(np.float32)
    A = rng.randn(d, 8) / np.sqrt(d)
    Y = np.tanh(X @ A) @ rng.randn(8, n_tasks) + 0.1 * rng.randn(n, n_tasks)
    return X, Y.astype(np.float32)


def bench_sklearn(X, y, epochs):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    from skmtl.neural_network import MultiTaskMLPRegressor

    common = dict(hidden_layer_sizes=(100,), max_iter=epochs, tol=0, n_iter_no_change=10**9, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t_sk = _median_epoch_time(lambda: MLPRegressor(**common).fit(X, y), epochs)
        t_mtl = _median_epoch_time(lambda: MultiTaskMLPRegressor(**common).fit(X, y), epochs)
    return t_mtl, t_sk


def bench_torch(X, Y, epochs, threads):
    import torch

    torch.set_num_threads(threads)
    n, d = X.shape
    T = Y.shape[1]
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    mask = ~torch.isnan(Yt)
    Yt = torch.nan_to_num(Yt)

    def fit():
        torch.manual_seed(0)
        trunk = torch.nn.Sequential(torch.nn.Linear(d, 100), torch.nn.ReLU())
        heads = torch.nn.Linear(100, T)  # one output unit per task, one matmul
        params = list(trunk.parameters()) + list(heads.parameters())
        opt = torch.optim.Adam(params, lr=1e-3)
        for _ in range(epochs):
            perm = torch.randperm(n)
            for start in range(0, n, 200):
                idx = perm[start : start + 200]
                out = heads(trunk(Xt[idx]))
                m = mask[idx]
                err = torch.where(m, out - Yt[idx], 0.0)
                # sum_t 0.5 * mean over labeled rows of task t, + L2 on weights
                per_task = 0.5 * (err**2).sum(0) / m.sum(0).clamp(min=1)
                l2 = sum((p**2).sum() for p in (trunk[0].weight, heads.weight))
                loss = per_task.sum() + 0.5 * 1e-4 * l2 / len(idx)
                opt.zero_grad()
                loss.backward()
                opt.step()

    return _median_epoch_time(fit, epochs)


def bench_mtl(X, Y, epochs):
    from sklearn.exceptions import ConvergenceWarning

    from skmtl.neural_network import MultiTaskMLPRegressor

    model = MultiTaskMLPRegressor((100,), max_iter=epochs, tol=0, n_iter_no_change=10**9, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _median_epoch_time(lambda: model.fit(X, Y), epochs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    args = parser.parse_args()
    print(f"threads={args.threads} epochs={args.epochs} batch=200 float32, hidden=(100,), Adam")
    print(f"{'case':<36}{'skmtl s/epoch':>15}{'peer s/epoch':>15}{'ratio':>8}  peer")
    X, Y = make_data(20000, 100, 10)
    t_mtl, t_sk = bench_sklearn(X, Y[:, 0], args.epochs)
    print(f"{'T=1, n=20000, d=100':<36}{t_mtl:>15.4f}{t_sk:>15.4f}{t_mtl / t_sk:>8.2f}  sklearn MLPRegressor")
    t_mtl = bench_mtl(X, Y, args.epochs)
    try:
        t_torch = bench_torch(X, Y, args.epochs, args.threads)
        print(f"{'T=10, n=20000, d=100 (wide)':<36}{t_mtl:>15.4f}{t_torch:>15.4f}{t_mtl / t_torch:>8.2f}  PyTorch CPU")
    except ImportError:
        print(f"{'T=10, n=20000, d=100 (wide)':<36}{t_mtl:>15.4f}{'n/a':>15}{'':>8}  (torch not installed)")
    # Missing labels cost nothing extra: 30% NaN
    Ym = Y.copy()
    Ym[np.random.RandomState(1).rand(*Y.shape) < 0.3] = np.nan
    t_missing = bench_mtl(X, Ym, args.epochs)
    print(f"{'T=10, 30% labels missing':<36}{t_missing:>15.4f}")


if __name__ == "__main__":
    main()
