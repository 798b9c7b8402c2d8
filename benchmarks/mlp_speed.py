"""Time per epoch of MultiTaskMLPRegressor vs sklearn's MLPRegressor and PyTorch.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python benchmarks/mlp_speed.py [--epochs 3] [--threads 1] [--timer cpu]

* single task (T = 1): skmtl vs ``sklearn.neural_network.MLPRegressor``,
  same architecture, Adam, batch 200, float32 data (sklearn keeps float32).
* multi-task (n = 20,000, d = 100, T = 10, wide layout): skmtl vs an
  equivalent PyTorch CPU model (shared trunk (100,), a linear head per task
  as one (100, T) layer, masked 0.5 * squared error per task divided by
  ``n_t B / N`` (the task's labels in the data times the batch's share of
  the rows: skmtl's unbiased minibatch loss), Adam, batch 200, float32, the
  same thread count), when ``torch`` is importable.
* School (long layout, 15,362 rows, 27 features, 139 tasks with 22-251 rows;
  ``fetch_school`` from ``SKMTL_DATA``): skmtl with ``task_column=-1`` vs
  PyTorch with the same network, a shared (100,) ReLU trunk and one head
  per school, either linear or with a (16,) ReLU hidden layer, batch 200,
  loss ``(N / B) sum_t 0.5 * (sum over the batch's rows of school t) / n_t``
  (``n_t`` the school's rows, ``N`` all rows, ``B`` the batch's rows)
  plus the same L2 term. PyTorch's per-task heads are timed two ways, each row gathering
  its own school's head weights (``W[codes]``, ``bmm``) or all heads in one
  matrix product then each row's own column, and the faster is reported.

Timings are the median over runs of (fit time / epochs) with tol=0 so that
every run does exactly ``--epochs`` epochs. ``--timer cpu`` (the default)
measures the process's CPU time (``time.process_time``), which a shared,
loaded machine inflates less than wall time; with one thread it is the
compute time. ``--timer wall`` measures ``time.perf_counter``.
"""

import argparse
import os
import time
import warnings

import numpy as np


TIMERS = {"cpu": time.process_time, "wall": time.perf_counter}
# skmtl's other defaults (skip path, shared heads) are timed as they are;
# early stopping would train on 90 % of the rows, so it is off as for the
# peers (skmtl versions without early_stopping="auto" take the same value).
_SAME_ROWS = dict(early_stopping=False)
_timer = TIMERS["cpu"]


def _median_epoch_time(fit, epochs, repeats=3):
    times = []
    for _ in range(repeats):
        start = _timer()
        fit()
        times.append((_timer() - start) / epochs)
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
        t_mtl = _median_epoch_time(lambda: MultiTaskMLPRegressor(**common, **_SAME_ROWS).fit(X, y), epochs)
    return t_mtl, t_sk


def bench_torch(X, Y, epochs, threads):
    import torch

    torch.set_num_threads(threads)
    n, d = X.shape
    T = Y.shape[1]
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    mask = ~torch.isnan(Yt)
    Yt = torch.nan_to_num(Yt)
    n_labels = mask.sum(0).to(Xt.dtype)

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
                # sum_t 0.5 * (sum over the batch's labels of task t) / (n_t B / N), + L2
                per_task = 0.5 * (err**2).sum(0) / (n_labels * (len(idx) / n))
                l2 = sum((p**2).sum() for p in (trunk[0].weight, heads.weight))
                loss = per_task.sum() + 0.5 * 1e-4 * l2 / len(idx)
                opt.zero_grad()
                loss.backward()
                opt.step()

    return _median_epoch_time(fit, epochs)


def bench_mtl(X, Y, epochs):
    from sklearn.exceptions import ConvergenceWarning

    from skmtl.neural_network import MultiTaskMLPRegressor

    model = MultiTaskMLPRegressor(
        (100,), max_iter=epochs, tol=0, n_iter_no_change=10**9, random_state=0, **_SAME_ROWS
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _median_epoch_time(lambda: model.fit(X, Y), epochs)


def load_school():
    """School in the long layout, features and scores standardized (float32)."""
    from skmtl.datasets import fetch_school

    X, y = fetch_school(return_X_y=True, download_if_missing=False)
    features = X[:, :-1]
    features = (features - features.mean(0)) / np.where(features.std(0) > 0, features.std(0), 1)
    X = np.column_stack([features, X[:, -1]]).astype(np.float32)
    return X, ((y - y.mean()) / y.std()).astype(np.float32)


def bench_school_skmtl(X, y, heads, epochs):
    from sklearn.exceptions import ConvergenceWarning

    from skmtl.neural_network import MultiTaskMLPRegressor

    model = MultiTaskMLPRegressor(
        (100,), head_layer_sizes=heads, max_iter=epochs, tol=0, n_iter_no_change=10**9,
        random_state=0, task_column=-1, **_SAME_ROWS,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _median_epoch_time(lambda: model.fit(X, y), epochs)


def bench_school_torch(X, y, heads, epochs, threads, mode):
    """PyTorch, per-school heads by gather ("gather") or all heads then pick ("dense")."""
    import torch

    torch.set_num_threads(threads)
    Xt = torch.from_numpy(np.ascontiguousarray(X[:, :-1]))
    yt = torch.from_numpy(y)
    codes = torch.from_numpy(X[:, -1].astype(np.int64))
    n, d = Xt.shape
    T = int(codes.max()) + 1
    sizes = [100, *heads, 1]
    n_rows = torch.bincount(codes, minlength=T).to(Xt.dtype)

    def head_layer(A, W, b, c, first):
        fan_in, fan_out = W.shape[1], W.shape[2]
        if mode == "dense" and first:
            # (n, h) @ (h, T * fan_out): every head for every row, keep the row's own
            Z = (A @ W.permute(1, 0, 2).reshape(fan_in, T * fan_out)).view(-1, T, fan_out)
            return Z[torch.arange(len(c)), c] + b[c]
        if fan_out == 1:
            return (A * W[c, :, 0]).sum(1, keepdim=True) + b[c]
        return torch.bmm(A.unsqueeze(1), W[c]).squeeze(1) + b[c]

    def fit():
        torch.manual_seed(0)
        trunk = torch.nn.Sequential(torch.nn.Linear(d, 100), torch.nn.ReLU())
        Ws, bs = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = np.sqrt(6 / (fan_in + fan_out))
            Ws.append(torch.nn.Parameter(torch.empty(T, fan_in, fan_out).uniform_(-bound, bound)))
            bs.append(torch.nn.Parameter(torch.empty(T, fan_out).uniform_(-bound, bound)))
        opt = torch.optim.Adam([*trunk.parameters(), *Ws, *bs], lr=1e-3)
        for _ in range(epochs):
            perm = torch.randperm(n)
            for start in range(0, n, 200):
                idx = perm[start : start + 200]
                c = codes[idx]
                A = trunk(Xt[idx])
                for layer, (W, b) in enumerate(zip(Ws, bs)):
                    A = head_layer(A, W, b, c, layer == 0)
                    if layer < len(Ws) - 1:
                        A = torch.relu(A)
                # (N / B) sum_t 0.5 * (sum over the batch's rows of school t) / n_t, + L2
                loss = 0.5 * (n / len(idx)) * ((A[:, 0] - yt[idx]) ** 2 / n_rows[c]).sum()
                l2 = (trunk[0].weight ** 2).sum() + sum((W**2).sum() for W in Ws)
                loss = loss + 0.5 * 1e-4 * l2 / len(idx)
                opt.zero_grad()
                loss.backward()
                opt.step()

    return _median_epoch_time(fit, epochs)


def school_rows(epochs, threads):
    """One table row per head architecture: skmtl and PyTorch's faster variant."""
    try:
        X, y = load_school()
    except (FileNotFoundError, OSError) as exc:
        print(f"School skipped: {exc}")
        return
    for heads in [(), (16,)]:
        label = f"School, T=139, heads {heads or 'linear'}"
        t_mtl = bench_school_skmtl(X, y, heads, epochs)
        try:
            t_torch = {m: bench_school_torch(X, y, heads, epochs, threads, m) for m in ("gather", "dense")}
        except ImportError:
            print(f"{label:<36}{t_mtl:>15.4f}{'n/a':>15}{'':>8}  (torch not installed)")
            continue
        best = min(t_torch, key=t_torch.get)
        others = ", ".join(f"{m} {t:.4f}" for m, t in t_torch.items())
        print(f"{label:<36}{t_mtl:>15.4f}{t_torch[best]:>15.4f}{t_mtl / t_torch[best]:>8.2f}  PyTorch CPU ({others})")


def main():
    global _timer
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 1)))
    parser.add_argument("--timer", choices=sorted(TIMERS), default="cpu")
    parser.add_argument("--only-school", action="store_true", help="run the School rows only")
    args = parser.parse_args()
    _timer = TIMERS[args.timer]
    print(
        f"threads={args.threads} epochs={args.epochs} timer={args.timer} batch=200 float32, "
        "hidden=(100,), Adam"
    )
    print(f"{'case':<36}{'skmtl s/epoch':>15}{'peer s/epoch':>15}{'ratio':>8}  peer")
    if args.only_school:
        school_rows(args.epochs, args.threads)
        return
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
    school_rows(args.epochs, args.threads)


if __name__ == "__main__":
    main()
