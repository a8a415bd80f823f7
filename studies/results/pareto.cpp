#include "studies/results/pareto.hpp"

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
        const double error = rows[i].rel_l2_error <= kExactTolerance ? 0 : rows[i].rel_l2_error;
        return std::array<double, 3>{rows[i].step_ms_median, rows[i].bytes, error};
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
    // var rows also group by scale: each scale step, and the whole generation (scale 0). Data
    // differ in content (sparse data's s, say), so points on different data are never compared;
    // grouped heads and each score variant are other computations, so other groups too.
    std::map<std::tuple<Workload, std::size_t, std::size_t, std::size_t, std::size_t, std::string, std::size_t,
                        std::string>,
             std::vector<std::size_t>>
        groups;
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].ok() && !is_matrix_baseline(rows[i]))
            groups[{rows[i].workload, rows[i].scale, rows[i].n, rows[i].d, rows[i].heads, rows[i].data,
                    rows[i].kv_heads, rows[i].variant}]
                .push_back(i);

    std::vector<ParetoPoint> points;
    std::size_t group = 0;
    auto add = [&](const char* front, const std::vector<std::size_t>& members, const std::vector<std::size_t>& chosen) {
        for (std::size_t k : chosen) points.push_back({front, rows[members[k]], members[k], group});
    };
    for (const auto& [key, members] : groups) {
        ++group;
        std::vector<std::size_t> exact;
        for (std::size_t i : members)
            if (rows[i].exact && rows[i].rel_l2_error <= exact_tolerance) exact.push_back(i);
        std::vector<ResultRow> exact_rows, member_rows;
        for (std::size_t i : exact) exact_rows.push_back(rows[i]);
        for (std::size_t i : members) member_rows.push_back(rows[i]);
        add("exact", exact, time_memory_front(exact_rows));
        const bool has_approximate =
            std::any_of(members.begin(), members.end(), [&](std::size_t i) { return !rows[i].exact; });
        if (has_approximate) add("approximate", members, time_memory_error_front(member_rows));
    }
    return points;
}

void write_pareto_csv(const std::filesystem::path& path, const std::vector<ParetoPoint>& points) {
    std::string text = "front," + csv_header() + "\n";
    for (const ParetoPoint& p : points) text += p.front + "," + to_csv_line(p.row) + "\n";
    write_file_atomically(path, text);
}

}  // namespace trikv
