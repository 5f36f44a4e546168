// The parts of one EM iteration, timed alone (minimum over repeats, robust to other load): weighted least
// squares, residuals, column softmax, IRLS, one em_step of 4 linear-Gaussian experts on 20000 random
// points with 2 inputs. The numbers docs/notes/lab-notebook.md compares step by step. Built and run by em_parts.sh.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>
#include "moe/core/math.hpp"
#include "moe/core/rng.hpp"
#include "moe/core/least_squares.hpp"
#include "moe/core/threads.hpp"
#include "moe/fit/irls.hpp"
#include "moe/models/model.hpp"
using namespace moe;
template <class F> double timeit(F f, int reps) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) { timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a); f(); clock_gettime(CLOCK_MONOTONIC, &b); t.push_back((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) * 1e-6); }
  std::sort(t.begin(), t.end()); return t[0];
}
int main(int argc, char** argv) {
  set_threads(argc > 1 ? atoi(argv[1]) : 1);
  Rng rng(1);
  const arma::uword N = 20000, K = 4;
  arma::mat X = rng.normal_matrix(2, N, 1.0), Y = rng.normal_matrix(1, N, 1.0);
  arma::rowvec w = arma::abs(rng.normal_matrix(1, N, 1.0));
  arma::mat W, b;
  volatile double sink = 0;
  printf("wls: %.3f ms\n", timeit([&] { weighted_least_squares(X, Y, w, W, b); sink = sink + W(0); }, 300));
  printf("resid: %.3f ms\n", timeit([&] { sink = sink + weighted_squared_residuals(X, Y, w, W, b)(0); }, 300));
  arma::mat Z = rng.normal_matrix(K, N, 1.0);
  printf("softmax: %.3f ms\n", timeit([&] { sink = sink + column_softmax(Z).lse(0); }, 300));
  printf("softmax noLP: %.3f ms\n", timeit([&] { sink = sink + column_softmax(Z, false).lse(0); }, 300));
  arma::mat T = column_softmax(rng.normal_matrix(K, N, 2.0)).prob;
  arma::mat W0 = rng.normal_matrix(K, 2, 0.5), b0(K, 1, arma::fill::zeros);
  { arma::mat W1 = W0, b1 = b0; IrlsOptions o; o.max_iterations = 50; o.tolerance = 0; irls_softmax(W1, b1, X, T, arma::rowvec(N, arma::fill::ones), o); W0 = W1 + 0.01; b0 = b1; }
  IrlsOptions o; o.max_iterations = 1; o.tolerance = 0;
  arma::rowvec ones(N, arma::fill::ones);
  printf("irls 1 step near optimum: %.3f ms\n", timeit([&] { arma::mat W1 = W0, b1 = b0; sink = sink + irls_softmax(W1, b1, X, T, ones, o); }, 300));
  o.max_iterations = 0;
  printf("irls 0 steps (setup + initial pass): %.3f ms\n", timeit([&] { arma::mat W1 = W0, b1 = b0; sink = sink + irls_softmax(W1, b1, X, T, ones, o); }, 300));
  o.max_iterations = 3;
  printf("irls 3 steps near optimum: %.3f ms\n", timeit([&] { arma::mat W1 = W0, b1 = b0; sink = sink + irls_softmax(W1, b1, X, T, ones, o); }, 300));
  ModelSpec spec; spec.kind = "mixture"; spec.task = Task::regression; spec.inputs = 2; spec.outputs = 1; spec.experts = 4; spec.expert = "linear-gaussian"; spec.gate_init_scale = 0.5;
  auto m = make_model(spec); m->init(rng);
  auto* e = m->em();
  printf("em_step: %.3f ms\n", timeit([&] { sink = sink + e->em_step(X, Y, EmOptions{}); }, 300));
}
