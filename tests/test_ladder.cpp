// Unit tests of the pictures drawn from report.json: the ladder's rows (timewait sockets, snapshot
// states, failures, gaps, cuts), the SVG, the HTML page, and the terminal timeline drawn from the
// JSON alone. The run is built by hand: a connection that opens, sends 5 bytes and is closed by
// the client (which ends in TIME_WAIT), and one whose SYN is retransmitted and times out.
#include <catch2/catch.hpp>

#include "report/html.hpp"
#include "report/ladder.hpp"
#include "report/report.hpp"
#include "report/svg.hpp"
#include "report/terminal.hpp"
#include "support.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace socklab;
using nlohmann::json;

namespace {

constexpr int64_t kStart = 5'000'000'000'000;
constexpr const char* kClient = "198.18.0.1";
constexpr const char* kServer = "198.18.0.2";

int64_t at(double seconds) { return kStart + static_cast<int64_t>(seconds * 1e9 + 0.5); }

Segment segment(double t, bool to_server, uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len = 0) {
    Segment s;
    s.time_ns = at(t);
    s.src = to_server ? kClient : kServer;
    s.dst = to_server ? kServer : kClient;
    s.sport = to_server ? port : 8080;
    s.dport = to_server ? 8080 : port;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.len = len;
    return s;
}

// A transition of the client's socket :port, or of the server's socket for it.
TraceEvent transition(double t, bool client, uint16_t port, const char* from, const char* to) {
    TraceEvent ev;
    ev.time_ns = at(t);
    ev.name = "inet_sock_set_state";
    ev.saddr = client ? kClient : kServer;
    ev.daddr = client ? kServer : kClient;
    ev.sport = client ? port : 8080;
    ev.dport = client ? 8080 : port;
    ev.oldstate = from;
    ev.newstate = to;
    return ev;
}

SocketInfo client_socket(const char* state, uint16_t port, uint8_t timer = 0) {
    SocketInfo s;
    s.state = state;
    s.src = kClient;
    s.sport = port;
    s.dst = kServer;
    s.dport = 8080;
    s.timer = timer;
    s.inode = timer == 3 ? 0 : 77;
    return s;
}

SocketInfo listener() {
    SocketInfo s;
    s.state = "LISTEN";
    s.src = "0.0.0.0";
    s.sport = 8080;
    s.dst = "0.0.0.0";
    s.send_q = 5;
    s.inode = 99;
    return s;
}

Checkpoint checkpoint(const char* name, double t, std::vector<SocketInfo> client) {
    Checkpoint cp;
    cp.name = name;
    cp.time_ns = at(t);
    cp.sockets["client"] = std::move(client);
    cp.sockets["server"] = {listener()};
    return cp;
}

Observations sample() {
    Observations o;
    o.start_ns = kStart;
    o.address = {{"client", kClient}, {"server", kServer}};
    o.sysctls = {{"client", {{"net.ipv4.tcp_syn_retries", 1}, {"net.ipv4.tcp_fin_timeout", 60}}},
                 {"server", {{"net.ipv4.tcp_syn_retries", 6}, {"net.ipv4.tcp_fin_timeout", 60}}}};
    o.traced = true;

    o.events.push_back({"server", at(0.010), {{"mark", "listening"}}});
    o.events.push_back({"client", at(0.1016), {{"call", "connect"}, {"ret", 0}, {"errno", ""}}});
    o.events.push_back({"client", at(0.105), {{"output", "<b>&'\" a tag"}}});
    o.events.push_back({"client", at(1.2999), {{"call", "close"}, {"ret", 0}, {"errno", ""}}});
    o.events.push_back({"client", at(3.200), {{"call", "connect"}, {"ret", -1}, {"errno", "ETIMEDOUT"}}});

    o.segments.push_back(segment(0.100, true, 40012, SYN, 1000, 0));
    o.segments.push_back(segment(0.101, false, 40012, SYN | ACK, 5000, 1001));
    o.segments.push_back(segment(0.102, true, 40012, ACK, 1001, 5001));
    o.segments.push_back(segment(0.103, true, 40012, PSH | ACK, 1001, 5001, 5));
    o.segments.push_back(segment(0.104, false, 40012, ACK, 5001, 1006));
    o.segments.push_back(segment(0.200, true, 40014, SYN, 7000, 0));
    o.segments.push_back(segment(1.200, true, 40014, SYN, 7000, 0));  // after a silence of 1 s
    o.segments.push_back(segment(1.300, true, 40012, FIN | ACK, 1006, 5001));
    o.segments.push_back(segment(1.301, false, 40012, ACK, 5001, 1007));
    o.segments.push_back(segment(1.302, false, 40012, FIN | ACK, 5001, 1007));
    o.segments.push_back(segment(1.303, true, 40012, ACK, 1007, 5002));

    o.trace.push_back(transition(0.0999, true, 0, "CLOSE", "SYN_SENT"));  // no port before the SYN
    o.trace.push_back(transition(0.1015, true, 40012, "SYN_SENT", "ESTABLISHED"));
    o.trace.push_back(transition(1.2999, true, 40012, "ESTABLISHED", "FIN_WAIT1"));
    o.trace.push_back(transition(1.3005, false, 40012, "ESTABLISHED", "CLOSE_WAIT"));
    o.trace.push_back(transition(1.3015, true, 40012, "FIN_WAIT1", "FIN_WAIT2"));
    o.trace.push_back(transition(1.3018, false, 40012, "CLOSE_WAIT", "LAST_ACK"));
    o.trace.push_back(transition(1.3026, true, 40012, "FIN_WAIT2", "CLOSE"));  // the timewait socket takes over
    o.trace.push_back(transition(1.3035, false, 40012, "LAST_ACK", "CLOSE"));

    o.checkpoints.push_back(
        checkpoint("closed", 1.5, {client_socket("TIME_WAIT", 40012, 3), client_socket("SYN_SENT", 40014, 1)}));
    o.checkpoints.push_back(checkpoint("end", 63.0, {}));  // the timewait socket has expired

    ProgramExit client_exit;
    client_exit.time_ns = at(3.300);
    client_exit.status = 1;
    o.exits = {{"client", client_exit}};
    return o;
}

RunInfo sample_run() {
    RunInfo run;
    run.scenario = "close_sequence";
    run.variant = "client_first";
    run.title = "The side that closes first ends in TIME_WAIT";
    run.blog_section = "4.1";
    run.run_id = "client_first-20240101T000000Z-1";
    run.kernel = "6.1.0-18-amd64";
    run.started_utc = "2024-01-01T00:00:00Z";
    run.params = {{"connections", 2}};
    run.pcap = "capture.pcap";
    run.duration_s = 63.2;
    return run;
}

std::vector<Outcome> sample_outcomes() {
    Outcome pass{"expect[0]", "client connect() = 0, nth 1", "", true, false, "0", "0", 0.1016};
    Outcome fail{"expect[1]", "client TIME_WAIT at closed count=2", "the closer waits 2 MSL",
                 false, false, "count 2", "count 1", 1.5};
    Outcome untimed{"expect[2]", "server TcpExt.ListenDrops = 1", "", false, false, "1", "0", std::nullopt};
    Outcome skip{"expect[3]", "trace: tcp_retransmit_skb 1 times", "", false, true, "", "not checked: no tracefs",
                 std::nullopt};
    return {pass, fail, untimed, skip};
}

json sample_report() { return report_json(sample_run(), sample(), sample_outcomes()); }

// The report as `socklab show` sees it: written out and read back.
json reread(const json& report) { return json::parse(report.dump()); }

std::vector<std::string> texts_of(const std::vector<LadderRow>& rows, LadderRow::Kind kind) {
    std::vector<std::string> out;
    for (const auto& r : rows)
        if (r.kind == kind) out.push_back(r.text);
    return out;
}

const LadderRow* row_with(const std::vector<LadderRow>& rows, const std::string& text) {
    for (const auto& r : rows)
        if (r.text == text) return &r;
    return nullptr;
}

// Every element opened is closed in order, and text holds no bare '&': enough to be sure that
// what the SVG writer emits is well-formed (it emits no comments, CDATA or processing
// instructions). Returns "" or what is wrong.
std::string xml_problem(const std::string& xml) {
    std::vector<std::string> open;
    size_t i = 0;
    while (i < xml.size()) {
        if (xml[i] == '&') {
            const size_t semi = xml.find(';', i);
            const std::string entity = xml.substr(i, semi == std::string::npos ? 8 : semi - i + 1);
            if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" && entity != "&#39;")
                return "bare & at " + std::to_string(i) + ": " + entity;
        }
        if (xml[i] != '<') {
            ++i;
            continue;
        }
        const size_t end = xml.find('>', i);
        if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
        const std::string tag = xml.substr(i + 1, end - i - 1);
        if (tag.find('<') != std::string::npos) return "'<' inside a tag at " + std::to_string(i);
        if (tag.starts_with("/")) {
            if (open.empty() || open.back() != tag.substr(1)) return "</" + tag.substr(1) + "> closes nothing open";
            open.pop_back();
        } else if (!tag.ends_with("/")) {
            open.push_back(tag.substr(0, tag.find_first_of(" \n")));
        }
        i = end + 1;
    }
    return open.empty() ? "" : "<" + open.back() + "> is never closed";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

size_t code_points(const std::string& s) {
    return static_cast<size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

TEST_CASE("report_json: timeline entries point at what they show", "[ladder]") {
    const json report = sample_report();
    for (const json& e : report["timeline"]) {
        INFO(e.dump());
        const std::string kind = e["kind"];
        if (kind == "packet") CHECK(report["packets"][e["packet"].get<size_t>()]["t"] == e["t"]);
        else if (kind == "state") CHECK(report["transitions"][e["transition"].get<size_t>()]["t"] == e["t"]);
        else if (kind == "checkpoint") CHECK(report["checkpoints"][e["checkpoint"].get<size_t>()]["name"] == e["text"]);
        else if (kind == "exit") CHECK(report["exits"][e["exit"].get<size_t>()]["t"] == e["t"]);
        else CHECK(report["events"][e["event"].get<size_t>()]["t"] == e["t"]);
    }
}

TEST_CASE("ladder_rows: a close that became a timewait socket, and its expiry", "[ladder]") {
    SECTION("TIME_WAIT") {
        const auto rows = ladder_rows(sample_report());
        CHECK(row_with(rows, "[FIN_WAIT2 -> TIME_WAIT] :40012"));
        CHECK_FALSE(row_with(rows, "[FIN_WAIT2 -> CLOSE] :40012"));
        CHECK(row_with(rows, "[LAST_ACK -> CLOSE] :40012"));  // a real close stays one
        // Seen at "closed" as the transition said: no snapshot row there; gone at "end".
        const LadderRow* gone = row_with(rows, "[TIME_WAIT -> CLOSE] :40012 (snapshot: gone)");
        REQUIRE(gone);
        CHECK(gone->t == Approx(63.0));
        CHECK(gone->side == "client");
        CHECK(gone->what == "snapshot");
        // The SYN_SENT socket the tracepoint showed is not repeated from the snapshot.
        CHECK_FALSE(row_with(rows, "[SYN_SENT] :40014 (snapshot)"));
    }
    SECTION("an orphan's FIN_WAIT2 timewait socket that later turns to TIME_WAIT") {
        Observations o = sample();
        o.checkpoints = {checkpoint("closed", 1.5, {client_socket("FIN_WAIT2", 40012, 3)}),
                         checkpoint("later", 2.0, {client_socket("TIME_WAIT", 40012, 3)})};
        const auto rows = ladder_rows(report_json(sample_run(), o, {}));
        CHECK(row_with(rows, "[FIN_WAIT2 -> FIN_WAIT2 (timewait)] :40012"));
        const LadderRow* changed = row_with(rows, "[FIN_WAIT2 (timewait) -> TIME_WAIT] :40012 (snapshot)");
        REQUIRE(changed);
        CHECK(changed->t == Approx(2.0));
    }
    SECTION("a connection that moved again before the checkpoint is not relabelled") {
        Observations o = sample();
        o.trace.push_back(transition(1.4, true, 40012, "CLOSE", "SYN_SENT"));
        const auto rows = ladder_rows(report_json(sample_run(), o, {}));
        CHECK(row_with(rows, "[FIN_WAIT2 -> CLOSE] :40012"));
    }
    SECTION("without tracefs every state comes from the snapshots") {
        Observations o = sample();
        o.traced = false;
        o.trace.clear();
        const auto rows = ladder_rows(report_json(sample_run(), o, {}));
        CHECK(row_with(rows, "[TIME_WAIT] :40012 (snapshot)"));
        CHECK(row_with(rows, "[SYN_SENT] :40014 (snapshot)"));
        CHECK(row_with(rows, "[LISTEN] (snapshot)"));
        CHECK(row_with(rows, "[SYN_SENT -> CLOSE] :40014 (snapshot: gone)"));
        CHECK_FALSE(row_with(rows, "[LISTEN -> CLOSE] (snapshot: gone)"));  // still there at "end"
    }
}

TEST_CASE("ladder_rows: failures at their time, gaps, packets", "[ladder]") {
    const auto rows = ladder_rows(sample_report());
    const auto failures = texts_of(rows, LadderRow::Kind::failure);
    REQUIRE(failures == std::vector<std::string>{"client TIME_WAIT at closed count=2", "server TcpExt.ListenDrops = 1"});
    // The timed one right after the checkpoint of its evidence; the untimed one last.
    const auto timed = std::find_if(rows.begin(), rows.end(), [](const LadderRow& r) { return r.kind == LadderRow::Kind::failure; });
    CHECK(std::prev(timed)->kind == LadderRow::Kind::checkpoint);
    CHECK(timed->t == Approx(1.5));
    CHECK(rows.back().kind == LadderRow::Kind::failure);
    CHECK(rows.back().text == "server TcpExt.ListenDrops = 1");

    std::vector<double> gaps;
    for (const auto& r : rows)
        if (r.kind == LadderRow::Kind::gap) gaps.push_back(r.gap_s);
    REQUIRE(gaps.size() == 3);  // 0.2 -> 1.2, 1.5 -> 3.2, 3.3 -> 63.0
    CHECK(gaps[0] == Approx(1.0));
    CHECK(gaps[1] == Approx(1.7));
    CHECK(gaps[2] == Approx(59.7));

    const LadderRow* rtx = row_with(rows, "S seq=0 :40014 (rtx)");
    REQUIRE(rtx);
    CHECK(rtx->rtx);
    CHECK(rtx->to_server);
    const LadderRow* failed_call = row_with(rows, "connect() = -1 ETIMEDOUT");
    REQUIRE(failed_call);
    CHECK(failed_call->error);
    CHECK_FALSE(row_with(rows, "connect() = 0")->error);
    CHECK(row_with(rows, "exit 1")->error);
}

TEST_CASE("ladder_rows: a long run keeps its start, its end and its failures", "[ladder]") {
    Observations o;
    o.start_ns = kStart;
    o.address = {{"client", kClient}, {"server", kServer}};
    for (int i = 0; i < 1000; ++i) o.segments.push_back(segment(0.001 * i, true, 40012, ACK, 1, 1));
    Outcome middle{"expect[0]", "in the middle", "", false, false, "a", "b", 0.5};
    const auto rows = ladder_rows(report_json(RunInfo{}, o, {middle}));
    const auto cut = std::find_if(rows.begin(), rows.end(), [](const LadderRow& r) { return r.kind == LadderRow::Kind::cut; });
    REQUIRE(cut != rows.end());
    CHECK(cut->left_out == 600);
    CHECK(std::next(cut)->kind == LadderRow::Kind::failure);
    CHECK(std::count_if(rows.begin(), rows.end(), [](const LadderRow& r) { return r.what == "packet"; }) == 400);
}

TEST_CASE("render_svg: arrows, marks, markers, escaping", "[ladder]") {
    const json report = sample_report();
    const std::string svg = render_svg(report);
    INFO(svg.substr(0, 3000));
    CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK(xml_problem(svg) == "");

    // One arrow per packet, the retransmission marked and drawn in its own style.
    CHECK(count_of(svg, "<g class=\"packet") == report["packets"].size());
    CHECK(count_of(svg, "<g class=\"packet rtx\">") == 1);
    CHECK(svg.find("S seq=0 :40014 (rtx)</text>") != std::string::npos);
    CHECK(svg.find("marker-end=\"url(#sl-arrow-rtx)\"") != std::string::npos);
    CHECK(svg.find(">S. seq=0 ack=1 :40012</text>") != std::string::npos);

    // Lifelines with the hosts' addresses; states as boxes; syscalls beside their program.
    CHECK(svg.find(">198.18.0.1</text>") != std::string::npos);
    CHECK(svg.find(">198.18.0.2</text>") != std::string::npos);
    CHECK(svg.find(">SYN_SENT → ESTABLISHED :40012</text>") != std::string::npos);
    CHECK(svg.find(">FIN_WAIT2 → TIME_WAIT :40012</text>") != std::string::npos);
    CHECK(svg.find("<g class=\"snapshot\">") != std::string::npos);
    CHECK(svg.find("<g class=\"call error\">") != std::string::npos);
    CHECK(svg.find(">connect() = -1 ETIMEDOUT</text>") != std::string::npos);

    // Gaps compressed with their length; checkpoints with each side's sockets.
    CHECK(svg.find("⋯ 1.00 s with nothing happening") != std::string::npos);
    CHECK(svg.find("⋯ 59.70 s with nothing happening") != std::string::npos);
    CHECK(svg.find(">checkpoint closed</text>") != std::string::npos);
    CHECK(svg.find(">client: 1 SYN_SENT, 1 TIME_WAIT</text>") != std::string::npos);
    CHECK(svg.find(">server: LISTEN :8080 recv_q=0 send_q=5</text>") != std::string::npos);

    // A red marker per failed expectation, none for passes and skips.
    CHECK(count_of(svg, "<g class=\"failure\">") == 2);
    CHECK(svg.find("✗ FAILED: client TIME_WAIT at closed count=2") != std::string::npos);

    // A program's output is text, never markup.
    CHECK(svg.find("&gt; &lt;b&gt;&amp;&#39;&quot; a tag") != std::string::npos);
    CHECK(svg.find("<b>") == std::string::npos);
}

TEST_CASE("render_svg and render_html: deterministic, the same from the file as from memory", "[ladder]") {
    const json report = sample_report();
    CHECK(render_svg(report) == render_svg(sample_report()));
    CHECK(render_svg(report) == render_svg(reread(report)));
    CHECK(render_html(report) == render_html(reread(report)));
    CHECK(render_terminal(reread(report), false) == render_terminal(sample_run(), sample(), sample_outcomes(), false));
}

TEST_CASE("render_svg: a report with nothing in it still draws", "[ladder]") {
    json odd = json::object();
    odd["timeline"] = json::array({json{{"kind", "packet"}, {"packet", 7}}, 3, nullptr});
    odd["packets"] = "not a list";
    odd["expectations"] = json::array({json{{"text", "no verdict"}, {"at", "soon"}}});
    for (const json& report : {json::object(), json{{"timeline", json::array()}, {"expectations", json::array()}}, odd}) {
        INFO(report.dump());
        CHECK(xml_problem(render_svg(report)).empty());
        CHECK_NOTHROW(render_html(report));
        CHECK_NOTHROW(render_terminal(report, false));
    }
}

TEST_CASE("render_html: the tables, the inline diagram, the pcap link", "[ladder]") {
    const json report = sample_report();
    const std::string html = render_html(report);
    CHECK(html.starts_with("<!DOCTYPE html>"));
    CHECK(html.find(render_svg(report)) != std::string::npos);
    CHECK(html.find("<table id=\"expectations\">") != std::string::npos);
    CHECK(count_of(html, "<span class=\"badge PASS\">") == 1);
    CHECK(count_of(html, "<span class=\"badge FAIL\">") == 2);
    CHECK(count_of(html, "<span class=\"badge SKIP\">") == 1);
    CHECK(html.find("<td>count 2</td><td>count 1</td><td class=\"num\">1.500 s</td><td>the closer waits 2 MSL</td>") !=
          std::string::npos);
    CHECK(html.find("<table id=\"parameters\">") != std::string::npos);
    CHECK(html.find("<td class=\"mono\">connections</td><td class=\"num\">2</td>") != std::string::npos);
    // Sysctls side by side; a row where the sides differ is highlighted.
    CHECK(html.find("<tr class=\"differs\"><td class=\"mono\">net.ipv4.tcp_syn_retries</td><td class=\"num\">1</td>"
                    "<td class=\"num\">6</td></tr>") != std::string::npos);
    CHECK(html.find("<tr><td class=\"mono\">net.ipv4.tcp_fin_timeout</td>") != std::string::npos);
    CHECK(html.find("6.1.0-18-amd64") != std::string::npos);
    CHECK(html.find("<a href=\"capture.pcap\">capture.pcap</a>") != std::string::npos);
    CHECK(html.find("<h3>closed at 1.500 s</h3>") != std::string::npos);
    CHECK(html.find("<td class=\"mono\">timewait 0 ms</td>") != std::string::npos);
    CHECK(html.find("1 passed, 2 failed, 1 skipped") != std::string::npos);
    // Self-contained: nothing fetched, nothing run.
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
    CHECK(html.find("https://") == std::string::npos);
}

TEST_CASE("render_terminal from report.json: failures marked where they failed, 100 columns", "[ladder]") {
    const std::string text = render_terminal(reread(sample_report()), false);
    const auto lines = lines_of(text);
    for (const auto& l : lines) {
        INFO(l);
        CHECK(code_points(l) <= 100);
    }
    auto has = [&](const std::string& line) { return std::find(lines.begin(), lines.end(), line) != lines.end(); };
    CHECK(has("  1.500 ✗ FAILED: client TIME_WAIT at closed count=2"));
    CHECK(has("  1.303 [FIN_WAIT2 -> TIME_WAIT] :40012"));
    CHECK(has(" 63.000 [TIME_WAIT -> CLOSE] :40012 (snapshot: gone)"));
    CHECK(has("        client: 1 SYN_SENT, 1 TIME_WAIT"));
    CHECK(has("    ...  (59.70 s)"));
    CHECK(lines.back() == "1 passed, 2 failed, 1 skipped");

    const std::string colored = render_terminal(reread(sample_report()), true);
    CHECK(colored.find("\x1b[31m✗ FAILED: client TIME_WAIT") != std::string::npos);
}

TEST_CASE("read_report and write_pictures", "[ladder]") {
    const auto dir = std::filesystem::temp_directory_path() / ("socklab_ladder_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "report.json").string();

    CHECK_THROWS_WITH(read_report(path), Catch::Contains("cannot read " + path));
    std::ofstream(path) << "{ not json";
    CHECK_THROWS_WITH(read_report(path), Catch::Contains(path + " is not valid JSON"));
    std::ofstream(path) << "[1E400]";
    CHECK_THROWS_WITH(read_report(path), Catch::Contains(path + " is not valid JSON"));
    std::ofstream(path) << "[1, 2]";
    CHECK_THROWS_WITH(read_report(path), Catch::Contains("is not a socklab report"));

    const json report = sample_report();
    write_report(path, report);
    const json back = read_report(path);
    write_pictures(dir.string(), back);
    std::ifstream svg(dir / "ladder.svg"), html(dir / "report.html");
    std::stringstream svg_text, html_text;
    svg_text << svg.rdbuf();
    html_text << html.rdbuf();
    std::filesystem::remove_all(dir);
    CHECK(svg_text.str() == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + render_svg(report));
    CHECK(html_text.str() == render_html(report));
    CHECK_THROWS_WITH(write_pictures("/nonexistent/dir", report), Catch::Contains("cannot write /nonexistent/dir/ladder.svg"));
}
