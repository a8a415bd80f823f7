#include "studies/figures/gnuplot_script.hpp"

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "framework/error.hpp"
#include "framework/files.hpp"

namespace trikv {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kStyleFile = "trikv.gp";
constexpr std::string_view kStyleFolder = "gnuplot";  // beside the figures
constexpr std::uint64_t kMaxTemplateBytes = 1 << 20;
// Templates that load another: the error figures share their error axis.
constexpr std::pair<std::string_view, std::string_view> kIncludes[] = {{"error", "error-axes"},
                                                                       {"error-n", "error-axes"}};

// `text` in single quotes, a quote inside spelled `quote`: '' for gnuplot, '\'' for the shell.
std::string single_quoted(const std::string& text, const std::string& quote = "''") {
    std::string result = "'";
    for (char c : text) result += c == '\'' ? quote : std::string(1, c);
    return result + "'";
}
std::string shell_quoted(const std::string& text) { return single_quoted(text, "'\\''"); }

// A gnuplot expression giving `text`, spelled for LaTeX (special characters escaped) when fmt = 'tex'.
std::string text_expression(const std::string& text) {
    static const std::pair<std::string_view, std::string_view> kEscapes[] = {
        {"\\", "\\textbackslash{}"}, {"{", "\\{"}, {"}", "\\}"}, {"$", "\\$"}, {"&", "\\&"}, {"#", "\\#"},
        {"^", "\\^{}"}, {"_", "\\_"}, {"%", "\\%"}, {"~", "\\~{}"}, {"√", "$\\surd$"}};
    std::string tex;
    for (std::size_t i = 0; i < text.size();) {
        const auto escape = std::find_if(std::begin(kEscapes), std::end(kEscapes),
                                         [&](const auto& e) { return text.compare(i, e.first.size(), e.first) == 0; });
        if (escape == std::end(kEscapes)) tex += text[i++];
        else tex += escape->second, i += escape->first.size();
    }
    return tex == text ? single_quoted(text) : "(fmt eq 'tex' ? " + single_quoted(tex) + " : " + single_quoted(text) + ")";
}

// gnuplot's `"FILE" line N: message`, else the first line with text.
std::string error_line(const std::string& output) {
    const std::size_t at = output.find(".gp\" line ");
    const std::size_t start = at != std::string::npos ? output.rfind('\n', at) + 1 : output.find_first_not_of(" \t\r\n^");
    return start == std::string::npos ? "no message" : output.substr(start, output.find('\n', start) - start);
}

// What the style prints when a figure outgrows a page or cannot fit its key (trikv.gp).
constexpr std::string_view kWarningPrefix = "trikv-figure-warning: ";

// Runs `gnuplot -e "fmt='…'" NAME.gp` into a temporary file renamed into place; the style's
// warnings go to `warnings`, the temporary file's name replaced by the figure's.
fs::path render(const fs::path& dir, const std::string& name, const std::string& format,
                std::vector<std::string>& warnings) {
    static std::atomic<unsigned> counter{0};
    const std::string target = name + "." + format;
    const fs::path temporary = dir / ("." + target + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++));
    const std::string command = "cd " + shell_quoted(fs::absolute(dir).string()) + " && gnuplot -e " +
                                shell_quoted("fmt='" + format + "'; out='" + temporary.filename().string() + "'") + " " +
                                shell_quoted(name + ".gp") + " 2>&1 >/dev/null </dev/null";
    std::string output;
    int status = -1;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, got);
        status = ::pclose(pipe);
    }
    std::error_code error, ignored;
    const bool made = status == 0 && fs::file_size(temporary, error) > 0 && !error;
    if (made) fs::rename(temporary, dir / target, error);
    for (std::size_t at = output.find(kWarningPrefix); made && at != std::string::npos;
         at = output.find(kWarningPrefix, at + 1)) {
        std::string warning = output.substr(at + kWarningPrefix.size(), output.find('\n', at) - at - kWarningPrefix.size());
        if (const std::size_t file = warning.find(temporary.filename().string()); file != std::string::npos)
            warning.replace(file, temporary.filename().string().size(), target);
        warnings.push_back(warning);
    }
    if (made && !error) return dir / target;
    fs::remove(temporary, ignored);
    require(!made, (dir / target).string() + ": cannot replace: " + error.message());
    const std::string exit =
        status != -1 && WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status)) : "did not finish";
    throw Error("figure '" + name + "': gnuplot failed making " + target + " (" + exit + "): " + error_line(output));
}

}  // namespace

namespace {

// <libdir>/../share/trikv/gnuplot beside the libtrikv this code runs in: an install whose prefix
// is not the configured one (pip packs the install into a venv or user site), or was moved.
fs::path gnuplot_dir_beside_library() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<const void*>(&gnuplot_dir_beside_library), &info) == 0 || info.dli_fname == nullptr)
        return {};
    return (fs::absolute(info.dli_fname).parent_path() / ".." / "share" / "trikv" / "gnuplot").lexically_normal();
}

}  // namespace

fs::path gnuplot_style_dir() {
    const fs::path beside_library = gnuplot_dir_beside_library();
    for (const fs::path& dir : {beside_library, fs::path(TRIKV_GNUPLOT_SOURCE_DIR), fs::path(TRIKV_GNUPLOT_INSTALL_DIR)})
        if (!dir.empty() && fs::is_regular_file(dir / kStyleFile)) return dir;
    throw Error("figures: the gnuplot style " + std::string(kStyleFile) + " is in none of " + beside_library.string() +
                ", " TRIKV_GNUPLOT_SOURCE_DIR ", " TRIKV_GNUPLOT_INSTALL_DIR);
}

template <class Value, class Format>
void GnuplotScript::array(const std::string& variable, const std::vector<Value>& values, Format format) {
    body_ += "array " + variable + "[" + std::to_string(values.size()) + "] = [";
    for (std::size_t i = 0; i < values.size(); ++i) body_ += (i ? ", " : "") + format(values[i]);
    body_ += "]\n";
}

GnuplotScript::GnuplotScript(std::string name, std::string template_name, std::string data, const std::string& title,
                             const std::string& subtitle, const std::vector<Series>& series)
    : name_(std::move(name)), template_(std::move(template_name)), data_(std::move(data)) {
    const std::string folder(kStyleFolder);
    header_ = "# " + name_ + ".gp: " + title + ".\n# Generated by trikv: the data-dependent settings of this figure; the layout is in " +
              folder + "/" + template_ + ".gp,\n# the shared look in " + folder + "/" + std::string(kStyleFile) + " (copies of " +
              gnuplot_style_dir().string() + "; -e \"STYLE_DIR='…'\" loads others).\n"
              "# Redraw from any directory, outputs beside this file: gnuplot -e \"fmt='pdf'\" " + name_ + ".gp\n"
              "# fmt: png (default) | pdf | svg | tex (TikZ: \\usepackage{gnuplot-lua-tikz}, then \\input{" + name_ + ".tex}).\n\n"
              "if (!exists(\"fmt\")) fmt = 'png'\n"
              "if (!exists(\"out\")) out = '" + name_ + ".' . fmt\n"
              "here = ARG0; i = strlen(here); while (i > 0 && here[i:i] ne '/') { i = i - 1 }; if (i > 0) { cd here[1:i] }\n"
              "if (!exists(\"STYLE_DIR\")) STYLE_DIR = '" + folder + "'\n"
              "DATA = " + single_quoted(data_) + "\n";
    text("TITLE", title);
    text("SUBTITLE", subtitle);
    array("LABEL", series, [](const Series& s) { return text_expression(s.label); });
    array("COLOUR", series, [](const Series& s) {
        char colour[16];
        std::snprintf(colour, sizeof colour, "0x%06X", s.colour);
        return std::string(colour);
    });
    array("POINT", series, [](const Series& s) { return std::to_string(s.point); });
    array("DASH", series, [](const Series& s) { return std::to_string(s.dash); });
}

void GnuplotScript::text(const std::string& variable, const std::string& value) {
    body_ += variable + " = " + text_expression(value) + "\n";
}

void GnuplotScript::number(const std::string& variable, double value) { body_ += variable + " = " + shortest_text(value) + "\n"; }

void GnuplotScript::numbers(const std::string& variable, const std::vector<double>& values) {
    array(variable, values, shortest_text);
}

void GnuplotScript::texts(const std::string& variable, const std::vector<std::string>& values) {
    array(variable, values, text_expression);
}

std::string GnuplotScript::str() const { return header_ + body_ + "\nload STYLE_DIR . '/" + template_ + ".gp'\n"; }

std::vector<fs::path> write_figure(const fs::path& dir, const Figure& figure, bool rendered,
                                   std::vector<std::string>& warnings) {
    const GnuplotScript& script = figure.script;
    const fs::path style = gnuplot_style_dir(), copies = dir / kStyleFolder;
    std::error_code error;
    fs::create_directories(copies, error);
    require(!error, copies.string() + ": cannot create: " + error.message());
    std::vector<fs::path> written;
    if (!figure.csv.empty()) write_file_atomically(written.emplace_back(dir / script.data()), figure.csv);
    write_file_atomically(written.emplace_back(dir / (script.name() + ".gp")), script.str());
    std::vector<std::string> files = {std::string(kStyleFile), script.template_name()};
    for (const auto& [from, include] : kIncludes)
        if (from == script.template_name()) files.emplace_back(include);
    for (std::string& file : files) {
        if (!file.ends_with(".gp")) file += ".gp";
        write_file_atomically(written.emplace_back(copies / file), read_regular_file(style / file, kMaxTemplateBytes));
    }
    for (const std::string format : {"png", "pdf", "svg", "tex"})
        if (rendered) written.push_back(render(dir, script.name(), format, warnings));
    return written;
}

bool gnuplot_on_path() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

}  // namespace trikv
