# One flexmix fit of the comparison: 4 linear-Gaussian experts (y ~ x1 + x2) with a multinomial
# (softmax) concomitant gate on x1 + x2. Prints: iterations, seconds, seconds per iteration, log-likelihood
# per point. Usage: Rscript flexmix_fit.R data.csv iterations seed
suppressPackageStartupMessages(library(flexmix))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
iterations <- as.integer(args[2])
set.seed(as.integer(args[3]))
t <- system.time(fit <- flexmix(y ~ x1 + x2, data = data, k = 4,
                                concomitant = FLXPmultinom(~ x1 + x2),
                                control = list(iter.max = iterations, minprior = 0, tolerance = 1e-10)))
cat(sprintf("flexmix %s: %d iterations, %.3f s, %.1f ms per iteration, log-likelihood per point %.6f, components %d\n",
            packageVersion("flexmix"), fit@iter, t[["elapsed"]], 1000 * t[["elapsed"]] / fit@iter,
            as.numeric(logLik(fit)) / nrow(data), fit@k))
