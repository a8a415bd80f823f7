#pragma once
// Thin typed wrappers over CBLAS for row-major, contiguous operands: one call site per
// kernel, float or double chosen by overload instead of by name.
#include <cblas.h>

namespace trikv::blas {

// C[m×n] = alpha·A[m×k]·op(B) + beta·C, with op(B) = Bᵀ when b_transposed (B stored n×k).
inline void gemm(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                 bool b_transposed, float beta, float* c, int ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, b_transposed ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm(int m, int n, int k, double alpha, const double* a, int lda, const double* b,
                 int ldb, bool b_transposed, double beta, double* c, int ldc) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, b_transposed ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, a, lda, b, ldb, beta, c, ldc);
}

// y = alpha·op(A)·x + beta·y for row-major A[m×n]; op(A) = Aᵀ when transposed.
inline void gemv(bool transposed, int m, int n, float alpha, const float* a, int lda,
                 const float* x, float beta, float* y) {
    cblas_sgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, m, n, alpha, a, lda, x, 1,
                beta, y, 1);
}
inline void gemv(bool transposed, int m, int n, double alpha, const double* a, int lda,
                 const double* x, double beta, double* y) {
    cblas_dgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, m, n, alpha, a, lda, x, 1,
                beta, y, 1);
}

}  // namespace trikv::blas
