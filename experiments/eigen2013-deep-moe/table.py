#!/usr/bin/python3
"""Tables of the deep MoE rerun (Eigen, Ranzato & Sutskever 2013) from the files of run.sh.

For each run: test error (1 - accuracy on the jittered test digits, from moe-eval). For each run with
experts, and each mixture layer: the mean gate weight of every expert and the share of test digits whose
most probable expert (argmax of the gate) it is, against the digit's position (shift dx, dy binned into
3 x 3 positions: left/centre/right = -4..-2 / -1..1 / 2..4 px, top/middle/bottom likewise) and against
its label. Specialisation score per layer: the mutual information between the argmax expert A and the
position P (9 bins) or the label Y, divided by the entropy of A: I(A;P)/H(A) and I(A;Y)/H(A), the
fraction of the uncertainty about which expert a digit goes to that its position (or its class)
explains. 1 = the expert is a function of the factor, 0 = independent of it. With 2000 test digits and 4
experts the small-sample bias of I is about 0.01 bits. H(A) (bits) says how many experts are used: 2 bits =
4 experts equally; read the normalised scores with it (a layer that sends nearly everything to one expert
has a small H(A), and the little that varies can give a large ratio).
Writes table.md and summary.h5 into the results directory."""
import argparse
import os

import h5py
import numpy as np

PAPER = "1.3-1.8% (60000 training digits, several model sizes)"
POS_NAMES = [f"{v}-{h}" for v in ("top", "middle", "bottom") for h in ("left", "centre", "right")]


def position_bin(dx, dy):
    """0..8, row-major over (dy bin, dx bin); bins -4..-2, -1..1, 2..4."""
    b = lambda s: np.digitize(s, [-1.5, 1.5])  # noqa: E731
    return b(dy) * 3 + b(dx)


def entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def mutual_information(a, f):
    """I(A;F) in bits from paired integer samples."""
    joint = np.zeros((a.max() + 1, f.max() + 1))
    np.add.at(joint, (a, f), 1)
    return entropy(joint.sum(1)) + entropy(joint.sum(0)) - entropy(joint.ravel())


def factor_table(gate, assign, factor, names, title):
    k = gate.shape[0]
    head = f"| {title} | n | " + " | ".join(f"expert {i}" for i in range(k)) + " |"
    lines = [head, "|" + "---|" * (k + 2)]
    for v, name in enumerate(names):
        sel = factor == v
        n = int(sel.sum())
        if n == 0:
            continue
        mean = gate[:, sel].mean(axis=1)
        share = np.bincount(assign[sel], minlength=k) / n
        cells = []
        for i in range(k):
            cell = f"{mean[i]:.2f} ({100 * share[i]:.0f}%)"
            cells.append(f"**{cell}**" if share[i] == share.max() else cell)
        lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def read_test_digits(path):
    """Position bin (0..8) and label of every test digit of `moe-data jitter`'s test.h5."""
    with h5py.File(path, "r") as d:
        return position_bin(d["shift_x"][()], d["shift_y"][()]), d["label"][()].astype(int)


def read_run(results, name, n_test):
    """Errors, settings and the gates (experts x digits, one per mixture layer) of run NAME, from NAME.h5 and
    NAME-test.h5 (moe-eval); None when the evaluation is missing."""
    test_path = os.path.join(results, f"{name}-test.h5")
    if not os.path.exists(test_path):
        return None
    with h5py.File(os.path.join(results, f"{name}.h5"), "r") as r:
        layers = r["model"].attrs["layer_experts"]
        run = dict(layers=layers.decode() if isinstance(layers, bytes) else layers,
                   train_error=100 * (1 - float(r["eval/train"].attrs["accuracy"])),
                   epochs=int(r["history"].attrs["epochs_run"]),
                   seconds=float(r["history"].attrs["train_seconds"]))
    with h5py.File(test_path, "r") as e:
        g = e["eval/test"]
        run["test_error"] = 100 * (1 - float(g.attrs["accuracy"]))
        assert g["predictions"].shape[1] == n_test, "the test file and the evaluation disagree on N"
        run["gates"] = [g[f"layer{l}/gate"][()] for l in range(1, int(g.attrs.get("layers", 0)) + 1)]
    return run


def layer_scores(gate, pos, label):
    """Specialisation of one layer's argmax expert A (see the docstring): H(A), I(A;P), I(A;Y) in bits and
    the two normalised scores."""
    assign = gate.argmax(axis=0)
    h_a = entropy(np.bincount(assign))
    mi_pos, mi_lab = mutual_information(assign, pos), mutual_information(assign, label)
    return dict(H_assign_bits=h_a, I_position_bits=mi_pos, I_label_bits=mi_lab,
                score_position=mi_pos / h_a if h_a > 0 else float("nan"),
                score_label=mi_lab / h_a if h_a > 0 else float("nan"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="directory of run.sh's files")
    ap.add_argument("--data", required=True, help="test.h5 of `moe-data jitter` (shifts and labels)")
    ap.add_argument("--runs", default="deep-4x4,deep-4x4-unbalanced,single-1x1", help="comma-separated run names (<name>-test.h5)")
    args = ap.parse_args()

    pos, label = read_test_digits(args.data)

    out = []
    summary = {}
    out.append("| run | layers (experts) | test error % | train error % | epochs | seconds of updates | "
               "paper test error |")
    out.append("|---|---|---|---|---|---|---|")
    details = []
    for name in args.runs.split(","):
        run = read_run(args.results, name, len(label))
        if run is None:
            continue
        test_err = run["test_error"]
        row = {k: run[k] for k in ("test_error", "train_error", "epochs", "seconds")}
        out.append(f"| {name} | {run['layers']} | {test_err:.2f} | {run['train_error']:.2f} | {run['epochs']} | "
                   f"{run['seconds']:.0f} | {PAPER} |")
        for l, gate in enumerate(run["gates"], start=1):
            if gate.shape[0] < 2:
                continue
            assign = gate.argmax(axis=0)
            sc = layer_scores(gate, pos, label)
            for key, value in sc.items():
                row[f"layer{l}/{key}"] = value
            s_pos, s_lab, h_a = sc["score_position"], sc["score_label"], sc["H_assign_bits"]
            details.append(f"### {name}, layer {l}: I(A;position)/H(A) = {s_pos:.3f}, I(A;label)/H(A) = "
                           f"{s_lab:.3f} (H(A) = {h_a:.2f} bits)\n")
            details.append("Mean gate weight (share of digits whose argmax expert it is); bold: the most "
                           "frequent argmax expert of the row.\n")
            details.append(factor_table(gate, assign, pos, POS_NAMES, "position") + "\n")
            details.append(factor_table(gate, assign, label, [str(c) for c in range(10)], "label") + "\n")
        summary[name] = row

    scores = ["", "| run | layer | I(A;position)/H(A) | I(A;label)/H(A) | I(A;position) bits | I(A;label) bits | "
              "H(A) bits | specialises by |", "|---|---|---|---|---|---|---|---|"]
    for name, row in summary.items():
        for l in range(1, 9):
            if f"layer{l}/score_position" not in row:
                continue
            sp, sl = row[f"layer{l}/score_position"], row[f"layer{l}/score_label"]
            by = "position" if sp > sl else "label"
            scores.append(f"| {name} | {l} | {sp:.3f} | {sl:.3f} | {row[f'layer{l}/I_position_bits']:.3f} | "
                          f"{row[f'layer{l}/I_label_bits']:.3f} | {row[f'layer{l}/H_assign_bits']:.2f} | {by} |")
    text = "\n".join(out + scores) + "\n\n" + "\n".join(details)
    print(text)
    with open(os.path.join(args.results, "table.md"), "w") as f:
        f.write(text)
    tmp = os.path.join(args.results, "summary.h5.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["study"] = "eigen2013-deep-moe"
        for name, row in summary.items():
            for key, value in row.items():
                f[f"{name}/{key}"] = value
    os.replace(tmp, os.path.join(args.results, "summary.h5"))


if __name__ == "__main__":
    main()
