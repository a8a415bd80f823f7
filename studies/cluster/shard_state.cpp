#include "studies/cluster/shard_state.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <toml++/toml.h>

#include "framework/error.hpp"
#include "framework/files.hpp"
#include "studies/results/provenance.hpp"
#include "studies/spec/toml_depth.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

// A state file is about twenty short lines; an error message is the longest field.
constexpr std::uint64_t kMaxShardStateBytes = 1 << 20;

ShardState parse_state(const fs::path& path) {
    // Read as a regular file (a FIFO in its place would block --status and --merge forever),
    // its nesting bounded before toml++ sees it.
    const std::string content = read_regular_file(path, kMaxShardStateBytes);
    require_toml_depth(content, path.string());
    toml::table table;
    try {
        table = toml::parse(content, path.string());
    } catch (const toml::parse_error& e) {
        throw Error(path.string() + ": " + std::string(e.description()));
    }
    const auto text = [&](const char* key) {
        const auto value = table[key].value<std::string>();
        require(value.has_value(), path.string() + ": " + key + " is missing or not a string");
        return *value;
    };
    const auto number = [&](const char* key) {
        const auto value = table[key].value<double>();
        require(value.has_value() && *value >= 0, path.string() + ": " + key + " is missing or not a non-negative number");
        return *value;
    };
    ShardState state;
    state.shard = parse_shard(text("shard"), path.string() + ": shard");
    require(path.stem() == state.shard.file_stem(), path.string() + ": shard = '" + text("shard") + "' does not match the file name");
    state.state = parse_kind<ShardPhase>(text("state"), path.string() + ": state");
    state.host = text("host");
    state.start = text("start");
    state.end = text("end");
    state.pid = static_cast<long long>(number("pid"));
    state.slurm_job = text("slurm_job");
    state.git_commit = text("git_commit");
    for (auto [key, field] : {std::pair{"cpu", &state.cpu}, {"compiler", &state.compiler}, {"build_flags", &state.build_flags}})
        *field = table[key].value<std::string>().value_or("unknown");
    state.threads = static_cast<int>(number("threads"));
    state.sgemm_gflops = number("sgemm_gflops");
    state.read_gbps = number("read_gbps");
    state.points = static_cast<std::size_t>(number("points"));
    state.measured = static_cast<std::size_t>(number("measured"));
    state.resumed = static_cast<std::size_t>(number("resumed"));
    state.skipped = static_cast<std::size_t>(number("skipped"));
    state.failed = static_cast<std::size_t>(number("failed"));
    state.error = text("error");
    return state;
}

}  // namespace

bool interrupted(const ShardState& state) {
    return state.state == ShardPhase::running && state.host == host_name() && ::kill(static_cast<pid_t>(state.pid), 0) != 0 &&
           errno == ESRCH;
}

void write_shard_state(const fs::path& out, const ShardState& s) {
    const auto whole = [](std::size_t value) { return static_cast<std::int64_t>(value); };
    const toml::table table{
        {"shard", s.shard.label()}, {"state", name_of(s.state)}, {"host", s.host}, {"start", s.start}, {"end", s.end},
        {"pid", static_cast<std::int64_t>(s.pid)}, {"slurm_job", s.slurm_job}, {"git_commit", s.git_commit}, {"threads", s.threads},
        {"cpu", s.cpu}, {"compiler", s.compiler}, {"build_flags", s.build_flags},
        {"sgemm_gflops", s.sgemm_gflops}, {"read_gbps", s.read_gbps}, {"points", whole(s.points)},
        {"measured", whole(s.measured)}, {"resumed", whole(s.resumed)}, {"skipped", whole(s.skipped)},
        {"failed", whole(s.failed)}, {"error", s.error},
    };
    std::ostringstream text;
    text << table << "\n";
    write_file_atomically(shards_dir(out) / (s.shard.file_stem() + ".toml"), text.str());
}

std::vector<ShardState> read_shard_states(const fs::path& out) {
    const fs::path dir = shards_dir(out);
    std::vector<ShardState> states;
    std::error_code error;
    if (!fs::is_directory(dir, error)) return states;
    for (fs::directory_iterator it(dir, error), end; it != end; it.increment(error))
        if (it->path().extension() == ".toml") states.push_back(parse_state(it->path()));
    require(!error, printable(dir.string()) + ": cannot list: " + error.message());
    std::sort(states.begin(), states.end(), [](const ShardState& a, const ShardState& b) {
        return std::pair(a.shard.count, a.shard.index) < std::pair(b.shard.count, b.shard.index);
    });
    return states;
}

}  // namespace trikv
