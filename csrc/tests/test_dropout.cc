// The dropout noise: values, keep rate, determinism. (Equality with numpy's PCG64 stream is
// tested from Python, against numpy itself: tests/test_fused.py::test_dropout_noise_is_numpys.)
#include <vector>

#include "check.h"
#include "kernels/dropout.h"

using namespace lamina;

TEST(uniform_floats_lie_in_zero_one_on_the_float32_grid) {
  std::vector<float> u(100000);
  uniform_floats({1, 2, 3, 5}, u.data(), static_cast<int64_t>(u.size()));
  double sum = 0.0;
  for (float v : u) {
    CHECK(v >= 0.0f && v < 1.0f);
    CHECK(v * 16777216.0f == static_cast<float>(static_cast<int64_t>(v * 16777216.0f)));
    sum += v;
  }
  CHECK_CLOSE(sum / u.size(), 0.5, 0.01);
}

TEST(the_same_seed_gives_the_same_stream_and_a_prefix_of_a_longer_one) {
  std::vector<float> a(33), b(64), c(33);
  uniform_floats({7, 8, 9, 11}, a.data(), 33);
  uniform_floats({7, 8, 9, 11}, b.data(), 64);
  uniform_floats({7, 8, 9, 13}, c.data(), 33);
  for (int i = 0; i < 33; ++i) CHECK(a[i] == b[i]);
  int same = 0;
  for (int i = 0; i < 33; ++i) same += a[i] == c[i];
  CHECK(same < 3);  // another increment is another stream
}

TEST(dropout_mask_keeps_about_keep_of_the_values_scaled_by_one_over_keep) {
  for (float keep : {0.1f, 0.5f, 0.75f, 0.999f}) {
    std::vector<float> mask(200000);
    dropout_mask({0, 42, 0, 1}, keep, mask.data(), static_cast<int64_t>(mask.size()));
    int64_t kept = 0;
    for (float m : mask) {
      CHECK(m == 0.0f || m == 1.0f / keep);
      kept += m != 0.0f;
    }
    CHECK_CLOSE(static_cast<double>(kept) / mask.size(), keep, 0.005);
  }
}

TEST(a_long_mask_is_the_same_whatever_the_thread_count) {
  // Long masks are drawn in chunks by several threads, each jumping ahead in the stream.
  std::vector<float> one(100001), two(100001);
  lamina::set_num_threads(1);
  dropout_mask({3, 1, 4, 1}, 0.6f, one.data(), static_cast<int64_t>(one.size()));
  lamina::set_num_threads(2);
  dropout_mask({3, 1, 4, 1}, 0.6f, two.data(), static_cast<int64_t>(two.size()));
  CHECK(one == two);
}

int main() { return lamina_test::run_all(); }
