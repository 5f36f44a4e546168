#!/bin/bash
# The benchmark study of the reproduction suite (experiments/run_all.sh runs every study's run.sh): the
# sparse MoE layer on this machine's CPU, sparse.sh with the same options ([--quick] [--out DIR]); the
# other scripts of this folder (epoch_time.sh, em_parts.sh, cuda_device.sh) are run by hand.
exec bash "$(dirname "$0")/sparse.sh" "$@"
