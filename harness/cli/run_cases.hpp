// socklab run: the cases a command line asks for (a case is one variant in one address family),
// run one after another or side by side, and what a CI reads of them (KTAP, JUnit).
#pragma once
#include <deque>
#include <string>
#include <vector>

#include "report/ci.hpp"
#include "run/run.hpp"
#include "scenario/scenario.hpp"

namespace socklab {

// "socklab: <message>" on stderr; returns 2, the exit status of a usage or environment error.
int usage_error(const std::string& message);

struct CaseOptions {
    bool all = false;   // --all: every scenario; a variant not in a family named is skipped, not refused
    bool ktap = false;  // --ktap: KTAP on stdout, the per-case lines on stderr, no timelines
    std::string junit;  // --junit FILE
    int jobs = 0;       // --jobs: runs at once (0: default_jobs())
};

class RunCases {
public:
    RunCases(std::string root, RunOptions options, CaseOptions ci)
        : root_(std::move(root)), options_(std::move(options)), ci_(std::move(ci)) {}

    // Each adds cases, or returns the exit status of a usage error (its sentence said) with none added.
    int add_scenario(const std::string& name, const std::vector<std::string>& variants,
                     const std::vector<std::string>& sets, const std::string& family);
    int add_all(const std::string& family);
    // --cases FILE: one "scenario variant family" a line (# comments).
    int add_file(const std::string& path);

    // Runs them (side by side unless --jobs 1 or class mode), prints their timelines and lines in
    // the order they were added, writes KTAP and JUnit; the exit status: 2 when a case could not
    // run, else 1 when one failed (a flake does not fail: it is reported), else 0.
    int run();

private:
    struct Planned {
        const Scenario* scenario;
        const Variant* variant;
        Family family;
        std::string skip_reason;  // not run: why
    };
    static CaseRun unrun(const Planned& p);  // a case's names (and skip reason), before it runs
    std::string root_;
    RunOptions options_;
    CaseOptions ci_;
    std::deque<Scenario> scenarios_;  // a deque: the cases point into it
    std::vector<Planned> cases_;
    std::vector<CaseRun> results_;    // one per case, in order
    bool from_file_ = false;          // --cases: --out is the root of per-case directories, even for one

    const Scenario* load(const std::string& name);
    bool per_case_out() const { return !options_.out_dir.empty() && (cases_.size() > 1 || from_file_); }
    std::string out_dir(const Planned& p) const;  // per_case_out(): DIR/<scenario>/<case>
    CaseRun run_case(const Planned& p, std::ostream& lines, bool last_in_process = false) const;
    void print_skip(const Planned& p, std::ostream& lines) const;
    int side_by_side(int jobs);
    int finish();
};

}  // namespace socklab
