#include "studies/results.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

#include "framework/error.hpp"

namespace trikv {
namespace {

// One accessor pair per column keeps the schema, the writer and the reader in one table.
struct Column {
    const char* name;
    std::function<std::string(const ResultRow&)> get;
    std::function<void(ResultRow&, const std::string&)> set;
};

std::string number(double value) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

double parse_double(const std::string& text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    require(error == std::errc() && end == text.data() + text.size(), "'" + text + "' is not a number");
    return value;
}

#define TEXT(field) {#field, [](const ResultRow& r) { return r.field; }, [](ResultRow& r, const std::string& v) { r.field = v; }}
#define REAL(field) {#field, [](const ResultRow& r) { return number(r.field); }, [](ResultRow& r, const std::string& v) { r.field = parse_double(v); }}
#define WHOLE(field) {#field, [](const ResultRow& r) { return std::to_string(r.field); }, [](ResultRow& r, const std::string& v) { r.field = static_cast<decltype(r.field)>(parse_double(v)); }}

const std::vector<Column>& columns() {
    static const std::vector<Column> table = {
        TEXT(cache), TEXT(cache_type),
        {"exact", [](const ResultRow& r) { return std::string(r.exact ? "1" : "0"); },
         [](ResultRow& r, const std::string& v) { r.exact = v == "1"; }},
        TEXT(workload), WHOLE(scale), WHOLE(side), WHOLE(n), WHOLE(d), WHOLE(heads), TEXT(dtype), TEXT(data), WHOLE(seed),
        REAL(bytes), REAL(transient_peak_bytes), REAL(rss_peak_bytes),
        REAL(step_ms_median), REAL(step_ms_p25), REAL(step_ms_p75), REAL(step_ms_min),
        REAL(flops), REAL(bytes_moved), REAL(gflops), REAL(gbps), REAL(gflops_fraction), REAL(gbps_fraction),
        REAL(rel_l2_error), REAL(max_abs_error), TEXT(status), TEXT(reason), TEXT(key), TEXT(host),
    };
    return table;
}

#undef TEXT
#undef REAL
#undef WHOLE

// Columns added after the first files were written (scale and side with the var workload, host
// with sharded studies): files written before lack them, and their rows get the defaults.
bool is_later_column(const std::string& name) { return name == "scale" || name == "side" || name == "host"; }

std::string quote(const std::string& field) {
    if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
    std::string out = "\"";
    for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' || c == '\r' ? ' ' : c);
    return out + "\"";
}

// Splits one CSV line (RFC 4180 quoting, no embedded newlines: the writer replaces them).
std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
            fields.back() += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    return fields;
}

}  // namespace

const std::vector<std::string>& result_columns() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const Column& c : columns()) out.push_back(c.name);
        return out;
    }();
    return names;
}

std::string to_csv_line(const ResultRow& row) {
    std::string line;
    for (const Column& c : columns()) {
        if (!line.empty()) line += ',';
        line += quote(c.get(row));
    }
    return line;
}

std::vector<ResultRow> read_results_csv(const std::filesystem::path& path) {
    std::ifstream in(path);
    require(in.good(), path.string() + ": cannot open");
    std::string line;
    std::getline(in, line);
    const std::vector<std::string> header = split_csv(line);
    std::vector<const Column*> order;  // the file's columns, in its order
    for (const Column& c : columns()) order.push_back(&c);
    std::erase_if(order, [&](const Column* c) {
        return is_later_column(c->name) && std::find(header.begin(), header.end(), c->name) == header.end();
    });
    std::vector<std::string> expected;
    for (const Column* c : order) expected.push_back(c->name);
    require(header == expected, path.string() + ": line 1: header does not match the results schema");
    std::vector<ResultRow> rows;
    for (std::size_t number = 2; std::getline(in, line); ++number) {
        if (line.empty()) continue;
        const std::vector<std::string> fields = split_csv(line);
        const std::string where = path.string() + ": line " + std::to_string(number);
        require(fields.size() == order.size(), where + ": " + std::to_string(fields.size()) +
                                                   " fields; expected " + std::to_string(order.size()));
        ResultRow row;
        for (std::size_t i = 0; i < fields.size(); ++i) {
            try {
                order[i]->set(row, fields[i]);
            } catch (const Error& e) {
                throw Error(where + ": column " + order[i]->name + ": " + e.what());
            }
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

void write_results_csv(const std::filesystem::path& path, const std::vector<ResultRow>& rows) {
    std::string text;
    for (const std::string& name : result_columns()) {
        if (!text.empty()) text += ',';
        text += name;
    }
    text += '\n';
    for (const ResultRow& row : rows) text += to_csv_line(row) + "\n";
    write_file_atomically(path, text);
}

}  // namespace trikv
