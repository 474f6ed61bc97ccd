#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <set>
#include <string>

#include "process/side_by_side.hpp"

using namespace socklab;

namespace {

// Plays the scheduler to the end, finishing the oldest running job each time nothing can start:
// the order jobs started in, with the CPUs each was given and how many ran beside it.
struct Played {
    std::vector<size_t> order;
    std::vector<std::vector<int>> cpus;
    std::vector<std::set<size_t>> beside;  // the jobs running when each started
    int most = 0;
};

Played play(const std::vector<Job>& jobs, int max_jobs, std::vector<int> cpus) {
    Scheduler s(jobs, max_jobs, std::move(cpus));
    Played p;
    std::vector<size_t> running;
    while (!s.done()) {
        for (auto start = s.next(); start; start = s.next()) {
            p.order.push_back(start->job);
            p.cpus.push_back(start->cpus);
            p.beside.push_back(std::set<size_t>(running.begin(), running.end()));
            running.push_back(start->job);
        }
        p.most = std::max(p.most, s.running());
        REQUIRE(!running.empty());  // never stuck: something runs, or everything is done
        s.finished(running.front());
        running.erase(running.begin());
    }
    return p;
}

}  // namespace

TEST_CASE("the heaviest jobs start first, at most max_jobs at once") {
    std::vector<Job> jobs{{"a", 1}, {"b", 15}, {"c", 3}, {"d", 3}, {"e", 0}};
    const Played p = play(jobs, 2, {0, 1});
    CHECK(p.order == std::vector<size_t>{1, 2, 3, 0, 4});  // ties (c, d) in the given order
    CHECK(p.most == 2);
    for (const auto& cpus : p.cpus) CHECK(cpus == std::vector<int>{0, 1});
}

TEST_CASE("own_cpu jobs have the last CPU to themselves, at most kOwnLane at once; the others share the rest") {
    std::vector<Job> jobs{{"long", 15}, {"short", 1}};
    for (int i = 0; i < kOwnLane + 2; ++i) jobs.push_back({"nagle" + std::to_string(i), 0.1, true});
    const Played p = play(jobs, 32, {0, 1});
    int own_beside_most = 0;
    for (size_t i = 0; i < p.order.size(); ++i) {
        if (!jobs[p.order[i]].own_cpu) continue;
        CHECK(p.cpus[i] == std::vector<int>{1});
        int own_beside = 0;
        for (size_t other : p.beside[i]) own_beside += jobs[other].own_cpu;
        own_beside_most = std::max(own_beside_most, own_beside);
    }
    CHECK(own_beside_most == kOwnLane - 1);
    const auto at = [&](size_t job) { return std::find(p.order.begin(), p.order.end(), job) - p.order.begin(); };
    CHECK(p.cpus[at(0)] == std::vector<int>{0});  // started while the lane was busy: never on CPU 1
    CHECK(p.cpus[at(1)] == std::vector<int>{0});
}

TEST_CASE("an own_cpu job that is alone has the lane to itself") {
    std::vector<Job> jobs{{"long", 15}, {"nagle", 0.2, true, true}, {"orphan1", 0.3, true}, {"orphan2", 0.1, true},
                          {"cork", 0.1, true, true}};
    for (const auto& cpus : {std::vector<int>{0, 1}, std::vector<int>{0}}) {
        const Played p = play(jobs, 8, cpus);
        for (size_t i = 0; i < p.order.size(); ++i)
            for (size_t other : p.beside[i])
                if (jobs[p.order[i]].own_cpu && (jobs[p.order[i]].alone || jobs[other].alone)) CHECK(!jobs[other].own_cpu);
    }
}

TEST_CASE("with one CPU the own_cpu jobs go first, beside each other only") {
    std::vector<Job> jobs{{"long", 15}, {"nagle", 0.2, true}, {"short", 1}, {"cork", 0.1, true}};
    const Played p = play(jobs, 8, {3});
    for (size_t i = 0; i < p.order.size(); ++i)
        for (size_t other : p.beside[i]) CHECK(jobs[p.order[i]].own_cpu == jobs[other].own_cpu);
    CHECK(jobs[p.order[0]].own_cpu);
    CHECK(jobs[p.order[1]].own_cpu);
}

TEST_CASE("the default number of runs follows the CPUs and the machine's slowness") {
    CHECK(default_jobs(2, 1) == 32);   // a run waits 2 s for 0.13 s of CPU
    CHECK(default_jobs(1, 1) == 16);
    CHECK(default_jobs(1, 10) == 2);   // TCG: a run's CPU work is ten times the host's
    CHECK(default_jobs(2, 10) == 5);
    CHECK(default_jobs(1, 1000) == 1); // never fewer than one a CPU
    CHECK(default_jobs(64, 1) == 64);  // nor more than 64, unless there are more CPUs
    CHECK(default_jobs(4, 2) == 34);
}

TEST_CASE("side by side: each job's output comes back whole, whatever order they end in") {
    std::vector<Job> jobs;
    for (int i = 0; i < 6; ++i) jobs.push_back({"job" + std::to_string(i), static_cast<double>(i)});
    SideBySide runs;
    std::vector<size_t> ended;
    int most = 0;
    runs.on_start = [&](size_t, int running) { most = std::max(most, running); };
    runs.run_job = [](size_t i, int slot) {
        if (slot < 0 || slot >= 3) throw std::runtime_error("slot out of range");
        SideBySide::ready();  // its set-up done: the next may start beside it
        ::usleep(static_cast<useconds_t>(2000 * (6 - i)));
        std::cout << "out " << i << "\n";
        std::cerr << "err " << i << "\n";
        if (i == 4) throw std::runtime_error("job 4 fails");
        return "result " + std::to_string(i);
    };
    runs.on_end = [&](size_t i, const JobOutput&, int) { ended.push_back(i); };
    const auto outputs = runs.run(jobs, 3);
    REQUIRE(outputs.size() == 6);
    CHECK(ended.size() == 6);
    for (size_t i = 0; i < 6; ++i) {
        CHECK(outputs[i].out == "out " + std::to_string(i) + "\n");
        if (i == 4) {
            CHECK(outputs[i].status == 2);
            CHECK(outputs[i].err == "err 4\nsocklab: job 4 fails\n");
            CHECK(outputs[i].result.empty());
        } else {
            CHECK(outputs[i].status == 0);
            CHECK(outputs[i].err == "err " + std::to_string(i) + "\n");
            CHECK(outputs[i].result == "result " + std::to_string(i));
        }
    }
    CHECK(!runs.interrupted);
    CHECK(most == 3);
}
