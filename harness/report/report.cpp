#include "report/report.hpp"

#include "common/common.hpp"
#include "observation/census.hpp"
#include "report/text.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>

namespace socklab {

using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Ports

// A connection is named by its client port everywhere in the report, the one port that differs
// between connections. For a socket of `side` it is the local port on the client and the remote
// port on the server; 0 when there is none (a listener has no remote port).
uint16_t client_port(const std::string& side, uint16_t local, uint16_t remote) {
    if (side == "client") return local;
    if (side == "server") return remote;
    return 0;
}

// `text` followed by " :40012", or just `text` without a port.
std::string with_port(const std::string& text, uint16_t port) {
    return port == 0 ? text : text + " :" + std::to_string(port);
}

// ---------------------------------------------------------------------------------------------
// Packets: relative sequence numbers and retransmissions

// A segment with what the report derives from it.
struct PacketView {
    const Segment* seg = nullptr;
    std::string from;                 // side that sent it, "" when neither address is ours
    bool to_server = false;
    Relative numbers;                 // seq, ack and window as Wireshark shows them
    bool rtx = false;                 // same direction, seq and flags as an earlier SYN/FIN/data segment
    std::string ports;                // ":40012", or ":sport>:dport" when neither side is known
};

std::string endpoint(const std::string& address, uint16_t port) { return address + " " + std::to_string(port); }

// Packets in time order (capture order for equal times), numbered as relative_numbers() does.
std::vector<PacketView> analyze_packets(const Observations& seen) {
    std::vector<size_t> order(seen.segments.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return seen.segments[a].time_ns < seen.segments[b].time_ns; });
    std::vector<Segment> in_time;
    for (size_t i : order) in_time.push_back(seen.segments[i]);
    const std::vector<Relative> numbers = relative_numbers(in_time);
    std::set<std::tuple<std::string, uint32_t, uint8_t>> occupied;  // (direction, seq, flags)
    std::vector<PacketView> views;
    for (size_t i = 0; i < order.size(); ++i) {
        const Segment* s = &seen.segments[order[i]];
        PacketView v;
        v.seg = s;
        v.numbers = numbers[i];
        v.from = seen.side_of(s->src);
        const std::string to = seen.side_of(s->dst);
        v.to_server = v.from == "client" || (v.from.empty() && to == "server");
        if (v.from.empty() && to.empty())
            v.ports = ":" + std::to_string(s->sport) + ">:" + std::to_string(s->dport);
        else
            v.ports = ":" + std::to_string(v.to_server ? s->sport : s->dport);
        // Only segments that take up sequence space can be retransmitted; a repeated pure ACK is not.
        if ((s->flags & (SYN | FIN)) || s->len > 0)
            v.rtx = !occupied.emplace(endpoint(s->src, s->sport) + ">" + endpoint(s->dst, s->dport), s->seq, s->flags).second;
        views.push_back(std::move(v));
    }
    return views;
}

// "S seq=0 :40012", "S. seq=0 ack=1 :40012", ". ack=1 :40012", "P. seq=1 ack=1 len=5 :40012".
// seq is left out where it says nothing: on segments without SYN, FIN, RST or data.
std::string packet_text(const PacketView& v) {
    return packet_text(*v.seg, v.numbers.seq, v.numbers.ack_relative ? std::optional<uint32_t>(v.numbers.ack) : std::nullopt,
                       v.ports, v.rtx ? std::vector<std::string>{"rtx"} : std::vector<std::string>{});
}

// ---------------------------------------------------------------------------------------------
// Program events, exits and trace events as timeline text

struct KindText {
    std::string kind, text;
};

// "connect() = 0", "connect() = -1 ETIMEDOUT".
std::string call_text(const json& body) {
    std::string text = scalar_text(body["call"]) + "()";
    if (body.contains("ret")) text += " = " + scalar_text(body["ret"]);
    if (body.contains("errno") && body["errno"].is_string() && !body["errno"].get<std::string>().empty())
        text += " " + body["errno"].get<std::string>();
    return text;
}

// What a program printed; anything unexpected is shown as output rather than dropped.
KindText event_text(const json& body) {
    if (body.is_object()) {
        if (body.contains("call")) return {"call", call_text(body)};
        if (body.contains("mark")) return {"mark", "-- " + scalar_text(body["mark"])};
        if (body.contains("step")) return {"step", "|| " + scalar_text(body["step"]) + " (waits)"};
        if (body.contains("output")) return {"output", "> " + scalar_text(body["output"])};
    }
    return {"output", "> " + body.dump()};
}

// "exit 0", "killed by SIGKILL".
std::string exit_text(const ProgramExit& e) {
    if (e.status) return "exit " + std::to_string(*e.status);
    if (e.signal) {
        const char* name = ::sigabbrev_np(*e.signal);  // "KILL"; null for an unknown number
        return name ? std::string("killed by SIG") + name : "killed by signal " + std::to_string(*e.signal);
    }
    return "exited";
}

// Transitions, retransmits and resets; nullopt for an event the timeline does not show.
std::optional<KindText> trace_text(const TraceEvent& ev, const std::string& side) {
    const uint16_t port = client_port(side, ev.sport, ev.dport);
    if (ev.name == "inet_sock_set_state")
        return KindText{"state", with_port("[" + ev.oldstate + " -> " + ev.newstate + "]", port)};
    if (ev.name == "tcp_retransmit_synack") return KindText{"retransmit", with_port("retransmit SYN-ACK", port)};
    if (ev.name == "tcp_retransmit_skb")
        return KindText{"retransmit", with_port("retransmit (" + ev.state + ")", port)};
    if (ev.name == "tcp_send_reset") {
        // Without a socket (a segment to a closed port) the kernel reports the state as unknown.
        const bool no_socket = ev.state.empty() || ev.state == "UNKNOWN";
        const std::string what = no_socket ? "sent RST (no socket)" : "sent RST (" + ev.state + ")";
        return KindText{"reset", with_port(what, port)};
    }
    if (ev.name == "tcp_receive_reset") return KindText{"reset", with_port("got RST", port)};
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// JSON pieces

json packet_json(const Observations& seen, const PacketView& v) {
    const Segment& s = *v.seg;
    json p = {{"t", rounded(seen.seconds(s.time_ns))},
              {"from", v.from},
              {"src", s.src},
              {"dst", s.dst},
              {"sport", s.sport},
              {"dport", s.dport},
              {"flags", flags_text(s.flags)},
              {"seq", s.seq},
              {"ack", s.ack},
              {"rel_seq", v.numbers.seq},
              {"rel_ack", nullptr},
              {"len", s.len},
              {"window", s.window},
              {"window_bytes", v.numbers.window},
              {"rtx", v.rtx}};
    if ((s.flags & ACK) && v.numbers.ack_relative) p["rel_ack"] = v.numbers.ack;
    return p;
}

json socket_json(const SocketInfo& s) {
    return {{"state", s.state},   {"src", s.src},       {"dst", s.dst},       {"sport", s.sport},
            {"dport", s.dport},   {"recv_q", s.recv_q}, {"send_q", s.send_q}, {"inode", s.inode},
            {"timer", s.timer},   {"expires_ms", s.expires_ms}, {"retrans", s.retrans}};
}

// Only the TCP counters that moved, so a checkpoint stays a few lines long.
json nonzero_tcp_counters(const Counters& counters) {
    json out = json::object();
    for (const auto& [name, value] : counters)
        if (value != 0 && (name.starts_with("TcpExt.") || name.starts_with("Tcp."))) out[name] = value;
    return out;
}

json checkpoint_json(const Observations& seen, const Checkpoint& cp) {
    json sockets = json::object(), counters = json::object();
    for (const auto& [side, list] : cp.sockets) {
        sockets[side] = json::array();
        const auto owners = cp.owners.find(side);
        for (const auto& s : list) {
            json one = socket_json(s);
            // What lsof would show: the processes with a descriptor for this socket, if any.
            one["owners"] = json::array();
            if (owners != cp.owners.end() && s.inode != 0)
                if (auto it = owners->second.find(s.inode); it != owners->second.end())
                    for (const auto& o : it->second) one["owners"].push_back({{"pid", o.pid}, {"comm", o.comm}, {"fd", o.fd}});
            sockets[side].push_back(one);
        }
    }
    for (const auto& [side, values] : cp.counters) counters[side] = nonzero_tcp_counters(values);
    json census = json::object();
    for (const auto& [side, list] : cp.sockets) census[side] = census_json(take_census(list));
    json out = {{"name", cp.name},
                {"t", rounded(seen.seconds(cp.time_ns))},
                {"census", census},
                {"sockets", sockets},
                {"counters", counters}};
    if (cp.since_ns) out["since"] = rounded(seen.seconds(*cp.since_ns));  // waited for: it came true after this
    return out;
}

json exit_json(const Observations& seen, const std::string& side, const ProgramExit& e) {
    json out = {{"side", side}, {"t", rounded(seen.seconds(e.time_ns))}, {"status", nullptr}, {"signal", nullptr}};
    if (e.status) out["status"] = *e.status;
    if (e.signal) out["signal"] = *e.signal;
    return out;
}

json outcome_json(const Outcome& o) {
    json out = {{"where", o.where},       {"text", o.text},         {"why", o.why},
                {"passed", o.passed},     {"skipped", o.skipped},   {"expected", o.expected},
                {"observed", o.observed}, {"at", nullptr}};
    if (o.at) out["at"] = rounded(*o.at);
    // Only those it has: a failed step, say, is of no kind, and holds is about no side.
    for (const auto& [key, value] : {std::pair{"kind", &o.kind}, {"side", &o.side}, {"subject", &o.subject}})
        if (!value->empty()) out[key] = *value;
    return out;
}

// The key under which a timeline entry of `kind` names its entry in another array of the report:
// "packet" for report["packets"], and so on, so that a picture drawn from report.json alone finds
// a packet's flags or a call's return value without parsing the timeline's text.
const char* reference_key(const std::string& kind) {
    if (kind == "packet") return "packet";
    if (kind == "state") return "transition";
    if (kind == "exit") return "exit";
    if (kind == "checkpoint") return "checkpoint";
    return "event";  // call, mark, step, output
}

}  // namespace

std::string packet_text(const Segment& s, uint32_t rel_seq, std::optional<uint32_t> rel_ack, const std::string& ports,
                        const std::vector<std::string>& notes) {
    std::string text = flags_text(s.flags);
    if ((s.flags & (SYN | FIN | RST)) || s.len > 0) text += " seq=" + std::to_string(rel_seq);
    if (s.flags & ACK) text += " ack=" + std::to_string(rel_ack.value_or(s.ack));
    if (s.len > 0) text += " len=" + std::to_string(s.len);
    text += " " + ports;
    if (!notes.empty()) {
        std::string joined;
        for (const auto& n : notes) joined += (joined.empty() ? "" : ", ") + n;
        text += " (" + joined + ")";
    }
    return text;
}

// ---------------------------------------------------------------------------------------------
// The timeline

std::vector<TimelineEntry> timeline(const Observations& seen) {
    struct Timed {
        int64_t ns;
        TimelineEntry entry;
    };
    std::vector<Timed> all;
    auto add = [&](int64_t ns, std::string side, std::string kind, std::string text, long ref,
                   bool to_server = false) {
        all.push_back({ns, TimelineEntry{0, std::move(side), std::move(kind), std::move(text), to_server, ref}});
    };

    long index = 0;
    for (const auto& ev : seen.events) {
        auto [kind, text] = event_text(ev.body);
        add(ev.time_ns, ev.side, kind, text, index++);
    }
    long transition = 0;  // the report lists the state transitions alone, in this order
    for (const auto& ev : seen.trace) {
        const std::string side = seen.side_of(ev.saddr);  // saddr is the socket's own address
        const long ref = ev.name == "inet_sock_set_state" ? transition++ : -1;
        if (auto shown = trace_text(ev, side)) add(ev.time_ns, side, shown->kind, shown->text, ref);
    }
    index = 0;
    for (const auto& v : analyze_packets(seen))
        add(v.seg->time_ns, "", "packet", packet_text(v), index++, v.to_server);
    index = 0;
    for (const auto& [side, e] : seen.exits) add(e.time_ns, side, "exit", exit_text(e), index++);
    index = 0;
    for (const auto& cp : seen.checkpoints) add(cp.time_ns, "", "checkpoint", cp.name, index++);

    // Sorting on the integer nanoseconds keeps ties exact; stable keeps the order above for them.
    std::stable_sort(all.begin(), all.end(), [](const Timed& a, const Timed& b) { return a.ns < b.ns; });
    std::vector<TimelineEntry> entries;
    for (auto& timed : all) {
        timed.entry.t = seen.seconds(timed.ns);
        entries.push_back(std::move(timed.entry));
    }
    return entries;
}

// ---------------------------------------------------------------------------------------------
// The summary

Tally tally(const json& expectations) {
    Tally t;
    for (const auto& e : expectations) {
        if (bool_field(e, "skipped")) ++t.skipped;
        else if (bool_field(e, "passed")) ++t.passed;
        else ++t.failed;
    }
    return t;
}

// ---------------------------------------------------------------------------------------------
// The JSON report

json report_json(const RunInfo& run, const Observations& seen, const std::vector<Outcome>& outcomes) {
    json report = {{"scenario", run.scenario},     {"variant", run.variant},       {"family", run.family},
                   {"title", run.title},           {"blog_section", run.blog_section},
                   {"run_id", run.run_id},         {"kernel", run.kernel},
                   {"started_utc", run.started_utc}, {"duration_s", run.duration_s},
                   {"params", run.params},         {"pcap", run.pcap},
                   {"notes", run.notes},           {"traced", seen.traced},
                   {"trace_note", seen.trace_note}, {"addresses", seen.address},
                   {"sysctls", seen.sysctls},      {"phases_s", run.phases}};
    report["floor_s"] = run.floor_s ? json(*run.floor_s) : json(nullptr);
    report["attempt"] = run.attempt;

    json entries = json::array();
    for (const auto& e : timeline(seen)) {
        json entry = {{"t", rounded(e.t)}, {"side", e.side}, {"kind", e.kind}, {"text", e.text}};
        if (e.kind == "packet") entry["to_server"] = e.to_server;
        if (e.ref >= 0) entry[reference_key(e.kind)] = e.ref;
        entries.push_back(entry);
    }
    report["timeline"] = entries;

    json packets = json::array();
    for (const auto& v : analyze_packets(seen)) packets.push_back(packet_json(seen, v));
    report["packets"] = packets;

    json transitions = json::array();
    for (const auto& ev : seen.trace) {
        if (ev.name != "inet_sock_set_state") continue;
        transitions.push_back({{"t", rounded(seen.seconds(ev.time_ns))},
                               {"side", seen.side_of(ev.saddr)},
                               {"sport", ev.sport},
                               {"dport", ev.dport},
                               {"old", ev.oldstate},
                               {"new", ev.newstate}});
    }
    report["transitions"] = transitions;

    json checkpoints = json::array();
    for (const auto& cp : seen.checkpoints) checkpoints.push_back(checkpoint_json(seen, cp));
    report["checkpoints"] = checkpoints;

    json events = json::array();
    for (const auto& ev : seen.events)
        events.push_back({{"t", rounded(seen.seconds(ev.time_ns))}, {"side", ev.side}, {"body", ev.body}});
    report["events"] = events;

    json exits = json::array();
    for (const auto& [side, e] : seen.exits) exits.push_back(exit_json(seen, side, e));
    report["exits"] = exits;

    json expectations = json::array();
    for (const auto& o : outcomes) expectations.push_back(outcome_json(o));
    report["expectations"] = expectations;

    const Tally t = tally(expectations);
    report["summary"] = {{"passed", t.passed}, {"failed", t.failed}, {"skipped", t.skipped}};
    return report;
}

void write_report(const std::string& path, const json& report) {
    // A program's output could hold bytes that are not UTF-8; they must not cost the whole report.
    write_file_atomically(path, report.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

json read_report(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    json report;
    try {
        report = json::parse(in);
    } catch (const json::exception& e) {  // bad syntax, or a number too large for a double
        throw std::runtime_error(path + " is not valid JSON (" + e.what() + ")");
    }
    // The pictures tolerate missing details, not a file that is something else altogether.
    if (!report.is_object() || !report.contains("timeline") || !report["timeline"].is_array() ||
        !report.contains("expectations") || !report["expectations"].is_array())
        throw std::runtime_error(path + " is not a socklab report: it needs a timeline and expectations");
    return report;
}

}  // namespace socklab
