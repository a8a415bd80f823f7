// trikv.parse_budget, budget_bytes, accuracy_ladder, fit_budget: caches/budget.hpp's one rule
// for fitting a cache type to a byte budget, for Python (python/trikv/model/budget.py uses it).
#include <optional>

#include <pybind11/stl.h>

#include "arrays.hpp"
#include "bindings.hpp"
#include "caches/budget.hpp"
#include "framework/error.hpp"

namespace trikv::python {
namespace {

using Arrays = std::vector<py::array_t<float, py::array::c_style>>;

CacheShape shape_of_cache(std::size_t heads, std::size_t d, std::optional<std::size_t> kv_heads) {
    return CacheShape{.heads = heads, .dim = d, .scale = 0, .kv_heads = kv_heads.value_or(heads)};
}

// data: sequences of (k1, k2, v1, v2), each [tokens, kv_heads, d]. `held` keeps the float32
// arrays the BudgetData point into alive.
std::vector<BudgetData> budget_data(const std::optional<py::list>& data, const CacheShape& shape, Arrays& held) {
    std::vector<BudgetData> sequences;
    if (!data) return sequences;
    for (const py::handle item : *data) {
        const auto streams = item.cast<py::sequence>();
        require(streams.size() == 4, "data: each sequence is (k1, k2, v1, v2)");
        const char* names[] = {"k1", "k2", "v1", "v2"};
        BudgetData sequence;
        const float** pointers[] = {&sequence.k1, &sequence.k2, &sequence.v1, &sequence.v2};
        for (std::size_t s = 0; s < 4; ++s) {
            held.push_back(finite_array<float>(streams[s], names[s]));
            const py::array& array = held.back();
            require(array.ndim() == 3 && std::size_t(array.shape(1)) == shape.kv_heads &&
                        std::size_t(array.shape(2)) == shape.dim,
                    std::string("data: ") + names[s] + ": shape " + shape_text(array) + "; expected [tokens, " +
                        std::to_string(shape.kv_heads) + ", " + std::to_string(shape.dim) + "]");
            require(s == 0 || array.shape(0) == held[held.size() - 1 - s].shape(0),
                    std::string("data: ") + names[s] + " holds another number of tokens than k1");
            *pointers[s] = held.back().data();
        }
        sequence.tokens = std::size_t(held.back().shape(0));
        sequences.push_back(sequence);
    }
    return sequences;
}

BudgetScope scope_of(std::size_t tokens, const std::optional<std::map<std::string, double>>& at_most) {
    return BudgetScope{.tokens = tokens, .at_most = at_most.value_or(std::map<std::string, double>{})};
}

}  // namespace

void bind_budgets(py::module_& m) {
    m.attr("BUDGET_REFERENCE") = kBudgetReference;
    m.def(
        "parse_budget",
        [](const std::string& text, std::size_t heads, std::size_t d, std::size_t tokens,
           std::optional<std::size_t> kv_heads, const std::string& field) {
            return Budget::parse(text, field).resolve(shape_of_cache(heads, d, kv_heads), tokens);
        },
        py::arg("text"), py::arg("heads"), py::arg("d"), py::arg("tokens"), py::arg("kv_heads") = py::none(),
        py::arg("field") = "budget",
        "Bytes of a budget written \"P%\" (of the exact BUDGET_REFERENCE cache's resident bytes at this\n"
        "shape and length) or as a whole number of bytes; ValueError (one line naming `field`) otherwise.");
    m.def(
        "budget_bytes",
        [](const std::string& spec, std::size_t heads, std::size_t d, std::size_t tokens,
           std::optional<std::size_t> kv_heads, std::optional<py::list> data) {
            const CacheShape shape = shape_of_cache(heads, d, kv_heads);
            Arrays held;
            const std::vector<BudgetData> sequences = budget_data(data, shape, held);
            const py::gil_scoped_release unlocked;
            return budget_bytes(spec, shape, tokens, sequences);
        },
        py::arg("spec"), py::arg("heads"), py::arg("d"), py::arg("tokens"), py::arg("kv_heads") = py::none(),
        py::arg("data") = py::none(),
        "The one counting rule of budgets: resident bytes after `tokens` tokens by the cache's cost model;\n"
        "a type whose bytes depend on its keys (SubGen) is first filled with each of `data`'s sequences\n"
        "((k1, k2, v1, v2), each [tokens, kv_heads, d]) and the largest count is taken.");
    m.def(
        "accuracy_ladder",
        [](const std::string& spec, std::size_t tokens, std::optional<std::map<std::string, double>> at_most) {
            return accuracy_ladder(spec, scope_of(tokens, at_most));
        },
        py::arg("spec"), py::arg("tokens"), py::arg("at_most") = py::none(),
        "The settings a budget chooses among for spec's type, least accurate first (its own rule), without\n"
        "any whose parameter exceeds a cap in `at_most` ({'w1': 8}); ValueError when it has no rule.");
    m.def(
        "fit_budget",
        [](const std::string& spec, std::size_t heads, std::size_t d, std::size_t tokens, std::size_t budget,
           std::optional<std::size_t> kv_heads, std::optional<py::list> data,
           std::optional<std::map<std::string, double>> at_most) -> std::optional<std::pair<std::string, std::size_t>> {
            const CacheShape shape = shape_of_cache(heads, d, kv_heads);
            Arrays held;
            const std::vector<BudgetData> sequences = budget_data(data, shape, held);
            const py::gil_scoped_release unlocked;
            const std::optional<BudgetFit> fit = fit_budget(spec, shape, budget, scope_of(tokens, at_most), sequences);
            if (!fit) return std::nullopt;
            return std::pair(fit->spec, fit->bytes);
        },
        py::arg("spec"), py::arg("heads"), py::arg("d"), py::arg("tokens"), py::arg("budget"),
        py::arg("kv_heads") = py::none(), py::arg("data") = py::none(), py::arg("at_most") = py::none(),
        "(spec, bytes) of the most accurate setting of spec's type (accuracy_ladder) whose budget_bytes\n"
        "are at most `budget`, or None when none fits.");
}

}  // namespace trikv::python
