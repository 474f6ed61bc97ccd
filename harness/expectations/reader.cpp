#include "expectations/reader.hpp"

#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "capture/capture.hpp"
#include "expectations/expr.hpp"
#include "observation/sockdiag.hpp"

namespace socklab {

using nlohmann::json;

namespace {

std::string joined(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

}  // namespace

std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

ProgramNames read_program_names(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw ScenarioError(file + ": missing: build the scenario's programs first (cmake --build build)");
    ProgramNames p;
    try {
        const json j = json::parse(in);
        for (const auto& [side, table] : j.items())
            for (const auto& [what, list] : table.items())
                for (const auto& name : list) p.names[side][what].insert(name.get<std::string>());
        // A phase of a program starts at one of its steps or marks.
        for (auto& [side, table] : p.names) {
            table["phases"] = table["steps"];
            table["phases"].insert(table["marks"].begin(), table["marks"].end());
        }
    } catch (const json::exception& e) {
        throw ScenarioError(file + ": not the names of a scenario's programs (" + e.what() + "): rebuild");
    }
    p.known = true;
    return p;
}

void Reader::fail(const std::string& where, const std::string& what) const {
    throw ScenarioError(file_ + ": " + where + ": " + what);
}

void Reader::keys(const json& j, const std::string& where, const std::set<std::string>& required,
                  const std::set<std::string>& optional) const {
    if (!j.is_object()) fail(where, "expected an object");
    for (const auto& [key, value] : j.items())
        if (!required.count(key) && !optional.count(key)) {
            std::set<std::string> allowed = required;
            allowed.insert(optional.begin(), optional.end());
            fail(where, "unknown key \"" + key + "\" (allowed: " + joined(allowed) + ")");
        }
    for (const auto& key : required)
        if (!j.contains(key)) fail(where, "missing key \"" + key + "\"");
}

std::string Reader::str(const json& j, const std::string& where) const {
    if (!j.is_string()) fail(where, "expected a string");
    return j.get<std::string>();
}

std::string Reader::expr(const json& j, const std::string& where) const {
    std::string text;
    if (j.is_number()) text = j.dump();
    else if (j.is_string()) text = j.get<std::string>();
    else fail(where, "expected a number or an expression string");
    try {
        // Any value will do: only the names are checked here.
        evaluate(text, [&](const std::string& name) -> std::optional<double> {
            return known_(name) ? std::optional<double>(7.0) : std::nullopt;
        });
    } catch (const ExprError& e) {
        fail(where, e.what());
    }
    return text;
}

std::string Reader::side(const std::string& word, const std::string& where) const {
    for (const auto& s : kSides)
        if (s == word) return word;
    fail(where, "unknown side \"" + word + "\" (use client or server)");
}

std::string Reader::state(const std::string& word, const std::string& where) const {
    if (!is_tcp_state_name(word)) fail(where, "unknown TCP state \"" + word + "\" (e.g. ESTABLISHED, SYN_SENT, TIME_WAIT)");
    return word;
}

uint8_t Reader::flags(const std::string& word, const std::string& where) const {
    auto f = parse_flags(word);
    if (!f) fail(where, "bad TCP flags \"" + word + "\" (tcpdump style: S, S., ., P., F., R, R.)");
    return *f;
}

std::string Reader::errno_name(const json& j, const std::string& where) const {
    const std::string name = str(j, where);
    if (name == "0") return name;  // success
    for (int e = 1; e < 4096; ++e)
        if (const char* known = ::strerrorname_np(e); known && name == known) return name;
    fail(where, "unknown errno name \"" + name + "\" (a name from errno(3), e.g. ECONNRESET, or \"0\" for success)");
}

std::string Reader::timer(const json& j, const std::string& where) const {
    static const std::set<std::string> timers{"none", "on", "retransmit", "keepalive", "timewait", "probe"};
    const std::string t = str(j, where);
    if (!timers.count(t)) fail(where, "unknown timer \"" + t + "\" (use " + joined(timers) + ")");
    return t;
}

std::string Reader::condition(const json& j, const std::string& where) const {
    const std::string text = str(j, where);
    if (text.rfind("kernel", 0) == 0) {
        if (!parse_kernel_condition(text)) fail(where, "write e.g. \"kernel >= 6.18\"");
    } else {
        expr(j, where);
    }
    return text;
}

void Reader::program_name(const std::string& side, const std::string& what, const std::string& name,
                          const std::string& where, const std::set<std::string>& also) const {
    if (!programs_ || !programs_->known || also.count(name)) return;
    std::set<std::string> names;
    if (auto s = programs_->names.find(side); s != programs_->names.end())
        if (auto w = s->second.find(what); w != s->second.end()) names = w->second;
    if (names.count(name)) return;
    names.insert(also.begin(), also.end());
    const std::string singular = what.substr(0, what.size() - 1);
    fail(where, "the " + side + " program has no " + singular + " \"" + name + "\" (its " + what + ": " + joined(names) + ")");
}

std::optional<KernelCondition> parse_kernel_condition(const std::string& text) {
    std::istringstream in(text);
    std::string word, op;
    int major = 0, minor = 0;
    char dot = 0;
    if (!(in >> word >> op >> major >> dot >> minor) || word != "kernel" || dot != '.') return std::nullopt;
    std::string rest;
    if (in >> rest) return std::nullopt;
    static const std::set<std::string> ops{"<", "<=", ">", ">=", "==", "!="};
    if (!ops.count(op)) return std::nullopt;
    return KernelCondition{op, major, minor};
}

bool KernelCondition::holds(int running_major, int running_minor) const {
    const auto running = std::make_pair(running_major, running_minor), bound = std::make_pair(major, minor);
    return op == "<" ? running < bound : op == "<=" ? running <= bound : op == ">" ? running > bound
         : op == ">=" ? running >= bound : op == "==" ? running == bound : running != bound;
}

}  // namespace socklab
