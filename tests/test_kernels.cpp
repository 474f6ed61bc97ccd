// What running under other kernels needs from the harness: has(name) for sysctls only some
// kernels have, and SOCKLAB_MACHINE_SLOW for emulated machines.
#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>

#include "expectations/kernel_rules.hpp"
#include "expectations/expr.hpp"

using namespace socklab;

namespace {

// A 6.1 namespace has no tcp_syn_linear_timeouts; a 6.12 one has it.
double eval_on(const std::map<std::string, double>& names, const std::string& text) {
    return evaluate(text, [&](const std::string& name) -> std::optional<double> {
        if (auto it = names.find(name); it != names.end()) return it->second;
        return std::nullopt;
    });
}

}  // namespace

TEST_CASE("has(name) says whether a name has a value, without failing on one that does not") {
    const std::map<std::string, double> k61{{"client.net.ipv4.tcp_syn_retries", 2}};
    const std::map<std::string, double> k612{{"client.net.ipv4.tcp_syn_retries", 2},
                                             {"client.net.ipv4.tcp_syn_linear_timeouts", 4}};
    CHECK(eval_on(k61, "has(client.net.ipv4.tcp_syn_linear_timeouts)") == 0);
    CHECK(eval_on(k612, "has(client.net.ipv4.tcp_syn_linear_timeouts)") == 1);
    CHECK(eval_on(k61, "has( client.net.ipv4.tcp_syn_retries )") == 1);
    // In a "when": linear timeouts only where the sysctl exists.
    CHECK(eval_on(k612, "has(client.net.ipv4.tcp_syn_linear_timeouts) == 1") == 1);
    CHECK(eval_on(k61, "1 - has(client.net.ipv4.tcp_syn_linear_timeouts)") == 1);
    CHECK(eval_on(k612, "has(client.net.ipv4.tcp_syn_linear_timeouts) * client.net.ipv4.tcp_syn_linear_timeouts") == 4);
    // A bare unknown name is still an error: has() is the one place it is not.
    CHECK_THROWS_WITH(eval_on(k61, "client.net.ipv4.tcp_syn_linear_timeouts"), Catch::Contains("unknown name"));
}

TEST_CASE("has() takes exactly one name") {
    const std::map<std::string, double> none;
    for (const char* bad : {"has()", "has(1)", "has(a, b)", "has(a + 1)", "has(a", "has((a))"}) {
        INFO(bad);
        CHECK_THROWS_AS(eval_on(none, bad), ExprError);
    }
    CHECK_THROWS_WITH(eval_on(none, "has(1)"), Catch::Contains("has() takes one name"));
}

TEST_CASE("SOCKLAB_MACHINE_SLOW: 1 when unset, the factor when set, refused when not a factor") {
    CHECK(machine_slow_factor(nullptr) == 1.0);
    CHECK(machine_slow_factor("") == 1.0);
    CHECK(machine_slow_factor("10") == 10.0);
    CHECK(machine_slow_factor("2.5") == 2.5);
    for (const char* bad : {"0", "0.5", "-3", "ten", "10x", "inf", "nan", "1e9"}) {
        INFO(bad);
        CHECK_THROWS_AS(machine_slow_factor(bad), std::invalid_argument);
    }
    CHECK_THROWS_WITH(machine_slow_factor("ten"), Catch::Contains("SOCKLAB_MACHINE_SLOW=ten"));
}

TEST_CASE("the SYN schedule with and without tcp_syn_linear_timeouts (6.5+ against 6.1)") {
    // 6.1: no such sysctl, the RTO doubles from the start.
    Schedule old_kernel = syn_sent_schedule({{"net.ipv4.tcp_syn_retries", 2}});
    CHECK(old_kernel.retransmits == std::vector<double>{1, 3});
    CHECK(old_kernel.give_up == 7);
    // 6.5+: four linear timeouts of 1 s, then doubling; the same 7 s give-up.
    Schedule linear = syn_sent_schedule({{"net.ipv4.tcp_syn_retries", 2}, {"net.ipv4.tcp_syn_linear_timeouts", 4}});
    CHECK(linear.retransmits == std::vector<double>{1, 2, 3, 4, 5});
    CHECK(linear.give_up == 7);
}
