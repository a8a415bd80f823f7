#include "studies/pareto.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <tuple>

#include "caches/registry.hpp"

namespace trikv {

std::vector<std::size_t> time_memory_front(const std::vector<ResultRow>& rows) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].ok()) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return std::tie(rows[a].bytes, rows[a].step_ms_median) < std::tie(rows[b].bytes, rows[b].step_ms_median);
    });
    std::vector<std::size_t> front;
    for (std::size_t i : order)
        if (front.empty() || rows[i].step_ms_median < rows[front.back()].step_ms_median) front.push_back(i);
    return front;
}

std::vector<std::size_t> time_memory_error_front(const std::vector<ResultRow>& rows) {
    auto key = [&](std::size_t i) {
        return std::array<double, 3>{rows[i].step_ms_median, rows[i].bytes, rows[i].rel_l2_error};
    };
    auto dominates = [&](std::size_t a, std::size_t b) {
        const auto x = key(a), y = key(b);
        bool strictly = false;
        for (int k = 0; k < 3; ++k) {
            if (x[k] > y[k]) return false;
            strictly = strictly || x[k] < y[k];
        }
        return strictly || a < b;  // an identical earlier point also removes the later one
    };
    std::vector<std::size_t> front;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i].ok()) continue;
        bool dominated = false;
        for (std::size_t j = 0; j < rows.size() && !dominated; ++j)
            dominated = j != i && rows[j].ok() && dominates(j, i);
        if (!dominated) front.push_back(i);
    }
    return front;
}

bool is_matrix_baseline(const ResultRow& row) {
    for (const CacheType* type : cache_types())
        if (type->name == row.cache_type) return type->attention == AttentionKind::matrix;
    return false;
}

std::vector<ParetoPoint> pareto_fronts(const std::vector<ResultRow>& rows, double exact_tolerance) {
    // var rows also group by scale: each scale step, and the whole generation (scale 0).
    std::map<std::tuple<std::string, std::size_t, std::size_t, std::size_t, std::size_t>, std::vector<ResultRow>> groups;
    for (const ResultRow& row : rows)
        if (row.ok() && !is_matrix_baseline(row)) groups[{row.workload, row.scale, row.n, row.d, row.heads}].push_back(row);

    std::vector<ParetoPoint> points;
    for (const auto& [group, members] : groups) {
        std::vector<ResultRow> exact;
        for (const ResultRow& row : members)
            if (row.rel_l2_error <= exact_tolerance) exact.push_back(row);
        for (std::size_t i : time_memory_front(exact)) points.push_back({"exact", exact[i]});
        const bool has_approximate = std::any_of(members.begin(), members.end(), [](const ResultRow& r) { return !r.exact; });
        if (has_approximate)
            for (std::size_t i : time_memory_error_front(members)) points.push_back({"approximate", members[i]});
    }
    return points;
}

void write_pareto_csv(const std::filesystem::path& path, const std::vector<ParetoPoint>& points) {
    std::string text = "front";
    for (const std::string& name : result_columns()) text += "," + name;
    text += '\n';
    for (const ParetoPoint& p : points) text += p.front + "," + to_csv_line(p.row) + "\n";
    write_file_atomically(path, text);
}

}  // namespace trikv
