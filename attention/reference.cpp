#include "attention/reference.hpp"

#include <cmath>
#include <limits>

#include <xtensor/xview.hpp>

namespace trikv::reference {

Vector<double> tensor_decode(const Vector<double>& q, const Matrix<double>& k1,
                             const Matrix<double>& k2, const Matrix<double>& v1,
                             const Matrix<double>& v2, std::size_t rows, double scale, ScoreVariant variant) {
    return tensor_decode(q, k1, k2, v1, v2, rows, rows, scale, variant);
}

Vector<double> tensor_decode(const Vector<double>& q, const Matrix<double>& k1,
                             const Matrix<double>& k2, const Matrix<double>& v1,
                             const Matrix<double>& v2, std::size_t rows1, std::size_t rows2, double scale,
                             ScoreVariant variant) {
    const std::size_t d = q.size();
    auto dot = [&](auto&& x, auto&& y) {
        double s = 0.0;
        for (std::size_t l = 0; l < d; ++l) s += x(l) * y(l);
        return s;
    };
    auto score = [&](std::size_t i, std::size_t j) {
        const auto q_l = [&](std::size_t l) { return q(l); };
        const auto k1_l = [&](std::size_t l) { return k1(i, l); };
        const auto k2_l = [&](std::size_t l) { return k2(j, l); };
        double s = 0.0;
        switch (variant) {
            case ScoreVariant::trilinear:
                for (std::size_t l = 0; l < d; ++l) s += q(l) * k1(i, l) * k2(j, l);
                break;
            case ScoreVariant::rank1: s = dot(q_l, k1_l) + dot(q_l, k2_l); break;
            case ScoreVariant::strassen: s = dot(q_l, k1_l) + dot(q_l, k2_l) + dot(k1_l, k2_l); break;
        }
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

Matrix<double> simplicial_decode(const Matrix<double>& q, const Heads<double>& k1, const Heads<double>& k2,
                                 const Heads<double>& v1, const Heads<double>& v2, std::size_t rows, double scale,
                                 ScoreVariant variant, double k2_bias, double v2_bias) {
    const std::size_t heads = q.shape(0), kv_heads = k1.shape(0);
    Matrix<double> out = xt::zeros<double>(q.shape());
    for (std::size_t h = 0; h < heads; ++h) {
        const std::size_t kv = h / (heads / kv_heads);
        const Matrix<double> head_k1 = xt::view(k1, kv, xt::all(), xt::all());
        const Matrix<double> head_v1 = xt::view(v1, kv, xt::all(), xt::all());
        const Matrix<double> shifted_k2 = xt::view(k2, kv, xt::all(), xt::all()) + k2_bias;
        const Matrix<double> shifted_v2 = xt::view(v2, kv, xt::all(), xt::all()) + v2_bias;
        const Vector<double> qh = xt::view(q, h, xt::all());
        xt::view(out, h, xt::all()) = tensor_decode(qh, head_k1, shifted_k2, head_v1, shifted_v2, rows, scale, variant);
    }
    return out;
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
