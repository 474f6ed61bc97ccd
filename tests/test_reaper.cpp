// The reaper (process/reaper) and the claim it holds (topology/owner): a run that has exited
// keeps its names while its reaper works, a sweep waits for the reaper, and a killed reaper lets
// go so that the next sweep removes what it left.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process/reaper.hpp"
#include "topology/owner.hpp"

using namespace socklab;

namespace {

// A "run" in a child process: names an object (claiming its pid), hands a teardown to a reaper
// and exits. The teardown reports the reaper's pid on `reported`, then waits on `gate` until
// the test lets it finish.
pid_t exited_run_with_reaper(int gate, int reported) {
    const pid_t run = ::fork();
    REQUIRE(run >= 0);
    if (run == 0) {
        owned_name("x");
        reap_after_exit([gate, reported] {
            const pid_t self = ::getpid();
            if (::write(reported, &self, sizeof self) != sizeof self) ::_exit(3);
            char byte;
            (void)::read(gate, &byte, 1);
        });
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(run, &status, 0) == run);  // gone from the process table: only a claim keeps it "alive"
    return run;
}

}  // namespace

TEST_CASE("a reaper holds its run's names until its teardown ends", "[reaper]") {
    int gate[2], reported[2];
    REQUIRE(::pipe(gate) == 0);
    REQUIRE(::pipe(reported) == 0);
    const pid_t run = exited_run_with_reaper(gate[0], reported[1]);
    pid_t reaper = 0;
    REQUIRE(::read(reported[0], &reaper, sizeof reaper) == sizeof reaper);  // the teardown has begun
    const std::string name = "socklab-" + std::to_string(run) + "-x";

    CHECK(owner_alive(run));
    CHECK_FALSE(is_stale(name));
    CHECK_FALSE(wait_for_reaper(run, 0.05));  // still at work

    REQUIRE(::write(gate[1], "g", 1) == 1);
    CHECK(wait_for_reaper(run, 5.0));
    CHECK_FALSE(owner_alive(run));
    CHECK(is_stale(name));
    for (int fd : {gate[0], gate[1], reported[0], reported[1]}) ::close(fd);
}

TEST_CASE("a killed reaper lets go of its run's names", "[reaper]") {
    int gate[2], reported[2];
    REQUIRE(::pipe(gate) == 0);
    REQUIRE(::pipe(reported) == 0);
    const pid_t run = exited_run_with_reaper(gate[0], reported[1]);
    pid_t reaper = 0;
    REQUIRE(::read(reported[0], &reaper, sizeof reaper) == sizeof reaper);
    CHECK(owner_alive(run));

    REQUIRE(::kill(reaper, SIGKILL) == 0);
    CHECK(wait_for_reaper(run, 5.0));  // its sockets close as it dies, before anyone reaps it
    CHECK(is_stale("socklab-" + std::to_string(run) + "-x"));
    for (int fd : {gate[0], gate[1], reported[0], reported[1]}) ::close(fd);
}

TEST_CASE("a live run is not waited for as a reaper", "[reaper]") {
    owned_name("x");  // this process's own claim
    CHECK(owner_alive(::getpid()));
    CHECK(wait_for_reaper(::getpid(), 5.0));  // at once: a live run's objects are its own business
}
