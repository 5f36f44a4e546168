"""The PyTorch version of moe-train's `--model sparse` network (SparseNet, src/moe/models/sparse_net.hpp), for
comparing whole training steps (forward, backward, Adam) with moekit's on the CPU and on a GPU.

    H0 = W_in x + b_in                    d_model          (input embedding)
    p  = softmax(W_r H0)                  E                (router: no bias; the `topk` router)
    top-k of p, weights renormalised over the chosen k; dropless (no capacity)
    Y  = H0 + sum_k w_k FFN_e(H0)         d_model          FFN_e(h) = W2_e relu(W1_e h + b1_e) + b2_e
    Z  = W_out Y + b_out                  classes          softmax cross-entropy, mean over the batch
    Adam (lr 1e-3, betas 0.9 / 0.999, eps 1e-8, bias-corrected, no weight decay)

Init as moekit's: W_in ~ N(0, 1/d_in), W_out ~ N(0, 1/d_model), router ~ N(0, 1/d_model) (scale 1),
W1_e ~ N(0, 1/d_model), W2_e ~ N(0, 1/d_ff), biases 0 (drawn from torch's generator, not moekit's).

Routed experts, --impl:
    loop     the common pattern: for each expert, the tokens routed to it, its FFN, index_add_ back
    grouped  tokens sorted by expert, torch._grouped_mm over them with the experts' end offsets
             (torch >= 2.8, a CUDA GPU; bf16 on Hopper)
    all      both (default); grouped is skipped with a note where it cannot run

Data, --data:
    synthetic       one random batch (--tokens x --d-in, random labels) trained for --warmup + --steps
                    steps; median ms per step, tokens/s, the routed experts' FLOP rate (6 x 2 T k d f per
                    step: 2 T k d f per GEMM, two GEMMs forward, four backward; nothing else counted) and
                    the same-run rate of one dense chain of those six GEMMs (T k rows)
    fashion-mnist   --epochs over the first --rows rows of the Fashion-MNIST training IDX files in --idx-dir
                    (pixels / 255), minibatches of --tokens shuffled with --seed; median seconds per epoch
                    over --repeats fresh trainings and the last epoch's mean training loss (each batch's
                    loss before its update, as moe-train reports it)

Usage:
    torch_sparse_train.py --data synthetic [--tokens 4096 --d-in 512 --d-model 512 --d-ff 1024
        --experts 8 --top-k 2 --classes 10 --steps 10 --warmup 2]
    torch_sparse_train.py --data fashion-mnist --idx-dir /usr/share/datasets/fashion-mnist
        [--rows 40000 --tokens 128 --epochs 1 --repeats 1]      (d_model 64, d_ff 64, 16 experts, top-2)
    common: [--impl loop|grouped|all] [--device cpu|cuda] [--dtype float32|bf16|float64] [--threads 1]
            [--seed 1] [--lr 1e-3] [--csv FILE]
--dtype bf16: torch.autocast on cuda (float32 master weights; the router's logits and softmax stay float32);
float64 is moekit's CPU precision. Errors are one line on stderr, exit status 1.
"""
import argparse
import contextlib
import csv
import gzip
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

PROG = "torch_sparse_train.py"
OUT_OF_MEMORY = getattr(torch.cuda, "OutOfMemoryError", MemoryError)

# Per-mode defaults of the shape flags: synthetic as `moe-bench sparse` (8 experts of its grid), fashion-mnist
# as the routers study's network (experiments/lib/sparse_common.toml, experiments/routers/sweep.toml).
DEFAULTS = {
    "synthetic": dict(tokens=4096, d_in=512, d_model=512, d_ff=1024, experts=8, top_k=2, classes=10),
    "fashion-mnist": dict(tokens=128, d_in=784, d_model=64, d_ff=64, experts=16, top_k=2, classes=10),
}


class Failure(Exception):
    """A one-line error for the user."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 1 (argparse's own: usage + message, exit 2)
        raise Failure(message)


# ---------------------------------------------------------------------------------------------- arguments

def parse_args(argv):
    p = Parser(prog=PROG, description="PyTorch SparseNet training step / epoch (see the module docstring)")
    p.add_argument("--data", choices=["synthetic", "fashion-mnist"], default="synthetic")
    p.add_argument("--impl", choices=["loop", "grouped", "all"], default="all")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=["float32", "bf16", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's step size")
    p.add_argument("--tokens", "--batch-size", dest="tokens", type=int, help="tokens per step (the batch)")
    p.add_argument("--d-in", type=int, help="input features (fashion-mnist: 784, fixed)")
    p.add_argument("--d-model", type=int)
    p.add_argument("--d-ff", type=int)
    p.add_argument("--experts", type=int)
    p.add_argument("--top-k", type=int)
    p.add_argument("--classes", type=int, help="classes (fashion-mnist: 10, fixed)")
    p.add_argument("--steps", type=int, default=10, help="synthetic: timed steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (fashion-mnist: on a throwaway model)")
    p.add_argument("--idx-dir", help="fashion-mnist: folder of train-{images-idx3,labels-idx1}-ubyte(.gz)")
    p.add_argument("--rows", type=int, default=40000, help="fashion-mnist: the first ROWS training images")
    p.add_argument("--epochs", type=int, default=1, help="fashion-mnist: epochs per training")
    p.add_argument("--repeats", type=int, default=1, help="fashion-mnist: fresh trainings (median epoch time)")
    p.add_argument("--csv", help="append one line per run (header when the file is new)")
    a = p.parse_args(argv)
    fill_defaults(a)
    validate(a)
    return a


def fill_defaults(a):
    for name, value in DEFAULTS[a.data].items():
        if getattr(a, name) is None:
            setattr(a, name, value)


def validate(a):
    positive = ["tokens", "d_in", "d_model", "d_ff", "experts", "top_k", "classes", "steps", "threads", "rows",
                "epochs", "repeats"]
    for name in positive:
        if getattr(a, name) < 1:
            raise Failure(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(a, name)})")
    if a.warmup < 0:
        raise Failure(f"--warmup must be >= 0 (got {a.warmup})")
    if a.top_k > a.experts:
        raise Failure(f"--top-k {a.top_k} is more than the {a.experts} experts")
    if not a.lr > 0:
        raise Failure(f"--lr must be positive (got {a.lr})")
    if a.data == "fashion-mnist":
        if a.idx_dir is None:
            raise Failure("--data fashion-mnist needs --idx-dir DIR")
        if a.d_in != 784 or a.classes != 10:
            raise Failure("--data fashion-mnist has 784 inputs and 10 classes (leave --d-in and --classes out)")
    if a.device == "cuda" and not torch.cuda.is_available():
        raise Failure("--device cuda: torch " + torch.__version__ + " sees no CUDA GPU")
    if a.dtype == "bf16" and a.device != "cuda":
        raise Failure("--dtype bf16 needs --device cuda (on the cpu: float32 or float64)")


# ------------------------------------------------------------------------------------------------ the model

def normal(shape, std, gen):
    """N(0, std^2) entries drawn on the CPU from gen, so every device starts from the same values."""
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * std


def init_parameters(d_in, d, f, E, m, gen):
    """moekit's initialisation, in its draw order (SparseNet::init, then the layer's router and experts)."""
    P = {}
    P["W_in"] = normal((d, d_in), d_in ** -0.5, gen)   # (d, d_in)
    P["W_out"] = normal((m, d), d ** -0.5, gen)        # (m, d)
    P["b_in"] = torch.zeros(d, dtype=torch.float64)    # (d,)
    P["b_out"] = torch.zeros(m, dtype=torch.float64)   # (m,)
    P["W_r"] = normal((E, d), 1.0 * d ** -0.5, gen)    # (E, d): router init scale 1 (topk)
    W1, W2 = [], []
    for _ in range(E):                                  # each expert draws W1 then W2
        W1.append(normal((f, d), d ** -0.5, gen))      # (f, d)
        W2.append(normal((d, f), f ** -0.5, gen))      # (d, f)
    P["W1"] = torch.stack(W1)                           # (E, f, d)
    P["W2"] = torch.stack(W2)                           # (E, d, f)
    P["b1"] = torch.zeros(E, f, dtype=torch.float64)   # (E, f)
    P["b2"] = torch.zeros(E, d, dtype=torch.float64)   # (E, d)
    return P


def route(h0, W_r, k):
    """The topk router in float32 (or float64) even under autocast, as moekit routes in double.
    h0: (T, d), W_r: (E, d). Returns the renormalised weights (T, k) and the experts (T, k), best first."""
    with torch.autocast(device_type=h0.device.type, enabled=False):
        logits = h0.to(W_r.dtype) @ W_r.t()             # (T, E)
        probs = torch.softmax(logits, dim=-1)           # (T, E)
        top_p, top_e = torch.topk(probs, k, dim=-1)     # (T, k), (T, k)
        weight = top_p / top_p.sum(dim=-1, keepdim=True)  # (T, k): sums to 1 per token
    return weight, top_e


class LoopExperts(torch.nn.Module):
    """The routed experts as the common PyTorch pattern: one FFN call per expert on its tokens."""

    def __init__(self, P):
        super().__init__()
        E = P["W1"].shape[0]
        self.W1 = torch.nn.ParameterList([torch.nn.Parameter(P["W1"][e].clone()) for e in range(E)])  # (f, d)
        self.b1 = torch.nn.ParameterList([torch.nn.Parameter(P["b1"][e].clone()) for e in range(E)])  # (f,)
        self.W2 = torch.nn.ParameterList([torch.nn.Parameter(P["W2"][e].clone()) for e in range(E)])  # (d, f)
        self.b2 = torch.nn.ParameterList([torch.nn.Parameter(P["b2"][e].clone()) for e in range(E)])  # (d,)

    def forward(self, h0, weight, expert):
        """h0: (T, d); weight, expert: (T, k). Returns sum_k w_k FFN_e(h0): (T, d), h0's master dtype."""
        out = torch.zeros(h0.shape, dtype=self.W1[0].dtype, device=h0.device)  # (T, d)
        for e in range(len(self.W1)):
            token, slot = torch.where(expert == e)      # (n_e,), (n_e,): a host sync on the GPU
            if token.numel() == 0:
                continue
            a = F.relu(F.linear(h0[token], self.W1[e], self.b1[e]))  # (n_e, f)
            y = F.linear(a, self.W2[e], self.b2[e])                   # (n_e, d)
            out.index_add_(0, token, (y * weight[token, slot].unsqueeze(1)).to(out.dtype))
        return out


class GroupedExperts(torch.nn.Module):
    """The routed experts as two grouped GEMMs over the expert-sorted (token, slot) pairs."""

    def __init__(self, P, mm_dtype):
        super().__init__()
        self.W1 = torch.nn.Parameter(P["W1"].clone())  # (E, f, d)
        self.b1 = torch.nn.Parameter(P["b1"].clone())  # (E, f)
        self.W2 = torch.nn.Parameter(P["W2"].clone())  # (E, d, f)
        self.b2 = torch.nn.Parameter(P["b2"].clone())  # (E, d)
        self.mm_dtype = mm_dtype

    def forward(self, h0, weight, expert):
        """h0: (T, d); weight, expert: (T, k). Returns sum_k w_k FFN_e(h0): (T, d), the master dtype."""
        T, k = expert.shape
        E = self.W1.shape[0]
        flat = expert.reshape(-1)                                  # (A,), A = T k, pair i = token i // k
        sorted_e, order = torch.sort(flat, stable=True)            # (A,), (A,): pairs grouped by expert
        token = torch.div(order, k, rounding_mode="floor")         # (A,)
        counts = torch.bincount(flat, minlength=E)                 # (E,)
        offs = torch.cumsum(counts, 0).to(torch.int32)             # (E,): end row of each expert's group
        x = h0[token].to(self.mm_dtype)                            # (A, d)
        W1t = self.W1.to(self.mm_dtype).transpose(1, 2)            # (E, d, f), column-major per expert
        W2t = self.W2.to(self.mm_dtype).transpose(1, 2)            # (E, f, d)
        a = torch._grouped_mm(x, W1t, offs=offs)                   # (A, f)
        a = F.relu(a + self.b1[sorted_e].to(self.mm_dtype))        # (A, f)
        y = torch._grouped_mm(a, W2t, offs=offs)                   # (A, d)
        y = y.to(self.b2.dtype) + self.b2[sorted_e]                # (A, d)
        w = weight.reshape(-1)[order].to(y.dtype)                  # (A,)
        out = torch.zeros(h0.shape, dtype=self.b2.dtype, device=h0.device)  # (T, d)
        return out.index_add(0, token, y * w.unsqueeze(1))


class SparseNet(torch.nn.Module):
    """Embedding, one routed MoE FFN layer with residual, output layer (moekit's SparseNet)."""

    def __init__(self, P, k, impl, mm_dtype):
        super().__init__()
        self.W_in = torch.nn.Parameter(P["W_in"].clone())    # (d, d_in)
        self.b_in = torch.nn.Parameter(P["b_in"].clone())    # (d,)
        self.W_r = torch.nn.Parameter(P["W_r"].clone())      # (E, d)
        self.W_out = torch.nn.Parameter(P["W_out"].clone())  # (m, d)
        self.b_out = torch.nn.Parameter(P["b_out"].clone())  # (m,)
        self.experts = LoopExperts(P) if impl == "loop" else GroupedExperts(P, mm_dtype)
        self.k = k

    def forward(self, x):
        """x: (T, d_in). Returns the logits (T, m)."""
        h0 = F.linear(x, self.W_in, self.b_in)               # (T, d)
        weight, expert = route(h0, self.W_r, self.k)         # (T, k), (T, k)
        y = h0 + self.experts(h0, weight, expert)            # (T, d): residual
        return F.linear(y, self.W_out, self.b_out)           # (T, m)


def master_dtype(a):
    return torch.float64 if a.dtype == "float64" else torch.float32


def mm_dtype_of(a):
    return {"float32": torch.float32, "bf16": torch.bfloat16, "float64": torch.float64}[a.dtype]


def build(a, impl):
    """A fresh model (moekit's init from --seed) and its Adam, on the device."""
    gen = torch.Generator().manual_seed(a.seed)
    P = init_parameters(a.d_in, a.d_model, a.d_ff, a.experts, a.classes, gen)
    P = {name: t.to(master_dtype(a)) for name, t in P.items()}
    model = SparseNet(P, a.top_k, impl, mm_dtype_of(a)).to(a.device)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    return model, opt


def precision_context(a):
    if a.dtype == "bf16":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_step(model, opt, x, labels, a):
    """One step: forward, mean cross-entropy, backward, Adam. x: (T, d_in), labels: (T,). Returns the
    batch's loss before the update (a 0-d tensor on the device: no host sync)."""
    opt.zero_grad(set_to_none=True)
    with precision_context(a):
        logits = model(x)                                    # (T, m)
    loss = F.cross_entropy(logits.to(master_dtype(a)), labels)
    loss.backward()
    opt.step()
    return loss.detach()


# --------------------------------------------------------------------------------------- grouped GEMM check

def grouped_unavailable(a):
    """Why --impl grouped cannot run here (one line), or None. Tries a tiny forward + backward."""
    if a.device != "cuda":
        return "--impl grouped needs --device cuda (torch._grouped_mm is a GPU kernel here)"
    if not hasattr(torch, "_grouped_mm"):
        return f"--impl grouped needs torch._grouped_mm (torch >= 2.8); this is torch {torch.__version__}"
    dt = mm_dtype_of(a)
    try:
        x = torch.randn(16, a.d_model, device="cuda", dtype=dt, requires_grad=True)        # (16, d)
        w = torch.randn(2, a.d_ff, a.d_model, device="cuda", dtype=dt, requires_grad=True)  # (2, f, d)
        offs = torch.tensor([8, 16], device="cuda", dtype=torch.int32)
        torch._grouped_mm(x, w.transpose(1, 2), offs=offs).sum().backward()               # (16, f)
        torch.cuda.synchronize()
    except Exception as e:  # noqa: BLE001 (any failure of the kernel: its first line, not a traceback)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return (f"--impl grouped: torch._grouped_mm fails for {a.dtype}, d_model {a.d_model}, d_ff {a.d_ff} on "
                f"{device_name(a)} (torch {torch.__version__}): {first}")
    return None


# ----------------------------------------------------------------------------------------------- timing

def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def median_seconds(fn, steps, warmup, device):
    """Median wall time of fn over steps calls after warmup calls, synchronised on the GPU."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def dense_chain_seconds(a):
    """The routed experts' six GEMMs as one dense chain over A = T k rows (no routing, bias, activation):
    forward h = x W1^T, y = h W2^T; backward dh = dy W2, dW2 = dy^T h, dx = dh W1, dW1 = dh^T x."""
    A, d, f = a.tokens * a.top_k, a.d_model, a.d_ff
    dt, dev = mm_dtype_of(a), a.device
    x = torch.randn(A, d, device=dev, dtype=dt)    # (A, d)
    dy = torch.randn(A, d, device=dev, dtype=dt)   # (A, d)
    W1 = torch.randn(f, d, device=dev, dtype=dt)   # (f, d)
    W2 = torch.randn(d, f, device=dev, dtype=dt)   # (d, f)

    def chain():
        h = x @ W1.t()        # (A, f)
        h @ W2.t()            # (A, d)
        dh = dy @ W2          # (A, f)
        dy.t() @ h            # (d, f)
        dh @ W1               # (A, d)
        dh.t() @ x            # (f, d)

    return median_seconds(chain, a.steps, max(a.warmup, 1), dev)


def expert_flops(a):
    """The routed experts' FLOPs of one training step: 6 GEMMs of 2 T k d f each."""
    return 6 * 2.0 * a.tokens * a.top_k * a.d_model * a.d_ff


def rate(flops_per_s, device):
    return f"{flops_per_s * 1e-12:.2f} TFLOP/s" if device == "cuda" else f"{flops_per_s * 1e-9:.2f} GFLOP/s"


# ------------------------------------------------------------------------------------------------- data

def idx_path(folder, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise Failure(f"{os.path.join(folder, stem)}(.gz) not found (Debian: apt-get install dataset-fashion-mnist, "
                  "then --idx-dir /usr/share/datasets/fashion-mnist)")


def read_idx(path):
    """A uint8 IDX file (plain or gzip, told by its first bytes) as a numpy array of its shape."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise Failure(f"{path}: corrupt gzip data ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] == 0:
        raise Failure(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    start, count = 4 + 4 * ndim, int(np.prod(dims))
    if len(raw) != start + count:
        raise Failure(f"{path}: {len(raw) - start} data bytes, the header says {count}")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(dims)


def load_fashion(a):
    """The first --rows training images as (rows, 784) pixels in [0, 1] and their labels (rows,)."""
    images = read_idx(idx_path(a.idx_dir, "train-images-idx3-ubyte"))   # (N, 28, 28)
    labels = read_idx(idx_path(a.idx_dir, "train-labels-idx1-ubyte"))   # (N,)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise Failure(f"{a.idx_dir}: the image and label files do not match ({images.shape}, {labels.shape})")
    if a.rows > images.shape[0]:
        raise Failure(f"--rows {a.rows}: the training files hold {images.shape[0]} images")
    X = torch.from_numpy(images[:a.rows].reshape(a.rows, -1).astype(np.float64) / 255.0)  # (rows, 784)
    y = torch.from_numpy(labels[:a.rows].astype(np.int64))                                 # (rows,)
    if int(y.max()) >= a.classes:
        raise Failure(f"{a.idx_dir}: a label is {int(y.max())}, expected 0..{a.classes - 1}")
    return X.to(master_dtype(a)).to(a.device), y.to(a.device)


# --------------------------------------------------------------------------------------------- the runs

def run_synthetic(a, impl):
    gen = torch.Generator().manual_seed(a.seed + 1)
    x = torch.randn(a.tokens, a.d_in, generator=gen, dtype=torch.float64)          # (T, d_in)
    labels = torch.randint(0, a.classes, (a.tokens,), generator=gen)              # (T,)
    x, labels = x.to(master_dtype(a)).to(a.device), labels.to(a.device)
    model, opt = build(a, impl)
    last = []
    seconds = median_seconds(lambda: last.append(train_step(model, opt, x, labels, a)), a.steps, a.warmup,
                             a.device)
    dense = dense_chain_seconds(a)
    flops = expert_flops(a)
    print(f"{impl:8s} {seconds * 1e3:10.3f} ms/step  {a.tokens / seconds:12.0f} tokens/s  experts "
          f"{rate(flops / seconds, a.device)}  dense chain {rate(flops / dense, a.device)} ({dense * 1e3:.3f} ms)  "
          f"model/dense {dense / seconds:.3f}  loss {float(last[-1]):.6f}", flush=True)
    return dict(ms_per_step=f"{seconds * 1e3:.4f}", tokens_per_s=f"{a.tokens / seconds:.1f}",
                model_gflops=f"{flops / seconds * 1e-9:.3f}", dense_gflops=f"{flops / dense * 1e-9:.3f}",
                final_loss=f"{float(last[-1]):.6f}")


def train_epoch(model, opt, X, y, a, gen):
    """One epoch over X (N, d_in), y (N,) in minibatches of --tokens, order from gen. Returns the mean
    training loss (each batch's loss before its update, weighted by its rows)."""
    N = X.shape[0]
    order = torch.randperm(N, generator=gen).to(a.device)                   # (N,)
    total = torch.zeros((), dtype=master_dtype(a), device=a.device)
    for start in range(0, N, a.tokens):
        idx = order[start:start + a.tokens]                                 # (B,)
        total += train_step(model, opt, X[idx], y[idx], a) * idx.numel()
    return float(total) / N                                                 # the one host sync


def run_fashion(a, impl, X, y):
    if a.warmup > 0:  # a throwaway model: kernels, allocator and cuBLAS ready before the timed epochs
        model, opt = build(a, impl)
        for s in range(a.warmup):
            idx = slice(s * a.tokens, (s + 1) * a.tokens)
            train_step(model, opt, X[idx], y[idx], a)
        sync(a.device)
    epoch_seconds, loss = [], float("nan")
    for _ in range(a.repeats):
        model, opt = build(a, impl)
        gen = torch.Generator().manual_seed(a.seed)
        for _ in range(a.epochs):
            sync(a.device)
            t0 = time.perf_counter()
            loss = train_epoch(model, opt, X, y, a, gen)
            epoch_seconds.append(time.perf_counter() - t0)
    s = statistics.median(epoch_seconds)
    every = " ".join(f"{t:.3f}" for t in epoch_seconds)
    print(f"{impl:8s} {s:10.3f} s/epoch (median of {len(epoch_seconds)}: {every})  {X.shape[0] / s:10.0f} "
          f"tokens/s  experts {rate(expert_flops(a) * X.shape[0] / a.tokens / s, a.device)}  "
          f"final training loss {loss:.6f}", flush=True)
    return dict(s_per_epoch=f"{s:.4f}", tokens_per_s=f"{X.shape[0] / s:.1f}",
                model_gflops=f"{expert_flops(a) * X.shape[0] / a.tokens / s * 1e-9:.3f}", final_loss=f"{loss:.6f}")


# ---------------------------------------------------------------------------------------------- reporting

CSV_COLUMNS = ["data", "impl", "device", "dtype", "threads", "T", "d_model", "d_ff", "E", "k", "ms_per_step",
               "s_per_epoch", "tokens_per_s", "model_gflops", "dense_gflops", "final_loss", "torch_version",
               "device_name"]


def device_name(a):
    if a.device == "cuda":
        return torch.cuda.get_device_name()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"


def append_csv(a, impl, result):
    row = dict(data=a.data, impl=impl, device=a.device, dtype=a.dtype, threads=torch.get_num_threads(),
               T=a.tokens, d_model=a.d_model, d_ff=a.d_ff, E=a.experts, k=a.top_k, torch_version=torch.__version__,
               device_name=device_name(a), **result)
    new = not os.path.exists(a.csv) or os.path.getsize(a.csv) == 0
    with open(a.csv, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, restval="")
        if new:
            w.writeheader()
        w.writerow(row)


def print_header(a):
    print(f"# {PROG}: torch {torch.__version__}, {a.device} ({device_name(a)}), {a.dtype}, "
          f"{torch.get_num_threads()} thread(s), seed {a.seed}")
    print(f"# SparseNet: {a.d_in} inputs -> d_model {a.d_model} -> {a.experts} relu FFN experts of d_ff {a.d_ff}, "
          f"softmax top-{a.top_k} renormalised, dropless, residual -> {a.classes} classes; Adam lr {a.lr}")
    if a.data == "synthetic":
        print(f"# synthetic: {a.tokens} tokens per step, median of {a.steps} steps after {a.warmup} warm-up; FLOP "
              f"rates count only the routed experts' GEMMs, 6 x 2 T k d f = {expert_flops(a) * 1e-9:.3f} GFLOP per "
              f"step; the dense chain: those six GEMMs on {a.tokens * a.top_k} rows")
    else:
        print(f"# fashion-mnist: first {a.rows} training rows of {a.idx_dir}, batch {a.tokens}, {a.epochs} "
              f"epoch(s) x {a.repeats} repeat(s), {a.warmup} warm-up step(s) on a throwaway model; FLOP rate: "
              f"the routed experts' GEMMs only")
    sys.stdout.flush()


def impls_to_run(a):
    """The implementations to run and a note (or None); --impl all drops grouped where it cannot run."""
    if a.impl == "loop":
        return ["loop"], None
    why = grouped_unavailable(a)
    if a.impl == "grouped":
        if why:
            raise Failure(why)
        return ["grouped"], None
    if why:
        return ["loop"], f"# note: grouped skipped: {why}"
    return ["loop", "grouped"], None


def main(argv):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = load_fashion(a) if a.data == "fashion-mnist" else None
    impls, note = impls_to_run(a)
    print_header(a)
    if note:
        print(note, flush=True)
    losses = []
    for impl in impls:
        result = run_synthetic(a, impl) if data is None else run_fashion(a, impl, *data)
        losses.append(float(result["final_loss"]))
        if a.csv:
            append_csv(a, impl, result)
    if len(losses) == 2:  # same init, data and steps: the two should differ by rounding alone
        print(f"# loop vs grouped: final losses differ by {abs(losses[0] - losses[1]):.2e}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Failure as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except OUT_OF_MEMORY as e:
        print(f"{PROG}: error: out of memory: {str(e).splitlines()[0]}", file=sys.stderr)
        sys.exit(1)
