#pragma once
// Compiles every function defined between TRIKV_TARGET_REGION_BEGIN("avx2,fma") and
// TRIKV_TARGET_REGION_END for that instruction set, templates and inline helpers included, so
// a per-ISA kernel file (attention/*_avx2.cpp, *_avx512.cpp) can use intrinsics in code it
// shares with the other levels. Call such functions only when framework/isa.hpp says the CPU
// runs the level. GCC takes `#pragma GCC target`; clang (the fuzz build) needs its own pragma.
#define TRIKV_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define TRIKV_TARGET_REGION_BEGIN(features) \
    TRIKV_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define TRIKV_TARGET_REGION_END TRIKV_PRAGMA(clang attribute pop)
#else
#define TRIKV_TARGET_REGION_BEGIN(features) TRIKV_PRAGMA(GCC push_options) TRIKV_PRAGMA(GCC target(features))
#define TRIKV_TARGET_REGION_END TRIKV_PRAGMA(GCC pop_options)
#endif
