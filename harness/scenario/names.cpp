#include "scenario/names.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <sstream>

#include "expectations/kernel_rules.hpp"
#include "observation/sockdiag.hpp"

namespace socklab {

namespace {

std::vector<std::string> parts_of(const std::string& name) {
    std::vector<std::string> parts;
    std::istringstream in(name);
    for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
    return parts;
}

bool is_errno_word(const std::string& f) {
    return f.size() > 1 && f[0] == 'E' && std::all_of(f.begin(), f.end(), [](char ch) {
               return std::isupper(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch));
           });
}

// sockets.<checkpoint>.<side>.<STATE>.<field> or calls.<checkpoint>.<side>.<call>.<field>
bool is_observed_name(const std::vector<std::string>& p, const std::set<std::string>& checkpoints) {
    if (p.size() != 5 || !checkpoints.count(p[1])) return false;
    if (std::find(kSides.begin(), kSides.end(), p[2]) == kSides.end() || p[3].empty()) return false;
    if (p[0] == "sockets")
        return is_tcp_state_name(p[3]) && (p[4] == "count" || p[4] == "recv_q" || p[4] == "send_q" || p[4] == "expires" ||
                                           p[4] == "min_recv_q" || p[4] == "max_recv_q" || p[4] == "min_send_q" ||
                                           p[4] == "max_send_q");
    return p[0] == "calls" && (p[4] == "count" || p[4] == "total" || is_errno_word(p[4]));
}

std::optional<double> observed_value(const std::vector<std::string>& p, const std::string& name, const Observations& seen) {
    const Checkpoint* cp = seen.checkpoint(p[1]);
    if (!cp) throw ExprError(name + ": the run never reached checkpoint " + p[1]);
    const std::string& side = p[2];
    double count = 0, sum = 0;
    std::optional<double> soonest;  // expires: the first of their timers to fire, in ms
    std::optional<double> least, most;  // min_/max_: the smallest and largest queue of one of them
    if (p[0] == "sockets") {
        const bool recv = p[4].find("recv_q") != std::string::npos;
        if (auto it = cp->sockets.find(side); it != cp->sockets.end())
            for (const auto& s : it->second)
                if (s.state == p[3]) {
                    ++count;
                    const double queue = recv ? s.recv_q : s.send_q;
                    sum += queue;
                    least = std::min(least.value_or(queue), queue);
                    most = std::max(most.value_or(queue), queue);
                    soonest = std::min(soonest.value_or(s.expires_ms), static_cast<double>(s.expires_ms));
                }
        if (p[4] == "count" || p[4] == "recv_q" || p[4] == "send_q") return p[4] == "count" ? count : sum;
        if (!soonest) throw ExprError(name + ": no " + p[3] + " socket on the " + side + " at checkpoint " + p[1]);
        if (p[4] == "expires") return soonest;
        return p[4].rfind("min_", 0) == 0 ? least : most;
    }
    const bool by_errno = p[4] != "count" && p[4] != "total";
    for (const auto& ev : seen.events)
        if (ev.side == side && ev.time_ns <= cp->time_ns && ev.body.value("call", "") == p[3]) {
            ++count;
            sum += by_errno ? ev.body.value("errno", "") == p[4] : std::max(0.0, static_cast<double>(ev.body.value("ret", 0L)));
        }
    return p[4] == "count" ? count : sum;
}

}  // namespace

const std::vector<std::string>& rule_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& [name, value] : rule_values({}, {})) out.push_back(name);
        return out;
    }();
    return names;
}

bool Names::known(const std::string& name, Context context, const std::set<std::string>& checkpoints) const {
    if (s_.param(name)) return true;
    if (context == Context::parameter || context == Context::sysctl) return false;
    for (const auto& [let, text] : s_.let)
        if (let == name) return true;
    if (std::find(rule_names().begin(), rule_names().end(), name) != rule_names().end()) return true;
    if (name == "ipv6" || name == "mapped") return true;
    for (const auto& side : kSides)
        if (name.rfind(side + ".net.", 0) == 0) return true;
    if (context != Context::expectation) return false;
    std::set<std::string> with_end = checkpoints;
    with_end.insert("end");  // the snapshot every run takes last
    return is_observed_name(parts_of(name), with_end);
}

std::optional<double> Names::value(const std::string& name) const {
    if (auto it = params.find(name); it != params.end()) return it->second;
    if (auto it = rules.find(name); it != rules.end()) return it->second;
    if (name == "ipv6") return family == Family::ipv6 ? 1.0 : 0.0;
    if (name == "mapped") return family == Family::mapped ? 1.0 : 0.0;
    for (const auto& [let, text] : s_.let)
        if (let == name) {
            if (!resolving_.insert(name).second) throw ExprError("\"" + name + "\" is defined in terms of itself");
            struct Done {
                std::set<std::string>& set;
                std::string name;
                ~Done() { set.erase(name); }
            } done{resolving_, name};
            return evaluate(text, lookup());
        }
    for (const auto& [side, table] : sysctls)
        if (name.rfind(side + ".", 0) == 0)
            if (auto it = table.find(name.substr(side.size() + 1)); it != table.end()) return static_cast<double>(it->second);
    if (seen) {
        const auto p = parts_of(name);
        if (p.size() == 5 && (p[0] == "sockets" || p[0] == "calls")) return observed_value(p, name, *seen);
    }
    return std::nullopt;
}

double Names::eval(const std::string& expr) const { return evaluate(expr, lookup()); }

std::map<std::string, double> resolve_params(const Scenario& s, const Variant& v,
                                             const std::map<std::string, std::string>& user_set) {
    for (const auto& [key, value] : user_set)
        if (!s.param(key)) {
            std::string names;
            for (const auto& p : s.params) names += (names.empty() ? "" : ", ") + p.name;
            throw ScenarioError("--set " + key + ": " + s.name + " has no parameter \"" + key + "\" (it has: " + names + ")");
        }
    std::map<std::string, double> values;
    std::set<std::string> resolving;
    // Each parameter's text: the user's, else the variant's, else the default; evaluated on demand
    // so that a default like "backlog + 2" follows a --set backlog.
    std::function<double(const Param&)> value_of = [&](const Param& p) -> double {
        if (auto it = values.find(p.name); it != values.end()) return it->second;
        if (!resolving.insert(p.name).second) throw ScenarioError("parameter " + p.name + " is defined in terms of itself");
        const bool from_user = user_set.count(p.name) > 0;
        const std::string text = from_user ? user_set.at(p.name) : v.set.count(p.name) ? v.set.at(p.name) : p.default_expr;
        double value = 0;
        const std::string range = "allowed: integers from " + std::to_string(static_cast<long>(p.min)) + " to " +
                                  std::to_string(static_cast<long>(p.max)) + "; " + p.help;
        try {
            value = evaluate(text, [&](const std::string& name) -> std::optional<double> {
                if (from_user) return std::nullopt;  // the user gives plain numbers
                if (const Param* other = s.param(name)) return value_of(*other);
                return std::nullopt;
            });
        } catch (const ExprError&) {
            throw ScenarioError("--set " + p.name + "=" + text + ": not a number (" + range + ")");
        }
        if (value != std::floor(value) || value < p.min || value > p.max)
            throw ScenarioError((from_user ? "--set " : "parameter ") + p.name + "=" + text + " is out of range (" + range + ")");
        values[p.name] = value;
        return value;
    };
    for (const auto& p : s.params) value_of(p);
    return values;
}

}  // namespace socklab

namespace socklab {

std::optional<double> floor_at_defaults(const Scenario& s, const Variant& v, bool with_rules) {
    if (v.floor.empty()) return 0.0;
    try {
        Names names(s);
        names.params = resolve_params(s, v, {});
        for (const auto& [side, table] : s.sysctls)  // as the run would write them
            for (const auto& [key, expr] : table) names.sysctls[side][key] = std::lround(names.eval(expr));
        if (with_rules) names.rules = rule_values(names.sysctls["client"], names.sysctls["server"], names.params);
        return names.eval(v.floor);
    } catch (const std::exception&) {  // e.g. a kernel rule's value, known only on the test hosts
        return std::nullopt;
    }
}

}  // namespace socklab
