#include "expectations/expect.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace socklab {

using nlohmann::json;

std::string Observations::side_of(const std::string& a) const {
    for (const auto& [side, address] : address)
        if (address == a || "::ffff:" + address == a) return side;
    return "";
}

const Checkpoint* Observations::checkpoint(const std::string& name) const {
    for (const auto& c : checkpoints)
        if (c.name == name) return &c;
    return nullptr;
}

namespace {

std::string fmt(double value) {
    std::ostringstream out;
    if (value == std::floor(value) && std::fabs(value) < 1e15) out << static_cast<long long>(value);
    else out << value;
    return out.str();
}

std::pair<std::string, std::string> two_words(const std::string& text) {
    std::istringstream in(text);
    std::string a, b;
    in >> a >> b;
    return {a, b};
}

std::string expr_text(const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

// Evaluates an expression of the description; "count": "queue" -> 6 (shown as "6 (queue)").
struct Value {
    double number;
    std::string shown;
};
Value value_of(const json& j, const Lookup& lookup) {
    const std::string text = expr_text(j);
    double v = evaluate(text, lookup);
    return {v, j.is_string() && text != fmt(v) ? fmt(v) + " (" + text + ")" : fmt(v)};
}

// The states one connection passed through, from the transitions of one side, keyed by ports.
struct Connection {
    std::vector<std::string> states;
    std::vector<int64_t> times;  // times[i] is when states[i+1] was entered
};
std::map<std::string, Connection> connections_of(const Observations& seen, const std::string& side) {
    std::map<std::string, Connection> by_key;
    std::map<std::string, std::string> last_key_by_sport;
    for (const auto& e : seen.trace) {
        if (e.name != "inet_sock_set_state" || seen.side_of(e.saddr) != side) continue;
        // A client socket has no port until connect() picks one: its CLOSE -> SYN_SENT has sport 0.
        std::string key = std::to_string(e.sport) + ">" + std::to_string(e.dport);
        if (e.sport == 0 && e.oldstate == "CLOSE") key = "pending";
        if (e.oldstate == "SYN_SENT" && by_key.count("pending") && !by_key.count(key)) {
            by_key[key] = by_key["pending"];
            by_key.erase("pending");
        }
        Connection& c = by_key[key];
        if (c.states.empty()) c.states.push_back(e.oldstate);
        c.states.push_back(e.newstate);
        c.times.push_back(e.time_ns);
    }
    by_key.erase("pending");
    return by_key;
}

bool contains_path(const std::vector<std::string>& states, const std::vector<std::string>& path) {
    return std::search(states.begin(), states.end(), path.begin(), path.end()) != states.end();
}

Outcome check_call(const Expectation& e, const Observations& seen, const Lookup& lookup) {
    auto [side, call] = two_words(e.spec["call"].get<std::string>());
    int count = 0;
    std::map<std::string, int> results;  // "ret errno" -> how many, for the message
    std::optional<double> at;
    const std::string role = e.spec.value("role", "");
    const int nth = e.spec.value("nth", 0);
    std::vector<std::string> sequence;  // every result of this call, in order, for the message
    for (const auto& ev : seen.events) {
        if (ev.side != side || !ev.body.contains("call") || ev.body["call"] != call) continue;
        if (!role.empty() && ev.body.value("role", "") != role) continue;
        const long ret = ev.body.value("ret", 0L);
        const std::string err = ev.body.value("errno", "");
        const std::string result = std::to_string(ret) + (err.empty() ? "" : " " + err);
        results[result]++;
        sequence.push_back(result);
        bool match = nth == 0 || static_cast<int>(sequence.size()) == nth;
        if (e.spec.contains("ret")) match = match && ret == static_cast<long>(value_of(e.spec["ret"], lookup).number);
        // "errno": "0" stands for success, which the programs report with an empty errno.
        if (e.spec.contains("errno")) {
            const std::string want_err = e.spec["errno"].get<std::string>();
            match = match && (want_err == "0" ? err.empty() : err == want_err);
        }
        if (match) {
            ++count;
            at = seen.seconds(ev.time_ns);
        }
    }
    const std::string who = side + (role.empty() ? "" : " (" + role + ")");
    Outcome o;
    o.at = at;
    if (nth > 0) {
        std::string want = e.spec.contains("ret") ? " = " + value_of(e.spec["ret"], lookup).shown : "";
        if (e.spec.contains("errno")) want += " " + e.spec["errno"].get<std::string>();
        o.passed = count == 1;
        o.expected = "call " + std::to_string(nth) + " of " + call + "() by the " + who + want;
        o.observed = static_cast<int>(sequence.size()) < nth ? "only " + std::to_string(sequence.size()) + " calls" : call + "() = " + sequence[nth - 1];
        std::string all;
        for (const auto& r : sequence) all += (all.empty() ? "" : ", ") + r;
        o.observed += " (in order: " + (all.empty() ? "none" : all) + ")";
        return o;
    }
    Value want = value_of(e.spec["count"], lookup);
    std::string observed;
    for (const auto& [r, n] : results) observed += (observed.empty() ? "" : ", ") + std::to_string(n) + " x " + call + "() = " + r;
    o.passed = count == static_cast<int>(want.number);
    o.expected = want.shown + " matching " + call + "() results by the " + who;
    o.observed = std::to_string(count) + " matching" + (observed.empty() ? "; no " + call + "() reported" : "; all: " + observed);
    return o;
}

Outcome check_socket(const Expectation& e, const Observations& seen, const Lookup& lookup) {
    const std::string side = e.spec["socket"], at = e.spec["at"], state = e.spec["state"];
    const Checkpoint* cp = seen.checkpoint(at);
    Outcome o;
    if (!cp) {
        o.expected = "checkpoint " + at;
        o.observed = "the run never reached checkpoint " + at;
        return o;
    }
    o.at = seen.seconds(cp->time_ns);
    std::vector<const SocketInfo*> matched;
    std::map<std::string, int> census;
    for (const auto& s : cp->sockets.at(side)) {
        census[s.state]++;
        if (s.state == state) matched.push_back(&s);
    }
    std::vector<std::string> expected, problems;
    if (e.spec.contains("count")) {
        Value want = value_of(e.spec["count"], lookup);
        expected.push_back("count " + want.shown);
        if (static_cast<double>(matched.size()) != want.number) problems.push_back("count " + std::to_string(matched.size()));
    } else if (matched.empty()) {
        problems.push_back("none in " + state);
    }
    auto check_field = [&](const char* key, auto field) {
        if (!e.spec.contains(key)) return;
        Value want = value_of(e.spec[key], lookup);
        expected.push_back(std::string(key) + " " + want.shown);
        for (const SocketInfo* s : matched)
            if (static_cast<double>(field(*s)) != want.number) {
                problems.push_back(std::string(key) + " " + std::to_string(field(*s)) + " on :" + std::to_string(s->sport));
                return;
            }
    };
    check_field("recv_q", [](const SocketInfo& s) { return s.recv_q; });
    check_field("send_q", [](const SocketInfo& s) { return s.send_q; });
    if (e.spec.contains("inode")) {
        const bool none = e.spec["inode"] == "none";
        expected.push_back(none ? "no owner (inode 0)" : "owned (inode != 0)");
        for (const SocketInfo* s : matched)
            if ((s->inode == 0) != none) {
                problems.push_back("inode " + std::to_string(s->inode) + " on :" + std::to_string(s->sport));
                break;
            }
    }
    if (e.spec.contains("owner")) {
        const std::string owner = e.spec["owner"];
        expected.push_back(owner == "none" ? "no process holds a descriptor" : "held by a " + owner + " process");
        for (const SocketInfo* s : matched) {
            bool held = false;
            if (s->inode != 0)
                for (const auto& [holder_side, table] : cp->owners)
                    if (table.count(s->inode) && (owner == "none" || holder_side == owner)) held = true;
            if (held == (owner == "none")) {
                problems.push_back((held ? "held by a process" : "no " + owner + " process holds it") + std::string(" on :") + std::to_string(s->sport));
                break;
            }
        }
    }
    if (e.spec.contains("timer")) {
        static const char* names[] = {"none", "retransmit", "keepalive", "timewait", "probe"};
        const std::string timer = e.spec["timer"];
        expected.push_back("timer " + timer);
        for (const SocketInfo* s : matched) {
            const std::string has = s->timer < 5 ? names[s->timer] : "timer " + std::to_string(s->timer);
            if (timer == "on" ? s->timer == 0 : has != timer) {
                problems.push_back("timer " + has + " on :" + std::to_string(s->sport));
                break;
            }
        }
    }
    std::string all;
    for (const auto& [name, n] : census) all += (all.empty() ? "" : ", ") + std::to_string(n) + " " + name;
    o.passed = problems.empty();
    for (const auto& x : expected) o.expected += (o.expected.empty() ? "" : ", ") + x;
    o.observed = problems.empty() ? "as expected" : "";
    for (const auto& x : problems) o.observed += (o.observed.empty() ? "" : ", ") + x;
    o.observed += " (" + side + " had: " + (all.empty() ? "no sockets" : all) + ")";
    return o;
}

Outcome check_transitions(const Expectation& e, const Observations& seen, const Lookup& lookup) {
    const std::string side = e.spec["transitions"];
    std::vector<std::string> path = e.spec["path"].get<std::vector<std::string>>();
    int count = 0;
    std::optional<double> at;
    std::map<std::string, int> sequences;
    for (const auto& [key, c] : connections_of(seen, side)) {
        std::string seq;
        for (const auto& s : c.states) seq += (seq.empty() ? "" : " > ") + s;
        sequences[seq]++;
        if (contains_path(c.states, path)) {
            ++count;
            at = seen.seconds(c.times.back());
        }
    }
    Value want = value_of(e.spec["count"], lookup);
    Outcome o;
    std::string p;
    for (const auto& s : path) p += (p.empty() ? "" : " > ") + s;
    o.passed = count == static_cast<int>(want.number);
    o.expected = want.shown + " connections through " + p;
    o.observed = std::to_string(count);
    for (const auto& [s, n] : sequences) o.observed += "; " + std::to_string(n) + " x " + s;
    o.at = at;
    return o;
}

Outcome check_packets(const Expectation& e, const Observations& seen, const Lookup& lookup) {
    auto [side, flags_word] = two_words(e.spec["packets"].get<std::string>());
    const uint8_t flags = *parse_flags(flags_word);
    int count = 0;
    std::optional<double> at;
    std::map<std::string, int> from_side;
    for (const auto& s : seen.segments) {
        if (seen.side_of(s.src) != side) continue;
        from_side[flags_text(s.flags)]++;
        if (s.flags == flags) {
            ++count;
            at = seen.seconds(s.time_ns);
        }
    }
    Value want = value_of(e.spec["count"], lookup);
    Outcome o;
    o.passed = count == static_cast<int>(want.number);
    o.expected = want.shown + " segments " + flags_word + " from the " + side;
    o.observed = std::to_string(count) + " (all from the " + side + ":";
    for (const auto& [f, n] : from_side) o.observed += " " + f + " x" + std::to_string(n);
    o.observed += ")";
    o.at = at;
    return o;
}

// A rule's schedule from a side's sysctls; "established" also takes the socket option
// tcp_user_timeout (ms) from the scenario's parameter of that name, when it has one.
Schedule rule_schedule(const std::string& rule, const Sysctls& sysctls, const Lookup& lookup, int hz) {
    if (rule == "syn_sent") return syn_sent_schedule(sysctls);
    if (rule == "syn_recv") return syn_recv_schedule(sysctls);
    return established_schedule(sysctls, lookup("tcp_user_timeout").value_or(0.0) / 1000.0, hz);
}

// Each connection's retransmissions must follow the rule's schedule: interval by interval, within
// the window the kernel's timer can fire in; `connections` of them must run it to the end.
Outcome check_retransmits(const Expectation& e, const Observations& seen, const Lookup& lookup, const Timing& timing) {
    auto [side, flags_word] = two_words(e.spec["retransmits"].get<std::string>());
    const uint8_t flags = *parse_flags(flags_word);
    const std::string rule = e.spec["rule"];
    const Sysctls& sysctls = seen.sysctls.at(side);
    const Schedule schedule = rule_schedule(rule, sysctls, lookup, timing.hz);
    std::vector<double> intervals;
    for (size_t i = 0; i < schedule.retransmits.size(); ++i)
        intervals.push_back(schedule.retransmits[i] - (i ? schedule.retransmits[i - 1] : 0.0));

    // Copies of one segment: same ports and sequence number.
    std::map<std::string, std::vector<int64_t>> sends;
    for (const auto& s : seen.segments)
        if (seen.side_of(s.src) == side && s.flags == flags)
            sends[std::to_string(s.sport) + ">" + std::to_string(s.dport) + "#" + std::to_string(s.seq)].push_back(s.time_ns);

    int complete = 0;
    std::vector<std::string> problems;
    std::string counts;
    std::optional<double> at;
    for (const auto& [key, times] : sends) {
        const size_t retransmits = times.size() - 1;
        if (retransmits == 0) continue;
        counts += (counts.empty() ? "" : ", ") + std::to_string(retransmits);
        if (retransmits > intervals.size()) {
            problems.push_back(key + ": " + std::to_string(retransmits) + " retransmits, the rule allows " + std::to_string(intervals.size()));
            continue;
        }
        for (size_t i = 0; i < retransmits; ++i) {
            const double gap = static_cast<double>(times[i + 1] - times[i]) / 1e9;
            const Window w = timer_window(intervals[i], timing.hz, timing.slack);
            if (gap < w.lo || gap > w.hi) {
                std::ostringstream msg;
                msg << key << ": retransmit " << i + 1 << " came " << gap << " s after the previous one; the rule says "
                    << intervals[i] << " s (window " << w.lo << " to " << w.hi << ")";
                problems.push_back(msg.str());
                at = seen.seconds(times[i + 1]);
            }
        }
        if (retransmits == intervals.size()) ++complete;
    }
    Value want = value_of(e.spec["connections"], lookup);
    if (complete != static_cast<int>(want.number))
        problems.insert(problems.begin(), std::to_string(complete) + " connections ran the whole schedule");
    Outcome o;
    std::ostringstream expected;
    expected << want.shown << " connections with " << intervals.size() << " retransmits at +";
    for (size_t i = 0; i < schedule.retransmits.size(); ++i) expected << (i ? ", " : "") << schedule.retransmits[i];
    expected << " s (" << rule << " rule from the " << side << "'s sysctls, HZ=" << timing.hz << ")";
    o.expected = expected.str();
    o.passed = problems.empty();
    o.observed = problems.empty() ? "retransmit counts per connection: " + (counts.empty() ? "none" : counts) : "";
    for (const auto& p : problems) o.observed += (o.observed.empty() ? "" : "; ") + p;
    o.at = at;
    return o;
}

Outcome check_counter(const Expectation& e, const Observations& seen, const Lookup& lookup) {
    auto [side, name] = two_words(e.spec["counter"].get<std::string>());
    const Checkpoint& end = seen.checkpoints.back();
    const auto& counters = end.counters.at(side);
    auto it = counters.find(name);
    const bool equals = e.spec.contains("equals");
    Value want = value_of(equals ? e.spec["equals"] : e.spec["at_least"], lookup);
    Outcome o;
    o.expected = std::string(equals ? "" : "at least ") + want.shown;
    o.at = seen.seconds(end.time_ns);
    if (it == counters.end()) {
        o.observed = "this kernel has no counter " + name;
        return o;
    }
    const double value = static_cast<double>(it->second);
    o.passed = equals ? value == want.number : value >= want.number;
    o.observed = fmt(value);
    return o;
}

Outcome check_exit(const Expectation& e, const Observations& seen) {
    const std::string side = e.spec["exit"];
    Outcome o;
    auto it = seen.exits.find(side);
    if (e.spec.contains("status")) o.expected = "exit status " + std::to_string(e.spec["status"].get<int>());
    else o.expected = "killed by " + e.spec["signal"].get<std::string>();
    if (it == seen.exits.end()) {
        o.observed = "the " + side + " was never started or never ended";
        return o;
    }
    const ProgramExit& x = it->second;
    o.at = seen.seconds(x.time_ns);
    if (x.status) o.observed = "exit status " + std::to_string(*x.status);
    if (x.signal) o.observed = std::string("killed by ") + (*x.signal == 13 ? "SIGPIPE" : *x.signal == 9 ? "SIGKILL" : *x.signal == 15 ? "SIGTERM" : "signal " + std::to_string(*x.signal));
    o.passed = o.observed == o.expected;
    return o;
}

// When a moment of the run happened, or nullopt when it never did.
std::optional<int64_t> moment_time(const std::string& moment, const Observations& seen) {
    std::istringstream words(moment);
    std::string kind, a, b;
    words >> kind >> a >> b;
    if (kind == "checkpoint") {
        if (const Checkpoint* c = seen.checkpoint(a)) return c->time_ns;
    } else if (kind == "transition") {
        const std::string from = b.substr(0, b.find('>')), to = b.substr(b.find('>') + 1);
        for (const auto& t : seen.trace)
            if (t.name == "inet_sock_set_state" && seen.side_of(t.saddr) == a && t.oldstate == from && t.newstate == to)
                return t.time_ns;
    } else if (kind == "call") {
        for (const auto& ev : seen.events)
            if (ev.side == a && ev.body.value("call", "") == b) return ev.time_ns;
    } else if (kind == "packet") {
        const uint8_t flags = parse_flags(b).value_or(0);
        for (const auto& s : seen.segments)
            if (seen.side_of(s.src) == a && s.flags == flags) return s.time_ns;
    }
    return std::nullopt;
}

// The time between two moments is one kernel timer of `timer` seconds: it must fall in the window
// that timer can fire in, widened by how late an "until" checkpoint may notice it.
Outcome check_interval(const Expectation& e, const Observations& seen, const Lookup& lookup, const Timing& timing) {
    const std::string from = e.spec["interval"]["from"], to = e.spec["interval"]["to"];
    Value timer{0, ""};
    Window w{0, 0};
    if (e.spec.contains("rule")) {  // "<side> <rule>": the chain of timers to the rule's give-up
        auto [side, rule] = two_words(e.spec["rule"].get<std::string>());
        Schedule schedule = rule_schedule(rule, seen.sysctls.at(side), lookup, timing.hz);
        std::vector<double> chain = schedule.chain;
        if (chain.empty())
            for (size_t i = 0; i <= schedule.retransmits.size(); ++i)
                chain.push_back((i < schedule.retransmits.size() ? schedule.retransmits[i] : schedule.give_up) -
                                (i ? schedule.retransmits[i - 1] : 0.0));
        w = chain_window(chain, schedule.give_up, timing.hz, timing.slack + seen.poll_interval);
        timer = {schedule.give_up, fmt(schedule.give_up) + " (" + rule + " rule from the " + side + "'s sysctls, " +
                                       std::to_string(chain.size()) + " timers, HZ=" + std::to_string(timing.hz) + ")"};
    } else {
        timer = value_of(e.spec["timer"], lookup);
        w = timer_window(timer.number, timing.hz, timing.slack + seen.poll_interval);
    }
    Outcome o;
    std::ostringstream expected;
    expected << timer.shown << " s from " << from << " to " << to << " (window " << w.lo << " to " << w.hi << " s)";
    o.expected = expected.str();
    auto start = moment_time(from, seen), end = moment_time(to, seen);
    if (!start || !end) {
        o.observed = (!start ? from : to) + " never happened";
        if (!seen.traced && (from.rfind("transition", 0) == 0 || to.rfind("transition", 0) == 0)) {
            o.skipped = true;
            o.observed = "not checked: " + seen.trace_note;
        }
        return o;
    }
    const double gap = static_cast<double>(*end - *start) / 1e9;
    o.passed = gap >= w.lo && gap <= w.hi;
    std::ostringstream observed;
    observed << gap << " s";
    o.observed = observed.str();
    o.at = seen.seconds(*end);
    return o;
}

Outcome check_trace(const Expectation& e, const Observations& seen, const Lookup& lookup) {
    auto [side, event] = two_words(e.spec["trace"].get<std::string>());
    Outcome o;
    const bool at_least = e.spec.contains("at_least");
    Value want = value_of(at_least ? e.spec["at_least"] : e.spec["count"], lookup);
    o.expected = (at_least ? "at least " : "") + want.shown + " " + event + " events on the " + side;
    if (!seen.traced) {
        o.skipped = true;
        o.observed = "not checked: " + seen.trace_note;
        return o;
    }
    int count = 0;
    for (const auto& t : seen.trace)
        if (t.name == event && seen.side_of(t.saddr) == side) {
            ++count;
            o.at = seen.seconds(t.time_ns);
        }
    o.passed = at_least ? count >= static_cast<int>(want.number) : count == static_cast<int>(want.number);
    o.observed = std::to_string(count);
    return o;
}

// The value of a name for what the run observed (see is_observed_name), or nullopt for other names.
std::optional<double> observed_value(const std::string& name, const Observations& seen) {
    std::vector<std::string> parts;
    std::istringstream in(name);
    for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
    if (parts.size() != 5 || (parts[0] != "sockets" && parts[0] != "calls")) return std::nullopt;
    const Checkpoint* cp = seen.checkpoint(parts[1]);
    if (!cp) throw ExprError(name + ": the run never reached checkpoint " + parts[1]);
    const std::string& side = parts[2];
    double count = 0, sum = 0;
    if (parts[0] == "sockets") {
        if (parts[4] != "count" && parts[4] != "recv_q" && parts[4] != "send_q") return std::nullopt;
        if (auto it = cp->sockets.find(side); it != cp->sockets.end())
            for (const auto& s : it->second)
                if (s.state == parts[3]) {
                    ++count;
                    sum += parts[4] == "recv_q" ? s.recv_q : s.send_q;
                }
        return parts[4] == "count" ? count : sum;
    }
    // count, total, or an errno name (EAGAIN): how many of the calls failed with it
    const bool by_errno = parts[4] != "count" && parts[4] != "total";
    if (by_errno && (parts[4].size() < 2 || parts[4][0] != 'E')) return std::nullopt;
    for (const auto& ev : seen.events)
        if (ev.side == side && ev.time_ns <= cp->time_ns && ev.body.value("call", "") == parts[3]) {
            ++count;
            sum += by_errno ? ev.body.value("errno", "") == parts[4] : std::max(0.0, static_cast<double>(ev.body.value("ret", 0L)));
        }
    return parts[4] == "count" ? count : sum;
}

// An expression over anything the expressions know, observed values included, that must not be 0.
Outcome check_holds(const Expectation& e, const Lookup& lookup) {
    const std::string text = e.spec["holds"];
    Outcome o;
    o.expected = text;
    // Each name's value, so that the verdict can be followed.
    std::set<std::string> shown;
    for (size_t i = 0; i < text.size();) {
        if (!(std::isalpha(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_' || text[end] == '.')) ++end;
        const std::string name = text.substr(i, end - i);
        i = end;
        if (!shown.insert(name).second) continue;
        if (auto v = lookup(name)) o.observed += (o.observed.empty() ? "" : ", ") + name + " = " + fmt(*v);
    }
    o.passed = evaluate(text, lookup) != 0;
    if (!o.observed.empty()) o.expected += " (" + o.observed + ")";  // what a passing one came to
    o.observed += o.passed ? "" : std::string(o.observed.empty() ? "" : "; ") + "it does not hold";
    return o;
}

// Kind, side and subject, for a reader of report.json who filters expectations without parsing
// their text. Most kinds name "<side> <subject>" under their own key; an interval names its side
// only through a rule, and holds names neither.
void name_what_it_is_about(const Expectation& e, Outcome& o) {
    o.kind = e.kind;
    if (e.kind == "holds") return;
    const std::string key = e.kind == "interval" ? "rule" : e.kind;
    if (!e.spec.contains(key) || !e.spec[key].is_string()) return;
    auto [side, subject] = two_words(e.spec[key].get<std::string>());
    o.side = side;
    o.subject = e.kind == "socket" ? e.spec.value("state", "") : subject;
}

bool applies(const std::string& when, const Observations& seen, const Lookup& lookup) {
    if (auto kernel = parse_kernel_condition(when)) return kernel->holds(seen.kernel_major, seen.kernel_minor);
    return evaluate(when, lookup) != 0;
}

}  // namespace

std::string describe(const Expectation& e) {
    const json& j = e.spec;
    std::string text;
    if (e.kind == "call") {
        text = j["call"].get<std::string>() + "()";
        if (j.contains("role")) text += " in the " + j["role"].get<std::string>();
        if (j.contains("ret")) text += " = " + expr_text(j["ret"]);
        if (j.contains("errno")) text += " " + j["errno"].get<std::string>();
        text += j.contains("nth") ? ", call " + j["nth"].dump() : ", " + expr_text(j["count"]) + " times";
    } else if (e.kind == "socket") {
        text = j["socket"].get<std::string>() + " " + j["state"].get<std::string>() + " at " + j["at"].get<std::string>();
        for (const char* k : {"count", "recv_q", "send_q", "inode", "owner", "timer"})
            if (j.contains(k)) text += std::string(" ") + k + "=" + expr_text(j[k]);
    } else if (e.kind == "transitions") {
        text = j["transitions"].get<std::string>() + " ";
        for (size_t i = 0; i < j["path"].size(); ++i) text += (i ? " > " : "") + j["path"][i].get<std::string>();
        text += ", " + expr_text(j["count"]) + " connections";
    } else if (e.kind == "packets") {
        text = j["packets"].get<std::string>() + " segments: " + expr_text(j["count"]);
    } else if (e.kind == "retransmits") {
        text = j["retransmits"].get<std::string>() + " retransmits follow " + j["rule"].get<std::string>() + " for " +
               expr_text(j["connections"]) + " connections";
    } else if (e.kind == "counter") {
        text = j["counter"].get<std::string>() + (j.contains("equals") ? " = " + expr_text(j["equals"]) : " >= " + expr_text(j["at_least"]));
    } else if (e.kind == "exit") {
        text = j["exit"].get<std::string>() + (j.contains("status") ? " exits " + j["status"].dump() : " dies of " + j["signal"].get<std::string>());
    } else if (e.kind == "trace") {
        text = j["trace"].get<std::string>() + " events: " + (j.contains("at_least") ? "at least " + expr_text(j["at_least"]) : expr_text(j["count"]));
    } else if (e.kind == "holds") {
        text = "holds: " + j["holds"].get<std::string>();
    } else if (e.kind == "interval") {
        text = "from " + j["interval"]["from"].get<std::string>() + " to " + j["interval"]["to"].get<std::string>() +
               ": " + (j.contains("rule") ? "rule " + j["rule"].get<std::string>() : expr_text(j["timer"]) + " s");
    }
    if (!e.when.empty()) text += " [when " + e.when + "]";
    return text;
}

std::vector<Outcome> check(const std::vector<Expectation>& expectations, const Observations& seen, const Lookup& given,
                           const Timing& timing) {
    // The description's names, and the values the run observed (sockets.*, calls.*).
    const Lookup lookup = [&](const std::string& name) -> std::optional<double> {
        if (auto v = observed_value(name, seen)) return v;
        return given(name);
    };
    std::vector<Outcome> outcomes;
    for (const auto& e : expectations) {
        Outcome o;
        if (!e.when.empty() && !applies(e.when, seen, lookup)) {
            o.skipped = true;
            o.observed = "not checked: it holds only when " + e.when + " (kernel " + std::to_string(seen.kernel_major) + "." +
                         std::to_string(seen.kernel_minor) + ")";
            o.where = e.where;
            o.text = describe(e);
            o.why = e.spec.value("why", "");
            name_what_it_is_about(e, o);
            outcomes.push_back(o);
            continue;
        }
        try {
            if (e.kind == "call") o = check_call(e, seen, lookup);
            else if (e.kind == "socket") o = check_socket(e, seen, lookup);
            else if (e.kind == "transitions") o = check_transitions(e, seen, lookup);
            else if (e.kind == "packets") o = check_packets(e, seen, lookup);
            else if (e.kind == "retransmits") o = check_retransmits(e, seen, lookup, timing);
            else if (e.kind == "counter") o = check_counter(e, seen, lookup);
            else if (e.kind == "exit") o = check_exit(e, seen);
            else if (e.kind == "trace") o = check_trace(e, seen, lookup);
            else if (e.kind == "interval") o = check_interval(e, seen, lookup, timing);
            else if (e.kind == "holds") o = check_holds(e, lookup);
        } catch (const ExprError& err) {
            o.passed = false;
            o.observed = err.what();
        }
        if (e.kind == "transitions" && !seen.traced) {
            o = Outcome{};
            o.skipped = true;
            o.observed = "not checked: " + seen.trace_note;
        }
        o.where = e.where;
        o.text = describe(e);
        o.why = e.spec.value("why", "");
        name_what_it_is_about(e, o);
        outcomes.push_back(o);
    }
    return outcomes;
}

}  // namespace socklab
