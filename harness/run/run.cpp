#include "run/run.hpp"

#include <signal.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <future>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "capture/capture.hpp"
#include "common/common.hpp"
#include "expectations/expect.hpp"
#include "observation/counters.hpp"
#include "observation/owners.hpp"
#include "observation/sockdiag.hpp"
#include "observation/tracefs.hpp"
#include "process/program.hpp"
#include "process/reaper.hpp"
#include "process/side_by_side.hpp"
#include "process/spawn.hpp"
#include "report/html.hpp"
#include "report/report.hpp"
#include "report/terminal.hpp"
#include "scenario/names.hpp"
#include "topology/netns.hpp"
#include "topology/owner.hpp"
#include "topology/topology.hpp"

namespace socklab {
namespace {

constexpr int kServerPort = 8080;
constexpr double kDefaultWithin = 10.0;  // seconds a wait may take when the step names no bound
// How often trace_pipe and sock_diag are read while waiting: a dump of a test host's own small
// TCP table costs microseconds, so waiting on a socket state adds at most this much. Under
// emulation (SOCKLAB_MACHINE_SLOW) a dump costs that factor more, and the interval grows with it
// (as the timing slack does): runs side by side would otherwise spend a guest's CPU on polling.
constexpr double kPollInterval = 0.005;

// A step that did not happen in time, or a program that ended early: the choreography stops
// there, and the run is reported with what was seen up to then.
struct StepFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted by a signal") {}
};

std::string utc_now(const char* format) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

int64_t realtime_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string format_seconds(double s) { return fixed_text(s, 1) + " s"; }

// A failure of the run itself (a step, the capture), reported beside the expectations.
Outcome run_failure(const std::string& text, const std::string& why, const std::string& expected,
                    const std::string& observed, double at) {
    Outcome o;
    o.where = "steps";
    o.text = text;
    o.why = why;
    o.expected = expected;
    o.observed = observed;
    o.at = at;
    return o;
}

// One run: owns every resource it makes, so that any way out of run() tears them down.
class Run {
public:
    Run(const Scenario& s, const Variant& v, const RunOptions& o) : s_(s), v_(v), o_(o), names_(s), signals_(io_) {}

    RunResult run();

private:
    const Scenario& s_;
    const Variant& v_;
    const RunOptions& o_;
    Names names_;  // parameters, sysctls, rule values and, at the end, what the run observed
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    bool interrupted_ = false;
    double slow_ = 1.0;  // SOCKLAB_MACHINE_SLOW: timing slack and default deadlines are multiplied by it

    std::string dir_;
    std::unique_ptr<Topology> topology_;
    std::unique_ptr<TraceSession> trace_;
    std::map<std::string, std::unique_ptr<SockDiag>> diag_;
    std::unique_ptr<Capture> capture_;
    std::map<std::string, std::unique_ptr<Program>> programs_;
    std::map<std::string, int> consumed_;  // "<side> mark|step <name>" -> marks waited for, steps released
    Observations seen_;
    std::vector<Outcome> step_failures_;
    std::vector<std::jthread> closing_;  // last member, so joined first: observers closing in the background

    void say(const std::string& line) const {
        if (o_.progress) *o_.progress << "[" << format_seconds(seconds_now()) << "] " << line << std::endl;
    }
    double seconds_now() const { return static_cast<double>(monotonic_ns() - seen_.start_ns) / 1e9; }
    double eval(const std::string& expr) const { return names_.eval(expr); }

    void check_tools() const;
    void narrate_before(const Step& step, size_t index);
    void narrate_after(const Step& step);
    std::set<std::string> narrated_;  // class mode: timeline entries already shown
    int64_t clock_offset_ = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC, for the capture's timestamps
    std::string fill_in(std::string text) const;
    void set_up(std::map<std::string, double>& phases);
    void play(const Step& step);
    void play(const Start& start, const std::string& where);
    void play(const Wait& wait, const std::string& where);
    void play(const Release& release, const std::string& where);
    void play(const Snapshot& checkpoint, const std::string& where);
    void play(const Command& command, const std::string& where);
    void play(const Until& until, const std::string& where);
    void play(const Kill& kill, const std::string& where);
    Program& program(const std::string& side, const std::string& where);
    int64_t pump_until(const std::function<bool()>& done, double within, const std::string& what,
                       const std::string& side = "");
    void read_trace();
    Checkpoint snapshot(const std::string& name, std::optional<int64_t> since_ns = std::nullopt);
    void take_checkpoint(const std::string& name, std::optional<int64_t> since_ns = std::nullopt);
    void finish_programs();
    void hand_over_teardown();
};

// What the variant will need, checked before anything is made, so a missing piece costs nothing.
void Run::check_tools() const {
    for (const auto& step : v_.steps) {
        if (const auto* start = std::get_if<Start>(&step.action)) {
            const std::string path = o_.programs_dir + "/" + s_.name + "/" + start->side;
            if (::access(path.c_str(), X_OK) != 0)
                throw EnvironmentError("program " + path + " is missing: build it first (cmake --build build)");
        }
        const auto* command = std::get_if<Command>(&step.action);
        if (command && command->tool == "nft" && run_command({"nft", "--version"}).status != 0)
            throw EnvironmentError("nft is not installed, and " + v_.name + " needs it: apt-get install nftables");
        if (command && command->tool == "ip" && run_command({"ip", "-V"}).status != 0)
            throw EnvironmentError("ip is not installed, and " + v_.name + " needs it: apt-get install iproute2");
    }
}

// The set-up's parts are timed into `phases` ("setup.sweep", ".hosts", ".capture", ".trace"), for the
// benchmark's figures per phase.
void Run::set_up(std::map<std::string, double>& phases) {
    double mark = seconds_now();
    auto lap = [&](const char* name) {
        phases[std::string("setup.") + name] = seconds_now() - mark;
        mark = seconds_now();
    };
    for (const auto& line : sweep_leftovers()) say("swept " + line + " (left by a run that died)");
    lap("sweep");

    topology_ = std::make_unique<Topology>(o_.family);
    if (o_.keep_netns) topology_->keep();
    for (const auto& side : kSides) seen_.address[side] = topology_->host(side).address;
    say("hosts: client " + topology_->client().address + " in " + topology_->client().netns + ", server " +
        topology_->server().address + " in " + topology_->server().netns);

    // Sysctls depend on parameters only; everything else may then read them back.
    std::set<std::string> keys(observed_sysctls().begin(), observed_sysctls().end());
    for (const auto& [side, table] : s_.sysctls)
        for (const auto& [key, expr] : table) {
            topology_->set_sysctl(side, key, std::lround(eval(expr)));
            keys.insert(key);
        }
    for (const auto& side : kSides)
        seen_.sysctls[side] = topology_->read_sysctls(side, std::vector<std::string>(keys.begin(), keys.end()));
    names_.sysctls = seen_.sysctls;
    names_.rules = rule_values(seen_.sysctls["client"], seen_.sysctls["server"], names_.params);  // params: socket options
    lap("hosts");

    // Without tracefs (no root, or a kernel without it) the run goes on: the expectations that
    // need transitions or TCP events are then skipped with this note, never passed.
    // A new trace instance costs the kernel RCU grace periods (tens of ms), so it is made while
    // this thread opens the other observers.
    std::string why;
    auto tracing = std::async(std::launch::async, [&]() -> std::unique_ptr<TraceSession> {
        auto root = tracefs_root(why);
        if (!root) return nullptr;
        try {
            // A mapped run's server socket is IPv6: its events carry ::ffff:198.18.x.y.
            std::set<std::string> addresses;
            for (const auto& [side, address] : seen_.address) addresses.insert({address, "::ffff:" + address});
            if (!o_.trace_instance.empty()) return std::make_unique<TraceSession>(*root, o_.trace_instance, addresses, true);
            return std::make_unique<TraceSession>(*root, owned_name("trace"), addresses);
        } catch (const std::exception& e) {
            why = e.what();
            return nullptr;
        }
    });
    for (const auto& side : kSides) diag_[side] = std::make_unique<SockDiag>(topology_->host(side).netns);
    // On the server's end: the client's segments are stamped as they arrive (Timing::arrival).
    seen_.captured_on = "server";
    const Host& captured = topology_->host(seen_.captured_on);
    capture_ = std::make_unique<Capture>(captured.netns, captured.ifname, dir_ + "/capture.pcap");
    lap("capture");
    trace_ = tracing.get();
    lap("trace");  // what was left of it
    seen_.traced = trace_ != nullptr;
    if (!seen_.traced) {
        seen_.trace_note = "no tracefs (" + why + "): states from sock_diag snapshots only";
        say(seen_.trace_note);
    }
}

void Run::read_trace() {
    if (!trace_) return;
    for (auto& e : trace_->read_available()) seen_.trace.push_back(std::move(e));
}

Checkpoint Run::snapshot(const std::string& name, std::optional<int64_t> since_ns) {
    Checkpoint c;
    c.name = name;
    c.time_ns = monotonic_ns();
    c.since_ns = since_ns;
    for (const auto& side : kSides) {
        c.sockets[side] = diag_[side]->dump();
        c.counters[side] = read_counters(topology_->host(side).netns);
        c.owners[side] = socket_owners(topology_->host(side).netns);
    }
    return c;
}

// Runs the event loop until `done` holds. Waiting is on events (program output, exits, signals)
// and on the kernel's own record (trace_pipe, sock_diag), read every kPollInterval. Returns when
// the last look that found `done` false began: what it waited for happened after that (the run's
// start when the first look found it done).
int64_t Run::pump_until(const std::function<bool()>& done, double within, const std::string& what, const std::string& side) {
    const double start = seconds_now();
    double next_progress = start + 2.0;
    int64_t since = seen_.start_ns;
    for (int64_t look = monotonic_ns(); !done(); look = monotonic_ns()) {
        since = look;
        if (interrupted_) throw Interrupted();
        if (!side.empty() && programs_.count(side) && programs_[side]->exit())
            throw StepFailure("the " + side + " ended before " + what);
        const double now = seconds_now();
        if (now - start > within)
            throw StepFailure(what + " did not happen within " + format_seconds(within));
        if (now >= next_progress) {
            say("waiting for " + what + " (" + format_seconds(now - start) + " of at most " + format_seconds(within) + ")");
            next_progress += 2.0;
        }
        io_.run_one_for(std::chrono::milliseconds(std::lround(kPollInterval * slow_ * 1000)));
        read_trace();
    }
    return since;
}

// One method per step verb.
void Run::play(const Step& step) {
    std::visit([&](const auto& action) { play(action, step.where); }, step.action);
}

void Run::play(const Start& start, const std::string&) {
    // --addr: the address the program binds or connects to (a mapped run's server listens on "::");
    // --peer: the other host's address as the program's sockets see it, for a server that
    // connects out (simultaneous open).
    const bool dual_stack = o_.family == Family::mapped && start.side == "server";
    const std::string other = start.side == "server" ? seen_.address["client"] : seen_.address["server"];
    std::vector<std::string> argv{o_.programs_dir + "/" + s_.name + "/" + start.side,
                                  "--addr", dual_stack ? "::" : seen_.address["server"], "--port", std::to_string(kServerPort),
                                  "--peer", dual_stack ? "::ffff:" + other : other};
    if (auto it = v_.args.find(start.side); it != v_.args.end())
        for (const auto& [flag, expr] : it->second) {
            argv.push_back("--" + flag);
            argv.push_back(std::to_string(std::lround(eval(expr))));
        }
    // Both programs on one CPU, one of those this run may use (runs side by side are given theirs):
    // the veth then hands packets over in the order they were sent.
    const std::vector<int> cpus = allowed_cpus();
    const int cpu = cpus.empty() ? -1 : cpus[topology_->slot() % cpus.size()];
    std::string command;
    for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
    say("start " + start.side + ": " + command.substr(command.rfind('/') + 1));
    programs_[start.side] = std::make_unique<Program>(io_, start.side, argv, topology_->host(start.side).netns,
                                                      dir_ + "/" + start.side + ".log", cpu,
                                                      [this](const ProgramEvent& e) { seen_.events.push_back(e); });
}

Program& Run::program(const std::string& side, const std::string& where) {
    if (!programs_.count(side)) throw StepFailure(where + ": the " + side + " was never started");
    return *programs_[side];
}

void Run::play(const Wait& wait, const std::string& where) {
    const double within = wait.within.empty() ? kDefaultWithin * slow_ : eval(wait.within);
    Program& p = program(wait.side, where);
    if (wait.what == Wait::For::exit) {
        pump_until([&] { return p.exit().has_value(); }, within, wait.side + " exit");
        return;
    }
    // The Nth wait for a mark is for its Nth time; a wait at a step, for its time after the releases so far.
    const char* key = wait.what == Wait::For::step ? "step" : "mark";
    const std::string id = wait.side + " " + key + " " + wait.name;
    const int wanted = wait.what == Wait::For::step ? consumed_[id] + 1 : ++consumed_[id];
    const std::string what = wait.side + (wait.what == Wait::For::step ? " before " : " ") + wait.name;
    pump_until(
        [&] {
            int n = 0;
            for (const auto& e : seen_.events) n += e.side == wait.side && e.body.value(key, "") == wait.name;
            return n >= wanted;
        },
        within, what, wait.side);
}

void Run::play(const Release& release, const std::string& where) {
    Program& p = program(release.side, where);
    pump_until([&] { return p.blocked_at() == release.name; }, kDefaultWithin * slow_,
               release.side + " to reach step " + release.name, release.side);
    say("release " + release.side + " " + release.name);
    p.release(release.name);
    ++consumed_[release.side + " step " + release.name];
}

void Run::play(const Snapshot& checkpoint, const std::string&) { take_checkpoint(checkpoint.name); }

void Run::take_checkpoint(const std::string& name, std::optional<int64_t> since_ns) {
    read_trace();
    seen_.checkpoints.push_back(snapshot(name, since_ns));
    say("checkpoint " + name);
}

void Run::play(const Command& command, const std::string& where) {
    const std::string text = fill_in(command.text);
    say(command.tool + " in the " + command.side + " namespace: " + text);
    std::vector<std::string> argv{"nft", "-f", "-"};
    if (command.tool == "ip") {
        argv = {"ip"};
        std::istringstream words(text);
        for (std::string w; words >> w;) argv.push_back(w);
    }
    CommandResult r = run_command(argv, topology_->host(command.side).netns, command.tool == "nft" ? text + "\n" : "");
    if (r.status != 0) throw StepFailure(where + ": " + command.tool + " refused: " + r.output);
}

void Run::play(const Until& until, const std::string&) {
    const double count = eval(until.count), within = eval(until.within);
    if (!until.counter.empty()) {
        const std::string what = until.side + " " + until.counter + " >= " + std::to_string(std::llround(count));
        say("until " + what + " (kernel timers: up to " + format_seconds(within) + ")");
        const int64_t since = pump_until(
            [&] {
                const Counters now = read_counters(topology_->host(until.side).netns);
                auto it = now.find(until.counter);
                return it != now.end() && static_cast<double>(it->second) >= count;
            },
            within, what);
        if (!until.checkpoint.empty()) take_checkpoint(until.checkpoint, since);
        return;
    }
    std::ostringstream what;
    what << until.side << " has " << count << " " << until.state << " sockets" << (until.timer.empty() ? "" : " with timer " + until.timer);
    say("until " + what.str() + " (kernel timers: up to " + format_seconds(within) + ")");
    const int64_t since = pump_until(
        [&] {
            double n = 0;
            for (const auto& s : diag_[until.side]->dump())
                n += s.state == until.state && (until.timer.empty() || timer_matches(s.timer, until.timer));
            return n == count;
        },
        within, what.str());
    if (!until.checkpoint.empty()) take_checkpoint(until.checkpoint, since);
}

void Run::play(const Kill& kill, const std::string& where) {
    Program& p = program(kill.side, where);
    if (p.exit()) throw StepFailure(where + ": the " + kill.side + " has already ended");
    say(std::string("send SIG") + ::sigabbrev_np(kill.signal) + " to the " + kill.side + " (pid " + std::to_string(p.pid()) + ")");
    p.signal(kill.signal);
}

// Class mode: what the next step does and the question to predict; on a terminal, wait for Enter.
void Run::narrate_before(const Step& step, size_t index) {
    std::ostream& out = o_.out ? *o_.out : std::cout;
    const auto* command = std::get_if<Command>(&step.action);
    const std::string what = command ? command->tool + " in the " + command->side + " namespace: " + fill_in(command->text) : describe(step);
    out << "\n── step " << index + 1 << "/" << v_.steps.size() << ": " << what << "\n";
    if (!step.say.empty()) out << "   " << step.say << "\n";
    if (!step.ask.empty()) out << "   Predict: " << step.ask << "\n";
    if (o_.keyboard) {
        out << "   [Enter] to run it " << std::flush;
        std::string line;
        std::getline(*o_.keyboard, line);
    }
    out << std::flush;
}

// Class mode: the syscalls, state changes and packets that followed the step: every entry not
// shown yet, since a program's lines may be read after the step that caused them has ended.
void Run::narrate_after(const Step& step) {
    std::ostream& out = o_.out ? *o_.out : std::cout;
    if (const auto* release = std::get_if<Release>(&step.action)) {
        // Give the released program a moment to act, until it waits at a step again or ends.
        Program& p = *programs_[release->side];
        try {
            pump_until([&] { return p.exit() || p.blocked_at().has_value(); }, 0.3 * slow_, "the released " + release->side);
        } catch (const StepFailure&) {  // it is still busy (blocked in a syscall): show what it did so far
        }
    }
    read_trace();
    Observations view = seen_;
    view.segments = capture_->segments_so_far();
    for (auto& segment : view.segments) segment.time_ns -= clock_offset_;
    int shown = 0;
    for (const auto& e : timeline(view)) {
        if (!narrated_.insert(e.kind + " " + e.side + " " + std::to_string(e.t) + " " + e.text).second) continue;
        const std::string who = e.kind == "packet" ? (e.to_server ? "client→server" : "server→client") : e.side;
        char line[200];
        std::snprintf(line, sizeof line, "   %8.3f  %-13s %s\n", e.t, who.c_str(), e.text.c_str());
        out << line;
        ++shown;
    }
    if (shown == 0) out << "   (nothing the kernel or the programs did)\n";
    out << std::flush;
}

// The names a command may use (command_names()), which differ run to run.
std::string Run::fill_in(std::string text) const {
    for (const auto& name : command_names()) {
        std::string value = std::to_string(kServerPort);
        if (const size_t dot = name.find('.'); dot != std::string::npos) {
            const Host& h = topology_->host(name.substr(0, dot));
            const std::string field = name.substr(dot + 1);
            value = field == "addr" ? h.address : field == "if" ? h.ifname : h.mac;
        }
        const std::string braced = "{" + name + "}";
        for (size_t at; (at = text.find(braced)) != std::string::npos;) text.replace(at, braced.size(), value);
    }
    return text;
}

// Programs are given a moment to end on their own, then killed; either way the exit is recorded.
void Run::finish_programs() {
    for (auto& [side, program] : programs_) {
        Program& p = *program;  // lambdas cannot capture structured bindings in clang 14
        try {
            pump_until([&p] { return p.exit().has_value(); }, 5.0 * slow_, side + " exit");
        } catch (const StepFailure&) {
            say("the " + side + " did not end: killed");
            p.kill();
            pump_until([&p] { return p.exit().has_value(); }, 5.0 * slow_, side + " exit after SIGKILL");
        }
        seen_.exits[side] = *p.exit();
    }
}

RunResult Run::run() {
    seen_.start_ns = monotonic_ns();
    names_.params = resolve_params(s_, v_, o_.set);
    names_.family = o_.family;  // bad --set: ScenarioError before anything is made
    try {
        slow_ = machine_slow_factor(std::getenv("SOCKLAB_MACHINE_SLOW"));
    } catch (const std::invalid_argument& e) {
        throw EnvironmentError(e.what());
    }

    check_tools();
    const std::string family = o_.family == Family::ipv4 ? "" : o_.family == Family::ipv6 ? "-ipv6" : "-mapped";
    // A retry is a run of its own beside the first attempt, which it must not overwrite.
    const std::string retry = o_.attempt > 1 ? "-retry" : "";
    const std::string run_id = v_.name + family + "-" + utc_now("%Y%m%dT%H%M%SZ") + "-" + std::to_string(::getpid()) + retry;
    dir_ = o_.out_dir.empty() ? o_.captures_root + "/" + s_.name + "/" + run_id : o_.out_dir + retry;
    std::filesystem::create_directories(dir_);

    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.add(SIGHUP);
    signals_.async_wait([this](boost::system::error_code ec, int) {
        if (!ec) interrupted_ = true;
    });

    RunInfo info;
    info.scenario = s_.name;
    info.variant = v_.name;
    info.title = s_.title;
    info.blog_section = s_.blog_section;
    info.run_id = run_id;
    info.family = family_name(o_.family);
    info.started_utc = utc_now("%Y-%m-%dT%H:%M:%SZ");
    info.params = names_.params;
    info.pcap = "capture.pcap";
    info.attempt = o_.attempt;
    if (o_.attempt > 1) info.notes.push_back("a retry: the first attempt failed in a way that looks flaky (timing or a step's deadline)");
    utsname u{};
    ::uname(&u);
    info.kernel = u.release;
    std::sscanf(u.release, "%d.%d", &seen_.kernel_major, &seen_.kernel_minor);
    if (slow_ != 1.0) {
        std::ostringstream note;
        const Timing bare;
        note << "SOCKLAB_MACHINE_SLOW=" << slow_ << " (emulated machine): timing slack " << bare.slack * slow_
             << " s instead of " << bare.slack << " s, arrival allowance " << bare.arrival * slow_ << " s instead of "
             << bare.arrival << " s, default step deadlines " << kDefaultWithin * slow_ << " s instead of "
             << kDefaultWithin << " s";
        info.notes.push_back(note.str());
        say(note.str());
    }

    try {
        set_up(info.phases);
    } catch (const std::exception& e) {
        // Nothing was observed: leave no run directory that looks like a run.
        std::error_code ec;
        if (o_.out_dir.empty()) std::filesystem::remove_all(dir_, ec);
        throw EnvironmentError(e.what());
    }
    clock_offset_ = realtime_ns() - monotonic_ns();
    const int64_t clock_offset = clock_offset_;
    info.phases["setup"] = seconds_now();
    if (o_.set_up_done) o_.set_up_done();
    if (!v_.floor.empty()) info.floor_s = eval(v_.floor);

    bool aborted = false;
    try {
        for (size_t i = 0; i < v_.steps.size(); ++i) {
            if (o_.step) narrate_before(v_.steps[i], i);
            play(v_.steps[i]);
            if (o_.step) narrate_after(v_.steps[i]);
        }
    } catch (const Interrupted& e) {
        aborted = true;
        info.notes.push_back(e.what());
        step_failures_.push_back(run_failure("the choreography", "", "a whole run", e.what(), seconds_now()));
    } catch (const std::exception& e) {  // StepFailure, or an observer that failed mid-run
        aborted = true;
        step_failures_.push_back(run_failure("the choreography", "each step happens within its bound", "every step in time",
                                             e.what(), seconds_now()));
        say(std::string("step failed: ") + e.what());
    }
    if (aborted)
        for (auto& [side, p] : programs_) p->kill();
    finish_programs();
    info.phases["choreography"] = seconds_now() - info.phases["setup"];
    read_trace();
    seen_.checkpoints.push_back(snapshot("end"));

    capture_->stop();
    if (const uint64_t lost = capture_->dropped())
        step_failures_.push_back(run_failure("the capture", "every frame captured", "a complete pcap",
                                             "the capture ring overflowed: " + std::to_string(lost) + " frames lost",
                                             seconds_now()));
    // Removing the trace instance and closing the packet socket each wait out RCU grace periods:
    // side by side, while the evidence is checked (closing_ is joined before the teardown), or
    // once this process has exited, by a reaper (no thread may be mid-teardown at its fork).
    if (!o_.reap_after_exit) {
        closing_.emplace_back([trace = std::move(trace_)]() mutable { trace.reset(); });
        closing_.emplace_back([capture = std::move(capture_)]() mutable { capture.reset(); });
    }
    seen_.segments = read_pcap(dir_ + "/capture.pcap");
    for (auto& segment : seen_.segments) segment.time_ns -= clock_offset;
    if (!seen_.traced) info.notes.push_back(seen_.trace_note);

    names_.seen = &seen_;
    std::vector<Outcome> outcomes = check(v_.expect, seen_, names_.lookup(), Timing{.hz = kernel_hz(), .slack = Timing{}.slack * slow_, .arrival = Timing{}.arrival * slow_});
    outcomes.insert(outcomes.end(), step_failures_.begin(), step_failures_.end());
    info.duration_s = seconds_now();
    info.phases["evidence"] = info.duration_s - info.phases["setup"] - info.phases["choreography"];

    // Every picture is drawn from the report, as socklab show draws them later.
    const nlohmann::json report = report_json(info, seen_, outcomes);
    if (o_.pictures) write_pictures(dir_, report);
    write_report(dir_ + "/report.json", report);  // last: its presence marks a complete run
    if (o_.out) *o_.out << render_terminal(report, o_.color) << std::flush;

    RunResult result;
    result.dir = dir_;
    for (const auto& o : outcomes) (o.skipped ? result.skipped : o.passed ? result.passed : result.failed)++;
    // A failing run tears down here as before: its caller may retry it at once.
    if (o_.reap_after_exit && result.failed == 0 && !o_.keep_netns) hand_over_teardown();
    return result;
}

// The verdict is out; what is left is the kernel's waiting. The objects move out of this Run
// (whose destructor then has nothing to remove) into a place this process never frees: the
// reaper destroys its copies of them.
void Run::hand_over_teardown() {
    struct Parked {
        std::unique_ptr<TraceSession> trace;
        std::unique_ptr<Capture> capture;
        std::unique_ptr<Topology> topology;
    };
    static Parked* parked = nullptr;
    if (trace_) trace_->close_pipe();  // this process's copy would keep the reaper from removing the instance
    parked = new Parked{std::move(trace_), std::move(capture_), std::move(topology_)};
    reap_after_exit([] {  // the namespaces last: while they are there, `socklab sweep` waits (wait_for_reaping)
        parked->trace.reset();
        parked->capture.reset();
        parked->topology.reset();
    });
}

// Waits for the reapers of runs that have exited, found by their namespaces.
void wait_for_reaping() {
    std::set<pid_t> owners;
    for (const auto& name : netns_list())
        if (auto pid = owner_of(name)) owners.insert(*pid);
    for (pid_t pid : owners) wait_for_reaper(pid, 5.0);
}

}  // namespace

std::vector<std::string> sweep_leftovers(bool wait_for_reapers) {
    if (wait_for_reapers) wait_for_reaping();
    std::vector<std::string> removed = Topology::sweep();
    std::string why;
    if (auto root = tracefs_root(why)) sweep_trace_instances(*root, kObjectPrefix);
    return removed;
}

RunResult run_variant(const Scenario& scenario, const Variant& variant, const RunOptions& options) {
    Run run(scenario, variant, options);
    return run.run();
}

}  // namespace socklab
