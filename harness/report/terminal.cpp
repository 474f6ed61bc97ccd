#include "report/terminal.hpp"

#include <algorithm>
#include <cstdio>

#include "report/ladder.hpp"
#include "report/text.hpp"

namespace socklab {

using nlohmann::json;

namespace {

// Layout, in columns (code points, since the arrows are drawn with box-drawing characters):
// time 0-6, client text from 8, packets 37-72, server text from 74, nothing past 100. Each
// row of the ladder gets a line of its own, so a long text may run into an empty neighbour column.
constexpr size_t kWidth = 100;
constexpr size_t kTimeWidth = 7;
constexpr size_t kClientColumn = 8;
constexpr size_t kMiddleColumn = 37;
constexpr size_t kMiddleWidth = 36;
constexpr size_t kServerColumn = 74;

const std::string kRule = "─";

std::string repeat(const std::string& piece, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += piece;
    return out;
}

class Style {
public:
    explicit Style(bool color) : color_(color) {}
    std::string dim(const std::string& s) const { return paint(s, "2"); }
    std::string bold(const std::string& s) const { return paint(s, "1"); }
    std::string green(const std::string& s) const { return paint(s, "32"); }
    std::string red(const std::string& s) const { return paint(s, "31"); }
    std::string yellow(const std::string& s) const { return paint(s, "33"); }
    std::string italic(const std::string& s) const { return paint(s, "3"); }

private:
    bool color_;
    std::string paint(const std::string& s, const char* code) const {
        return color_ ? "\x1b[" + std::string(code) + "m" + s + "\x1b[0m" : s;
    }
};

// Words of `text` on lines of at most kWidth columns, the first line after `first`, the others
// after as many spaces; a word too long for a line is cut.
std::vector<std::string> wrap(const std::string& text, const std::string& first) {
    const std::string indent(columns(first), ' ');
    const size_t room = kWidth - indent.size();
    std::vector<std::string> lines;
    std::string line;
    auto flush = [&] {
        lines.push_back((lines.empty() ? first : indent) + line);
        line.clear();
    };
    size_t start = 0;
    const std::string clean = printable(text);
    while (start <= clean.size()) {
        size_t end = clean.find(' ', start);
        if (end == std::string::npos) end = clean.size();
        std::string word = clean.substr(start, end - start);
        start = end + 1;
        if (word.empty()) continue;
        if (!line.empty() && columns(line) + 1 + columns(word) > room) flush();
        while (columns(word) > room) {  // only when the word alone is wider than a line
            if (!line.empty()) flush();
            line = first_columns(word, room);
            word = word.substr(line.size());
            flush();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty() || lines.empty()) flush();
    return lines;
}

// A line of the timeline: the time, then `text` from column `column`, moved left if it would
// pass the right edge (never into the time column); in red when `alarm`.
std::string timeline_line(const Style& style, double t, const std::string& text, size_t column, bool alarm = false) {
    char time[32];
    std::snprintf(time, sizeof time, "%*.3f", static_cast<int>(kTimeWidth), t);
    const std::string shown = fit(text, kWidth - kClientColumn);
    const size_t width = columns(shown);
    column = std::max(kClientColumn, std::min(column, kWidth - width));
    return style.dim(time) + std::string(column - kTimeWidth, ' ') + (alarm ? style.red(shown) : shown);
}

// Client to server: "──S seq=0 :40012──────>", server to client: "<──S. seq=0 ack=1 :40012───".
std::string arrow(const std::string& label, bool to_server) {
    const size_t used = columns(label) + 3;  // "──" and ">", or "<──"
    const std::string fill = repeat(kRule, used < kMiddleWidth ? kMiddleWidth - used : 1);
    return to_server ? kRule + kRule + label + fill + ">" : "<" + kRule + kRule + label + fill;
}

// An inferred state is written "≈[A -> B]" (in italics with colour), a state a kernel reported "[A -> B]".
constexpr const char* kInferredMark = "≈";

std::string entry_line(const Style& style, const LadderRow& row) {
    if (row.what == "packet") return timeline_line(style, row.t, arrow(row.text, row.to_server), kMiddleColumn);
    if (row.inferred) {
        LadderRow marked = row;
        marked.text = kInferredMark + row.text;
        marked.inferred = false;
        const std::string line = entry_line(style, marked);
        // Only the text after the time is italic; the time keeps its dim look.
        const size_t text_at = line.find(kInferredMark);
        return line.substr(0, text_at) + style.italic(line.substr(text_at));
    }
    if (row.side == "client") return timeline_line(style, row.t, row.text, kClientColumn);
    if (row.side == "server") return timeline_line(style, row.t, row.text, kServerColumn);
    return timeline_line(style, row.t, row.text, kMiddleColumn);  // a socket of neither side
}

// "server: LISTEN :8080 recv_q=2 send_q=2; 2 ESTABLISHED, 1 SYN_RECV".
std::string sockets_line(const std::string& side, const json& sockets) {
    const SocketsSummary summary = sockets_summary(sockets);
    std::string text;
    for (const auto& l : summary.listeners) text += (text.empty() ? "" : "; ") + l;
    std::string others;
    for (const auto& c : summary.counts) others += (others.empty() ? "" : ", ") + c;
    if (!others.empty()) text += (text.empty() ? "" : "; ") + others;
    return side + ": " + (text.empty() ? "no sockets" : text);
}

// "  1.003 ── checkpoint queue_full ─────..." across the line, then one line per side.
void render_checkpoint(std::string& out, const Style& style, const LadderRow& row) {
    const std::string title = kRule + kRule + " checkpoint " + row.text + " ";
    const std::string head = fit(title, kWidth - kClientColumn);
    std::string line = timeline_line(style, row.t, head + repeat(kRule, kWidth - kClientColumn - columns(head)),
                                      kClientColumn);
    out += style.bold(line) + "\n";
    if (!row.checkpoint) return;
    for (const auto& [side, sockets] : object_field(*row.checkpoint, "sockets").items())
        out += std::string(kClientColumn, ' ') + fit(sockets_line(side, sockets), kWidth - kClientColumn) + "\n";
}

// A connection of a capture (socklab ladder): its file, endpoints and notes; there is no run.
void render_capture_header(std::string& out, const Style& style, const json& report) {
    const json& capture = object_field(report, "capture");
    out += style.bold(fit("socklab ladder  " + text_field(report, "scenario") + " / " + text_field(report, "variant"),
                          kWidth)) + "\n";
    for (const auto& l : wrap(text_field(report, "title") + ", " + fixed_text(number_field(report, "duration_s"), 3) +
                                  " s, " + text_field(capture, "packets_total") + " packets",
                              "  "))
        out += l + "\n";
    const json& names = object_field(report, "names");
    const json& addresses = object_field(report, "addresses");
    for (const auto& l : wrap("left " + text_field(names, "client") + " " + text_field(addresses, "client") + ", right " +
                                  text_field(names, "server") + " " + text_field(addresses, "server") + "; link type " +
                                  text_field(capture, "link_type"),
                              "  "))
        out += l + "\n";
    for (const auto& note : array_field(report, "notes"))
        for (const auto& l : wrap(scalar_text(note), "  note: ")) out += l + "\n";
}

void render_header(std::string& out, const Style& style, const json& report) {
    if (report.contains("capture")) return render_capture_header(out, style, report);
    out += style.bold(fit("socklab  " + text_field(report, "scenario") + " / " + text_field(report, "variant"), kWidth)) +
           "\n";
    if (const auto title = text_field(report, "title"); !title.empty())
        for (const auto& l : wrap(title, "  ")) out += l + "\n";
    if (const auto blog = text_field(report, "blog_section"); !blog.empty())
        for (const auto& l : wrap(blog, "  blog: ")) out += l + "\n";
    std::string run_line = "kernel " + text_field(report, "kernel");
    if (const auto id = text_field(report, "run_id"); !id.empty()) run_line += ", run " + id;
    if (const auto started = text_field(report, "started_utc"); !started.empty()) run_line += ", started " + started;
    run_line += ", took " + fixed_text(number_field(report, "duration_s"), 2) + "s";
    for (const auto& l : wrap(run_line, "  ")) out += l + "\n";
    for (const auto& l : wrap(hosts_text(report), "  ")) out += l + "\n";
    std::string params;
    for (const auto& [name, value] : object_field(report, "params").items())
        params += (params.empty() ? "" : ", ") + name + "=" + (value.is_number() ? number_text(value.get<double>())
                                                                                 : scalar_text(value));
    if (!params.empty()) for (const auto& l : wrap(params, "  parameters: ")) out += l + "\n";
    for (const auto& note : array_field(report, "notes"))
        for (const auto& l : wrap(scalar_text(note), "  note: ")) out += l + "\n";
    if (const auto pcap = text_field(report, "pcap"); !pcap.empty())
        for (const auto& l : wrap(pcap, "  pcap: ")) out += l + "\n";
}

std::string column_titles(const json& report) {
    const json& names = object_field(report, "names");
    std::string line = "   time";
    line += std::string(kClientColumn - columns(line), ' ') + text_field(names, "client", "client");
    line += std::string(kMiddleColumn - columns(line), ' ') + "packets";
    line += std::string(kServerColumn - columns(line), ' ') + text_field(names, "server", "server");
    return line;
}

void render_timeline(std::string& out, const Style& style, const json& report) {
    for (const LadderRow& row : ladder_rows(report)) {
        switch (row.kind) {
            case LadderRow::Kind::gap: {
                char gap[48];
                std::snprintf(gap, sizeof gap, "%*s  (%.2f s)", static_cast<int>(kTimeWidth), "...", row.gap_s);
                out += style.dim(gap) + "\n";
                break;
            }
            case LadderRow::Kind::cut:
                out += style.dim(fit("    ...  " + std::to_string(row.left_out) + " entries left out", kWidth)) + "\n";
                break;
            case LadderRow::Kind::checkpoint: render_checkpoint(out, style, row); break;
            case LadderRow::Kind::failure:
                out += timeline_line(style, row.t, "✗ FAILED: " + row.text, kClientColumn, true) + "\n";
                break;
            case LadderRow::Kind::entry: out += entry_line(style, row) + "\n"; break;
        }
    }
}

void render_expectations(std::string& out, const Style& style, const json& expectations) {
    if (expectations.empty()) return;
    out += style.bold("expectations") + "\n";
    const std::string detail = "        ";  // under the text, past "  PASS  "
    for (const auto& e : expectations) {
        const bool skipped = bool_field(e, "skipped"), passed = bool_field(e, "passed");
        const std::string label = skipped ? "SKIP" : passed ? "PASS" : "FAIL";
        const std::string painted = skipped ? style.yellow(label) : passed ? style.green(label) : style.red(label);
        std::vector<std::string> lines = wrap(text_field(e, "text"), "  " + label + "  ");
        // Paint only the label; the columns were counted on the plain text.
        lines.front().replace(2, label.size(), painted);
        for (const auto& l : lines) out += l + "\n";
        const std::string expected = text_field(e, "expected"), observed = text_field(e, "observed");
        if (skipped) {
            if (!observed.empty())
                for (const auto& l : wrap(observed, detail)) out += l + "\n";
            continue;
        }
        if (passed) {  // the values the formulas came to, so a pass teaches something too
            for (const auto& l : wrap(expected, detail + "= ")) out += style.dim(l) + "\n";
            continue;
        }
        std::string evidence = "expected: " + expected + ", observed: " + observed;
        if (const auto at = e.find("at"); at != e.end() && at->is_number())
            evidence += " (at " + fixed_text(at->get<double>(), 3) + " s)";
        for (const auto& l : wrap(evidence, detail)) out += l + "\n";
        if (const auto why = text_field(e, "why"); !why.empty())
            for (const auto& l : wrap(why, detail + "why: ")) out += l + "\n";
    }
}

}  // namespace

std::string render_terminal(const json& report, bool color) {
    const Style style(color);
    std::string out;
    render_header(out, style, report);
    out += "\n" + style.bold(column_titles(report)) + "\n";
    render_timeline(out, style, report);
    out += "\n";
    if (report.contains("capture")) {  // no expectations: the states it ends in, as inferred
        const json& final_states = object_field(object_field(report, "capture"), "final");
        const json& names = object_field(report, "names");
        out += "final states (inferred): " + text_field(names, "client", "client") + " " +
               text_field(final_states, "client") + ", " + text_field(names, "server", "server") + " " +
               text_field(final_states, "server") + "\n";
        return out;
    }
    const json& expectations = array_field(report, "expectations");
    render_expectations(out, style, expectations);
    const Tally t = tally(expectations);
    const std::string summary = std::to_string(t.passed) + " passed, " + std::to_string(t.failed) + " failed, " +
                                std::to_string(t.skipped) + " skipped";
    out += (t.failed > 0 ? style.red(summary) : style.green(summary)) + "\n";
    return out;
}

std::string render_terminal(const RunInfo& run, const Observations& seen, const std::vector<Outcome>& outcomes,
                            bool color) {
    return render_terminal(report_json(run, seen, outcomes), color);
}

}  // namespace socklab
