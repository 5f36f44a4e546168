#pragma once
// The compute backend of the sparse family: one interface, written against by the networks around the
// sparse MoE layer, implemented once per place the numbers live (cpu_backend.hpp: OpenBLAS + OpenMP in
// double, the oracle, or float). The backend owns its tensors (tensor.hpp); parameters, gradients and
// optimiser state stay in its memory from the first training step to the last, and the host reads back
// scalars only (download), at the points the caller chooses.
//
// Conventions (every op):
//   - Tensors are column-major, one token or example per column; shapes are stated per op. An op checks
//     the shapes and dtypes of its arguments and throws moe::Error naming the op on a mismatch.
//   - Every tensor an op reads or writes belongs to this backend.
//   - Reductions (sums over tokens, losses, norms) have one fixed order that depends on the shapes only,
//     so results are the same for any thread count; no op accumulates with atomics.
//   - "accumulate" outputs are added to (gradients after zero_grad, running sums), others overwritten.
//   - Scalars that stay on the backend (a loss sum, a norm) are 1 x 1 real tensors.
// The list of ops with their shapes and error bounds against the double oracle is
// tests/backend/backend_op_cases.hpp.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moe/backend/ffn_activation.hpp"
#include "moe/backend/tensor.hpp"

namespace moe {

// The element type a backend computes in. bf16: matrix products take bf16 operands with float
// accumulation; tensors, master weights and everything else stay float.
enum class Precision { f64, f32, bf16 };
std::string precision_name(Precision p);         // "double" | "float" | "bf16"
Precision parse_precision(const std::string& s);  // throws moe::Error on another name

// Expert parallelism: an op's T tokens are one shard of a batch split over processes. sum() replaces n
// host values by their sums over every shard; it is collective (every shard makes the same calls in the
// same order). The balancing losses and the bias update take one: their per-expert sums and token counts
// are then the batch's, so every shard gets the batch's value and its own tokens' part of the gradient.
class ShardSum {
 public:
  virtual ~ShardSum() = default;
  virtual void sum(double* x, std::size_t n) const = 0;
};

// A routing plan in a backend's memory (the layout of moe/backend/routing_plan.hpp, T tokens, E experts,
// k slots per token, A <= T k kept assignments). The router ops write slot_expert and slot_weight;
// build_plan writes the rest.
struct DevicePlan {
  std::size_t tokens = 0, experts = 0, k = 0;
  std::size_t capacity = 0;  // places per expert; 0: dropless
  Tensor slot_expert;        // i32  k x T  expert of slot s of token t, or -1 for an empty slot
  Tensor slot_weight;        // real k x T  combine weight (0 for an empty slot)
  Tensor slot_position;      // i64  k x T  column in the expert-sorted arrays, -1 for empty or dropped
  Tensor expert_offsets;     // i64  (E + 1) x 1: expert e owns sorted columns [offsets[e], offsets[e + 1])
  Tensor sorted_token;       // i32  T k x 1: the token of each sorted column (the first A are used)
  Tensor sorted_slot;        // i64  T k x 1: t k + s of each sorted column
  Tensor sorted_weight;      // real T k x 1: slot_weight of each sorted column
  // Expert parallelism with a capacity (host, k x E slot-major, or empty): how many claims of expert e
  // the other shards of the batch make ahead of this shard's slot-s claims (moe/sparse/token_shard.hpp).
  std::vector<std::int64_t> prior_claims;
};

// E FFN experts stored back to back (moe/backend/sparse_ffn_views.hpp): expert e's W1 is columns
// [e d, (e + 1) d) of W1, and so on. The same struct holds their gradients.
struct ExpertBank {
  Tensor W1;  // f x (d E)
  Tensor b1;  // f x E
  Tensor W2;  // d x (f E)
  Tensor b2;  // d x E
};

// What a backend keeps between an op's forward and its backward (e.g. the routed FFN's expert-sorted
// activations); created by the backend on first use, reused across steps.
class OpCache {
 public:
  virtual ~OpCache() = default;
};

struct AdamStep {
  double learning_rate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  long step = 1;  // 1-based: the bias corrections 1 - beta^step
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // e.g. "cpu-double", "cpu-float"
  virtual Precision precision() const = 0;
  std::size_t real_bytes() const { return precision() == Precision::f64 ? 8 : 4; }

  // ---- memory -------------------------------------------------------------------------------------
  // A new tensor, contents unspecified (every op that writes a tensor writes all of it).
  Tensor tensor(std::size_t rows, std::size_t cols, DType dtype = DType::real);
  Tensor zeros(std::size_t rows, std::size_t cols, DType dtype = DType::real);
  // Gives t this shape and dtype, keeping its storage when it is large enough (workspaces that are
  // reused every step allocate once); contents unspecified afterwards.
  void reshape(Tensor& t, std::size_t rows, std::size_t cols, DType dtype = DType::real);
  // Host <-> backend copies of whole tensors, converting from or to double (real tensors) or the
  // integer type (i32, i64). Host arrays are column-major with size() elements.
  virtual void upload(Tensor& dst, const double* src) = 0;
  virtual void upload(Tensor& dst, const std::int32_t* src) = 0;
  virtual void upload(Tensor& dst, const std::int64_t* src) = 0;
  virtual void download(const Tensor& src, double* dst) const = 0;
  virtual void download(const Tensor& src, std::int32_t* dst) const = 0;
  virtual void download(const Tensor& src, std::int64_t* dst) const = 0;
  std::vector<double> to_host(const Tensor& src) const;  // a real tensor's values
  double scalar(const Tensor& src) const;                 // a 1 x 1 real tensor's value
  virtual void fill(Tensor& t, double value) = 0;         // real tensors
  virtual void copy(const Tensor& src, Tensor& dst) = 0;  // same shape and dtype
  // dst = src's columns [first, first + dst.cols()) (real tensors, same rows).
  virtual void copy_columns(const Tensor& src, std::size_t first, Tensor& dst) = 0;
  // dst (rows x n) = src's columns idx[0..n) (idx: i64 n x 1, each below src.cols()): a minibatch gathered
  // from a data set kept in the backend's memory.
  virtual void gather_columns(const Tensor& src, const Tensor& idx, Tensor& dst) = 0;
  // Waits until every op issued so far has finished (a no-op where ops run synchronously).
  virtual void synchronize() {}

  // ---- dense algebra ------------------------------------------------------------------------------
  // C = alpha op(A) op(B) + beta C; op(A) m x n_k, op(B) n_k x n, C m x n.
  virtual void gemm(bool transpose_a, bool transpose_b, double alpha, const Tensor& A, const Tensor& B, double beta,
                    Tensor& C) = 0;
  virtual void add_columns(Tensor& Y, const Tensor& b) = 0;               // Y (m x n), b (m x 1): Y(:, j) += b
  virtual void sum_columns(const Tensor& X, double beta, Tensor& s) = 0;  // s (m x 1) = beta s + sum_j X(:, j)
  virtual void axpy(double alpha, const Tensor& x, Tensor& y) = 0;        // y += alpha x (same shape)
  virtual void scale(Tensor& x, double alpha) = 0;                        // x *= alpha
  // out = act(pre); dpre = act'(pre) .* dout (shapes equal).
  virtual void activation_forward(FfnActivation a, const Tensor& pre, Tensor& out) = 0;
  virtual void activation_backward(FfnActivation a, const Tensor& pre, const Tensor& dout, Tensor& dpre) = 0;
  virtual void sum_squares(const Tensor& x, Tensor& acc) = 0;  // acc (1 x 1) += sum of x's squares

  // ---- task losses --------------------------------------------------------------------------------
  // Z, Y: m x N (Y: nonnegative target weights, one-hot for a class). loss (1 x N) = -sum_i Y(i, n)
  // log softmax(Z(:, n))_i; with dZ: dZ = grad_scale (softmax(Z) sum_i Y(i, n) - Y).
  virtual void softmax_cross_entropy(const Tensor& Z, const Tensor& Y, double grad_scale, Tensor& loss,
                                     Tensor* dZ) = 0;
  // loss (1 x N) = |Z(:, n) - Y(:, n)|^2 / 2; with dZ: dZ = grad_scale (Z - Y).
  virtual void squared_error(const Tensor& Z, const Tensor& Y, double grad_scale, Tensor& loss, Tensor* dZ) = 0;
  // acc (1 x 1) += alpha sum of x's elements.
  virtual void sum_into(const Tensor& x, double alpha, Tensor& acc) = 0;
  // P (E x T) = softmax of each column of Z; lse (1 x T, optional) = each column's log-sum-exp.
  virtual void softmax_columns(const Tensor& Z, Tensor& P, Tensor* lse) = 0;
  // P (S x T) = softmax of each row of Z over its T entries (soft MoE's dispatch weights).
  virtual void softmax_rows(const Tensor& Z, Tensor& P) = 0;
  // The softmaxes' backward: dZ += P .* (dP - sum over the normalised dimension of P .* dP), by column or
  // by row.
  virtual void softmax_columns_backward(const Tensor& P, const Tensor& dP, Tensor& dZ) = 0;
  virtual void softmax_rows_backward(const Tensor& P, const Tensor& dP, Tensor& dZ) = 0;

  // ---- routing ------------------------------------------------------------------------------------
  // slot_expert (i32 k x T) = each column's k largest of scores (+ bias, E x 1, when given), best first,
  // ties to the lower expert index (moe/backend/topk.hpp).
  virtual void top_k(const Tensor& scores, const Tensor* bias, std::size_t k, Tensor& slot_expert) = 0;
  // w (k x T) = P(e_s, t), divided by the sum of P over the token's chosen experts when renormalize
  // (softmax over the top k); 0 for an empty slot (-1).
  virtual void slot_weights(const Tensor& P, const Tensor& slot_expert, bool renormalize, Tensor& w) = 0;
  // The gradient of slot_weights to the logits Z behind P = softmax(Z): dZ (E x T) += d(w . dw)/dZ.
  // The choice of experts is piecewise constant and carries none.
  virtual void slot_weights_backward(const Tensor& P, const Tensor& slot_expert, bool renormalize, const Tensor& dw,
                                     Tensor& dZ) = 0;
  // S (E x T) = 1 / (1 + exp(-Z)), element by element (the sigmoid router's scores).
  virtual void sigmoid(const Tensor& Z, Tensor& S) = 0;
  // The sigmoid router's weights from its logits Z (E x T): w_s = sigmoid(Z(e_s, t)), or, renormalised,
  // sigmoid(Z(e_s, t)) / sum over the token's chosen experts, computed as a softmax of log sigmoid over
  // them (finite where every score underflows); 0 for an empty slot.
  virtual void sigmoid_slot_weights(const Tensor& Z, const Tensor& slot_expert, bool renormalize, Tensor& w) = 0;
  // Its gradient to Z: dZ (E x T) += d(w . dw)/dZ; raw: g_j s_j (1 - s_j); renormalised:
  // (g_j - g . w) w_j (1 - s_j) on the chosen experts.
  virtual void sigmoid_slot_weights_backward(const Tensor& Z, const Tensor& slot_expert, bool renormalize,
                                             const Tensor& dw, Tensor& dZ) = 0;
  // Expert choice (Zhou et al. 2022): each expert takes the C tokens with its highest scores P(e, :)
  // (ties to the lower token), the whole batch at once. Sets plan.k to the most experts any token got
  // (at least 1; a size the host learns: the one sync of this router), and fills plan.slot_expert (experts
  // ascending inside a token, -1 padding) and plan.slot_weight (P(e, t), raw); plan.tokens, experts and
  // capacity (= C) set by the caller, then build_plan as for every router.
  virtual void expert_choice(const Tensor& P, std::size_t tokens_per_expert, DevicePlan& plan) = 0;
  // Balanced assignment (BASE layers): slot_expert (i32 1 x T) maximising the summed scores (E x T) with
  // at most `capacity` tokens per expert, by the auction algorithm of moe/backend/auction.hpp (within
  // E capacity eps of the optimum). Serial by nature: a GPU backend may run it on the host.
  virtual void balanced_assignment(const Tensor& scores, std::size_t capacity, double eps, Tensor& slot_expert) = 0;
  // GShard's random routing: slot_expert and slot_weight (2 x T) hold each token's top 2 with weights
  // normalised over both; the second is dropped (expert -1, weight 0) unless u_t < min(1, P(e2, t) /
  // (P(e1, t) + P(e2, t)) / threshold), u (1 x T) uniform draws. The weights' backward still normalises
  // over both experts (slot_weights_backward with the top 2 before the drop).
  virtual void random_second_choice(const Tensor& P, const Tensor& u, double threshold, Tensor& slot_expert,
                                    Tensor& slot_weight) = 0;
  // Noisy top-k (Shazeer et al. 2017): H = Z + eps .* softplus(N) (E x T each; eps standard normal draws).
  virtual void noisy_logits(const Tensor& Z, const Tensor& N, const Tensor& eps, Tensor& H) = 0;
  // Its gradient to N given dH: dN += dH .* eps .* sigmoid(N) (the gradient to Z is dH itself).
  virtual void noisy_logits_backward(const Tensor& N, const Tensor& eps, const Tensor& dH, Tensor& dN) = 0;
  // The smooth load loss of noisy top-k (moe/sparse/smooth_load_loss.hpp): load_i = sum_t Phi((Z(i, t) -
  // kth_excluding(H(:, t), k, i)) / softplus(N(i, t))), value CV(load)^2 into acc; dZ and dN (E x T) +=
  // weight times its gradients (through each term's own logit, its noise scale and the threshold entry).
  virtual void smooth_load_loss(const Tensor& Z, const Tensor& N, const Tensor& H, const Tensor& eps, std::size_t k,
                                double weight, Tensor& acc, Tensor& dZ, Tensor& dN, const ShardSum* shard = nullptr) = 0;
  // Hash routing: slot_expert (i32 1 x T) = mix(ids[t]) mod E, where ids (i64 T x 1) are the tokens'
  // ids (bit patterns as signed integers) and mix the splitmix64 finaliser of moe/sparse/hash_router.
  virtual void hash_experts(const Tensor& ids, std::size_t experts, Tensor& slot_expert) = 0;
  // Fills plan.slot_position ... sorted_weight from plan.slot_expert and plan.slot_weight (T, E, k and
  // capacity set by the caller): a stable counting sort by expert; with a capacity, slots claim places
  // in priority order (every token's slot 0 in token order, then every slot 1, ...) and a slot whose
  // expert is full is dropped. Throws moe::Error on an expert id out of range.
  virtual void build_plan(DevicePlan& plan) = 0;
  // The sums behind a step's routing statistics (moe/sparse/routing_stats.hpp), accumulated into sums
  // ((3 E + 2) x 1): per expert the kept assignments (load), the routed slots (kept + dropped) and the
  // routed slots' weights (importance); then the tokens none of whose slots was kept, and the tokens.
  virtual void routing_counts(const DevicePlan& plan, Tensor& sums) = 0;

  // Loss-free balancing (Wang et al. 2024): bias (E x 1) += rate sign(mean load - load_e), where load_e
  // counts the plan's slots naming expert e (kept or dropped).
  virtual void bias_update(const DevicePlan& plan, double rate, Tensor& bias, const ShardSum* shard = nullptr) = 0;

  // ---- the routed FFN experts (the sparse MoE layer's kernels) -------------------------------------
  // X, Y: d x T. Y = [X +] sum over t's kept slots, in slot order, w_s FFN_{e_s}(X(:, t)), where
  // FFN_e(x) = W2_e act(W1_e x + b1_e) + b2_e. The cache keeps what backward needs.
  virtual void routed_ffn_forward(const DevicePlan& plan, const ExpertBank& w, FfnActivation a, const Tensor& X,
                                  bool residual, Tensor& Y, std::unique_ptr<OpCache>& cache) = 0;
  // dY, dX: d x T (dX written: through the experts [and the residual]). grads: accumulate. dw (k x T,
  // written): dL/d slot_weight, 0 for empty and dropped slots.
  virtual void routed_ffn_backward(const DevicePlan& plan, const ExpertBank& w, FfnActivation a, const Tensor& dY,
                                   bool residual, Tensor& dX, ExpertBank& grads, Tensor& dw,
                                   std::unique_ptr<OpCache>& cache) = 0;

  // The combine of expert parallelism, whose expert outputs come back from other processes: outs (d x A)
  // holds the kept slots' expert outputs in the plan's sorted order (A = expert_offsets[E]); Y (d x T) +=
  // sum over t's kept slots, in slot order, w_s outs(:, position_s) (weighted false: weight 1, which also
  // scatters input gradients back to their tokens).
  virtual void combine_slots(const DevicePlan& plan, const Tensor& outs, bool weighted, Tensor& Y) = 0;
  // Its backward (weighted): douts (d x A, written) = w_s dY(:, t) at each kept slot's position; dw (k x T,
  // written) = dY(:, t) . outs(:, position_s), 0 for empty and dropped slots.
  virtual void combine_slots_backward(const DevicePlan& plan, const Tensor& outs, const Tensor& dY, Tensor& douts,
                                      Tensor& dw) = 0;

  // ---- balancing losses (values unweighted into acc; gradients weighted, accumulated) --------------
  // With a shard (expert parallelism), T and the per-expert sums are the whole batch's (ShardSum).
  // Switch: E sum_e f_e P_e, f_e = share of the T tokens whose largest logit is e, P_e = mean of P(e, :).
  // acc (1 x 1) += value; dZ (E x T) += weight d value / dZ (through P = softmax(Z); f has no gradient).
  virtual void switch_loss(const Tensor& Z, const Tensor& P, double weight, Tensor& acc, Tensor& dZ,
                           const ShardSum* shard = nullptr) = 0;
  // Importance loss (Shazeer et al. 2017): CV^2 (population variance / (mean^2 + 1e-10)) of
  // importance_e = the sum of the weights of the slots naming e (dropped ones included); 0 for E = 1.
  // acc += value; dw (k x T) += weight dCV^2/d slot_weight.
  virtual void importance_loss(const DevicePlan& plan, double weight, Tensor& acc, Tensor& dw,
                               const ShardSum* shard = nullptr) = 0;
  // z-loss: mean over tokens of lse(Z(:, t))^2. acc += value; dZ += weight 2 lse_t P(:, t) / T.
  virtual void z_loss(const Tensor& P, const Tensor& lse, double weight, Tensor& acc, Tensor& dZ,
                      const ShardSum* shard = nullptr) = 0;

  // ---- optimisers ---------------------------------------------------------------------------------
  // scale (1 x 1) = min(1, max_norm / sqrt(sumsq)) (1 when sumsq is 0): gradient-norm clipping without
  // a trip to the host.
  virtual void clip_factor(const Tensor& sumsq, double max_norm, Tensor& scale) = 0;
  // g' = g (times grad_scale's value when given). Adam with bias correction:
  //   m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;  w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
  virtual void adam(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, const AdamStep& step,
                    const Tensor* grad_scale) = 0;
  // Heavy ball: velocity = mu velocity - lr g'; w += velocity (mu = 0: plain gradient descent).
  virtual void momentum(Tensor& w, const Tensor& g, Tensor& velocity, double learning_rate, double mu,
                        const Tensor* grad_scale) = 0;

 protected:
  virtual void* allocate(std::size_t bytes) = 0;  // throws moe::Error when out of memory
  virtual void release(void* p) noexcept = 0;
  std::size_t bytes_of(DType dtype) const;

 private:
  friend class Tensor;
};

// Throws moe::Error "<op>: <what> is <shape>, expected <r> x <c>" unless t has that shape (and dtype).
void require_shape(const char* op, const char* what, const Tensor& t, std::size_t rows, std::size_t cols,
                   DType dtype = DType::real);

}  // namespace moe
