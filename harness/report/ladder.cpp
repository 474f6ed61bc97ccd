#include "report/ladder.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "report/text.hpp"

namespace socklab {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Reading the report

namespace {

// Where a timeline entry points into one of the report's arrays, e.g. entry["packet"] is the
// index of its packet in report["packets"]; nullopt for a report written before entries had them.
std::optional<size_t> reference(const json& report, const json& entry, const char* key, const char* array) {
    if (!entry.is_object()) return std::nullopt;
    const auto it = entry.find(key);
    // A report built in memory holds signed integers; one read back from a file, unsigned ones.
    if (it == entry.end() || !it->is_number_integer() || it->get<long long>() < 0) return std::nullopt;
    const auto i = it->get<size_t>();
    if (i >= array_field(report, array).size()) return std::nullopt;
    return i;
}

const json* referenced(const json& report, const json& entry, const char* key, const char* array) {
    const auto i = reference(report, entry, key, array);
    return i ? &array_field(report, array)[*i] : nullptr;
}

// A connection is named by its client port, as in the timeline: the local port of a client
// socket, the remote port of a server socket, 0 for a listener (or a socket not yet bound).
int connection_port(const std::string& side, const json& socket) {
    if (side == "client") return static_cast<int>(number_field(socket, "sport"));
    if (side == "server") return static_cast<int>(number_field(socket, "dport"));
    return 0;
}

std::string with_port(const std::string& text, int port) {
    return port == 0 ? text : text + " :" + std::to_string(port);
}

// A timewait socket is what the kernel keeps of a connection after its full socket is gone:
// sock_diag shows it as TIME_WAIT, or as FIN_WAIT2 for an orphan waiting for the peer's FIN,
// with the timewait timer (3) running.
bool is_timewait_socket(const json& socket) {
    return text_field(socket, "state") == "TIME_WAIT" || number_field(socket, "timer") == 3;
}

std::string socket_state_label(const json& socket) {
    const std::string state = text_field(socket, "state", "?");
    return state != "TIME_WAIT" && is_timewait_socket(socket) ? state + " (timewait)" : state;
}

// ---------------------------------------------------------------------------------------------
// States: what the transitions say, corrected and completed by the snapshots

using ConnectionKey = std::pair<std::string, int>;  // side, client port

struct KnownState {
    std::string state;
    bool from_snapshot = false;  // only sock_diag can see it change or go (a timewait socket)
};

// When a full socket goes to CLOSE from FIN_WAIT1, FIN_WAIT2 or CLOSING, the kernel may hand the
// connection to a timewait socket, which the tracepoint does not see. The first checkpoint after
// the transition tells, unless the connection moved again in between. "" when it shows none.
std::string timewait_successor(const json& report, size_t transition_index, const std::string& side, int port,
                               double t) {
    const json& transitions = array_field(report, "transitions");
    for (const json& cp : array_field(report, "checkpoints")) {
        const double cp_t = number_field(cp, "t");
        if (cp_t < t) continue;
        for (size_t i = transition_index + 1; i < transitions.size(); ++i) {
            const json& later = transitions[i];
            if (number_field(later, "t") <= cp_t && text_field(later, "side") == side &&
                connection_port(side, later) == port)
                return "";
        }
        for (const json& s : array_field(object_field(cp, "sockets"), side.c_str()))
            if (connection_port(side, s) == port && is_timewait_socket(s)) return socket_state_label(s);
        return "";
    }
    return "";
}

bool may_become_timewait(const std::string& old_state) {
    return old_state == "FIN_WAIT1" || old_state == "FIN_WAIT2" || old_state == "CLOSING";
}

// A state entry from the tracepoint: rewritten when the connection became a timewait socket,
// and remembered as the connection's state.
void note_transition(const json& report, const json& entry, LadderRow& row, std::map<ConnectionKey, KnownState>& known) {
    const auto index = reference(report, entry, "transition", "transitions");
    if (!index) return;
    const json* transition = &array_field(report, "transitions")[*index];
    const int port = connection_port(row.side, *transition);
    const std::string old_state = text_field(*transition, "old");
    std::string new_state = text_field(*transition, "new");
    bool timewait = false;
    if (new_state == "CLOSE" && port != 0 && may_become_timewait(old_state)) {
        const std::string successor = timewait_successor(report, *index, row.side, port, row.t);
        if (!successor.empty()) {
            new_state = successor;
            timewait = true;
            row.text = with_port("[" + old_state + " -> " + new_state + "]", port);
        }
    }
    // A client socket has no port before its SYN goes out; its later transitions name it.
    if (port != 0 || row.side == "server") known[{row.side, port}] = {new_state, timewait};
}

LadderRow snapshot_row(double t, const std::string& side, int port, const std::string& from, const std::string& to,
                       const std::string& note) {
    LadderRow row;
    row.t = t;
    row.side = side;
    row.what = "snapshot";
    row.text = with_port("[" + (from.empty() ? to : from + " -> " + to) + "]", port) + " (" + note + ")";
    return row;
}

// The states a checkpoint's sock_diag dump shows that the transitions did not: timewait sockets
// appearing, changing (FIN_WAIT2 to TIME_WAIT) and expiring, or every state when not traced.
std::vector<LadderRow> snapshot_rows(const json& checkpoint, double t, bool traced,
                                     std::map<ConnectionKey, KnownState>& known) {
    std::vector<LadderRow> rows;
    for (const auto& [side, sockets] : object_field(checkpoint, "sockets").items()) {
        if (!sockets.is_array()) continue;
        std::set<int> present;
        for (const json& s : sockets) {
            const int port = connection_port(side, s);
            present.insert(port);
            const bool timewait = is_timewait_socket(s);
            const std::string state = socket_state_label(s);
            const auto it = known.find({side, port});
            const std::string before = it == known.end() ? "" : it->second.state;
            if ((timewait || !traced) && before != state) rows.push_back(snapshot_row(t, side, port, before, state, "snapshot"));
            known[{side, port}] = {state, timewait};
        }
        for (auto& [key, k] : known) {
            if (key.first != side || present.count(key.second) || k.state == "CLOSE") continue;
            if (!k.from_snapshot && traced) continue;  // the tracepoint showed this one close
            rows.push_back(snapshot_row(t, side, key.second, k.state, "CLOSE", "snapshot: gone"));
            k = {"CLOSE", false};
        }
    }
    return rows;
}

// One timeline entry as a row, with what its picture needs from the entry it points at.
LadderRow entry_row(const json& report, const json& entry) {
    LadderRow row;
    row.t = number_field(entry, "t");
    row.side = text_field(entry, "side");
    row.what = text_field(entry, "kind");
    row.text = text_field(entry, "text");
    row.to_server = bool_field(entry, "to_server");
    if (row.what == "packet") {
        const json* packet = referenced(report, entry, "packet", "packets");
        const std::string flags = packet ? text_field(*packet, "flags") : row.text.substr(0, row.text.find(' '));
        row.rtx = packet ? bool_field(*packet, "rtx") : row.text.ends_with("(rtx)");
        row.reset = flags.find('R') != std::string::npos;
    } else if (row.what == "call") {
        const json* event = referenced(report, entry, "event", "events");
        row.error = event ? number_field(object_field(*event, "body"), "ret") < 0
                          : row.text.find("= -") != std::string::npos;
    } else if (row.what == "exit") {
        row.error = row.text != "exit 0";
    }
    return row;
}

// Timeline entries, checkpoints and snapshot states, in the timeline's order.
std::vector<LadderRow> timeline_rows(const json& report) {
    const bool traced = bool_field(report, "traced", true);
    std::map<ConnectionKey, KnownState> known;
    std::vector<LadderRow> rows;
    for (const json& entry : array_field(report, "timeline")) {
        LadderRow row = entry_row(report, entry);
        if (row.what == "checkpoint") {
            row.kind = LadderRow::Kind::checkpoint;
            row.checkpoint = referenced(report, entry, "checkpoint", "checkpoints");
            rows.push_back(row);
            if (row.checkpoint)
                for (auto& snapshot : snapshot_rows(*row.checkpoint, row.t, traced, known)) rows.push_back(snapshot);
            continue;
        }
        if (row.what == "state") note_transition(report, entry, row, known);
        rows.push_back(row);
    }
    return rows;
}

// Each failed expectation after the rows of its time; one without a time after everything.
void add_failures(const json& report, std::vector<LadderRow>& rows) {
    for (const json& e : array_field(report, "expectations")) {
        if (bool_field(e, "passed") || bool_field(e, "skipped")) continue;
        LadderRow row;
        row.kind = LadderRow::Kind::failure;
        row.text = text_field(e, "text");
        row.error = true;
        row.expectation = &e;
        const auto at = e.find("at");
        const bool timed = at != e.end() && at->is_number();
        row.t = timed ? at->get<double>() : rows.empty() ? 0 : rows.back().t;
        const auto place = timed ? std::upper_bound(rows.begin(), rows.end(), row.t,
                                                    [](double t, const LadderRow& r) { return t < r.t; })
                                 : rows.end();
        rows.insert(place, row);
    }
}

// Past kHeadEntries + kTailEntries entries, the middle becomes one cut row; the failures in it
// are kept, right after the cut.
std::vector<LadderRow> cut_middle(const std::vector<LadderRow>& rows) {
    const auto entries = static_cast<size_t>(std::count_if(
        rows.begin(), rows.end(), [](const LadderRow& r) { return r.kind != LadderRow::Kind::failure; }));
    if (entries <= kHeadEntries + kTailEntries) return rows;
    std::vector<LadderRow> out, held;
    size_t index = 0;  // of the entry, failures not counted
    const size_t tail_start = entries - kTailEntries;
    for (const LadderRow& row : rows) {
        const bool failure = row.kind == LadderRow::Kind::failure;
        const bool in_middle = index >= kHeadEntries && index < tail_start;
        if (!failure && index == tail_start) {
            LadderRow cut;
            cut.kind = LadderRow::Kind::cut;
            cut.t = row.t;
            cut.left_out = tail_start - kHeadEntries;
            out.push_back(cut);
            out.insert(out.end(), held.begin(), held.end());
            held.clear();
        }
        if (in_middle && failure) held.push_back(row);
        else if (!in_middle) out.push_back(row);
        if (!failure) ++index;
    }
    return out;
}

// A gap row before a row that follows more than kSilentGap seconds of silence.
std::vector<LadderRow> with_gaps(const std::vector<LadderRow>& rows) {
    std::vector<LadderRow> out;
    std::optional<double> previous;
    for (const LadderRow& row : rows) {
        if (row.kind == LadderRow::Kind::cut) {
            out.push_back(row);
            previous.reset();  // the time across a cut is not silence
            continue;
        }
        if (previous && row.t - *previous > kSilentGap) {
            LadderRow gap;
            gap.kind = LadderRow::Kind::gap;
            gap.t = row.t;
            gap.gap_s = row.t - *previous;
            out.push_back(gap);
        }
        previous = row.t;
        out.push_back(row);
    }
    return out;
}

}  // namespace

std::vector<LadderRow> ladder_rows(const json& report) {
    std::vector<LadderRow> rows = timeline_rows(report);
    add_failures(report, rows);
    return with_gaps(cut_middle(rows));
}

SocketsSummary sockets_summary(const json& sockets) {
    SocketsSummary summary;
    std::map<std::string, int> counts;
    if (!sockets.is_array()) return summary;
    for (const json& s : sockets) {
        if (text_field(s, "state") == "LISTEN")
            summary.listeners.push_back("LISTEN :" + text_field(s, "sport") + " recv_q=" + text_field(s, "recv_q") +
                                        " send_q=" + text_field(s, "send_q"));
        else
            ++counts[socket_state_label(s)];
    }
    for (const auto& [state, n] : counts) summary.counts.push_back(std::to_string(n) + " " + state);
    return summary;
}

// ---------------------------------------------------------------------------------------------
// The SVG

namespace {

// Layout in pixels. All text is monospace, so its width is known without a font: DejaVu Sans
// Mono's advance is 0.602 em. Rows have a fixed height whatever the time between them (gaps are
// compressed to a row of their own), so a run of 200 events is 200 readable rows.
constexpr int kSvgWidth = 1160;
constexpr int kTimeRight = 62;       // time labels end here
constexpr int kOuterLeft = 74;       // client texts start no further left
constexpr int kClientX = 400;        // the lifelines
constexpr int kServerX = 800;
constexpr int kOuterGap = 10;        // between a lifeline and the text on its outer side
constexpr int kHeaderHeight = 92;
constexpr int kRowHeight = 20;
constexpr int kGapHeight = 30;
constexpr int kLineHeight = 14;      // a checkpoint's census lines
constexpr int kLegendHeight = 34;
constexpr double kCharWidth = 0.602 * 12;       // 12 px text
constexpr double kSmallCharWidth = 0.602 * 11;  // 11 px text

size_t chars_in(int pixels, double char_width) { return static_cast<size_t>(pixels / char_width); }

const size_t kClientChars = chars_in(kClientX - kOuterGap - kOuterLeft, kCharWidth);
const size_t kServerChars = chars_in(kSvgWidth - 8 - kServerX - kOuterGap, kCharWidth);
const size_t kArrowChars = chars_in(kServerX - kClientX - 16, kSmallCharWidth);

const char* kStyle =
    ".ladder text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px;fill:#222}"
    ".ladder .small{font-size:11px}"
    ".ladder .title{font-size:15px;font-weight:bold}"
    ".ladder .host{font-size:13px;font-weight:bold}"
    ".ladder .time{font-size:11px;fill:#777}"
    ".ladder .lifeline{stroke:#444;stroke-width:2}"
    ".ladder .lifeline.compressed{stroke-dasharray:2 4;stroke:#999}"
    ".ladder .hostbox{fill:#f3f5f8;stroke:#444;stroke-width:1.5}"
    ".ladder .packet line{stroke:#1f4e9c;stroke-width:1.6}"
    ".ladder .packet text{fill:#1f4e9c}"
    ".ladder .packet.rtx line{stroke:#d97706;stroke-dasharray:7 4}"
    ".ladder .packet.rtx text{fill:#b45309;font-weight:bold}"
    ".ladder .packet.reset line{stroke:#c62828}"
    ".ladder .packet.reset text{fill:#c62828;font-weight:bold}"
    ".ladder .state rect{fill:#e8f5e9;stroke:#2e7d32}"
    ".ladder .state text{fill:#1b5e20}"
    ".ladder .snapshot rect{fill:#f3e5f5;stroke:#7b1fa2;stroke-dasharray:4 2}"
    ".ladder .snapshot text{fill:#4a148c}"
    ".ladder .call.error text,.ladder .exit.error text{fill:#c62828;font-weight:bold}"
    ".ladder .exit text{font-weight:bold}"
    ".ladder .mark text,.ladder .step text,.ladder .output text{fill:#666;font-style:italic}"
    ".ladder .retransmit text{fill:#b45309}"
    ".ladder .reset text{fill:#c62828}"
    ".ladder .checkpoint line{stroke:#555;stroke-dasharray:6 4}"
    ".ladder .checkpoint .name{font-weight:bold;fill:#333}"
    ".ladder .checkpoint .census{fill:#555}"
    ".ladder .gap text,.ladder .cut text{fill:#666;font-style:italic}"
    ".ladder .gap rect,.ladder .cut rect{fill:#f4f4f4}"
    ".ladder .failure rect{fill:#fdecea}"
    ".ladder .failure line{stroke:#c62828;stroke-width:2}"
    ".ladder .failure text{fill:#c62828;font-weight:bold}";

// Arrowheads, one per packet colour (a marker cannot take its line's colour in SVG 1.1).
std::string arrowhead(const char* id, const char* colour) {
    return std::string("<marker id=\"") + id +
           "\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" "
           "orient=\"auto\" markerUnits=\"userSpaceOnUse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"" +
           colour + "\"/></marker>";
}

std::string attr_text(const char* name, const std::string& value) { return std::string(" ") + name + "=\"" + value + "\""; }

std::string text_element(int x, int y, const char* anchor, const std::string& cls, const std::string& content) {
    std::string out = "<text" + attr_text("x", std::to_string(x)) + attr_text("y", std::to_string(y));
    if (std::string(anchor) != "start") out += attr_text("text-anchor", anchor);
    if (!cls.empty()) out += attr_text("class", cls);
    return out + ">" + xml_escape(content) + "</text>";
}

std::string line_element(int x1, int y1, int x2, int y2, const std::string& extra = "") {
    return "<line" + attr_text("x1", std::to_string(x1)) + attr_text("y1", std::to_string(y1)) +
           attr_text("x2", std::to_string(x2)) + attr_text("y2", std::to_string(y2)) + extra + "/>";
}

std::string rect_element(int x, int y, int width, int height, const std::string& extra = "") {
    return "<rect" + attr_text("x", std::to_string(x)) + attr_text("y", std::to_string(y)) +
           attr_text("width", std::to_string(width)) + attr_text("height", std::to_string(height)) + extra + "/>";
}

// A tooltip: the full text, where the picture had to cut it.
std::string title_element(const std::string& text) { return "<title>" + xml_escape(text) + "</title>"; }

int text_width(const std::string& text, double char_width) {
    return static_cast<int>(static_cast<double>(columns(printable(text))) * char_width + 0.5);
}

// Parts joined with `separator` into lines of at most `width` columns (a part too long is cut).
std::vector<std::string> pack(const std::vector<std::string>& parts, const std::string& separator, size_t width) {
    std::vector<std::string> lines;
    std::string line;
    for (const auto& part : parts) {
        if (!line.empty() && columns(line) + columns(separator) + columns(part) > width) {
            lines.push_back(line);
            line.clear();
        }
        line += (line.empty() ? "" : separator) + part;
    }
    if (!line.empty()) lines.push_back(line);
    for (auto& l : lines) l = fit(l, width);
    return lines;
}

// "client: LISTEN :8080 recv_q=6 send_q=5" and so on, as lines that fit the side's outer column.
std::vector<std::string> census_lines(const json& checkpoint, const std::string& side, size_t width) {
    const json& sockets = object_field(checkpoint, "sockets");
    if (!sockets.contains(side)) return {};
    const SocketsSummary summary = sockets_summary(sockets[side]);
    std::vector<std::string> parts = summary.listeners;
    parts.insert(parts.end(), summary.counts.begin(), summary.counts.end());
    if (parts.empty()) parts.push_back("no sockets");
    parts.front() = side + ": " + parts.front();
    return pack(parts, ", ", width);
}

int row_height(const LadderRow& row) {
    switch (row.kind) {
        case LadderRow::Kind::gap:
        case LadderRow::Kind::cut: return kGapHeight;
        case LadderRow::Kind::checkpoint: {
            const json none = json::object();
            const json& cp = row.checkpoint ? *row.checkpoint : none;
            const size_t lines = std::max(census_lines(cp, "client", kClientChars).size(),
                                          census_lines(cp, "server", kServerChars).size());
            return 24 + kLineHeight * static_cast<int>(lines);
        }
        case LadderRow::Kind::failure: return 24;
        case LadderRow::Kind::entry: break;
    }
    return kRowHeight;
}

std::string packet_svg(const LadderRow& row, int top) {
    const int from = row.to_server ? kClientX : kServerX, to = row.to_server ? kServerX : kClientX;
    std::string cls = "packet";
    const char* marker = "url(#sl-arrow)";
    if (row.rtx) cls += " rtx", marker = "url(#sl-arrow-rtx)";
    if (row.reset) cls += " reset", marker = "url(#sl-arrow-reset)";
    // Time runs downwards, so the arrow slopes down a little from sender to receiver.
    std::string out = "<g class=\"" + cls + "\">" + title_element(fixed_text(row.t, 6) + " s  " + row.text);
    out += line_element(from, top + 12, to + (row.to_server ? -1 : 1), top + 18,
                        attr_text("marker-end", marker));
    out += text_element((kClientX + kServerX) / 2, top + 10, "middle", "small", fit(row.text, kArrowChars));
    return out + "</g>";
}

std::string state_svg(const LadderRow& row, int top) {
    const int x = row.side == "client" ? kClientX : kServerX;
    // "[SYN_SENT -> ESTABLISHED] :40012" reads as "SYN_SENT → ESTABLISHED :40012" in a box.
    std::string label = row.text;
    if (label.starts_with("[")) label.erase(0, 1);
    if (const auto close = label.find(']'); close != std::string::npos) label.erase(close, 1);
    if (const auto arrow = label.find(" -> "); arrow != std::string::npos) label.replace(arrow, 4, " → ");
    label = fit(label, 2 * kClientChars);
    const int width = text_width(label, kSmallCharWidth) + 12;
    std::string out = "<g class=\"" + row.what + "\">" + title_element(fixed_text(row.t, 6) + " s  " + row.text);
    out += rect_element(x - width / 2, top + 2, width, 16, attr_text("rx", "3"));
    out += text_element(x, top + 14, "middle", "small", label);
    return out + "</g>";
}

// Calls, marks, steps, output, exits, traced retransmits and resets: at the outer side of their
// program's lifeline (left of the client's, right of the server's).
std::string side_text_svg(const LadderRow& row, int top) {
    std::string cls = row.what + (row.error ? " error" : "");
    std::string out = "<g class=\"" + cls + "\">" + title_element(fixed_text(row.t, 6) + " s  " + row.text);
    if (row.side == "client")
        out += text_element(kClientX - kOuterGap, top + 14, "end", "", fit(row.text, kClientChars));
    else if (row.side == "server")
        out += text_element(kServerX + kOuterGap, top + 14, "start", "", fit(row.text, kServerChars));
    else  // a socket of neither side
        out += text_element((kClientX + kServerX) / 2, top + 14, "middle", "", fit(row.text, kArrowChars));
    return out + "</g>";
}

std::string checkpoint_svg(const LadderRow& row, int top) {
    std::string out = "<g class=\"checkpoint\">";
    out += line_element(kTimeRight + 6, top + 10, kSvgWidth - 6, top + 10);
    const std::string name = "checkpoint " + row.text;
    const int width = text_width(name, kCharWidth) + 16;
    const int middle = (kClientX + kServerX) / 2;
    out += rect_element(middle - width / 2, top + 2, width, 16, attr_text("fill", "#ffffff"));
    out += text_element(middle, top + 14, "middle", "name", name);
    if (row.checkpoint) {
        int y = top + 22 + kLineHeight - 3;
        for (const auto& l : census_lines(*row.checkpoint, "client", kClientChars))
            out += text_element(kClientX - kOuterGap, y, "end", "census small", l), y += kLineHeight;
        y = top + 22 + kLineHeight - 3;
        for (const auto& l : census_lines(*row.checkpoint, "server", kServerChars))
            out += text_element(kServerX + kOuterGap, y, "start", "census small", l), y += kLineHeight;
    }
    return out + "</g>";
}

std::string failure_svg(const LadderRow& row, int top) {
    std::string detail;
    if (row.expectation) {
        const json& e = *row.expectation;
        detail = "expected: " + text_field(e, "expected") + ", observed: " + text_field(e, "observed");
        if (const std::string why = text_field(e, "why"); !why.empty()) detail += "; why: " + why;
    }
    std::string out = "<g class=\"failure\">" + title_element("FAILED: " + row.text + "\n" + detail);
    out += rect_element(kTimeRight + 4, top + 2, kSvgWidth - kTimeRight - 8, 20);
    out += line_element(kTimeRight + 4, top + 2, kTimeRight + 4, top + 22);
    const std::string text = "✗ FAILED: " + row.text + (detail.empty() ? "" : "  (" + detail + ")");
    out += text_element(kTimeRight + 12, top + 16, "start", "", fit(text, chars_in(kSvgWidth - kTimeRight - 24, kCharWidth)));
    return out + "</g>";
}

std::string gap_svg(const LadderRow& row, int top) {
    const bool cut = row.kind == LadderRow::Kind::cut;
    std::string out = std::string("<g class=\"") + (cut ? "cut" : "gap") + "\">";
    out += rect_element(kTimeRight + 4, top + 4, kSvgWidth - kTimeRight - 8, kGapHeight - 8);
    const std::string text = cut ? "⋯ " + std::to_string(row.left_out) + " entries left out (report.json has them all)"
                                 : "⋯ " + fixed_text(row.gap_s, 2) + " s with nothing happening";
    out += text_element((kClientX + kServerX) / 2, top + 19, "middle", "", text);
    return out + "</g>";
}

std::string row_svg(const LadderRow& row, int top) {
    switch (row.kind) {
        case LadderRow::Kind::gap:
        case LadderRow::Kind::cut: return gap_svg(row, top);
        case LadderRow::Kind::checkpoint: return checkpoint_svg(row, top);
        case LadderRow::Kind::failure: return failure_svg(row, top);
        case LadderRow::Kind::entry: break;
    }
    if (row.what == "packet") return packet_svg(row, top);
    if (row.what == "state" || row.what == "snapshot") return state_svg(row, top);
    return side_text_svg(row, top);
}

// The lifelines, solid where time runs at the rows' pace and dotted across compressed gaps.
std::string lifelines_svg(const std::vector<LadderRow>& rows, const std::vector<int>& tops, int bottom) {
    std::string out;
    auto segment = [&](int from, int to, bool compressed) {
        for (int x : {kClientX, kServerX})
            out += line_element(x, from, x, to, attr_text("class", compressed ? "lifeline compressed" : "lifeline"));
    };
    int start = kHeaderHeight - 12;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].kind != LadderRow::Kind::gap && rows[i].kind != LadderRow::Kind::cut) continue;
        segment(start, tops[i], false);
        segment(tops[i], tops[i] + kGapHeight, true);
        start = tops[i] + kGapHeight;
    }
    segment(start, bottom, false);
    return out;
}

std::string host_box(int x, const std::string& name, const std::string& address) {
    std::string out = rect_element(x - 100, 34, 200, 46, attr_text("rx", "5") + attr_text("class", "hostbox"));
    out += text_element(x, 53, "middle", "host", name);
    out += text_element(x, 71, "middle", "", address.empty() ? "(address unknown)" : address);
    return out;
}

std::string header_svg(const json& report) {
    const json& summary = object_field(report, "summary");
    std::string title = text_field(report, "scenario", "?") + " / " + text_field(report, "variant", "?");
    std::string out = text_element(8, 20, "start", "title", title);
    const std::string counts = text_field(summary, "passed", "0") + " passed, " + text_field(summary, "failed", "0") +
                               " failed, " + text_field(summary, "skipped", "0") + " skipped";
    const bool failed = number_field(summary, "failed") > 0;
    out += "<text x=\"" + std::to_string(kSvgWidth - 8) + "\" y=\"20\" text-anchor=\"end\" style=\"fill:" +
           (failed ? "#c62828" : "#2e7d32") + ";font-weight:bold\">" + xml_escape(counts) + "</text>";
    const json& addresses = object_field(report, "addresses");
    out += host_box(kClientX, "client", text_field(addresses, "client"));
    out += host_box(kServerX, "server", text_field(addresses, "server"));
    out += text_element(kTimeRight, 71, "end", "time", "t (s)");
    return out;
}

std::string legend_svg(int top) {
    std::string out = "<g class=\"legend\">";
    int x = kTimeRight + 6;
    const int y = top + 20;
    auto item = [&](const std::string& cls, const std::string& sample, const std::string& meaning) {
        out += "<g class=\"sample " + cls + "\">";  // styled like the real thing, counted apart from it
        out += text_element(x, y, "start", "small", sample);
        out += "</g>";
        x += text_width(sample, kSmallCharWidth) + 6;
        out += text_element(x, y, "start", "small time", meaning);
        x += text_width(meaning, kSmallCharWidth) + 18;
    };
    item("packet", "S seq=0 ──▶", "packet (tcpdump flags, relative seq/ack)");
    item("packet rtx", "(rtx) ╌╌▶", "retransmission");
    item("state", "[A → B]", "state (tracepoint)");
    item("snapshot", "[A → B]", "state seen by sock_diag");
    item("failure", "✗", "failed expectation");
    return out + "</g>";
}

}  // namespace

std::string render_svg(const json& report) {
    const std::vector<LadderRow> rows = ladder_rows(report);
    std::vector<int> tops;
    int y = kHeaderHeight;
    for (const auto& row : rows) {
        tops.push_back(y);
        y += row_height(row);
    }
    const int bottom = y + 8;
    const int height = bottom + kLegendHeight;

    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" id=\"ladder\" width=\"" +
                      std::to_string(kSvgWidth) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
                      std::to_string(kSvgWidth) + " " + std::to_string(height) + "\">\n";
    out += title_element("Ladder diagram of " + text_field(report, "scenario") + " / " + text_field(report, "variant") +
                         ": client left, server right, time downwards") + "\n";
    out += "<style>" + std::string(kStyle) + "</style>\n";
    out += "<defs>" + arrowhead("sl-arrow", "#1f4e9c") + arrowhead("sl-arrow-rtx", "#d97706") +
           arrowhead("sl-arrow-reset", "#c62828") + "</defs>\n";
    out += rect_element(0, 0, kSvgWidth, height, attr_text("fill", "#ffffff")) + "\n";
    out += header_svg(report) + "\n";
    out += lifelines_svg(rows, tops, bottom) + "\n";

    std::string last_time;  // a time is written once for the rows that share it
    for (size_t i = 0; i < rows.size(); ++i) {
        const LadderRow& row = rows[i];
        if (row.kind == LadderRow::Kind::gap || row.kind == LadderRow::Kind::cut) {
            last_time.clear();
        } else if (const std::string time = fixed_text(row.t, 3); time != last_time) {
            out += text_element(kTimeRight, tops[i] + 14, "end", "time", time);
            last_time = time;
        }
        out += row_svg(row, tops[i]) + "\n";
    }
    out += legend_svg(bottom) + "\n";
    return out + "</svg>\n";
}

}  // namespace socklab
