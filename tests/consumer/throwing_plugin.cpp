// A plugin whose static initialiser throws (a bug in someone else's library): loading it must
// give trikv's one-line error and exit status 2, not "terminate called…" and an abort.
#include <stdexcept>

namespace {

struct ThrowsWhenLoaded {
    ThrowsWhenLoaded() { throw std::runtime_error("plugin initialiser failed\x1b[31m"); }
};

const ThrowsWhenLoaded instance;

}  // namespace
