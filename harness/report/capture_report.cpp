#include "report/capture_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "report/report.hpp"
#include "report/text.hpp"

namespace socklab {

using nlohmann::json;

const char* const kInferenceCaveat =
    "States are inferred from the segments as the capture point saw them (RFC 9293's state machine), "
    "not observed in a kernel: a capture near one end sees that end's segments before the network "
    "does and the other's after it, so a state may change a little later (or, across the network, "
    "earlier) than drawn; a segment seen was sent but may not have arrived; TIME_WAIT ends by a timer "
    "that puts nothing on the wire.";

std::string endpoint_text(const Endpoint& e) {
    const bool v6 = e.address.find(':') != std::string::npos;
    return (v6 ? "[" + e.address + "]" : e.address) + ":" + std::to_string(e.port);
}

namespace {

constexpr size_t kCaptureHead = 250, kCaptureTail = 100;

std::string notes_text(const InferredConnection& c) {
    std::string out;
    auto add = [&](const std::string& note) { out += (out.empty() ? "" : "; ") + note; };
    if (!c.opened_in_capture) add("began before the capture");
    if (c.not_captured) add(std::to_string(c.not_captured) + " gaps");
    if (c.truncated) add(std::to_string(c.truncated) + " truncated");
    return out;
}

// What the picture says about the connection as a whole, in sentences.
std::vector<std::string> connection_notes(const InferredConnection& c) {
    std::vector<std::string> notes;
    if (!c.opened_in_capture && !c.segments.empty())
        notes.push_back(c.initial[0] == TcpState::SYN_SENT
                            ? "The capture missed the SYN: the diagram starts at the SYN-ACK, the client taken to be in SYN_SENT."
                            : "The capture started mid-connection: both ends are taken to be ESTABLISHED before its first "
                              "segment, and which end is the client is a guess (the higher port).");
    if (c.not_captured)
        notes.push_back(std::to_string(c.not_captured) +
                        " times a segment began past what its sender had sent before: the segments between were not "
                        "captured (marked \"previous not captured\").");
    if (c.truncated)
        notes.push_back(std::to_string(c.truncated) +
                        " segments were cut by the capture's snaplen; their lengths come from the IP header.");
    return notes;
}

}  // namespace

json capture_report_json(const InferredConnection& c, const CaptureSource& source, int left) {
    const int right = 1 - left;
    const int64_t start_ns = c.segments.empty() ? 0 : c.segments.front().time_ns;
    auto seconds = [&](int64_t ns) { return rounded(static_cast<double>(ns - start_ns) / 1e9); };
    // The pictures call the left end "client" and the right "server" (their JSON's sides).
    auto side = [&](int end) { return end == left ? std::string("client") : std::string("server"); };
    auto title = [&](int end) {
        if (!c.opened_in_capture) return std::string(end == 0 ? "client?" : "server?");
        return std::string(end == 0 ? "client" : "server");
    };
    const std::string ports = ":" + std::to_string(c.ends[0].port);  // the client's port names it, as in a run

    // Relative numbers, as the runs count them (relative_numbers()).
    const std::vector<Relative> numbers = relative_numbers(c.segments);
    json timeline = json::array(), packets = json::array();
    size_t change = 0;
    // A long connection keeps its first and last segments only, as the ladder would draw them
    // anyway (ladder.hpp's kHeadEntries, kTailEntries, with room for the states): a bulk
    // transfer of 100,000 segments is not 100,000 JSON objects.
    const size_t n = c.segments.size();
    const size_t head = n > kCaptureHead + kCaptureTail ? kCaptureHead : n;
    const size_t tail_from = n > kCaptureHead + kCaptureTail ? n - kCaptureTail : n;
    for (size_t i = 0; i < n; ++i) {
        const Segment& s = c.segments[i];
        const int e = c.end_of(s);
        if (i >= head && i < tail_from) {
            if (i == head)
                timeline.push_back({{"t", seconds(s.time_ns)}, {"side", ""}, {"kind", "cut"}, {"left_out", tail_from - head}});
            for (; change < c.changes.size() && c.changes[change].segment == i; ++change) {
            }
            continue;
        }
        const uint32_t rel_seq = numbers[i].seq;
        std::optional<uint32_t> rel_ack;
        if ((s.flags & ACK) && numbers[i].ack_relative) rel_ack = numbers[i].ack;
        const SegmentNotes& notes = c.notes[i];
        const bool rtx = std::find(notes.begin(), notes.end(), "rtx") != notes.end();
        json p = {{"t", seconds(s.time_ns)}, {"from", side(e)}, {"src", s.src},   {"dst", s.dst},
                  {"sport", s.sport},        {"dport", s.dport}, {"flags", flags_text(s.flags)},
                  {"seq", s.seq},            {"ack", s.ack},     {"rel_seq", rel_seq},
                  {"rel_ack", nullptr},      {"len", s.len},     {"window", s.window},
                  {"rtx", rtx},              {"analysis", notes}, {"truncated", s.truncated}};
        if (rel_ack) p["rel_ack"] = *rel_ack;
        packets.push_back(p);
        timeline.push_back({{"t", seconds(s.time_ns)},
                            {"side", ""},
                            {"kind", "packet"},
                            {"text", packet_text(s, rel_seq, rel_ack, ports, notes)},
                            {"to_server", e == left},
                            {"packet", packets.size() - 1}});
        // The states this segment changed, right after it.
        for (; change < c.changes.size() && c.changes[change].segment == i; ++change) {
            const StateChange& ch = c.changes[change];
            json entry = {{"t", seconds(s.time_ns)},
                          {"side", side(ch.end)},
                          {"kind", "state"},
                          {"text", "[" + std::string(state_name(ch.from)) + " -> " + state_name(ch.to) + "] " + ports},
                          {"inferred", true}};
            if (!ch.why.empty()) entry["why"] = ch.why;
            timeline.push_back(entry);
        }
    }

    json notes = json::array();
    for (const auto& n : connection_notes(c)) notes.push_back(n);
    json report = {
        {"scenario", source.file},
        {"variant", "connection " + std::to_string(c.stream)},
        {"title", endpoint_text(c.ends[0]) + " ⇄ " + endpoint_text(c.ends[1])},
        {"family", c.ends[0].address.find(':') != std::string::npos ? "6" : "4"},
        {"duration_s", rounded(c.duration_s())},
        {"traced", false},
        {"addresses", {{"client", endpoint_text(c.ends[left])}, {"server", endpoint_text(c.ends[right])}}},
        {"names", {{"client", title(left)}, {"server", title(right)}}},
        {"capture",
         {{"file", source.file},
          {"link_type", source.link_type},
          {"stream", c.stream},
          {"packets_total", n},
          {"start_ns", start_ns},
          {"initial", {{"client", state_name(c.initial[left])}, {"server", state_name(c.initial[right])}}},
          {"final", {{"client", state_name(c.state[left])}, {"server", state_name(c.state[right])}}},
          {"caveat", kInferenceCaveat}}},
        {"notes", notes},
        {"timeline", timeline},
        {"packets", packets},
        {"transitions", json::array()},
        {"checkpoints", json::array()},
        {"expectations", json::array()},
        {"summary", {{"passed", 0}, {"failed", 0}, {"skipped", 0}}},
    };
    return report;
}

ConnectionRow connection_row(const InferredConnection& c) {
    ConnectionRow row;
    row.stream = c.stream;
    for (int e : {0, 1}) {
        row.ends[e] = endpoint_text(c.ends[e]);
        row.states[e] = state_name(c.state[e]);
    }
    row.packets = c.segments.size();
    row.duration_s = c.duration_s();
    row.resets = c.resets;
    row.retransmissions = c.retransmissions;
    row.notes = notes_text(c);
    return row;
}

std::string summary_table_text(const std::vector<ConnectionRow>& rows) {
    size_t width[2] = {6, 6};
    for (const auto& r : rows)
        for (int e : {0, 1}) width[e] = std::max(width[e], r.ends[e].size());
    auto pad = [](const std::string& s, size_t n) { return s.size() >= n ? s : s + std::string(n - s.size(), ' '); };
    std::string out = "stream  " + pad("client", width[0]) + "  " + pad("server", width[1]) +
                      "  packets  duration  final states             resets  rtx  notes\n";
    for (const auto& r : rows) {
        char numbers[96];
        std::snprintf(numbers, sizeof numbers, "%7zu  %7.3fs  ", r.packets, r.duration_s);
        out += pad(std::to_string(r.stream), 6) + "  " + pad(r.ends[0], width[0]) + "  " + pad(r.ends[1], width[1]) + " " +
               numbers + pad(r.states[0] + " / " + r.states[1], 23) + "  " + pad(std::to_string(r.resets), 6) + "  " +
               pad(std::to_string(r.retransmissions), 3) + "  " + r.notes + "\n";
    }
    return out;
}

}  // namespace socklab
