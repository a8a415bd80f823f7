#include "studies/measure/measure.hpp"

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <algorithm>

#include <cmath>
#include <fstream>
#include <new>
#include <optional>
#include <sstream>

#include <xtensor/xview.hpp>

#include "attention/matrix_attention.hpp"
#include "attention/tensor_attention.hpp"
#include "caches/registry.hpp"
#include "framework/error.hpp"
#include "framework/finite.hpp"
#include "framework/timer.hpp"
#include "framework/units.hpp"
#include "studies/results/pareto.hpp"
#include "studies/measure/row_summary.hpp"
#include "studies/measure/theory_metrics.hpp"
#include "studies/measure/token_data.hpp"

namespace trikv {
namespace {

// The workers a point runs with: the arena's, capped by the study's ThreadControl.
std::size_t workers() {
    const auto arena = std::size_t(tbb::this_task_arena::max_concurrency());
    return std::min(arena, tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

std::size_t steps_of(const StudyPoint& point) { return std::size_t(point.warmup + point.repetitions); }

// Process peak RSS: Linux resets VmHWM when "5" is written to clear_refs.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

double read_status_kib(const std::string& field) {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) * 1024.0;
    return 0;
}

// What the point's cache computes, and at which scale (each kind's usual default, docs/math.md §1–§2).
struct Attention {
    AttentionKind kind = AttentionKind::tensor;
    double scale = 0;
    CacheShape shape;  // the point's cache shape: heads over kv heads, variant, bias
};

Attention attention_of(const StudyPoint& point) {
    const CacheShape shape = point.shape();
    return {point.type->attention, shape.scale, shape};
}

bool has_bias(const CacheShape& shape) { return shape.k2_bias != 0 || shape.v2_bias != 0; }

// What the exact computation reads when the point has a bias (the caches add it to k2 and v2
// as they append); nothing without one.
std::optional<TokenData> biased(const TokenData& data, const Attention& attention) {
    if (!has_bias(attention.shape)) return std::nullopt;
    TokenData out = data;
    out.k2 += attention.shape.k2_bias;
    out.v2 += attention.shape.v2_bias;
    return out;
}

// The exact answers, in float64, for queries [first, first + count) over tokens [0, tokens):
// [count, heads, d]. The tensor kernel run in double (checked against the plain loops of
// attention/reference by the tests) keeps this affordable at VAR's 680 tokens.
std::vector<double> exact_block(const TokenData& data, std::size_t first, std::size_t count, std::size_t tokens,
                                const Attention& attention) {
    const std::size_t heads = data.q.shape(0), n = data.q.shape(1), d = data.q.shape(2);
    std::vector<double> head_out(count * d), out(count * heads * d);
    MemoryMeter scratch;
    for (std::size_t h = 0; h < heads; ++h) {
        const std::size_t kv = attention.shape.kv_head_of(h);
        auto rows = [&](const Heads<double>& x) { return StoredRows<double>::contiguous(x.data() + kv * n * d, tokens, d); };
        const double* q = data.q.data() + (h * n + first) * d;
        if (attention.kind == AttentionKind::matrix) {
            for (std::size_t r = 0; r < count; ++r)
                matrix_decode(1, q + r * d, rows(data.k1), rows(data.v1), attention.scale, head_out.data() + r * d, scratch);
        } else {
            tensor_decode(count, q, rows(data.k1), rows(data.k2), rows(data.v1), rows(data.v2), attention.scale,
                          head_out.data(), scratch, attention.shape.variant);
        }
        for (std::size_t r = 0; r < count; ++r)
            std::copy_n(head_out.data() + r * d, d, out.data() + (r * heads + h) * d);
    }
    return out;
}

// The data with v1 and v2 squared elementwise: summed over its d outputs, its exact answer is
// the softmax-weighted mean of ‖v1_i ∘ v2_j‖² (matrix attention: of ‖v_i‖²), the value scale
// the value-normalised error divides by (docs/math.md §8).
TokenData squared_values(const TokenData& data) {
    TokenData out = data;
    out.v1 = data.v1 * data.v1;
    out.v2 = data.v2 * data.v2;
    return out;
}

// decode: fill to n tokens, then time steps of (append one token, attend its query).
std::vector<ResultRow> measure_decode(const StudyPoint& point, Cache& cache_of_point, const MachinePeaks& peaks,
                                      ResultRow row) {
    const Attention attention = attention_of(point);
    const std::size_t steps = steps_of(point), width = point.heads * point.d;
    const TokenData data = point_tokens(point, point.n + steps);
    const std::optional<TokenData> shifted = biased(data, attention);
    const TokenData& exact_data = shifted ? *shifted : data;
    Cache* const cache = &cache_of_point;
    cache->reserve(point.n + steps);

    std::vector<float> q, k1, k2, v1, v2, out(width);
    auto append = [&](std::size_t t) {
        gather(data.k1, t, 1, k1);
        gather(data.k2, t, 1, k2);
        gather(data.v1, t, 1, v1);
        gather(data.v2, t, 1, v2);
        cache->append(1, k1.data(), k2.data(), v1.data(), v2.data());
    };
    // Accuracy at positions spread over the sequence, while filling (untimed): query t attends
    // the t + 1 tokens appended so far.
    const std::vector<std::size_t> positions = accuracy_positions_of(point.n, point.accuracy_positions);
    std::vector<std::vector<float>> position_outputs;
    for (std::size_t t = 0; t < point.n; ++t) {
        append(t);
        if (position_outputs.size() == positions.size() || positions[position_outputs.size()] != t) continue;
        gather(data.q, t, 1, q);
        cache->attend(1, q.data(), out.data());
        position_outputs.push_back(out);
    }

    // The outputs are checked after the timed steps: the O(n²d) float64 check between two steps
    // would evict the cache's state and leave worker threads busy, timing a constant-cost step
    // (poly's few µs) as if it grew with n.
    std::vector<double> step_ms;
    std::vector<std::vector<float>> outputs;
    for (std::size_t s = 0; s < steps; ++s) {
        const std::size_t t = point.n + s;
        gather(data.q, t, 1, q);
        Stopwatch watch;
        append(t);
        cache->attend(1, q.data(), out.data());
        const double ms = watch.milliseconds();
        if (s < std::size_t(point.warmup)) continue;
        step_ms.push_back(ms);
        outputs.push_back(out);
        row.transient_peak_bytes = std::max(row.transient_peak_bytes, double(cache->transient_peak_bytes()));
    }
    // The theory metrics are about plain tensor attention (docs/math.md §11).
    const CacheShape& shape = attention.shape;
    const bool theory = attention.kind == AttentionKind::tensor && shape.kv_heads == shape.heads &&
                        shape.variant == ScoreVariant::trilinear;
    for (std::size_t r = 0; r < outputs.size(); ++r) {
        const std::size_t t = point.n + std::size_t(point.warmup) + r;
        const std::vector<double> exact = exact_block(exact_data, t, 1, t + 1, attention);
        record_error(row, outputs[r], exact, 1, width);
        if (theory) record_theory_metrics(row, exact_data, t, t + 1, attention.scale, outputs[r].data(), exact.data());
    }
    const TokenData squared = squared_values(exact_data);
    QueryErrors errors;
    for (std::size_t i = 0; i < positions.size(); ++i) {
        const std::size_t t = positions[i];
        errors.add(position_outputs[i].data(), exact_block(exact_data, t, 1, t + 1, attention).data(),
                   exact_block(squared, t, 1, t + 1, attention).data(), width);
    }
    record_accuracy(row, errors);
    row.bytes = double(cache->bytes());
    row.logical_bytes = double(cache->logical_bytes());
    row.rss_peak_bytes = read_status_kib("VmHWM");
    const CacheCost cost = cache->cost(point.n + 1);
    record_times(row, step_ms, cost.flops, cost.bytes_moved, peaks);
    return {row};
}

// var (docs/math.md §7): one generation runs the schedule; at scale k the r_k² tokens are appended as
// a block and their queries attend block-causally (every token so far), timed as one step.
// Each repetition is a whole generation from an empty cache. Rows: one per scale, then the
// whole generation (scale 0: its time, the peak resident bytes, the worst error).
std::vector<ResultRow> measure_var(const StudyPoint& point, Cache& cache_of_point, const MachinePeaks& peaks,
                                   const ResultRow& config) {
    const Attention attention = attention_of(point);
    const std::size_t scales = point.schedule.size(), width = point.heads * point.d;
    const TokenData data = point_tokens(point, point.n);
    const std::optional<TokenData> shifted = biased(data, attention);
    const TokenData& exact_data = shifted ? *shifted : data;
    Cache* const cache = &cache_of_point;

    const TokenData squared = squared_values(exact_data);
    std::vector<ResultRow> rows(scales, config);
    std::vector<QueryErrors> scale_errors(scales);  // every query of the checked generation
    std::vector<std::vector<double>> step_ms(scales);
    std::vector<double> generation_ms;
    std::vector<float> q, k1, k2, v1, v2, out;
    for (std::size_t rep = 0; rep < steps_of(point); ++rep) {
        const bool timed = rep >= std::size_t(point.warmup), checked = rep == std::size_t(point.warmup);
        cache->clear();  // no reserve: the resident bytes after each scale are what it holds then
        double total = 0;
        for (std::size_t k = 0, first = 0; k < scales; first += point.schedule[k] * point.schedule[k], ++k) {
            const std::size_t block = point.schedule[k] * point.schedule[k];
            gather(data.q, first, block, q);
            gather(data.k1, first, block, k1);
            gather(data.k2, first, block, k2);
            gather(data.v1, first, block, v1);
            gather(data.v2, first, block, v2);
            out.resize(block * width);
            Stopwatch watch;
            cache->append(block, k1.data(), k2.data(), v1.data(), v2.data());
            cache->attend(block, q.data(), out.data());
            const double ms = watch.milliseconds();
            total += ms;
            if (!timed) continue;
            step_ms[k].push_back(ms);
            ResultRow& row = rows[k];
            row.transient_peak_bytes = std::max(row.transient_peak_bytes, double(cache->transient_peak_bytes()));
            row.bytes = double(cache->bytes());
            row.logical_bytes = double(cache->logical_bytes());
            if (!checked) continue;
            const std::vector<double> exact = exact_block(exact_data, first, block, first + block, attention),
                                      attended = exact_block(squared, first, block, first + block, attention);
            record_error(row, out, exact, block, width);
            for (std::size_t r = 0; r < block; ++r)
                scale_errors[k].add(out.data() + r * width, exact.data() + r * width, attended.data() + r * width, width);
        }
        if (timed) generation_ms.push_back(total);
    }

    ResultRow whole = config;
    QueryErrors generation_errors;
    double flops = 0, bytes_moved = 0;
    for (std::size_t k = 0, tokens = 0; k < scales; ++k) {
        const std::size_t block = point.schedule[k] * point.schedule[k];
        tokens += block;
        ResultRow& row = rows[k];
        row.scale = k + 1;
        row.side = point.schedule[k];
        row.n = tokens;
        row.key = config.key + "/" + std::to_string(k + 1);
        // The cost model describes one query; a block step serves `block` of them.
        const CacheCost cost = cache->cost(tokens);
        record_times(row, step_ms[k], cost.flops * double(block), cost.bytes_moved * double(block), peaks);
        record_accuracy(row, scale_errors[k]);
        for (auto [to, from] : {std::pair{&generation_errors.relative, &scale_errors[k].relative},
                                std::pair{&generation_errors.value, &scale_errors[k].value}})
            to->insert(to->end(), from->begin(), from->end());
        flops += row.flops;
        bytes_moved += row.bytes_moved;
        whole.bytes = std::max(whole.bytes, row.bytes);
        whole.logical_bytes = std::max(whole.logical_bytes, row.logical_bytes);
        whole.transient_peak_bytes = std::max(whole.transient_peak_bytes, row.transient_peak_bytes);
        whole.rel_l2_error = std::max(whole.rel_l2_error, row.rel_l2_error);
        whole.max_abs_error = std::max(whole.max_abs_error, row.max_abs_error);
    }
    whole.rss_peak_bytes = read_status_kib("VmHWM");
    record_accuracy(whole, generation_errors);
    record_times(whole, generation_ms, flops, bytes_moved, peaks);
    rows.push_back(whole);
    return rows;
}

}  // namespace

ResultRow describe_point(const StudyPoint& point) {
    ResultRow row;
    row.cache = point.cache;
    row.cache_type = point.type->name;
    row.bytes_source = point.type->bytes_self_reported ? "self-reported" : "counted";
    row.exact = is_exact(parse_cache_spec(point.cache));  // reduced-precision storage is approximate
    row.workload = point.workload;
    row.n = point.n;
    row.d = point.d;
    row.heads = point.heads;
    row.kv_heads = attention_of(point).shape.kv_heads;
    row.variant = variant_name(point.variant);
    row.k2_bias = point.k2_bias;
    row.v2_bias = point.v2_bias;
    row.dtype = numpy_dtype_name(storage_dtype(parse_cache_spec(point.cache)));
    row.data = point.data.label();
    if (point.data.kind == DataKind::trace) {
        row.trace_layer = std::to_string(point.data.layer);
        row.trace_head = std::to_string(point.data.head);
    }
    row.seed = point.seed;
    row.attention_scale = point.resolved_scale();
    row.warmup = point.warmup;
    row.repetitions = point.repetitions;
    row.threads = workers();
    row.key = point.key();
    row.budget = point.budget;
    return row;
}

double harness_bytes(const StudyPoint& point) {
    const bool var = point.workload == Workload::var;
    const double width = double(point.heads) * double(point.d);
    const double tokens = double(point.n) + (var ? 0.0 : double(steps_of(point)));
    double block = 1;  // queries (and tokens) of one step
    for (std::size_t side : point.schedule) block = std::max(block, double(side) * double(side));
    // The tokens, their biased copy when the point has a bias, and the copy with squared values.
    const double streams = (has_bias(attention_of(point).shape) ? 3 : 2) * 5 * tokens * width * sizeof(double);
    const double positions = var ? 0.0 : double(std::min<std::size_t>(point.accuracy_positions, point.n)) * width * sizeof(float);
    const double loading = point.data.kind == DataKind::npy ? double(point.data.largest_array) * 2 * sizeof(double) : 0.0;
    const double staged = 6 * block * width * sizeof(float);        // q, k1, k2, v1, v2 and out
    const double reference = 3 * block * width * sizeof(double);    // exact_block's head_out, its answers on the values and squared values
    // tensor_decode_batch: per reducer a kPairTileRows² score tile and a few kPairTileRows × d
    // panels; TBB may hold two reducers per worker (split and join).
    const double tiles = 2 * double(workers()) *
                         double(kPairTileRows * kPairTileRows + 4 * kPairTileRows * point.d) * sizeof(double);
    return streams + positions + loading + staged + reference + tiles;
}

double projected_bytes(const StudyPoint& point) { return projected_bytes(point, *make_cache(point.cache, point.shape())); }

double projected_bytes(const StudyPoint& point, const Cache& cache) {
    const CacheCost cost = cache.cost(point.n + (point.workload == Workload::var ? 0 : steps_of(point)));
    return cost.resident_bytes + cost.transient_bytes + harness_bytes(point);
}

double resident_bytes() { return read_status_kib("VmRSS"); }

double projected_work(const StudyPoint& point) {
    const auto cache = make_cache(point.cache, attention_of(point).shape);
    const auto work = [&](std::size_t tokens) {
        const CacheCost cost = cache->cost(tokens);
        return cost.flops + cost.bytes_moved;
    };
    double per_repetition = 0;
    if (point.workload == Workload::var) {
        // A scale's block of r_k² queries each attend every token so far.
        for (std::size_t k = 0, tokens = 0; k < point.schedule.size(); ++k) {
            const std::size_t block = point.schedule[k] * point.schedule[k];
            tokens += block;
            per_repetition += double(block) * work(tokens);
        }
    } else {
        per_repetition = work(point.n + 1);
    }
    return double(steps_of(point)) * per_repetition;
}

double available_memory_bytes() {
    std::ifstream in("/proc/meminfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("MemAvailable:", 0) == 0) return std::stod(line.substr(13)) * 1024.0;
    return 0;
}

double memory_limit(const MemLimit& limit) {
    return limit.bytes > 0 ? double(limit.bytes) : limit.percent / 100 * available_memory_bytes();
}

std::vector<ResultRow> measure_point(const StudyPoint& point, const MachinePeaks& peaks, double mem_limit_bytes) {
    ResultRow row = describe_point(point);
    if (!point.unfit.empty()) {  // a budget none of its type's settings fits (studies/spec/budget.hpp)
        row.status = PointStatus::skipped;
        row.reason = point.unfit;
        return {row};
    }
    try {
        // One cache per point, built inside the try (a type's make() may throw): its cost model
        // projects the bytes, then it is measured.
        const std::unique_ptr<Cache> cache = make_cache(point.cache, point.shape());
        const double projected = projected_bytes(point, *cache), resident = resident_bytes();
        if (resident + projected > mem_limit_bytes) {
            std::ostringstream reason;
            reason << "projected " << format_bytes(projected) << " (" << format_bytes(harness_bytes(point))
                   << " of it the harness's) on top of " << format_bytes(resident)
                   << " resident exceed the memory limit of " << format_bytes(mem_limit_bytes);
            row.status = PointStatus::skipped;
            row.reason = reason.str();
            return {row};
        }
        reset_peak_rss();
        return point.workload == Workload::var ? measure_var(point, *cache, peaks, row)
                                               : measure_decode(point, *cache, peaks, row);
    } catch (const Error& e) {
        row.status = PointStatus::failed;
        row.reason = e.what();
    } catch (const std::bad_alloc&) {
        row.status = PointStatus::failed;
        row.reason = "out of memory";
    } catch (const std::exception& e) {
        // Not trikv's: a cache type's own failure (a Python cache raising, a plugin throwing).
        // The point failed; the study goes on. Its first line only (Python adds a traceback).
        const std::string message = e.what();
        row.status = PointStatus::failed;
        row.reason = "the cache threw: " + printable(message.substr(0, message.find('\n')));
    }
    return {row};
}

}  // namespace trikv
