#include "cli/run_cases.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/common.hpp"
#include "expectations/kernel_rules.hpp"
#include "observation/tracefs.hpp"
#include "process/side_by_side.hpp"
#include "report/html.hpp"
#include "report/report.hpp"
#include "scenario/names.hpp"
#include "topology/owner.hpp"

namespace socklab {

int usage_error(const std::string& message) {
    std::cerr << "socklab: " << message << std::endl;
    return 2;
}

namespace {

std::map<std::string, std::string> parse_sets(const std::vector<std::string>& sets) {
    std::map<std::string, std::string> values;
    for (const auto& s : sets) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0)
            throw ScenarioError("--set " + s + ": write --set name=value, e.g. --set backlog=3");
        values[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return values;
}

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& i : items) text += (text.empty() ? "" : ", ") + i;
    return text;
}

bool runs_in(const Variant& v, Family f) { return std::find(v.families.begin(), v.families.end(), f) != v.families.end(); }

std::string shown_name(const std::string& scenario, const std::string& variant, Family f) {
    return scenario + "/" + variant + (f == Family::ipv4 ? "" : " (family " + family_name(f) + ")");
}

// The exit status a `socklab run` of this case alone would have had.
int case_status(const CaseRun& c) {
    const Verdict v = verdict(c);
    return v == Verdict::error ? 2 : v == Verdict::fail ? 1 : 0;
}

}  // namespace

const Scenario* RunCases::load(const std::string& name) {
    for (const auto& s : scenarios_)
        if (s.name == name) return &s;
    auto names = scenario_names(root_);
    if (std::find(names.begin(), names.end(), name) == names.end())
        return nullptr;
    scenarios_.push_back(load_scenario(root_ + "/" + name, options_.programs_dir + "/" + name + "/names.json"));
    return &scenarios_.back();
}

int RunCases::add_scenario(const std::string& name, const std::vector<std::string>& variants,
                           const std::vector<std::string>& sets, const std::string& family) {
    std::vector<Family> families;
    for (Family f : {Family::ipv4, Family::ipv6, Family::mapped})
        if (family == "all" || family_name(f) == family) families.push_back(f);
    if (families.empty()) return usage_error("--family " + family + ": use 4, 6, mapped or all");
    const Scenario* scenario = load(name);
    if (!scenario) return usage_error("no scenario named \"" + name + "\" (known: " + joined(scenario_names(root_)) +
                                      "; see socklab list)");
    std::vector<const Variant*> chosen;
    for (const auto& v : variants) {
        const Variant* found = scenario->variant(v);
        if (!found) {
            std::vector<std::string> known;
            for (const auto& x : scenario->variants) known.push_back(x.name);
            return usage_error(name + " has no variant \"" + v + "\" (it has: " + joined(known) + ")");
        }
        chosen.push_back(found);
    }
    if (chosen.empty())
        for (const auto& v : scenario->variants) chosen.push_back(&v);
    options_.set = parse_sets(sets);
    for (const auto* v : chosen) resolve_params(*scenario, *v, options_.set);  // every --set checked before any run

    // A variant that does not run in a family named on its own is an error; with "all" (or --all), skipped.
    for (Family f : families)
        for (const auto* v : chosen)
            if (!runs_in(*v, f) && family != "all" && !ci_.all) {
                std::vector<std::string> in;
                for (Family g : v->families) in.push_back(family_name(g));
                return usage_error(name + "/" + v->name + " does not run in family " + family_name(f) + " (it runs in " +
                                   joined(in) + "; see its lab sheet)");
            }
    // --all on a kernel without IPv6: the families it cannot run are skipped, with the reason.
    const bool ipv6 = std::ifstream("/proc/sys/net/ipv6/conf/default/disable_ipv6").good();
    for (Family f : families)
        for (const auto* v : chosen) {
            Planned p{scenario, v, f, ""};
            if (!runs_in(*v, f)) p.skip_reason = "not run in family " + family_name(f) + " (see its lab sheet)";
            else if (ci_.all && f != Family::ipv4 && !ipv6) p.skip_reason = "IPv6 is not available in this kernel";
            cases_.push_back(p);
        }
    return 0;
}

int RunCases::add_all(const std::string& family) {
    for (const auto& scenario : scenario_names(root_)) {
        try {
            if (int status = add_scenario(scenario, {}, {}, family)) return status;
        } catch (const ScenarioError& e) {  // one description that does not load: the others still run
            std::cerr << "socklab: scenario " << scenario << " cannot be loaded: " << e.what() << std::endl;
            cases_.push_back(Planned{nullptr, nullptr, Family::ipv4, ""});
            results_.resize(cases_.size());
            results_.back().scenario = scenario;
            results_.back().variant = "description";
            results_.back().error = e.what();
        }
    }
    return 0;
}

int RunCases::add_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return usage_error("--cases " + path + ": " + std::strerror(errno) + " (give a file of \"scenario variant family\" lines)");
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string scenario, variant, family, extra;
        if (!(words >> scenario)) continue;
        const std::string at = path + ":" + std::to_string(number) + ": ";
        if (!(words >> variant >> family) || (words >> extra))
            return usage_error(at + "write \"scenario variant family\" (e.g. time_wait timer 6), not \"" + line + "\"");
        if (!parse_family(family)) return usage_error(at + "family " + family + ": use 4, 6 or mapped");
        try {
            if (int status = add_scenario(scenario, {variant}, {}, family)) {
                std::cerr << "socklab: (" << at << "the case refused above)" << std::endl;
                return status;
            }
        } catch (const ScenarioError& e) {
            return usage_error(at + e.what());
        }
    }
    if (cases_.empty()) return usage_error("--cases " + path + " names no case");
    from_file_ = true;
    return 0;
}

CaseRun RunCases::unrun(const Planned& p) {
    CaseRun c;
    c.scenario = p.scenario->name;
    c.variant = p.variant->name;
    c.family = family_name(p.family);
    c.skip_reason = p.skip_reason;
    return c;
}

// With --out and several cases (or --cases), each case's run directory is <out>/<scenario>/<case>,
// named as its ctest test ("timer", "timer.ipv6"), with its output beside it (.stdout, .stderr,
// .status: the exit status a run of it alone would have had, and when it started and ended).
std::string RunCases::out_dir(const Planned& p) const {
    if (!per_case_out()) return options_.out_dir;
    return options_.out_dir + "/" + p.scenario->name + "/" +
           case_name(unrun(p))
               .substr(p.scenario->name.size() + 1);
}

// One case, retried once after a flaky-looking failure (netdev CI's rule): a pass on the retry is
// a flake, and both attempts' run directories stay. The last run of this process, when it
// passes, leaves its teardown to a reaper.
CaseRun RunCases::run_case(const Planned& p, std::ostream& lines, bool last_in_process) const {
    CaseRun c = unrun(p);
    RunOptions options = options_;
    options.reap_after_exit = last_in_process;
    options.family = p.family;
    options.out_dir = out_dir(p);
    const std::string name = p.scenario->name + "/" + p.variant->name;
    for (int attempt = 1; attempt <= 2; ++attempt) {
        options.attempt = attempt;
        RunResult r;
        try {
            r = run_variant(*p.scenario, *p.variant, options);
        } catch (const EnvironmentError& e) {
            c.error = e.what();
            break;
        }
        c.dirs.push_back(r.dir);
        c.attempts.push_back(read_report(r.dir + "/report.json"));
        const bool retry = r.failed > 0 && attempt == 1 && flaky_looking(c.attempts.back());
        lines << shown_name(p.scenario->name, p.variant->name, p.family) << ": " << (attempt > 1 ? "retry: " : "")
              << r.passed << " passed, " << r.failed << " failed, " << r.skipped << " skipped; report and capture in "
              << r.dir << "\n";
        if (attempt > 1 && r.failed == 0) lines << name << ": FLAKE: it failed, then passed on retry (a flake, not a pass)\n";
        if (!retry) break;
        lines << name << ": the failure looks flaky (timing or a step's deadline): retrying once\n";
    }
    lines << std::flush;
    return c;
}

void RunCases::print_skip(const Planned& p, std::ostream& lines) const {
    lines << p.scenario->name << "/" << p.variant->name << ": " << p.skip_reason << "\n";
}

int RunCases::run() {
    results_.resize(cases_.size());
    std::ostream& lines = ci_.ktap ? std::cerr : std::cout;
    size_t runnable = 0;
    for (const auto& p : cases_) runnable += p.scenario && p.skip_reason.empty();
    double slow = 1.0;
    try {
        slow = machine_slow_factor(std::getenv("SOCKLAB_MACHINE_SLOW"));
    } catch (const std::invalid_argument& e) {
        return usage_error(e.what());
    }
    const int jobs = ci_.jobs > 0 ? ci_.jobs : default_jobs(static_cast<int>(allowed_cpus().size()), slow);
    if (options_.step && per_case_out()) return usage_error("--out with several cases needs their runs side by side: drop --step");
    kernel_hz();  // read once here (under emulation, zcat costs a second), not once in each run
    // One case, or class mode (which talks to the user as it goes): here, as it happens.
    if ((runnable <= 1 && !per_case_out()) || options_.step) {
        for (size_t i = 0; i < cases_.size(); ++i) {
            const Planned& p = cases_[i];
            if (!p.scenario) continue;  // a description that did not load: its result is there already
            results_[i] = unrun(p);
            if (!p.skip_reason.empty()) {
                print_skip(p, lines);
                continue;
            }
            results_[i] = run_case(p, lines, runnable == 1);
            if (!results_[i].error.empty()) {
                if (!ci_.all) return usage_error(results_[i].error);  // one scenario asked for: exit 2 at once, as always
                std::cerr << "socklab: " << case_name(results_[i]) << " could not run: " << results_[i].error << std::endl;
            }
        }
        return finish();
    }
    return side_by_side(jobs);
}

// Each case in a child process of its own (process/side_by_side), at most `jobs` at once; a
// line on stderr as each ends, and each case's own output, whole, in the order of the cases.
int RunCases::side_by_side(int jobs) {
    std::ostream& lines = ci_.ktap ? std::cerr : std::cout;
    std::vector<size_t> index;  // job -> case
    std::vector<Job> list;
    for (size_t i = 0; i < cases_.size(); ++i) {
        const Planned& p = cases_[i];
        if (!p.scenario || !p.skip_reason.empty()) continue;
        index.push_back(i);
        list.push_back({shown_name(p.scenario->name, p.variant->name, p.family),
                        floor_at_defaults(*p.scenario, *p.variant, true).value_or(1.0), !p.variant->own_cpu.empty(),
                        p.variant->own_cpu_alone});
    }
    std::vector<bool> ended(cases_.size());
    std::vector<JobOutput> outputs(cases_.size());
    size_t printed = 0, done = 0;
    auto print_ready = [&] {
        for (; printed < cases_.size(); ++printed) {
            const Planned& p = cases_[printed];
            if (!p.scenario) continue;
            if (!p.skip_reason.empty()) {
                results_[printed] = unrun(p);
                print_skip(p, lines);
                continue;
            }
            if (!ended[printed]) break;
            std::cout << outputs[printed].out << std::flush;
        }
    };
    std::cerr << "socklab: " << list.size() << " runs, up to " << jobs << " at once, the longest first" << std::endl;
    SideBySide runs;
    // A trace instance a job slot, made by its first run and reused by the runs after it there.
    const std::string owned = owned_name("trace-");  // this process's name, not a job's
    auto instance = [&owned](int slot) { return owned + std::to_string(slot); };
    runs.run_job = [&](size_t job, int slot) {
        options_.set_up_done = &SideBySide::ready;  // in this job's own process: the next may start
        options_.trace_instance = instance(slot);
        const CaseRun c = run_case(cases_[index[job]], lines);
        return nlohmann::json{{"dirs", c.dirs}, {"error", c.error}}.dump();
    };
    runs.on_end = [&](size_t job, const JobOutput& o, int running) {
        const size_t i = index[job];
        const Planned& p = cases_[i];
        CaseRun& c = results_[i];
        c = unrun(p);
        try {
            const auto result = nlohmann::json::parse(o.result);
            c.error = result.at("error").get<std::string>();
            for (const auto& dir : result.at("dirs")) {
                c.dirs.push_back(dir.get<std::string>());
                c.attempts.push_back(read_report(c.dirs.back() + "/report.json"));
            }
        } catch (const std::exception& e) {  // the child died before it could say (e.g. a signal)
            c.error = "the run ended without a result (exit status " + std::to_string(o.status) + ")";
        }
        ended[i] = true;
        outputs[i] = o;
        ++done;
        char timing[64];
        std::snprintf(timing, sizeof timing, "%.1f s", o.seconds);
        std::cerr << "[" << done << "/" << list.size() << "] " << list[job].name << ": " << verdict_name(verdict(c)) << " ("
                  << timing << (running ? ", " + std::to_string(running) + " running" : "") << ")"
                  << (c.error.empty() ? "" : ": could not run: " + c.error) << std::endl;
        // A failure's own progress lines say where it went wrong.
        if (verdict(c) == Verdict::fail || verdict(c) == Verdict::error) std::cerr << o.err << std::flush;
        if (per_case_out()) {
            const std::string base = out_dir(p);
            std::filesystem::create_directories(std::filesystem::path(base).parent_path());
            write_file_atomically(base + ".stdout", o.out);
            write_file_atomically(base + ".stderr", o.err + (c.error.empty() ? "" : "socklab: " + c.error + "\n"));
            char status[96];
            std::snprintf(status, sizeof status, "%d %.6f %.6f\n", case_status(c), o.started, o.ended);
            write_file_atomically(base + ".status", status);
        }
        print_ready();
    };
    runs.run(list, jobs);
    std::string why;
    if (const auto root = tracefs_root(why))
        for (int slot = 0; slot < jobs; ++slot) remove_trace_instance(*root, instance(slot));
    print_ready();
    if (runs.interrupted) {
        std::cerr << "socklab: interrupted: " << done << " of " << list.size() << " runs ended" << std::endl;
        return 2;
    }
    return finish();
}

// KTAP and JUnit written; the exit status of the cases run.
int RunCases::finish() {
    int status = 0;
    for (const auto& c : results_) {
        const Verdict v = verdict(c);
        if (v == Verdict::error) status = 2;
        else if (v == Verdict::fail && status == 0) status = 1;
    }
    if (ci_.ktap) std::cout << ktap(results_) << std::flush;
    if (!ci_.junit.empty()) {
        try {
            write_file_atomically(ci_.junit, junit(results_));
        } catch (const std::runtime_error& e) {
            return usage_error(std::string("--junit: ") + e.what());
        }
    }
    return status;
}

}  // namespace socklab
