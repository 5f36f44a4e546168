"""One table of the sparse-layer benchmark: moe-bench sparse's CSV and torch_loop.py's CSV side by side,
forward + backward, each implementation's rate and its fraction of the dense rate it measured in its own
run (moe-bench: same-run dense GEMMs; torch_loop.py: a dense product of the same FLOPs in PyTorch).
Usage: sparse_table.py MOEBENCH_CSV [TORCH_CSV]   (prints Markdown)"""
import csv
import sys


def rows(path):
    try:
        with open(path) as f:
            return list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"sparse_table.py: error: cannot read '{path}': {e.strerror}")


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] in ("-h", "--help"):
        if len(sys.argv) == 2:
            print(__doc__)
            sys.exit(0)
        sys.exit("sparse_table.py: error: usage: sparse_table.py MOEBENCH_CSV [TORCH_CSV]")
    table = []
    for r in rows(sys.argv[1]):
        table.append(("moekit", r["device"], r["precision"], r["tokens"], r["d_model"], r["d_ff"], r["experts"], r["k"],
                      f'{float(r["imbalance"]):g} ({float(r["max_over_mean_load"]):.2f})', float(r["training_ms"]),
                      float(r["training_gflops"]), float(r["training_fraction_of_dense"])))
    if len(sys.argv) == 3:
        for r in rows(sys.argv[2]):
            table.append(("PyTorch loop", r["device"], r["dtype"], r["tokens"], r["d_model"], r["d_ff"], r["experts"],
                          r["k"], "its gate (top-k of a softmax)", float(r["training_ms"]), float(r["training_gflops"]),
                          float(r["training_fraction_of_dense"])))
    table.sort(key=lambda t: (int(t[6]), t[8], t[0] != "moekit"))
    gpu = any(t[1] == "cuda" for t in table)
    unit, scale = ("TFLOP/s", 1e-3) if gpu else ("GFLOP/s", 1.0)
    print(f"| implementation | device | precision | tokens | d_model | d_ff | experts | k | imbalance (max/mean) "
          f"| fwd+bwd ms | {unit} | of its same-run dense |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in table:
        print(f"| {' | '.join(t[:9])} | {t[9]:.2f} | {t[10] * scale:.1f} | {t[11]:.2f} |")


if __name__ == "__main__":
    main()
