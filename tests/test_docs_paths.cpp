// README.md and docs/*.md name the repository's files as repo-relative paths; a path that does
// not exist (a file moved, renamed or never written) fails here, so the docs move with the code.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kSource = TRIKV_SOURCE_DIR;

// A path as the docs write it exists as written, or names a file pair by its stem
// ("attention/softmax" for softmax.hpp and softmax.cpp).
bool exists_in_repo(const std::string& path) {
    const fs::path full = kSource / path;
    return fs::exists(full) || fs::exists(full.string() + ".hpp") || fs::exists(full.string() + ".cpp");
}

std::vector<std::string> missing_paths(const fs::path& doc) {
    // A repo path starts with a top-level folder and is not part of a longer path
    // (results/default/figures/… is an output, build/bin/… a build product).
    static const std::regex path(
        R"((^|[^A-Za-z0-9_./-])((framework|attention|caches|studies|tests|docs|python|scripts|examples|cmake|\.ci)/[A-Za-z0-9_./+-]*[A-Za-z0-9_/]))");
    std::vector<std::string> missing;
    std::ifstream in(doc);
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        for (std::sregex_iterator it(line.begin(), line.end(), path), end; it != end; ++it) {
            const std::string found = (*it)[2];
            const std::size_t after = std::size_t(it->position(2) + it->length(2));
            // A pattern, not a path: theory-*.gp, figures/{a,b}, <name>.
            if (after < line.size() && std::string("*{<").find(line[after]) != std::string::npos) continue;
            if (after + 1 < line.size() && line[after] == '-' && line[after + 1] == '*') continue;
            if (!exists_in_repo(found)) missing.push_back(doc.filename().string() + ":" + std::to_string(number) + ": " + found);
        }
    }
    return missing;
}

}  // namespace

TEST_CASE("every repo path README.md and docs/ name exists", "[docs]") {
    std::vector<fs::path> docs = {kSource / "README.md"};
    for (const fs::directory_entry& entry : fs::directory_iterator(kSource / "docs"))
        if (entry.path().extension() == ".md") docs.push_back(entry.path());
    REQUIRE(docs.size() >= 10);
    std::size_t paths_checked = 0;
    for (const fs::path& doc : docs) {
        const std::vector<std::string> missing = missing_paths(doc);
        for (const std::string& where : missing) FAIL_CHECK("no such path: " + where);
        std::ifstream in(doc);
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        paths_checked += std::size_t(std::count(text.begin(), text.end(), '/'));
    }
    CHECK(paths_checked > 100);
}

TEST_CASE("the docs path check finds a path that does not exist", "[docs]") {
    const fs::path doc = fs::temp_directory_path() / ("trikv-docs-paths-" + std::to_string(::getpid()) + ".md");
    std::ofstream(doc) << "see studies/no_such_file.cpp and caches/registry, not results/default/x\n";
    const std::vector<std::string> missing = missing_paths(doc);
    fs::remove(doc);
    REQUIRE(missing.size() == 1);
    CHECK(missing[0].find("studies/no_such_file.cpp") != std::string::npos);
}
