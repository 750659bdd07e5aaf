// lamina._core: the compiled kernels. One register_* function per kernel family.
#include <pybind11/pybind11.h>

namespace lamina::bind {
void register_runtime(pybind11::module_& m);
void register_gemm(pybind11::module_& m);
void register_dense(pybind11::module_& m);
void register_softmax(pybind11::module_& m);
void register_optimizers(pybind11::module_& m);
void register_dropout(pybind11::module_& m);
void register_fused(pybind11::module_& m);
}  // namespace lamina::bind

PYBIND11_MODULE(_core, m) {
  m.doc() = "lamina's C++ kernels. Use the lamina package; this module's API may change.";
  lamina::bind::register_runtime(m);
  lamina::bind::register_gemm(m);
  lamina::bind::register_dense(m);
  lamina::bind::register_softmax(m);
  lamina::bind::register_optimizers(m);
  lamina::bind::register_dropout(m);
  lamina::bind::register_fused(m);
}
