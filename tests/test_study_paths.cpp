// A study file names its data relative to itself (load_study), so it runs from any directory;
// a data directory that is not there is reported as missing, not as an unreadable q.npy.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "framework/npy.hpp"
#include "studies/spec/study_spec.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

void write_study(const fs::path& file, const std::string& data_dir) {
    std::ofstream(file) << "caches = [\"factor\"]\nn = [4]\nd = [4]\nwarmup = 1\nrepetitions = 1\n"
                        << "[data]\nkind = \"npy\"\ndir = \"" << data_dir << "\"\n";
}

}  // namespace

TEST_CASE("a study's relative data.dir is resolved against the study file and not the current directory", "[study]") {
    const fs::path dir = trikv::test::fresh_dir("study-paths");
    fs::create_directories(dir / "studies" / "data");
    for (const char* name : {"q", "k1", "k2", "v1", "v2"}) {
        xt::xarray<double> x = xt::ones<double>({8, 4});
        trikv::write_npy(dir / "studies" / "data" / (std::string(name) + ".npy"), trikv::make_npy(x));
    }
    // The test runs in the build tree, where no "data" directory exists.
    REQUIRE_FALSE(fs::exists(fs::current_path() / "data" / "q.npy"));
    write_study(dir / "studies" / "relative.toml", "data");
    const trikv::StudySpec spec = trikv::load_study(dir / "studies" / "relative.toml");
    CHECK(spec.data.dir == (dir / "studies" / "data").string());
    CHECK_NOTHROW(trikv::validate_study(spec));
    CHECK(trikv::expand_study(spec).front().data.tokens == 8);

    // An absolute path is kept as it is.
    write_study(dir / "absolute.toml", (dir / "studies" / "data").string());
    CHECK(trikv::load_study(dir / "absolute.toml").data.dir == (dir / "studies" / "data").string());

    // A missing directory says so, with its resolved path.
    write_study(dir / "studies" / "missing.toml", "nowhere");
    const trikv::StudySpec missing = trikv::load_study(dir / "studies" / "missing.toml");
    CHECK_THROWS_WITH(trikv::validate_study(missing),
                      Contains("data.dir = '" + (dir / "studies" / "nowhere").string() + "': the directory does not exist"));
    fs::remove_all(dir);
}
