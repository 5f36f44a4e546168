"""What the studies' plot.py scripts share: the results folder from the command line (the docstring for -h
or a wrong argument count, exit 2 for the latter) and writing the figure as RESULTS_DIR/plot.png, the file
run_all.sh's report copies."""
import os
import sys


def plot_folder(doc):
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(doc)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    return sys.argv[1]


def save_plot(fig, folder, dpi=110, tight=True):
    if tight:
        fig.tight_layout()
    path = os.path.join(folder, "plot.png")
    fig.savefig(path, dpi=dpi)
    print(f"plot.py: wrote {path}")
