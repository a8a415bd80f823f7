#include "studies/cli/slurm.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <sstream>
#include <string_view>

#include "framework/error.hpp"
#include "framework/files.hpp"
#include "studies/cluster/shards.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

// A value as an error message shows it: one line, at most 40 characters.
std::string shown(const std::string& value) {
    std::string out = value.size() > 40 ? value.substr(0, 40) + "..." : value;
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return out;
}

// Values written into #SBATCH lines, which no shell parses: only characters Slurm's own
// partition names and time formats use, so a value can never add a line or an option.
void check_sbatch_value(const std::string& option, const std::string& value, const std::string& allowed) {
    bool ok = !value.empty();
    for (char c : value) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || allowed.find(c) != std::string::npos);
    require(ok, option + ": '" + shown(value) + "': expected letters, digits or any of \"" + allowed + "\"");
}

// Characters sbatch rewrites in an #SBATCH line's value (docs/cluster.md).
constexpr std::string_view kUnsafeInSbatch{" \t\n\r\v\f%\"'\\", 10};

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string header(const std::string& name, int cpus, const SlurmOptions& options, const fs::path& log) {
    std::ostringstream out;
    out << "#!/bin/bash\n"
        << "# Written by `trikv study --slurm` (docs/cluster.md).\n"
        << "#SBATCH --job-name=" << name << "\n"
        << "#SBATCH --ntasks=1\n"
        << "#SBATCH --cpus-per-task=" << cpus << "\n"
        << "#SBATCH --output=" << log.string() << "\n"
        << "#SBATCH --chdir=" << fs::current_path().string() << "\n";
    if (!options.partition.empty()) out << "#SBATCH --partition=" << options.partition << "\n";
    if (!options.time.empty()) out << "#SBATCH --time=" << options.time << "\n";
    return out.str();
}

// Runs a command through the shell; its output (stdout and stderr) and exit status.
std::pair<std::string, int> run_command(const std::string& command) {
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    require(pipe != nullptr, "--slurm: cannot run " + command);
    std::string output;
    char buffer[4096];
    for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, got);
    const int status = ::pclose(pipe);
    return {output, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// `sbatch --parsable` prints JOBID or JOBID;CLUSTER.
std::string submit(const std::string& arguments) {
    const auto [output, status] = run_command("sbatch --parsable " + arguments);
    const std::string id = output.substr(0, output.find_first_of(";\n"));
    const bool numeric = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
    const std::string first_line = output.substr(0, output.find('\n'));
    require(status == 0 && numeric, "--slurm: sbatch " + arguments + " failed (exit " + std::to_string(status) + "): " + first_line);
    return id;
}

}  // namespace

SlurmJobs submit_study_to_slurm(StudySpec spec, const SlurmOptions& options, const std::string& trikv) {
    require(options.shards >= 1 && options.shards <= kMaxShards,
            "--shards: " + std::to_string(options.shards) + ": expected 1 to " + std::to_string(kMaxShards));
    require(options.cpus >= 1 && options.cpus <= 4096, "--cpus: " + std::to_string(options.cpus) + ": expected 1 to 4096");
    if (!options.partition.empty()) check_sbatch_value("--partition", options.partition, "_-.,");
    // Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or no limit.
    static const std::regex time_format(R"(\d+(:\d+){0,2}|\d+-\d+(:\d+){0,2}|UNLIMITED|INFINITE)");
    require(options.time.empty() || std::regex_match(options.time, time_format),
            "--time: '" + shown(options.time) + "': expected minutes, HH:MM:SS or D-HH:MM:SS");
    require(!spec.out.empty(), "study: --slurm needs an output directory (out)");
    spec.out = fs::absolute(spec.out).lexically_normal().string();
    spec.threads = options.cpus;  // the point keys hold the threads: every task uses the same
    validate_study(spec);
    // sbatch splits #SBATCH lines at white space, strips quotes and backslashes, and expands
    // %-patterns in --output: such a path would name another file and every job die unseen.
    for (const std::string& path : {spec.out, fs::current_path().string()})
        require(path.find_first_of(kUnsafeInSbatch) == std::string::npos,
                "--slurm: '" + printable(path) + "': a path with white space, '%', a quote or a backslash cannot go "
                "into an sbatch script's #SBATCH lines");

    const fs::path dir = fs::path(spec.out) / "slurm";
    std::error_code error;
    fs::create_directories(dir, error);
    require(!error, "study: out = '" + spec.out + "': cannot create " + dir.string() + ": " + error.message());
    const fs::path study = dir / "study.toml";
    const std::string shards = std::to_string(options.shards);
    std::string name = "trikv-" + spec.name;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';

    std::string command = "exec " + shell_quote(trikv);
    for (const std::string& plugin : options.plugins) command += " --plugin " + shell_quote(plugin);
    SlurmJobs jobs;
    jobs.array_script = header(name, options.cpus, options, dir / ("shard-%a-of-" + shards + ".log")) +
                        "#SBATCH --array=0-" + std::to_string(options.shards - 1) + "\n" + command +
                        " study " + shell_quote(study.string()) + " --shard \"${SLURM_ARRAY_TASK_ID}/" + shards + "\"\n";
    jobs.merge_script = header(name + "-merge", 1, options, dir / "merge.log") + command + " study " + shell_quote(study.string()) + " --merge\n";
    write_file_atomically(study, to_toml(spec));
    write_file_atomically(dir / "shards.sbatch", jobs.array_script);
    write_file_atomically(dir / "merge.sbatch", jobs.merge_script);
    if (options.dry_run) return jobs;

    jobs.array_job = submit(shell_quote((dir / "shards.sbatch").string()));
    jobs.merge_job = submit("--dependency=afterany:" + jobs.array_job + " " + shell_quote((dir / "merge.sbatch").string()));
    return jobs;
}

}  // namespace trikv
