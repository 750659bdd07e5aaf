// The floating-point mode of the calling thread: whether denormal (subnormal) floats are
// flushed to zero. x86 keeps it in MXCSR (FTZ: results, DAZ: inputs); elsewhere these do
// nothing. The thread pool runs every task in the mode of the thread that handed it out.
#pragma once

#include <cstdint>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define LAMINA_HAS_MXCSR 1
#endif

namespace lamina {

inline uint32_t float_mode() {
#if defined(LAMINA_HAS_MXCSR)
  return _mm_getcsr();
#else
  return 0;
#endif
}

inline void set_float_mode(uint32_t mode) {
#if defined(LAMINA_HAS_MXCSR)
  if (_mm_getcsr() != mode) _mm_setcsr(mode);
#else
  (void)mode;
#endif
}

// Flushes denormal floats to zero on this thread (and in the pool's tasks it hands out)
// until destroyed, then puts the previous mode back.
class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals() : saved_(float_mode()) {
#if defined(LAMINA_HAS_MXCSR)
    set_float_mode(saved_ | kFlushToZero | kDenormalsAreZero);
#endif
  }
  ~ScopedFlushDenormals() { set_float_mode(saved_); }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  static constexpr uint32_t kFlushToZero = 0x8000;      // MXCSR.FTZ
  static constexpr uint32_t kDenormalsAreZero = 0x0040;  // MXCSR.DAZ
  uint32_t saved_;
};

}  // namespace lamina
