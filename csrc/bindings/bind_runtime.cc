#include <string>
#include <vector>

#include "bindings/checks.h"
#include "runtime/isa.h"
#include "runtime/thread_pool.h"

namespace lamina::bind {

void register_runtime(py::module_& m) {
  m.def("get_num_threads", &get_num_threads, "Threads the kernels use, the caller included.");
  m.def("default_num_threads", &default_num_threads,
        "The CPUs this process may run on: the thread count lamina starts with.");
  m.def(
      "set_num_threads",
      [](py::object n) {
        if (!py::isinstance<py::int_>(n) || py::isinstance<py::bool_>(n)) {
          throw py::type_error("n must be an int, got " +
                               py::str(py::type::of(n).attr("__name__")).cast<std::string>());
        }
        long long value = n.cast<long long>();
        if (value < 1 || value > max_num_threads()) {
          throw py::value_error("n must be between 1 and " + std::to_string(max_num_threads()) +
                                ", got " + std::to_string(value));
        }
        py::gil_scoped_release release;
        set_num_threads(static_cast<int>(value));
      },
      py::arg("n"), "Sets how many threads the kernels use, the caller included.");
  m.def("isa", [] { return std::string(isa_name(active_isa())); },
        "The instruction-set variant the kernels run: 'scalar', 'avx2' or 'avx512'.");
  m.def(
      "supported_isas",
      [] {
        std::vector<std::string> names;
        for (Isa isa : supported_isas()) names.push_back(isa_name(isa));
        return names;
      },
      "Every variant this CPU can run, scalar first.");
  m.def(
      "set_isa",
      [](const std::string& name) {
        Isa isa;
        if (!parse_isa(name, &isa)) {
          throw py::value_error("isa must be one of 'scalar', 'avx2', 'avx512', got '" + name + "'");
        }
        if (!set_active_isa(isa)) {
          throw py::value_error("isa '" + name + "' is not supported by this CPU or build");
        }
      },
      py::arg("isa"), "Forces an instruction-set variant (for tests and benchmarks).");
}

}  // namespace lamina::bind
