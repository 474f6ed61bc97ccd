// Unit tests of the states inferred from a capture (harness/inference) and of the pictures of a
// capture's connection (report/capture_report): each closing sequence the ladder check captures for
// real (tests/ladder-check.sh), built here segment by segment, with the states each end must end in,
// the analysis names on the arrows, and the inferred look of the one renderer.
#include <catch2/catch.hpp>

#include "inference/connections.hpp"
#include "report/capture_report.hpp"
#include "report/html.hpp"
#include "report/svg.hpp"
#include "report/terminal.hpp"

#include <string>
#include <vector>

using namespace socklab;

namespace {

constexpr const char* kA = "198.18.0.1";
constexpr const char* kB = "198.18.0.2";
constexpr uint16_t kPort = 40000;
constexpr uint32_t kIsnA = 1000, kIsnB = 5000;

// A segment from the client (A, port 40000) or from the server (B, port 8080).
Segment seg(double t, bool from_a, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len = 0, uint16_t window = 500) {
    Segment s;
    s.time_ns = int64_t(t * 1e9);
    s.src = from_a ? kA : kB, s.dst = from_a ? kB : kA;
    s.sport = from_a ? kPort : 8080, s.dport = from_a ? 8080 : kPort;
    s.flags = flags, s.seq = seq, s.ack = ack, s.len = len, s.window = window;
    return s;
}

std::vector<Segment> handshake() {
    return {seg(0.0, true, SYN, kIsnA, 0), seg(0.001, false, SYN | ACK, kIsnB, kIsnA + 1),
            seg(0.002, true, ACK, kIsnA + 1, kIsnB + 1)};
}

std::vector<Segment> operator+(std::vector<Segment> a, const std::vector<Segment>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// "CLOSED > SYN_SENT > ..." for one end.
std::string path(const InferredConnection& c, int end) {
    std::string out = state_name(c.initial[end]);
    for (const auto& ch : c.changes)
        if (ch.end == end) out += std::string(" > ") + state_name(ch.to);
    return out;
}

InferredConnection only(const std::vector<Segment>& segments) {
    auto all = infer_connections(segments);
    REQUIRE(all.size() == 1);
    return all.front();
}

std::vector<Segment> normal_close() {
    return handshake() + std::vector<Segment>{
                             seg(0.01, true, PSH | ACK, kIsnA + 1, kIsnB + 1, 6),
                             seg(0.011, false, ACK, kIsnB + 1, kIsnA + 7),
                             seg(0.02, true, FIN | ACK, kIsnA + 7, kIsnB + 1),
                             seg(0.021, false, ACK, kIsnB + 1, kIsnA + 8),
                             seg(0.03, false, FIN | ACK, kIsnB + 1, kIsnA + 8),
                             seg(0.031, true, ACK, kIsnA + 8, kIsnB + 2),
                         };
}

}  // namespace

TEST_CASE("a normal close: the client that closes first ends in TIME_WAIT, the server CLOSED", "[inference]") {
    const auto c = only(normal_close());
    CHECK(c.opened_in_capture);
    CHECK(c.ends[0].address == kA);
    CHECK(path(c, 0) == "CLOSED > SYN_SENT > ESTABLISHED > FIN_WAIT1 > FIN_WAIT2 > TIME_WAIT");
    CHECK(path(c, 1) == "CLOSED > SYN_RECV > ESTABLISHED > CLOSE_WAIT > LAST_ACK > CLOSED");
    CHECK(c.state[0] == TcpState::TIME_WAIT);
    CHECK(c.state[1] == TcpState::CLOSED);
    CHECK(c.resets == 0);
    CHECK(c.retransmissions == 0);
    for (const auto& notes : c.notes) CHECK(notes.empty());
}

TEST_CASE("the server's FIN sent together with the ACK of the client's (three-way close)", "[inference]") {
    auto segments = normal_close();
    segments.erase(segments.begin() + 6);  // the separate ACK: the server's FIN acks the client's FIN
    const auto c = only(segments);
    // The ACK is taken before the FIN (RFC 9293 3.10.7.4), as Linux's tracepoint shows it too.
    CHECK(path(c, 0) == "CLOSED > SYN_SENT > ESTABLISHED > FIN_WAIT1 > FIN_WAIT2 > TIME_WAIT");
    CHECK(path(c, 1) == "CLOSED > SYN_RECV > ESTABLISHED > CLOSE_WAIT > LAST_ACK > CLOSED");
}

TEST_CASE("an RST on close with data unread: both ends CLOSED, the reset named", "[inference]") {
    const auto c = only(handshake() + std::vector<Segment>{seg(0.01, true, PSH | ACK, kIsnA + 1, kIsnB + 1, 7),
                                                           seg(0.011, false, ACK, kIsnB + 1, kIsnA + 8),
                                                           seg(0.02, false, RST | ACK, kIsnB + 1, kIsnA + 8, 0, 0)});
    CHECK(c.state[0] == TcpState::CLOSED);
    CHECK(c.state[1] == TcpState::CLOSED);
    CHECK(path(c, 1) == "CLOSED > SYN_RECV > ESTABLISHED > CLOSED");
    CHECK(c.resets == 1);
    CHECK(c.notes.back() == SegmentNotes{"reset"});  // an RST's zero window is no zero window
}

TEST_CASE("a simultaneous close: both FINs in flight, both ends CLOSING then TIME_WAIT, in either capture order",
          "[inference]") {
    const Segment fin_a = seg(0.02, true, FIN | ACK, kIsnA + 1, kIsnB + 1);
    const Segment fin_b = seg(0.0201, false, FIN | ACK, kIsnB + 1, kIsnA + 1);  // acks no FIN
    const Segment ack_a = seg(0.021, true, ACK, kIsnA + 2, kIsnB + 2);
    const Segment ack_b = seg(0.0211, false, ACK, kIsnB + 2, kIsnA + 2);
    for (bool a_first : {true, false}) {
        INFO("the capture saw " << (a_first ? "the client's" : "the server's") << " FIN first");
        const auto c = only(handshake() + (a_first ? std::vector<Segment>{fin_a, fin_b} : std::vector<Segment>{fin_b, fin_a}) +
                            std::vector<Segment>{ack_a, ack_b});
        CHECK(path(c, 0) == "CLOSED > SYN_SENT > ESTABLISHED > FIN_WAIT1 > CLOSING > TIME_WAIT");
        CHECK(path(c, 1) == "CLOSED > SYN_RECV > ESTABLISHED > FIN_WAIT1 > CLOSING > TIME_WAIT");
        CHECK(c.state[0] == TcpState::TIME_WAIT);
        CHECK(c.state[1] == TcpState::TIME_WAIT);
    }
}

TEST_CASE("a SYN retransmitted to a host that drops it: SYN_SENT, the copy named rtx", "[inference]") {
    const auto c = only({seg(0.0, true, SYN, kIsnA, 0), seg(1.0, true, SYN, kIsnA, 0)});
    CHECK(c.state[0] == TcpState::SYN_SENT);
    CHECK(c.state[1] == TcpState::CLOSED);
    CHECK(c.retransmissions == 1);
    CHECK(c.notes[1] == SegmentNotes{"rtx"});
    CHECK(c.notes[0].empty());
}

TEST_CASE("a SYN to a closed port: the RST leaves both CLOSED", "[inference]") {
    const auto c = only({seg(0.0, true, SYN, kIsnA, 0), seg(0.001, false, RST | ACK, 0, kIsnA + 1, 0, 0)});
    CHECK(path(c, 0) == "CLOSED > SYN_SENT > CLOSED");
    CHECK(c.state[1] == TcpState::CLOSED);
}

TEST_CASE("a capture that began mid-connection starts both ends in ESTABLISHED and says so", "[inference]") {
    const auto c = only({seg(5.0, false, PSH | ACK, kIsnB + 100, kIsnA + 50, 10),
                         seg(5.001, true, ACK, kIsnA + 50, kIsnB + 110)});
    CHECK_FALSE(c.opened_in_capture);
    CHECK(c.initial[0] == TcpState::ESTABLISHED);
    CHECK(c.initial[1] == TcpState::ESTABLISHED);
    CHECK(c.ends[0].port == kPort);  // the higher port taken for the client's
    CHECK(c.changes.empty());
    CaptureSource source{"x.pcap", "EN10MB", {}};
    const auto report = capture_report_json(c, source, 0);
    REQUIRE(report["notes"].size() == 1);
    CHECK(report["notes"][0].get<std::string>().find("mid-connection") != std::string::npos);
}

TEST_CASE("a new SYN on the four-tuple of a connection in TIME_WAIT is a new connection", "[inference]") {
    auto segments = normal_close();
    segments.push_back(seg(2.0, true, SYN, kIsnA + 100000, 0));
    const auto all = infer_connections(segments);
    REQUIRE(all.size() == 2);
    CHECK(all[0].state[0] == TcpState::TIME_WAIT);
    CHECK(all[1].stream == 1);
    CHECK(all[1].state[0] == TcpState::SYN_SENT);
    CHECK(all[1].segments.size() == 1);
}

TEST_CASE("the analysis names what tshark's would", "[inference]") {
    auto segments = handshake() + std::vector<Segment>{
                                      seg(0.01, true, ACK, kIsnA + 1, kIsnB + 1, 100),   // 3: data
                                      seg(0.02, true, ACK, kIsnA + 201, kIsnB + 1, 100), // 4: a gap before it
                                      seg(0.03, true, ACK, kIsnA + 101, kIsnB + 1, 100), // 5: fills the gap
                                      seg(0.04, true, ACK, kIsnA + 1, kIsnB + 1, 100),   // 6: sent again
                                      seg(0.05, false, ACK, kIsnB + 1, kIsnA + 301),     // 7: an ACK
                                      seg(0.06, false, ACK, kIsnB + 1, kIsnA + 301),     // 8: the same again
                                      seg(0.07, false, ACK, kIsnB + 1, kIsnA + 301, 0, 0), // 9: window 0
                                      seg(0.08, true, ACK, kIsnA + 300, kIsnB + 1, 0),   // 10: probe against 0
                                      seg(0.09, false, ACK, kIsnB + 1, kIsnA + 301, 0, 500),
                                      seg(9.0, true, ACK, kIsnA + 300, kIsnB + 1, 0),    // 12: keep-alive
                                      seg(9.001, false, ACK, kIsnB + 1, kIsnA + 301, 0, 500),  // 13: its answer
                                  };
    const auto c = only(segments);
    CHECK(c.notes[3].empty());
    CHECK(c.notes[4] == SegmentNotes{"previous not captured"});
    CHECK(c.notes[5] == SegmentNotes{"out-of-order"});
    CHECK(c.notes[6] == SegmentNotes{"rtx"});
    CHECK(c.notes[7].empty());
    CHECK(c.notes[8] == SegmentNotes{"dup ack #1"});
    CHECK(c.notes[9] == SegmentNotes{"zero window"});
    CHECK(c.notes[10] == SegmentNotes{"window probe"});
    CHECK(c.notes[12] == SegmentNotes{"keep-alive"});
    CHECK(c.notes[13] == SegmentNotes{"keep-alive ack"});
    CHECK(c.retransmissions == 1);
    CHECK(c.not_captured == 1);
}

TEST_CASE("a capture's connection is drawn by the runs' renderer, its states in the inferred look", "[inference]") {
    const auto c = only(normal_close());
    CaptureSource source{"normal.pcap", "LINUX_SLL2", {}};
    const auto report = capture_report_json(c, source, 0);
    CHECK(report["capture"]["final"]["client"] == "TIME_WAIT");
    CHECK(report["capture"]["final"]["server"] == "CLOSED");
    CHECK(report["packets"].size() == 9);

    const std::string svg = render_svg(report);
    CHECK(svg.find("<g class=\"state inferred\">") != std::string::npos);
    CHECK(svg.find("<g class=\"state\">") == std::string::npos);  // no state here came from a kernel
    CHECK(svg.find("state inferred from the capture") != std::string::npos);
    CHECK(svg.find("data-packets=\"9\"") != std::string::npos);
    size_t arrows = 0;
    for (size_t at = svg.find("<g class=\"packet"); at != std::string::npos; at = svg.find("<g class=\"packet", at + 1))
        ++arrows;
    CHECK(arrows == 9);  // the legend's samples are "sample packet", counted apart

    const std::string text = render_terminal(report, false);
    CHECK(text.find("≈[FIN_WAIT2 -> TIME_WAIT] :40000") != std::string::npos);
    CHECK(text.find("final states (inferred): client TIME_WAIT, server CLOSED") != std::string::npos);
    CHECK(text.find("passed") == std::string::npos);

    SECTION("--left the server swaps the sides") {
        const auto swapped = capture_report_json(c, source, 1);
        CHECK(swapped["addresses"]["client"] == "198.18.0.2:8080");
        CHECK(swapped["capture"]["final"]["client"] == "CLOSED");
        CHECK(swapped["timeline"][0]["to_server"] == false);  // the SYN now goes right to left
    }
    SECTION("the page: the table of connections and each diagram") {
        const std::string html = render_capture_html("normal.pcap", "about", {connection_row(c)}, {report});
        CHECK(html.find("<table id=\"connections\">") != std::string::npos);
        CHECK(html.find("id=\"ladder-0\"") != std::string::npos);
        CHECK(html.find("TIME_WAIT / CLOSED") != std::string::npos);
        CHECK(html.find("inferred from the capture") != std::string::npos);
    }
}

TEST_CASE("the summary table has one row per connection with its final states", "[inference]") {
    auto segments = normal_close();
    for (auto s : handshake()) {  // a second connection on another port, left open
        if (s.sport == kPort) s.sport = kPort + 1;
        else s.dport = kPort + 1;
        segments.push_back(s);
    }
    const auto all = infer_connections(segments);
    REQUIRE(all.size() == 2);
    const std::string table = summary_table_text({connection_row(all[0]), connection_row(all[1])});
    CHECK(table.find("198.18.0.1:40000  198.18.0.2:8080") != std::string::npos);
    CHECK(table.find("TIME_WAIT / CLOSED") != std::string::npos);
    CHECK(table.find("ESTABLISHED / ESTABLISHED") != std::string::npos);
}

TEST_CASE("a long connection keeps its first and last segments, and the ladder says how many it left out",
          "[inference]") {
    auto segments = handshake();
    for (uint32_t i = 0; i < 1000; ++i) segments.push_back(seg(0.01 + i * 1e-4, true, ACK, kIsnA + 1 + i * 10, kIsnB + 1, 10));
    const auto c = only(segments);
    CaptureSource source{"bulk.pcap", "EN10MB", {}};
    const auto report = capture_report_json(c, source, 0);
    CHECK(report["packets"].size() == 350);
    CHECK(report["capture"]["packets_total"] == 1003);
    const std::string svg = render_svg(report);
    CHECK(svg.find("653 segments left out (the capture has them all)") != std::string::npos);
    CHECK(svg.find("data-packets=\"350\"") != std::string::npos);
}
