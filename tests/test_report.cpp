// Unit tests of the report: the merged timeline, relative sequence numbers and retransmit marks,
// the terminal layout and the JSON report. The observations are built by hand so every expected
// value follows from the numbers below.
#include <catch2/catch.hpp>

#include "report/report.hpp"
#include "report/text.hpp"
#include "report/terminal.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace socklab;

namespace {

constexpr int64_t kStart = 1'000'000'000'000;  // the run's time zero, CLOCK_MONOTONIC ns
constexpr const char* kClient = "198.18.0.1";
constexpr const char* kServer = "198.18.0.2";

// Large ISNs on purpose: the server's wraps around 2^32 on its SYN, the client's is above INT32_MAX.
constexpr uint32_t kClientIsn = 3'000'000'000u;
constexpr uint32_t kServerIsn = 4'294'967'295u;
constexpr uint32_t kSecondIsn = 7000;

int64_t at(double seconds) { return kStart + static_cast<int64_t>(seconds * 1e9 + 0.5); }

Segment segment(double t, bool to_server, uint16_t client_port, uint8_t flags, uint32_t seq, uint32_t ack,
                uint32_t len = 0) {
    Segment s;
    s.time_ns = at(t);
    s.src = to_server ? kClient : kServer;
    s.dst = to_server ? kServer : kClient;
    s.sport = to_server ? client_port : 8080;
    s.dport = to_server ? 8080 : client_port;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.len = len;
    s.window = 64240;
    return s;
}

TraceEvent transition(double t, const char* from, const char* to) {
    TraceEvent ev;
    ev.time_ns = at(t);
    ev.name = "inet_sock_set_state";
    ev.saddr = kClient;
    ev.daddr = kServer;
    ev.sport = 40012;
    ev.dport = 8080;
    ev.oldstate = from;
    ev.newstate = to;
    return ev;
}

SocketInfo socket_info(const char* state, const char* src, uint16_t sport, const char* dst, uint16_t dport,
                       uint32_t recv_q = 0, uint32_t send_q = 0) {
    SocketInfo s;
    s.state = state;
    s.src = src;
    s.sport = sport;
    s.dst = dst;
    s.dport = dport;
    s.recv_q = recv_q;
    s.send_q = send_q;
    s.inode = 4242;
    return s;
}

// Connection :40012 completes its handshake and sends 5 bytes; connection :40014 loses its SYN,
// retransmits it once and its connect() times out.
Observations sample() {
    Observations o;
    o.start_ns = kStart;
    o.address = {{"client", kClient}, {"server", kServer}};
    o.sysctls = {{"client", {{"net.ipv4.tcp_syn_retries", 1}}}, {"server", {{"net.core.somaxconn", 4096}}}};
    o.traced = true;

    o.events.push_back({"server", at(0.010), {{"mark", "listening"}}});
    o.events.push_back({"client", at(0.1016), {{"call", "connect"}, {"ret", 0}, {"errno", ""}}});
    o.events.push_back({"client", at(3.200), {{"call", "connect"}, {"ret", -1}, {"errno", "ETIMEDOUT"}}});

    // In capture order; the retransmitted SYN comes last.
    o.segments.push_back(segment(0.100, true, 40012, SYN, kClientIsn, 0));
    o.segments.push_back(segment(0.101, false, 40012, SYN | ACK, kServerIsn, kClientIsn + 1));
    o.segments.push_back(segment(0.102, true, 40012, ACK, kClientIsn + 1, kServerIsn + 1));
    o.segments.push_back(segment(0.103, true, 40012, PSH | ACK, kClientIsn + 1, kServerIsn + 1, 5));
    o.segments.push_back(segment(0.104, false, 40012, ACK, kServerIsn + 1, kClientIsn + 6));
    o.segments.push_back(segment(0.200, true, 40014, SYN, kSecondIsn, 0));
    o.segments.push_back(segment(1.200, true, 40014, SYN, kSecondIsn, 0));

    o.trace.push_back(transition(0.0999, "CLOSE", "SYN_SENT"));
    o.trace.push_back(transition(0.1015, "SYN_SENT", "ESTABLISHED"));

    Checkpoint cp;
    cp.name = "queue_full";
    cp.time_ns = at(0.500);
    cp.sockets["client"] = {socket_info("ESTABLISHED", kClient, 40012, kServer, 8080),
                            socket_info("SYN_SENT", kClient, 40014, kServer, 8080)};
    cp.sockets["server"] = {socket_info("LISTEN", "0.0.0.0", 8080, "0.0.0.0", 0, 1, 1),
                            socket_info("ESTABLISHED", kServer, 8080, kClient, 40012)};
    cp.counters["server"] = {{"TcpExt.ListenOverflows", 1}, {"TcpExt.ListenDrops", 1}, {"TcpExt.TCPTimeouts", 0},
                             {"Tcp.ActiveOpens", 0}, {"Ip.Forwarding", 1}};
    cp.counters["client"] = {{"Tcp.ActiveOpens", 2}};
    o.checkpoints.push_back(cp);

    ProgramExit client_exit;
    client_exit.time_ns = at(3.300);
    client_exit.status = 1;
    ProgramExit server_exit;
    server_exit.time_ns = at(3.400);
    server_exit.signal = 9;
    o.exits = {{"client", client_exit}, {"server", server_exit}};
    return o;
}

RunInfo sample_run() {
    RunInfo run;
    run.scenario = "accept_queue";
    run.variant = "overflow";
    run.title = "What happens when the accept queue is full";
    run.blog_section = "2.3";
    run.run_id = "20240101T000000Z-1";
    run.kernel = "6.1.0-18-amd64";
    run.started_utc = "2024-01-01T00:00:00Z";
    run.params = {{"backlog", 1}, {"connections", 2}, {"delay", 0.25}};
    run.pcap = "capture.pcap";
    run.notes = {"a note"};
    run.duration_s = 3.5;
    return run;
}

std::vector<Outcome> sample_outcomes() {
    Outcome pass;
    pass.where = "expect[0]";
    pass.text = "client connect() fails with ETIMEDOUT";
    pass.passed = true;
    Outcome fail;
    fail.where = "expect[1]";
    fail.text = "server LISTEN at queue_full: recv_q=backlog + 1";
    fail.why = "the accept queue holds backlog + 1 connections";
    fail.expected = "2";
    fail.observed = "1";
    fail.at = 0.5;
    Outcome skip;
    skip.where = "expect[2]";
    skip.text = "trace: tcp_retransmit_synack 2 times";
    skip.skipped = true;
    skip.observed = "not checked: no tracefs";
    return {pass, fail, skip};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Terminal columns of UTF-8 text: code points, not bytes.
size_t code_points(const std::string& s) {
    return static_cast<size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

const std::string* line_with(const std::vector<std::string>& lines, const std::string& part) {
    for (const auto& l : lines)
        if (l.find(part) != std::string::npos) return &l;
    return nullptr;
}

}  // namespace

TEST_CASE("timeline: every source merged in time order", "[report]") {
    const auto entries = timeline(sample());
    struct Expected {
        double t;
        const char* side;
        const char* kind;
        const char* text;
    };
    const std::vector<Expected> expected = {
        {0.010, "server", "mark", "-- listening"},
        {0.0999, "client", "state", "[CLOSE -> SYN_SENT] :40012"},
        {0.100, "", "packet", "S seq=0 :40012"},
        {0.101, "", "packet", "S. seq=0 ack=1 :40012"},
        {0.1015, "client", "state", "[SYN_SENT -> ESTABLISHED] :40012"},
        {0.1016, "client", "call", "connect() = 0"},
        {0.102, "", "packet", ". ack=1 :40012"},
        {0.103, "", "packet", "P. seq=1 ack=1 len=5 :40012"},
        {0.104, "", "packet", ". ack=6 :40012"},
        {0.200, "", "packet", "S seq=0 :40014"},
        {0.500, "", "checkpoint", "queue_full"},
        {1.200, "", "packet", "S seq=0 :40014 (rtx)"},
        {3.200, "client", "call", "connect() = -1 ETIMEDOUT"},
        {3.300, "client", "exit", "exit 1"},
        {3.400, "server", "exit", "killed by SIGKILL"},
    };
    REQUIRE(entries.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        INFO("entry " << i);
        CHECK(entries[i].t == Approx(expected[i].t).margin(1e-9));
        CHECK(entries[i].side == expected[i].side);
        CHECK(entries[i].kind == expected[i].kind);
        CHECK(entries[i].text == expected[i].text);
    }
    // Direction of the packets: the SYN-ACK and the server's ACK go to the client.
    CHECK(entries[2].to_server);
    CHECK_FALSE(entries[3].to_server);
    CHECK(entries[7].to_server);
    CHECK_FALSE(entries[8].to_server);
}

TEST_CASE("timeline: relative sequence numbers and retransmits", "[report]") {
    Observations o;
    o.start_ns = kStart;
    o.address = {{"client", kClient}, {"server", kServer}};

    SECTION("a SYN with a new ISN on the same ports starts a new connection, not a retransmit") {
        o.segments.push_back(segment(0.1, true, 40012, SYN, 100, 0));
        o.segments.push_back(segment(0.2, true, 40012, SYN, 900, 0));
        o.segments.push_back(segment(0.3, false, 40012, SYN | ACK, 50, 901));
        const auto entries = timeline(o);
        REQUIRE(entries.size() == 3);
        CHECK(entries[1].text == "S seq=0 :40012");
        CHECK(entries[2].text == "S. seq=0 ack=1 :40012");
    }
    SECTION("a retransmitted SYN-ACK and data segment are marked; a repeated pure ACK is not") {
        o.segments.push_back(segment(0.1, true, 40012, SYN, 100, 0));
        o.segments.push_back(segment(0.2, false, 40012, SYN | ACK, 50, 101));
        o.segments.push_back(segment(1.2, false, 40012, SYN | ACK, 50, 101));
        o.segments.push_back(segment(1.3, true, 40012, PSH | ACK, 101, 51, 10));
        o.segments.push_back(segment(1.4, true, 40012, PSH | ACK, 101, 51, 10));
        o.segments.push_back(segment(1.5, false, 40012, ACK, 51, 111));
        o.segments.push_back(segment(1.6, false, 40012, ACK, 51, 111));
        const auto entries = timeline(o);
        REQUIRE(entries.size() == 7);
        CHECK(entries[2].text == "S. seq=0 ack=1 :40012 (rtx)");
        CHECK(entries[3].text == "P. seq=1 ack=1 len=10 :40012");
        CHECK(entries[4].text == "P. seq=1 ack=1 len=10 :40012 (rtx)");
        CHECK(entries[6].text == ". ack=11 :40012");
    }
    SECTION("without a SYN, a direction counts from its first segment; acks of an unseen ISN stay raw") {
        o.segments.push_back(segment(0.1, true, 40012, PSH | ACK, 5000, 777, 3));
        o.segments.push_back(segment(0.2, true, 40012, PSH | ACK, 5003, 777, 4));
        const auto entries = timeline(o);
        REQUIRE(entries.size() == 2);
        CHECK(entries[0].text == "P. seq=0 ack=777 len=3 :40012");
        CHECK(entries[1].text == "P. seq=3 ack=777 len=4 :40012");
    }
    SECTION("a packet between unknown addresses shows both ports") {
        Segment s = segment(0.1, true, 40012, RST, 1, 0);
        s.src = "10.0.0.1";
        s.dst = "10.0.0.2";
        o.segments.push_back(s);
        const auto entries = timeline(o);
        REQUIRE(entries.size() == 1);
        CHECK(entries[0].text == "R seq=0 :40012>:8080");
    }
}

TEST_CASE("timeline: trace retransmits and resets", "[report]") {
    Observations o;
    o.start_ns = kStart;
    o.address = {{"client", kClient}, {"server", kServer}};
    TraceEvent synack;
    synack.time_ns = at(1.0);
    synack.name = "tcp_retransmit_synack";
    synack.saddr = kServer;
    synack.daddr = kClient;
    synack.sport = 8080;
    synack.dport = 40012;
    TraceEvent reset = synack;
    reset.time_ns = at(2.0);
    reset.name = "tcp_send_reset";
    reset.state = "UNKNOWN";
    TraceEvent got = reset;
    got.time_ns = at(2.001);
    got.name = "tcp_receive_reset";
    std::swap(got.saddr, got.daddr);
    std::swap(got.sport, got.dport);
    o.trace = {synack, reset, got};

    const auto entries = timeline(o);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].side == "server");
    CHECK(entries[0].kind == "retransmit");
    CHECK(entries[0].text == "retransmit SYN-ACK :40012");
    CHECK(entries[1].kind == "reset");
    CHECK(entries[1].text == "sent RST (no socket) :40012");
    CHECK(entries[2].side == "client");
    CHECK(entries[2].text == "got RST :40012");
}

TEST_CASE("render_terminal: layout, checkpoints and expectations", "[report]") {
    const std::string text = render_terminal(sample_run(), sample(), sample_outcomes(), false);
    const auto lines = lines_of(text);

    for (const auto& l : lines) {
        INFO(l);
        CHECK(code_points(l) <= 100);
        CHECK(l.find('\x1b') == std::string::npos);
    }
    REQUIRE(line_with(lines, "socklab  accept_queue / overflow"));
    REQUIRE(line_with(lines, "parameters: backlog=1, connections=2, delay=0.25"));
    REQUIRE(line_with(lines, "kernel 6.1.0-18-amd64"));

    // Client text at column 8, packets from column 37, server text at column 74 (ASCII before them).
    const std::string* mark = line_with(lines, "-- listening");
    REQUIRE(mark);
    CHECK(*mark == "  0.010" + std::string(67, ' ') + "-- listening");
    const std::string* call = line_with(lines, "connect() = -1 ETIMEDOUT");
    REQUIRE(call);
    CHECK(*call == "  3.200 connect() = -1 ETIMEDOUT");
    CHECK(line_with(lines, "  0.100 [CLOSE -> SYN_SENT] :40012"));

    const std::string* syn = line_with(lines, "──S seq=0 :40012──");
    REQUIRE(syn);
    CHECK(syn->find("──S seq=0") == 37);
    CHECK(code_points(*syn) == 73);
    CHECK(syn->back() == '>');
    const std::string* synack = line_with(lines, "<──S. seq=0 ack=1 :40012──");
    REQUIRE(synack);
    CHECK(synack->find("<──") == 37);
    CHECK(code_points(*synack) == 73);
    const std::string* rtx = line_with(lines, "S seq=0 :40014 (rtx)");
    REQUIRE(rtx);
    CHECK(rtx->starts_with("  1.200"));

    // Gaps longer than half a second.
    CHECK(line_with(lines, "    ...  (0.70 s)"));
    CHECK(line_with(lines, "    ...  (2.00 s)"));
    CHECK_FALSE(line_with(lines, "(0.10 s)"));

    const std::string* checkpoint = line_with(lines, "── checkpoint queue_full ──");
    REQUIRE(checkpoint);
    CHECK(checkpoint->starts_with("  0.500 "));
    CHECK(code_points(*checkpoint) == 100);
    CHECK(line_with(lines, "        client: 1 ESTABLISHED, 1 SYN_SENT"));
    CHECK(line_with(lines, "        server: LISTEN :8080 recv_q=1 send_q=1; 1 ESTABLISHED"));

    CHECK(line_with(lines, "  PASS  client connect() fails with ETIMEDOUT"));
    CHECK(line_with(lines, "  FAIL  server LISTEN at queue_full: recv_q=backlog + 1"));
    CHECK(line_with(lines, "        expected: 2, observed: 1 (at 0.500 s)"));
    CHECK(line_with(lines, "        why: the accept queue holds backlog + 1 connections"));
    CHECK(line_with(lines, "  SKIP  trace: tcp_retransmit_synack 2 times"));
    CHECK(line_with(lines, "        not checked: no tracefs"));
    CHECK(lines.back() == "1 passed, 1 failed, 1 skipped");
}

TEST_CASE("render_terminal: colors", "[report]") {
    const std::string text = render_terminal(sample_run(), sample(), sample_outcomes(), true);
    CHECK(text.find("\x1b[32mPASS\x1b[0m  client connect()") != std::string::npos);
    CHECK(text.find("\x1b[31mFAIL\x1b[0m  server LISTEN") != std::string::npos);
    CHECK(text.find("\x1b[33mSKIP\x1b[0m") != std::string::npos);
    CHECK(text.find("\x1b[2m  3.200\x1b[0m connect() = -1 ETIMEDOUT") != std::string::npos);
}

TEST_CASE("render_terminal: long runs and long texts stay readable", "[report]") {
    Observations o;
    o.start_ns = kStart;
    o.address = {{"client", kClient}, {"server", kServer}};
    for (int i = 0; i < 1000; ++i) o.segments.push_back(segment(0.001 * i, true, 40012, ACK, 1, 1));
    // Control characters and a line far wider than the screen from a program's output.
    o.events.push_back({"server", at(0.1005), {{"output", "\x1b[31mred\t" + std::string(300, 'x')}}});
    // Bytes that are not UTF-8 (a lone continuation byte, a cut-off sequence) become '?'.
    o.events.push_back({"client", at(0.1006), {{"output", std::string("a\x80" "b\xE2\x94")}}});
    std::vector<Outcome> outcomes(1);
    outcomes[0].text = "a very long expectation " + std::string(184, 'y') + " with words after it";
    outcomes[0].expected = "e";
    outcomes[0].observed = "o";

    const auto lines = lines_of(render_terminal(RunInfo{}, o, outcomes, false));
    for (const auto& l : lines) {
        INFO(l);
        CHECK(code_points(l) <= 100);
        CHECK(l.find('\x1b') == std::string::npos);
        CHECK(l.find('\t') == std::string::npos);
    }
    CHECK(line_with(lines, "    ...  602 entries left out"));
    CHECK(line_with(lines, "  0.101 > a?b??"));
    auto is_ack_arrow = [](const std::string& l) { return l.find("──. ack=1 :40012") != std::string::npos; };
    const auto arrows = std::count_if(lines.begin(), lines.end(), is_ack_arrow);
    CHECK(arrows == 398);  // 400 entries shown, two of them output lines
    const std::string* output = line_with(lines, ">  [31mred x");
    REQUIRE(output);
    CHECK(output->ends_with("x…"));
    CHECK(line_with(lines, "        with words after it"));
    CHECK(lines.back() == "0 passed, 1 failed, 0 skipped");
}

TEST_CASE("report_json: keys and counts", "[report]") {
    const auto report = report_json(sample_run(), sample(), sample_outcomes());

    for (const char* key : {"scenario", "variant", "title", "blog_section", "run_id", "kernel", "started_utc",
                            "duration_s", "params", "pcap", "notes", "traced", "addresses", "sysctls",
                            "timeline", "packets", "transitions", "checkpoints", "events", "exits",
                            "expectations", "summary"}) {
        INFO(key);
        CHECK(report.contains(key));
    }
    CHECK(report["scenario"] == "accept_queue");
    CHECK(report["variant"] == "overflow");
    CHECK(report["kernel"] == "6.1.0-18-amd64");
    CHECK(report["params"]["delay"] == 0.25);
    CHECK(report["sysctls"]["client"]["net.ipv4.tcp_syn_retries"] == 1);
    CHECK(report["notes"] == nlohmann::json::array({"a note"}));

    REQUIRE(report["timeline"].size() == 15);
    CHECK(report["timeline"][1] == nlohmann::json{{"t", 0.0999},
                                                  {"side", "client"},
                                                  {"kind", "state"},
                                                  {"text", "[CLOSE -> SYN_SENT] :40012"},
                                                  {"transition", 0}});
    CHECK(report["timeline"][3]["to_server"] == false);

    REQUIRE(report["packets"].size() == 7);
    const auto& synack = report["packets"][1];
    CHECK(synack["t"] == 0.101);
    CHECK(synack["from"] == "server");
    CHECK(synack["flags"] == "S.");
    CHECK(synack["seq"] == kServerIsn);
    CHECK(synack["ack"] == kClientIsn + 1);
    CHECK(synack["rel_seq"] == 0);
    CHECK(synack["rel_ack"] == 1);
    CHECK(synack["sport"] == 8080);
    CHECK(synack["dport"] == 40012);
    CHECK(synack["len"] == 0);
    CHECK(report["packets"][0]["rel_ack"].is_null());
    CHECK(report["packets"][6]["rtx"] == true);
    CHECK(report["packets"][5]["rtx"] == false);

    REQUIRE(report["transitions"].size() == 2);
    CHECK(report["transitions"][1] == nlohmann::json{{"t", 0.1015}, {"side", "client"}, {"sport", 40012},
                                                     {"dport", 8080}, {"old", "SYN_SENT"},
                                                     {"new", "ESTABLISHED"}});

    REQUIRE(report["checkpoints"].size() == 1);
    const auto& cp = report["checkpoints"][0];
    CHECK(cp["name"] == "queue_full");
    CHECK(cp["t"] == 0.5);
    REQUIRE(cp["sockets"]["server"].size() == 2);
    CHECK(cp["sockets"]["server"][0] == nlohmann::json{{"state", "LISTEN"}, {"src", "0.0.0.0"}, {"dst", "0.0.0.0"},
                                                       {"sport", 8080}, {"dport", 0}, {"recv_q", 1}, {"send_q", 1},
                                                       {"inode", 4242}, {"timer", 0}, {"expires_ms", 0},
                                                       {"retrans", 0}, {"owners", nlohmann::json::array()}});
    CHECK(cp["counters"]["server"] ==
          nlohmann::json{{"TcpExt.ListenOverflows", 1}, {"TcpExt.ListenDrops", 1}});
    CHECK(cp["counters"]["client"] == nlohmann::json{{"Tcp.ActiveOpens", 2}});

    REQUIRE(report["events"].size() == 3);
    CHECK(report["events"][2]["body"]["errno"] == "ETIMEDOUT");
    REQUIRE(report["exits"].size() == 2);
    CHECK(report["exits"][0] ==
          nlohmann::json{{"side", "client"}, {"t", 3.3}, {"status", 1}, {"signal", nullptr}});
    CHECK(report["exits"][1]["signal"] == 9);

    REQUIRE(report["expectations"].size() == 3);
    CHECK(report["expectations"][1] == nlohmann::json{{"where", "expect[1]"},
                                                      {"text", "server LISTEN at queue_full: recv_q=backlog + 1"},
                                                      {"why", "the accept queue holds backlog + 1 connections"},
                                                      {"passed", false},
                                                      {"skipped", false},
                                                      {"expected", "2"},
                                                      {"observed", "1"},
                                                      {"at", 0.5}});
    CHECK(report["expectations"][0]["at"].is_null());
    CHECK(report["summary"] == nlohmann::json{{"passed", 1}, {"failed", 1}, {"skipped", 1}});
}

TEST_CASE("report_json: each expectation's kind, side and subject, left out when empty", "[report]") {
    std::vector<Outcome> outcomes = sample_outcomes();
    outcomes[0].kind = "call";
    outcomes[0].side = "client";
    outcomes[0].subject = "connect";
    outcomes[1].kind = "holds";  // about no side and no subject
    const auto report = report_json(sample_run(), sample(), outcomes);

    REQUIRE(report["expectations"].size() == 3);
    const auto& call = report["expectations"][0];
    CHECK(call["kind"] == "call");
    CHECK(call["side"] == "client");
    CHECK(call["subject"] == "connect");
    const auto& holds = report["expectations"][1];
    CHECK(holds["kind"] == "holds");
    CHECK_FALSE(holds.contains("side"));
    CHECK_FALSE(holds.contains("subject"));
    for (const char* key : {"kind", "side", "subject"}) CHECK_FALSE(report["expectations"][2].contains(key));
}

TEST_CASE("write_report: pretty-printed JSON that reads back the same", "[report]") {
    const auto report = report_json(sample_run(), sample(), sample_outcomes());
    const auto path =
        std::filesystem::temp_directory_path() / ("socklab_report_" + std::to_string(::getpid()) + ".json");
    write_report(path.string(), report);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::filesystem::remove(path);
    CHECK(text.str().starts_with("{\n  \"addresses\": {\n    \"client\": \"198.18.0.1\","));
    CHECK(nlohmann::json::parse(text.str()) == report);

    CHECK_THROWS_WITH(write_report("/nonexistent/dir/report.json", report),
                      Catch::Contains("cannot write /nonexistent/dir/report.json"));
}

TEST_CASE("the pictures say the run's address family and hosts") {
    nlohmann::json report = {{"family", "6"}, {"addresses", {{"client", "2001:db8:0:7::1"}, {"server", "2001:db8:0:7::2"}}}};
    CHECK(hosts_text(report) == "IPv6: client 2001:db8:0:7::1, server 2001:db8:0:7::2");
    report["family"] = "mapped";
    CHECK_THAT(hosts_text(report), Catch::StartsWith("mapped (IPv4 to a dual-stack IPv6 server): client"));
    CHECK(hosts_text(nlohmann::json::object()) == "IPv4");  // reports from before families
}
