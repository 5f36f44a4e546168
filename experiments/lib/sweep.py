"""Sweeps: a manifest (TOML) of fixed flags, named bundles of flags and a grid of flag values, expanded to one
moekit command per point of the grid; run locally with N parallel jobs, resumably, or exported as a Slurm
job array.

    python3 experiments/lib/sweep.py MANIFEST list               # the commands, one per line
    python3 experiments/lib/sweep.py MANIFEST run [--jobs N] [--force]
    python3 experiments/lib/sweep.py MANIFEST slurm              # OUT/sweep.sbatch + OUT/commands.txt
    options of every action: --out DIR (instead of the manifest's out), --set KEY=V1,V2 (repeatable)

Manifest:
    program = "moe-train"              # an app of the build directory ($MOE_BIN, else build/ of the repo)
    out = "results/my-sweep"           # where the runs go (relative to the repository root)
    name = "{setting}-s{seed}"         # optional; default: the grid's key=value pairs joined by '_'
    [flags]                            # every run; true = a flag without a value, false = left out
    model = "sparse"
    [settings.top2]                    # optional named bundles of flags, chosen by the grid key `setting`;
    router = "topk"                    # a bundle's flag replaces a fixed flag of the same name
    top-k = 2
    [settings.switch]
    router = "switch"
    [grid]                             # the product of every list, in the order written
    setting = ["top2", "switch"]
    seed = [1, 2, 3]

--set KEY=V1,V2 replaces the grid's list KEY, or sets the fixed flag KEY (one value; a new flag is added to
every run): how a script runs the same manifest quick or full (`--set seed=1 --set epochs=3`). Values are
read as TOML would (1, 0.5, true, false), anything else as text.

Commands run from the repository root, so relative paths in flags (data files, --config) are relative to
it. Each run writes OUT/NAME.h5 (passed as -o) and its output to OUT/NAME.log. Resuming: the apps write
their HDF5 file under a temporary name and rename it when complete, so a run whose file exists is complete
and is skipped, unless its recorded command line (HDF5 attribute command_line) differs from the run's, as
when a folder is reused with other epochs: then it is redone. A run killed mid-way left at most a
temporary file, which is removed before the run is
redone (--force redoes everything). Interrupting a sweep (Ctrl-C, SIGTERM) stops its running commands and
starts no more, so running it again redoes only what did not finish. A moe-train run stopped that way
writes a checkpoint (OUT/NAME.h5.ckpt) before it exits, and running the sweep again continues it with
--resume instead of starting it over (the checkpoint remembers the run's settings, and moe-train refuses
one made with others; --force removes checkpoints and starts every run afresh). Progress on stderr:
which run of how many, its time, and an ETA.
"""
import argparse
import concurrent.futures
import itertools
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = ("program", "out", "name", "flags", "settings", "grid")


class SweepError(Exception):
    """One line for the user; code 2 for a bad manifest or flag, 1 for runs that failed."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


def value_text(v):
    if isinstance(v, float):
        return repr(v)
    return str(v)


def load(path):
    try:
        with open(path, "rb") as f:
            m = tomllib.load(f)
    except FileNotFoundError:
        raise SweepError(f"manifest '{path}' does not exist")
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"manifest '{path}' is not valid TOML: {e}")
    unknown = sorted(set(m) - set(KEYS))
    if unknown:
        raise SweepError(f"manifest '{path}': unknown key '{unknown[0]}' (expected {', '.join(KEYS)})")
    for key in ("program", "out"):
        if not isinstance(m.get(key), str) or not m[key]:
            raise SweepError(f"manifest '{path}': '{key}' must be a non-empty string")
    for key in ("flags", "settings"):
        if not isinstance(m.get(key, {}), dict):
            raise SweepError(f"manifest '{path}': [{key}] must be a table")
    for name, bundle in m.get("settings", {}).items():
        if not isinstance(bundle, dict):
            raise SweepError(f"manifest '{path}': [settings.{name}] must be a table of flags")
    return m


def parse_value(text):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(m, overrides):
    """--set KEY=V1,V2: a grid key gets the list, any other key becomes (or replaces) a fixed flag."""
    for item in overrides:
        key, eq, text = item.partition("=")
        if not eq or not key or not text:
            raise SweepError(f"--set '{item}': expected KEY=VALUE or KEY=V1,V2")
        values = [parse_value(v) for v in text.split(",")]
        if key in m.get("grid", {}):
            m["grid"][key] = values
        elif len(values) == 1:
            m.setdefault("flags", {})[key] = values[0]
        else:
            raise SweepError(f"--set '{item}': '{key}' is not a grid key, so it takes one value")
    return m


def check_grid(m):
    grid = m.get("grid", {})
    if not isinstance(grid, dict) or not grid:
        raise SweepError("[grid] must list at least one flag")
    for k, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"grid '{k}' must be a non-empty list")
    clash = sorted(set(m.get("flags", {})) & set(grid))
    if clash:
        raise SweepError(f"'{clash[0]}' is both a fixed flag and a grid flag")
    settings = m.get("settings", {})
    if settings and "setting" not in grid:
        raise SweepError("[settings] are given but the grid has no 'setting' key to choose among them")
    for name in grid.get("setting", []) if settings else []:
        if name not in settings:
            raise SweepError(f"grid 'setting' names '{name}', which is not in [settings] "
                             f"(there: {', '.join(settings)})")
        clash = sorted(set(settings[name]) & set(grid))
        if clash:
            raise SweepError(f"'{clash[0]}' is both in [settings.{name}] and a grid flag")


def flag_args(key, value):
    if value is True:
        return [f"--{key}"]
    if value is False:
        return []
    if isinstance(value, list):
        return [f"--{key}"] + [value_text(v) for v in value]
    return [f"--{key}", value_text(value)]


def expand(m, out_override=None):
    """The runs of the grid: (name, argv, output path), in the grid's order."""
    check_grid(m)
    out = out_override or m["out"]
    out = out if os.path.isabs(out) else os.path.join(ROOT, out)
    program = os.path.join(os.environ.get("MOE_BIN", os.path.join(ROOT, "build")), m["program"])
    settings = m.get("settings", {})
    keys = list(m["grid"])
    runs, names = [], set()
    for values in itertools.product(*(m["grid"][k] for k in keys)):
        point = dict(zip(keys, values))
        if "name" in m:
            try:
                name = str(m["name"]).format(**point)
            except KeyError as e:
                raise SweepError(f"name template names {e}, which is not a grid flag")
            except (ValueError, IndexError) as e:
                raise SweepError(f"name template '{m['name']}' is malformed ({e}); write grid flags as {{flag}}")
        else:
            name = "_".join(f"{k}={value_text(v)}" for k, v in point.items())
        name = name.replace("/", "-").replace(" ", "")
        if name in names:
            raise SweepError(f"two runs are both named '{name}': the name template must use every grid flag")
        names.add(name)
        flags = dict(m.get("flags", {}))
        if settings:
            flags.update(settings[point["setting"]])
        flags.update((k, v) for k, v in point.items() if not (settings and k == "setting"))
        argv = [program]
        for k, v in flags.items():
            argv += flag_args(k, v)
        path = os.path.join(out, name + ".h5")
        runs.append((name, argv + ["-o", path], path))
    return out, runs


def made_otherwise(run_):
    """Whether a complete result file was made by another command than this run's (the apps record their
    arguments in the root attribute command_line): a quick run's file must not pass for a full one's. The
    program's path is not compared (another build folder makes the same result); a file without the
    attribute counts as this run's, one that cannot be read as another's."""
    import h5py  # only here: listing and exporting a sweep need no HDF5

    _, argv, path = run_
    try:
        with h5py.File(path, "r") as f:
            recorded = f.attrs.get("command_line")
    except OSError:
        return True
    if recorded is None:
        return False
    recorded = recorded.decode() if isinstance(recorded, bytes) else str(recorded)
    recorded = recorded.partition(" ")[2].removesuffix(" " + RESUME)  # a resumed run is the same run
    return recorded != " ".join(argv[1:])


RESUME = "--resume"


def checkpoint_of(run_):
    """The checkpoint a stopped moe-train run of this sweep left (moe-train's default: the output + .ckpt),
    or None."""
    _, argv, path = run_
    ckpt = path + ".ckpt"
    return ckpt if os.path.basename(argv[0]) == "moe-train" and os.path.exists(ckpt) else None


def remove_stale_temporaries(path):
    folder, base = os.path.split(path)
    if not os.path.isdir(folder):
        return
    for entry in os.listdir(folder):
        if entry.startswith((base + ".tmp-", base + ".ckpt.tmp-")):  # a result's, a checkpoint's
            os.remove(os.path.join(folder, entry))


class Runner:
    """Runs commands in worker threads; stop() terminates the running ones and keeps new ones from
    starting, so an interrupted sweep leaves only complete files and temporaries (removed on resume)."""

    def __init__(self, out):
        self.out, self.lock, self.running, self.stopped = out, threading.Lock(), set(), False

    def one(self, run_):
        name, argv, path = run_
        if checkpoint_of(run_):
            argv = argv + [RESUME]  # last, so the recorded command is the run's own plus this flag
        t0 = time.monotonic()
        with open(os.path.join(self.out, name + ".log"), "w") as log:
            with self.lock:
                if self.stopped:
                    return name, None, 0.0
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        cwd=ROOT, start_new_session=True)  # Ctrl-C reaches only the sweep
                self.running.add(proc)
            rc = proc.wait()
            with self.lock:
                self.running.discard(proc)
        return name, rc, time.monotonic() - t0

    def stop(self):
        with self.lock:
            self.stopped = True
            for proc in self.running:
                proc.terminate()


def interrupt(signum, frame):
    raise KeyboardInterrupt


def run(m, jobs, force, out_override):
    out, runs = expand(m, out_override)
    os.makedirs(out, exist_ok=True)
    stale = [r for r in runs if not force and os.path.exists(r[2]) and made_otherwise(r)]
    todo = [r for r in runs if force or not os.path.exists(r[2]) or r in stale]
    print(f"sweep: {len(runs)} runs, {len(runs) - len(todo)} complete, {len(todo)} to run, {jobs} at a time"
          + (f" ({len(stale)} of them complete but made by another command, e.g. other epochs: redone)"
             if stale else ""), file=sys.stderr, flush=True)
    for r in todo:
        remove_stale_temporaries(r[2])
        ckpt = checkpoint_of(r)
        if force and ckpt:
            os.remove(ckpt)
    resuming = sum(checkpoint_of(r) is not None for r in todo)
    if resuming:
        print(f"sweep: {resuming} of them stopped mid-way and continue from their checkpoint (--resume)",
              file=sys.stderr, flush=True)

    runner = Runner(out)
    failed, finished, started = [], 0, time.monotonic()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)
    try:
        futures = [pool.submit(runner.one, r) for r in todo]
        for future in concurrent.futures.as_completed(futures):
            name, rc, seconds = future.result()
            finished += 1
            elapsed = time.monotonic() - started
            eta = elapsed / finished * (len(todo) - finished)
            status = "done" if rc == 0 else f"FAILED (exit {rc}, see {name}.log)"
            print(f"[{finished}/{len(todo)}] {name}: {status} in {seconds:.1f} s, ETA {eta:.0f} s",
                  file=sys.stderr, flush=True)
            if rc != 0:
                failed.append(name)
    except KeyboardInterrupt:
        runner.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        complete = sum(os.path.exists(path) for _, _, path in runs)
        kept = sum(checkpoint_of(r) is not None for r in runs if not os.path.exists(r[2]))
        raise SweepError(f"interrupted: {complete} of {len(runs)} runs complete; run the same command again "
                         f"to do the other {len(runs) - complete}"
                         + (f" ({kept} continue from the checkpoint they wrote when stopped)" if kept else ""),
                         code=130)
    pool.shutdown(wait=True)
    if failed:
        raise SweepError(f"{len(failed)} of {len(todo)} runs failed (first: {failed[0]}; logs in {out})", code=1)


def slurm(m, out_override):
    out, runs = expand(m, out_override)
    os.makedirs(out, exist_ok=True)
    commands = os.path.join(out, "commands.txt")
    with open(commands, "w") as f:
        for _, argv, path in runs:
            # Each line skips itself when its result is complete, so resubmitting the array resumes it.
            f.write(f"cd {shlex.quote(ROOT)} && {{ test -e {shlex.quote(path)} || {shlex.join(argv)}; }}\n")
    script = os.path.join(out, "sweep.sbatch")
    with open(script, "w") as f:
        f.write("#!/bin/bash\n")
        f.write(f"#SBATCH --job-name=moe-sweep\n#SBATCH --array=1-{len(runs)}\n#SBATCH --cpus-per-task=1\n")
        f.write(f"#SBATCH --output={out}/slurm-%A_%a.log\n")
        f.write(f'eval "$(sed -n "${{SLURM_ARRAY_TASK_ID}}p" {shlex.quote(commands)})"\n')
    print(f"wrote {script} ({len(runs)} array tasks) and {commands}; submit with: sbatch {script}")


def main():
    p = argparse.ArgumentParser(prog="sweep.py", description=__doc__.split("\n\n")[0])
    p.add_argument("manifest")
    p.add_argument("action", choices=["list", "run", "slurm"])
    p.add_argument("--jobs", type=int, default=1, help="runs at a time (run)")
    p.add_argument("--force", action="store_true", help="redo complete runs too (run)")
    p.add_argument("--out", help="output folder instead of the manifest's")
    p.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2",
                   help="replace a grid list, or set a fixed flag (repeatable)")
    a = p.parse_args()
    try:
        if a.jobs < 1:
            raise SweepError("--jobs must be at least 1")
        m = load(a.manifest)
        try:
            apply_overrides(m, a.set)
            expand(m, a.out)
        except SweepError as e:
            raise SweepError(f"manifest '{a.manifest}': {e}") if not str(e).startswith("--set") else e
        if a.action == "list":
            for _, argv, _ in expand(m, a.out)[1]:
                print(shlex.join(argv))
        elif a.action == "run":
            run(m, a.jobs, a.force, a.out)
        else:
            slurm(m, a.out)
    except SweepError as e:
        print(f"sweep: error: {e}", file=sys.stderr)
        sys.exit(e.code)


if __name__ == "__main__":
    main()
