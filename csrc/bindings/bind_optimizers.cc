#include "bindings/checks.h"

namespace lamina::bind {

void register_optimizers(py::module_& m) { (void)m; }

}  // namespace lamina::bind
