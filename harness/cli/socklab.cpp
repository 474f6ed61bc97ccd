// socklab: list the scenarios, run one (all its variants, or those named), redraw a saved run
// (show), draw any capture's connections with their inferred states (ladder), count sockets per
// state (census), sweep leftovers.
// Exit status: 0 every expectation held, 1 one failed, 2 usage or environment error.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "capture/capture.hpp"
#include "cli/run_cases.hpp"
#include "common/common.hpp"
#include "inference/connections.hpp"
#include "observation/census.hpp"
#include "process/spawn.hpp"
#include "report/ci.hpp"
#include "report/capture_report.hpp"
#include "report/html.hpp"
#include "report/report.hpp"
#include "report/svg.hpp"
#include "report/terminal.hpp"
#include "run/run.hpp"
#include "scenario/names.hpp"
#include "scenario/scenario.hpp"
#include "topology/netns.hpp"
#include "topology/userns.hpp"

using namespace socklab;

namespace {

nlohmann::json number_json(double value) {
    if (value == std::floor(value) && std::fabs(value) < 1e15) return static_cast<long long>(value);
    return value;
}

nlohmann::json scenario_json(const Scenario& s) {
    nlohmann::json variants = nlohmann::json::array(), params = nlohmann::json::array();
    for (const auto& v : s.variants) {
        nlohmann::json one = {{"name", v.name}, {"doc", v.doc}, {"steps", v.steps.size()}, {"expectations", v.expect.size()},
                              {"families", nlohmann::json::array()}};
        for (Family f : v.families) one["families"].push_back(family_name(f));
        if (!v.floor.empty()) one["floor"] = v.floor;
        if (auto value = floor_at_defaults(s, v)) one["floor_s"] = number_json(*value);
        if (!v.own_cpu.empty()) one["own_cpu"] = v.own_cpu;
        variants.push_back(one);
    }
    for (const auto& p : s.params) {
        nlohmann::json value = p.default_expr;
        try {
            value = number_json(evaluate(p.default_expr, [](const std::string&) { return std::nullopt; }));
        } catch (const ExprError&) {  // an expression over other parameters: kept as written
        }
        params.push_back({{"name", p.name}, {"default", value}, {"min", number_json(p.min)},
                          {"max", number_json(p.max)}, {"help", p.help}});
    }
    return {{"name", s.name}, {"title", s.title}, {"blog", s.blog_section}, {"variants", variants}, {"params", params}};
}

// Every scenario, as text or as JSON ({"scenarios": [...]}, the listing the build and the scripts
// read). A description that cannot be loaded is named on stderr (in JSON also an entry with
// "error"), and the exit status is then 2.
int list(const std::string& root, const std::string& programs_dir, bool as_json) {
    nlohmann::json all = nlohmann::json::array();
    int status = 0;
    for (const auto& name : scenario_names(root)) {
        try {
            Scenario s = load_scenario(root + "/" + name, programs_dir + "/" + name + "/names.json");
            if (as_json) {
                all.push_back(scenario_json(s));
                continue;
            }
            std::cout << s.name << "  (blog " << s.blog_section << ")  " << s.title << "\n";
            for (const auto& v : s.variants) std::cout << "    " << v.name << ": " << v.doc << "\n";
            for (const auto& p : s.params)
                std::cout << "    --set " << p.name << "=<" << number_text(p.min) << ".." << number_text(p.max)
                          << ">  default " << p.default_expr << ": " << p.help << "\n";
        } catch (const std::exception& e) {
            std::cerr << "socklab: scenario " << name << " cannot be loaded: " << e.what() << std::endl;
            if (as_json) all.push_back({{"name", name}, {"error", e.what()}});
            else std::cout << name << "  (cannot be loaded: " << e.what() << ")\n";
            status = 2;
        }
    }
    // Every scenario runs in every family (socklab run --family).
    if (as_json) std::cout << nlohmann::json{{"families", {"4", "6", "mapped"}}, {"scenarios", all}}.dump(2) << "\n";
    else std::cout << "address families (--family): 4 (IPv4), 6 (IPv6), mapped (IPv4 to a dual-stack IPv6 server); all: the three\n";
    return status;
}

// One census per namespace: the named ones, all of `ip netns list`, or (none named) our own.
int census(std::vector<std::string> names, bool all, bool as_json, double watch) {
    if (all) {
        names = netns_list();
    }
    if (names.empty() && !all) names.push_back("");
    for (;;) {
        nlohmann::json report = nlohmann::json::array();
        for (const auto& name : names) {
            Census c;
            try {
                c = take_census(SockDiag(name).dump());
            } catch (const std::exception& e) {
                return usage_error(e.what() + std::string(" (see ip netns list)"));
            }
            const std::string shown = name.empty() ? "(this namespace)" : name;
            if (as_json) {
                nlohmann::json one = census_json(c);
                one["namespace"] = shown;
                report.push_back(one);
            } else {
                std::cout << shown << "\n" << census_text(c);
            }
        }
        if (as_json) std::cout << report.dump(2) << "\n";
        if (watch <= 0) return 0;
        std::cout << std::flush;
        std::this_thread::sleep_for(std::chrono::duration<double>(watch));  // a display refresh, not a test wait
        if (!as_json) std::cout << "\n";
    }
}

// Without root, a user namespace of our own, entered once for every run; the runs then have no
// tracefs and say so.
int enter_privileges(const std::string& what) {
    if (::geteuid() == 0) return 0;
    std::string why;
    if (!enter_user_namespace(why))
        return usage_error("socklab run needs root, or unprivileged user namespaces: " + why +
                           ". Run it as root, e.g. sudo socklab run " + what);
    std::cerr << "socklab: not root: running inside a user namespace of its own (no tracefs there: "
                 "transitions and TCP events are not observed, and the expectations on them are skipped)\n";
    return 0;
}

// Redraws a saved run from its report.json alone (no root needed): the terminal timeline on
// stdout, ladder.svg and report.html rewritten next to it.
int show(const std::string& dir, bool color) {
    nlohmann::json report;
    try {
        report = read_report(dir + "/report.json");
    } catch (const std::runtime_error& e) {
        return usage_error(std::string(e.what()) + " (socklab show takes a run directory, e.g. captures/<scenario>/<run>)");
    }
    try {
        std::cout << render_terminal(report, color) << std::flush;
        write_pictures(dir, report);
    } catch (const nlohmann::json::exception& e) {
        return usage_error(dir + "/report.json is malformed: " + e.what());
    } catch (const std::runtime_error& e) {  // ladder.svg or report.html cannot be written
        return usage_error(e.what());
    }
    std::cerr << "wrote " << dir << "/ladder.svg and " << dir << "/report.html" << std::endl;
    return 0;
}

// Where the scenarios, their programs and the run directories are. Installed (cmake --install,
// the .deb), the binary is <prefix>/bin/socklab and finds them relative to itself:
// <prefix>/share/socklab/scenarios and <prefix>/libexec/socklab/<scenario>/{client,server,names.json},
// runs going to ./captures; otherwise it is the build tree's, with the paths the build compiled in.
struct Paths {
    std::string scenarios = SOCKLAB_SCENARIOS_DIR, programs = SOCKLAB_PROGRAMS_DIR, captures = SOCKLAB_CAPTURES_DIR;
};

Paths default_paths() {
    Paths paths;
#ifdef SOCKLAB_INSTALL_DATADIR
    std::error_code ec;
    const auto prefix = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().parent_path();
    const auto scenarios = prefix / SOCKLAB_INSTALL_DATADIR / "socklab" / "scenarios";
    const auto programs = prefix / SOCKLAB_INSTALL_LIBEXECDIR / "socklab";
    if (!ec && std::filesystem::is_directory(scenarios, ec) && std::filesystem::is_directory(programs, ec))
        return Paths{scenarios.string(), programs.string(), "captures"};
#endif
    return paths;
}

struct LadderOptions {
    std::string capture;
    std::optional<size_t> stream;
    std::optional<int> port;
    std::string filter, svg, html, left;
    bool color = false;
};

// A connection's diagrams, drawn unasked, stop here: a capture of a thousand connections is read
// from its table, and one of them picked.
constexpr size_t kMaxDrawnUnasked = 20;

// "out.svg" for one diagram, "out-3.svg" for connection 3 of several.
std::string numbered(const std::string& path, size_t stream, bool several) {
    if (!several) return path;
    const auto dot = path.rfind('.');
    const auto slash = path.rfind('/');
    const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
    return (has_ext ? path.substr(0, dot) : path) + "-" + std::to_string(stream) + (has_ext ? path.substr(dot) : "");
}

// Which end goes on the left: the one `left` names ("198.18.0.1" or "198.18.0.1:40012"), else the client.
std::optional<int> left_end(const InferredConnection& c, const std::string& left) {
    if (left.empty()) return 0;
    for (int e : {0, 1}) {
        const Endpoint& end = c.ends[e];
        if (left == end.address || left == end.address + ":" + std::to_string(end.port) || left == endpoint_text(end))
            return e;
    }
    return std::nullopt;
}

// socklab ladder: reads the capture once (streaming: only the TCP segments are kept, per
// connection), infers the states, prints the table of connections and the diagrams, and writes
// the SVG and HTML only once everything has been drawn, so a bad input leaves no file behind.
int ladder(const LadderOptions& o) {
    ConnectionTracker tracker;
    CaptureSource source;
    source.file = o.capture;
    uint64_t kept = 0;
    try {
        source.info = read_capture(o.capture, [&](const Segment& s) {
            if (o.port && s.sport != *o.port && s.dport != *o.port) return;
            ++kept;
            tracker.add(s);
        }, o.filter);
    } catch (const CaptureFileError& e) {
        return usage_error(e.what());
    }
    source.link_type = link_type_name(source.info.linktype);
    const auto& info = source.info;
    if (info.segments == 0)
        return usage_error(o.capture + " holds no TCP segment (" + std::to_string(info.frames) + " frames of link type " +
                           source.link_type + (o.filter.empty() ? "" : " matching the filter") +
                           "): capture TCP traffic, e.g. tcpdump -i any -w FILE tcp");
    if (kept == 0)
        return usage_error("no TCP segment of " + o.capture + " has port " + std::to_string(*o.port) +
                           ": see the table of connections without --port");
    std::vector<InferredConnection> connections = tracker.finish();
    if (o.stream && *o.stream >= connections.size())
        return usage_error("--stream " + std::to_string(*o.stream) + ": " + o.capture + " has connections 0 to " +
                           std::to_string(connections.size() - 1) + " (see its table without --stream)");

    std::vector<const InferredConnection*> chosen;
    for (const auto& c : connections)
        if (!o.stream || c.stream == *o.stream) chosen.push_back(&c);
    const bool asked = o.stream || o.port || !o.filter.empty();
    const size_t drawn = asked ? chosen.size() : std::min(chosen.size(), kMaxDrawnUnasked);
    std::vector<nlohmann::json> reports;
    for (size_t i = 0; i < drawn; ++i) {
        const auto left = left_end(*chosen[i], o.left);
        if (!left) {
            if (chosen.size() == 1)
                return usage_error("--left " + o.left + " is neither end of connection " +
                                   std::to_string(chosen[i]->stream) + " (" + endpoint_text(chosen[i]->ends[0]) + ", " +
                                   endpoint_text(chosen[i]->ends[1]) + ")");
            reports.push_back(capture_report_json(*chosen[i], source, 0));
            continue;
        }
        reports.push_back(capture_report_json(*chosen[i], source, *left));
    }

    std::vector<ConnectionRow> rows;
    for (const auto& c : connections) rows.push_back(connection_row(c));
    const std::string about = source.link_type + ", " + std::to_string(info.frames) + " frames, " +
                              std::to_string(info.segments) + " TCP segments in " + std::to_string(connections.size()) +
                              " connections" +
                              (info.truncated ? ", " + std::to_string(info.truncated) + " cut by the snaplen" : "") +
                              (info.undecodable ? ", " + std::to_string(info.undecodable) + " frames not TCP" : "");
    std::string out = "socklab ladder " + o.capture + ": " + about + "\n";
    // The caveats once, for every diagram below, on lines of at most 100 columns as the ladders.
    std::string line;
    std::istringstream words("≈[A -> B] is a state inferred, not observed. " + std::string(kInferenceCaveat));
    for (std::string word; words >> word;) {
        if (!line.empty() && line.size() + 1 + word.size() > 100) out += line + "\n", line.clear();
        line += (line.empty() ? "" : " ") + word;
    }
    out += line + "\n\n";
    out += summary_table_text(rows);
    if (drawn < chosen.size())
        out += "\n" + std::to_string(chosen.size()) + " connections: the diagrams of the first " + std::to_string(drawn) +
               " follow; pick one with --stream N, --port P or --filter 'BPF'\n";
    for (const auto& report : reports) out += "\n" + render_terminal(report, o.color);
    try {
        const bool several = reports.size() > 1;
        if (!o.svg.empty())
            for (const auto& report : reports)
                write_file_atomically(numbered(o.svg, report["capture"]["stream"].get<size_t>(), several),
                                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + render_svg(report));
        if (!o.html.empty()) write_file_atomically(o.html, render_capture_html(o.capture, about, rows, reports));
    } catch (const std::runtime_error& e) {
        return usage_error(e.what());
    }
    std::cout << out << std::flush;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);  // a program that died must not take the harness with it
    CLI::App app{"socklab: reproducible TCP socket experiments in network namespaces"};
    app.require_subcommand(1);
    const Paths paths = default_paths();
    std::string root = paths.scenarios;
    app.add_option("--scenarios", root, "folder of scenarios")->capture_default_str();

    auto* list_cmd = app.add_subcommand("list", "list the scenarios, their variants and parameters");
    bool list_json = false;
    list_cmd->add_flag("--json", list_json, "JSON: scenarios, variants with their floors, parameters");

    auto* run_cmd = app.add_subcommand("run", "run a scenario's variants and check their expectations");
    std::string name;
    std::vector<std::string> variants, sets;
    RunOptions options;
    options.captures_root = paths.captures;
    options.programs_dir = paths.programs;
    std::string color = "auto";
    auto add_color = [&color](CLI::App* cmd) {
        cmd->add_option("--color", color, "auto, always or never")->check(CLI::IsMember({"auto", "always", "never"}));
    };
    CaseOptions ci;
    std::string cases_file;
    run_cmd->add_option("scenario", name, "scenario name (see socklab list)");
    run_cmd->add_flag("--all", ci.all, "every scenario and variant, in every family (or those of --family)");
    run_cmd->add_flag("--ktap", ci.ktap, "KTAP version 1 on stdout (progress on stderr, no timelines)");
    run_cmd->add_option("--junit", ci.junit, "also write JUnit XML to FILE");
    run_cmd->add_option("--cases", cases_file, "run the cases of FILE: one \"scenario variant family\" a line");
    run_cmd->add_option("--jobs", ci.jobs, "runs at once (default: from the CPUs and SOCKLAB_MACHINE_SLOW)")
        ->check(CLI::Range(1, 256));
    run_cmd->add_option("--variant", variants, "run only this variant (repeatable)");
    run_cmd->add_option("--set", sets, "parameter=value (repeatable)");
    std::string family = "4";
    auto* family_option = run_cmd->add_option("--family", family, "4 (IPv4), 6 (IPv6), mapped (IPv4 to a dual-stack IPv6 server) or all")
        ->capture_default_str();
    run_cmd->add_option("--out", options.out_dir, "directory for report.json and capture.pcap (several cases: "
                                                  "DIR/<scenario>/<case>, with its .stdout, .stderr and .status)");
    run_cmd->add_option("--captures", options.captures_root, "root of the run directories")->capture_default_str();
    bool no_pictures = false;
    run_cmd->add_flag("--no-pictures", no_pictures, "no ladder.svg and report.html (socklab show DIR draws them from "
                                                    "report.json later): under TCG they cost 0.4-0.5 s a run");
    run_cmd->add_flag("--keep-netns", options.keep_netns, "leave the namespaces for inspection (ip netns list)");
    run_cmd->add_flag("--step", options.step,
                      "class mode: say what each step does, ask the lab sheet's question, wait for Enter (on a terminal), "
                      "then show what followed");
    add_color(run_cmd);

    auto* census_cmd = app.add_subcommand("census", "count TCP sockets per state over sock_diag, as netstat | awk did");
    std::vector<std::string> netns_names;
    bool all_netns = false, as_json = false;
    double watch = 0;
    census_cmd->add_option("--netns", netns_names, "a named namespace (repeatable); default: this one");
    census_cmd->add_flag("--all-netns", all_netns, "every namespace in ip netns list");
    census_cmd->add_flag("--json", as_json, "JSON instead of text");
    census_cmd->add_option("--watch", watch, "repeat every SECONDS until interrupted")->check(CLI::PositiveNumber);

    app.add_subcommand("sweep", "remove namespaces and tracefs instances left by runs that died");

    auto* show_cmd = app.add_subcommand("show", "redraw a saved run from its report.json: print its timeline, "
                                                "rewrite ladder.svg and report.html");
    std::string run_dir;
    show_cmd->add_option("run_dir", run_dir, "the run's directory, with report.json")->required();
    add_color(show_cmd);

    auto* ladder_cmd = app.add_subcommand("ladder", "draw the TCP connections of any pcap or pcapng file as ladders, "
                                                    "with each side's state inferred from the segments");
    LadderOptions ladder_options;
    size_t stream = 0;
    int port = 0;
    ladder_cmd->add_option("capture", ladder_options.capture, "a pcap or pcapng file (tcpdump -w, Wireshark, dumpcap)")
        ->required();
    auto* stream_opt = ladder_cmd->add_option("--stream", stream, "only connection N (the table's first column)");
    auto* port_opt = ladder_cmd->add_option("--port", port, "only segments to or from port P")->check(CLI::Range(0, 65535));
    ladder_cmd->add_option("--filter", ladder_options.filter, "only frames this BPF filter takes, as tcpdump's");
    ladder_cmd->add_option("--svg", ladder_options.svg, "write the diagram here (FILE-N.svg for each of several)");
    ladder_cmd->add_option("--html", ladder_options.html, "write one self-contained page: the table and the diagrams");
    ladder_cmd->add_option("--left", ladder_options.left, "draw this address (or address:port) on the left");
    add_color(ladder_cmd);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    try {
        if (app.got_subcommand("list")) return list(root, options.programs_dir, list_json);
        if (app.got_subcommand("census")) {
            if (::geteuid() != 0 && (all_netns || !netns_names.empty()))
                return usage_error("socklab census --netns needs root to enter the namespace");
            return census(netns_names, all_netns, as_json, watch);
        }
        if (app.got_subcommand("sweep")) {
            if (::geteuid() != 0) return usage_error("socklab sweep needs root");
            for (const auto& line : sweep_leftovers(true)) std::cout << "removed " << line << "\n";
            return 0;
        }
        options.color = color == "always" || (color == "auto" && ::isatty(STDOUT_FILENO));
        if (app.got_subcommand("show")) return show(run_dir, options.color);
        if (app.got_subcommand("ladder")) {
            if (*stream_opt) ladder_options.stream = stream;
            if (*port_opt) ladder_options.port = port;
            ladder_options.color = options.color;
            return ladder(ladder_options);
        }
        options.progress = &std::cerr;
        options.pictures = !no_pictures;
        if (options.step && ::isatty(STDIN_FILENO)) options.keyboard = &std::cin;  // over a pipe: no pauses
        options.out = ci.ktap ? nullptr : &std::cout;  // stdout is the KTAP alone
        const int asked = ci.all + !name.empty() + !cases_file.empty();
        if (asked == 0) return usage_error("name a scenario (see socklab list), or run them all with --all");
        if (asked > 1) return usage_error("a scenario, --all and --cases each say what to run: give one of them");
        if (name.empty() && !variants.empty()) return usage_error("--variant picks variants of one scenario: drop it, or name the scenario");
        if (name.empty() && !sets.empty()) return usage_error("--set names a parameter of one scenario: drop it, or name the scenario");
        if (!cases_file.empty() && family_option->count()) return usage_error("--cases gives each case's family: drop --family");
        if (ci.all && family_option->count() == 0) family = "all";
        if (!ci.junit.empty()) {
            const auto parent = std::filesystem::absolute(ci.junit).parent_path();
            if (::access(parent.c_str(), W_OK) != 0)
                return usage_error("--junit " + ci.junit + ": cannot write in " + parent.string() + " (" +
                                   std::strerror(errno) + "): name a file in a writable directory");
        }
        if (int status = enter_privileges(ci.all ? "--all" : name.empty() ? "--cases " + cases_file : name)) return status;
        RunCases cases(root, options, ci);
        const int planned = ci.all ? cases.add_all(family)
                            : name.empty() ? cases.add_file(cases_file)
                                           : cases.add_scenario(name, variants, sets, family);
        if (planned) return planned;
        return cases.run();
    } catch (const ScenarioError& e) {
        return usage_error(e.what());
    } catch (const EnvironmentError& e) {
        return usage_error(e.what());
    } catch (const std::exception& e) {
        return usage_error(std::string("unexpected error: ") + e.what());
    }
}
