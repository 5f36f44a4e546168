"""Tests of the studies' shape checks (experiments/*/check.py) on synthetic result folders: HDF5 files with
exactly the fields each check reads (sparse_table.read_run's for the sparse studies, the study's table.py or
check.py's own otherwise), values chosen so that each check must pass, and then changed so that one named
check must fail (nothing on stderr either way); an empty folder is a one-line error. Run by ctest
(tests/cli/test_sweep_cli.cpp); prints 'ok' and exits 0, or names the first wrong outcome and exits 1."""
import glob
import os
import runpy
import sys
import tempfile
import traceback

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = os.path.dirname(HERE)


def fake_run(path, router="topk", top_k=2, capacity=0.0, w_importance=0.0, w_load=0.0, switch_alpha=0.0,
             cv_importance=0.3, cv_load=0.3, max_mean_load=1.5, dropped_tokens=0.0, test_error=0.12, test_loss=0.35):
    steps = 20
    with h5py.File(path, "w") as f:
        f.attrs["git_revision"] = "test"
        f.attrs["seed"] = 1
        m = f.create_group("model").attrs
        m["sparse_router"], m["experts"], m["sparse_top_k"] = router, "16", str(top_k)
        m["sparse_capacity_factor"], m["sparse_w_importance"] = str(capacity), str(w_importance)
        m["sparse_w_load"], m["sparse_switch_alpha"] = str(w_load), str(switch_alpha)
        f["history/seconds"] = np.ones(5)
        r = f.create_group("routing")
        for name, value in (("cv_importance", cv_importance), ("cv_load", cv_load), ("max_mean_load", max_mean_load),
                            ("dropped_fraction", dropped_tokens), ("dropped_token_fraction", dropped_tokens)):
            r[name] = np.full(steps, value)
        t = f.create_group("eval/test").attrs
        t["accuracy"], t["loss"] = 1.0 - test_error, test_loss
        tr = f.create_group("eval/test/routing").attrs
        tr["cv_importance"], tr["cv_load"], tr["max_mean_load"], tr["dropped_fraction"] = 0.1, 0.1, 1.1, 0.0


def run_check(study, folder):
    """(exit status, stdout, stderr) of `check.py FOLDER` of the study, run as __main__ in a child forked from
    this process: as a fresh `python3 check.py FOLDER` would run it (its own sys.argv, sys.path[0], an exit
    status from sys.exit or 1 with a traceback on an exception), without starting Python and importing numpy
    and h5py again for each of the 30-odd runs (0.4 s of CPU each, most of a run's time)."""
    path = os.path.join(EXPERIMENTS, study, "check.py")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.argv, sys.path[0] = [path, folder], os.path.dirname(path)
                runpy.run_path(path, run_name="__main__")
                code = 0
            except SystemExit as e:
                if e.code is None or isinstance(e.code, int):
                    code = e.code or 0
                else:
                    print(e.code, file=sys.stderr)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode()


def wrong_outcome(study, result, code, fail_text=None):
    """Why a check's (exit status, stdout, stderr) is not the one expected; None when it is."""
    rc, out, err = result
    if rc != code or err or (fail_text and not any(l.startswith("FAIL") and fail_text in l for l in out.splitlines())):
        return (f"{study}: expected exit {code}{' and a FAIL line with ' + repr(fail_text) if fail_text else ''} "
                f"and nothing on stderr, got {rc}:\n{out}{err}")
    return None


def expect(study, folder, code, fail_text=None):
    wrong = wrong_outcome(study, run_check(study, folder), code, fail_text)
    if wrong:
        sys.exit(wrong)


def capacity_folder(folder, broken):
    drops = {0.75: 0.10, 1.0: 0.05, 1.25: 0.02, 2.0: 0.005}
    if broken:
        drops[1.25] = 0.06  # more than at 1.0: the fall is not monotone
    for c, d in drops.items():
        fake_run(f"{folder}/top2-c{c}-alpha0.01-s1.h5", capacity=c, switch_alpha=0.01, dropped_tokens=d)
        fake_run(f"{folder}/top2-c{c}-alpha0-s1.h5", capacity=c, dropped_tokens=3 * d)
    for alpha in (0, 0.01):
        fake_run(f"{folder}/top2-c0-alpha{alpha}-s1.h5", switch_alpha=alpha)


def balancing_folder(folder, broken):
    fake_run(f"{folder}/imp0-load0-s1.h5", cv_importance=2.0, cv_load=1.6, max_mean_load=5.0,
             test_error=0.11 if broken else 0.14)
    for a, b in ((0.2, 0), (0, 0.2), (0.1, 0.1)):
        fake_run(f"{folder}/imp{a}-load{b}-s1.h5", w_importance=a, w_load=b, test_error=0.12)


def upcycling_folder(folder, broken):
    losses = {"dense": 0.36, "dense-continued": 0.35, "upcycled": 0.34, "scratch": 0.33 if broken else 0.345}
    for name, loss in losses.items():
        fake_run(f"{folder}/{name}-s1.h5", test_loss=loss)


def routers_folder(folder, broken):
    fake_run(f"{folder}/expert-choice-s1.h5", router="expert-choice", cv_load=0.0, max_mean_load=1.0, dropped_tokens=0.01)
    fake_run(f"{folder}/balanced-s1.h5", router="balanced", cv_load=0.0, max_mean_load=1.0)
    fake_run(f"{folder}/soft-s1.h5", router="soft", cv_load=0.0, max_mean_load=1.0)
    fake_run(f"{folder}/loss-free-s1.h5", router="loss-free", cv_load=0.3)
    fake_run(f"{folder}/topk-s1.h5", router="topk", cv_load=1.7, max_mean_load=6.0)
    fake_run(f"{folder}/switch-s1.h5", router="switch", test_error=0.125)
    fake_run(f"{folder}/hash-s1.h5", router="hash", test_error=0.16 if broken else 0.13)


def bench_folder(folder, broken):
    """moe-bench sparse's HDF5 (cpu.h5, the /sparse columns check.py reads) and torch_loop.py's CSV: uniform
    8 and 64 experts above the targets (0.85, 0.75 of dense) and faster than the loop, a Zipf-1 row for INFO;
    broken: 64 experts at 0.60 of dense."""
    cases = [(8, 0.0, 0.85, 0.35), (64, 0.0, 0.60 if broken else 0.75, 0.38), (8, 1.0, 0.70, 0.40)]
    flops = 50e9
    with h5py.File(f"{folder}/cpu.h5", "w") as f:
        f.attrs["threads"] = 2
        s = f.create_group("sparse")
        s["device"] = np.array([b"cpu"] * len(cases))
        s["precision"] = np.array([b"float"] * len(cases))
        for name, value in (("tokens", 4096), ("d_model", 512), ("d_ff", 1024), ("k", 2), ("max_over_mean_load", 1.1),
                            ("assignments", 8192), ("forward_flops", flops / 3), ("forward_seconds", 0.03),
                            ("dense_forward_seconds", 0.025), ("training_flops", flops)):
            s[name] = np.full(len(cases), float(value))
        s["experts"] = np.array([c[0] for c in cases], dtype=float)
        s["imbalance"] = np.array([c[1] for c in cases])
        s["training_seconds"] = np.array([c[3] for c in cases])
        s["dense_training_seconds"] = np.array([c[2] * c[3] for c in cases])
    with open(f"{folder}/torch-cpu.csv", "w") as f:
        f.write("impl,device,dtype,tokens,d_model,d_ff,experts,k,forward_ms,forward_gflops,training_ms,training_gflops,"
                "dense_training_ms,training_fraction_of_dense,threads\n")
        for e, gflops in ((8, 48.0), (64, 35.0)):
            f.write(f"torch-loop,cpu,float32,4096,512,1024,{e},2,1,1,{flops / gflops * 1e-6:.1f},{gflops},500,0.3,2\n")


def eigen_folder(folder, broken):
    """DIR/data/test.h5 (shifts and labels of 90 digits: every 3 x 3 position with every label) and the run
    files table.read_run reads (NAME.h5, NAME-test.h5 with the gates): deep-4x4's layer 1 routes by position,
    layer 2 by label, its error equal to single-1x1's; broken: layer 2 routes by position too."""
    pos, label = np.divmod(np.arange(90), 10)
    os.mkdir(f"{folder}/data")
    with h5py.File(f"{folder}/data/test.h5", "w") as f:
        f["shift_x"], f["shift_y"], f["label"] = 3 * (pos % 3 - 1), 3 * (pos // 3 - 1), label

    def gate(experts, assign):
        g = np.full((experts, len(assign)), 0.1 / max(experts - 1, 1))
        g[assign, np.arange(len(assign))] = 0.9
        return g

    layer2 = pos % 4 if broken else label % 4
    runs = {"deep-4x4": (0.91, [gate(4, pos % 4), gate(4, layer2)]),
            "deep-4x4-unbalanced": (0.90, [gate(4, np.zeros(90, int)), gate(4, label % 2)]),
            "single-1x1": (0.91, [gate(1, np.zeros(90, int))] * 2)}
    for name, (accuracy, gates) in runs.items():
        with h5py.File(f"{folder}/{name}.h5", "w") as f:
            f.create_group("model").attrs["layer_experts"] = "4,4" if name.startswith("deep") else "1,1"
            f.create_group("eval/train").attrs["accuracy"] = 0.95
            h = f.create_group("history").attrs
            h["epochs_run"], h["train_seconds"] = 20, 10.0
        with h5py.File(f"{folder}/{name}-test.h5", "w") as f:
            g = f.create_group("eval/test")
            g.attrs["accuracy"], g.attrs["layers"] = accuracy, len(gates)
            g["predictions"] = np.full((10, 90), 0.1)
            for layer, value in enumerate(gates, start=1):
                g[f"layer{layer}/gate"] = value


def mos_rank_folder(folder, broken):
    """Run files NAME-s1.h5 with the fields table.read_run reads, true log-prob rank R = 16: softmax d = 4, 8
    (bottlenecked, above the truth) and 16 (reaches it), MoS at d = 4 with K = 1, 3, 5, 10 (rank rising and
    saturating, K = 10 reaching the truth), MoC d = 8 K = 10; broken: MoS d = 4 K = 10's rank falls below
    K = 5's."""
    def run(name, head, d, k, rank_eps, rank_paper, gap):
        # singular values: rank_paper above the paper-scale tolerance, rank_eps above numpy's double one
        s = np.zeros(64)
        s[:rank_eps] = 1e-6
        s[:rank_paper] = 1.0
        with h5py.File(f"{folder}/{name}-s1.h5", "w") as f:
            m = f.create_group("model").attrs
            m["head"], m["projection"], m["experts"] = head, d, k
            e = f.create_group("eval/train")
            e.attrs["loss"], e.attrs["target_entropy"], e.attrs["target_rank"] = 3.0 + gap, 3.0, 16
            e["rank/singular_values"] = s
            e["rank"].attrs["contexts"], e["rank"].attrs["words"] = 64, 64
            f["history/loss"] = np.linspace(4.0, 3.0 + gap, 40)
            f["history"].attrs["train_seconds"] = 5.0

    for d, gap in ((4, 0.3), (8, 0.1), (16, 0.005)):
        run(f"softmax-d{d}", "softmax", d, 1, min(d + 1, 16), min(d + 1, 16), gap)
    for k, rank, gap in ((1, 5, 0.3), (3, 10, 0.05), (5, 13, 0.03), (10, 12 if broken else 14, 0.01)):
        run(f"mos-d4-k{k}", "mos", 4, k, max(rank, 16) if k > 1 else rank, rank, gap)
    run("moc-d8-k10", "moc", 8, 10, 9, 9, 0.1)


def mos_sotu_folder(folder, broken):
    """Run files HEAD-sSEED.h5 (two seeds) with the fields check.py reads, every head at d = 16: MoS below the
    softmax in valid and test perplexity, softmax rank d + 1 = 17 against MoS's 40; MoC and softmax-moe for the
    INFO line; broken: MoS's test perplexity above the softmax's."""
    heads = {"softmax": (120.0, 115.0, 17), "mos": (110.0, 118.0 if broken else 106.0, 40),
             "moc": (119.0, 114.0, 17), "softmax-moe": (117.0, 112.0, 17)}
    for head, (valid, test, rank) in heads.items():
        for seed in (1, 2):
            with h5py.File(f"{folder}/{head}-s{seed}.h5", "w") as f:
                f.create_group("model").attrs["projection"] = 16
                f.create_group("eval/valid").attrs["perplexity"] = valid + seed
                f.create_group("eval/test").attrs["perplexity"] = test + seed
                f.create_group("eval/test/rank").attrs["rank"] = rank
                f["history/seconds"] = np.ones(30)
                f["history"].attrs["best_epoch"] = 25


def vowels_folder(folder, broken):
    """Run files SETTING-lrRATE-seedS.h5 (three seeds) with the fields table.read_run reads: the mixtures reach
    the criterion in under half backprop's epochs with a smaller spread, every model at 88-89% test
    accuracy, 2 experts alive of 4 and of 8; broken: all 8 experts of mixture-8 alive."""
    epochs = {"mixture-4": (500, 510, 520), "mixture-8": (480, 485, 490), "mlp-6": (1000, 1100, 1200),
              "mlp-12": (1200, 1300, -1)}  # -1: never reached the criterion
    usage = {"mixture-4": [0.5, 0.45, 0.03, 0.02],
             "mixture-8": [0.125] * 8 if broken else [0.5, 0.4] + [0.1 / 6] * 6}
    for setting, reached in epochs.items():
        for seed, epoch in enumerate(reached, start=1):
            with h5py.File(f"{folder}/{setting}-lr0.05-seed{seed}.h5", "w") as f:
                f.attrs["config"] = f"seed = {seed}\nlearning-rate = 0.05\n"
                h = f.create_group("history")
                h.attrs["criterion_epoch"], h.attrs["epochs_run"] = epoch, 3000
                h["train_metric"] = np.linspace(0.3, 0.07, 50)
                f.create_group("eval/train").attrs["accuracy"] = 0.87
                f.create_group("eval/test").attrs["accuracy"] = 0.88 + 0.01 * (seed == 1)
                if setting in usage:
                    f["eval/train/usage"] = np.array(usage[setting])


def hme_folder(folder, broken):
    """Run files SETTING-seed1.h5 of the six models with the fields table.read_rows reads: 4 outputs, targets
    of variance 1 and predictions off by a noise of mean square equal to the wanted relative error (linear
    0.31, backprop 0.09, EM 0.10, Algorithm 2 0.12, gradient 0.15, on-line 0.12); EM's training MSE
    converges at epoch 35 of 100, backprop's reaches EM's final one after about 1200 epochs; broken: the
    on-line HME at 0.20, twice EM's error."""
    rng = np.random.default_rng(1)

    def standard(n):
        x = rng.normal(size=(4, n))
        x -= x.mean(axis=1, keepdims=True)
        return x / x.std(axis=1, keepdims=True)

    t = np.arange(1, 2001)
    models = {"linear": (0.31, np.full(5, 0.31)), "mlp-60": (0.09, 0.08 + np.exp(-t / 300)),
              "hme-em": (0.10, 0.1 + 0.9 * np.exp(-t[:100] / 5)), "hme-alg2": (0.12, 0.1 + np.exp(-t[:100] / 6)),
              "hme-gradient": (0.15, 0.14 + np.exp(-t[:500] / 50)),
              "hme-online": (0.20 if broken else 0.12, np.array([0.3, 0.12]))}
    for name, (error, curve) in models.items():
        with h5py.File(f"{folder}/{name}-seed1.h5", "w") as f:
            f.attrs["config"] = 'data = "arm.csv"\nseed = 1\n'
            f["history/train_metric"] = curve
            f["history"].attrs["train_seconds"] = 1.0
            for part, n in (("train", 60), ("test", 40)):
                y = standard(n)
                f[f"eval/{part}/targets"] = y
                f[f"eval/{part}/predictions"] = y + np.sqrt(error) * standard(n)
            f["eval/test"].attrs["n"] = 40


def meta_pi_folder(folder, broken):
    """Evaluations <set>/NAME-seed1-test.h5 of both data sets (100 test tokens of each speaker type, the first
    ones of a type right: accuracies % below), with the gates of the meta-pi runs: each type routed to its
    own expert, meta-pi 95% against the single network's 90%, a type without its expert served at least as
    well as by the better other expert alone and losing most; broken: on Hillenbrand, the women's tokens
    without their expert fall to 60%, below the children's expert's 75% alone. No summary.h5 at the top:
    the check reads the evaluations in DIR/<set>/ alone."""
    types = np.repeat(np.array(["m", "w", "c"]), 100)
    by_type = {"expert-m": (95, 70, 50), "expert-w": (70, 95, 75), "expert-c": (50, 75, 95),
               "single": (90, 90, 90), "single-3x": (92, 92, 92), "meta-pi": (95, 95, 95),
               "meta-pi-tuned": (96, 96, 96), "meta-pi-without-m": (72, 95, 95),
               "meta-pi-without-w": (95, 80, 95), "meta-pi-without-c": (95, 95, 77)}
    for ds in ("pb", "hillenbrand"):
        os.mkdir(f"{folder}/{ds}")
        for name, accuracy in by_type.items():
            if broken and ds == "hillenbrand" and name == "meta-pi-without-w":
                accuracy = (95, 60, 95)
            right = np.concatenate([np.arange(100) < a for a in accuracy])
            with h5py.File(f"{folder}/{ds}/{name}-seed1-test.h5", "w") as f:
                e = f.create_group("eval/test")
                e["labels"] = np.zeros(300, dtype=np.int64)
                e["predicted_labels"] = np.where(right, 0, 1)
                e["groups"] = types.astype("S1")
                if name.startswith("meta-pi"):
                    experts = [t for t in "mwc" if not name.endswith(f"-{t}")]
                    gate = np.full((len(experts), 300), 0.1)
                    for i, t in enumerate(experts):
                        gate[i, types == t] = 0.8
                    e["gate"] = gate / gate.sum(axis=0)


def main():
    cases = (("routers", routers_folder, "hash competitive with Switch"),
             ("switch-capacity", capacity_folder, "fall as the capacity factor grows"),
             ("shazeer2017-balancing", balancing_folder, "quality drops without the losses"),
             ("upcycling", upcycling_folder, "beats the MoE from scratch"),
             ("bench", bench_folder, "64 experts"),
             ("eigen2013-deep-moe", eigen_folder, 'layer 2 ("what")'),
             ("yang2018-mos-rank", mos_rank_folder, "does not fall as K grows"),
             ("yang2018-mos-sotu", mos_sotu_folder, "MoS test perplexity"),
             ("jacobs1991-vowels", vowels_folder, "8.0 of 8 experts alive"),
             ("jordan1994-hme-em", hme_folder, "on-line HME after 2 passes"),
             ("hampshire1992-meta-pi", meta_pi_folder, "Hillenbrand: own expert removed"))
    for study, make, broken_check in cases:
        for broken in (False, True):
            with tempfile.TemporaryDirectory() as folder:
                make(folder, broken)
                if broken:
                    expect(study, folder, 1, broken_check)
                else:
                    expect(study, folder, 0)
    # Mixtures that never reach the criterion are not fast, even when backprop never does either (inf <= inf).
    with tempfile.TemporaryDirectory() as folder:
        vowels_folder(folder, False)
        for path in glob.glob(f"{folder}/*.h5"):
            with h5py.File(path, "a") as f:
                f["history"].attrs["criterion_epoch"] = -1
        expect("jacobs1991-vowels", folder, 1, "median epochs to criterion inf")
    # An empty folder or none: one line on stderr, exit 2, for every study.
    with tempfile.TemporaryDirectory() as empty:
        for study, _, _ in cases:
            rc, _, err = run_check(study, empty)
            if rc != 2 or err.count("\n") != 1 or "no run files" not in err:
                sys.exit(f"{study}: an empty folder gave exit {rc}: {err!r}")
    print("ok")


if __name__ == "__main__":
    main()
