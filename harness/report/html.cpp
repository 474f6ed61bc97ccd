#include "report/html.hpp"

#include <set>
#include <vector>

#include "common/common.hpp"
#include "report/svg.hpp"
#include "report/text.hpp"

namespace socklab {

using nlohmann::json;

namespace {

const char* kPageStyle = R"(
body { font-family: 'DejaVu Sans', 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 15px; color: #222;
       max-width: 1240px; margin: 0 auto; padding: 16px 20px 40px; line-height: 1.4; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 2px solid #ddd; padding-bottom: 3px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.subtitle { font-size: 17px; margin: 0 0 6px; }
.meta { color: #555; margin: 2px 0; }
.verdict { display: inline-block; font-weight: bold; padding: 3px 10px; border-radius: 4px; margin: 6px 0; }
.verdict.ok { background: #e8f5e9; color: #1b5e20; }
.verdict.bad { background: #fdecea; color: #b71c1c; }
nav a { margin-right: 14px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f5; }
td.num { white-space: nowrap; text-align: right; font-family: 'DejaVu Sans Mono', monospace; }
code, .mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 13px; }
tr.FAIL td { background: #fdecea; }
.badge { font-weight: bold; padding: 1px 6px; border-radius: 3px; color: #fff; font-size: 13px; }
.badge.PASS { background: #2e7d32; } .badge.FAIL { background: #c62828; } .badge.SKIP { background: #b26a00; }
.where { color: #777; font-size: 12px; }
.differs td { background: #fff8e1; }
.figure { overflow-x: auto; border: 1px solid #ddd; margin: 8px 0; }
.figure svg { display: block; }
ul.howto { margin: 4px 0 8px; padding-left: 22px; }
)";

std::string h(const std::string& text) { return xml_escape(text); }

std::string cell(const std::string& text, const std::string& cls = "") {
    return "<td" + (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + h(text) + "</td>";
}

std::string header_cells(const std::vector<std::string>& names) {
    std::string out = "<tr>";
    for (const auto& n : names) out += "<th>" + h(n) + "</th>";
    return out + "</tr>";
}

std::string seconds(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_number() ? fixed_text(it->get<double>(), 3) + " s" : "";
}

std::string value_text(const json& value) {
    return value.is_number() ? number_text(value.get<double>()) : scalar_text(value);
}

std::string summary_text(const json& report) {
    const json& s = object_field(report, "summary");
    return text_field(s, "passed", "0") + " passed, " + text_field(s, "failed", "0") + " failed, " +
           text_field(s, "skipped", "0") + " skipped";
}

std::string page_header(const json& report) {
    const std::string name = text_field(report, "scenario") + " / " + text_field(report, "variant");
    std::string out = "<header>\n<h1>" + h(name) + "</h1>\n";
    if (const auto title = text_field(report, "title"); !title.empty())
        out += "<p class=\"subtitle\">" + h(title) + "</p>\n";
    std::string meta;
    if (const auto blog = text_field(report, "blog_section"); !blog.empty()) meta += "blog section " + blog + " · ";
    meta += "kernel " + text_field(report, "kernel") + " · run " + text_field(report, "run_id") + " · started " +
            text_field(report, "started_utc") + " · took " + fixed_text(number_field(report, "duration_s"), 2) + " s";
    meta += " · " + hosts_text(report);
    out += "<p class=\"meta\">" + h(meta) + "</p>\n";
    const bool failed = number_field(object_field(report, "summary"), "failed") > 0;
    out += std::string("<p class=\"verdict ") + (failed ? "bad" : "ok") + "\">" + h(summary_text(report)) + "</p>\n";
    out += "<nav><a href=\"#diagram\">diagram</a><a href=\"#expectations\">expectations</a>"
           "<a href=\"#parameters\">parameters</a><a href=\"#sysctls\">sysctls</a>"
           "<a href=\"#checkpoints\">checkpoints</a><a href=\"#run\">run</a><a href=\"#files\">files</a></nav>\n";
    return out + "</header>\n";
}

std::string diagram_section(const json& report) {
    std::string out = "<section id=\"diagram\">\n<h2>The exchange</h2>\n<ul class=\"howto\">\n";
    out += "<li>The client is on the left, the server on the right; time runs downwards, one row per event, "
           "with its time in seconds since the run started on the far left. Quiet stretches longer than half a "
           "second are compressed into one dotted row that says how long they were.</li>\n";
    out += "<li>Each arrow is one packet from the capture: its TCP flags as tcpdump writes them (S SYN, . ACK, "
           "F FIN, R RST, P PSH), sequence and acknowledgment numbers relative to each side's first SYN, the data "
           "length, and <code>:port</code>, the client's port that names the connection. Orange dashed arrows "
           "marked (rtx) are retransmissions; red ones carry a reset.</li>\n";
    out += "<li>Green boxes on a lifeline are the socket's state changes as the kernel's tracepoint reported "
           "them; purple dashed boxes are states only a sock_diag snapshot can show (TIME_WAIT and FIN_WAIT2 "
           "timewait sockets). Dashed rules are checkpoints, with the sockets each side had then.</li>\n";
    out += "<li>Beside each lifeline, on its outer side: the program's system calls and their results (red when "
           "they failed), its marks, its waits at steps, and its exit. A red band marks a failed expectation at "
           "the moment of its evidence.</li>\n</ul>\n";
    out += "<div class=\"figure\">\n" + render_svg(report) + "</div>\n";
    return out + "</section>\n";
}

std::string expectations_section(const json& report) {
    std::string out = "<section>\n<h2>Expectations</h2>\n<table id=\"expectations\">\n";
    out += header_cells({"result", "expectation", "expected", "observed", "at", "why"}) + "\n";
    for (const json& e : array_field(report, "expectations")) {
        const std::string result = bool_field(e, "skipped") ? "SKIP" : bool_field(e, "passed") ? "PASS" : "FAIL";
        out += "<tr class=\"" + result + "\"><td><span class=\"badge " + result + "\">" + result + "</span></td>";
        out += "<td>" + h(text_field(e, "text")) + "<br><span class=\"where\">" + h(text_field(e, "where")) +
               "</span></td>";
        out += cell(text_field(e, "expected")) + cell(text_field(e, "observed")) + cell(seconds(e, "at"), "num") +
               cell(text_field(e, "why")) + "</tr>\n";
    }
    return out + "</table>\n</section>\n";
}

std::string parameters_section(const json& report) {
    std::string out = "<section>\n<h2>Parameters</h2>\n<table id=\"parameters\">\n" + header_cells({"name", "value"}) + "\n";
    for (const auto& [name, value] : object_field(report, "params").items())
        out += "<tr>" + cell(name, "mono") + cell(value_text(value), "num") + "</tr>\n";
    return out + "</table>\n</section>\n";
}

// One row per sysctl, a column per side; rows where the sides differ are highlighted, since
// those are usually what the scenario set.
std::string sysctls_section(const json& report) {
    const json& sysctls = object_field(report, "sysctls");
    std::vector<std::string> sides;
    std::set<std::string> names;
    for (const auto& [side, values] : sysctls.items()) {
        sides.push_back(side);
        for (const auto& [name, value] : object_field(sysctls, side.c_str()).items()) names.insert(name);
    }
    std::vector<std::string> titles = {"sysctl"};
    titles.insert(titles.end(), sides.begin(), sides.end());
    std::string out = "<section>\n<h2>Sysctls</h2>\n<p>As read back inside each namespace.</p>\n<table id=\"sysctls\">\n" +
                      header_cells(titles) + "\n";
    for (const auto& name : names) {
        std::vector<std::string> values;
        for (const auto& side : sides) {
            const json& per_side = object_field(sysctls, side.c_str());
            values.push_back(per_side.contains(name) ? value_text(per_side[name]) : "");
        }
        const bool differs = std::set<std::string>(values.begin(), values.end()).size() > 1;
        out += std::string("<tr") + (differs ? " class=\"differs\"" : "") + ">" + cell(name, "mono");
        for (const auto& v : values) out += cell(v, "num");
        out += "</tr>\n";
    }
    return out + "</table>\n</section>\n";
}

std::string timer_name(const json& socket) {
    static const char* names[] = {"", "retransmit", "keepalive", "timewait", "zero window probe"};
    const auto timer = static_cast<int>(number_field(socket, "timer"));
    if (timer <= 0 || timer > 4) return timer == 0 ? "" : std::to_string(timer);
    return std::string(names[timer]) + " " + number_text(number_field(socket, "expires_ms")) + " ms";
}

std::string owners_text(const json& socket) {
    std::string out;
    for (const json& o : array_field(socket, "owners"))
        out += (out.empty() ? "" : ", ") + text_field(o, "comm") + " pid " + text_field(o, "pid") + " fd " +
               text_field(o, "fd");
    return out.empty() ? (number_field(socket, "inode") == 0 ? "none (no file)" : "") : out;
}

std::string census_table(const json& census) {
    std::string out = "<table class=\"census\">\n" + header_cells({"side", "state", "sockets", "without a process"}) + "\n";
    size_t rows = 0;
    for (const auto& [side, c] : census.items()) rows += object_field(c, "states").size();
    if (rows == 0) out += "<tr><td colspan=\"4\">no sockets on either side</td></tr>\n";
    for (const auto& [side, c] : census.items()) {
        const json& unowned = object_field(c, "unowned");
        for (const auto& [state, n] : object_field(c, "states").items())
            out += "<tr>" + cell(side) + cell(state, "mono") + cell(value_text(n), "num") +
                   cell(unowned.contains(state) ? value_text(unowned[state]) : "0", "num") + "</tr>\n";
    }
    return out + "</table>\n";
}

std::string sockets_table(const json& sockets) {
    std::string out = "<table class=\"sockets\">\n" +
                      header_cells({"side", "state", "local", "remote", "recv_q", "send_q", "timer", "owner"}) + "\n";
    for (const auto& [side, list] : sockets.items()) {
        if (!list.is_array()) continue;
        for (const json& s : list)
            out += "<tr>" + cell(side) + cell(text_field(s, "state"), "mono") +
                   cell(text_field(s, "src") + ":" + text_field(s, "sport"), "mono") +
                   cell(text_field(s, "dst") + ":" + text_field(s, "dport"), "mono") +
                   cell(text_field(s, "recv_q"), "num") + cell(text_field(s, "send_q"), "num") +
                   cell(timer_name(s), "mono") + cell(owners_text(s)) + "</tr>\n";
    }
    return out + "</table>\n";
}

std::string counters_table(const json& counters) {
    std::string out = "<table class=\"counters\">\n" + header_cells({"side", "counter", "value"}) + "\n";
    for (const auto& [side, values] : counters.items())
        for (const auto& [name, value] : object_field(counters, side.c_str()).items())
            out += "<tr>" + cell(side) + cell(name, "mono") + cell(value_text(value), "num") + "</tr>\n";
    return out + "</table>\n";
}

std::string checkpoints_section(const json& report) {
    std::string out = "<section id=\"checkpoints\">\n<h2>Checkpoints</h2>\n<p>At each checkpoint socklab dumps "
                      "every TCP socket of both namespaces over sock_diag (what <code>ss -tanoe</code> shows), "
                      "their owners, and the TCP counters that are not zero. For a listener, recv_q is the "
                      "accept queue's length and send_q its limit.</p>\n";
    for (const json& cp : array_field(report, "checkpoints")) {
        out += "<h3>" + h(text_field(cp, "name")) + " at " + h(seconds(cp, "t")) + "</h3>\n";
        out += census_table(object_field(cp, "census"));
        out += "<details><summary>sockets</summary>\n" + sockets_table(object_field(cp, "sockets")) + "</details>\n";
        out += "<details><summary>TCP counters</summary>\n" + counters_table(object_field(cp, "counters")) +
               "</details>\n";
    }
    return out + "</section>\n";
}

std::string run_section(const json& report) {
    std::string out = "<section id=\"run\">\n<h2>Run</h2>\n<table id=\"run-table\">\n";
    auto row = [&](const std::string& name, const std::string& value) {
        out += "<tr><th>" + h(name) + "</th>" + cell(value) + "</tr>\n";
    };
    row("hosts", hosts_text(report));
    row("kernel", text_field(report, "kernel"));
    row("run", text_field(report, "run_id"));
    row("started (UTC)", text_field(report, "started_utc"));
    row("duration", fixed_text(number_field(report, "duration_s"), 3) + " s");
    std::string phases;
    for (const auto& [name, value] : object_field(report, "phases_s").items())
        phases += (phases.empty() ? "" : ", ") + name + " " + (value.is_number() ? fixed_text(value.get<double>(), 3) : "?") + " s";
    row("phases", phases);
    if (const auto floor = text_field(report, "floor_s"); !floor.empty()) row("kernel timers to wait for", floor + " s");
    for (const auto& [side, address] : object_field(report, "addresses").items()) row(side + " address", scalar_text(address));
    const bool traced = bool_field(report, "traced", true);
    row("tracefs", traced ? "yes: state transitions and TCP events traced" : "no: " + text_field(report, "trace_note"));
    for (const json& note : array_field(report, "notes")) row("note", scalar_text(note));
    return out + "</table>\n</section>\n";
}

std::string files_section(const json& report) {
    const std::string pcap = text_field(report, "pcap", "capture.pcap");
    std::string out = "<section id=\"files\">\n<h2>Files</h2>\n<ul>\n";
    out += "<li><a href=\"" + h(pcap) + "\">" + h(pcap) + "</a>: every packet, to open in Wireshark or read with "
           "<code>tshark -r " + h(pcap) + "</code></li>\n";
    out += "<li><a href=\"report.json\">report.json</a>: everything on this page and more (all events, "
           "transitions, packets with raw sequence numbers)</li>\n";
    out += "<li><a href=\"client.log\">client.log</a> and <a href=\"server.log\">server.log</a>: what the "
           "programs wrote to stderr</li>\n";
    out += "<li><a href=\"ladder.svg\">ladder.svg</a>: the diagram alone</li>\n";
    return out + "</ul>\n</section>\n";
}

std::string capture_table(const std::vector<ConnectionRow>& rows) {
    std::string out = "<table id=\"connections\">\n" +
                      header_cells({"stream", "client", "server", "packets", "duration", "final states (inferred)",
                                    "resets", "retransmissions", "notes"}) + "\n";
    for (const auto& r : rows) {
        const std::string n = std::to_string(r.stream);
        out += "<tr><td class=\"num\"><a href=\"#connection-" + n + "\">" + n + "</a></td>" + cell(r.ends[0], "mono") +
               cell(r.ends[1], "mono") + cell(std::to_string(r.packets), "num") +
               cell(fixed_text(r.duration_s, 3) + " s", "num") + cell(r.states[0] + " / " + r.states[1], "mono") +
               cell(std::to_string(r.resets), "num") + cell(std::to_string(r.retransmissions), "num") + cell(r.notes) +
               "</tr>\n";
    }
    return out + "</table>\n";
}

}  // namespace

std::string render_html(const json& report) {
    const std::string name = text_field(report, "scenario") + " / " + text_field(report, "variant");
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += "<title>socklab: " + h(name) + "</title>\n<style>" + std::string(kPageStyle) + "</style>\n</head>\n<body>\n";
    out += page_header(report);
    out += diagram_section(report);
    out += expectations_section(report);
    out += parameters_section(report);
    out += sysctls_section(report);
    out += checkpoints_section(report);
    out += run_section(report);
    out += files_section(report);
    return out + "</body>\n</html>\n";
}

std::string render_capture_html(const std::string& file, const std::string& about,
                                const std::vector<ConnectionRow>& rows, const std::vector<json>& reports) {
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += "<title>socklab ladder: " + h(file) + "</title>\n<style>" + std::string(kPageStyle) + "</style>\n</head>\n<body>\n";
    out += "<header>\n<h1>" + h(file) + "</h1>\n<p class=\"subtitle\">" + h(about) + "</p>\n</header>\n";
    out += "<section>\n<h2>Connections</h2>\n" + capture_table(rows) + "</section>\n";
    out += "<section>\n<h2>How to read the diagrams</h2>\n<ul class=\"howto\">\n";
    out += "<li>One diagram per connection: the client (the end that sent the first SYN) on the left, the server on "
           "the right, time downwards in seconds since the connection's first segment; quiet stretches longer than "
           "half a second are compressed into one dotted row.</li>\n";
    out += "<li>Each arrow is one segment: tcpdump's flags, sequence and acknowledgment numbers relative to each "
           "side's SYN, the data length, and in parentheses what tshark's analysis would call it (rtx: "
           "retransmission, dup ack, zero window, window probe, keep-alive, out-of-order, previous not captured, "
           "reset). Orange dashed arrows are retransmissions; red ones carry a reset.</li>\n";
    out += "<li>White dashed boxes in italics are each end's state, <b>inferred from the capture</b> with RFC 9293's "
           "state machine, not reported by a kernel (a run's diagrams draw the kernel's in solid green).</li>\n";
    out += "<li>" + h(kInferenceCaveat) + "</li>\n</ul>\n</section>\n";
    for (const json& report : reports) {
        const std::string n = text_field(object_field(report, "capture"), "stream");
        out += "<section id=\"connection-" + h(n) + "\">\n<h2>Connection " + h(n) + ": " + h(text_field(report, "title")) +
               "</h2>\n";
        for (const json& note : array_field(report, "notes")) out += "<p class=\"meta\">" + h(scalar_text(note)) + "</p>\n";
        out += "<div class=\"figure\">\n" + render_svg(report) + "</div>\n</section>\n";
    }
    return out + "</body>\n</html>\n";
}

void write_pictures(const std::string& dir, const json& report) {
    write_file(dir + "/ladder.svg", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + render_svg(report));
    write_file(dir + "/report.html", render_html(report));
}

}  // namespace socklab
