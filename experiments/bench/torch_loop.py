"""The common PyTorch sparse MoE pattern (top-k gate, a Python loop over experts, index_add back), forward
and forward + backward, beside a dense product of the same FLOPs in the same process. One CSV line per case.
Usage: torch_loop.py --tokens 4096 --d-model 512 --d-ff 1024 --experts 8 64 256 --k 2 [--device cpu|cuda]
FLOPs counted as moe-bench counts them: the expert GEMMs only, 4 d f A forward, 12 d f A forward + backward;
the time includes the gate (a d x E product, softmax and top-k), which moe-bench leaves out."""
import argparse
import os
import statistics
import time

import torch


def timed(fn, steps, device):
    times = []
    for step in range(steps + 1):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        if step > 0:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tokens", type=int, default=4096)
    p.add_argument("--d-model", type=int, default=512)
    p.add_argument("--d-ff", type=int, default=1024)
    p.add_argument("--experts", type=int, nargs="+", default=[8, 64, 256])
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    torch.manual_seed(1)
    print("impl,device,dtype,tokens,d_model,d_ff,experts,k,forward_ms,forward_gflops,training_ms,training_gflops,"
          "dense_training_ms,training_fraction_of_dense,threads")
    T, d, f, k = a.tokens, a.d_model, a.d_ff, a.k
    for E in a.experts:
        x = torch.randn(T, d, device=a.device, dtype=dtype, requires_grad=True)
        gate = torch.nn.Linear(d, E, bias=False, device=a.device, dtype=dtype)
        w1 = [torch.nn.Linear(d, f, device=a.device, dtype=dtype) for _ in range(E)]
        w2 = [torch.nn.Linear(f, d, device=a.device, dtype=dtype) for _ in range(E)]

        def forward():
            probs = torch.softmax(gate(x), dim=-1)
            weight, expert = torch.topk(probs, k, dim=-1)
            weight = weight / weight.sum(-1, keepdim=True)
            y = x.clone()
            for e in range(E):
                token, slot = torch.where(expert == e)
                if token.numel() == 0:
                    continue
                h = w2[e](torch.relu(w1[e](x[token])))
                y = y.index_add(0, token, h * weight[token, slot].unsqueeze(1))
            return y

        params = [q for m in [gate] + w1 + w2 for q in m.parameters()] + [x]

        def train():  # as after zero_grad(set_to_none=True): every step writes fresh gradients
            for q in params:
                q.grad = None
            forward().sum().backward()

        with torch.no_grad():
            fwd = timed(forward, a.steps, a.device)
        tr = timed(train, a.steps, a.device)
        A = T * k
        xa = torch.randn(A, d, device=a.device, dtype=dtype, requires_grad=True)
        dense1 = torch.nn.Linear(d, f, bias=False, device=a.device, dtype=dtype)
        dense2 = torch.nn.Linear(f, d, bias=False, device=a.device, dtype=dtype)
        dense_params = [xa] + list(dense1.parameters()) + list(dense2.parameters())

        def dense_train():
            for q in dense_params:
                q.grad = None
            dense2(dense1(xa)).sum().backward()

        dense = timed(dense_train, a.steps, a.device)
        gemm = 2.0 * d * f * A
        print(f"torch-loop,{a.device},{a.dtype},{T},{d},{f},{E},{k},{fwd * 1e3:.3f},{2 * gemm / fwd * 1e-9:.2f},"
              f"{tr * 1e3:.3f},{6 * gemm / tr * 1e-9:.2f},{dense * 1e3:.3f},{dense / tr:.3f},{torch.get_num_threads()}",
              flush=True)


if __name__ == "__main__":
    main()
