#pragma once
// A study: a declarative sweep over caches and sizes (a TOML file in studies/, see
// docs/studies.md). Build parameters of a point (cache spec, n, d, heads, data) are kept apart
// from measurement parameters (warm-up, repetitions, threads), and every point carries a
// stable key derived from its full configuration so a rerun skips finished points.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "attention/score_variant.hpp"
#include "caches/cache.hpp"
#include "studies/spec/mem_limit.hpp"
#include "studies/spec/study_kinds.hpp"

namespace trikv {

struct CacheType;

// Query positions a decode point checks its accuracy at unless the study says otherwise.
inline constexpr std::size_t kDefaultAccuracyPositions = 64;

struct DataSpec {
    DataKind kind = DataKind::gaussian;
    std::size_t clusters = 16;      // clustered: m balls per key stream
    double radius = 0.1;            // clustered: δ, the balls' radius (keys' centres have norm ≈ √d)
    std::size_t nonzeros = 8;       // sparse: s non-zeros in every k1, k2, v1, v2 row (1 ≤ s ≤ d)
    Support support = Support::random;  // sparse (studies/measure/token_data.hpp)
    // gaussian, clustered, sparse: added to every k2 and v2 entry drawn (0: none), as a model's
    // bias shifts them (docs/model.md); npy and trace data are read as they are.
    double k2_mean = 0, v2_mean = 0;
    std::string dir;                // npy: folder holding q.npy k1.npy k2.npy v1.npy v2.npy
                                    // trace: a model's trace (python/trikv/model/traces.py, docs/model.md)
    // trace: the point reads dir/layer{layer}/head{head}/{q,k1,k2,v1,v2}.npy, one head.
    std::size_t layer = 0, head = 0;
    // npy and trace, filled by expand_study: a hash of the five arrays' dtype, shape and values (the
    // point key names the data by content, not path) and the fewest tokens any of them holds.
    std::string digest;
    std::size_t tokens = 0;
    std::size_t largest_array = 0;  // elements of the largest of the five (loading holds a copy)
    // e.g. gaussian, clustered(m=16,delta=0.1), sparse(s=8,support=random). Part of the point
    // key, so kinds other than sparse keep the labels (and keys) they had before it existed.
    std::string label() const;
    bool reads_files() const { return kind == DataKind::npy || kind == DataKind::trace; }
    std::string arrays_dir() const;  // npy: dir; trace: dir/layer{layer}/head{head}
};

// `cache = "factor"` with `strategy = ["fused", "recompute"]` expands to one spec per value.
struct CacheGrid {
    std::string cache;
    std::map<std::string, std::vector<std::string>> values;  // parameter → values
};

struct StudySpec {
    std::string name = "study";
    std::vector<std::string> caches;
    std::vector<CacheGrid> grids;
    std::vector<std::string> budgets;  // the budget key: approximate caches fitted (studies/spec/budget.hpp)
    std::vector<std::size_t> n, d, heads = {1};
    // Grouped-query heads (docs/math.md §9): kv heads per point, each dividing the point's heads;
    // empty = one kv head per query head. Score variants, and the k2/v2 bias (0 = none).
    std::vector<std::size_t> kv_heads;
    std::vector<ScoreVariant> variants = {ScoreVariant::trilinear};
    double k2_bias = 0, v2_bias = 0;
    DataSpec data;
    // [data] nonzeros and support may be lists: with kind = sparse every combination is a
    // point of its own (expand_study writes one of each into the point's data).
    std::vector<std::size_t> nonzeros = {8};
    std::vector<Support> supports = {Support::random};
    // [data] kind may be a list too: every kind is a point of its own (data.kind is ignored).
    std::vector<DataKind> kinds = {DataKind::gaussian};
    // [data] layer and head (kind = trace): every (layer, head) combination is a point of its own.
    std::vector<std::size_t> trace_layers, trace_heads;
    // Data seeds: every seed is a point of its own on independently generated data (`seed = S`
    // or `seeds = [..]`; npy and trace data take the first only); a single seed keeps the keys
    // points had before seeds existed.
    std::vector<std::uint64_t> seeds = {1};
    // Query positions, spread over the sequence, at which a decode point's accuracy is measured
    // apart from the timed steps (docs/math.md §8).
    std::size_t accuracy_positions = kDefaultAccuracyPositions;
    Workload workload = Workload::decode;
    // var: the sides r_k of the square token maps, one step per scale (docs/math.md §7); n is then
    // not swept (a point's tokens are Σ r_k²). Default: VAR's schedule, 680 tokens.
    std::vector<std::size_t> schedule = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};
    int warmup = 2;
    int repetitions = 5;
    int threads = 0;          // 0 = all hardware threads
    // of the scores, one point per value; 0 = each attention kind's default (tensor 1/d)
    std::vector<double> scales = {0};
    MemLimit mem_limit{.bytes = 0, .percent = 80};  // points projected above it are skipped
    std::string out;          // output directory; default results/<name>
    std::vector<std::string> figures = {"pareto", "scaling", "error"};
    bool measure_peaks = true;  // false: skip the peak measurement; *_fraction columns stay 0
};

// Parses a study; every key is checked (unknown keys get a "did you mean"), every value's type
// and range. `source` names the file in error messages.
StudySpec parse_study(const std::string& toml_text, const std::string& source);
StudySpec load_study(const std::filesystem::path& path);
// The fully resolved study as TOML (stored with the results).
std::string to_toml(const StudySpec& spec);
// Throws unless the resolved study can run (non-empty sweeps, valid cache specs, ...).
void validate_study(const StudySpec& spec);

// A point of a study, resolved: its cache type is the registry's entry, its choices enums. Every
// member has an initializer, so designated initializers may leave any out (-Wextra is quiet).
struct StudyPoint {
    std::string cache{};              // canonical spec
    const CacheType* type = nullptr;  // the spec's registered type (point_for fills both)
    std::size_t n = 0, d = 0, heads = 0;  // var: n = Σ r_k² over the schedule
    Workload workload = Workload::decode;
    std::vector<std::size_t> schedule{};  // var only
    DataSpec data{};
    std::uint64_t seed = 0;
    int warmup = 0, repetitions = 0, threads = 0;
    double scale = 0;  // of the scores; 0 = the attention kind's default (resolved_scale)
    // In the key only where they differ from these defaults, so older points keep their keys.
    std::size_t kv_heads = 0;  // set by expand_study: heads when the study gives no kv_heads
    ScoreVariant variant = ScoreVariant::trilinear;
    double k2_bias = 0, v2_bias = 0;
    std::size_t accuracy_positions = kDefaultAccuracyPositions;  // decode only; var checks every query
    std::string budget{};  // the budget `cache` was fitted to, as written ("": none); unfit: why none fits
    std::string unfit{};

    // The scale the point runs at: `scale`, or its cache's attention kind's default at d
    // (default_scale, as make_cache resolves an unset scale: every entry point agrees).
    double resolved_scale() const;
    // A scale given and other than the attention kind's default (which is the same point as none).
    bool has_own_scale() const;
    // The shape its cache is built with: heads over kv heads, the resolved scale, variant, bias.
    CacheShape shape() const;
    // 16 hex digits (FNV-1a of the full configuration): equal configurations, equal keys.
    std::string key() const;
    std::string describe() const;  // short, for progress lines
};

// `rest` with its cache set to `cache_spec`, canonical, and its type resolved from the registry
// (an unknown or invalid spec throws trikv::Error). Tests name the other fields, e.g.
// point_for("factor", {.n = 128, .d = 64}).
StudyPoint point_for(const std::string& cache_spec, StudyPoint rest = {});

// The Cartesian product caches × n × d × heads × kv_heads × variants × scales × data kinds (var:
// no n; × nonzeros × supports for sparse data, × layers × heads for trace data), caches in the
// order given (grids last), each distinct canonical spec once. A (cache, variant) the cache does
// not compute is left out; a kv_heads that does not divide heads is an error. npy and trace data
// are read here (for their digest and length).
std::vector<StudyPoint> expand_study(const StudySpec& spec);

}  // namespace trikv
