#pragma once
// TRIKV_SIMD_CLONES: compile a function for AVX-512, AVX2+FMA and baseline x86-64 and pick
// one at load time (GCC target_clones), so a portable build runs auto-vectorised loops at the
// machine's width. Put it on a function whose loops are written to auto-vectorise, and let
// that function do a lot of work per call (the dispatch is an indirect call).
// TRIKV_NO_CLONES (fuzzing, sanitizers, other compilers) compiles the baseline only.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TRIKV_NO_CLONES)
#define TRIKV_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TRIKV_SIMD_CLONES
#endif
