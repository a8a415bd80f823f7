#pragma once
// The ranges a study file and the command line accept for the same quantity, defined once so
// `trikv study --n …` and `n = […]` in a TOML file refuse the same values. Each bound keeps
// every size product it feeds within 64 bits (checked again where memory is allocated,
// framework/checked.hpp) and every loop count within an int.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace trikv::bounds {

struct Range {
    long long min, max;
};

inline constexpr Range kTokens{1, 1 << 20};           // n
inline constexpr Range kHeadDim{1, 1 << 16};          // d
inline constexpr Range kHeads{1, 1024};               // heads
inline constexpr Range kWarmup{0, 1000};              // untimed runs
inline constexpr Range kRepetitions{1, 100000};       // timed runs
inline constexpr Range kThreads{0, 4096};             // 0 = all hardware threads
inline constexpr Range kScheduleSide{1, 1 << 10};     // var: side of a scale's token map
inline constexpr Range kNonzeros{1, 65535};           // sparse data: non-zeros per row
inline constexpr Range kClusters{1, 1 << 20};         // clustered data: balls per key stream
inline constexpr Range kTraceIndex{0, 1 << 16};       // trace data: a layer or head number
inline constexpr Range kAccuracyPositions{1, 1 << 16};  // query positions a point's accuracy is measured at
inline constexpr Range kSeed{0, std::numeric_limits<long long>::max()};      // TOML integers are signed 64-bit
inline constexpr Range kMemLimitBytes{1, std::numeric_limits<long long>::max()};

// Real-valued keys: closed ranges (a scale's smallest is the least positive double: any scale > 0).
struct RealRange {
    double min, max;
};
inline constexpr RealRange kScale{std::numeric_limits<double>::min(), 1e6};  // of the scores
inline constexpr RealRange kBias{-1e6, 1e6};                                 // k2_bias, v2_bias
inline constexpr RealRange kRadius{0, 1e6};                                  // clustered data: δ
inline constexpr RealRange kMean{-1e6, 1e6};                                 // data k2_mean, v2_mean

// "[1, 1048576]", "(0, 1000000]": a range as messages name it.
std::string range_text(Range range);
std::string range_text(RealRange range);

// A command-line text read against a range (the whole text, no spaces), or nullopt; and the
// one-line problem to report when it is not ("-1 is out of range [1, 1048576]").
std::optional<long long> whole_in(const std::string& text, Range range);
std::string whole_problem(const std::string& text, Range range);
std::optional<double> real_in(const std::string& text, RealRange range);  // finite only
std::string real_problem(const std::string& text, RealRange range);

}  // namespace trikv::bounds
