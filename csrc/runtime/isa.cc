#include "runtime/isa.h"

#include <atomic>
#include <cstdlib>

namespace lamina {

namespace {

bool cpu_has(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return true;
#if defined(LAMINA_HAVE_X86_VARIANTS) && (defined(__GNUC__) || defined(__clang__))
    case Isa::avx2:
      // __builtin_cpu_supports also checks that the OS saves the wide registers (XGETBV).
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
#endif
    default:
      return false;
  }
}

Isa initial_isa() {
  Isa best = Isa::scalar;
  for (Isa isa : supported_isas()) best = isa;
  if (const char* requested = std::getenv("LAMINA_ISA")) {
    Isa forced;
    if (parse_isa(requested, &forced) && cpu_has(forced)) return forced;
  }
  return best;
}

std::atomic<int>& active_slot() {
  static std::atomic<int> slot{static_cast<int>(initial_isa())};
  return slot;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (name == isa_name(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

bool isa_supported(Isa isa) { return cpu_has(isa); }

std::vector<Isa> supported_isas() {
  std::vector<Isa> result;
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (cpu_has(isa)) result.push_back(isa);
  }
  return result;
}

Isa active_isa() { return static_cast<Isa>(active_slot().load(std::memory_order_relaxed)); }

bool set_active_isa(Isa isa) {
  if (!cpu_has(isa)) return false;
  active_slot().store(static_cast<int>(isa), std::memory_order_relaxed);
  return true;
}

}  // namespace lamina
