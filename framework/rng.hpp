#pragma once
// Seeded, reproducible random numbers: the same seed gives the same data on every machine
// (std::normal_distribution is implementation-defined, so the normal draw is ours).
#include <cmath>
#include <cstdint>
#include <random>

namespace trikv {

class Rng {
public:
    explicit Rng(std::uint64_t seed) : engine_(seed) {}

    // Uniform in [0, 1).
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    // Standard normal by Box–Muller; portable across standard libraries.
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        spare_ = radius * std::sin(2.0 * M_PI * u2);
        has_spare_ = true;
        return radius * std::cos(2.0 * M_PI * u2);
    }

    std::uint64_t next() { return engine_(); }

private:
    std::mt19937_64 engine_;
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace trikv
