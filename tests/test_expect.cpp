// The expectation matcher on hand-made observations: each kind passes on what it expects and
// fails, with expected and observed, when the kernel did something else.
#include <catch2/catch.hpp>

#include "expectations/expect.hpp"
#include "scenario/names.hpp"

using namespace socklab;
using nlohmann::json;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

Segment segment(double t, bool from_client, uint8_t flags, uint16_t client_port, uint32_t seq) {
    Segment s;
    s.time_ns = static_cast<int64_t>(t * kSecond);
    s.src = from_client ? "198.18.0.1" : "198.18.0.2";
    s.dst = from_client ? "198.18.0.2" : "198.18.0.1";
    s.sport = from_client ? client_port : 8080;
    s.dport = from_client ? 8080 : client_port;
    s.flags = flags;
    s.seq = seq;
    return s;
}

TraceEvent transition(double t, const std::string& saddr, uint16_t sport, uint16_t dport, const std::string& from,
                      const std::string& to) {
    TraceEvent e;
    e.time_ns = static_cast<int64_t>(t * kSecond);
    e.name = "inet_sock_set_state";
    e.saddr = saddr;
    e.daddr = saddr == "198.18.0.1" ? "198.18.0.2" : "198.18.0.1";
    e.sport = sport;
    e.dport = dport;
    e.oldstate = from;
    e.newstate = to;
    return e;
}

// What a backlog-5 run with one connection too many looks like.
Observations backlog_run() {
    Observations o;
    o.start_ns = 0;
    o.address = {{"client", "198.18.0.1"}, {"server", "198.18.0.2"}};
    o.sysctls["client"] = {{"net.ipv4.tcp_syn_retries", 2}, {"net.ipv4.tcp_syn_linear_timeouts", 4}};
    o.sysctls["server"] = {{"net.ipv4.tcp_synack_retries", 2}};
    o.traced = true;
    for (int i = 0; i < 6; ++i) {
        o.events.push_back({"client", static_cast<int64_t>(0.01 * i * kSecond), {{"call", "connect"}, {"ret", 0}, {"errno", ""}}});
        o.segments.push_back(segment(0.01 * i, true, SYN, static_cast<uint16_t>(40000 + i), 100));
        o.segments.push_back(segment(0.01 * i + 0.001, false, SYN | ACK, static_cast<uint16_t>(40000 + i), 500));
    }
    // The 7th: its SYN dropped, retransmitted at +1, 2, 3, 4, 5 s, connect() gives up at 7 s.
    for (double t : {0.1, 1.1, 2.1, 3.1, 4.1, 5.1}) o.segments.push_back(segment(t, true, SYN, 40006, 900));
    o.events.push_back({"client", static_cast<int64_t>(7.1 * kSecond), {{"call", "connect"}, {"ret", -1}, {"errno", "ETIMEDOUT"}}});
    o.trace.push_back(transition(0.1, "198.18.0.1", 0, 8080, "CLOSE", "SYN_SENT"));
    o.trace.push_back(transition(7.1, "198.18.0.1", 40006, 8080, "SYN_SENT", "CLOSE"));
    Checkpoint full;
    full.name = "full";
    full.time_ns = 7 * kSecond;
    SocketInfo listener;
    listener.state = "LISTEN";
    listener.recv_q = 6;
    listener.send_q = 5;
    full.sockets["server"] = {listener};
    full.sockets["client"] = {};
    o.checkpoints.push_back(full);
    Checkpoint end = full;
    end.name = "end";
    end.counters["server"] = {{"TcpExt.ListenOverflows", 6}};
    o.checkpoints.push_back(end);
    o.exits["client"] = ProgramExit{8 * kSecond, 0, std::nullopt};
    return o;
}

// Reads `spec` as written at `place` (by default just after checkpoint "full", about every call)
// and checks it, with the names' values given and what the run observed.
Outcome one(const json& spec, const Observations& seen, std::map<std::string, double> names = {{"backlog", 5}},
            Place place = {"full", {}, {"full", "end"}}) {
    const Reader reader("test", [](const std::string&) { return true; });
    Scenario s;
    for (const auto& [name, value] : names) s.params.push_back(Param{name, "0", 0, 100, ""});
    Names values(s);
    values.params = names;
    values.seen = &seen;
    return check({read_expectation(reader, spec, "test", place)}, seen, values.lookup(), Timing{250, 0.04}).at(0);
}

}  // namespace

TEST_CASE("socket expectations: the queue size decides") {
    Observations seen = backlog_run();
    json right = {{"socket", "server LISTEN"}, {"recv_q", "backlog + 1"}, {"send_q", "backlog"}, {"why", "w"}};
    CHECK(one(right, seen).passed);
    Outcome wrong = one(right, seen, {{"backlog", 4}});  // a wrong backlog turns it red
    CHECK_FALSE(wrong.passed);
    CHECK(wrong.expected == "recv_q 5 (backlog + 1), send_q 4 (backlog)");
    CHECK_THAT(wrong.observed, Catch::Contains("recv_q 6") && Catch::Contains("1 LISTEN"));
    CHECK_FALSE(one({{"socket", "server ESTABLISHED"}, {"why", "w"}}, seen).passed);
    CHECK(one({{"socket", "client SYN_SENT"}, {"count", 0}, {"why", "w"}}, seen).passed);
}

TEST_CASE("call expectations count results") {
    Observations seen = backlog_run();
    CHECK(one({{"call", "client connect"}, {"ret", 0}, {"count", "backlog + 1"}, {"why", "w"}}, seen).passed);
    CHECK(one({{"call", "client connect"}, {"errno", "ETIMEDOUT"}, {"count", 1}, {"why", "w"}}, seen).passed);
    Outcome o = one({{"call", "client connect"}, {"errno", "ECONNREFUSED"}, {"count", 1}, {"why", "w"}}, seen);
    CHECK_FALSE(o.passed);
    CHECK_THAT(o.observed, Catch::Contains("0 of 7 matched") && Catch::Contains("connect() = 0, 0, 0, 0, 0, 0, -1 ETIMEDOUT"));
}

TEST_CASE("retransmits follow the rule's schedule, interval by interval") {
    Observations seen = backlog_run();
    json spec = {{"retransmits", "client S"}, {"rule", "syn_sent"}, {"connections", 1}, {"why", "w"}};
    Outcome ok = one(spec, seen);
    CHECK(ok.passed);
    CHECK_THAT(ok.expected, Catch::Contains("5 retransmits at +1, 2, 3, 4, 5 s"));
    // A kernel that doubled from the start (6.1) would have been seen at +1 and +3 s.
    seen.sysctls["client"]["net.ipv4.tcp_syn_linear_timeouts"] = 0;
    Outcome doubled = one(spec, seen);
    CHECK_FALSE(doubled.passed);
    CHECK_THAT(doubled.observed, Catch::Contains("5 retransmits, the rule allows 2"));
    // One retransmit 300 ms late is outside the timer window.
    seen = backlog_run();
    seen.segments.back().time_ns += 300'000'000;
    Outcome late = one(spec, seen);
    CHECK_FALSE(late.passed);
    CHECK_THAT(late.observed, Catch::Contains("retransmit 5 came 1.3 s after the previous one"));
    CHECK_FALSE(one({{"retransmits", "client S"}, {"rule", "syn_sent"}, {"connections", 2}, {"why", "w"}}, backlog_run()).passed);
}

TEST_CASE("packets, transitions, counters, exits, trace") {
    Observations seen = backlog_run();
    CHECK(one({{"packets", "server S."}, {"count", "backlog + 1"}, {"why", "w"}}, seen).passed);
    CHECK_FALSE(one({{"packets", "server R"}, {"count", 1}, {"why", "w"}}, seen).passed);
    CHECK(one({{"transitions", "client SYN_SENT > CLOSE"}, {"count", 1}, {"why", "w"}}, seen).passed);
    CHECK_FALSE(one({{"transitions", "client SYN_SENT > ESTABLISHED"}, {"count", 1}, {"why", "w"}}, seen).passed);
    CHECK(one({{"counter", "server TcpExt.ListenOverflows"}, {"equals", 6}, {"why", "w"}}, seen).passed);
    CHECK_FALSE(one({{"counter", "server TcpExt.ListenOverflows"}, {"equals", 5}, {"why", "w"}}, seen).passed);
    CHECK(one({{"counter", "server TcpExt.ListenOverflows"}, {"at_least", 5}, {"why", "w"}}, seen).passed);
    CHECK_THAT(one({{"counter", "server TcpExt.Nope"}, {"equals", 0}, {"why", "w"}}, seen).observed, Catch::Contains("no counter"));
    CHECK(one({{"exit", "client"}, {"status", 0}, {"why", "w"}}, seen).passed);
    Outcome sig = one({{"exit", "client"}, {"signal", "SIGPIPE"}, {"why", "w"}}, seen);
    CHECK_FALSE(sig.passed);
    CHECK(sig.observed == "exit status 0");
    CHECK_FALSE(one({{"exit", "server"}, {"status", 0}, {"why", "w"}}, seen).passed);  // never started
    CHECK_FALSE(one({{"trace", "server tcp_retransmit_synack"}, {"count", 1}, {"why", "w"}}, seen).passed);
    seen.traced = false;
    seen.trace_note = "no tracefs";
    Outcome skipped = one({{"trace", "server tcp_retransmit_synack"}, {"count", 1}, {"why", "w"}}, seen);
    CHECK(skipped.skipped);
    CHECK(one({{"transitions", "client SYN_SENT > CLOSE"}, {"count", 9}, {"why", "w"}}, seen).skipped);
}

TEST_CASE("interval: a packet moment may name the Nth segment with those flags") {
    // Two small writes per round: the second of round 2 waits 40 ms for the ACK of the first.
    Observations seen = backlog_run();
    seen.segments.clear();
    for (double t : {1.0, 1.0001, 1.1, 1.1405}) seen.segments.push_back(segment(t, true, PSH | ACK, 40000, 1));
    seen.segments.push_back(segment(1.12, false, PSH | ACK, 40000, 1));  // another side's: not counted
    json stall = {{"interval", "packet client P.#2*rounds-1 > packet client P.#2*rounds"}, {"timer", "0.04"}, {"why", "w"}};
    CHECK(one(stall, seen, {{"rounds", 2}}).passed);
    Outcome first = one(stall, seen, {{"rounds", 1}});  // round 1: 0.1 ms apart, no timer in between
    CHECK_FALSE(first.passed);
    CHECK(first.observed == "0.0001 s");
    CHECK(one({{"interval", "packet client P. > packet client P.#2"}, {"timer", "0.04"}, {"why", "w"}}, seen).observed == "0.0001 s");
    Outcome missing = one(stall, seen, {{"rounds", 3}});
    CHECK_FALSE(missing.passed);
    CHECK(missing.observed == "packet client P.#2*rounds-1 never happened");
    Outcome zero = one(stall, seen, {{"rounds", 0}});
    CHECK_FALSE(zero.passed);
    CHECK_THAT(zero.observed, Catch::Contains("the segment's number is -1"));
}

TEST_CASE("interval: a call as the start may have been stamped late, by up to the slack") {
    // The program stamps send() after it returned; the segment, and the timer it armed, left
    // before. A copy 0.2 s after the segment is seen 0.17 s after the stamp.
    Observations seen = backlog_run();
    seen.segments.clear();
    seen.events.push_back({"client", static_cast<int64_t>(1.03 * kSecond), {{"call", "send"}, {"ret", 10}, {"errno", ""}}});
    for (double t : {1.0, 1.2}) seen.segments.push_back(segment(t, true, PSH | ACK, 40000, 1));
    Outcome from_call = one({{"interval", "call client send > packet client P.#2"}, {"timer", 0.2}, {"why", "w"}}, seen);
    CHECK(from_call.passed);
    CHECK(from_call.observed == "0.17 s");
    // Past the slack it is too early.
    seen.events.back().time_ns = static_cast<int64_t>(1.05 * kSecond);
    CHECK_FALSE(one({{"interval", "call client send > packet client P.#2"}, {"timer", 0.2}, {"why", "w"}}, seen).passed);
}

TEST_CASE("interval and retransmits: a segment stamped on arrival may be stamped late, by up to 3 ms") {
    // The capture is on the server: the client's segments are stamped after the server's
    // receiving softirq, and the first of two copies may be stamped late. The timer (0.2 s,
    // up to one jiffy early) ran from 1.0 s: the first copy is stamped 2.5 ms late.
    Observations seen = backlog_run();
    seen.segments.clear();
    for (double t : {1.0025, 1.196}) seen.segments.push_back(segment(t, true, PSH | ACK, 40000, 1));
    const json gap = {{"interval", "packet client P. > packet client P.#2"}, {"timer", 0.2}, {"why", "w"}};
    CHECK(one(gap, seen).passed);
    // A capture on the client stamps them as they leave: no allowance.
    seen.captured_on = "client";
    CHECK_FALSE(one(gap, seen).passed);
    // Nor past those 3 ms.
    seen.captured_on = "server";
    seen.segments.front().time_ns = static_cast<int64_t>(1.005 * kSecond);
    CHECK_FALSE(one(gap, seen).passed);
    // The same for copies of one segment: the 7th connection's SYN copy at +1 s, seen at +0.993 s.
    seen = backlog_run();
    const json copies = {{"retransmits", "client S"}, {"rule", "syn_sent"}, {"connections", 1}, {"why", "w"}};
    seen.segments[12].time_ns += 7'000'000;
    CHECK(one(copies, seen).passed);
    seen.captured_on = "client";
    Outcome early = one(copies, seen);
    CHECK_FALSE(early.passed);
    CHECK_THAT(early.observed, Catch::Contains("retransmit 1 came 0.993 s after the previous one"));
}

TEST_CASE("interval: a checkpoint that waited for its moment knows it between two looks") {
    // The server's FIN_WAIT2 entry (2 s) was still there at the look that began at +3.05 s and
    // gone at the one that ended at +3.2 s: the gap is 2.05 to 2.2 s, and 2 s fits within it.
    Observations seen = backlog_run();
    seen.trace.push_back(transition(1.0, "198.18.0.2", 8080, 40000, "FIN_WAIT1", "FIN_WAIT2"));
    seen.checkpoints[0].time_ns = static_cast<int64_t>(3.2 * kSecond);
    seen.checkpoints[0].since_ns = static_cast<int64_t>(3.05 * kSecond);
    const json gone = {{"interval", "transition server FIN_WAIT1>FIN_WAIT2 > checkpoint full"}, {"timer", 2}, {"why", "w"}};
    Outcome o = one(gone, seen);
    CHECK(o.passed);
    CHECK_THAT(o.observed, Catch::StartsWith("between 2.05 and 2.2 s"));
    // Still there at +3.1 s: later than any 2 s timer can fire.
    seen.checkpoints[0].since_ns = static_cast<int64_t>(3.1 * kSecond);
    CHECK_FALSE(one(gone, seen).passed);
    // Gone by +2.9 s: earlier than it can fire.
    seen.checkpoints[0].time_ns = static_cast<int64_t>(2.9 * kSecond);
    seen.checkpoints[0].since_ns = static_cast<int64_t>(2.8 * kSecond);
    CHECK_FALSE(one(gone, seen).passed);
    // A checkpoint that did not wait is a moment.
    seen.checkpoints[0].since_ns.reset();
    CHECK(one(gone, seen).observed == "1.9 s");
}

TEST_CASE("packets: where conditions on each segment's own numbers") {
    Observations seen = backlog_run();
    // Connection 40000 then carries 10 bytes, the server's window closes, and the client probes.
    Segment data = segment(1.0, true, PSH | ACK, 40000, 101);
    data.ack = 501;
    data.len = 10;
    Segment closed = segment(1.1, false, ACK, 40000, 501);
    closed.ack = 111;
    Segment probe = segment(1.3, true, ACK, 40000, 110);
    probe.ack = 501;
    probe.window = 100;
    seen.segments.insert(seen.segments.end(), {data, closed, probe});
    auto where = [&](const json& conditions, const json& count) {
        return one({{"packets", "client ."}, {"count", count}, {"where", conditions}, {"why", "w"}}, seen);
    };
    CHECK(where(json::array({"len == 0", "seq == una - 1"}), 1).passed);
    CHECK(one({{"packets", "server ."}, {"count", 1}, {"where", "win == 0"}, {"why", "w"}}, seen).passed);
    CHECK(one({{"packets", "client P."}, {"count", 1}, {"where", json::array({"len == backlog * 2", "seq == 1"})}, {"why", "w"}}, seen).passed);
    // A probe one byte further on is not one, and the outcome says how many had the flags.
    seen.segments.back().seq = 111;
    Outcome o = where(json::array({"len == 0", "seq == una - 1"}), 1);
    CHECK_FALSE(o.passed);
    CHECK_THAT(o.observed, Catch::StartsWith("0 of 1 ."));
    CHECK_THAT(o.expected, Catch::Contains("where len == 0, seq == una - 1"));
    CHECK(one({{"packets", "client S"}, {"at_least", 6}, {"why", "w"}}, seen).passed);
    CHECK_FALSE(one({{"packets", "client S"}, {"at_least", 13}, {"why", "w"}}, seen).passed);
    // A packet moment may carry the same conditions: the first segment that meets them.
    Outcome gap = one({{"interval", "packet server . where win == 0 > packet client . where len == 0"}, {"timer", 0.2}, {"why", "w"}}, seen);
    CHECK(gap.passed);
    CHECK(gap.observed == "0.2 s");
    CHECK_FALSE(one({{"interval", "packet server . where win == 0 > packet client . where len == 0"}, {"timer", 1}, {"why", "w"}}, seen).passed);
}

TEST_CASE("trace: tcp_send_reset's reason") {
    Observations seen = backlog_run();
    TraceEvent reset;
    reset.name = "tcp_send_reset";
    reset.saddr = "198.18.0.2";
    reset.daddr = "198.18.0.1";
    reset.reason = "NO_SOCKET";
    seen.trace.push_back(reset);
    CHECK(one({{"trace", "server tcp_send_reset"}, {"count", 1}, {"reason", "NO_SOCKET"}, {"why", "w"}}, seen).passed);
    Outcome other = one({{"trace", "server tcp_send_reset"}, {"count", 1}, {"reason", "TCP_ABORT_ON_LINGER"}, {"why", "w"}}, seen);
    CHECK_FALSE(other.passed);
    CHECK(other.observed == "0 (reasons: NO_SOCKET x1)");
    seen.trace.back().reason.clear();  // a kernel before 6.10 traces none
    CHECK_THAT(one({{"trace", "server tcp_send_reset"}, {"count", 1}, {"reason", "NO_SOCKET"}, {"why", "w"}}, seen).observed,
               Catch::Contains("none traced x1"));
}

TEST_CASE("call expectations: errno \"0\" means the call succeeded") {
    Observations seen = backlog_run();  // 6 connect() = 0 (errno ""), 1 connect() = -1 ETIMEDOUT
    CHECK(one({{"call", "client connect"}, {"errno", "0"}, {"count", "backlog + 1"}, {"why", "w"}}, seen).passed);
    CHECK_FALSE(one({{"call", "client connect"}, {"errno", "0"}, {"count", 7}, {"why", "w"}}, seen).passed);
    CHECK_FALSE(one({{"call", "client connect"}, {"errno", "0"}, {"count", 7}, {"why", "w"}}, seen).passed);
}

TEST_CASE("holds: an expression over what the run observed") {
    Observations seen = backlog_run();
    // Two sends before checkpoint full (100 and 50 bytes, one EAGAIN), one after it.
    seen.events.push_back({"client", 1 * kSecond, {{"call", "send"}, {"ret", 100}, {"errno", ""}}});
    seen.events.push_back({"client", 2 * kSecond, {{"call", "send"}, {"ret", 50}, {"errno", ""}}});
    seen.events.push_back({"client", 3 * kSecond, {{"call", "send"}, {"ret", -1}, {"errno", "EAGAIN"}}});
    seen.events.push_back({"client", 8 * kSecond, {{"call", "send"}, {"ret", 7}, {"errno", ""}}});
    SocketInfo sender;
    sender.state = "ESTABLISHED";
    sender.send_q = 120;
    seen.checkpoints[0].sockets["client"] = {sender};
    seen.checkpoints[1].time_ns = 9 * kSecond;  // end: after every send
    auto holds = [&](const std::string& text) { return one({{"holds", text}, {"why", "w"}}, seen); };
    // At full: the listener's Recv-Q is 6; the client's sends so far total 150 in 3 calls.
    Outcome sum = holds("sockets.full.client.ESTABLISHED.send_q + 30 == calls.full.client.send.total");
    CHECK(sum.passed);
    CHECK_THAT(sum.observed, Catch::Contains("sockets.full.client.ESTABLISHED.send_q = 120") &&
                                 Catch::Contains("calls.full.client.send.total = 150"));
    CHECK(holds("calls.full.client.send.count == 3").passed);
    CHECK(holds("calls.full.client.send.EAGAIN == 1").passed);
    CHECK(holds("calls.end.client.send.EPIPE == 0").passed);
    CHECK(holds("calls.end.client.send.total == 157").passed);
    CHECK(holds("sockets.full.server.LISTEN.recv_q == backlog + 1").passed);
    CHECK(holds("sockets.full.server.ESTABLISHED.count == 0").passed);
    // Per socket: with two listeners, the smallest and the largest queue (the sum is recv_q).
    SocketInfo second = seen.checkpoints[0].sockets["server"][0];
    second.recv_q = 2;
    second.send_q = 9;
    seen.checkpoints[0].sockets["server"].push_back(second);
    CHECK(holds("sockets.full.server.LISTEN.recv_q == 8").passed);
    CHECK(holds("sockets.full.server.LISTEN.min_recv_q == 2").passed);
    CHECK(holds("sockets.full.server.LISTEN.max_recv_q == 6").passed);
    CHECK(holds("sockets.full.server.LISTEN.max_send_q == 9").passed);
    CHECK_THAT(holds("sockets.full.server.SYN_RECV.min_recv_q == 0").observed, Catch::Contains("no SYN_RECV socket on the server"));
    seen.checkpoints[0].sockets["server"].pop_back();
    seen.checkpoints[0].sockets["client"][0].expires_ms = 59800;
    CHECK(holds("sockets.full.client.ESTABLISHED.expires == 59800").passed);
    CHECK_THAT(holds("sockets.full.client.TIME_WAIT.expires > 0").observed, Catch::Contains("no TIME_WAIT socket on the client"));
    Outcome wrong = holds("sockets.full.client.ESTABLISHED.send_q > 120");
    CHECK_FALSE(wrong.passed);
    CHECK_THAT(wrong.observed, Catch::Contains("= 120") && Catch::Contains("it does not hold"));
    Outcome missing = holds("sockets.nowhere.client.ESTABLISHED.send_q > 0");
    CHECK_FALSE(missing.passed);
    CHECK_THAT(missing.observed, Catch::Contains("never reached checkpoint nowhere"));
    // The observed names serve every kind, not only holds.
    CHECK(one({{"call", "client send"}, {"ret", "calls.full.client.send.total - 143"}, {"count", 1}, {"why", "w"}}, seen).passed);
}

TEST_CASE("outcomes name their kind, side and subject") {
    const Observations seen = backlog_run();
    auto about = [&](const json& spec) {
        const Outcome o = one(spec, seen);
        return std::vector<std::string>{o.kind, o.side, o.subject};
    };
    using V = std::vector<std::string>;
    CHECK(about({{"call", "client connect"}, {"count", 1}, {"why", "w"}}) == V{"call", "client", "connect"});
    CHECK(about({{"socket", "server LISTEN"}, {"why", "w"}}) == V{"socket", "server", "LISTEN"});
    CHECK(about({{"transitions", "client SYN_SENT > ESTABLISHED"}, {"count", 1}, {"why", "w"}}) ==
          V{"transitions", "client", "SYN_SENT > ESTABLISHED"});
    CHECK(about({{"packets", "server S."}, {"count", 1}, {"why", "w"}}) == V{"packets", "server", "S."});
    CHECK(about({{"retransmits", "client S"}, {"rule", "syn_sent"}, {"connections", 1}, {"why", "w"}}) ==
          V{"retransmits", "client", "S"});
    CHECK(about({{"counter", "server TcpExt.ListenOverflows"}, {"equals", 6}, {"why", "w"}}) ==
          V{"counter", "server", "TcpExt.ListenOverflows"});
    CHECK(about({{"exit", "client"}, {"status", 0}, {"why", "w"}}) == V{"exit", "client", ""});
    CHECK(about({{"trace", "server tcp_send_reset"}, {"count", 0}, {"why", "w"}}) == V{"trace", "server", "tcp_send_reset"});
    CHECK(about({{"interval", "checkpoint full > checkpoint end"}, {"timer", 1}, {"why", "w"}}) == V{"interval", "", ""});
    CHECK(about({{"holds", "backlog == 5"}, {"why", "w"}}) == V{"holds", "", ""});
    // Several conditions must all hold.
    CHECK(one({{"exit", "client"}, {"status", 0}, {"when", {"kernel < 99.0", "backlog == 5"}}, {"why", "w"}}, seen).passed);
    const Outcome both = one({{"exit", "client"}, {"status", 0}, {"when", {"kernel < 99.0", "backlog == 4"}}, {"why", "w"}}, seen);
    CHECK(both.skipped);
    CHECK(both.text == "client exits 0 [when kernel < 99.0 and backlog == 4]");
    // Skipped ones too: a reader filters them the same way.
    const Outcome o = one({{"exit", "server"}, {"status", 0}, {"when", "kernel >= 99.0"}, {"why", "w"}}, seen);
    CHECK(o.skipped);
    CHECK(V{o.kind, o.side, o.subject} == V{"exit", "server", ""});
}
