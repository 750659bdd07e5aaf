// Softmax family: every kernel, every ISA variant at 1 and 2 threads, against naive
// double-precision references over edge shapes; TF.js's observed values; bad sparse labels;
// identical bits run to run and across threads.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "kernels/softmax.h"

namespace {

using Vec = std::vector<float>;
using Ref = std::vector<double>;

const double kInf = std::numeric_limits<double>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

const int64_t kCols[] = {1, 7, 8, 9, 13, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000};
const int64_t kRows[] = {1, 3, 17};

Vec uniform(size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Vec v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Soft labels: each row random non-negative, summing to about 1.
Vec soft_labels(int64_t rows, int64_t cols, unsigned seed) {
  Vec t = uniform(static_cast<size_t>(rows * cols), 0.0f, 1.0f, seed);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += t[r * cols + j];
    for (int64_t j = 0; j < cols; ++j) t[r * cols + j] = static_cast<float>(t[r * cols + j] / sum);
  }
  return t;
}

std::vector<int32_t> class_labels(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(cols - 1));
  std::vector<int32_t> k(static_cast<size_t>(rows));
  for (int32_t& v : k) v = dist(rng);
  return k;
}

Vec one_hot(const std::vector<int32_t>& k, int64_t cols) {
  Vec t(k.size() * static_cast<size_t>(cols), 0.0f);
  for (size_t r = 0; r < k.size(); ++r) t[r * cols + k[r]] = 1.0f;
  return t;
}

// Checks every element within tol (relative, absolute near zero); reports the first few.
void expect_all_close(const Vec& got, const Ref& want, double tol, const std::string& what) {
  CHECK(got.size() == want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
    if (!lamina_test::close(got[i], want[i], tol) && ++bad <= 3) {
      lamina_test::fail(__FILE__, __LINE__,
                        what + "[" + std::to_string(i) + "]: got " + std::to_string(got[i]) +
                            " want " + std::to_string(want[i]));
    }
  }
}

bool same_bits(const Vec& a, const Vec& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// ---- double-precision references: the formulas of softmax.h, written out naively ----

Ref softmax_ref(const Vec& x, int64_t rows, int64_t cols) {
  Ref y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double m = -kInf, s = 0;
    for (int64_t j = 0; j < cols; ++j) m = std::fmax(m, x[r * cols + j]);
    for (int64_t j = 0; j < cols; ++j) s += std::exp(x[r * cols + j] - m);
    for (int64_t j = 0; j < cols; ++j) y[r * cols + j] = std::exp(x[r * cols + j] - m) / s;
  }
  return y;
}

Ref softmax_backward_ref(const Vec& y, const Vec& dy, int64_t rows, int64_t cols) {
  Ref dx(y.size());
  for (int64_t r = 0; r < rows; ++r) {
    double dot = 0;
    for (int64_t j = 0; j < cols; ++j) dot += double(dy[r * cols + j]) * y[r * cols + j];
    for (int64_t j = 0; j < cols; ++j) {
      dx[r * cols + j] = y[r * cols + j] * (double(dy[r * cols + j]) - dot);
    }
  }
  return dx;
}

void cross_entropy_ref(const Vec& z, const Vec& t, int64_t rows, int64_t cols, double scale,
                       Ref* loss, Ref* dz) {
  loss->assign(static_cast<size_t>(rows), 0.0);
  dz->assign(z.size(), 0.0);
  Ref p = softmax_ref(z, rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    double m = -kInf, s = 0, t_sum = 0, l = 0;
    for (int64_t j = 0; j < cols; ++j) m = std::fmax(m, z[r * cols + j]);
    for (int64_t j = 0; j < cols; ++j) s += std::exp(z[r * cols + j] - m);
    const double lse = m + std::log(s);
    for (int64_t j = 0; j < cols; ++j) {
      l -= t[r * cols + j] * (z[r * cols + j] - lse);
      t_sum += t[r * cols + j];
    }
    (*loss)[r] = l;
    for (int64_t j = 0; j < cols; ++j) {
      (*dz)[r * cols + j] = scale * (p[r * cols + j] * t_sum - t[r * cols + j]);
    }
  }
}

double clip_ref(double q, float lo, float hi) { return q > hi ? hi : (q < lo ? lo : q); }

// categoricalCrossentropy and its gradient, w_r = dloss[r]·scale.
void categorical_ref(const Vec& y, const Vec& t, const Vec& dloss, double scale, int64_t rows,
                     int64_t cols, double eps, Ref* loss, Ref* dy) {
  const float lo = static_cast<float>(eps), hi = static_cast<float>(1.0 - eps);
  loss->assign(static_cast<size_t>(rows), 0.0);
  dy->assign(y.size(), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0, l = 0, g_dot_y = 0;
    for (int64_t j = 0; j < cols; ++j) s += y[r * cols + j];
    Ref g(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j) {
      const double q = y[r * cols + j] / s, p = clip_ref(q, lo, hi);
      l -= t[r * cols + j] * std::log(p);
      g[j] = (q >= lo && q <= hi) ? -dloss[r] * scale * t[r * cols + j] / p : 0.0;
      g_dot_y += g[j] * y[r * cols + j];
    }
    (*loss)[r] = l;
    for (int64_t j = 0; j < cols; ++j) (*dy)[r * cols + j] = g[j] / s - g_dot_y / (s * s);
  }
}

void sparse_categorical_ref(const Vec& y, const std::vector<int32_t>& k, const Vec& dloss,
                            double scale, int64_t rows, int64_t cols, double eps, Ref* loss,
                            Ref* dy) {
  const float lo = static_cast<float>(eps), hi = static_cast<float>(1.0 - eps);
  loss->assign(static_cast<size_t>(rows), 0.0);
  dy->assign(y.size(), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) s += clip_ref(y[r * cols + j], lo, hi);
    const double c_k = clip_ref(y[r * cols + k[r]], lo, hi), q = c_k / s;
    (*loss)[r] = -std::log(clip_ref(q, lo, hi));
    const double g = (q >= lo && q <= hi) ? -dloss[r] * scale / clip_ref(q, lo, hi) : 0.0;
    for (int64_t j = 0; j < cols; ++j) {
      const double v = y[r * cols + j];
      const double dc = (j == k[r] ? g / s : 0.0) - g * c_k / (s * s);
      (*dy)[r * cols + j] = (v >= lo && v <= hi) ? dc : 0.0;
    }
  }
}

}  // namespace

TEST(softmax_forward_and_backward_match_reference) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    unsigned seed = 1;
    for (int64_t rows : kRows) {
      for (int64_t cols : kCols) {
        const size_t n = static_cast<size_t>(rows * cols);
        Vec x = uniform(n, -20.0f, 20.0f, seed++);
        Vec y(n), dy = uniform(n, -1.0f, 1.0f, seed++), dx(n);
        lamina::softmax_forward(x.data(), y.data(), rows, cols);
        expect_all_close(y, softmax_ref(x, rows, cols), 2e-6, "softmax " + std::to_string(cols));
        lamina::softmax_backward(y.data(), dy.data(), dx.data(), rows, cols);
        expect_all_close(dx, softmax_backward_ref(y, dy, rows, cols), 2e-6, "softmax_backward");
        // In place gives the same bits.
        Vec in_place = x;
        lamina::softmax_forward(in_place.data(), in_place.data(), rows, cols);
        CHECK(same_bits(in_place, y));
      }
    }
  });
}

TEST(softmax_extreme_logits) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    const float inf = std::numeric_limits<float>::infinity();
    // Rows: -inf entries, huge logits, a NaN row, a row of equal values.
    Vec x = {-inf, 0.0f, 1000.0f, 999.0f, 1.0f, kNaN, 2.0f, 3.0f, 5.0f, 5.0f, 5.0f, 5.0f};
    Vec y(x.size());
    lamina::softmax_forward(x.data(), y.data(), 3, 4);
    const double e = std::exp(-1.0);
    expect_all_close(Vec(y.begin(), y.begin() + 4), {0, 0, 1 / (1 + e), e / (1 + e)}, 2e-6,
                     "extreme");
    for (int j = 4; j < 8; ++j) CHECK(std::isnan(y[j]));
    for (int j = 8; j < 12; ++j) CHECK(y[j] == 0.25f);
  });
}

TEST(softmax_cross_entropy_matches_reference) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    unsigned seed = 100;
    for (int64_t rows : kRows) {
      for (int64_t cols : kCols) {
        const size_t n = static_cast<size_t>(rows * cols);
        Vec z = uniform(n, -10.0f, 10.0f, seed++);
        Vec t = soft_labels(rows, cols, seed++);
        // Unnormalised labels too: the gradient is then softmax·Σt - t.
        if (cols > 2) t[1] = 2.5f;
        const float scale = 0.25f;
        Ref want_loss, want_dz;
        cross_entropy_ref(z, t, rows, cols, scale, &want_loss, &want_dz);
        Vec loss(static_cast<size_t>(rows)), dz(n), loss_only(static_cast<size_t>(rows));
        lamina::softmax_cross_entropy(z.data(), t.data(), loss.data(), dz.data(), rows, cols, scale);
        expect_all_close(loss, want_loss, 1e-5, "xent loss " + std::to_string(cols));
        expect_all_close(dz, want_dz, 2e-6, "xent dlogits " + std::to_string(cols));
        lamina::softmax_cross_entropy(z.data(), t.data(), loss_only.data(), nullptr, rows, cols, scale);
        CHECK(same_bits(loss_only, loss));

        // Class-index labels give the same as their one-hot rows.
        std::vector<int32_t> k = class_labels(rows, cols, seed++);
        Vec hot = one_hot(k, cols);
        cross_entropy_ref(z, hot, rows, cols, scale, &want_loss, &want_dz);
        Vec sparse_loss(static_cast<size_t>(rows)), sparse_dz(n);
        CHECK(lamina::softmax_cross_entropy_sparse(z.data(), k.data(), sparse_loss.data(),
                                                   sparse_dz.data(), rows, cols, scale) == -1);
        expect_all_close(sparse_loss, want_loss, 1e-5, "sparse xent loss");
        expect_all_close(sparse_dz, want_dz, 2e-6, "sparse xent dlogits");
        lamina::softmax_cross_entropy(z.data(), hot.data(), loss.data(), dz.data(), rows, cols, scale);
        CHECK(same_bits(loss, sparse_loss));
        CHECK(same_bits(dz, sparse_dz));
      }
    }
  });
}

TEST(categorical_crossentropy_matches_reference) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    unsigned seed = 200;
    for (int64_t rows : kRows) {
      for (int64_t cols : kCols) {
        const size_t n = static_cast<size_t>(rows * cols);
        Vec y = uniform(n, 0.01f, 1.0f, seed++);
        // Entries that the clip catches: zero and negative probabilities, and a row that is
        // all in one class (p = 1 > 1 - eps).
        y[0] = 0.0f;
        if (cols > 3) y[2] = -0.5f;
        if (rows > 1) {
          for (int64_t j = 0; j < cols; ++j) y[cols + j] = j == 0 ? 3.0f : 0.0f;
        }
        Vec t = soft_labels(rows, cols, seed++);
        t[0] = 0.75f;  // a label on a clipped entry, and labels not summing to 1
        Vec dloss = uniform(static_cast<size_t>(rows), 0.5f, 2.0f, seed++);
        const float scale = 0.5f;
        Ref want_loss, want_dy;
        categorical_ref(y, t, dloss, scale, rows, cols, 1e-7, &want_loss, &want_dy);
        Vec loss(static_cast<size_t>(rows)), dy(n);
        lamina::categorical_crossentropy(y.data(), t.data(), loss.data(), rows, cols, 1e-7);
        expect_all_close(loss, want_loss, 1e-5, "cce loss " + std::to_string(cols));
        lamina::categorical_crossentropy_backward(y.data(), t.data(), dloss.data(), scale, dy.data(),
                                                  rows, cols, 1e-7);
        expect_all_close(dy, want_dy, 1e-5, "cce dprobs " + std::to_string(cols));
        // dloss = null means w_r = scale.
        Vec ones(static_cast<size_t>(rows), 1.0f), dy_scalar(n);
        categorical_ref(y, t, ones, scale, rows, cols, 1e-7, &want_loss, &want_dy);
        lamina::categorical_crossentropy_backward(y.data(), t.data(), nullptr, scale,
                                                  dy_scalar.data(), rows, cols, 1e-7);
        expect_all_close(dy_scalar, want_dy, 1e-5, "cce dprobs (scalar weight)");

        std::vector<int32_t> k = class_labels(rows, cols, seed++);
        Ref want_sparse_loss, want_sparse_dy;
        sparse_categorical_ref(y, k, dloss, scale, rows, cols, 1e-7, &want_sparse_loss,
                               &want_sparse_dy);
        CHECK(lamina::sparse_categorical_crossentropy(y.data(), k.data(), loss.data(), rows, cols,
                                                      1e-7) == -1);
        expect_all_close(loss, want_sparse_loss, 1e-5, "sparse cce loss");
        CHECK(lamina::sparse_categorical_crossentropy_backward(y.data(), k.data(), dloss.data(),
                                                               scale, dy.data(), rows, cols,
                                                               1e-7) == -1);
        expect_all_close(dy, want_sparse_dy, 1e-5, "sparse cce dprobs");
      }
    }
  });
}

TEST(narrow_rows_give_the_same_bits_wherever_they_sit_in_the_batch) {
  // Narrow rows go through row blocks (one row per lane) except the rows after the last full
  // block: both must give each row the same bits. Row 0 (in the first block) is copied to the
  // last row (left over for any lane count up to 16), NaN and inf rows included.
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    unsigned seed = 900;
    for (int64_t cols : {1, 2, 7, 10, 15}) {
      for (int64_t rows : {17, 33}) {
        const size_t n = static_cast<size_t>(rows * cols);
        Vec x = uniform(n, -30.0f, 30.0f, seed++);
        Vec t = soft_labels(rows, cols, seed++);
        Vec w = uniform(static_cast<size_t>(rows), 0.5f, 2.0f, seed++);
        if (cols > 1) {
          x[cols + 1] = kNaN;
          x[2 * cols] = std::numeric_limits<float>::infinity();
          t[3 * cols] = 0.0f;
        }
        const int64_t last = rows - 1;
        for (int row : {0, 1, 2}) {
          std::memcpy(&x[last * cols], &x[row * cols], sizeof(float) * cols);
          std::memcpy(&t[last * cols], &t[row * cols], sizeof(float) * cols);
          w[last] = w[row];
          Vec p(n), loss(static_cast<size_t>(rows)), dp(n), dx(n), sloss(loss.size()), sdp(n);
          lamina::softmax_forward(x.data(), p.data(), rows, cols);
          lamina::categorical_crossentropy(p.data(), t.data(), loss.data(), rows, cols, 1e-7);
          lamina::categorical_crossentropy_backward(p.data(), t.data(), w.data(), 0.25f, dp.data(),
                                                    rows, cols, 1e-7);
          lamina::softmax_backward(p.data(), dp.data(), dx.data(), rows, cols);
          std::vector<int32_t> k = class_labels(rows, cols, seed);
          k[last] = k[row];
          lamina::sparse_categorical_crossentropy(p.data(), k.data(), sloss.data(), rows, cols, 1e-7);
          lamina::sparse_categorical_crossentropy_backward(p.data(), k.data(), w.data(), 0.25f,
                                                           sdp.data(), rows, cols, 1e-7);
          auto same = [&](const Vec& v, int64_t width) {
            return std::memcmp(&v[row * width], &v[last * width], sizeof(float) * width) == 0;
          };
          CHECK(same(p, cols) && same(dp, cols) && same(dx, cols) && same(loss, 1));
          CHECK(same(sloss, 1) && same(sdp, cols));
        }
      }
    }
  });
}

TEST(tfjs_observed_values) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    float loss[6];
    Vec t = {1, 0}, z = {0, 1}, dz(2);
    lamina::softmax_cross_entropy(z.data(), t.data(), loss, dz.data(), 1, 2, 1.0f);
    CHECK_CLOSE(loss[0], 1.3132616, 1e-7);
    // categoricalCrossentropy, yTrue [1,0] (last row: labels [2,0]).
    Vec labels = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 2, 0};
    Vec probs = {0, 1, 0.2f, 0.2f, 1, 0, 2, 2, -1, 2, 0.2f, 0.2f};
    lamina::categorical_crossentropy(probs.data(), labels.data(), loss, 6, 2, 1e-7);
    CHECK_CLOSE(loss[0], 16.11809539794922, 1e-7);
    CHECK_CLOSE(loss[1], 0.6931472, 1e-7);
    CHECK(loss[2] == 1.1920930e-7f);  // -log(float(1 - 1e-7)), bit for bit
    CHECK_CLOSE(loss[3], std::log(2.0), 1e-7);
    CHECK_CLOSE(loss[4], 16.11809539794922, 1e-7);
    CHECK_CLOSE(loss[5], 2 * std::log(2.0), 1e-7);
    // sparseCategoricalCrossentropy yTrue [[0]], yPred [[0, 1]].
    int32_t k = 0;
    CHECK(lamina::sparse_categorical_crossentropy(probs.data(), &k, loss, 1, 2, 1e-7) == -1);
    CHECK_CLOSE(loss[0], 16.11809539794922, 1e-6);
  });
}

TEST(bad_class_labels_are_reported_not_read) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    const int64_t rows = 64, cols = 300;  // enough work for two tasks at 2 threads
    Vec z = uniform(static_cast<size_t>(rows * cols), -3.0f, 3.0f, 7);
    Vec y = uniform(static_cast<size_t>(rows * cols), 0.0f, 1.0f, 8);
    std::vector<int32_t> k = class_labels(rows, cols, 9);
    k[50] = -1;
    k[40] = static_cast<int32_t>(cols);
    k[60] = std::numeric_limits<int32_t>::max();
    k[63] = std::numeric_limits<int32_t>::min();
    Vec loss(rows), dz(z.size()), dy(y.size());
    CHECK(lamina::softmax_cross_entropy_sparse(z.data(), k.data(), loss.data(), dz.data(), rows,
                                               cols, 1.0f) == 40);
    for (int64_t r = 0; r < rows; ++r) {
      const bool bad = r == 40 || r == 50 || r == 60 || r == 63;
      CHECK(std::isnan(loss[r]) == bad);
      CHECK(std::isnan(dz[r * cols + 1]) == bad);
    }
    CHECK(lamina::softmax_cross_entropy_sparse(z.data(), k.data(), loss.data(), nullptr, rows,
                                               cols, 1.0f) == 40);
    CHECK(lamina::sparse_categorical_crossentropy(y.data(), k.data(), loss.data(), rows, cols,
                                                  1e-7) == 40);
    CHECK(std::isnan(loss[63]) && !std::isnan(loss[62]));
    CHECK(lamina::sparse_categorical_crossentropy_backward(y.data(), k.data(), nullptr, 1.0f,
                                                           dy.data(), rows, cols, 1e-7) == 40);
    CHECK(std::isnan(dy[60 * cols]) && !std::isnan(dy[59 * cols]));
    // Narrow rows go by row blocks: a bad label in a block, and in the rows after the last one.
    for (int64_t narrow : {3, 10}) {
      const int64_t n_rows = 37;
      Vec p = uniform(static_cast<size_t>(n_rows * narrow), 0.0f, 1.0f, 10);
      std::vector<int32_t> labels = class_labels(n_rows, narrow, 11);
      labels[20] = -3;
      labels[35] = static_cast<int32_t>(narrow);
      Vec l(static_cast<size_t>(n_rows)), dp(p.size());
      CHECK(lamina::sparse_categorical_crossentropy(p.data(), labels.data(), l.data(), n_rows, narrow,
                                                    1e-7) == 20);
      CHECK(lamina::sparse_categorical_crossentropy_backward(p.data(), labels.data(), nullptr, 1.0f,
                                                             dp.data(), n_rows, narrow, 1e-7) == 20);
      for (int64_t r = 0; r < n_rows; ++r) {
        const bool bad = r == 20 || r == 35;
        CHECK(std::isnan(l[r]) == bad && std::isnan(dp[r * narrow]) == bad);
      }
    }
    // Every label bad, including the cols == 0 case where no label can be valid.
    int32_t zero = 0;
    CHECK(lamina::softmax_cross_entropy_sparse(nullptr, &zero, loss.data(), nullptr, 1, 0, 1.0f) == 0);
  });
}

TEST(empty_shapes) {
  lamina_test::for_each_isa_and_threads([](lamina::Isa, int) {
    float loss = -1.0f;
    lamina::softmax_forward(nullptr, nullptr, 0, 5);
    lamina::softmax_forward(nullptr, nullptr, 3, 0);
    lamina::softmax_cross_entropy(nullptr, nullptr, &loss, nullptr, 1, 0, 1.0f);
    CHECK(loss == 0.0f);
    CHECK(lamina::softmax_cross_entropy_sparse(nullptr, nullptr, nullptr, nullptr, 0, 4, 1.0f) == -1);
  });
}

TEST(large_rows_same_bits_across_runs_and_threads) {
  // 300 × 1000 = 300k elements (split over threads), and 5000 × 13 (many short rows).
  const int64_t shapes[][2] = {{300, 1000}, {5000, 13}};
  for (const auto& shape : shapes) {
    const int64_t rows = shape[0], cols = shape[1];
    const size_t n = static_cast<size_t>(rows * cols);
    Vec z = uniform(n, -8.0f, 8.0f, 11), t = soft_labels(rows, cols, 12);
    Vec y = uniform(n, 0.0f, 1.0f, 13);
    std::vector<int32_t> k = class_labels(rows, cols, 14);
    Vec one_thread;  // per ISA: the outputs at 1 thread
    lamina_test::for_each_isa_and_threads([&](lamina::Isa, int threads) {
      auto run_all = [&]() {
        Vec out(5 * n + 4 * static_cast<size_t>(rows));
        float* o = out.data();
        lamina::softmax_forward(z.data(), o, rows, cols);
        lamina::softmax_backward(o, t.data(), o + n, rows, cols);
        lamina::softmax_cross_entropy(z.data(), t.data(), o + 5 * n, o + 2 * n, rows, cols, 0.5f);
        lamina::categorical_crossentropy(y.data(), t.data(), o + 5 * n + rows, rows, cols, 1e-7);
        lamina::categorical_crossentropy_backward(y.data(), t.data(), nullptr, 0.5f, o + 3 * n,
                                                  rows, cols, 1e-7);
        lamina::softmax_cross_entropy_sparse(z.data(), k.data(), o + 5 * n + 2 * rows, nullptr,
                                             rows, cols, 1.0f);
        lamina::sparse_categorical_crossentropy(y.data(), k.data(), o + 5 * n + 3 * rows, rows,
                                                cols, 1e-7);
        lamina::sparse_categorical_crossentropy_backward(y.data(), k.data(), nullptr, 1.0f,
                                                         o + 4 * n, rows, cols, 1e-7);
        return out;
      };
      Vec first = run_all(), again = run_all();
      CHECK(same_bits(first, again));
      if (threads == 1) one_thread = first;
      CHECK(same_bits(first, one_thread));
      // And right: the softmax and the loss against the double reference.
      expect_all_close(Vec(first.begin(), first.begin() + n), softmax_ref(z, rows, cols), 2e-6,
                       "large softmax");
      Ref want_loss, want_dz;
      cross_entropy_ref(z, t, rows, cols, 0.5, &want_loss, &want_dz);
      expect_all_close(Vec(first.begin() + 5 * n, first.begin() + 5 * n + rows), want_loss, 1e-5,
                       "large xent loss");
    });
  }
}

int main() { return lamina_test::run_all(); }
