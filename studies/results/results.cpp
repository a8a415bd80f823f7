#include "studies/results/results.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "framework/error.hpp"
#include "framework/files.hpp"

namespace trikv {

std::string csv_quote(const std::string& field) {
    if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
    std::string out = "\"";
    for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' || c == '\r' ? ' ' : c);
    return out + "\"";
}

std::string csv_fields(const std::vector<std::string>& fields) {
    std::string line;  // a comma before every field but the first, empty fields included
    for (std::size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_quote(fields[i]);
    return line;
}

namespace {

// One accessor pair per column keeps the schema, the writer and the reader in one table.
struct Column {
    const char* name;
    std::function<std::string(const ResultRow&)> get;
    std::function<void(ResultRow&, const std::string&)> set;
    ColumnKind kind;
};

double parse_double(const std::string& text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    require(error == std::errc() && end == text.data() + text.size(), "'" + text + "' is not a number");
    return value;
}

// A whole number that fits `Int` (no sign, no exponent: the writer uses std::to_string).
template <class Int>
Int parse_whole(const std::string& text) {
    unsigned long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    require(error == std::errc() && end == text.data() + text.size() && !text.empty() &&
                value <= static_cast<unsigned long long>(std::numeric_limits<Int>::max()),
            "'" + text + "' is not a whole number in [0, " + std::to_string(std::numeric_limits<Int>::max()) + "]");
    return static_cast<Int>(value);
}

#define TEXT(field) {#field, [](const ResultRow& r) { return r.field; }, [](ResultRow& r, const std::string& v) { r.field = v; }, ColumnKind::text}
#define REAL(field) {#field, [](const ResultRow& r) { return shortest_text(r.field); }, [](ResultRow& r, const std::string& v) { r.field = parse_double(v); }, ColumnKind::real}
#define KIND(field) {#field, [](const ResultRow& r) { return name_of(r.field); }, [](ResultRow& r, const std::string& v) { r.field = parse_kind<decltype(r.field)>(v, #field); }, ColumnKind::text}
#define WHOLE(field) {#field, [](const ResultRow& r) { return std::to_string(r.field); }, [](ResultRow& r, const std::string& v) { r.field = parse_whole<decltype(r.field)>(v); }, ColumnKind::whole}

const std::vector<Column>& columns() {
    static const std::vector<Column> table = {
        TEXT(cache), TEXT(cache_type),
        {"exact", [](const ResultRow& r) { return std::string(r.exact ? "1" : "0"); },
         [](ResultRow& r, const std::string& v) { r.exact = v == "1"; }, ColumnKind::whole},
        KIND(workload), WHOLE(scale), WHOLE(side), WHOLE(n), WHOLE(d), WHOLE(heads), TEXT(dtype), TEXT(data), WHOLE(seed),
        REAL(attention_scale), WHOLE(warmup), WHOLE(repetitions), WHOLE(threads),
        REAL(bytes), REAL(logical_bytes), REAL(transient_peak_bytes), REAL(rss_peak_bytes),
        REAL(step_ms_median), REAL(step_ms_p25), REAL(step_ms_p75), REAL(step_ms_min),
        REAL(flops), REAL(bytes_moved), REAL(gflops), REAL(gbps), REAL(gflops_fraction), REAL(gbps_fraction),
        REAL(rel_l2_error), REAL(max_abs_error), REAL(score_bound), REAL(subgen_normalised_error),
        WHOLE(kv_heads), TEXT(variant), REAL(k2_bias), REAL(v2_bias), TEXT(bytes_source), TEXT(trace_layer),
        TEXT(trace_head),
        // the median step time's interval; accuracy over many query positions
        REAL(step_ms_median_ci_low), REAL(step_ms_median_ci_high), REAL(step_ms_median_ci_level),
        WHOLE(accuracy_positions), REAL(rel_error_median), REAL(rel_error_p90), REAL(rel_error_max),
        REAL(value_error_median), REAL(value_error_p90), REAL(value_error_max),
        TEXT(system), TEXT(budget), TEXT(host), KIND(status), TEXT(reason), TEXT(key),
    };
    return table;
}

#undef TEXT
#undef REAL
#undef KIND
#undef WHOLE

// Columns added after the first files were written: a file without them still reads.
bool is_later_column(const std::string& name) {
    for (const char* later : {"scale", "side", "attention_scale", "warmup", "repetitions", "threads", "score_bound",
                              "subgen_normalised_error", "host", "bytes_source", "kv_heads", "variant", "k2_bias",
                              "v2_bias", "trace_layer", "trace_head", "step_ms_median_ci_low",
                              "step_ms_median_ci_high", "step_ms_median_ci_level", "accuracy_positions",
                              "rel_error_median", "rel_error_p90", "rel_error_max", "value_error_median",
                              "value_error_p90", "value_error_max", "logical_bytes",
                              "system", "budget"})
        if (name == later) return true;
    return false;
}

struct Field {
    std::string text;
    std::size_t column;  // 1-based, of the field's first character
};

// Splits one CSV line (RFC 4180 quoting, no embedded newlines: the writer replaces them).
std::vector<Field> split_csv(const std::string& line, const std::string& where) {
    std::vector<Field> fields{{"", 1}};
    bool quoted = false;
    std::size_t quote_column = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
            fields.back().text += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
            quote_column = i + 1;
        } else if (c == ',' && !quoted) {
            fields.push_back({"", i + 2});
        } else {
            fields.back().text += c;
        }
    }
    require(!quoted, where + ", column " + std::to_string(quote_column) + ": a quoted field is never closed");
    return fields;
}

// "0123456789abcdef", or "0123456789abcdef/3" on var's per-scale rows.
bool is_key(const std::string& key) {
    const std::size_t slash = key.find('/');
    const std::string hash = key.substr(0, slash);
    const bool hex = hash.size() == 16 && hash.find_first_not_of("0123456789abcdef") == std::string::npos;
    const std::string scale = slash == std::string::npos ? "1" : key.substr(slash + 1);
    return hex && !scale.empty() && scale.find_first_not_of("0123456789") == std::string::npos;
}

// The file's columns, in its order: every name known, none twice, every original one present.
std::vector<const Column*> header_columns(const std::string& line, const std::string& where) {
    std::vector<const Column*> order;
    for (const Field& field : split_csv(line, where)) {
        const auto known = std::find_if(columns().begin(), columns().end(),
                                        [&](const Column& c) { return field.text == c.name; });
        require(known != columns().end(), where + ", column " + std::to_string(field.column) + ": '" + printable(field.text) +
                                              "' is not a results column (expected the header " + csv_header() + ")");
        require(std::find(order.begin(), order.end(), &*known) == order.end(),
                where + ", column " + std::to_string(field.column) + ": column '" + field.text + "' is given twice");
        order.push_back(&*known);
    }
    for (const Column& c : columns())
        require(is_later_column(c.name) || std::find(order.begin(), order.end(), &c) != order.end(),
                where + ": the header lacks the column '" + std::string(c.name) + "'");
    return order;
}

}  // namespace

std::string point_key_of(const ResultRow& row) { return row.key.substr(0, row.key.find('/')); }

std::vector<std::pair<std::string, ColumnKind>> result_schema() {
    std::vector<std::pair<std::string, ColumnKind>> schema;
    for (const Column& c : columns()) schema.emplace_back(c.name, c.kind);
    return schema;
}

const std::vector<std::string>& result_columns() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const Column& c : columns()) out.push_back(c.name);
        return out;
    }();
    return names;
}

std::string csv_header() { return csv_fields(result_columns()); }

std::string to_csv_line(const ResultRow& row) {
    std::vector<std::string> fields;
    for (const Column& c : columns()) fields.push_back(c.get(row));
    return csv_fields(fields);
}

ResultsTable parse_results_csv(const std::string& text, const std::string& source) {
    require(!text.empty(), source + ": line 1, column 1: the file is empty; expected the header line " + csv_header() +
                               " (delete the file to start afresh)");
    // Named, as it is invisible in the header's own message: editors on Windows add it.
    require(text.rfind("\xef\xbb\xbf", 0) != 0, source + ": line 1, column 1: the file starts with a UTF-8 byte order "
                                                      "mark (bytes EF BB BF); save it without one");
    std::vector<std::string> lines;
    for (std::size_t begin = 0; begin < text.size();) {
        const std::size_t end = std::min(text.find('\n', begin), text.size());
        std::string line = text.substr(begin, end - begin);
        if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF: a file saved on Windows
        lines.push_back(std::move(line));
        begin = end + 1;
    }
    ResultsTable table;
    table.ends_with_newline = text.back() == '\n';
    const std::vector<const Column*> order = header_columns(lines[0], source + ": line 1");
    table.current_schema = order.size() == columns().size() &&
                           std::equal(order.begin(), order.end(), columns().begin(),
                                      [](const Column* a, const Column& b) { return a == &b; });
    std::map<std::string, std::size_t> key_lines;
    for (std::size_t index = 1; index < lines.size(); ++index) {
        if (lines[index].empty()) continue;
        const std::string where = source + ": line " + std::to_string(index + 1);
        const std::vector<Field> fields = split_csv(lines[index], where);
        require(fields.size() == order.size(),
                where + ", column " + std::to_string(lines[index].size() + 1) + ": " + std::to_string(fields.size()) +
                    " fields where the header has " + std::to_string(order.size()) +
                    (fields.size() < order.size() ? " (the row is cut short)" : ""));
        ResultRow row;
        for (std::size_t i = 0; i < fields.size(); ++i) {
            const std::string at = where + ", column " + std::to_string(fields[i].column);
            try {
                order[i]->set(row, fields[i].text);
            } catch (const Error& e) {
                throw Error(at + " (" + order[i]->name + "): " + e.what());
            }
            if (std::string(order[i]->name) != "key") continue;
            require(is_key(row.key), at + ": key '" + printable(row.key) +
                                         "' is not 16 hex digits (optionally /scale): the row is cut short or edited");
            const auto [previous, fresh] = key_lines.emplace(row.key, index + 1);
            require(fresh, at + ": key " + row.key + " is already on line " + std::to_string(previous->second) +
                               "; a point is recorded once (delete one of the two lines)");
        }
        table.rows.push_back(std::move(row));
    }
    return table;
}

ResultsTable read_results_table(const std::filesystem::path& path) {
    // A regular file only, checked on the opened descriptor: a FIFO in its place would block.
    constexpr std::uint64_t kMaxResultsFileBytes = std::uint64_t(1) << 32;  // ~10 million points
    return parse_results_csv(read_regular_file(path, kMaxResultsFileBytes), path.string());
}

std::vector<ResultRow> read_results_csv(const std::filesystem::path& path) { return read_results_table(path).rows; }

void write_results_csv(const std::filesystem::path& path, const std::vector<ResultRow>& rows) {
    std::string text = csv_header() + "\n";
    for (const ResultRow& row : rows) text += to_csv_line(row) + "\n";
    write_file_atomically(path, text);
}

}  // namespace trikv
