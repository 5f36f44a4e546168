// The oracle itself: the CPU double backend against closed forms and central differences. (The op
// harness, test_backend_ops.cpp, checks every other backend against this one.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "backend/backend_op_cases.hpp"
#include "moe/backend/cpu_backend.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe::test {

namespace {

struct Oracle {
  std::unique_ptr<Backend> b = make_cpu_backend(Precision::f64);
  Tensor make(std::size_t rows, std::size_t cols, const std::vector<double>& v) {
    Tensor t = b->tensor(rows, cols);
    b->upload(t, v.data());
    return t;
  }
  std::vector<double> get(const Tensor& t) { return b->to_host(t); }
};

// Central differences of f at x, every element: (f(x + h e_i) - f(x - h e_i)) / 2h.
std::vector<double> numeric_gradient(std::vector<double> x, const std::function<double(const std::vector<double>&)>& f,
                                     double h = 1e-6) {
  std::vector<double> g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double up = f(x);
    x[i] = keep - h;
    const double down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

void check_close(const std::vector<double>& analytic, const std::vector<double>& numeric, double tol) {
  REQUIRE(analytic.size() == numeric.size());
  for (std::size_t i = 0; i < analytic.size(); ++i) {
    INFO("element " << i);
    CHECK(analytic[i] == doctest::Approx(numeric[i]).epsilon(tol).scale(1.0));
  }
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Scores with a clear order per column (no ties within 0.2): choices stay put under small perturbations.
std::vector<double> ordered_scores(std::size_t E, std::size_t T, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::vector<double> v(E * T);
  std::vector<std::size_t> order(E);
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t e = 0; e < E; ++e) order[e] = e;
    std::shuffle(order.begin(), order.end(), g);
    for (std::size_t r = 0; r < E; ++r) v[t * E + order[r]] = 0.4 * double(r) - 1.0;
  }
  return v;
}

}  // namespace

TEST_CASE("backend oracle: gemm and the column ops against plain loops") {
  Oracle o;
  const std::size_t m = 5, n = 4, k = 3;
  const std::vector<double> a = randn(k * m, 1), bb = randn(n * k, 2), c0 = randn(m * n, 3);
  Tensor A = o.make(k, m, a), B = o.make(n, k, bb), C = o.make(m, n, c0);  // C = 2 A^T B^T - C
  o.b->gemm(true, true, 2.0, A, B, -1.0, C);
  const std::vector<double> c = o.get(C);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t l = 0; l < k; ++l) s += a[l + i * k] * bb[j + l * n];
      CHECK(c[i + j * m] == doctest::Approx(2 * s - c0[i + j * m]).epsilon(1e-14));
    }
  Tensor s = o.make(m, 1, randn(m, 4));
  o.b->sum_columns(C, 0.0, s);
  const std::vector<double> sums = o.get(s);
  for (std::size_t i = 0; i < m; ++i) CHECK(sums[i] == doctest::Approx(c[i] + c[i + m] + c[i + 2 * m] + c[i + 3 * m]));
}

TEST_CASE("backend oracle: softmax cross-entropy is -log p of the class, and its gradient the differences") {
  Oracle o;
  const std::size_t m = 4, N = 3;
  const std::vector<double> z = randn(m * N, 5, 2.0);
  std::vector<double> y(m * N, 0.0);
  y[1] = 1, y[m + 3] = 1, y[2 * m + 0] = 1;
  Tensor Z = o.make(m, N, z), Y = o.make(m, N, y), loss = o.b->tensor(1, N), dZ = o.b->tensor(m, N);
  o.b->softmax_cross_entropy(Z, Y, 1.0, loss, &dZ);
  const std::vector<double> l = o.get(loss);
  const std::size_t label[3] = {1, 3, 0};
  for (std::size_t n = 0; n < N; ++n) {
    double s = 0;
    for (std::size_t i = 0; i < m; ++i) s += std::exp(z[n * m + i]);
    CHECK(l[n] == doctest::Approx(-(z[n * m + label[n]] - std::log(s))).epsilon(1e-13));
  }
  const auto total = [&](const std::vector<double>& zz) {
    Tensor Zt = o.make(m, N, zz), lt = o.b->tensor(1, N);
    o.b->softmax_cross_entropy(Zt, Y, 1.0, lt, nullptr);
    const std::vector<double> v = o.get(lt);
    return v[0] + v[1] + v[2];
  };
  check_close(o.get(dZ), numeric_gradient(z, total), 1e-7);
}

TEST_CASE("backend oracle: activation, slot weight, switch and z-loss gradients against central differences") {
  Oracle o;
  SUBCASE("gelu and relu") {
    for (const FfnActivation a : {FfnActivation::gelu, FfnActivation::relu}) {
      std::vector<double> pre = randn(12, 6, 2.0);
      for (double& x : pre) x += x > 0 ? 0.01 : -0.01;  // relu: away from the kink
      const std::vector<double> r = randn(12, 7);
      Tensor P = o.make(3, 4, pre), R = o.make(3, 4, r), dpre = o.b->tensor(3, 4);
      o.b->activation_backward(a, P, R, dpre);
      check_close(o.get(dpre), numeric_gradient(pre, [&](const std::vector<double>& x) {
                    Tensor X = o.make(3, 4, x), out = o.b->tensor(3, 4);
                    o.b->activation_forward(a, X, out);
                    return dot(o.get(out), r);
                  }), 1e-7);
    }
  }
  SUBCASE("slot weights, renormalised and raw") {
    const std::size_t E = 6, T = 5, k = 2;
    const std::vector<double> z = ordered_scores(E, T, 8), dw = randn(k * T, 9);
    for (const bool renorm : {true, false}) {
      Tensor Z = o.make(E, T, z), P = o.b->tensor(E, T), se = o.b->tensor(k, T, DType::i32);
      o.b->softmax_columns(Z, P, nullptr);
      o.b->top_k(Z, nullptr, k, se);
      Tensor G = o.make(k, T, dw), dZ = o.b->zeros(E, T);
      o.b->slot_weights_backward(P, se, renorm, G, dZ);
      check_close(o.get(dZ), numeric_gradient(z, [&](const std::vector<double>& x) {
                    Tensor Zx = o.make(E, T, x), Px = o.b->tensor(E, T), w = o.b->tensor(k, T);
                    o.b->softmax_columns(Zx, Px, nullptr);
                    o.b->slot_weights(Px, se, renorm, w);  // the choice held fixed
                    return dot(o.get(w), dw);
                  }), 1e-7);
    }
  }
  SUBCASE("switch loss and z-loss") {
    const std::size_t E = 5, T = 7;
    const std::vector<double> z = ordered_scores(E, T, 10);
    Tensor Z = o.make(E, T, z), P = o.b->tensor(E, T), lse = o.b->tensor(1, T);
    o.b->softmax_columns(Z, P, &lse);
    Tensor acc = o.b->zeros(1, 1), dZs = o.b->zeros(E, T), dZz = o.b->zeros(E, T);
    o.b->switch_loss(Z, P, 1.0, acc, dZs);
    // E sum_e f_e Pbar_e by hand.
    std::vector<double> f(E, 0), pbar(E, 0);
    const std::vector<double> p = o.get(P);
    for (std::size_t t = 0; t < T; ++t) {
      f[std::size_t(std::max_element(z.begin() + long(t * E), z.begin() + long(t * E + E)) - z.begin()) - t * E] += 1.0 / T;
      for (std::size_t e = 0; e < E; ++e) pbar[e] += p[t * E + e] / T;
    }
    CHECK(o.b->scalar(acc) == doctest::Approx(double(E) * dot(f, pbar)).epsilon(1e-13));
    const auto value = [&](const std::vector<double>& x, bool zloss) {
      Tensor Zx = o.make(E, T, x), Px = o.b->tensor(E, T), l = o.b->tensor(1, T), a = o.b->zeros(1, 1),
             d = o.b->zeros(E, T);
      o.b->softmax_columns(Zx, Px, &l);
      if (zloss) o.b->z_loss(Px, l, 1.0, a, d);
      else o.b->switch_loss(Zx, Px, 1.0, a, d);
      return o.b->scalar(a);
    };
    check_close(o.get(dZs), numeric_gradient(z, [&](const std::vector<double>& x) { return value(x, false); }), 1e-7);
    o.b->z_loss(P, lse, 1.0, acc, dZz);
    check_close(o.get(dZz), numeric_gradient(z, [&](const std::vector<double>& x) { return value(x, true); }), 1e-7);
    // Gradients accumulate, weighted: a second call with weight 2 adds twice the first's.
    const std::vector<double> once = o.get(dZz);
    o.b->z_loss(P, lse, 2.0, acc, dZz);
    const std::vector<double> thrice = o.get(dZz);
    for (std::size_t i = 0; i < once.size(); ++i) CHECK(thrice[i] == doctest::Approx(3 * once[i]).epsilon(1e-13));
  }
}

TEST_CASE("backend oracle: row and column softmaxes and their gradients") {
  Oracle o;
  const std::size_t S = 4, T = 5;
  const std::vector<double> z = randn(S * T, 40, 2.0), r = randn(S * T, 41);
  for (const bool rows : {false, true}) {
    auto forward = [&](const std::vector<double>& x) {
      Tensor Z = o.make(S, T, x), P = o.b->tensor(S, T);
      if (rows) o.b->softmax_rows(Z, P);
      else o.b->softmax_columns(Z, P, nullptr);
      return o.get(P);
    };
    const std::vector<double> p = forward(z);
    // Each row (or column) sums to 1.
    for (std::size_t i = 0; i < (rows ? S : T); ++i) {
      double sum = 0;
      for (std::size_t j = 0; j < (rows ? T : S); ++j) sum += rows ? p[i + j * S] : p[i * S + j];
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-14));
    }
    Tensor P = o.make(S, T, p), dP = o.make(S, T, r), dZ = o.b->zeros(S, T);
    if (rows) o.b->softmax_rows_backward(P, dP, dZ);
    else o.b->softmax_columns_backward(P, dP, dZ);
    check_close(o.get(dZ), numeric_gradient(z, [&](const std::vector<double>& x) { return dot(forward(x), r); }), 1e-7);
  }
}

TEST_CASE("backend oracle: the sigmoid router's weights and their gradient") {
  Oracle o;
  const std::size_t E = 5, T = 6, k = 2;
  std::vector<double> z = ordered_scores(E, T, 20);
  for (std::size_t i = 0; i < E; ++i) z[i] -= 50.0;  // token 0: every score underflows to about e^-50
  Tensor Z = o.make(E, T, z), se = o.b->tensor(k, T, DType::i32), w = o.b->tensor(k, T);
  o.b->top_k(Z, nullptr, k, se);
  std::vector<std::int32_t> chosen(k * T);
  o.b->download(se, chosen.data());
  const std::vector<double> dw = randn(k * T, 21);
  for (const bool renorm : {true, false}) {
    o.b->sigmoid_slot_weights(Z, se, renorm, w);
    const std::vector<double> wv = o.get(w);
    for (std::size_t t = 0; t < T; ++t) {
      const double s0 = 1 / (1 + std::exp(-z[t * E + std::size_t(chosen[t * k])]));
      const double s1 = 1 / (1 + std::exp(-z[t * E + std::size_t(chosen[t * k + 1])]));
      CHECK(wv[t * k] == doctest::Approx(renorm ? s0 / (s0 + s1) : s0).epsilon(1e-12));
    }
    Tensor G = o.make(k, T, dw), dZ = o.b->zeros(E, T);
    o.b->sigmoid_slot_weights_backward(Z, se, renorm, G, dZ);
    check_close(o.get(dZ), numeric_gradient(z, [&](const std::vector<double>& x) {
                  Tensor Zx = o.make(E, T, x), wx = o.b->tensor(k, T);
                  o.b->sigmoid_slot_weights(Zx, se, renorm, wx);
                  return dot(o.get(wx), dw);
                }), 1e-6);
  }
}

TEST_CASE("backend oracle: importance loss, routing sums, loss-free bias and hash routing in closed form") {
  Oracle o;
  const std::size_t T = 40, E = 5, k = 2;
  DevicePlan plan;
  plan.tokens = T, plan.experts = E, plan.k = k, plan.capacity = 14;
  Tensor Z = o.make(E, T, ordered_scores(E, T, 22)), P = o.b->tensor(E, T);
  o.b->softmax_columns(Z, P, nullptr);
  plan.slot_expert = o.b->tensor(k, T, DType::i32);
  plan.slot_weight = o.b->tensor(k, T);
  o.b->top_k(Z, nullptr, k, plan.slot_expert);
  o.b->slot_weights(P, plan.slot_expert, true, plan.slot_weight);
  o.b->build_plan(plan);
  std::vector<std::int32_t> se(k * T);
  std::vector<std::int64_t> pos(k * T);
  o.b->download(plan.slot_expert, se.data());
  o.b->download(plan.slot_position, pos.data());
  const std::vector<double> w = o.get(plan.slot_weight);
  // Importance CV^2 = population variance / (mean^2 + 1e-10) of each expert's summed slot weights
  // (dropped slots included); its gradient to the slot weights by central differences.
  auto cv2 = [&](const std::vector<double>& weights) {
    std::vector<double> imp(E, 0.0);
    for (std::size_t i = 0; i < k * T; ++i) imp[std::size_t(se[i])] += weights[i];
    double mean = 0, var = 0;
    for (const double x : imp) mean += x / double(E);
    for (const double x : imp) var += (x - mean) * (x - mean) / double(E);
    return var / (mean * mean + 1e-10);
  };
  Tensor acc = o.b->zeros(1, 1), dw = o.b->zeros(k, T);
  o.b->importance_loss(plan, 2.0, acc, dw);
  CHECK(o.b->scalar(acc) == doctest::Approx(cv2(w)).epsilon(1e-13));
  CHECK(o.b->scalar(acc) > 1e-3);
  std::vector<double> g = o.get(dw);
  for (double& x : g) x /= 2.0;
  check_close(g, numeric_gradient(w, cv2), 1e-7);
  // Routing sums: per expert the kept slots, the routed slots and their weights; tokens with no kept slot.
  Tensor sums = o.b->zeros(3 * E + 2, 1);
  o.b->routing_counts(plan, sums);
  const std::vector<double> c = o.get(sums);
  std::vector<double> want(3 * E + 2, 0.0);
  for (std::size_t t = 0; t < T; ++t) {
    bool kept = false;
    for (std::size_t i = t * k; i < (t + 1) * k; ++i) {
      const std::size_t e = std::size_t(se[i]);
      want[e] += pos[i] >= 0, want[E + e] += 1, want[2 * E + e] += w[i];
      kept |= pos[i] >= 0;
    }
    want[3 * E] += !kept;
  }
  want[3 * E + 1] = double(T);
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(c[i] == doctest::Approx(want[i]).epsilon(1e-13));
  double kept = 0;
  for (std::size_t e = 0; e < E; ++e) kept += c[e];
  CHECK(kept < double(k * T));  // the capacity dropped slots
  // Loss-free bias: +rate below the mean load, -rate above, unchanged at it.
  Tensor bias = o.b->zeros(E, 1);
  o.b->bias_update(plan, 0.5, bias);
  std::vector<double> load(E, 0.0);
  for (const std::int32_t e : se) load[std::size_t(e)] += 1;
  const double mean = double(k * T) / double(E);
  const std::vector<double> b = o.get(bias);
  for (std::size_t e = 0; e < E; ++e) CHECK(b[e] == (load[e] < mean ? 0.5 : load[e] > mean ? -0.5 : 0.0));
  // Hash routing: the splitmix64 finaliser of each id (after adding the golden-ratio increment), mod E.
  auto splitmix = [](std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  std::vector<std::int64_t> ids = {0, 1, -1, 42, std::int64_t(1) << 62, -12345};
  Tensor I = o.b->tensor(ids.size(), 1, DType::i64), out = o.b->tensor(1, ids.size(), DType::i32);
  o.b->upload(I, ids.data());
  o.b->hash_experts(I, 7, out);
  std::vector<std::int32_t> chosen(ids.size());
  o.b->download(out, chosen.data());
  for (std::size_t t = 0; t < ids.size(); ++t) CHECK(chosen[t] == std::int32_t(splitmix(std::uint64_t(ids[t])) % 7));
}

TEST_CASE("backend oracle: noisy top-k's noisy logits and the smooth load loss, its value and central differences") {
  Oracle o;
  const std::size_t E = 5, T = 12, k = 2;
  std::vector<double> z = ordered_scores(E, T, 30), n = randn(E * T, 31), eps = randn(E * T, 32);
  Tensor Z = o.make(E, T, z), N = o.make(E, T, n), Ep = o.make(E, T, eps), H = o.b->tensor(E, T);
  o.b->noisy_logits(Z, N, Ep, H);
  const std::vector<double> h = o.get(H);
  for (std::size_t i = 0; i < E * T; ++i) CHECK(h[i] == doctest::Approx(z[i] + eps[i] * std::log1p(std::exp(n[i]))).epsilon(1e-13));
  // load_i = sum_t Phi((z_it - kth largest of H(:, t) without i) / softplus(n_it)); the value CV(load)^2.
  auto value_of = [&](const std::vector<double>& zz, const std::vector<double>& nn) {
    std::vector<double> load(E, 0.0);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t i = 0; i < E; ++i) {
        std::vector<double> others;
        for (std::size_t j = 0; j < E; ++j)
          if (j != i) others.push_back(zz[t * E + j] + eps[t * E + j] * std::log1p(std::exp(nn[t * E + j])));
        std::sort(others.rbegin(), others.rend());
        const double sd = std::log1p(std::exp(nn[t * E + i]));
        load[i] += 0.5 * std::erfc(-(zz[t * E + i] - others[k - 1]) / sd / std::sqrt(2.0));
      }
    double mean = 0, var = 0;
    for (const double x : load) mean += x / double(E);
    for (const double x : load) var += (x - mean) * (x - mean) / double(E);
    return var / (mean * mean + 1e-10);
  };
  Tensor acc = o.b->zeros(1, 1), dZ = o.b->zeros(E, T), dN = o.b->zeros(E, T);
  o.b->smooth_load_loss(Z, N, H, Ep, k, 3.0, acc, dZ, dN);
  CHECK(o.b->scalar(acc) == doctest::Approx(value_of(z, n)).epsilon(1e-12));
  CHECK(o.b->scalar(acc) > 1e-4);
  std::vector<double> gz = o.get(dZ), gn = o.get(dN);
  for (double& x : gz) x /= 3.0;
  for (double& x : gn) x /= 3.0;
  check_close(gz, numeric_gradient(z, [&](const std::vector<double>& x) { return value_of(x, n); }), 1e-6);
  check_close(gn, numeric_gradient(n, [&](const std::vector<double>& x) { return value_of(z, x); }), 1e-6);
  // The noisy logits' gradient to N: d(dH . H)/dN by central differences.
  const std::vector<double> dh = randn(E * T, 33);
  Tensor dH = o.make(E, T, dh), gN = o.b->zeros(E, T);
  o.b->noisy_logits_backward(N, Ep, dH, gN);
  check_close(o.get(gN), numeric_gradient(n, [&](const std::vector<double>& x) {
                Tensor Nx = o.make(E, T, x), Hx = o.b->tensor(E, T);
                o.b->noisy_logits(Z, Nx, Ep, Hx);
                return dot(o.get(Hx), dh);
              }), 1e-7);
}

TEST_CASE("backend oracle: the routed experts' gradients against central differences, with drops") {
  Oracle o;
  const std::size_t T = 9, d = 3, f = 4, E = 3, k = 2;
  DevicePlan plan;
  plan.tokens = T, plan.experts = E, plan.k = k, plan.capacity = 5;  // 18 slots over 15 places: drops
  Tensor Z = o.make(E, T, ordered_scores(E, T, 11)), P = o.b->tensor(E, T);
  o.b->softmax_columns(Z, P, nullptr);
  plan.slot_expert = o.b->tensor(k, T, DType::i32);
  plan.slot_weight = o.b->tensor(k, T);
  o.b->top_k(Z, nullptr, k, plan.slot_expert);
  o.b->slot_weights(P, plan.slot_expert, true, plan.slot_weight);
  o.b->build_plan(plan);
  std::vector<std::int64_t> pos(k * T);
  o.b->download(plan.slot_position, pos.data());
  REQUIRE(std::count(pos.begin(), pos.end(), -1) > 0);

  std::vector<std::vector<double>> values = {randn(f * d * E, 12, 0.6), randn(f * E, 13, 0.3), randn(d * f * E, 14, 0.6),
                                             randn(d * E, 15, 0.3), randn(d * T, 16)};
  const std::vector<double> r = randn(d * T, 17);
  const auto loss = [&](const std::vector<std::vector<double>>& v) {
    ExpertBank w{o.make(f, d * E, v[0]), o.make(f, E, v[1]), o.make(d, f * E, v[2]), o.make(d, E, v[3])};
    Tensor X = o.make(d, T, v[4]), Y = o.b->tensor(d, T);
    std::unique_ptr<OpCache> cache;
    o.b->routed_ffn_forward(plan, w, FfnActivation::gelu, X, true, Y, cache);
    return dot(o.get(Y), r);
  };
  ExpertBank w{o.make(f, d * E, values[0]), o.make(f, E, values[1]), o.make(d, f * E, values[2]), o.make(d, E, values[3])};
  Tensor X = o.make(d, T, values[4]), Y = o.b->tensor(d, T), R = o.make(d, T, r), dX = o.b->tensor(d, T),
         dw = o.b->tensor(k, T);
  ExpertBank g{o.b->zeros(f, d * E), o.b->zeros(f, E), o.b->zeros(d, f * E), o.b->zeros(d, E)};
  std::unique_ptr<OpCache> cache;
  o.b->routed_ffn_forward(plan, w, FfnActivation::gelu, X, true, Y, cache);
  o.b->routed_ffn_backward(plan, w, FfnActivation::gelu, R, true, dX, g, dw, cache);
  const std::vector<std::vector<double>> analytic = {o.get(g.W1), o.get(g.b1), o.get(g.W2), o.get(g.b2), o.get(dX)};
  for (std::size_t which = 0; which < values.size(); ++which) {
    INFO("parameter block " << which);
    check_close(analytic[which], numeric_gradient(values[which], [&](const std::vector<double>& x) {
                  auto v = values;
                  v[which] = x;
                  return loss(v);
                }), 1e-6);
  }
  // dw: the derivative of sum R . Y in each slot's weight is R(:, t) . FFN_e(x_t) for kept slots, 0 otherwise.
  const std::vector<double> dws = o.get(dw), sw = o.get(plan.slot_weight), y = o.get(Y), x = values[4];
  std::vector<std::int32_t> se(k * T);
  o.b->download(plan.slot_expert, se.data());
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t s = 0; s < k; ++s) {
      const std::size_t slot = t * k + s;
      if (pos[slot] < 0) {
        CHECK(dws[slot] == 0.0);
        continue;
      }
      // Perturb this slot's weight alone: rebuild the plan with it moved by +-h.
      const auto with_weight = [&](double delta) {
        std::vector<double> wts = sw;
        wts[slot] += delta;
        DevicePlan p2;
        p2.tokens = T, p2.experts = E, p2.k = k, p2.capacity = plan.capacity;
        p2.slot_expert = o.b->tensor(k, T, DType::i32);
        o.b->upload(p2.slot_expert, se.data());
        p2.slot_weight = o.make(k, T, wts);
        o.b->build_plan(p2);
        ExpertBank w2{o.make(f, d * E, values[0]), o.make(f, E, values[1]), o.make(d, f * E, values[2]), o.make(d, E, values[3])};
        Tensor X2 = o.make(d, T, x), Y2 = o.b->tensor(d, T);
        std::unique_ptr<OpCache> c2;
        o.b->routed_ffn_forward(p2, w2, FfnActivation::gelu, X2, true, Y2, c2);
        return dot(o.get(Y2), r);
      };
      CHECK(dws[slot] == doctest::Approx((with_weight(1e-6) - with_weight(-1e-6)) / 2e-6).epsilon(1e-6).scale(1.0));
    }
}

TEST_CASE("backend oracle: the optimisers' updates in closed form") {
  Oracle o;
  // Adam's first step moves each weight by lr g / (|g| + eps') (the bias corrections cancel).
  const std::vector<double> w0 = {1.0, -2.0, 0.5}, g0 = {0.3, -0.02, 0.0};
  Tensor w = o.make(3, 1, w0), g = o.make(3, 1, g0), m = o.b->zeros(3, 1), v = o.b->zeros(3, 1);
  o.b->adam(w, g, m, v, AdamStep{0.1, 0.9, 0.999, 1e-8, 1}, nullptr);
  const std::vector<double> w1 = o.get(w);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(w1[i] == doctest::Approx(w0[i] - 0.1 * g0[i] / (std::abs(g0[i]) + 1e-8)).epsilon(1e-12));
  // Momentum: two steps of v = 0.9 v - 0.1 g (g halved by a clip factor of norm 2 -> 1).
  Tensor sumsq = o.make(1, 1, {4.0}), factor = o.b->tensor(1, 1);
  o.b->clip_factor(sumsq, 1.0, factor);
  CHECK(o.b->scalar(factor) == 0.5);
  Tensor w2 = o.make(3, 1, w0), vel = o.b->zeros(3, 1);
  o.b->momentum(w2, g, vel, 0.1, 0.9, &factor);
  o.b->momentum(w2, g, vel, 0.1, 0.9, &factor);
  const std::vector<double> w3 = o.get(w2);
  for (std::size_t i = 0; i < 3; ++i) CHECK(w3[i] == doctest::Approx(w0[i] - 0.05 * g0[i] * (1 + 1.9)).epsilon(1e-12));
}

}  // namespace moe::test
