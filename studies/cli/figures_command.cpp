// `trikv figures RESULTS.csv --out DIR` — draws the figures of any table with results.csv's
// columns (a study's, `trikv bench --csv`, `trikv prefill --csv`, the peer benchmarks' with
// trikv beside PyTorch) through the study's figure system: the same templates, style and
// colours. A study draws its own figures when it finishes; this is for the tables that are not
// a study's.
#include <iostream>

#include "framework/error.hpp"
#include "studies/cli/commands.hpp"
#include "studies/figures/figures.hpp"
#include "studies/results/results.hpp"

namespace trikv::cli {
namespace {

struct FiguresOptions {
    std::string results;
    std::string out;
    std::vector<std::string> figures = {"pareto", "scaling"};
};

void run(const FiguresOptions& opt) {
    const std::vector<ResultRow> rows = read_results_csv(opt.results);  // every error before drawing
    const FigureReport report = write_figures(opt.out, rows, opt.figures);
    for (const auto& file : report.files) std::cout << file.string() << "\n";
    for (const std::string& note : report.notes) std::cerr << "figures: " << note << "\n";
}

}  // namespace

void add_figures_command(CLI::App& app) {
    auto opt = std::make_shared<FiguresOptions>();
    CLI::App* command =
        app.add_subcommand("figures", "Draw the figures of a table with results.csv's columns (bench, prefill, peers)");
    command->add_option("results", opt->results, "the table (results.csv's columns)")->required();
    command->add_option("--out", opt->out, "directory to draw into (created if missing)")->required();
    command->add_option("--figure", opt->figures, "a figure to draw (repeatable; default: pareto and scaling)")
        ->check(CLI::IsMember(figure_names()));
    command->callback([opt] { run(*opt); });
}

}  // namespace trikv::cli
