// The census counts per state and the sockets no process holds.
#include <catch2/catch.hpp>

#include "observation/census.hpp"

using namespace socklab;

TEST_CASE("census counts states and unowned sockets") {
    auto sock = [](const char* state, uint64_t inode) {
        SocketInfo s;
        s.state = state;
        s.inode = inode;
        return s;
    };
    Census c = take_census({sock("LISTEN", 10), sock("ESTABLISHED", 0), sock("ESTABLISHED", 0), sock("ESTABLISHED", 11),
                            sock("TIME_WAIT", 0)});
    CHECK(c.total == 5);
    CHECK(c.states["ESTABLISHED"] == 3);
    CHECK(c.unowned["ESTABLISHED"] == 2);
    CHECK(c.unowned.count("LISTEN") == 0);
    CHECK(census_text(c) ==
          "  ESTABLISHED       3  (2 without a process)\n"
          "  TIME_WAIT         1  (1 without a process)\n"
          "  LISTEN            1\n"
          "  total             5\n");
    CHECK(census_json(c)["states"]["TIME_WAIT"] == 1);
    CHECK(take_census({}).total == 0);
}
