// Runs side by side: many jobs (socklab's runs of one variant in one family) at once, each in a
// child process of its own. Runs mostly wait on kernel timers, so their waits overlap; the
// longest start first, so the last to end is not a long one started late. A job whose evidence
// is sensitive to CPU contention gets a CPU of its own, or (with one CPU) runs alone.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace socklab {

struct Job {
    std::string name;      // for the progress lines: "time_wait/timer (family 6)"
    double weight = 0;     // seconds it is expected to take (its floor): the heaviest start first
    bool own_cpu = false;  // sensitive to CPU contention (e.g. a 40 ms delayed-ACK clock)
    bool alone = false;    // own_cpu, and not even beside another own_cpu job
};

// Which job starts next and on which CPUs: a pure state machine, so that its rules are tested
// without running anything.
//   - At most max_jobs at once; the heaviest first (ties in the given order).
//   - With two CPUs or more, the last one is the lane of the own_cpu jobs: they run there, at most
//     kOwnLane at a time (an `alone` one by itself), and while any is waiting or running the other
//     jobs start on the other CPUs only. (Such a job mostly waits on a timer; what it must not meet is a CPU shared with
//     the many: one at a time made the suite's 60 of them take 34 s, twice the longest floor.)
//   - With one CPU, the own_cpu jobs go first, at most kOwnLane at a time, and nothing beside them.
inline constexpr int kOwnLane = 4;
class Scheduler {
public:
    struct Start {
        size_t job;
        std::vector<int> cpus;  // the affinity its process gets
    };
    Scheduler(const std::vector<Job>& jobs, int max_jobs, std::vector<int> cpus);
    std::optional<Start> next();  // the job that may start now, if any
    void finished(size_t job);
    bool done() const { return running_ == 0 && own_.empty() && shared_.empty(); }
    int running() const { return running_; }

private:
    int max_jobs_;
    std::vector<int> cpus_;
    std::vector<size_t> own_, shared_;  // waiting, heaviest last (taken from the back)
    std::vector<bool> is_own_, is_alone_;
    int running_ = 0, own_running_ = 0, alone_running_ = 0;
    bool lane_free_for(size_t job) const;
};

// The number of runs at once when none is asked for: enough to keep each CPU busy, no more. A
// run costs about kRunCpu seconds of CPU on the host (set-up, evidence, teardown; `slow` times
// that under emulation, SOCKLAB_MACHINE_SLOW) and waits about kRunWait seconds besides (the
// suite's 177 runs: 237 s of timer floors and their programs' own waits), so a CPU has room for
// 1 + kRunWait / (kRunCpu * slow) of them, rounded down: 16 on the host, 2 under TCG (measured
// there: 3 a CPU made four of the guests' 354 cells fail on timing, 2 one, which now has a CPU of
// its own).
inline constexpr double kRunCpu = 0.13, kRunWait = 2.0;
int default_jobs(int cpus, double slow);

// The CPUs this process may run on (sched_getaffinity).
std::vector<int> allowed_cpus();

struct JobOutput {
    int status = 0;              // exit status; 128 + N when killed by signal N
    std::string out, err;        // what the child wrote on stdout and on stderr
    std::string result;          // what run_job returned in the child
    double seconds = 0;          // from its start to its end
    double started = 0, ended = 0;  // CLOCK_REALTIME seconds
};

// Runs run_job(i, slot) for each job in a child process (fork: it sees the caller's state as it was),
// its stdout and stderr kept in memory files, at most max_jobs at once as the Scheduler says.
// Set-ups go two at a time: a job starts once fewer than two others are still setting up (a job
// calls ready() when its set-up is done). Making namespaces, links and trace instances is the
// kernel's serial work (the RTNL lock, RCU grace periods): thirty set-ups at once take seconds
// each, and the longest runs, started first, would end late.
// on_start and on_end are called in this process as jobs start and end. A SIGINT, SIGTERM or
// SIGHUP stops new starts, is passed on to every running child (each tears its run down) and
// makes it return once all have ended, with `interrupted` set. A child whose parent dies gets
// SIGTERM (PR_SET_PDEATHSIG), so nothing is left behind either way.
struct SideBySide {
    // slot: which of the max_jobs places the job has (0 .. max_jobs - 1), free again when it ends,
    // so that what a job may reuse from the one before it in that place (a trace instance) is its
    // alone while it runs.
    std::function<std::string(size_t job, int slot)> run_job;
    std::function<void(size_t, int running)> on_start;
    std::function<void(size_t, const JobOutput&, int running)> on_end;
    bool interrupted = false;
    std::vector<JobOutput> run(const std::vector<Job>& jobs, int max_jobs);
    // In a job: its set-up is done, the next may start (nothing, outside a job).
    static void ready();
};

}  // namespace socklab
