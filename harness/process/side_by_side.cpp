#include "process/side_by_side.hpp"

#include "common/common.hpp"
#include "process/program.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <numeric>
#include <stdexcept>

namespace socklab {

Scheduler::Scheduler(const std::vector<Job>& jobs, int max_jobs, std::vector<int> cpus)
    : max_jobs_(std::max(1, max_jobs)), cpus_(std::move(cpus)), is_own_(jobs.size()), is_alone_(jobs.size()) {
    if (cpus_.empty()) cpus_.push_back(0);
    std::vector<size_t> order(jobs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return jobs[a].weight > jobs[b].weight; });
    for (auto it = order.rbegin(); it != order.rend(); ++it) {  // heaviest last: taken from the back
        is_own_[*it] = jobs[*it].own_cpu;
        is_alone_[*it] = jobs[*it].own_cpu && jobs[*it].alone;
        (jobs[*it].own_cpu ? own_ : shared_).push_back(*it);
    }
}

std::optional<Scheduler::Start> Scheduler::next() {
    auto start = [&](std::vector<size_t>& queue, std::vector<int> cpus) {
        Start s{queue.back(), std::move(cpus)};
        if (is_own_[s.job]) ++own_running_;
        if (is_alone_[s.job]) ++alone_running_;
        queue.pop_back();
        ++running_;
        return s;
    };
    if (running_ >= max_jobs_) return std::nullopt;
    if (cpus_.size() < 2) {
        // One CPU: the own_cpu jobs go first, beside each other only.
        if (!own_.empty()) return running_ == own_running_ && lane_free_for(own_.back()) ? std::optional(start(own_, cpus_)) : std::nullopt;
        if (own_running_ == 0 && !shared_.empty()) return start(shared_, cpus_);
        return std::nullopt;
    }
    if (!own_.empty() && lane_free_for(own_.back())) return start(own_, {cpus_.back()});
    if (shared_.empty()) return std::nullopt;
    if (own_.empty() && own_running_ == 0) return start(shared_, cpus_);
    return start(shared_, std::vector<int>(cpus_.begin(), cpus_.end() - 1));  // the last CPU is the own_cpu lane's
}

// Room on the own_cpu lane: fewer than kOwnLane there, none alone, and none at all for one alone.
bool Scheduler::lane_free_for(size_t job) const {
    if (alone_running_ > 0) return false;
    return is_alone_[job] ? own_running_ == 0 : own_running_ < std::min(kOwnLane, max_jobs_);
}

void Scheduler::finished(size_t job) {
    --running_;
    if (is_own_.at(job)) --own_running_;
    if (is_alone_.at(job)) --alone_running_;
}

int default_jobs(int cpus, double slow) {
    cpus = std::max(1, cpus);
    const long jobs = std::lround(std::floor(cpus * (1.0 + kRunWait / (kRunCpu * std::max(1.0, slow)))));
    return static_cast<int>(std::max<long>(cpus, std::min<long>(jobs, 64)));
}

std::vector<int> allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (::sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) cpus.push_back(c);
    return cpus;
}

namespace {

double realtime_s() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }
double monotonic_s() { return static_cast<double>(monotonic_ns()) / 1e9; }

std::string read_all(int fd) {
    std::string text;
    char buf[65536];
    ::lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

void write_all(int fd, const std::string& text) {
    for (size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

// A memory file: what a child writes there needs no directory, and leaves nothing behind.
int memory_file(const char* name) {
    const int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
    return fd;
}

struct Child {
    size_t job;
    int slot;
    int out, err, result;
    double t0, started;
};

pid_t job_parent = 0;  // in a job: the process that runs it (ready() tells it)
// Set-ups under way at once: two keep the kernel's serial part busy while one job's own CPU work
// goes on (measured: 177 runs on 2 CPUs, 21.3 s one at a time, 19.0 s two, 19.1 s four).
constexpr size_t kSetUps = 2;

}  // namespace

void SideBySide::ready() {
    if (job_parent != 0) ::kill(job_parent, SIGRTMIN);  // queued: two jobs' signals are never one
}

std::vector<JobOutput> SideBySide::run(const std::vector<Job>& jobs, int max_jobs) {
    std::vector<JobOutput> outputs(jobs.size());
    Scheduler scheduler(jobs, max_jobs, allowed_cpus());
    // The signals are taken in turn by sigwaitinfo below, never by a handler.
    sigset_t waited, old;
    sigemptyset(&waited);
    for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGRTMIN}) sigaddset(&waited, s);
    ::sigprocmask(SIG_BLOCK, &waited, &old);
    std::map<pid_t, Child> children;
    const pid_t parent = ::getpid();
    std::set<pid_t> setting_up;  // the jobs whose set-up is under way
    std::set<int> free_slots;
    for (int slot = 0; slot < std::max(1, max_jobs); ++slot) free_slots.insert(slot);

    auto launch = [&](const Scheduler::Start& start) {
        const int slot = *free_slots.begin();
        free_slots.erase(free_slots.begin());
        Child c{start.job, slot, memory_file("socklab-stdout"), memory_file("socklab-stderr"), memory_file("socklab-result"),
                monotonic_s(), realtime_s()};
        std::cout << std::flush;
        std::cerr << std::flush;
        std::fflush(nullptr);  // nothing buffered here is written twice
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // the run then tears itself down
            if (::getppid() != parent) ::_exit(2);
            job_parent = parent;
            ::sigprocmask(SIG_SETMASK, &old, nullptr);
            cpu_set_t set;
            CPU_ZERO(&set);
            for (int cpu : start.cpus) CPU_SET(cpu, &set);
            ::sched_setaffinity(0, sizeof set, &set);
            ::dup2(c.out, STDOUT_FILENO);
            ::dup2(c.err, STDERR_FILENO);
            int status = 0;
            std::string result;
            try {
                result = run_job(start.job, slot);
            } catch (const std::exception& e) {
                std::cerr << "socklab: " << e.what() << std::endl;
                status = 2;
            }
            std::cout << std::flush;
            std::cerr << std::flush;
            std::fflush(nullptr);
            write_all(c.result, result);
            ::_exit(status);
        }
        children[pid] = c;
        setting_up.insert(pid);
        if (on_start) on_start(start.job, scheduler.running());
    };

    auto reap = [&] {
        int status = 0;
        for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
            auto it = children.find(pid);
            if (it == children.end()) continue;
            const Child c = it->second;
            children.erase(it);
            setting_up.erase(pid);
            free_slots.insert(c.slot);
            JobOutput& o = outputs[c.job];
            o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            o.out = read_all(c.out);
            o.err = read_all(c.err);
            o.result = read_all(c.result);
            for (int fd : {c.out, c.err, c.result}) ::close(fd);
            o.started = c.started;
            o.ended = realtime_s();
            o.seconds = monotonic_s() - c.t0;
            scheduler.finished(c.job);
            if (on_end) on_end(c.job, o, scheduler.running());
        }
    };

    try {
        for (;;) {
            while (!interrupted && setting_up.size() < kSetUps)
                if (auto start = scheduler.next()) launch(*start);
                else break;
            if (children.empty() && (interrupted || scheduler.done())) break;
            siginfo_t info{};
            const int signo = ::sigwaitinfo(&waited, &info);
            if (signo == SIGCHLD) {
                reap();
            } else if (signo == SIGRTMIN) {
                setting_up.erase(info.si_pid);
            } else if (signo > 0 && !interrupted) {
                interrupted = true;
                for (const auto& [pid, c] : children) ::kill(pid, SIGTERM);
            }
        }
    } catch (...) {
        for (const auto& [pid, c] : children) ::kill(pid, SIGTERM);
        for (const auto& [pid, c] : children) ::waitpid(pid, nullptr, 0);
        ::sigprocmask(SIG_SETMASK, &old, nullptr);
        throw;
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return outputs;
}

}  // namespace socklab
