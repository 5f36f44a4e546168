# One flexmix fit of the comparison: 4 linear-Gaussian experts (y ~ x1 + x2) with a multinomial
# (softmax) concomitant gate on x1 + x2. Time per iteration is the slope between a fit stopped after one
# iteration and the full fit (same seed, so the same start): flexmix's set-up (model frames, the
# initial posteriors) is not counted, as moekit's history/seconds counts the EM steps alone.
# Prints: iterations, seconds, ms per iteration, log-likelihood per point.
# Usage: Rscript flexmix_fit.R data.csv iterations seed
suppressPackageStartupMessages(library(flexmix))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
iterations <- as.integer(args[2])
seed <- as.integer(args[3])
fit_for <- function(iter.max) {
  set.seed(seed)
  t <- system.time(fit <- flexmix(y ~ x1 + x2, data = data, k = 4,
                                  concomitant = FLXPmultinom(~ x1 + x2),
                                  control = list(iter.max = iter.max, minprior = 0, tolerance = 1e-10)))
  list(fit = fit, seconds = t[["elapsed"]])
}
one <- fit_for(1)
full <- fit_for(iterations)
fit <- full$fit
slope <- (full$seconds - one$seconds) / max(1, fit@iter - one$fit@iter)
cat(sprintf("flexmix %s: %d iterations, %.3f s (one iteration alone %.3f s), %.1f ms per iteration, %.1f ms with set-up, log-likelihood per point %.6f, components %d\n",
            packageVersion("flexmix"), fit@iter, full$seconds, one$seconds, 1000 * slope,
            1000 * full$seconds / fit@iter, as.numeric(logLik(fit)) / nrow(data), fit@k))
