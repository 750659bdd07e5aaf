#include "bindings/checks.h"

namespace lamina::bind {

void register_dense(py::module_& m) { (void)m; }

}  // namespace lamina::bind
