// Time per step of FusedTrainer::train_epoch, the C++ alone (no Python), for the guide model
// (784 -> 32 relu -> 10 softmax, categorical cross-entropy, SGD 0.1, batch 32) or another
// dense stack, on N random samples, at each thread count given, rounds interleaved so machine
// load affects every thread count alike; prints the best round of each.
//
// Build against a kernels library built by CMake (any build dir), from the repository root:
//   g++ -O2 -std=c++17 -Icsrc bench/fused_step.cc build/<dir>/liblamina_kernels.a -lpthread \
//       -o /tmp/fused_step
//   /tmp/fused_step [--samples 60000] [--rounds 5] [--threads 1,2] [--widths 784,32,10]
//                   [--batch 32] [--chunk 16] [--adam] [--sequential]
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <new>
#include <vector>

#include "kernels/fused_trainer.h"
#include "runtime/thread_pool.h"

using namespace lamina;

namespace {

// A float array on 2 MB-aligned memory with MADV_HUGEPAGE (where the system allows it).
class HugeBuffer {
 public:
  explicit HugeBuffer(size_t n) : n_(n) {
    const size_t bytes = (n * sizeof(float) + kHuge - 1) / kHuge * kHuge;
    data_ = static_cast<float*>(std::aligned_alloc(kHuge, bytes));
    if (!data_) throw std::bad_alloc();
    if (std::getenv("NO_HUGE") == nullptr) madvise(data_, bytes, MADV_HUGEPAGE);
  }
  ~HugeBuffer() { std::free(data_); }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  float* data() { return data_; }
  const float* data() const { return data_; }
  float* begin() { return data_; }
  float* end() { return data_ + n_; }

 private:
  static constexpr size_t kHuge = size_t{2} << 20;
  float* data_;
  size_t n_;
};

std::vector<int64_t> parse_list(const char* text) {
  std::vector<int64_t> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) values.push_back(std::atoll(item.c_str()));
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t samples = 60000, rounds = 5, batch = 32, chunk = 16;
  std::vector<int64_t> threads = {1, 2}, widths = {784, 32, 10};
  bool adam = false, sequential = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : "";
    if (arg == "--samples") samples = std::atoll(next), ++i;
    else if (arg == "--rounds") rounds = std::atoll(next), ++i;
    else if (arg == "--batch") batch = std::atoll(next), ++i;
    else if (arg == "--chunk") chunk = std::max<int64_t>(1, std::atoll(next)), ++i;
    else if (arg == "--threads") threads = parse_list(next), ++i;
    else if (arg == "--widths") widths = parse_list(next), ++i;
    else if (arg == "--adam") adam = true;
    else if (arg == "--sequential") sequential = true;  // no shuffle: rows read in order
    else { std::fprintf(stderr, "unknown argument %s\n", arg.c_str()); return 2; }
  }

  std::mt19937 gen(0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t in = widths.front(), classes = widths.back();
  // Huge pages, as numpy asks for them (madvise) for arrays of 4 MB and more: a shuffled
  // epoch's rows would otherwise cost a TLB miss each.
  HugeBuffer x(static_cast<size_t>(samples * in));
  for (float& v : x) v = normal(gen);
  std::vector<float> y(static_cast<size_t>(samples * classes), 0.0f);
  for (int64_t r = 0; r < samples; ++r) y[r * classes + gen() % classes] = 1.0f;

  // Weights and slots, one set per thread count so every run trains from the same start.
  struct Run {
    std::vector<std::vector<float>> buffers;
    FusedTrainer* trainer = nullptr;
    OptimizerState state;
    double best = 1e30;
    std::vector<double> chunks;  // seconds per step of each timed chunk
  };
  std::vector<Run> runs(threads.size());
  for (Run& run : runs) {
    std::mt19937 wgen(1);
    FusedPlan plan;
    plan.loss = LossKind::categorical_crossentropy;
    plan.metrics = {MetricKind::categorical_accuracy};
    plan.max_batch = batch;
    plan.optimizer.kind = adam ? OptimizerKind::adam : OptimizerKind::sgd;
    const int slots = optimizer_slot_count(plan.optimizer.kind, false);
    run.buffers.reserve(widths.size() * 8);
    for (size_t l = 0; l + 1 < widths.size(); ++l) {
      Stage s;
      s.in = widths[l];
      s.out = widths[l + 1];
      s.act = l + 2 < widths.size() ? Activation::relu : Activation::linear;
      const float limit = std::sqrt(6.0f / static_cast<float>(s.in + s.out));
      std::uniform_real_distribution<float> uniform(-limit, limit);
      run.buffers.emplace_back(static_cast<size_t>(s.in * s.out));
      for (float& v : run.buffers.back()) v = uniform(wgen);
      s.kernel = run.buffers.back().data();
      run.buffers.emplace_back(static_cast<size_t>(s.out), 0.0f);
      s.bias = run.buffers.back().data();
      for (int k = 0; k < slots; ++k) {
        run.buffers.emplace_back(static_cast<size_t>(s.in * s.out), 0.0f);
        s.kernel_slots[k] = run.buffers.back().data();
        run.buffers.emplace_back(static_cast<size_t>(s.out), 0.0f);
        s.bias_slots[k] = run.buffers.back().data();
      }
      plan.stages.push_back(s);
    }
    Stage softmax;
    softmax.kind = StageKind::softmax;
    softmax.in = softmax.out = classes;
    plan.stages.push_back(softmax);
    run.trainer = new FusedTrainer(plan);
  }

  std::vector<int64_t> order(static_cast<size_t>(samples));
  std::iota(order.begin(), order.end(), 0);
  const int64_t steps = (samples + batch - 1) / batch;
  std::vector<double> out(static_cast<size_t>(steps * 2));
  const double lr = adam ? 1e-3 : 0.1;
  for (int64_t round = 0; round < rounds; ++round) {
    for (size_t t = 0; t < threads.size(); ++t) {
      set_num_threads(static_cast<int>(threads[t]));
      if (!sequential) std::shuffle(order.begin(), order.end(), gen);
      // The epoch in chunks of `chunk` steps, each timed alone: on a shared machine the best
      // chunks show the speed when nothing else ran (the whole epoch's time is also kept).
      const auto epoch_start = std::chrono::steady_clock::now();
      for (int64_t first = 0; first < steps; first += chunk) {
        const int64_t begin = first * batch, end = std::min(samples, (first + chunk) * batch);
        const auto start = std::chrono::steady_clock::now();
        runs[t].trainer->train_epoch(x.data(), y.data(), nullptr, order.data() + begin,
                                     end - begin, batch, nullptr, lr, &runs[t].state,
                                     out.data() + first * 2);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (end - begin == chunk * batch) runs[t].chunks.push_back(seconds / chunk);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      runs[t].best = std::min(runs[t].best, seconds);
    }
  }
  for (size_t t = 0; t < threads.size(); ++t) {
    std::vector<double>& c = runs[t].chunks;
    std::sort(c.begin(), c.end());
    const double fastest = c.empty() ? 0.0 : c[c.size() / 20];  // 5th percentile
    const double median = c.empty() ? 0.0 : c[c.size() / 2];
    std::printf("threads %lld: epoch %7.1f us/step %10.0f samples/s | chunks of %lld steps: "
                "min %6.1f  p5 %6.1f  median %6.1f us/step (p5 %.0f samples/s)\n",
                static_cast<long long>(threads[t]), 1e6 * runs[t].best / steps,
                samples / runs[t].best, static_cast<long long>(chunk), c.empty() ? 0.0 : 1e6 * c.front(), 1e6 * fastest,
                1e6 * median, fastest > 0 ? batch / fastest : 0.0);
    delete runs[t].trainer;
  }
  return 0;
}
