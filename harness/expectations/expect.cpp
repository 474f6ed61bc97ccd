#include "expectations/expect.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "common/common.hpp"

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

// An expression of the description, evaluated: "queue" -> 6, shown as "6 (queue)".
struct Value {
    double number;
    std::string shown;
};
Value value_of(const std::string& text, const Lookup& lookup) {
    const double v = evaluate(text, lookup);
    return {v, text != number_text(v) ? number_text(v) + " (" + text + ")" : number_text(v)};
}

// "<side> <word>": the two words, the side checked.
std::pair<std::string, std::string> side_and(const Reader& r, const json& j, const std::string& where,
                                             const std::string& example) {
    const auto w = words(r.str(j, where));
    if (w.size() != 2) r.fail(where, "write \"" + example + "\"");
    return {r.side(w[0], where), w[1]};
}

// One of two keys, exactly (e.g. "equals" or "at_least"); returns which.
std::string one_of(const Reader& r, const json& j, const std::string& where, const std::string& a, const std::string& b) {
    if (j.contains(a) == j.contains(b)) r.fail(where, "give exactly one of " + a + ", " + b);
    return j.contains(a) ? a : b;
}

std::optional<std::string> optional_expr(const Reader& r, const json& j, const char* key, const std::string& where) {
    if (!j.contains(key)) return std::nullopt;
    return r.expr(j[key], where + "." + key);
}

// The states one connection passed through, from the transitions of one side, keyed by ports.
struct Connection {
    std::vector<std::string> states;
    std::vector<int64_t> times;  // times[i] is when states[i+1] was entered
};
std::map<std::string, Connection> connections_of(const Observations& seen, const std::string& side) {
    std::map<std::string, Connection> by_key;
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

// A rule's schedule from a side's sysctls; "established", "persist", "persist_silent" and
// "keepalive" also take the socket option tcp_user_timeout (ms) from the scenario's parameter of
// that name, when it has one; "persist" (the peer answers every probe, so no end of its own) lists
// as many probes as the parameter `probes` says (1 without it), and "keepalive" takes the options
// keepidle, keepintvl (s) and keepcnt (absent or 0: the sysctls).
Schedule rule_schedule(const std::string& rule, const Sysctls& sysctls, const Lookup& lookup, int hz) {
    if (rule == "syn_sent") return syn_sent_schedule(sysctls);
    if (rule == "syn_recv") return syn_recv_schedule(sysctls);
    const double user_timeout = lookup("tcp_user_timeout").value_or(0.0) / 1000.0;
    if (rule == "persist") return persist_schedule(sysctls, user_timeout, hz, true, static_cast<int>(lookup("probes").value_or(1.0)));
    if (rule == "persist_silent") return persist_schedule(sysctls, user_timeout, hz, false);
    if (rule == "keepalive")
        return keepalive_schedule(sysctls, lookup("keepidle").value_or(0.0), lookup("keepintvl").value_or(0.0),
                                  std::lround(lookup("keepcnt").value_or(0.0)), user_timeout, hz);
    return established_schedule(sysctls, user_timeout, hz);
}
const std::set<std::string> kRules{"syn_sent", "syn_recv", "established", "persist", "persist_silent", "keepalive"};

std::string rule(const Reader& r, const std::string& word, const std::string& where) {
    if (!kRules.count(word)) r.fail(where, "unknown rule \"" + word + "\" (syn_sent, syn_recv, established, persist, persist_silent, keepalive)");
    return word;
}

// {"call": "client connect", "ret": 0, "count": "queue"}: of the side's calls of that name in the
// expectation's phase (after the step or mark its program printed last before them), `count`
// matched ret and errno; without count, every one did and there was at least one.
class CallExpectation : public Expectation {
public:
    CallExpectation(const Reader& r, const json& j, const std::string& w, const Place& place) {
        r.keys(j, w, {"call"}, {"count", "ret", "errno", "role", "after"});
        std::tie(side, subject) = side_and(r, j["call"], w + ".call", "<side> <syscall>, e.g. client connect");
        r.program_name(side, "calls", subject, w + ".call");
        if (j.contains("role")) r.program_name(side, "roles", role_ = r.str(j["role"], w + ".role"), w + ".role");
        if (j.contains("after")) {
            // "send": after the program's first step or mark send; "send#2": after its second.
            const std::string after = r.str(j["after"], w + ".after");
            const size_t hash = after.find('#');
            phase_ = Phase{after.substr(0, hash), 1};
            if (hash != std::string::npos) {
                const std::string n = after.substr(hash + 1);
                if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), ::isdigit) || std::stoi(n) < 1)
                    r.fail(w + ".after", "write \"<step or mark>\" or \"<step or mark>#<n>\" (its nth time, from 1)");
                phase_->occurrence = std::stoi(n);
            }
            r.program_name(side, "phases", phase_->name, w + ".after", {"start"});
        } else if (auto it = place.phase.find(side); it != place.phase.end()) {
            phase_ = it->second;
        }
        ret_ = optional_expr(r, j, "ret", w);
        if (j.contains("errno")) errno_ = r.errno_name(j["errno"], w + ".errno");
        count_ = optional_expr(r, j, "count", w);
    }

    Outcome check(const Observations& seen, const Lookup& lookup, const Timing&) const override {
        std::map<std::string, Phase> phase_of_role;                 // role -> after its last step or mark
        std::map<std::string, std::map<std::string, int>> printed;  // role -> step or mark -> times
        Phase phase_of_side{"start", 0};
        int total = 0, matched = 0;
        std::vector<std::string> results;  // every result of the call in the phase, in order
        Outcome o;
        const std::optional<Value> want_ret = ret_ ? std::optional<Value>(value_of(*ret_, lookup)) : std::nullopt;
        for (const auto& ev : seen.events) {
            if (ev.side != side) continue;
            const std::string role = ev.body.value("role", "");
            if (ev.body.contains("step") || ev.body.contains("mark")) {
                const std::string name = ev.body.value(ev.body.contains("step") ? "step" : "mark", "");
                phase_of_side = phase_of_role[role] = Phase{name, ++printed[role][name]};
                continue;
            }
            if (ev.body.value("call", "") != subject || (!role_.empty() && role != role_)) continue;
            const auto own = phase_of_role.find(role);
            const Phase& in = own != phase_of_role.end() ? own->second : phase_of_side;
            if (phase_ && (in.name != phase_->name || (phase_->name != "start" && in.occurrence != phase_->occurrence))) continue;
            const long ret = ev.body.value("ret", 0L);
            const std::string err = ev.body.value("errno", "");
            results.push_back(std::to_string(ret) + (err.empty() ? "" : " " + err));
            ++total;
            // "errno": "0" stands for success, which the programs report with an empty errno.
            if ((!want_ret || ret == static_cast<long>(want_ret->number)) &&
                (!errno_ || (*errno_ == "0" ? err.empty() : err == *errno_))) {
                ++matched;
                o.at = seen.seconds(ev.time_ns);
            }
        }
        const std::string result = (want_ret ? " = " + want_ret->shown : "") + (errno_ ? " " + *errno_ : "");
        if (count_) {
            const Value want = value_of(*count_, lookup);
            o.passed = matched == static_cast<int>(want.number);
            o.expected = want.shown + " x " + subject + "()" + result;
        } else {
            o.passed = total > 0 && matched == total;
            o.expected = "every " + subject + "()" + result + ", at least one";
        }
        o.expected += " by the " + who() + after();
        std::string all;
        for (const auto& r : results) all += (all.empty() ? "" : ", ") + r;
        o.observed = std::to_string(matched) + " of " + std::to_string(total) + " matched (" +
                     (all.empty() ? "no " + subject + "() reported" : subject + "() = " + all) + ")";
        return o;
    }

    std::string describe() const override {
        return side + " " + subject + "()" + (role_.empty() ? "" : " in the " + role_) + (ret_ ? " = " + *ret_ : "") +
               (errno_ ? " " + *errno_ : "") + (count_ ? ", " + *count_ + " times" : "") +
               after();
    }

private:
    std::string role_;
    std::optional<Phase> phase_;
    std::optional<std::string> ret_, errno_, count_;
    std::string who() const { return side + (role_.empty() ? "" : " (" + role_ + ")"); }
    std::string after() const {
        if (!phase_) return "";
        return " after " + phase_->name + (phase_->occurrence > 1 ? "#" + std::to_string(phase_->occurrence) : "");
    }
};

// {"socket": "server LISTEN", "count": 1, "recv_q": "queue"}: the side's sockets in that state at
// the checkpoint before the expectation (without count: at least one), and their fields.
class SocketExpectation : public Expectation {
public:
    SocketExpectation(const Reader& r, const json& j, const std::string& w, const Place& place) {
        r.keys(j, w, {"socket"}, {"count", "recv_q", "send_q", "inode", "owner", "timer"});
        auto [s, state] = side_and(r, j["socket"], w + ".socket", "<side> <STATE>, e.g. server LISTEN");
        side = s;
        subject = r.state(state, w + ".socket");
        if (place.checkpoint.empty()) r.fail(w, "no checkpoint before it: a socket expectation is about the checkpoint it follows");
        at_ = place.checkpoint;
        for (const char* k : {"count", "recv_q", "send_q"})
            if (auto e = optional_expr(r, j, k, w)) fields_.emplace_back(k, *e);
        if (j.contains("inode")) {
            inode_ = r.str(j["inode"], w + ".inode");
            if (inode_ != "none" && inode_ != "owned") r.fail(w + ".inode", "use \"none\" (no process owns it) or \"owned\"");
        }
        if (j.contains("owner")) {
            owner_ = r.str(j["owner"], w + ".owner");
            if (owner_ != "none" && owner_ != "client" && owner_ != "server")
                r.fail(w + ".owner", "use \"none\" (no process has a descriptor for it) or the side whose process has one");
        }
        if (j.contains("timer")) timer_ = r.timer(j["timer"], w + ".timer");
        if (subject == "FIN_WAIT2" && timer_ == "timewait")
            contention = "which timer a FIN_WAIT2 orphan gets depends on when the peer's ACK is processed: after close() "
                         "has returned, tcp_time_wait() makes it a timewait entry; from the socket's backlog while close() "
                         "still owns the socket, tcp_rcv_state_process() (sock_owned_by_user()) arms the keepalive timer "
                         "instead. Another run preempting close() on its CPU opens that window (seen side by side)";
    }

    Outcome check(const Observations& seen, const Lookup& lookup, const Timing&) const override {
        const Checkpoint* cp = seen.checkpoint(at_);
        Outcome o;
        if (!cp) {
            o.expected = "checkpoint " + at_;
            o.observed = "the run never reached checkpoint " + at_;
            return o;
        }
        o.at = seen.seconds(cp->time_ns);
        std::vector<const SocketInfo*> matched;
        std::map<std::string, int> census;
        for (const auto& s : cp->sockets.at(side)) {
            census[s.state]++;
            if (s.state == subject) matched.push_back(&s);
        }
        std::vector<std::string> expected, problems;
        bool counted = false;
        for (const auto& [key, text] : fields_) {
            const Value want = value_of(text, lookup);
            expected.push_back(key + " " + want.shown);
            if (key == "count") {
                counted = true;
                if (static_cast<double>(matched.size()) != want.number) problems.push_back("count " + std::to_string(matched.size()));
                continue;
            }
            for (const SocketInfo* s : matched) {
                const auto value = key == "recv_q" ? s->recv_q : s->send_q;
                if (static_cast<double>(value) != want.number) {
                    problems.push_back(key + " " + std::to_string(value) + " on :" + std::to_string(s->sport));
                    break;
                }
            }
        }
        if (!counted && matched.empty()) problems.push_back("none in " + subject);
        if (!inode_.empty()) {
            const bool none = inode_ == "none";
            expected.push_back(none ? "no owner (inode 0)" : "owned (inode != 0)");
            for (const SocketInfo* s : matched)
                if ((s->inode == 0) != none) {
                    problems.push_back("inode " + std::to_string(s->inode) + " on :" + std::to_string(s->sport));
                    break;
                }
        }
        if (!owner_.empty()) {
            expected.push_back(owner_ == "none" ? "no process holds a descriptor" : "held by a " + owner_ + " process");
            for (const SocketInfo* s : matched) {
                bool held = false;
                if (s->inode != 0)
                    for (const auto& [holder_side, table] : cp->owners)
                        if (table.count(s->inode) && (owner_ == "none" || holder_side == owner_)) held = true;
                if (held == (owner_ == "none")) {
                    problems.push_back((held ? "held by a process" : "no " + owner_ + " process holds it") + std::string(" on :") +
                                       std::to_string(s->sport));
                    break;
                }
            }
        }
        if (!timer_.empty()) {
            static const char* names[] = {"none", "retransmit", "keepalive", "timewait", "probe"};
            expected.push_back("timer " + timer_);
            for (const SocketInfo* s : matched) {
                const std::string has = s->timer < 5 ? names[s->timer] : "timer " + std::to_string(s->timer);
                if (timer_ == "on" ? s->timer == 0 : has != timer_) {
                    problems.push_back("timer " + has + " on :" + std::to_string(s->sport));
                    break;
                }
            }
        }
        std::string all;
        for (const auto& [name, n] : census) all += (all.empty() ? "" : ", ") + std::to_string(n) + " " + name;
        o.passed = problems.empty();
        for (const auto& x : expected) o.expected += (o.expected.empty() ? "" : ", ") + x;
        if (o.expected.empty()) o.expected = "at least one";
        o.observed = problems.empty() ? "as expected" : "";
        for (const auto& x : problems) o.observed += (o.observed.empty() ? "" : ", ") + x;
        o.observed += " (" + side + " had: " + (all.empty() ? "no sockets" : all) + ")";
        return o;
    }

    std::string describe() const override {
        std::string text = side + " " + subject + " at " + at_;
        for (const auto& [key, value] : fields_) text += " " + key + "=" + value;
        for (const auto& [key, value] : {std::pair{"inode", inode_}, {"owner", owner_}, {"timer", timer_}})
            if (!value.empty()) text += std::string(" ") + key + "=" + value;
        return text;
    }

private:
    std::string at_, inode_, owner_, timer_;
    std::vector<std::pair<std::string, std::string>> fields_;  // count, recv_q, send_q: expressions
};

// {"transitions": "server ESTABLISHED > FIN_WAIT1 > FIN_WAIT2", "count": 1}: connections of the
// side whose traced states contain the path.
class TransitionsExpectation : public Expectation {
public:
    TransitionsExpectation(const Reader& r, const json& j, const std::string& w, const Place&) {
        r.keys(j, w, {"transitions", "count"}, {});
        const std::string text = r.str(j["transitions"], w + ".transitions");
        const auto ws = words(text);
        if (ws.size() < 4) r.fail(w + ".transitions", "write \"<side> STATE > STATE ...\", e.g. \"client SYN_SENT > CLOSE\"");
        side = r.side(ws[0], w + ".transitions");
        for (size_t i = 1; i < ws.size(); ++i) {
            if (i % 2 == 0) {
                if (ws[i] != ">") r.fail(w + ".transitions", "states are separated by \" > \"");
                continue;
            }
            path_.push_back(r.state(ws[i], w + ".transitions"));
        }
        if (ws.size() % 2 != 0) r.fail(w + ".transitions", "the path ends with \">\"");
        subject = text.substr(text.find(' ') + 1);
        count_ = r.expr(j["count"], w + ".count");
    }

    Outcome check(const Observations& seen, const Lookup& lookup, const Timing&) const override {
        Outcome o;
        if (!seen.traced) {
            o.skipped = true;
            o.observed = "not checked: " + seen.trace_note;
            return o;
        }
        int count = 0;
        std::map<std::string, int> sequences;
        for (const auto& [key, c] : connections_of(seen, side)) {
            std::string seq;
            for (const auto& s : c.states) seq += (seq.empty() ? "" : " > ") + s;
            sequences[seq]++;
            if (std::search(c.states.begin(), c.states.end(), path_.begin(), path_.end()) != c.states.end()) {
                ++count;
                o.at = seen.seconds(c.times.back());
            }
        }
        const Value want = value_of(count_, lookup);
        o.passed = count == static_cast<int>(want.number);
        o.expected = want.shown + " connections through " + subject;
        o.observed = std::to_string(count);
        for (const auto& [s, n] : sequences) o.observed += "; " + std::to_string(n) + " x " + s;
        return o;
    }

    std::string describe() const override { return side + " " + subject + ", " + count_ + " connections"; }

private:
    std::vector<std::string> path_;
    std::string count_;
};

// A segment's own names in a condition ("where"), as Wireshark shows them (relative_numbers()).
const std::set<std::string> kSegmentNames{"len", "win", "seq", "ack", "una"};

// True when the segment meets every condition (expressions over kSegmentNames and `lookup`'s names).
bool segment_meets(const Segment& s, const Relative& n, const std::vector<std::string>& conditions, const Lookup& lookup) {
    const Lookup fields = [&](const std::string& name) -> std::optional<double> {
        if (name == "len") return s.len;
        if (name == "win") return static_cast<double>(n.window);
        if (name == "seq") return n.seq;
        if (name == "ack") return n.ack;
        if (name == "una") return n.una;
        return lookup(name);
    };
    for (const auto& c : conditions)
        if (evaluate(c, fields) == 0) return false;
    return true;
}

// {"packets": "server F.", "count": 1}: segments with exactly those flags sent by the side.
class PacketsExpectation : public Expectation {
public:
    PacketsExpectation(const Reader& r, const json& j, const std::string& w, const Place&) {
        r.keys(j, w, {"packets"}, {"count", "at_least", "where"});
        std::tie(side, subject) = side_and(r, j["packets"], w + ".packets", "<side> <flags>, e.g. server F.");
        flags_ = r.flags(subject, w + ".packets");
        at_least_ = one_of(r, j, w, "count", "at_least") == "at_least";
        count_ = r.expr(j[at_least_ ? "at_least" : "count"], w + "." + (at_least_ ? "at_least" : "count"));
        if (j.contains("where")) {
            const Reader fields = r.with_more_names(kSegmentNames);
            const json& list = j["where"].is_array() ? j["where"] : json::array({j["where"]});
            for (size_t i = 0; i < list.size(); ++i) {
                const std::string at = w + ".where" + (j["where"].is_array() ? "[" + std::to_string(i) + "]" : "");
                where_.push_back(fields.expr(list[i], at));
            }
        }
    }

    Outcome check(const Observations& seen, const Lookup& lookup, const Timing&) const override {
        int count = 0, flagged = 0;
        Outcome o;
        std::map<std::string, int> from_side;
        const std::vector<Relative> numbers = relative_numbers(seen.segments);
        for (size_t i = 0; i < seen.segments.size(); ++i) {
            const Segment& s = seen.segments[i];
            if (seen.side_of(s.src) != side) continue;
            from_side[flags_text(s.flags)]++;
            if (s.flags != flags_) continue;
            ++flagged;
            if (!segment_meets(s, numbers[i], where_, lookup)) continue;
            ++count;
            o.at = seen.seconds(s.time_ns);
        }
        const Value want = value_of(count_, lookup);
        o.passed = at_least_ ? count >= static_cast<int>(want.number) : count == static_cast<int>(want.number);
        o.expected = (at_least_ ? "at least " : "") + want.shown + " segments " + subject + " from the " + side + conditions_text();
        o.observed = std::to_string(count);
        if (!where_.empty()) o.observed += " of " + std::to_string(flagged) + " " + subject;
        o.observed += " (all from the " + side + ":";
        for (const auto& [f, n] : from_side) o.observed += " " + f + " x" + std::to_string(n);
        o.observed += ")";
        return o;
    }

    std::string describe() const override {
        return side + " " + subject + " segments" + conditions_text() + ": " + (at_least_ ? "at least " : "") + count_;
    }

private:
    std::string conditions_text() const {
        std::string text;
        for (const auto& c : where_) text += (text.empty() ? " where " : ", ") + c;
        return text;
    }

    uint8_t flags_ = 0;
    bool at_least_ = false;
    std::string count_;
    std::vector<std::string> where_;
};

// {"retransmits": "client S", "rule": "syn_sent", "connections": "overflow"}: each connection's
// copies of a segment follow the rule's schedule, interval by interval, within the window the
// kernel's timer can fire in; `connections` of them run it to the end.
class RetransmitsExpectation : public Expectation {
public:
    RetransmitsExpectation(const Reader& r, const json& j, const std::string& w, const Place&) {
        r.keys(j, w, {"retransmits", "rule", "connections"}, {});
        std::tie(side, subject) = side_and(r, j["retransmits"], w + ".retransmits", "<side> <flags>, e.g. client S");
        flags_ = r.flags(subject, w + ".retransmits");
        rule_ = rule(r, r.str(j["rule"], w + ".rule"), w + ".rule");
        connections_ = r.expr(j["connections"], w + ".connections");
    }

    Outcome check(const Observations& seen, const Lookup& lookup, const Timing& timing) const override {
        const Schedule schedule = rule_schedule(rule_, seen.sysctls.at(side), lookup, timing.hz);
        std::vector<double> intervals;
        for (size_t i = 0; i < schedule.retransmits.size(); ++i)
            intervals.push_back(schedule.retransmits[i] - (i ? schedule.retransmits[i - 1] : schedule.first));
        // Copies of one segment: same ports, sequence number and length (a bare ACK and the data
        // segment after it share a sequence number, and are not copies of each other).
        std::map<std::string, std::vector<int64_t>> sends;
        for (const auto& s : seen.segments)
            if (seen.side_of(s.src) == side && s.flags == flags_)
                sends[std::to_string(s.sport) + ">" + std::to_string(s.dport) + "#" + std::to_string(s.seq) + "+" +
                      std::to_string(s.len)].push_back(s.time_ns);
        int complete = 0;
        std::vector<std::string> problems;
        std::string counts;
        Outcome o;
        for (const auto& [key, times] : sends) {
            const size_t retransmits = times.size() - 1;
            if (retransmits == 0) continue;
            counts += (counts.empty() ? "" : ", ") + std::to_string(retransmits);
            if (retransmits > intervals.size()) {
                problems.push_back(key + ": " + std::to_string(retransmits) + " retransmits, the rule allows " +
                                   std::to_string(intervals.size()));
                continue;
            }
            for (size_t i = 0; i < retransmits; ++i) {
                const double gap = static_cast<double>(times[i + 1] - times[i]) / 1e9;
                Window win = timer_window(intervals[i], timing.hz, timing.slack);
                // Stamped on arrival: the copy a timer was armed after may be stamped late.
                if (side != seen.captured_on) win.lo -= timing.arrival;
                if (gap < win.lo || gap > win.hi) {
                    std::ostringstream msg;
                    msg << key << ": retransmit " << i + 1 << " came " << gap << " s after the previous one; the rule says "
                        << intervals[i] << " s (window " << win.lo << " to " << win.hi << ")";
                    problems.push_back(msg.str());
                    o.at = seen.seconds(times[i + 1]);
                }
            }
            if (retransmits == intervals.size()) ++complete;
        }
        const Value want = value_of(connections_, lookup);
        if (complete != static_cast<int>(want.number))
            problems.insert(problems.begin(), std::to_string(complete) + " connections ran the whole schedule");
        std::ostringstream expected;
        expected << want.shown << " connections with " << intervals.size() << " retransmits at +";
        for (size_t i = 0; i < schedule.retransmits.size(); ++i) expected << (i ? ", " : "") << schedule.retransmits[i];
        if (schedule.first > 0) expected << " after the rule's start, the first copy at +" << schedule.first;
        expected << " s (" << rule_ << " rule from the " << side << "'s sysctls, HZ=" << timing.hz << ")";
        o.expected = expected.str();
        o.passed = problems.empty();
        o.observed = problems.empty() ? "retransmit counts per connection: " + (counts.empty() ? "none" : counts) : "";
        for (const auto& p : problems) o.observed += (o.observed.empty() ? "" : "; ") + p;
        return o;
    }

    std::string describe() const override {
        return side + " " + subject + " retransmits follow " + rule_ + " for " + connections_ + " connections";
    }

private:
    std::string rule_, connections_;
    uint8_t flags_ = 0;
};

// {"counter": "server TcpExt.ListenOverflows", "equals": "overflow"} (or "at_least"): the
// side's counter at the final snapshot.
class CounterExpectation : public Expectation {
public:
    CounterExpectation(const Reader& r, const json& j, const std::string& w, const Place&) {
        r.keys(j, w, {"counter"}, {"equals", "at_least"});
        std::tie(side, subject) = side_and(r, j["counter"], w + ".counter", "<side> TcpExt.<Name>");
        if (subject.find('.') == std::string::npos) r.fail(w + ".counter", "write \"<side> TcpExt.<Name>\"");
        at_least_ = one_of(r, j, w, "equals", "at_least") == "at_least";
        value_ = r.expr(j[at_least_ ? "at_least" : "equals"], w);
    }

    Outcome check(const Observations& seen, const Lookup& lookup, const Timing&) const override {
        const Checkpoint& end = seen.checkpoints.back();
        const auto& counters = end.counters.at(side);
        const Value want = value_of(value_, lookup);
        Outcome o;
        o.expected = std::string(at_least_ ? "at least " : "") + want.shown;
        o.at = seen.seconds(end.time_ns);
        auto it = counters.find(subject);
        if (it == counters.end()) {
            o.observed = "this kernel has no counter " + subject;
            return o;
        }
        const double value = static_cast<double>(it->second);
        o.passed = at_least_ ? value >= want.number : value == want.number;
        o.observed = number_text(value);
        return o;
    }

    std::string describe() const override { return side + " " + subject + (at_least_ ? " >= " : " = ") + value_; }

private:
    bool at_least_ = false;
    std::string value_;
};

// {"exit": "client", "status": 0} or {"exit": "client", "signal": "SIGPIPE"}: from the process table.
class ExitExpectation : public Expectation {
public:
    ExitExpectation(const Reader& r, const json& j, const std::string& w, const Place&) {
        r.keys(j, w, {"exit"}, {"status", "signal"});
        side = r.side(r.str(j["exit"], w + ".exit"), w + ".exit");
        if (one_of(r, j, w, "status", "signal") == "status") {
            if (!j["status"].is_number_integer()) r.fail(w + ".status", "expected an integer");
            want_ = "exit status " + std::to_string(j["status"].get<int>());
        } else {
            subject = r.str(j["signal"], w + ".signal");
            if (!signal_number(subject)) r.fail(w + ".signal", "unknown signal \"" + subject + "\" (SIGPIPE, SIGKILL, SIGTERM)");
            want_ = "killed by " + subject;
        }
    }

    Outcome check(const Observations& seen, const Lookup&, const Timing&) const override {
        Outcome o;
        o.expected = want_;
        auto it = seen.exits.find(side);
        if (it == seen.exits.end()) {
            o.observed = "the " + side + " was never started or never ended";
            return o;
        }
        const ProgramExit& x = it->second;
        o.at = seen.seconds(x.time_ns);
        if (x.status) o.observed = "exit status " + std::to_string(*x.status);
        if (x.signal) {
            o.observed = "killed by signal " + std::to_string(*x.signal);
            for (const char* name : {"SIGPIPE", "SIGKILL", "SIGTERM"})
                if (signal_number(name) == *x.signal) o.observed = std::string("killed by ") + name;
        }
        o.passed = o.observed == o.expected;
        return o;
    }

    std::string describe() const override {
        return side + (subject.empty() ? " exits " + want_.substr(want_.rfind(' ') + 1) : " dies of " + subject);
    }

private:
    std::string want_;
    static int signal_number(const std::string& name) {
        return name == "SIGPIPE" ? 13 : name == "SIGKILL" ? 9 : name == "SIGTERM" ? 15 : 0;
    }
};

// {"trace": "server tcp_send_reset", "count": 1} (or "at_least"): TCP tracepoint events of the side.
class TraceExpectation : public Expectation {
public:
    TraceExpectation(const Reader& r, const json& j, const std::string& w, const Place&) {
        r.keys(j, w, {"trace"}, {"count", "at_least", "reason"});
        std::tie(side, subject) = side_and(r, j["trace"], w + ".trace", "<side> <event>, e.g. server tcp_send_reset");
        static const std::set<std::string> events{"tcp_retransmit_synack", "tcp_retransmit_skb", "tcp_send_reset",
                                                  "tcp_receive_reset"};
        if (!events.count(subject)) r.fail(w + ".trace", "unknown event \"" + subject + "\"");
        if (j.contains("reason")) {
            // The kernel's sk_rst_reason names ("NO_SOCKET", "TCP_ABORT_ON_LINGER"): traced since 6.10.
            if (subject != "tcp_send_reset") r.fail(w + ".reason", "only tcp_send_reset has a reason");
            reason_ = r.str(j["reason"], w + ".reason");
            if (reason_.empty()) r.fail(w + ".reason", "name a reason, e.g. NO_SOCKET");
        }
        at_least_ = one_of(r, j, w, "count", "at_least") == "at_least";
        value_ = r.expr(j[at_least_ ? "at_least" : "count"], w);
    }

    Outcome check(const Observations& seen, const Lookup& lookup, const Timing&) const override {
        Outcome o;
        const Value want = value_of(value_, lookup);
        o.expected = (at_least_ ? "at least " : "") + want.shown + " " + subject + " events on the " + side +
                     (reason_.empty() ? "" : " with reason " + reason_);
        if (!seen.traced) {
            o.skipped = true;
            o.observed = "not checked: " + seen.trace_note;
            return o;
        }
        int count = 0;
        std::map<std::string, int> reasons;
        for (const auto& t : seen.trace) {
            if (t.name != subject || seen.side_of(t.saddr) != side) continue;
            reasons[t.reason.empty() ? "none traced" : t.reason]++;
            if (!reason_.empty() && t.reason != reason_) continue;
            ++count;
            o.at = seen.seconds(t.time_ns);
        }
        o.passed = at_least_ ? count >= static_cast<int>(want.number) : count == static_cast<int>(want.number);
        o.observed = std::to_string(count);
        if (!reason_.empty()) {
            std::string list;
            for (const auto& [name, n] : reasons) list += (list.empty() ? "" : ", ") + name + " x" + std::to_string(n);
            if (!list.empty()) o.observed += " (reasons: " + list + ")";
        }
        return o;
    }

    std::string describe() const override {
        return side + " " + subject + " events" + (reason_.empty() ? "" : " (" + reason_ + ")") + ": " +
               (at_least_ ? "at least " : "") + value_;
    }

private:
    bool at_least_ = false;
    std::string value_, reason_;
};

// A moment of the run: "checkpoint NAME", "transition SIDE OLD>NEW", "call SIDE NAME" (its first
// call), "packet SIDE FLAGS" (the first such segment) or "packet SIDE FLAGS#N" (the Nth, from 1;
// N an expression without spaces, e.g. "packet client P.#2*rounds").
struct Moment {
    std::string kind, side, a, b;
    std::string text;
    std::vector<std::string> conditions;  // packet: what the segment meets ("where COND")
    std::string nth;                 // packet: which such segment, an expression ("" is the first)

    static Moment read(const Reader& r, const std::string& text, const std::string& where, const std::set<std::string>& checkpoints) {
        const auto w = words(text);
        Moment m{w.empty() ? "" : w[0], "", "", "", text, {}, ""};
        if (m.kind == "checkpoint" && w.size() == 2) {
            if (!checkpoints.count(w[1])) r.fail(where, "no step makes checkpoint \"" + w[1] + "\"");
            m.a = w[1];
        } else if (m.kind == "transition" && w.size() == 3 && w[2].find('>') != std::string::npos) {
            m.side = r.side(w[1], where);
            m.a = r.state(w[2].substr(0, w[2].find('>')), where);
            m.b = r.state(w[2].substr(w[2].find('>') + 1), where);
        } else if (m.kind == "call" && w.size() == 3) {
            m.side = r.side(w[1], where);
            r.program_name(m.side, "calls", m.a = w[2], where);
        } else if (m.kind == "packet" && (w.size() == 3 || (w.size() > 4 && w[3] == "where"))) {
            m.side = r.side(w[1], where);
            const size_t hash = w[2].find('#');
            r.flags(m.a = w[2].substr(0, hash), where);
            if (hash != std::string::npos) {
                if (hash + 1 == w[2].size()) r.fail(where, "write \"packet SIDE FLAGS#N\": N counts such segments from 1");
                m.nth = r.expr(nlohmann::json(w[2].substr(hash + 1)), where);
            }
            if (w.size() > 4) m.conditions.push_back(r.with_more_names(kSegmentNames).expr(json(text.substr(text.find(" where ") + 7)), where));
        } else {
            r.fail(where, "a moment is \"checkpoint NAME\", \"transition SIDE OLD>NEW\", \"call SIDE NAME\" or \"packet SIDE FLAGS[#N] [where CONDITION]\"");
        }
        return m;
    }

    // When it happened: a span, as an "until" checkpoint knows its moment only between two looks.
    struct Span {
        int64_t earliest, latest;
    };
    std::optional<Span> time(const Observations& seen, const Lookup& lookup) const {
        if (kind == "checkpoint") {
            if (const Checkpoint* c = seen.checkpoint(a)) return Span{c->since_ns.value_or(c->time_ns), c->time_ns};
            return std::nullopt;
        }
        const std::optional<int64_t> t = instant(seen, lookup);
        if (!t) return std::nullopt;
        return Span{*t, *t};
    }

private:
    std::optional<int64_t> instant(const Observations& seen, const Lookup& lookup) const {
        if (kind == "transition") {
            for (const auto& t : seen.trace)
                if (t.name == "inet_sock_set_state" && seen.side_of(t.saddr) == side && t.oldstate == a && t.newstate == b)
                    return t.time_ns;
        } else if (kind == "call") {
            for (const auto& ev : seen.events)
                if (ev.side == side && ev.body.value("call", "") == a) return ev.time_ns;
        } else if (kind == "packet") {
            const uint8_t flags = parse_flags(a).value_or(0);
            const double n = nth.empty() ? 1.0 : evaluate(nth, lookup);
            if (n < 1 || n != std::floor(n)) throw ExprError("in moment \"" + text + "\": the segment's number is " + number_text(n) + ", not 1, 2, ...");
            long left = static_cast<long>(n);
            const std::vector<Relative> numbers = relative_numbers(seen.segments);
            for (size_t i = 0; i < seen.segments.size(); ++i) {
                const Segment& s = seen.segments[i];
                if (seen.side_of(s.src) == side && s.flags == flags && segment_meets(s, numbers[i], conditions, lookup) && --left == 0)
                    return s.time_ns;
            }
        }
        return std::nullopt;
    }
};

// {"interval": "checkpoint a > transition server FIN_WAIT2>CLOSE", "timer": "fin"}: the time
// between two moments is one kernel timer of that many seconds, within the window that timer can
// fire in; or "rule": "<side> <rule>", the chain of timers from a rule's first transmission to
// its give-up (kernel_rules.hpp). A checkpoint that waited for its moment knows it between two
// looks, and the gap is then a span: it holds when some gap in the span fits the window.
class IntervalExpectation : public Expectation {
public:
    IntervalExpectation(const Reader& r, const json& j, const std::string& w, const Place& place) {
        r.keys(j, w, {"interval"}, {"timer", "rule"});
        const std::string text = r.str(j["interval"], w + ".interval");
        const size_t gt = text.find(" > ");
        if (gt == std::string::npos) r.fail(w + ".interval", "write \"<moment> > <moment>\", e.g. \"checkpoint closed > transition server FIN_WAIT2>CLOSE\"");
        from_ = Moment::read(r, text.substr(0, gt), w + ".interval", place.checkpoints);
        to_ = Moment::read(r, text.substr(gt + 3), w + ".interval", place.checkpoints);
        if (one_of(r, j, w, "timer", "rule") == "timer") {
            timer_ = r.expr(j["timer"], w + ".timer");
        } else {
            auto [s, name] = side_and(r, j["rule"], w + ".rule", "<side> <rule>, e.g. client established");
            rule_side_ = s;
            subject = rule(r, name, w + ".rule");
        }
    }

    Outcome check(const Observations& seen, const Lookup& lookup, const Timing& timing) const override {
        Value timer{0, ""};
        Window win{0, 0};
        if (!subject.empty()) {
            const Schedule schedule = rule_schedule(subject, seen.sysctls.at(rule_side_), lookup, timing.hz);
            std::vector<double> chain = schedule.chain;
            if (chain.empty())
                for (size_t i = 0; i <= schedule.retransmits.size(); ++i)
                    chain.push_back((i < schedule.retransmits.size() ? schedule.retransmits[i] : schedule.give_up) -
                                    (i ? schedule.retransmits[i - 1] : 0.0));
            const double total = schedule.give_up;  // from the rule's start, the first timer included
            win = chain_window(chain, total, timing.hz, timing.slack);
            timer = {total, number_text(total) + " (" + subject + " rule from the " + rule_side_ + "'s sysctls, " +
                                           std::to_string(chain.size()) + " timers, HZ=" + std::to_string(timing.hz) + ")"};
        } else {
            timer = value_of(timer_, lookup);
            win = timer_window(timer.number, timing.hz, timing.slack);
        }
        // A call is stamped by its program after the call returned (lab::result): the segment it
        // sent, which started the timers, left before that, by as much as a scheduling delay.
        if (from_.kind == "call") win.lo -= timing.slack;
        // A segment from the far side of the capture is stamped on arrival, after a softirq.
        if (from_.kind == "packet" && from_.side != seen.captured_on) win.lo -= timing.arrival;
        Outcome o;
        std::ostringstream expected;
        expected << timer.shown << " s from " << from_.text << " to " << to_.text << " (window " << win.lo << " to " << win.hi << " s)";
        o.expected = expected.str();
        const auto start = from_.time(seen, lookup), end = to_.time(seen, lookup);
        if (!start || !end) {
            o.observed = (!start ? from_.text : to_.text) + " never happened";
            if (!seen.traced && (from_.kind == "transition" || to_.kind == "transition")) {
                o.skipped = true;
                o.observed = "not checked: " + seen.trace_note;
            }
            return o;
        }
        // The gap as far as the evidence pins it down: a point, or a span where a checkpoint waited.
        const double shortest = static_cast<double>(end->earliest - start->latest) / 1e9;
        const double longest = static_cast<double>(end->latest - start->earliest) / 1e9;
        o.passed = shortest <= win.hi && longest >= win.lo;
        std::ostringstream observed;
        if (shortest == longest)
            observed << longest << " s";
        else
            observed << "between " << shortest << " and " << longest << " s (a checkpoint saw it between two looks)";
        o.observed = observed.str();
        o.at = seen.seconds(end->latest);
        return o;
    }

    std::string describe() const override {
        return "from " + from_.text + " to " + to_.text + ": " + (subject.empty() ? timer_ + " s" : "rule " + rule_side_ + " " + subject);
    }

private:
    Moment from_, to_;
    std::string timer_, rule_side_;
};

// {"holds": "sockets.full.client.ESTABLISHED.send_q > 0"}: an expression over anything the
// expressions know, observed values included, that must not be 0.
class HoldsExpectation : public Expectation {
public:
    HoldsExpectation(const Reader& r, const json& j, const std::string& w, const Place&) {
        r.keys(j, w, {"holds"}, {});
        text_ = r.expr(j["holds"], w + ".holds");
    }

    Outcome check(const Observations&, const Lookup& lookup, const Timing&) const override {
        Outcome o;
        o.expected = text_;
        // Each name's value, so that the verdict can be followed.
        std::set<std::string> shown;
        for (size_t i = 0; i < text_.size();) {
            if (!(std::isalpha(static_cast<unsigned char>(text_[i])) || text_[i] == '_')) {
                ++i;
                continue;
            }
            size_t end = i;
            while (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_' || text_[end] == '.')) ++end;
            const std::string name = text_.substr(i, end - i);
            i = end;
            if (!shown.insert(name).second) continue;
            if (auto v = lookup(name)) o.observed += (o.observed.empty() ? "" : ", ") + name + " = " + number_text(*v);
        }
        o.passed = evaluate(text_, lookup) != 0;
        if (!o.observed.empty()) o.expected += " (" + o.observed + ")";  // what a passing one came to
        o.observed += o.passed ? "" : std::string(o.observed.empty() ? "" : "; ") + "it does not hold";
        return o;
    }

    std::string describe() const override { return "holds: " + text_; }

private:
    std::string text_;
};

using Factory = std::function<ExpectationPtr(const Reader&, const json&, const std::string&, const Place&)>;
template <class Kind>
Factory factory() {
    return [](const Reader& r, const json& j, const std::string& w, const Place& p) { return std::make_shared<Kind>(r, j, w, p); };
}
const std::vector<std::pair<std::string, Factory>>& kinds() {
    static const std::vector<std::pair<std::string, Factory>> table{
        {"call", factory<CallExpectation>()},           {"socket", factory<SocketExpectation>()},
        {"transitions", factory<TransitionsExpectation>()}, {"packets", factory<PacketsExpectation>()},
        {"retransmits", factory<RetransmitsExpectation>()}, {"counter", factory<CounterExpectation>()},
        {"exit", factory<ExitExpectation>()},           {"trace", factory<TraceExpectation>()},
        {"interval", factory<IntervalExpectation>()},   {"holds", factory<HoldsExpectation>()},
    };
    return table;
}

bool applies(const std::string& when, const Observations& seen, const Lookup& lookup) {
    if (auto kernel = parse_kernel_condition(when)) return kernel->holds(seen.kernel_major, seen.kernel_minor);
    return evaluate(when, lookup) != 0;
}

}  // namespace

const std::vector<std::string>& expectation_kinds() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& [name, make] : kinds()) out.push_back(name);
        return out;
    }();
    return names;
}

std::string kind_of(const json& j) {
    if (!j.is_object()) return "";
    for (const auto& name : expectation_kinds())
        if (j.contains(name)) return name;
    return "";
}

ExpectationPtr read_expectation(const Reader& r, const json& written, const std::string& where, const Place& place) {
    const std::string kind = kind_of(written);
    if (kind.empty()) {
        std::string names;
        for (const auto& k : expectation_kinds()) names += (names.empty() ? "" : ", ") + k;
        r.fail(where, "an expectation needs one of: " + names);
    }
    // The keys every kind has; the rest is the kind's own.
    json j = written;
    if (!j.contains("why") || r.str(j["why"], where + ".why").empty()) r.fail(where + ".why", "say which rule the expectation rests on");
    // "when": one condition, or a list of them that must all hold.
    std::vector<std::string> conditions;
    if (j.contains("when") && j["when"].is_array()) {
        for (size_t i = 0; i < j["when"].size(); ++i) conditions.push_back(r.condition(j["when"][i], where + ".when[" + std::to_string(i) + "]"));
        if (conditions.empty()) r.fail(where + ".when", "expected a condition, or a list of them");
    } else if (j.contains("when")) {
        conditions.push_back(r.condition(j["when"], where + ".when"));
    }
    std::string when;
    for (const auto& c : conditions) when += (when.empty() ? "" : " and ") + c;
    if (j.contains("name")) r.str(j["name"], where + ".name");
    const std::string why = j["why"];
    for (const char* common : {"why", "when", "name"}) j.erase(common);
    for (const auto& [name, make] : kinds())
        if (name == kind) {
            auto e = std::const_pointer_cast<Expectation>(make(r, j, where, place));
            e->kind = kind;
            e->where = where;
            e->why = why;
            e->conditions = conditions;
            e->when = when;
            return e;
        }
    return nullptr;  // not reached: kind_of() found it in the table
}

std::vector<Outcome> check(const std::vector<ExpectationPtr>& expectations, const Observations& seen, const Lookup& lookup,
                           const Timing& timing) {
    std::vector<Outcome> outcomes;
    for (const auto& e : expectations) {
        Outcome o;
        try {
            if (!std::all_of(e->conditions.begin(), e->conditions.end(), [&](const std::string& c) { return applies(c, seen, lookup); })) {
                o.skipped = true;
                o.observed = "not checked: it holds only when " + e->when + " (kernel " + std::to_string(seen.kernel_major) +
                             "." + std::to_string(seen.kernel_minor) + ")";
            } else {
                o = e->check(seen, lookup, timing);
            }
        } catch (const ExprError& err) {
            o.passed = false;
            o.observed = err.what();
        }
        o.where = e->where;
        o.text = e->describe() + (e->when.empty() ? "" : " [when " + e->when + "]");
        o.why = e->why;
        o.kind = e->kind;
        o.side = e->side;
        o.subject = e->subject;
        outcomes.push_back(o);
    }
    return outcomes;
}

}  // namespace socklab
