#include "backend/backend_op_cases.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace moe::test {

namespace {

// ---- inputs from fixed seeds -----------------------------------------------------------------------

Tensor real(Backend& b, std::size_t rows, std::size_t cols, std::uint64_t seed, double scale = 1.0) {
  Tensor t = b.tensor(rows, cols);
  const std::vector<double> v = randn(rows * cols, seed, scale);
  if (!v.empty()) b.upload(t, v.data());
  return t;
}

Tensor real_from(Backend& b, std::size_t rows, std::size_t cols, const std::vector<double>& v) {
  Tensor t = b.tensor(rows, cols);
  if (!v.empty()) b.upload(t, v.data());
  return t;
}

// E x T router scores whose per-column order has gaps of at least 0.2 (a random permutation of the
// experts scaled by 0.25 plus noise below 0.05): float and double choose the same experts.
std::vector<double> tie_free_scores(std::size_t E, std::size_t T, std::uint64_t seed, double skew = 0.0) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(0.0, 0.05);
  std::vector<double> v(E * T);
  std::vector<std::size_t> order(E);
  for (std::size_t t = 0; t < T; ++t) {
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), g);
    // order[r]: the expert of rank r (E - 1 the largest). skew: with this probability expert 0 is made
    // the column's largest (crowds one expert, so that capacities drop slots).
    if (std::uniform_real_distribution<double>(0.0, 1.0)(g) < skew)
      std::swap(*std::find(order.begin(), order.end(), std::size_t(0)), order[E - 1]);
    for (std::size_t r = 0; r < E; ++r) v[t * E + order[r]] = 0.25 * double(r) + u(g);
  }
  return v;
}

HostArray host(const Backend& b, const std::string& name, const Tensor& t) {
  HostArray out{name, std::vector<double>(t.size()), t.dtype() != DType::real};
  if (t.empty()) return out;
  if (t.dtype() == DType::real) {
    b.download(t, out.values.data());
  } else if (t.dtype() == DType::i32) {
    std::vector<std::int32_t> v(t.size());
    b.download(t, v.data());
    std::copy(v.begin(), v.end(), out.values.begin());
  } else {
    std::vector<std::int64_t> v(t.size());
    b.download(t, v.data());
    std::transform(v.begin(), v.end(), out.values.begin(), [](std::int64_t x) { return double(x); });
  }
  return out;
}

// A plan of T tokens over E experts with k slots from tie-free scores (skewed towards one expert).
DevicePlan plan_for(Backend& b, std::size_t T, std::size_t E, std::size_t k, std::size_t capacity, std::uint64_t seed,
                    bool renormalize = true) {
  Tensor Z = real_from(b, E, T, tie_free_scores(E, T, seed, 0.4));
  Tensor P = b.tensor(E, T);
  b.softmax_columns(Z, P, nullptr);
  DevicePlan plan;
  plan.tokens = T, plan.experts = E, plan.k = k, plan.capacity = capacity;
  plan.slot_expert = b.tensor(k, T, DType::i32);
  plan.slot_weight = b.tensor(k, T);
  b.top_k(Z, nullptr, k, plan.slot_expert);
  b.slot_weights(P, plan.slot_expert, renormalize, plan.slot_weight);
  b.build_plan(plan);
  return plan;
}

void push_plan(std::vector<HostArray>& out, const Backend& b, const DevicePlan& plan) {
  out.push_back(host(b, "slot_expert", plan.slot_expert));
  out.push_back(host(b, "slot_weight", plan.slot_weight));
  out.push_back(host(b, "slot_position", plan.slot_position));
  out.push_back(host(b, "expert_offsets", plan.expert_offsets));
  out.push_back(host(b, "sorted_token", plan.sorted_token));
  out.push_back(host(b, "sorted_slot", plan.sorted_slot));
  out.push_back(host(b, "sorted_weight", plan.sorted_weight));
}

ExpertBank bank(Backend& b, std::size_t d, std::size_t f, std::size_t E, std::uint64_t seed) {
  return {real(b, f, d * E, seed, 1.0 / std::sqrt(double(d))), real(b, f, E, seed + 1, 0.1),
          real(b, d, f * E, seed + 2, 1.0 / std::sqrt(double(f))), real(b, d, E, seed + 3, 0.1)};
}

ExpertBank zero_bank(Backend& b, std::size_t d, std::size_t f, std::size_t E) {
  return {b.zeros(f, d * E), b.zeros(f, E), b.zeros(d, f * E), b.zeros(d, E)};
}

// ---- the cases ---------------------------------------------------------------------------------------

OpCase gemm_case(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, double alpha, double beta) {
  const std::string shape = std::string(ta ? "A^T" : "A") + (tb ? " B^T" : " B") + ", m " + std::to_string(m) +
                            " n " + std::to_string(n) + " k " + std::to_string(k) + ", alpha " +
                            std::to_string(alpha) + " beta " + std::to_string(beta);
  return {"gemm", shape, 2e-6 * std::sqrt(double(std::max<std::size_t>(k, 1))), 2e-2, [=](Backend& b) {
            Tensor A = ta ? real(b, k, m, 1) : real(b, m, k, 1);
            Tensor B = tb ? real(b, n, k, 2) : real(b, k, n, 2);
            Tensor C = real(b, m, n, 3);
            b.gemm(ta, tb, alpha, A, B, beta, C);
            return std::vector<HostArray>{host(b, "C", C)};
          }};
}

std::vector<OpCase> make_cases() {
  std::vector<OpCase> cases;
  // Products: every transpose pair, one small (a single BLAS call) and tiled shapes of both kinds.
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) cases.push_back(gemm_case(ta, tb, 9, 7, 5, 1.0, 0.0));
  cases.push_back(gemm_case(false, false, 150, 300, 64, 1.0, 1.0));  // wide: column tiles
  cases.push_back(gemm_case(true, false, 300, 130, 40, -0.5, 0.5));  // tall: row tiles
  cases.push_back(gemm_case(false, true, 64, 200, 500, 1.0, 1.0));   // a weight gradient: long k
  cases.push_back(gemm_case(false, false, 8, 6, 0, 1.0, 0.5));       // k = 0: C = beta C

  cases.push_back({"add_columns", "40 x 70", 1e-6, 1e-6, [](Backend& b) {
                     Tensor Y = real(b, 40, 70, 4), c = real(b, 40, 1, 5);
                     b.add_columns(Y, c);
                     return std::vector<HostArray>{host(b, "Y", Y)};
                   }});
  for (const double beta : {0.0, 1.0})
    cases.push_back({"sum_columns", "130 x 300, beta " + std::to_string(beta), 1e-5, 1e-5, [beta](Backend& b) {
                       Tensor X = real(b, 130, 300, 6), s = real(b, 130, 1, 7);
                       b.sum_columns(X, beta, s);
                       return std::vector<HostArray>{host(b, "s", s)};
                     }});
  cases.push_back({"axpy", "33 x 17", 1e-6, 1e-6, [](Backend& b) {
                     Tensor x = real(b, 33, 17, 8), y = real(b, 33, 17, 9);
                     b.axpy(-0.75, x, y);
                     return std::vector<HostArray>{host(b, "y", y)};
                   }});
  cases.push_back({"scale", "33 x 17", 1e-6, 1e-6, [](Backend& b) {
                     Tensor x = real(b, 33, 17, 10);
                     b.scale(x, 1.5);
                     return std::vector<HostArray>{host(b, "x", x)};
                   }});
  cases.push_back({"copy", "i32 5 x 9, real 5 x 9", 6e-8, 6e-8, [](Backend& b) {
                     Tensor x = real(b, 5, 9, 11), y = b.tensor(5, 9);
                     b.copy(x, y);
                     Tensor i = b.tensor(5, 9, DType::i32), j = b.tensor(5, 9, DType::i32);
                     std::vector<std::int32_t> v(45);
                     std::iota(v.begin(), v.end(), -7);
                     b.upload(i, v.data());
                     b.copy(i, j);
                     return std::vector<HostArray>{host(b, "y", y), host(b, "j", j)};
                   }});
  cases.push_back({"copy_columns", "columns 3..10 of 6 x 12", 6e-8, 6e-8, [](Backend& b) {
                     Tensor x = real(b, 6, 12, 12), y = b.tensor(6, 7);
                     b.copy_columns(x, 3, y);
                     return std::vector<HostArray>{host(b, "y", y)};
                   }});
  cases.push_back({"gather_columns", "7 of the 40 columns of a 9 x 40 tensor, repeats included", 6e-8, 6e-8, [](Backend& b) {
                     Tensor x = real(b, 9, 40, 65), idx = b.tensor(7, 1, DType::i64), y = b.tensor(9, 7);
                     const std::int64_t ids[7] = {39, 0, 5, 5, 17, 2, 38};
                     b.upload(idx, ids);
                     b.gather_columns(x, idx, y);
                     return std::vector<HostArray>{host(b, "y", y)};
                   }});
  cases.push_back({"fill", "4 x 3", 6e-8, 6e-8, [](Backend& b) {
                     Tensor x = b.tensor(4, 3);
                     b.fill(x, 0.5);
                     return std::vector<HostArray>{host(b, "x", x)};
                   }});
  for (const FfnActivation a : {FfnActivation::relu, FfnActivation::gelu}) {
    const std::string name = a == FfnActivation::relu ? "relu" : "gelu";
    cases.push_back({"activation_forward", name + ", 64 x 50", 1e-6, 1e-6, [a](Backend& b) {
                       Tensor pre = real(b, 64, 50, 13, 2.0), out = b.tensor(64, 50);
                       b.activation_forward(a, pre, out);
                       return std::vector<HostArray>{host(b, "out", out)};
                     }});
    cases.push_back({"activation_backward", name + ", 64 x 50", 1e-6, 1e-6, [a](Backend& b) {
                       Tensor pre = real(b, 64, 50, 14, 2.0), g = real(b, 64, 50, 15), out = b.tensor(64, 50);
                       b.activation_backward(a, pre, g, out);
                       return std::vector<HostArray>{host(b, "dpre", out)};
                     }});
  }
  cases.push_back({"sum_squares", "10000 x 3 (three ordered chunks)", 1e-6, 1e-6, [](Backend& b) {
                     Tensor x = real(b, 10000, 3, 16), acc = b.zeros(1, 1);
                     b.sum_squares(x, acc);
                     b.sum_squares(x, acc);
                     return std::vector<HostArray>{host(b, "acc", acc)};
                   }});
  cases.push_back({"sum_into", "10000 x 3", 1e-5, 1e-5, [](Backend& b) {
                     Tensor x = real(b, 10000, 3, 17), acc = b.zeros(1, 1);
                     b.sum_into(x, 0.25, acc);
                     return std::vector<HostArray>{host(b, "acc", acc)};
                   }});
  cases.push_back({"softmax_cross_entropy", "m 10, N 300, one-hot and soft targets", 1e-5, 1e-5, [](Backend& b) {
                     const std::size_t m = 10, N = 300;
                     std::vector<double> y(m * N, 0.0);
                     std::mt19937_64 g(18);
                     for (std::size_t n = 0; n < N; ++n)
                       if (n % 3 == 0) {
                         for (std::size_t i = 0; i < m; ++i) y[n * m + i] = 0.1;  // soft targets of mass 1
                       } else {
                         y[n * m + g() % m] = n % 3 == 1 ? 1.0 : 2.0;  // a weighted example
                       }
                     Tensor Z = real(b, m, N, 19, 3.0), Y = real_from(b, m, N, y), loss = b.tensor(1, N),
                            dZ = b.tensor(m, N);
                     b.softmax_cross_entropy(Z, Y, 1.0 / double(N), loss, &dZ);
                     return std::vector<HostArray>{host(b, "loss", loss), host(b, "dZ", dZ)};
                   }});
  cases.push_back({"squared_error", "m 3, N 200", 1e-6, 1e-6, [](Backend& b) {
                     Tensor Z = real(b, 3, 200, 20), Y = real(b, 3, 200, 21), loss = b.tensor(1, 200),
                            dZ = b.tensor(3, 200);
                     b.squared_error(Z, Y, 0.5, loss, &dZ);
                     return std::vector<HostArray>{host(b, "loss", loss), host(b, "dZ", dZ)};
                   }});
  cases.push_back({"softmax_columns", "E 16, T 257, logits up to 60", 1e-6, 1e-6, [](Backend& b) {
                     Tensor Z = real(b, 16, 257, 22, 20.0), P = b.tensor(16, 257), lse = b.tensor(1, 257);
                     b.softmax_columns(Z, P, &lse);
                     return std::vector<HostArray>{host(b, "P", P), host(b, "lse", lse)};
                   }});
  cases.push_back({"softmax_rows", "S 12, T 150, logits up to 40", 1e-6, 1e-6, [](Backend& b) {
                     Tensor Z = real(b, 12, 150, 62, 15.0), P = b.tensor(12, 150);
                     b.softmax_rows(Z, P);
                     return std::vector<HostArray>{host(b, "P", P)};
                   }});
  for (const bool rows : {false, true})
    cases.push_back({rows ? "softmax_rows_backward" : "softmax_columns_backward", "12 x 150", 1e-5, 1e-5, [rows](Backend& b) {
                       Tensor Z = real(b, 12, 150, 63, 3.0), P = b.tensor(12, 150), dP = real(b, 12, 150, 64),
                              dZ = b.zeros(12, 150);
                       if (rows) {
                         b.softmax_rows(Z, P);
                         b.softmax_rows_backward(P, dP, dZ);
                       } else {
                         b.softmax_columns(Z, P, nullptr);
                         b.softmax_columns_backward(P, dP, dZ);
                       }
                       return std::vector<HostArray>{host(b, "dZ", dZ)};
                     }});
  for (const bool biased : {false, true})
    cases.push_back({"top_k", std::string("E 16, T 300, k 3") + (biased ? ", with a bias" : ""), 0, 0, [biased](Backend& b) {
                       Tensor Z = real_from(b, 16, 300, tie_free_scores(16, 300, 23));
                       // The bias moves whole rows by multiples of 0.25: the order stays tie-free.
                       std::vector<double> bias(16);
                       for (std::size_t e = 0; e < 16; ++e) bias[e] = 0.25 * double((e * 7) % 5);
                       Tensor B = real_from(b, 16, 1, bias), out = b.tensor(3, 300, DType::i32);
                       b.top_k(Z, biased ? &B : nullptr, 3, out);
                       return std::vector<HostArray>{host(b, "slot_expert", out)};
                     }});
  for (const bool renorm : {true, false}) {
    const std::string how = renorm ? "renormalised" : "raw";
    cases.push_back({"slot_weights", "E 8, T 200, k 2, " + how, 1e-6, 1e-6, [renorm](Backend& b) {
                       DevicePlan plan = plan_for(b, 200, 8, 2, 0, 24, renorm);
                       return std::vector<HostArray>{host(b, "w", plan.slot_weight)};
                     }});
    cases.push_back({"slot_weights_backward", "E 8, T 200, k 2, " + how, 1e-5, 1e-5, [renorm](Backend& b) {
                       Tensor Z = real_from(b, 8, 200, tie_free_scores(8, 200, 25)), P = b.tensor(8, 200);
                       b.softmax_columns(Z, P, nullptr);
                       Tensor se = b.tensor(2, 200, DType::i32), dw = real(b, 2, 200, 26), dZ = b.zeros(8, 200);
                       b.top_k(Z, nullptr, 2, se);
                       b.slot_weights_backward(P, se, renorm, dw, dZ);
                       return std::vector<HostArray>{host(b, "dZ", dZ)};
                     }});
  }
  cases.push_back({"sigmoid", "E 8, T 100, logits up to 40", 1e-6, 1e-6, [](Backend& b) {
                     Tensor Z = real(b, 8, 100, 50, 15.0), S = b.tensor(8, 100);
                     b.sigmoid(Z, S);
                     return std::vector<HostArray>{host(b, "S", S)};
                   }});
  for (const bool renorm : {true, false}) {
    const std::string how = renorm ? "renormalised" : "raw";
    // Logits from -60 to 0 in part: renormalising scores that all underflow.
    auto inputs = [](Backend& b, Tensor& Z, Tensor& se) {
      std::vector<double> z = tie_free_scores(8, 200, 51);
      for (std::size_t i = 0; i < z.size(); ++i) z[i] = i < 400 ? 30.0 * z[i] - 60.0 : 4.0 * z[i] - 4.0;
      Z = real_from(b, 8, 200, z);
      se = b.tensor(2, 200, DType::i32);
      b.top_k(Z, nullptr, 2, se);
    };
    cases.push_back({"sigmoid_slot_weights", "E 8, T 200, k 2, " + how, 1e-6, 1e-6, [renorm, inputs](Backend& b) {
                       Tensor Z, se;
                       inputs(b, Z, se);
                       Tensor w = b.tensor(2, 200);
                       b.sigmoid_slot_weights(Z, se, renorm, w);
                       return std::vector<HostArray>{host(b, "w", w)};
                     }});
    cases.push_back({"sigmoid_slot_weights_backward", "E 8, T 200, k 2, " + how, 1e-5, 1e-5, [renorm, inputs](Backend& b) {
                       Tensor Z, se;
                       inputs(b, Z, se);
                       Tensor dw = real(b, 2, 200, 52), dZ = b.zeros(8, 200);
                       b.sigmoid_slot_weights_backward(Z, se, renorm, dw, dZ);
                       return std::vector<HostArray>{host(b, "dZ", dZ)};
                     }});
  }
  // Noisy top-k: logits, noise logits from -40 (a noise scale that underflows) to 8, standard normal draws.
  auto noisy_inputs = [](Backend& b, Tensor& Z, Tensor& N, Tensor& eps, Tensor& H) {
    Z = real_from(b, 8, 200, tie_free_scores(8, 200, 57));
    std::vector<double> n = randn(8 * 200, 58, 2.0);
    for (std::size_t i = 0; i < 80; ++i) n[i] = -40.0;
    N = real_from(b, 8, 200, n);
    eps = real(b, 8, 200, 59);
    H = b.tensor(8, 200);
    b.noisy_logits(Z, N, eps, H);
  };
  cases.push_back({"noisy_logits", "E 8, T 200", 1e-6, 1e-6, [noisy_inputs](Backend& b) {
                     Tensor Z, N, eps, H;
                     noisy_inputs(b, Z, N, eps, H);
                     return std::vector<HostArray>{host(b, "H", H)};
                   }});
  cases.push_back({"noisy_logits_backward", "E 8, T 200", 1e-6, 1e-6, [noisy_inputs](Backend& b) {
                     Tensor Z, N, eps, H;
                     noisy_inputs(b, Z, N, eps, H);
                     Tensor dH = real(b, 8, 200, 60), dN = b.zeros(8, 200);
                     b.noisy_logits_backward(N, eps, dH, dN);
                     return std::vector<HostArray>{host(b, "dN", dN)};
                   }});
  cases.push_back({"smooth_load_loss", "E 8, T 200, k 2", 1e-5, 1e-5, [noisy_inputs](Backend& b) {
                     Tensor Z, N, eps, H;
                     noisy_inputs(b, Z, N, eps, H);
                     Tensor acc = b.zeros(1, 1), dZ = b.zeros(8, 200), dN = b.zeros(8, 200);
                     b.smooth_load_loss(Z, N, H, eps, 2, 1.0, acc, dZ, dN);
                     return std::vector<HostArray>{host(b, "value", acc), host(b, "dZ", dZ), host(b, "dN", dN)};
                   }});
  cases.push_back({"expert_choice", "E 8, T 300, C 60, then the plan", 1e-6, 1e-6, [](Backend& b) {
                     // Scores k / 4096 for a shuffled k per (expert, token): exact in float, no ties.
                     std::vector<double> scores(8 * 300);
                     for (std::size_t i = 0; i < scores.size(); ++i) scores[i] = double((i * 1103) % 2400) / 4096.0;
                     Tensor P = real_from(b, 8, 300, scores);
                     DevicePlan plan;
                     plan.tokens = 300, plan.experts = 8, plan.capacity = 60;
                     b.expert_choice(P, 60, plan);
                     b.build_plan(plan);
                     std::vector<HostArray> out;
                     push_plan(out, b, plan);
                     return out;
                   }});
  cases.push_back({"balanced_assignment", "E 6, T 90, capacity 15", 0, 0, [](Backend& b) {
                     // Scores on a grid of 1/64 (exact in float), so both precisions bid alike.
                     std::vector<double> scores(6 * 90);
                     for (std::size_t i = 0; i < scores.size(); ++i) scores[i] = double((i * 29) % 61) / 64.0;
                     Tensor S = real_from(b, 6, 90, scores), se = b.tensor(1, 90, DType::i32);
                     b.balanced_assignment(S, 15, 1e-3, se);
                     return std::vector<HostArray>{host(b, "slot_expert", se)};
                   }});
  cases.push_back({"random_second_choice", "E 8, T 300, threshold 0.2", 1e-6, 1e-6, [](Backend& b) {
                     // Scores tie-free and uniform draws on a grid of 1/64 (exact in float): the same choices.
                     Tensor Z = real_from(b, 8, 300, tie_free_scores(8, 300, 61)), P = b.tensor(8, 300);
                     b.softmax_columns(Z, P, nullptr);
                     std::vector<double> u(300);
                     for (std::size_t t = 0; t < 300; ++t) u[t] = double((t * 37) % 64) / 64.0 + 1.0 / 128.0;
                     Tensor U = real_from(b, 1, 300, u), se = b.tensor(2, 300, DType::i32), w = b.tensor(2, 300);
                     b.top_k(Z, nullptr, 2, se);
                     b.slot_weights(P, se, true, w);
                     b.random_second_choice(P, U, 0.2, se, w);
                     HostArray weights = host(b, "w", w);
                     weights.exact = false;
                     return std::vector<HostArray>{host(b, "slot_expert", se), weights};
                   }});
  cases.push_back({"hash_experts", "T 300 ids, E 7", 0, 0, [](Backend& b) {
                     std::vector<std::int64_t> ids(300);
                     std::mt19937_64 g(53);
                     for (std::int64_t& id : ids) id = std::int64_t(g());
                     Tensor I = b.tensor(300, 1, DType::i64), se = b.tensor(1, 300, DType::i32);
                     b.upload(I, ids.data());
                     b.hash_experts(I, 7, se);
                     return std::vector<HostArray>{host(b, "slot_expert", se)};
                   }});
  cases.push_back({"bias_update", "E 8, T 150, k 2, capacity 40, 3 updates", 1e-6, 1e-6, [](Backend& b) {
                     DevicePlan plan = plan_for(b, 150, 8, 2, 40, 54);
                     Tensor bias = real(b, 8, 1, 55, 0.01);
                     for (int i = 0; i < 3; ++i) b.bias_update(plan, 1e-3, bias);
                     return std::vector<HostArray>{host(b, "bias", bias)};
                   }});
  cases.push_back({"importance_loss", "E 8, T 150, k 2, capacity 40", 1e-5, 1e-5, [](Backend& b) {
                     DevicePlan plan = plan_for(b, 150, 8, 2, 40, 56);
                     Tensor acc = b.zeros(1, 1), dw = b.zeros(2, 150);
                     b.importance_loss(plan, 1.0, acc, dw);
                     return std::vector<HostArray>{host(b, "value", acc), host(b, "dw", dw)};
                   }});
  for (const std::size_t capacity : {std::size_t(0), std::size_t(40)})
    cases.push_back({"build_plan", "E 8, T 150, k 2, capacity " + std::to_string(capacity), 1e-6, 1e-6, [capacity](Backend& b) {
                       std::vector<HostArray> out;
                       push_plan(out, b, plan_for(b, 150, 8, 2, capacity, 28));
                       return out;
                     }});
  for (const bool weighted : {true, false})
    cases.push_back({"combine_slots", std::string(weighted ? "weighted" : "weight 1") + ", d 12, E 8, T 150, k 2, capacity 40",
                     1e-6, 1e-6, [weighted](Backend& b) {
                       DevicePlan plan = plan_for(b, 150, 8, 2, 40, 57);
                       std::vector<std::int64_t> offsets(9);
                       b.download(plan.expert_offsets, offsets.data());
                       Tensor outs = real(b, 12, std::size_t(offsets[8]), 58), Y = real(b, 12, 150, 59);
                       b.combine_slots(plan, outs, weighted, Y);
                       return std::vector<HostArray>{host(b, "Y", Y)};
                     }});
  cases.push_back({"combine_slots_backward", "d 12, E 8, T 150, k 2, capacity 40", 1e-6, 1e-6, [](Backend& b) {
                     DevicePlan plan = plan_for(b, 150, 8, 2, 40, 60);
                     std::vector<std::int64_t> offsets(9);
                     b.download(plan.expert_offsets, offsets.data());
                     const std::size_t A = std::size_t(offsets[8]);
                     Tensor outs = real(b, 12, A, 61), dY = real(b, 12, 150, 62), douts = b.tensor(12, A),
                            dw = b.tensor(2, 150);
                     b.combine_slots_backward(plan, outs, dY, douts, dw);
                     return std::vector<HostArray>{host(b, "douts", douts), host(b, "dw", dw)};
                   }});
  cases.push_back({"routing_counts", "E 8, T 150, k 2, capacity 40", 1e-6, 1e-6, [](Backend& b) {
                     DevicePlan plan = plan_for(b, 150, 8, 2, 40, 29);
                     Tensor counts = b.zeros(3 * 8 + 2, 1);
                     b.routing_counts(plan, counts);
                     b.routing_counts(plan, counts);  // accumulates
                     return std::vector<HostArray>{host(b, "counts", counts)};
                   }});
  for (const FfnActivation a : {FfnActivation::relu, FfnActivation::gelu})
    for (const std::size_t capacity : {std::size_t(0), std::size_t(30)}) {
      const std::string shape = std::string(a == FfnActivation::relu ? "relu" : "gelu") +
                                ", T 120, d 16, f 24, E 6, k 2, capacity " + std::to_string(capacity);
      auto run = [a, capacity](Backend& b, bool backward) {
        const std::size_t T = 120, d = 16, f = 24, E = 6, k = 2;
        DevicePlan plan = plan_for(b, T, E, k, capacity, 30);
        ExpertBank w = bank(b, d, f, E, 31);
        Tensor X = real(b, d, T, 35), Y = b.tensor(d, T);
        std::unique_ptr<OpCache> cache;
        b.routed_ffn_forward(plan, w, a, X, true, Y, cache);
        std::vector<HostArray> out{host(b, "Y", Y)};
        if (!backward) return out;
        ExpertBank g = zero_bank(b, d, f, E);
        Tensor dY = real(b, d, T, 36), dX = b.tensor(d, T), dw = b.tensor(k, T);
        b.routed_ffn_backward(plan, w, a, dY, true, dX, g, dw, cache);
        for (auto* t : {&dX, &g.W1, &g.b1, &g.W2, &g.b2, &dw})
          out.push_back(host(b, t == &dX ? "dX" : t == &dw ? "dw" : t == &g.W1 ? "dW1" : t == &g.b1 ? "db1" : t == &g.W2 ? "dW2" : "db2", *t));
        return out;
      };
      cases.push_back({"routed_ffn_forward", shape, 2e-5, 3e-2, [run](Backend& b) { return run(b, false); }});
      cases.push_back({"routed_ffn_backward", shape, 2e-5, 3e-2, [run](Backend& b) { return run(b, true); }});
    }
  cases.push_back({"switch_loss", "E 8, T 300", 1e-5, 1e-5, [](Backend& b) {
                     Tensor Z = real_from(b, 8, 300, tie_free_scores(8, 300, 37, 0.3)), P = b.tensor(8, 300);
                     b.softmax_columns(Z, P, nullptr);
                     Tensor acc = b.zeros(1, 1), dZ = b.zeros(8, 300);  // from 0: the gradient alone is compared
                     b.switch_loss(Z, P, 1.0, acc, dZ);
                     return std::vector<HostArray>{host(b, "value", acc), host(b, "dZ", dZ)};
                   }});
  cases.push_back({"z_loss", "E 8, T 300", 1e-5, 1e-5, [](Backend& b) {
                     Tensor Z = real(b, 8, 300, 39, 4.0), P = b.tensor(8, 300), lse = b.tensor(1, 300);
                     b.softmax_columns(Z, P, &lse);
                     Tensor acc = b.zeros(1, 1), dZ = b.zeros(8, 300);
                     b.z_loss(P, lse, 1.0, acc, dZ);
                     return std::vector<HostArray>{host(b, "value", acc), host(b, "dZ", dZ)};
                   }});
  cases.push_back({"clip_factor", "norm 5 clipped to 2, and 0", 1e-6, 1e-6, [](Backend& b) {
                     Tensor s = real_from(b, 1, 1, {25.0}), zero = b.zeros(1, 1), f1 = b.tensor(1, 1), f2 = b.tensor(1, 1);
                     b.clip_factor(s, 2.0, f1);
                     b.clip_factor(zero, 2.0, f2);
                     return std::vector<HostArray>{host(b, "clipped", f1), host(b, "zero norm", f2)};
                   }});
  cases.push_back({"adam", "20 x 30, 3 steps, clipped gradients", 1e-5, 1e-5, [](Backend& b) {
                     Tensor w = real(b, 20, 30, 41), m = b.zeros(20, 30), v = b.zeros(20, 30), scale = real_from(b, 1, 1, {0.5});
                     for (long t = 1; t <= 3; ++t) {
                       Tensor g = real(b, 20, 30, 41 + std::uint64_t(t), 0.1);
                       b.adam(w, g, m, v, AdamStep{1e-2, 0.9, 0.999, 1e-8, t}, &scale);
                     }
                     return std::vector<HostArray>{host(b, "w", w), host(b, "m", m), host(b, "v", v)};
                   }});
  cases.push_back({"momentum", "20 x 30, 3 steps", 1e-6, 1e-6, [](Backend& b) {
                     Tensor w = real(b, 20, 30, 45), vel = b.zeros(20, 30);
                     for (std::uint64_t t = 1; t <= 3; ++t) {
                       Tensor g = real(b, 20, 30, 45 + t);
                       b.momentum(w, g, vel, 0.1, 0.9, nullptr);
                     }
                     return std::vector<HostArray>{host(b, "w", w), host(b, "velocity", vel)};
                   }});
  cases.push_back({"upload", "i64 and real round trip, 3 x 4", 6e-8, 6e-8, [](Backend& b) {
                     std::vector<std::int64_t> v(12);
                     std::iota(v.begin(), v.end(), std::int64_t(1) << 40);
                     Tensor t = b.tensor(3, 4, DType::i64);
                     b.upload(t, v.data());
                     return std::vector<HostArray>{host(b, "i64", t)};
                   }});
  return cases;
}

}  // namespace

const std::vector<OpCase>& backend_op_cases() {
  static const std::vector<OpCase> cases = make_cases();
  return cases;
}

const std::vector<std::string>& backend_op_names() {
  static const std::vector<std::string> names = {
      "upload", "fill", "copy", "copy_columns", "gather_columns", "gemm", "add_columns", "sum_columns", "axpy", "scale",
      "activation_forward", "activation_backward", "sum_squares", "sum_into", "softmax_cross_entropy",
      "squared_error", "softmax_columns", "softmax_rows", "softmax_columns_backward", "softmax_rows_backward", "top_k", "slot_weights", "slot_weights_backward", "sigmoid",
      "sigmoid_slot_weights", "sigmoid_slot_weights_backward", "noisy_logits", "noisy_logits_backward",
      "smooth_load_loss", "expert_choice", "balanced_assignment", "random_second_choice", "hash_experts", "build_plan", "routing_counts", "combine_slots", "combine_slots_backward",
      "bias_update", "routed_ffn_forward", "routed_ffn_backward", "switch_loss", "importance_loss", "z_loss",
      "clip_factor", "adam", "momentum"};
  return names;
}

}  // namespace moe::test
