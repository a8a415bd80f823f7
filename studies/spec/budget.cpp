#include "studies/spec/budget.hpp"

#include <map>
#include <mutex>
#include <set>

#include "caches/budget.hpp"
#include "framework/error.hpp"
#include "studies/measure/token_data.hpp"

namespace trikv {
namespace {

// What a data-dependent type is counted on: the point's own keys and values, its first n
// tokens of the data its measurement generates (so the count is what the point will hold).
struct PointRows {
    std::vector<float> k1, k2, v1, v2;
    std::vector<BudgetData> data;
};

PointRows point_rows(const StudyPoint& point) {
    const bool var = point.workload == Workload::var;
    const TokenData tokens = point_tokens(point, var ? point.n : point.n + point.warmup + point.repetitions);
    PointRows rows;
    gather(tokens.k1, 0, point.n, rows.k1);
    gather(tokens.k2, 0, point.n, rows.k2);
    gather(tokens.v1, 0, point.n, rows.v1);
    gather(tokens.v2, 0, point.n, rows.v2);
    rows.data.push_back({point.n, rows.k1.data(), rows.k2.data(), rows.v1.data(), rows.v2.data()});
    return rows;
}

StudyPoint fit_point(const StudyPoint& point, const Budget& budget) {
    StudyPoint fitted = point;
    fitted.budget = budget.text;
    const CacheShape shape = point.shape();
    const std::size_t bytes = budget.resolve(shape, point.n);
    const PointRows rows = point.type->bytes_depend_on_data ? point_rows(point) : PointRows{};
    const BudgetScope scope{.tokens = point.n};
    if (const std::optional<BudgetFit> fit = fit_budget(point.cache, shape, bytes, scope, rows.data))
        return point_for(fit->spec, fitted);
    const std::string least = accuracy_ladder(point.cache, scope).front();
    const std::size_t lower = least_bytes(least, shape, point.n);  // without filling a data-dependent type
    fitted.unfit = "no setting of '" + point.type->name + "' fits the budget " + budget.text + " (" +
                   std::to_string(bytes) + " bytes): its least accurate, " + least + ", holds " +
                   (point.type->bytes_depend_on_data && lower > bytes ? "at least " + std::to_string(lower)
                                  : std::to_string(budget_bytes(least, shape, point.n, rows.data))) +
                   " bytes at n=" + std::to_string(point.n);
    return fitted;
}

// Fits are kept for the process: expand_study runs more than once per study (validation, then
// the run), and counting a data-dependent type generates the point's data and fills every setting.
StudyPoint remembered_fit(const StudyPoint& point, const Budget& budget) {
    static std::mutex lock;
    static std::map<std::string, StudyPoint> fits;
    const std::string key = point.key() + "|" + budget.text;
    {
        const std::lock_guard<std::mutex> held(lock);
        if (const auto found = fits.find(key); found != fits.end()) return found->second;
    }
    StudyPoint fitted = fit_point(point, budget);
    const std::lock_guard<std::mutex> held(lock);
    return fits.emplace(key, std::move(fitted)).first->second;
}

}  // namespace

std::vector<StudyPoint> fit_budgets(const std::vector<std::string>& budgets, std::vector<StudyPoint> points) {
    if (budgets.empty()) return points;
    std::vector<StudyPoint> fitted;
    std::set<std::string> keys;
    const auto keep = [&](StudyPoint point) {
        if (keys.insert(point.key()).second) fitted.push_back(std::move(point));
    };
    for (const StudyPoint& point : points) {
        if (is_exact(parse_cache_spec(point.cache))) {
            keep(point);
            continue;
        }
        for (const std::string& text : budgets) keep(remembered_fit(point, Budget::parse(text, "study: budget")));
    }
    return fitted;
}

}  // namespace trikv
