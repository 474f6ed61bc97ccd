#include "report/svg.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "report/ladder.hpp"
#include "report/text.hpp"

namespace socklab {

using nlohmann::json;

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

const char* kSvgStyle =
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
    ".ladder .state.inferred rect{fill:#ffffff;stroke:#2e7d32;stroke-dasharray:3 2}"
    ".ladder .state.inferred text{font-style:italic}"
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
    const std::string cls = row.what + (row.inferred ? " inferred" : "");
    std::string out = "<g class=\"" + cls + "\">" +
                      title_element(fixed_text(row.t, 6) + " s  " + row.text + (row.inferred ? " (inferred)" : ""));
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
    const std::string text = cut ? "⋯ " + std::to_string(row.left_out) +
                                       (row.what == "cut" ? " segments left out (the capture has them all)"
                                                          : " entries left out (report.json has them all)")
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
    // A capture has no expectations: its header says where its states come from instead.
    const bool capture = report.contains("capture");
    const std::string counts = capture ? "states inferred from the capture"
                                       : text_field(summary, "passed", "0") + " passed, " + text_field(summary, "failed", "0") +
                                             " failed, " + text_field(summary, "skipped", "0") + " skipped";
    const bool failed = number_field(summary, "failed") > 0;
    out += "<text x=\"" + std::to_string(kSvgWidth - 8) + "\" y=\"20\" text-anchor=\"end\" style=\"fill:" +
           (failed ? "#c62828" : "#2e7d32") + ";font-weight:bold\">" + xml_escape(counts) + "</text>";
    const json& addresses = object_field(report, "addresses");
    const json& names = object_field(report, "names");
    out += host_box(kClientX, text_field(names, "client", "client"), text_field(addresses, "client"));
    out += host_box(kServerX, text_field(names, "server", "server"), text_field(addresses, "server"));
    out += text_element(kTimeRight, 71, "end", "time", "t (s)");
    return out;
}

std::string legend_svg(int top, bool capture) {
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
    if (capture) {  // nothing of a capture's came from a kernel
        item("packet reset", "R ──▶", "reset");
        item("state inferred", "[A → B]", "state inferred from the capture (RFC 9293)");
        return out + "</g>";
    }
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

    const bool capture = report.contains("capture");
    // A capture's page holds several diagrams: each names its connection, and says how many
    // arrows it should have (the HTML check counts them).
    const std::string id = capture ? "ladder-" + text_field(object_field(report, "capture"), "stream") : "ladder";
    const std::string extra = capture ? " data-packets=\"" + std::to_string(array_field(report, "packets").size()) + "\"" : "";
    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" id=\"" + id + "\"" + extra + " width=\"" +
                      std::to_string(kSvgWidth) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
                      std::to_string(kSvgWidth) + " " + std::to_string(height) + "\">\n";
    out += title_element("Ladder diagram of " + text_field(report, "scenario") + " / " + text_field(report, "variant") +
                         (capture ? ": time downwards, states inferred from the capture"
                                  : ": client left, server right, time downwards")) + "\n";
    out += "<style>" + std::string(kSvgStyle) + "</style>\n";
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
    out += legend_svg(bottom, capture) + "\n";
    return out + "</svg>\n";
}

}  // namespace socklab
