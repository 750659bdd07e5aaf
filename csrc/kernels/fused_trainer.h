// A whole training step of a stack of dense layers in one call: forward, loss, metrics,
// backward and the optimizer update, composed from the dense, softmax, cross-entropy and
// optimizer kernels, with TF.js's formulas (the same ones the Python tape path uses).
//
// The plan is built once: layer shapes, activations, loss, metrics, optimizer, and pointers
// to the weight and slot buffers, which the trainer updates in place (the caller owns them
// and keeps them alive). Every workspace is allocated in the constructor for `max_batch`
// rows; nothing is allocated per step.
//
// The model is a list of stages:
//   dense       Y = act(X·W + b)          (b may be null)
//   activation  Y = act(X)                 (an Activation layer)
//   dropout     Y = X ⊙ M while training, X otherwise; M = floor(U + keep) / keep with U the
//               float32 noise of a numpy PCG64 generator whose state the caller gives per
//               step (kernels/dropout.h), so the masks are the tape path's
//   softmax     Y = softmax(X) row-wise    (only as the last stage)
// Every call runs with denormal floats flushed to zero (x86 FTZ/DAZ, on the calling thread and
// on the pool's threads while they work for it), as TensorFlow's runtime runs: values under
// 1.2e-38 in magnitude count as 0. Without it Adam's moments for weights whose gradient stays
// 0 (the always-blank border pixels of MNIST) decay into that range within a few hundred steps,
// where every operation on them costs a hundred cycles: a guide-sized model with Adam went
// from 37 to 200 us per step. The tape path (numpy) does not flush; the two differ by those
// tiny values only.
//
// The loss of one batch of n rows with per-row weights w_r (1 when none are given) is
//   L = (1/n)·Σ_r w_r·loss_r + Σ_weights (l1·Σ|w| + l2·Σw²),
// the penalties being the dense stages' L1L2 regularizers (d|w|/dw = 1 where w > 0 and -1
// elsewhere, as TF.js's abs); evaluation reports the mean loss without them, as TF.js.
// loss_r as TF.js's Layers losses (categoricalCrossentropy normalises then clips the
// probabilities at ε = 1e-7; sparse clips first; binary clips then takes logits; mse is the
// mean of squares over the row). Metrics are the unweighted batch means of their per-row
// values, computed from the same forward pass, before the update.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/activations.h"
#include "kernels/dropout.h"

namespace lamina {

enum class StageKind { dense, activation, dropout, softmax };

enum class LossKind {
  categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
  mean_squared_error, mean_absolute_error
};

// A metric is an accuracy or the per-row value of a loss (unweighted, no gradient).
enum class MetricKind {
  binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
  categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
  mean_squared_error, mean_absolute_error
};

enum class OptimizerKind { sgd, momentum, adam, adamax, rmsprop, adagrad, adadelta };

// How many slot buffers each variable has under each optimizer (TF.js's slot kinds):
// sgd 0, momentum 1, adam 2 (m, v), adamax 2 (m, u), rmsprop 2 or 3 (rms, momentum[, mg]),
// adagrad 1, adadelta 2 (accum_grad, accum_update).
int optimizer_slot_count(OptimizerKind kind, bool centered);

struct Stage {
  StageKind kind = StageKind::dense;
  Activation act = Activation::linear;
  int64_t in = 0, out = 0;        // widths (equal for activation and softmax)
  float* kernel = nullptr;        // dense: [in, out]
  float* bias = nullptr;          // dense: [out] or null
  float* kernel_slots[3] = {};    // optimizer slots, each shaped as the kernel
  float* bias_slots[3] = {};
  float kernel_l1 = 0.0f, kernel_l2 = 0.0f;  // dense: L1L2 regularizer rates (0: none)
  float bias_l1 = 0.0f, bias_l2 = 0.0f;
  float keep = 1.0f;              // dropout: 1 - rate, in (0, 1)
};

// Hyperparameters that stay fixed for a plan (the learning rate is given per call).
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;  // adam, adamax; epsilon also rmsprop/adagrad/adadelta
  double momentum = 0.0;                              // momentum, rmsprop
  double decay = 0.0;                                 // adamax decay; rmsprop decay (ρ)
  double rho = 0.95;                                  // adadelta
  bool nesterov = false, centered = false;
};

// What advances from step to step, read and written by every training call, so the caller's
// optimizer object always shows the state after the last step:
//   iterations += 1 per step; Adam: beta1_power ← f32(beta1_power·f32(β1)), likewise β2;
//   Adamax: beta1_power likewise (step t = iterations + 1 is passed to the kernel).
struct OptimizerState {
  int64_t iterations = 0;
  float beta1_power = 1.0f, beta2_power = 1.0f;
};

// How a training step uses the thread pool.
//   kernels  each kernel (GEMM, activation, update) splits its own work over the pool: one
//            handoff per kernel, which pays for large layers.
//   rows     the batch rows are split into one contiguous run per thread ("lane"); each lane
//            runs forward, loss and backward on its rows with the kernels on its own thread
//            (one handoff per step), then the lanes' weight gradients are summed in lane
//            order and the update runs. Meant for small layers, where a handoff per kernel
//            costs more than it saves.
//   automatic  kernels, except when the first stage is a dense layer with at least
//            kInputSplitMinWidth inputs and either at most kInputSplitNarrowOutputs outputs,
//            or at most kInputSplitMaxOutputs outputs and a batch of at most
//            kInputSplitMaxCells output values: that layer's input features (the rows of its
//            kernel) are then split into one contiguous run per thread ("input split"). Each
//            thread gathers its columns of the batch and multiplies them by its rows of the
//            kernel; the caller runs the rest of the step alone on the summed partial
//            products (while the others prefetch their columns of the next batch); then each
//            thread computes and applies the gradient of its kernel rows. Two handoffs per
//            step; a thread's kernel rows and optimizer slots stay in its core's cache and
//            only the partial products cross between cores.
//            Rows split is not chosen automatically: measured on the shared 2-core VM (guide
//            model, bench/fused_step.cc, interleaved, under load from other processes) it was
//            2-4 us/step slower than kernels at 2 threads (45 vs 42 us; input split now takes
//            27): the weights written by the update on one core must move to the other
//            core's cache every step, and a busy machine deschedules the second lane.
// Either way results are identical run to run for the same thread count; rows split differs
// from one thread only in the rounding of the gradient sums over rows, input split only in
// the rounding of the first layer's sum over its inputs (the partial products are added in
// thread order).
enum class Parallelism { automatic, kernels, rows };

// With rows split, the lanes' gradients are summed and the update applied in parallel (one
// more handoff) from this many parameters on; below it the caller does both alone.
constexpr int64_t kParallelUpdateMin = 65536;
// A step input split does not take runs all its kernels on the calling thread below this
// many flops (≈ 6·rows·parameters), where one thread beat two on the 2-core machine
// (bench/scaling.py before input split: width 32 up to batch 128, width 256 at batch 8).
constexpr double kSerialStepFlops = 25e6;
// Where input split beats one thread and the per-kernel split (bench/scaling.py, 784 inputs,
// 2 threads): the guide model (32 outputs, batch 32) 37 -> 27 us per step; 32 outputs at
// batch 1024 and 256 outputs at batch 32 about 1.7x and 1.5x the per-kernel split; 1024
// outputs gain at batch 8 to 64 (1.3-1.4x) and lose at 128 and more (3-11%: the kernel rows,
// partial products and activations of a thread outgrow its 2 MB L2); 4096 outputs lose even
// at batch 8 (15%).
constexpr int64_t kInputSplitMinWidth = 256;
constexpr int64_t kInputSplitNarrowOutputs = 256;
constexpr int64_t kInputSplitMaxOutputs = 2048;
constexpr int64_t kInputSplitMaxCells = 65536;

struct FusedPlan {
  std::vector<Stage> stages;
  LossKind loss = LossKind::mean_squared_error;
  std::vector<MetricKind> metrics;
  OptimizerConfig optimizer;
  int64_t max_batch = 32;
  bool train = true;  // false: forward only (evaluate/predict); no gradient workspaces
  Parallelism parallelism = Parallelism::automatic;
};

class FusedTrainer {
 public:
  // Throws std::invalid_argument for an empty plan, max_batch < 1, or sparse metrics with a
  // non-sparse loss (or the reverse): their labels have different row lengths.
  explicit FusedTrainer(FusedPlan plan);

  int64_t input_width() const { return plan_.stages.front().in; }
  int64_t output_width() const { return plan_.stages.back().out; }
  int64_t max_batch() const { return plan_.max_batch; }
  int64_t metric_count() const { return static_cast<int64_t>(plan_.metrics.size()); }
  // Dropout stages: each training step takes one noise seed per dropout stage, in stage order.
  int64_t dropout_count() const { return static_cast<int64_t>(masks_.size()); }
  // Columns of y: the output width, or 1 for sparse categorical labels.
  int64_t label_width() const;

  // One optimizer step on rows x [rows, in], y [rows, label_width], weights [rows] or null,
  // 1 <= rows <= max_batch, with seeds[dropout_count()] (null when there are none).
  // out[0] = L (before the update), out[1 + k] = metric k's mean.
  void train_batch(const float* x, const float* y, const float* weights, int64_t rows,
                   const Pcg64Seed* seeds, double learning_rate, OptimizerState* state,
                   double* out);

  // A whole epoch: batch b holds rows order[b·batch_size ...] of x, y and weights (gathered
  // here), the last batch smaller, and takes seeds[b·dropout_count() ...]. out is
  // [batches, 1 + metrics], one train_batch result per batch. Needs batch_size <= max_batch
  // and every order[i] in [0, x_rows).
  void train_epoch(const float* x, const float* y, const float* weights, const int64_t* order,
                   int64_t n, int64_t batch_size, const Pcg64Seed* seeds, double learning_rate,
                   OptimizerState* state, double* out);

  // Forward only (no dropout, no update): out as train_batch, for rows <= max_batch.
  void evaluate_batch(const float* x, const float* y, const float* weights, int64_t rows,
                      double* out);

  // evaluate_batch on consecutive batches of batch_size rows (the last one smaller) of
  // x [rows, in]: out is [batches, 1 + metrics]. Needs batch_size <= max_batch.
  void evaluate_batches(const float* x, const float* y, const float* weights, int64_t rows,
                        int64_t batch_size, double* out);

  // The model's output for rows of x, [rows, output_width], in chunks of max_batch rows.
  void predict(const float* x, int64_t rows, float* out);

 private:
  // One thread's workspaces: stage outputs, gradients and gathered rows for `capacity` rows.
  // Lane 0 holds max_batch rows and serves the whole batch when the rows are not split.
  struct Lane {
    int64_t capacity = 0;
    std::vector<std::vector<float>> outputs;  // per stage: [capacity, out]
    std::vector<std::vector<float>> pre;      // dense stages whose backward needs z
    std::vector<std::vector<float>> grad_kernel, grad_bias;
    std::vector<float> grad_a, grad_b;        // ping-pong dY / dX buffers, [capacity, widest]
    std::vector<float> dz_scratch;            // dense_backward's dZ, [capacity, widest]
    std::vector<float> gather_x, gather_y, gather_w;
  };
  // Rows [begin, end) of one batch, read from x/y/weights at those rows (train_batch), or
  // gathered from order[begin, end) of the whole arrays (train_epoch, order non-null).
  struct Batch {
    const float* x;
    const float* y;
    const float* weights;
    const int64_t* order;  // null: x, y, weights are the batch itself
    int64_t rows;          // rows in the whole batch
    const int64_t* next_order;  // train_epoch: the next batch's rows, to prefetch; or null
    int64_t next_rows;
    const Pcg64Seed* seeds;     // one per dropout stage, or null when there are none
  };

  // One thread's share of an input-split step: inputs [begin, end) of the first layer.
  struct InputPart {
    int64_t begin = 0, end = 0;
    std::vector<float> x;        // its columns of the gathered batch, [max_batch, end - begin]
    std::vector<float> partial;  // X[:, begin:end]·W[begin:end, :], [max_batch, first out]
    const float* x_used = nullptr;  // the columns this step multiplied (x or in place)
    int64_t ld = 0;
  };

  void allocate_lane(Lane& lane, int64_t capacity) const;
  int lanes_for(int64_t rows);
  int input_parts_for(int64_t rows);
  void input_split_step(const Batch& batch, int parts, double learning_rate,
                        OptimizerState* state, double* out);
  void gather_labels(Lane& lane, const Batch& batch, int64_t begin, int64_t end,
                     const float** y, const float** weights);
  void run_lane(Lane& lane, const Batch& batch, int64_t begin, int64_t end);
  void step(const Batch& batch, double learning_rate, OptimizerState* state, double* out);
  // Stages first.. (x is stage first's input when first == 0); training: dropout stages apply
  // rows [offset, offset + rows) of their masks.
  void forward(Lane& lane, const float* x, int64_t rows, int64_t offset, bool training,
               size_t first = 0);
  // Visits every parameter buffer: fn(w, gradient, slots, size, l1, l2).
  template <class Fn>
  void for_each_parameter(Fn&& fn);
  void apply_update(float* w, const float* g, float* const* slots, int64_t begin, int64_t end,
                    double learning_rate, const OptimizerState& state) const;
  // Returns the slice's penalty (before the update), for the reported loss.
  static double add_penalty_gradient(const float* w, float* g, int64_t begin, int64_t end, float l1,
                                   float l2);
  void row_values(const Lane& lane, const float* y, int64_t rows, int64_t offset);
  void sum_values(bool weighted, int64_t rows, double* out) const;
  // Stages down to `lowest` (the first dense stage when -1); returns the gradient with
  // respect to stage lowest's input when it was computed (lowest above the first dense stage).
  float* backward(Lane& lane, const float* x, const float* y, const float* weights, int64_t rows,
                  int64_t offset, int64_t batch_rows, int lowest = -1);
  void sum_gradients(int lanes, int part, int parts);
  // Penalty gradients and the optimizer step on this part's slice of every buffer; returns
  // the slice's penalty (computed from the weights before the step).
  double update(double learning_rate, const OptimizerState& state, int part, int parts);
  static void advance(const OptimizerConfig& c, OptimizerState* state);

  FusedPlan plan_;
  int64_t widest_ = 1;
  int64_t parameter_count_ = 0;
  std::vector<Lane> lanes_;                 // lanes_[0] always; more when rows are split
  std::vector<float> row_loss_;             // [max_batch]
  std::vector<float> row_weight_;           // [max_batch], when weights are given
  std::vector<float> row_metrics_;          // [metrics, max_batch]
  std::vector<int32_t> labels_;             // sparse labels as class indices, [max_batch]
  std::vector<std::vector<float>> masks_;   // per dropout stage: [max_batch, width]
  std::vector<int> mask_of_stage_;          // per stage: its index in masks_, or -1
  std::vector<InputPart> input_parts_;      // input split: one per thread, made on first use
};

}  // namespace lamina
