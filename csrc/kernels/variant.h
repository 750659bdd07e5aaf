// How a kernel family picks its ISA variant.
//
// A family `foo` declares one table of function pointers per variant in its header:
//   const FooKernels& foo_kernels_scalar();
//   const FooKernels& foo_kernels_avx2();     // defined in foo_avx2.cc   (-mavx2 -mfma)
//   const FooKernels& foo_kernels_avx512();   // defined in foo_avx512.cc (-mavx512f ...)
// and its dispatching functions call LAMINA_PICK_VARIANT(active_isa(), foo_kernels).
//
// Rule for *_avx2.cc / *_avx512.cc files: put every function in an anonymous namespace and
// do not instantiate library templates (std::vector, std::max, ...) there. The linker keeps
// one copy of an inline function or template across all files; if it kept the one compiled
// with AVX-512 flags, the scalar path would crash on a CPU without AVX-512.
#pragma once

#include "runtime/isa.h"

#if defined(LAMINA_HAVE_X86_VARIANTS)
#define LAMINA_PICK_VARIANT(isa, family)                   \
  ((isa) == ::lamina::Isa::avx512 ? family##_avx512()      \
   : (isa) == ::lamina::Isa::avx2 ? family##_avx2()        \
                                  : family##_scalar())
#else
#define LAMINA_PICK_VARIANT(isa, family) family##_scalar()
#endif
