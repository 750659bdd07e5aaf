// Which instruction-set variant of each kernel runs. Chosen once from CPU features at first
// use; tests may force another supported variant.
#pragma once

#include <string>
#include <vector>

namespace lamina {

enum class Isa { scalar = 0, avx2 = 1, avx512 = 2 };

const char* isa_name(Isa isa);

// Parses "scalar", "avx2" or "avx512"; returns false for anything else.
bool parse_isa(const std::string& name, Isa* out);

// True when this build has the variant and this CPU (and OS) can run it.
bool isa_supported(Isa isa);

// Every supported variant, scalar first.
std::vector<Isa> supported_isas();

// The variant kernels use now. Initially the best supported one, or the one named by the
// LAMINA_ISA environment variable if that one is supported.
Isa active_isa();

// Forces a variant. Returns false (and changes nothing) when it is not supported.
bool set_active_isa(Isa isa);

}  // namespace lamina
