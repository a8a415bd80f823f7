#include "attention/reference.hpp"

#include <cmath>
#include <limits>

#include <xtensor/xview.hpp>

namespace trikv::reference {

Vector<double> tensor_decode(const Vector<double>& q, const Matrix<double>& k1,
                             const Matrix<double>& k2, const Matrix<double>& v1,
                             const Matrix<double>& v2, std::size_t rows, double scale) {
    return tensor_decode(q, k1, k2, v1, v2, rows, rows, scale);
}

Vector<double> tensor_decode(const Vector<double>& q, const Matrix<double>& k1,
                             const Matrix<double>& k2, const Matrix<double>& v1,
                             const Matrix<double>& v2, std::size_t rows1, std::size_t rows2, double scale) {
    const std::size_t d = q.size();
    auto score = [&](std::size_t i, std::size_t j) {
        double s = 0.0;
        for (std::size_t l = 0; l < d; ++l) s += q(l) * k1(i, l) * k2(j, l);
        return scale * s;
    };
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < rows1; ++i)
        for (std::size_t j = 0; j < rows2; ++j) top = std::max(top, score(i, j));

    Vector<double> out = xt::zeros<double>({d});
    double norm = 0.0;
    for (std::size_t i = 0; i < rows1; ++i)
        for (std::size_t j = 0; j < rows2; ++j) {
            const double p = std::exp(score(i, j) - top);
            norm += p;
            for (std::size_t l = 0; l < d; ++l) out(l) += p * v1(i, l) * v2(j, l);
        }
    return out / norm;
}

Matrix<double> tensor_prefill(const Matrix<double>& q, const Matrix<double>& k1,
                              const Matrix<double>& k2, const Matrix<double>& v1,
                              const Matrix<double>& v2, bool causal, double scale) {
    const std::size_t n = q.shape(0);
    Matrix<double> out = xt::zeros<double>(q.shape());
    for (std::size_t t = 0; t < n; ++t) {
        const Vector<double> qt = xt::view(q, t, xt::all());
        xt::view(out, t, xt::all()) = tensor_decode(qt, k1, k2, v1, v2, causal ? t + 1 : n, scale);
    }
    return out;
}

Vector<double> matrix_decode(const Vector<double>& q, const Matrix<double>& k,
                             const Matrix<double>& v, std::size_t rows, double scale) {
    const std::size_t d = q.size();
    auto score = [&](std::size_t i) {
        double s = 0.0;
        for (std::size_t l = 0; l < d; ++l) s += q(l) * k(i, l);
        return scale * s;
    };
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < rows; ++i) top = std::max(top, score(i));
    Vector<double> out = xt::zeros<double>({d});
    double norm = 0.0;
    for (std::size_t i = 0; i < rows; ++i) {
        const double p = std::exp(score(i) - top);
        norm += p;
        for (std::size_t l = 0; l < d; ++l) out(l) += p * v(i, l);
    }
    return out / norm;
}

Matrix<double> matrix_prefill(const Matrix<double>& q, const Matrix<double>& k,
                              const Matrix<double>& v, bool causal, double scale) {
    const std::size_t n = q.shape(0);
    Matrix<double> out = xt::zeros<double>(q.shape());
    for (std::size_t t = 0; t < n; ++t) {
        const Vector<double> qt = xt::view(q, t, xt::all());
        xt::view(out, t, xt::all()) = matrix_decode(qt, k, v, causal ? t + 1 : n, scale);
    }
    return out;
}

}  // namespace trikv::reference
