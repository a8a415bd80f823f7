#include "studies/spec/study_fields.hpp"

#include <cmath>
#include <type_traits>

#include "caches/registry.hpp"
#include "caches/budget.hpp"
#include "framework/error.hpp"
#include "framework/text.hpp"
#include "studies/spec/toml_text.hpp"

namespace trikv {
namespace {

// Field makers: each row of the table below is one call. `member` is where the value lives in
// the spec: a member pointer, or a function returning a reference (for the [data] table's).
using KeyPart = std::function<std::string(const StudyPoint&)>;

template <class Member>
decltype(auto) member_of(StudySpec& spec, Member member) {
    if constexpr (std::is_member_object_pointer_v<Member>) return (spec.*member);
    else return member(spec);
}

// The field with the name its values take in help texts.
StudyField named(StudyField field, const char* value_name) {
    field.value_name = value_name;
    return field;
}

template <class T>
KeyPart always(const char* name, T StudyPoint::*member) {
    return [=](const StudyPoint& p) { return std::string(name) + "=" + std::to_string(p.*member); };
}

StudyField wholes(const char* key, const char* help, std::vector<std::size_t> StudySpec::*values, bounds::Range range,
                  KeyPart part = {}) {
    return named({key, false, "", help, true,
            [=](const std::vector<GivenValue>& given, StudySpec& spec) {
                (spec.*values).clear();
                for (const GivenValue& value : given) (spec.*values).push_back(std::size_t(value.whole(range)));
            },
            std::move(part)}, "INT");
}

template <class Member>
StudyField whole(const char* key, const char* help, Member member, bounds::Range range, KeyPart part = {}) {
    return named({key, false, "", help, false,
            [=](const std::vector<GivenValue>& given, StudySpec& spec) {
                auto& value = member_of(spec, member);
                value = static_cast<std::remove_reference_t<decltype(value)>>(given.front().whole(range));
            },
            std::move(part)}, "INT");
}

StudyField reals(const char* key, const char* help, std::vector<double> StudySpec::*values, bounds::RealRange range,
                 KeyPart part = {}) {
    return named({key, false, "", help, true,
            [=](const std::vector<GivenValue>& given, StudySpec& spec) {
                (spec.*values).clear();
                for (const GivenValue& value : given) (spec.*values).push_back(value.real(range));
            },
            std::move(part)}, "NUMBER");
}

template <class Member>
StudyField real(const char* key, const char* help, Member member, bounds::RealRange range, KeyPart part = {}) {
    return named({key, false, "", help, false,
            [=](const std::vector<GivenValue>& given, StudySpec& spec) { member_of(spec, member) = given.front().real(range); },
            std::move(part)}, "NUMBER");
}

// One of an enum's names (studies/spec/study_kinds.hpp), or a list of them.
template <class Kind>
StudyField kinds(const char* key, const char* help, std::vector<Kind> StudySpec::*values, KeyPart part = {}) {
    return named({key, false, "", help + (" " + kind_choices<Kind>()), true,
            [=](const std::vector<GivenValue>& given, StudySpec& spec) {
                (spec.*values).clear();
                for (const GivenValue& value : given) (spec.*values).push_back(parse_kind<Kind>(value.text(), value.field()));
            },
            std::move(part)}, "NAME");
}

// A [data] field: the same, with its key under [data] and the flag given.
StudyField in_data(StudyField field, const char* flag) {
    field.in_data = true;
    field.flag = flag;
    return field;
}

// Those added after the first keys were written enter a key only where they differ from what
// points had before them, so results recorded before resume.
const std::vector<StudyField>& table() {
    static const std::vector<StudyField> fields = [] {
        std::vector<StudyField> f = {
            wholes("n", "tokens before the timed steps", &StudySpec::n, bounds::kTokens, always("n", &StudyPoint::n)),
            wholes("d", "head dimension", &StudySpec::d, bounds::kHeadDim, always("d", &StudyPoint::d)),
            wholes("heads", "query heads", &StudySpec::heads, bounds::kHeads, always("heads", &StudyPoint::heads)),
            // Once a study dimension that no cache read (storage is a cache spec's dtype=):
            // every key carries it, so it stays in the key, and old study files may still name it.
            {"dtype", false, "", "", false,
             [](const std::vector<GivenValue>& given, StudySpec&) {
                 const std::string dtype = given.front().text();
                 require(dtype == "float32", "dtype = '" + dtype +
                                                 "' is not supported; queries and outputs are float32 (choose a "
                                                 "cache's storage in its spec, e.g. factor:dtype=bf16)");
             },
             [](const StudyPoint&) { return std::string("dtype=float32"); }},
            {"workload", false, "", "decode | var (var: scale-wise generation, docs/math.md §7)", false,
             [](const std::vector<GivenValue>& given, StudySpec& spec) {
                 spec.workload = parse_kind<Workload>(given.front().text(), given.front().field());
             },
             [](const StudyPoint& p) { return "workload=" + name_of(p.workload); },
             "NAME"},
            in_data(kinds("kind", "data kind:", &StudySpec::kinds,
                          [](const StudyPoint& p) {
                              // npy and trace data by their content: rewriting q.npy in place makes
                              // new points, moving the folder does not.
                              const DataSpec& data = p.data;
                              if (data.kind == DataKind::npy) return "data=npy(" + data.digest + ")";
                              if (data.kind == DataKind::trace)
                                  return "data=trace(" + data.digest + ",layer=" + std::to_string(data.layer) +
                                         ",head=" + std::to_string(data.head) + ")";
                              return "data=" + data.label();
                          }),
                    "--data"),
            {"seed", false, "", "data seed (each seed a point of its own; the file may say seeds = [..])", true,
             [](const std::vector<GivenValue>& given, StudySpec& spec) {
                 spec.seeds.clear();
                 for (const GivenValue& value : given) spec.seeds.push_back(std::uint64_t(value.whole(bounds::kSeed)));
             },
             always("seed", &StudyPoint::seed), "INT"},
            whole("warmup", "untimed steps first", &StudySpec::warmup, bounds::kWarmup, always("warmup", &StudyPoint::warmup)),
            whole("repetitions", "timed steps per point", &StudySpec::repetitions, bounds::kRepetitions,
                  always("repetitions", &StudyPoint::repetitions)),
            whole("threads", "worker threads (0 = all)", &StudySpec::threads, bounds::kThreads,
                  always("threads", &StudyPoint::threads)),
            wholes("schedule", "var: side of each scale's token map", &StudySpec::schedule, bounds::kScheduleSide,
                   [](const StudyPoint& p) {
                       return p.workload == Workload::var ? "schedule=" + toml_list(p.schedule) : std::string();
                   }),
            reals("scale", "scale of the scores (default: each cache's attention kind's, tensor 1/d, matrix 1/√d)",
                  &StudySpec::scales, bounds::kScale,
                  [](const StudyPoint& p) { return p.has_own_scale() ? "scale=" + shortest_text(p.scale) : std::string(); }),
            wholes("kv_heads", "key/value heads, each dividing heads (docs/math.md §9)", &StudySpec::kv_heads,
                   bounds::kHeads,
                   [](const StudyPoint& p) {
                       return p.kv_heads != 0 && p.kv_heads != p.heads ? "kv_heads=" + std::to_string(p.kv_heads)
                                                                       : std::string();
                   }),
            {"variant", false, "", "score variant: trilinear | rank1 | strassen", true,
             [](const std::vector<GivenValue>& given, StudySpec& spec) {
                 spec.variants.clear();
                 for (const GivenValue& value : given) spec.variants.push_back(parse_variant(value.text(), value.field()));
             },
             [](const StudyPoint& p) {
                 return p.variant != ScoreVariant::trilinear ? "variant=" + variant_name(p.variant) : std::string();
             },
             "NAME"},
            // Both biases enter the key together where either is set, as they did when they came.
            real("k2_bias", "added to every k2 row (docs/math.md §9; 0 = none)", &StudySpec::k2_bias, bounds::kBias,
                 [](const StudyPoint& p) {
                     return p.k2_bias != 0 || p.v2_bias != 0 ? "k2_bias=" + shortest_text(p.k2_bias) : std::string();
                 }),
            real("v2_bias", "added to every v2 row (docs/math.md §9; 0 = none)", &StudySpec::v2_bias, bounds::kBias,
                 [](const StudyPoint& p) {
                     return p.k2_bias != 0 || p.v2_bias != 0 ? "v2_bias=" + shortest_text(p.v2_bias) : std::string();
                 }),
            whole("accuracy_positions", "decode: query positions over the sequence the accuracy is measured at",
                  &StudySpec::accuracy_positions, bounds::kAccuracyPositions,
                  [](const StudyPoint& p) {
                      return p.workload != Workload::var && p.accuracy_positions != kDefaultAccuracyPositions
                                 ? "accuracy_positions=" + std::to_string(p.accuracy_positions)
                                 : std::string();
                  }),
            {"budget", false, "",
             "byte budget: P% of the exact factor cache's bytes at the point, or bytes; approximate caches are fitted "
             "to their most accurate setting within it (studies/spec/budget.hpp)",
             true,
             [](const std::vector<GivenValue>& given, StudySpec& spec) {
                 spec.budgets.clear();
                 for (const GivenValue& value : given) {
                     spec.budgets.push_back(value.text_or_whole());
                     Budget::parse(spec.budgets.back(), value.field());
                 }
             },
             [](const StudyPoint& p) { return p.budget.empty() ? std::string() : "budget=" + p.budget; },
             "P%|BYTES"},
            // [data]: what they change is in the data's part of the key (DataSpec::label).
            in_data(whole("clusters", "clustered data: balls per key stream", [](StudySpec& s) -> auto& { return s.data.clusters; }, bounds::kClusters),
                    "--clusters"),
            in_data(real("radius", "clustered data: the balls' radius", [](StudySpec& s) -> auto& { return s.data.radius; }, bounds::kRadius), "--radius"),
            in_data(wholes("nonzeros", "sparse data: non-zeros per key/value row", &StudySpec::nonzeros,
                           bounds::kNonzeros),
                    "--nonzeros"),
            in_data(kinds("support", "sparse data:", &StudySpec::supports), "--support"),
            in_data({"dir", false, "", "npy or trace data: the folder read", false,
                     [](const std::vector<GivenValue>& given, StudySpec& spec) { spec.data.dir = given.front().text(); },
                     {},
                     "DIR"},
                    "--data-dir"),
            in_data(wholes("layer", "trace data: layers read", &StudySpec::trace_layers, bounds::kTraceIndex), "--layer"),
            in_data(wholes("head", "trace data: heads read", &StudySpec::trace_heads, bounds::kTraceIndex), "--head"),
            in_data(real("k2_mean", "gaussian, clustered, sparse data: added to every k2 entry", [](StudySpec& s) -> auto& { return s.data.k2_mean; },
                         bounds::kMean),
                    "--k2-mean"),
            in_data(real("v2_mean", "gaussian, clustered, sparse data: added to every v2 entry", [](StudySpec& s) -> auto& { return s.data.v2_mean; },
                         bounds::kMean),
                    "--v2-mean"),
        };
        for (StudyField& field : f) {
            if (!field.flag.empty()) continue;
            field.flag = "--" + field.key;
            for (char& c : field.flag)
                if (c == '_') c = '-';
        }
        return f;
    }();
    return fields;
}

}  // namespace

std::string GivenValue::named(const std::string& value) const {
    return node_ ? field_ + " = " + value : field_ + ": " + value;  // as a file and as a command line say it
}

long long GivenValue::whole(bounds::Range range) const {
    if (!node_) {
        const std::optional<long long> value = bounds::whole_in(text_, range);
        require(value.has_value(), field_ + ": " + bounds::whole_problem(text_, range));
        return *value;
    }
    require(node_->is_integer(), field_ + " must be an integer");
    const long long value = **node_->as_integer();
    require(value >= range.min && value <= range.max,
            named(std::to_string(value)) + " is out of range " + bounds::range_text(range));
    return value;
}

double GivenValue::real(bounds::RealRange range) const {
    if (!node_) {
        const std::optional<double> value = bounds::real_in(text_, range);
        require(value.has_value(), field_ + ": " + bounds::real_problem(text_, range));
        return *value;
    }
    require(node_->is_number(), field_ + " must be a number");
    const double value = node_->is_integer() ? double(**node_->as_integer()) : **node_->as_floating_point();
    require(std::isfinite(value) && value >= range.min && value <= range.max,
            named(format_number(value)) + " is not a finite number in " + bounds::range_text(range));
    return value;
}

std::string GivenValue::text_or_whole() const {
    if (node_ && node_->is_integer()) return std::to_string(**node_->as_integer());
    require(!node_ || node_->is_string(), field_ + " must be a string or a whole number");
    return text();
}

std::string GivenValue::text() const {
    if (!node_) return text_;
    require(node_->is_string(), field_ + " must be a string");
    return **node_->as_string();
}

const std::vector<StudyField>& study_fields() { return table(); }

void read_study_fields(const toml::table& top, const toml::table* data, const std::string& source, StudySpec& spec) {
    for (const StudyField& field : table()) {
        const toml::table* table = field.in_data ? data : &top;
        if (!table) continue;
        const std::string where = source + ": " + (field.in_data ? "data." : "") + field.key;
        const toml::node* node = table->get(field.key);
        if (field.key == "seed") {  // `seed = S` or `seeds = [..]`
            const toml::node* seeds = table->get("seeds");
            require(!(node && seeds), source + ": give either seed or seeds, not both");
            if (seeds) node = seeds;
        }
        if (!node) continue;
        std::vector<GivenValue> given;
        if (const toml::array* array = node->as_array()) {
            require(field.list, where + " takes one value, not an array");
            require(!array->empty(), where + " must not be empty");
            for (const toml::node& item : *array) given.emplace_back(item, where);
        } else {
            given.emplace_back(*node, where);
        }
        field.read(given, spec);
    }
}

void apply_field_texts(const StudyField& field, const std::vector<std::string>& texts, StudySpec& spec) {
    require(field.list || texts.size() == 1, field.flag + " is given " + std::to_string(texts.size()) + " times; give it once");
    std::vector<GivenValue> given;
    for (const std::string& text : texts) given.emplace_back(text, field.flag);
    field.read(given, spec);
}

}  // namespace trikv
