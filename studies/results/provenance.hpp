#pragma once
// Where and when a result was produced: the machine's host name, the UTC time, and JSON text
// for the metadata files that record them (results.json, studies/cluster/shard_merge.hpp).
#include <unistd.h>

#include <ctime>
#include <string>

namespace trikv {

// The host name (gethostname), "unknown" if the system does not say.
inline std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown";
    return name;
}

// e.g. 2026-11-30T03:40:00Z
inline std::string now_utc() {
    const std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return text;
}

// A JSON string literal of `text` (control characters other than newline become spaces).
inline std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += std::string("\\") + c;
        else if (c == '\n') out += "\\n";
        else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
        else out += c;
    }
    return out + "\"";
}

}  // namespace trikv
