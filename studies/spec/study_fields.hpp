#pragma once
// The fields of a study that choose its points, in one table (study_fields.cpp): each row is a
// key a study file takes (top level or [data]), the command-line flag that overrides it, how
// one value is read and checked (the same for both), whether it is a sweep, and what it adds to
// the point key. A new key is one row; `trikv study` and `trikv bench` register every row as a
// flag, parse_study reads every row from the file, StudyPoint::key() asks every row.
#include <functional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "studies/spec/bounds.hpp"
#include "studies/spec/study_spec.hpp"

namespace trikv {

// One value of a field as given: a TOML node (a study file) or a text (the command line). The
// readers check type and range; an error names the field and the value.
class GivenValue {
public:
    GivenValue(const toml::node& node, std::string field) : node_(&node), field_(std::move(field)) {}
    GivenValue(std::string text, std::string field) : text_(std::move(text)), field_(std::move(field)) {}

    long long whole(bounds::Range range) const;
    double real(bounds::RealRange range) const;
    std::string text() const;
    std::string text_or_whole() const;  // a string, or a TOML integer as its digits
    const std::string& field() const { return field_; }

private:
    std::string named(const std::string& value) const;  // "field = value", or the value alone
    const toml::node* node_ = nullptr;
    std::string text_;
    std::string field_;
};

struct StudyField {
    std::string key;   // in the study file; under [data] when `in_data`
    bool in_data = false;
    std::string flag;  // on the command line, e.g. --n, --kv-heads, --data (for data.kind)
    std::string help;  // empty: read from files only (dtype, kept for old study files)
    bool list = false;  // takes several values: a point per value (a sweep), or the schedule
    // Writes the values given (one unless `list`) into the spec.
    std::function<void(const std::vector<GivenValue>&, StudySpec&)> read;
    // The field's part of the point key ("name=value"), or "" where it adds none: fields added
    // after keys were first written add theirs only where they differ from what came before.
    std::function<std::string(const StudyPoint&)> key_part;
    std::string value_name = "TEXT";  // in help texts: INT, NUMBER, NAME, ...
};

// Every field, in the order of the point key (the file's other keys: name, caches, grid, out,
// figures, mem_limit, measure_peaks are the study's, not its points').
const std::vector<StudyField>& study_fields();

// Reads every field present in the study file's top level and its [data] table (may be null).
void read_study_fields(const toml::table& top, const toml::table* data, const std::string& source, StudySpec& spec);

// Overrides the field with the texts given on the command line.
void apply_field_texts(const StudyField& field, const std::vector<std::string>& texts, StudySpec& spec);

}  // namespace trikv
