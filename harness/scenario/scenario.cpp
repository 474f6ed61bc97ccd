#include "scenario/scenario.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "capture/capture.hpp"
#include "observation/sockdiag.hpp"
#include "scenario/expr.hpp"

namespace socklab {

using nlohmann::json;

const std::vector<std::string>& rule_names() {
    static const std::vector<std::string> names{
        "syn_sent.retransmits", "syn_sent.timeout",   // client SYN: retransmits before connect() fails, and when
        "syn_recv.retransmits", "syn_recv.first",     // server SYN-ACK: retransmits, the first one,
        "syn_recv.lifetime",                          // and when the entry goes
        "established.retransmits",                    // client data nobody acknowledges: retransmits (probe included)
        "established.timeout",                        // and when the kernel gives up (ETIMEDOUT), after the send
    };
    return names;
}

const Param* Scenario::param(const std::string& n) const {
    for (const auto& p : params)
        if (p.name == n) return &p;
    return nullptr;
}

const Variant* Scenario::variant(const std::string& n) const {
    for (const auto& v : variants)
        if (v.name == n) return &v;
    return nullptr;
}

bool is_observed_name(const std::string& name, const std::set<std::string>& checkpoints) {
    std::vector<std::string> parts;
    std::istringstream in(name);
    for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
    if (parts.size() != 5 || !checkpoints.count(parts[1])) return false;
    if (std::find(kSides.begin(), kSides.end(), parts[2]) == kSides.end() || parts[3].empty()) return false;
    if (parts[0] == "sockets") return is_tcp_state_name(parts[3]) && (parts[4] == "count" || parts[4] == "recv_q" || parts[4] == "send_q");
    if (parts[0] != "calls") return false;
    const std::string& f = parts[4];
    const bool errno_name = f.size() > 1 && f[0] == 'E' &&
                            std::all_of(f.begin(), f.end(), [](char ch) { return std::isupper(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)); });
    return f == "count" || f == "total" || errno_name;
}

namespace {

// Checks one JSON value at a known place in the file, so every message can say where.
class Checker {
public:
    Checker(const Scenario& s, std::string file) : s_(s), file_(std::move(file)) {}

    [[noreturn]] void fail(const std::string& where, const std::string& what) const {
        throw ScenarioError(file_ + ": " + where + ": " + what);
    }
    void keys(const json& j, const std::string& where, const std::set<std::string>& required,
              const std::set<std::string>& optional) const {
        if (!j.is_object()) fail(where, "expected an object");
        for (const auto& [key, value] : j.items())
            if (!required.count(key) && !optional.count(key)) {
                std::string allowed;
                for (const auto* set : {&required, &optional})
                    for (const auto& k : *set) allowed += (allowed.empty() ? "" : ", ") + k;
                fail(where, "unknown key \"" + key + "\" (allowed: " + allowed + ")");
            }
        for (const auto& key : required)
            if (!j.contains(key)) fail(where, "missing key \"" + key + "\"");
    }
    void object(const json& j, const std::string& where) const {
        if (!j.is_object()) fail(where, "expected an object");
    }
    std::string str(const json& j, const std::string& where) const {
        if (!j.is_string()) fail(where, "expected a string");
        return j.get<std::string>();
    }
    // A number or an expression string; returns it as expression text after checking its names.
    std::string expr(const json& j, const std::string& where) const {
        std::string text;
        if (j.is_number()) text = j.dump();
        else if (j.is_string()) text = j.get<std::string>();
        else fail(where, "expected a number or an expression string");
        try {
            evaluate(text, [&](const std::string& name) -> std::optional<double> {
                if (known_name(name)) return 7.0;  // any value: only the names are checked here
                return std::nullopt;
            });
        } catch (const ExprError& e) {
            fail(where, e.what());
        }
        return text;
    }
    std::string side(const json& j, const std::string& where) const {
        std::string s = str(j, where);
        if (std::find(kSides.begin(), kSides.end(), s) == kSides.end())
            fail(where, "unknown side \"" + s + "\" (use client or server)");
        return s;
    }
    std::string state(const json& j, const std::string& where) const {
        std::string s = str(j, where);
        if (!is_tcp_state_name(s)) fail(where, "unknown TCP state \"" + s + "\" (e.g. ESTABLISHED, SYN_SENT, TIME_WAIT)");
        return s;
    }
    // "kernel >= 6.18" (release numbers compared as such), or an expression that is 0 or not.
    std::string condition(const json& j, const std::string& where) const {
        std::string text = str(j, where);
        if (text.rfind("kernel", 0) == 0) {
            if (!parse_kernel_condition(text)) fail(where, "write e.g. \"kernel >= 6.18\"");
        } else {
            expr(j, where);
        }
        return text;
    }
    // A moment of the run: "checkpoint NAME", "transition SIDE OLD>NEW", "call SIDE NAME", "packet SIDE FLAGS".
    void moment(const json& j, const std::string& where, const std::set<std::string>& checkpoints) const {
        std::istringstream words(str(j, where));
        std::string kind, a, b;
        words >> kind >> a >> b;
        if (kind == "checkpoint" && b.empty()) {
            if (!checkpoints.count(a)) fail(where, "no step makes checkpoint \"" + a + "\"");
        } else if (kind == "transition") {
            side(a, where);
            auto gt = b.find('>');
            if (gt == std::string::npos) fail(where, "write \"transition <side> OLD>NEW\"");
            state(b.substr(0, gt), where);
            state(b.substr(gt + 1), where);
        } else if (kind == "call" && !b.empty()) {
            side(a, where);
        } else if (kind == "packet") {
            side_and_flags(a + " " + b, where);
        } else {
            fail(where, "a moment is \"checkpoint NAME\", \"transition SIDE OLD>NEW\", \"call SIDE NAME\" or \"packet SIDE FLAGS\"");
        }
    }

    // "client S." -> side and flags
    void side_and_flags(const json& j, const std::string& where) const {
        std::istringstream words(str(j, where));
        std::string side_word, flags;
        words >> side_word >> flags;
        side(side_word, where);
        if (!parse_flags(flags)) fail(where, "bad TCP flags \"" + flags + "\" (tcpdump style: S, S., ., P., F., R, R.)");
    }

    // The same checker for the expressions of expectations, which may also name what the run
    // observed at one of these checkpoints (see is_observed_name).
    Checker for_expectations(const std::set<std::string>& checkpoints) const {
        Checker c = *this;
        c.observed_checkpoints_ = checkpoints;
        c.observed_checkpoints_.insert("end");  // the snapshot every run takes last
        c.observed_ = true;
        return c;
    }

private:
    const Scenario& s_;
    std::string file_;
    bool observed_ = false;
    std::set<std::string> observed_checkpoints_;

    bool known_name(const std::string& name) const {
        if (observed_ && is_observed_name(name, observed_checkpoints_)) return true;
        if (s_.param(name)) return true;
        for (const auto& [let_name, text] : s_.let)
            if (let_name == name) return true;
        for (const auto& r : rule_names())
            if (r == name) return true;
        for (const auto& side : kSides)
            if (name.rfind(side + ".net.", 0) == 0) return true;
        return false;
    }
};

}  // namespace

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

namespace {

int line_of(const std::string& text, size_t byte) {
    byte = std::min(byte, text.size());
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(byte), '\n'));
}

void check_errno_name(const Checker& c, const json& j, const std::string& where) {
    static const std::set<std::string> names{"ETIMEDOUT", "ECONNREFUSED", "ECONNRESET", "EPIPE", "EAGAIN",
                                             "EADDRINUSE", "EINPROGRESS", "ENOTCONN", "EINTR", "0"};
    std::string e = c.str(j, where);
    if (!names.count(e)) c.fail(where, "unknown errno name \"" + e + "\"");
}

Expectation parse_expectation(const Checker& description, const json& spec, const std::string& where,
                              const std::set<std::string>& checkpoints) {
    static const std::vector<std::string> kinds{"call", "socket", "transitions", "packets",
                                                "retransmits", "counter", "exit", "trace", "interval", "holds"};
    const Checker c = description.for_expectations(checkpoints);
    Expectation e;
    e.where = where;
    if (!spec.is_object()) c.fail(where, "expected an object");
    if (spec.contains("when")) e.when = c.condition(spec["when"], where + ".when");
    e.spec = spec;
    e.spec.erase("when");
    const json& j = e.spec;
    for (const auto& k : kinds)
        if (j.contains(k)) e.kind = k;
    if (e.kind.empty()) c.fail(where, "an expectation needs one of: call, socket, transitions, packets, retransmits, counter, exit, trace, interval, holds");
    const std::string w = where + "." + e.kind;
    if (e.kind == "call") {
        c.keys(j, where, {"call", "why"}, {"count", "nth", "ret", "errno", "role"});
        if (j.contains("count") == j.contains("nth")) c.fail(where, "give exactly one of count (how many matching calls) and nth (the nth call)");
        if (j.contains("nth") && (!j["nth"].is_number_integer() || j["nth"].get<int>() < 1)) c.fail(where + ".nth", "expected a whole number from 1");
        if (j.contains("role")) c.str(j["role"], where + ".role");
        std::istringstream words(c.str(j["call"], w));
        std::string side, name;
        words >> side >> name;
        c.side(side, w);
        if (name.empty()) c.fail(w, "write \"<side> <syscall>\", e.g. \"client connect\"");
        if (j.contains("ret")) c.expr(j["ret"], where + ".ret");
        if (j.contains("errno")) check_errno_name(c, j["errno"], where + ".errno");
        if (j.contains("count")) c.expr(j["count"], where + ".count");
    } else if (e.kind == "socket") {
        c.keys(j, where, {"socket", "at", "state", "why"}, {"count", "recv_q", "send_q", "inode", "owner", "timer"});
        if (j.contains("owner")) {
            std::string owner = c.str(j["owner"], where + ".owner");
            if (owner != "none" && owner != "client" && owner != "server")
                c.fail(where + ".owner", "use \"none\" (no process has a descriptor for it) or the side whose process has one");
        }
        if (j.contains("timer")) {
            static const std::set<std::string> timers{"none", "on", "retransmit", "keepalive", "timewait", "probe"};
            if (!timers.count(c.str(j["timer"], where + ".timer")))
                c.fail(where + ".timer", "use none, on, retransmit, keepalive, timewait or probe");
        }
        c.side(j["socket"], w);
        std::string at = c.str(j["at"], where + ".at");
        if (!checkpoints.count(at)) c.fail(where + ".at", "no step makes checkpoint \"" + at + "\"");
        c.state(j["state"], where + ".state");
        for (const char* k : {"count", "recv_q", "send_q"})
            if (j.contains(k)) c.expr(j[k], where + "." + k);
        if (j.contains("inode")) {
            std::string inode = c.str(j["inode"], where + ".inode");
            if (inode != "none" && inode != "owned") c.fail(where + ".inode", "use \"none\" (no process owns it) or \"owned\"");
        }
    } else if (e.kind == "transitions") {
        c.keys(j, where, {"transitions", "path", "count", "why"}, {});
        c.side(j["transitions"], w);
        if (!j["path"].is_array() || j["path"].size() < 2) c.fail(where + ".path", "expected a list of at least two states");
        for (size_t i = 0; i < j["path"].size(); ++i) c.state(j["path"][i], where + ".path[" + std::to_string(i) + "]");
        c.expr(j["count"], where + ".count");
    } else if (e.kind == "packets") {
        c.keys(j, where, {"packets", "count", "why"}, {});
        c.side_and_flags(j["packets"], w);
        c.expr(j["count"], where + ".count");
    } else if (e.kind == "retransmits") {
        c.keys(j, where, {"retransmits", "rule", "connections", "why"}, {});
        c.side_and_flags(j["retransmits"], w);
        std::string rule = c.str(j["rule"], where + ".rule");
        if (rule != "syn_sent" && rule != "syn_recv" && rule != "established")
            c.fail(where + ".rule", "unknown rule \"" + rule + "\" (syn_sent, syn_recv, established)");
        c.expr(j["connections"], where + ".connections");
    } else if (e.kind == "counter") {
        c.keys(j, where, {"counter", "why"}, {"equals", "at_least"});
        std::istringstream words(c.str(j["counter"], w));
        std::string side, name;
        words >> side >> name;
        c.side(side, w);
        if (name.find('.') == std::string::npos) c.fail(w, "write \"<side> TcpExt.<Name>\"");
        if (j.contains("equals") == j.contains("at_least")) c.fail(where, "give exactly one of equals, at_least");
        c.expr(j.contains("equals") ? j["equals"] : j["at_least"], where);
    } else if (e.kind == "exit") {
        c.keys(j, where, {"exit", "why"}, {"status", "signal"});
        c.side(j["exit"], w);
        if (j.contains("status") == j.contains("signal")) c.fail(where, "give exactly one of status, signal");
        if (j.contains("status") && !j["status"].is_number_integer()) c.fail(where + ".status", "expected an integer");
        if (j.contains("signal")) {
            std::string sig = c.str(j["signal"], where + ".signal");
            if (sig != "SIGPIPE" && sig != "SIGKILL" && sig != "SIGTERM") c.fail(where + ".signal", "unknown signal \"" + sig + "\"");
        }
    } else if (e.kind == "interval") {
        // "timer": one kernel timer of that many seconds; or "rule": "<side> <rule>", the chain of
        // timers from a rule's first transmission to its give-up (kernel_rules.hpp)
        c.keys(j, where, {"interval", "why"}, {"timer", "rule"});
        c.keys(j["interval"], w, {"from", "to"}, {});
        for (const char* end : {"from", "to"}) c.moment(j["interval"][end], w + "." + end, checkpoints);
        if (j.contains("timer") == j.contains("rule")) c.fail(where, "give exactly one of timer, rule");
        if (j.contains("timer")) c.expr(j["timer"], where + ".timer");
        if (j.contains("rule")) {
            std::istringstream words(c.str(j["rule"], where + ".rule"));
            std::string side, rule;
            words >> side >> rule;
            c.side(side, where + ".rule");
            if (rule != "syn_sent" && rule != "syn_recv" && rule != "established")
                c.fail(where + ".rule", "write \"<side> <rule>\" with rule syn_sent, syn_recv or established");
        }
    } else if (e.kind == "trace") {
        c.keys(j, where, {"trace", "why"}, {"count", "at_least"});
        if (j.contains("count") == j.contains("at_least")) c.fail(where, "give exactly one of count, at_least");
        std::istringstream words(c.str(j["trace"], w));
        std::string side, event;
        words >> side >> event;
        c.side(side, w);
        static const std::set<std::string> events{"tcp_retransmit_synack", "tcp_retransmit_skb", "tcp_send_reset", "tcp_receive_reset"};
        if (!events.count(event)) c.fail(w, "unknown event \"" + event + "\"");
        c.expr(j.contains("count") ? j["count"] : j["at_least"], where + (j.contains("count") ? ".count" : ".at_least"));
    } else if (e.kind == "holds") {
        c.keys(j, where, {"holds", "why"}, {});
        c.expr(j["holds"], w);
    }
    if (c.str(j["why"], where + ".why").empty()) c.fail(where + ".why", "say which rule the expectation rests on");
    return e;
}

Step parse_step(const Checker& c, const json& written, const std::string& where) {
    Step s;
    s.where = where;
    if (!written.is_object()) c.fail(where, "expected an object");
    // Any step may carry words for class mode; the rest is checked per verb.
    json j = written;
    if (j.contains("say")) s.say = c.str(j["say"], where + ".say");
    if (j.contains("ask")) s.ask = c.str(j["ask"], where + ".ask");
    j.erase("say");
    j.erase("ask");
    for (const char* verb : {"start", "await", "release", "checkpoint", "nft", "ip", "until"})
        if (j.contains(verb)) s.verb = verb;
    if (s.verb.empty()) c.fail(where, "a step needs one of: start, await, release, checkpoint, nft, ip, until");
    const std::string w = where + "." + s.verb;
    if (s.verb == "start") {
        c.keys(j, where, {"start"}, {});
        s.side = c.side(j["start"], w);
    } else if (s.verb == "await" || s.verb == "release") {
        c.keys(j, where, {s.verb}, s.verb == "await" ? std::set<std::string>{"within"} : std::set<std::string>{});
        std::istringstream words(c.str(j[s.verb], w));
        std::string side;
        words >> side >> s.name;
        s.side = c.side(side, w);
        if (s.name.empty()) c.fail(w, "write \"<side> <name>\"");
        if (j.contains("within")) s.within = c.expr(j["within"], where + ".within");
    } else if (s.verb == "checkpoint") {
        c.keys(j, where, {"checkpoint"}, {});
        s.name = c.str(j["checkpoint"], w);
    } else if (s.verb == "nft") {
        c.keys(j, where, {"nft", "script"}, {});
        s.side = c.side(j["nft"], w);
        s.script = c.str(j["script"], where + ".script");
    } else if (s.verb == "ip") {
        c.keys(j, where, {"ip", "args"}, {});
        s.side = c.side(j["ip"], w);
        s.script = c.str(j["args"], where + ".args");
    } else if (s.verb == "until") {
        c.keys(j, where, {"until", "within"}, {"checkpoint"});
        c.keys(j["until"], w, {"side", "state", "count"}, {"timer"});
        s.side = c.side(j["until"]["side"], w + ".side");
        c.state(j["until"]["state"], w + ".state");
        if (j["until"].contains("timer")) {
            static const std::set<std::string> timers{"none", "on", "retransmit", "keepalive", "timewait", "probe"};
            if (!timers.count(c.str(j["until"]["timer"], w + ".timer")))
                c.fail(w + ".timer", "use none, on, retransmit, keepalive, timewait or probe");
        }
        c.expr(j["until"]["count"], w + ".count");
        s.until = j["until"];
        s.within = c.expr(j["within"], where + ".within");
        if (j.contains("checkpoint")) s.name = c.str(j["checkpoint"], where + ".checkpoint");
    }
    return s;
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& file) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        throw ScenarioError(file + ":" + std::to_string(line_of(text, e.byte)) + ": not valid JSON (" + e.what() + ")");
    } catch (const json::exception& e) {  // a number too large for a double (found by fuzz_scenario)
        throw ScenarioError(file + ": not valid JSON (" + e.what() + ")");
    }
    Scenario s;
    Checker c(s, file);
    c.keys(root, "top level", {"name", "title", "blog", "params", "variants"}, {"let", "sysctls", "args", "expect"});
    s.name = c.str(root["name"], "name");
    s.title = c.str(root["title"], "title");
    s.blog_section = c.str(root["blog"], "blog");

    if (!root["params"].is_object()) c.fail("params", "expected an object of parameters");
    for (const auto& [name, p] : root["params"].items()) {
        const std::string w = "params." + name;
        c.keys(p, w, {"default", "min", "max", "help"}, {});
        if (!p["min"].is_number() || !p["max"].is_number()) c.fail(w, "min and max must be numbers");
        Param param{name, "", p["min"].get<double>(), p["max"].get<double>(), c.str(p["help"], w + ".help")};
        if (param.min > param.max) c.fail(w, "min is above max");
        s.params.push_back(param);
    }
    // Defaults may refer to other parameters, so they are checked once all names are known.
    for (auto& param : s.params) param.default_expr = c.expr(root["params"][param.name]["default"], "params." + param.name + ".default");

    // Named expressions over parameters, sysctls and kernel rules, each usable by the ones after it.
    if (root.contains("let")) {
        c.object(root["let"], "let");
        for (const auto& [name, value] : root["let"].items()) {
            if (s.param(name)) c.fail("let." + name, "\"" + name + "\" is already a parameter");
            s.let.emplace_back(name, "");
        }
        for (auto& [name, text] : s.let) text = c.expr(root["let"][name], "let." + name);
    }
    if (root.contains("sysctls")) {
        c.keys(root["sysctls"], "sysctls", {}, {"client", "server"});
        for (const auto& [side, table] : root["sysctls"].items()) {
            if (!table.is_object()) c.fail("sysctls." + side, "expected an object of sysctl: value");
            for (const auto& [key, value] : table.items()) {
                if (key.rfind("net.", 0) != 0 || key.find("..") != std::string::npos || key.find('/') != std::string::npos)
                    c.fail("sysctls." + side + "." + key, "only net.* sysctls are per namespace");
                s.sysctls[side][key] = c.expr(value, "sysctls." + side + "." + key);
            }
        }
    }

    auto parse_args = [&](const json& j, const std::string& where, Variant& v) {
        c.keys(j, where, {}, {"client", "server"});
        for (const auto& [side, flags] : j.items()) {
            if (!flags.is_object()) c.fail(where + "." + side, "expected an object of flag: value");
            for (const auto& item : flags.items()) {
                const std::string flag = item.key();  // a variant's flag replaces the shared one
                auto& list = v.args[side];
                list.erase(std::remove_if(list.begin(), list.end(), [&](auto& a) { return a.first == flag; }), list.end());
                list.emplace_back(flag, c.expr(item.value(), where + "." + side + "." + flag));
            }
        }
    };

    if (!root["variants"].is_object() || root["variants"].empty()) c.fail("variants", "expected at least one variant");
    for (const auto& [name, vj] : root["variants"].items()) {
        const std::string w = "variants." + name;
        c.keys(vj, w, {"doc", "steps"}, {"set", "args", "expect", "floor"});
        Variant v;
        v.name = name;
        v.doc = c.str(vj["doc"], w + ".doc");
        if (vj.contains("floor")) v.floor = c.expr(vj["floor"], w + ".floor");
        if (vj.contains("set")) {
            c.object(vj["set"], w + ".set");
            for (const auto& [key, value] : vj["set"].items()) {
                if (!s.param(key)) c.fail(w + ".set." + key, "no parameter named \"" + key + "\"");
                v.set[key] = c.expr(value, w + ".set." + key);
            }
        }
        if (root.contains("args")) parse_args(root["args"], "args", v);
        if (vj.contains("args")) parse_args(vj["args"], w + ".args", v);
        if (!vj["steps"].is_array() || vj["steps"].empty()) c.fail(w + ".steps", "expected a list of steps");
        std::set<std::string> checkpoints;
        for (size_t i = 0; i < vj["steps"].size(); ++i) {
            v.steps.push_back(parse_step(c, vj["steps"][i], w + ".steps[" + std::to_string(i) + "]"));
            const Step& st = v.steps.back();
            if ((st.verb == "checkpoint" || st.verb == "until") && !st.name.empty()) {
                if (!checkpoints.insert(st.name).second) c.fail(st.where, "checkpoint \"" + st.name + "\" is made twice");
            }
        }
        auto add_expectations = [&](const json& list, const std::string& where) {
            if (!list.is_array()) c.fail(where, "expected a list of expectations");
            for (size_t i = 0; i < list.size(); ++i)
                v.expect.push_back(parse_expectation(c, list[i], where + "[" + std::to_string(i) + "]", checkpoints));
        };
        if (root.contains("expect")) add_expectations(root["expect"], "expect");
        if (vj.contains("expect")) add_expectations(vj["expect"], w + ".expect");
        if (v.expect.empty()) c.fail(w, "a variant without expectations asserts nothing");
        s.variants.push_back(std::move(v));
    }
    return s;
}

Scenario load_scenario(const std::string& dir) {
    const std::string file = dir + "/scenario.json";
    std::ifstream in(file);
    if (!in) throw ScenarioError(file + ": cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    Scenario s = parse_scenario(text.str(), file);
    s.dir = dir;
    if (s.name != std::filesystem::path(dir).filename().string())
        throw ScenarioError(file + ": name: \"" + s.name + "\" differs from its folder's name");
    return s;
}

std::vector<std::string> scenario_names(const std::string& root) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec))
        if (entry.is_directory() && std::filesystem::exists(entry.path() / "scenario.json"))
            names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

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
    // so a default like "backlog + 2" follows a --set backlog.
    std::function<double(const Param&)> value_of = [&](const Param& p) -> double {
        if (auto it = values.find(p.name); it != values.end()) return it->second;
        if (!resolving.insert(p.name).second) throw ScenarioError("parameter " + p.name + " is defined in terms of itself");
        const bool from_user = user_set.count(p.name) > 0;
        std::string text = from_user ? user_set.at(p.name) : v.set.count(p.name) ? v.set.at(p.name) : p.default_expr;
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
