#include "attention/score_variant.hpp"

#include "framework/error.hpp"

namespace trikv {

std::string variant_name(ScoreVariant variant) {
    switch (variant) {
        case ScoreVariant::trilinear: return "trilinear";
        case ScoreVariant::rank1: return "rank1";
        case ScoreVariant::strassen: return "strassen";
    }
    throw Error("variant_name: unknown score variant");
}

std::vector<std::string> variant_names() {
    return {variant_name(ScoreVariant::trilinear), variant_name(ScoreVariant::rank1),
            variant_name(ScoreVariant::strassen)};
}

ScoreVariant parse_variant(const std::string& name, const std::string& field) {
    for (ScoreVariant v : {ScoreVariant::trilinear, ScoreVariant::rank1, ScoreVariant::strassen})
        if (variant_name(v) == name) return v;
    throw Error(field + "=" + printable(name) + " is not a score variant (trilinear|rank1|strassen)");
}

}  // namespace trikv
