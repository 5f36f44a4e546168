#include "moe/backend/cpu_sparse_ffn.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "moe/backend/cpu_blas.hpp"

namespace moe::kernels {

namespace {

// One unit of parallel work: rows [r0, r1) of one expert's output block, of one kind of product.
struct RowTask {
  int kind;  // which product of the phase (the phases below name theirs)
  std::size_t expert, r0, r1;
  double work;  // rows x columns, for the largest-first order
};

// Splits the `rows` output rows of every non-empty expert into blocks of about 1/32 of the phase's total
// work (never below 64 rows, multiples of 16), so that one crowded expert still feeds every thread. Cut
// from the counts alone: the same blocks, hence the same sums, for any thread count.
void add_row_tasks(std::vector<RowTask>& tasks, int kind, const PlanView& plan, std::size_t rows) {
  const double total = double(rows) * double(plan.assignments());
  const double target = std::max(total / 32.0, 1.0);
  for (std::size_t e = 0; e < plan.experts; ++e) {
    const std::size_t n = std::size_t(plan.expert_offsets[e + 1] - plan.expert_offsets[e]);
    if (n == 0) continue;
    const double work = double(rows) * double(n);
    std::size_t blocks = std::size_t(std::ceil(work / target));
    blocks = std::clamp<std::size_t>(blocks, 1, std::max<std::size_t>(1, rows / 64));
    std::size_t step = (rows + blocks - 1) / blocks;
    step = std::min(rows, (step + 15) / 16 * 16);
    for (std::size_t r0 = 0; r0 < rows; r0 += step) {
      const std::size_t r1 = std::min(rows, r0 + step);
      tasks.push_back({kind, e, r0, r1, double(r1 - r0) * double(n)});
    }
  }
}

void largest_first(std::vector<RowTask>& tasks) {
  std::stable_sort(tasks.begin(), tasks.end(), [](const RowTask& a, const RowTask& b) { return a.work > b.work; });
}

// The tasks of one phase of independent products, kind i's output having rows_per_kind[i] rows per
// expert: all kinds together, largest first.
std::vector<RowTask> phase_tasks(const PlanView& plan, std::initializer_list<std::size_t> rows_per_kind) {
  std::vector<RowTask> tasks;
  int kind = 0;
  for (const std::size_t rows : rows_per_kind) add_row_tasks(tasks, kind++, plan, rows);
  largest_first(tasks);
  return tasks;
}

// Under OpenMP, dynamic: tasks differ in size.
template <class F>
void run_phase(const std::vector<RowTask>& tasks, F f) {
#pragma omp parallel for schedule(dynamic, 1)
  for (long i = 0; i < long(tasks.size()); ++i) f(tasks[std::size_t(i)]);
}

struct Block {
  std::size_t offset, n;  // first sorted column, columns
};

Block expert_block(const PlanView& plan, std::size_t e) {
  return {std::size_t(plan.expert_offsets[e]), std::size_t(plan.expert_offsets[e + 1] - plan.expert_offsets[e])};
}

}  // namespace

template <class T>
void sparse_ffn_forward(const PlanView& plan, const T* sorted_weight, const ExpertWeights<T>& w,
                        FfnActivation activation, const T* X, bool residual, T* Y, SparseFfnWorkspace<T>& ws) {
  const std::size_t d = w.d, f = w.f, A = plan.assignments();
  T* inputs = ws.inputs.resize(d * A);
  T* pre = ws.pre.resize(f * A);
  T* act = ws.act.resize(f * A);
  T* out = ws.out.resize(d * A);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < long(A); ++i)
    std::memcpy(inputs + std::size_t(i) * d, X + std::size_t(plan.sorted_token[i]) * d, d * sizeof(T));

  // pre_e = W1_e inputs_e + b1_e, act = act(pre): row blocks of f, the activation on the block just made.
  run_phase(phase_tasks(plan, {f}), [&](const RowTask& task) {
    const Block b = expert_block(plan, task.expert);
    const std::size_t m = task.r1 - task.r0;
    T* P = pre + b.offset * f + task.r0;
    gemm(false, false, int(m), int(b.n), int(d), T(1), w.W1 + task.expert * f * d + task.r0, int(f),
         inputs + b.offset * d, int(d), T(0), P, int(f));
    const T* bias = w.b1 + task.expert * f + task.r0;
    T* H = act + b.offset * f + task.r0;
    for (std::size_t j = 0; j < b.n; ++j)
      for (std::size_t r = 0; r < m; ++r) {
        const T x = P[j * f + r] + bias[r];
        P[j * f + r] = x;
        H[j * f + r] = moe::activate(activation, x);
      }
  });
  // out_e = W2_e act_e + b2_e: row blocks of d.
  run_phase(phase_tasks(plan, {d}), [&](const RowTask& task) {
    const Block b = expert_block(plan, task.expert);
    const std::size_t m = task.r1 - task.r0;
    T* O = out + b.offset * d + task.r0;
    gemm(false, false, int(m), int(b.n), int(f), T(1), w.W2 + task.expert * d * f + task.r0, int(d),
         act + b.offset * f, int(f), T(0), O, int(d));
    const T* bias = w.b2 + task.expert * d + task.r0;
    for (std::size_t j = 0; j < b.n; ++j)
      for (std::size_t r = 0; r < m; ++r) O[j * d + r] += bias[r];
  });
  // Combine, token by token, slots in order.
#pragma omp parallel for schedule(static)
  for (long t = 0; t < long(plan.tokens); ++t) {
    T* y = Y + std::size_t(t) * d;
    if (residual) std::memcpy(y, X + std::size_t(t) * d, d * sizeof(T));
    else std::fill(y, y + d, T(0));
    for (std::size_t s = 0; s < plan.k; ++s) {
      const std::int64_t pos = plan.slot_position[std::size_t(t) * plan.k + s];
      if (pos < 0) continue;
      const T weight = sorted_weight[pos];
      const T* o = out + std::size_t(pos) * d;
      for (std::size_t r = 0; r < d; ++r) y[r] += weight * o[r];
    }
  }
}

template <class T>
void sparse_ffn_backward(const PlanView& plan, const T* sorted_weight, const ExpertWeights<T>& w,
                         FfnActivation activation, const T* dY, bool residual, T* dX, const ExpertGrads<T>& grads,
                         T* dweight, SparseFfnWorkspace<T>& ws, GradMode mode) {
  const std::size_t d = w.d, f = w.f, A = plan.assignments();
  const bool overwrite = mode == GradMode::overwrite;
  const T beta = overwrite ? T(0) : T(1);
  if (overwrite)  // experts without tokens get no task below: their gradients are zero
#pragma omp parallel for schedule(dynamic, 1)
    for (long e = 0; e < long(plan.experts); ++e)
      if (plan.expert_offsets[e + 1] == plan.expert_offsets[e]) {
        const std::size_t u = std::size_t(e);
        std::fill(grads.W1 + u * f * d, grads.W1 + (u + 1) * f * d, T(0));
        std::fill(grads.W2 + u * d * f, grads.W2 + (u + 1) * d * f, T(0));
        std::fill(grads.b1 + u * f, grads.b1 + (u + 1) * f, T(0));
        std::fill(grads.b2 + u * d, grads.b2 + (u + 1) * d, T(0));
      }
  const T* inputs = ws.inputs.data();
  const T* pre = ws.pre.data();
  const T* act = ws.act.data();
  const T* out = ws.out.data();
  T* dout = ws.dout.resize(d * A);
  T* dh = ws.dh.resize(f * A);
  T* dinputs = ws.dinputs.resize(d * A);
  // dout[:, i] = w_i dY[:, token_i]; dweight_i = dY[:, token_i] . out[:, i].
#pragma omp parallel for schedule(static)
  for (long i = 0; i < long(A); ++i) {
    const T* g = dY + std::size_t(plan.sorted_token[i]) * d;
    const T* o = out + std::size_t(i) * d;
    T* dst = dout + std::size_t(i) * d;
    const T weight = sorted_weight[i];
    T dot = 0;
    for (std::size_t r = 0; r < d; ++r) {
      dst[r] = weight * g[r];
      dot += g[r] * o[r];
    }
    dweight[i] = dot;
  }
  // Phase 1 (independent products): kind 0, dh = (W2_e' dout_e) .* act'(pre) and db1 (row blocks of f);
  // kind 1, dW2_e += dout_e act_e' and db2 (row blocks of d).
  // Both backward phases split the same outputs' rows (f rows, then d rows): one task list for the two.
  const std::vector<RowTask> tasks = phase_tasks(plan, {f, d});
  run_phase(tasks, [&](const RowTask& task) {
    const Block b = expert_block(plan, task.expert);
    const std::size_t m = task.r1 - task.r0, e = task.expert;
    if (task.kind == 0) {
      T* G = dh + b.offset * f + task.r0;
      gemm(true, false, int(m), int(b.n), int(d), T(1), w.W2 + e * d * f + task.r0 * d, int(d), dout + b.offset * d,
           int(d), T(0), G, int(f));
      const T* P = pre + b.offset * f + task.r0;
      T* db = grads.b1 + e * f + task.r0;
      if (overwrite) std::fill(db, db + m, T(0));
      for (std::size_t j = 0; j < b.n; ++j)
        for (std::size_t r = 0; r < m; ++r) {
          const T g = G[j * f + r] * moe::activation_derivative(activation, P[j * f + r]);
          G[j * f + r] = g;
          db[r] += g;
        }
    } else {
      const T* D = dout + b.offset * d + task.r0;
      gemm(false, true, int(m), int(f), int(b.n), T(1), D, int(d), act + b.offset * f, int(f), beta,
           grads.W2 + e * d * f + task.r0, int(d));
      T* db = grads.b2 + e * d + task.r0;
      if (overwrite) std::fill(db, db + m, T(0));
      for (std::size_t j = 0; j < b.n; ++j)
        for (std::size_t r = 0; r < m; ++r) db[r] += D[j * d + r];
    }
  });
  // Phase 2: kind 0, dW1_e += dh_e inputs_e' (row blocks of f); kind 1, dinputs_e = W1_e' dh_e (rows of d).
  run_phase(tasks, [&](const RowTask& task) {
    const Block b = expert_block(plan, task.expert);
    const std::size_t m = task.r1 - task.r0, e = task.expert;
    if (task.kind == 0)
      gemm(false, true, int(m), int(d), int(b.n), T(1), dh + b.offset * f + task.r0, int(f), inputs + b.offset * d,
           int(d), beta, grads.W1 + e * f * d + task.r0, int(f));
    else
      gemm(true, false, int(m), int(b.n), int(f), T(1), w.W1 + e * f * d + task.r0 * f, int(f), dh + b.offset * f,
           int(f), T(0), dinputs + b.offset * d + task.r0, int(d));
  });
  // Scatter, token by token, slots in order.
#pragma omp parallel for schedule(static)
  for (long t = 0; t < long(plan.tokens); ++t) {
    T* dx = dX + std::size_t(t) * d;
    if (residual) std::memcpy(dx, dY + std::size_t(t) * d, d * sizeof(T));
    else std::fill(dx, dx + d, T(0));
    for (std::size_t s = 0; s < plan.k; ++s) {
      const std::int64_t pos = plan.slot_position[std::size_t(t) * plan.k + s];
      if (pos < 0) continue;
      const T* g = dinputs + std::size_t(pos) * d;
      for (std::size_t r = 0; r < d; ++r) dx[r] += g[r];
    }
  }
}

template void sparse_ffn_forward<float>(const PlanView&, const float*, const ExpertWeights<float>&, FfnActivation,
                                        const float*, bool, float*, SparseFfnWorkspace<float>&);
template void sparse_ffn_forward<double>(const PlanView&, const double*, const ExpertWeights<double>&, FfnActivation,
                                         const double*, bool, double*, SparseFfnWorkspace<double>&);
template void sparse_ffn_backward<float>(const PlanView&, const float*, const ExpertWeights<float>&, FfnActivation,
                                         const float*, bool, float*, const ExpertGrads<float>&, float*,
                                         SparseFfnWorkspace<float>&, GradMode);
template void sparse_ffn_backward<double>(const PlanView&, const double*, const ExpertWeights<double>&, FfnActivation,
                                          const double*, bool, double*, const ExpertGrads<double>&, double*,
                                          SparseFfnWorkspace<double>&, GradMode);

}  // namespace moe::kernels
