#pragma once
// The closed choices of a study as enums: a point's workload, the kind of its data and a sparse
// support, a measured row's status and a shard's phase. Their names live only here; study files, results.csv and
// the CLI convert at the boundary with name_of and parse_kind, nothing else compares strings.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "framework/error.hpp"

namespace trikv {

// var: scale-wise generation (docs/math.md §7); prefill: every query of a sequence at once, a
// row of `trikv prefill` (studies/cli/prefill_command.cpp), not a study's workload.
enum class Workload { decode, var, prefill };
enum class DataKind { gaussian, clustered, sparse, npy, trace };  // trace: a model's (docs/model.md)
enum class Support { random, blocks };  // where a sparse row's non-zeros sit (studies/measure/token_data.hpp)
enum class PointStatus { ok, skipped, failed };
enum class ShardPhase { running, done, failed };  // of a shard of a study (studies/cluster/shard_state.hpp)

// Each enum's names, in the order of its values.
template <class Kind>
struct KindNames;
template <>
struct KindNames<Workload> {
    static constexpr std::array<std::string_view, 3> names{"decode", "var", "prefill"};
};
template <>
struct KindNames<DataKind> {
    static constexpr std::array<std::string_view, 5> names{"gaussian", "clustered", "sparse", "npy", "trace"};
};
template <>
struct KindNames<Support> {
    static constexpr std::array<std::string_view, 2> names{"random", "blocks"};
};
template <>
struct KindNames<PointStatus> {
    static constexpr std::array<std::string_view, 3> names{"ok", "skipped", "failed"};
};
template <>
struct KindNames<ShardPhase> {
    static constexpr std::array<std::string_view, 3> names{"running", "done", "failed"};
};

template <class Kind>
std::string name_of(Kind kind) {
    return std::string(KindNames<Kind>::names.at(static_cast<std::size_t>(kind)));
}

// "decode, var": the names, for messages and --help.
template <class Kind>
std::string kind_choices() {
    std::string out;
    for (const std::string_view name : KindNames<Kind>::names) out += (out.empty() ? "" : ", ") + std::string(name);
    return out;
}

// The value named `text`; anything else throws trikv::Error "<field> = '<text>' is not one of …".
template <class Kind>
Kind parse_kind(const std::string& text, const std::string& field) {
    const auto& names = KindNames<Kind>::names;
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == text) return static_cast<Kind>(i);
    const std::vector<std::string> known(names.begin(), names.end());
    throw Error(field + " = '" + printable(text) + "' is not one of " + kind_choices<Kind>() + did_you_mean(text, known));
}

}  // namespace trikv
