// The kernel timer rules against what this machine's 6.18 kernel was measured to do
// (shared/reference/kernel-facts.md), and the timer windows.
#include <catch2/catch.hpp>

#include "expectations/kernel_rules.hpp"

using namespace socklab;

namespace {
Sysctls client(long retries, long linear) {
    Sysctls s{{"net.ipv4.tcp_syn_retries", retries}};
    if (linear >= 0) s["net.ipv4.tcp_syn_linear_timeouts"] = linear;
    return s;
}
}  // namespace

TEST_CASE("SYN retransmits: linear first on 6.5+, doubling before") {
    // Measured: +1, 2, 3, 4, 5, 7, 11, 19 s ... ETIMEDOUT at 131-134 s for the defaults.
    Schedule s = syn_sent_schedule(client(6, 4));
    CHECK(s.retransmits == std::vector<double>{1, 2, 3, 4, 5, 7, 11, 19, 35, 67});
    CHECK(s.give_up == 131);
    // Measured: syn_retries 2: 5 retransmits, ETIMEDOUT at 7.1 s; syn_retries 1: 2 and 3.1 s.
    CHECK(syn_sent_schedule(client(2, 4)).retransmits.size() == 5);
    CHECK(syn_sent_schedule(client(2, 4)).give_up == 7);
    CHECK(syn_sent_schedule(client(1, 4)).retransmits == std::vector<double>{1, 2});
    CHECK(syn_sent_schedule(client(1, 4)).give_up == 3);
    // Linear timeouts 0, or a kernel without the sysctl (6.1): 1 and 3 s, ETIMEDOUT at 7 s.
    CHECK(syn_sent_schedule(client(2, 0)).retransmits == std::vector<double>{1, 3});
    CHECK(syn_sent_schedule(client(2, -1)).retransmits == std::vector<double>{1, 3});
    CHECK(syn_sent_schedule(client(6, -1)).give_up == 127);
}

TEST_CASE("SYN-ACK retransmits double from 1 s") {
    // Measured with tcp_synack_retries 5: +1.0, 3.0, 7.2, 15.4, 31.5 s.
    Schedule s = syn_recv_schedule({{"net.ipv4.tcp_synack_retries", 5}});
    CHECK(s.retransmits == std::vector<double>{1, 3, 7, 15, 31});
    CHECK(s.give_up == 63);
    CHECK(syn_recv_schedule({{"net.ipv4.tcp_synack_retries", 2}}).give_up == 7);
}

TEST_CASE("timer windows grow with the wheel's granularity") {
    // 1 s at HZ=250 is 250 jiffies: level 1, 8-jiffy granularity.
    Window one = timer_window(1.0, 250, 0.0);
    CHECK(one.lo == Approx(0.995));
    CHECK(one.hi == Approx(1.0 + 9 * 0.004));
    // 4 s = 1000 jiffies: level 2, 64 jiffies; the measured 4.2 s interval must fit, 5 s must not.
    Window four = timer_window(4.0, 250, 0.04);
    CHECK(four.hi > 4.2);
    CHECK(four.hi < 4.5);
    // A 2 s interval is never taken for 1 s, nor the reverse.
    CHECK(timer_window(1.0, 100, 0.04).hi < timer_window(2.0, 100, 0.04).lo);
}

TEST_CASE("the delayed-ACK floor is HZ/25 jiffies") {
    CHECK(delack_min(250) == Approx(0.040));   // 10 jiffies
    CHECK(delack_min(100) == Approx(0.040));   // 4 jiffies
    CHECK(delack_min(1000) == Approx(0.040));  // 40 jiffies
    CHECK(delack_min(300) == Approx(0.040));   // 12 jiffies
    CHECK(rule_values({}, {})["delack.min"] == Approx(delack_min(kernel_hz())));
    // The window of a 40 ms timer at HZ=250 takes a 40 to 42 ms delayed ACK, not 30 ms nor 90 ms.
    const Window w = timer_window(delack_min(250), 250, 0.04);
    CHECK(w.lo < 0.040);
    CHECK(w.lo > 0.030);
    CHECK(w.hi > 0.042);
    CHECK(w.hi < 0.090);
}

TEST_CASE("the pingpong threshold: the receiver's sysctl, else 1") {
    CHECK(pingpong_thresh({}) == 1);  // 6.1: TCP_PINGPONG_THRESH
    CHECK(pingpong_thresh({{"net.ipv4.tcp_pingpong_thresh", 3}}) == 3);
    CHECK(rule_values({}, {{"net.ipv4.tcp_pingpong_thresh", 2}})["pingpong.thresh"] == 2);
    CHECK(rule_values({{"net.ipv4.tcp_pingpong_thresh", 2}}, {})["pingpong.thresh"] == 1);  // the server's, not the client's
}

TEST_CASE("rule values for expressions") {
    auto v = rule_values(client(2, 4), {{"net.ipv4.tcp_synack_retries", 2}});
    CHECK(v["syn_sent.retransmits"] == 5);
    CHECK(v["syn_sent.timeout"] == 7);
    CHECK(v["syn_recv.retransmits"] == 2);
    CHECK(v["syn_recv.first"] == 1);
    CHECK(v["syn_recv.lifetime"] == 7);
}

TEST_CASE("established data: tail-loss probe, doubling RTO, TCP_USER_TIMEOUT or tcp_retries2") {
    // Measured (nft drop at the peer, HZ=250): retransmits at +0.21 (probe), 0.42, 0.83, 1.66, 3.33 s;
    // with TCP_USER_TIMEOUT 3000 ms, ETIMEDOUT 3.42 s after the send.
    Sysctls client{{"net.ipv4.tcp_retries2", 5}};
    Schedule u = established_schedule(client, 3.0, 250);
    REQUIRE(u.retransmits.size() == 5);
    CHECK(u.retransmits[0] == Approx(0.204));  // 2*srtt (1 jiffy) + tcp_rto_min
    CHECK(u.retransmits[1] == Approx(0.408));  // a full RTO (tcp_rto_min + 1 jiffy) later
    CHECK(u.retransmits[4] == Approx(3.264));
    CHECK(u.give_up == Approx(3.408));          // retrans_stamp (the first RTO retransmit) + 3 s
    Window wu = chain_window(u.chain, u.give_up, 250, 0.06);
    CHECK(wu.lo < 3.42);
    CHECK(wu.hi > 3.42);
    CHECK(wu.hi < 3.6);
    // Measured without TCP_USER_TIMEOUT, tcp_retries2 5: 6 retransmits, ETIMEDOUT at 13.45 s.
    Schedule r = established_schedule(client, 0, 250);
    CHECK(r.retransmits.size() == 6);
    CHECK(r.give_up == Approx(13.056));  // first RTO expiry >= 63 * 200 ms after retrans_stamp
    Window wr = chain_window(r.chain, r.give_up, 250, 0.06);
    CHECK(wr.lo < 13.45);
    CHECK(wr.hi > 13.45);
    // The default tcp_retries2 (15) takes about 15 minutes (924.6 s model timeout).
    CHECK(established_schedule({}, 0, 250).give_up > 900);
    // A user timeout shorter than the first RTO still lets that retransmit go first.
    CHECK(established_schedule(client, 0.1, 250).retransmits.size() == 2);
    CHECK(established_schedule(client, 0.1, 250).give_up == Approx(0.508));
}

TEST_CASE("a chain of timers adds up each one's window") {
    Window one = timer_window(1.0, 250, 0.04);
    Window chain = chain_window({1.0}, 1.0, 250, 0.04);
    CHECK(chain.lo == Approx(one.lo));
    CHECK(chain.hi == Approx(one.hi));
    Window two = chain_window({1.0, 1.0}, 2.0, 250, 0.04);
    CHECK(two.hi == Approx(2.0 + 2 * (one.hi - 1.0 - 0.04) + 0.04));
}

TEST_CASE("rule values for client data follow the tcp_user_timeout parameter") {
    Sysctls client{{"net.ipv4.tcp_retries2", 5}};
    auto with = rule_values(client, {}, {{"tcp_user_timeout", 3000}});
    auto without = rule_values(client, {}, {{"tcp_user_timeout", 0}});
    CHECK(with["established.retransmits"] == 5);
    CHECK(without["established.retransmits"] == 6);
    CHECK(with["established.timeout"] < without["established.timeout"]);
    CHECK(rule_values(client, {})["established.timeout"] == without["established.timeout"]);
}

TEST_CASE("zero-window probes: doubling from max(RTO, 200 ms), backoff capped at tcp_retries2") {
    // Measured (6.18, HZ=250, route quickack at the reader): the window closes at 0, probes at
    // +0.208, 0.636, 1.472 s; the silent reader's writer (tcp_retries2 3) gives up at about 3.13 s.
    Sysctls client{{"net.ipv4.tcp_retries2", 3}};
    Schedule silent = persist_schedule(client, 0, 250, false);
    CHECK(silent.first == Approx(0.204));  // tcp_rto_min + 1 jiffy, above TCP_RTO_MIN
    REQUIRE(silent.retransmits.size() == 2);  // three probes in all
    CHECK(silent.retransmits[0] == Approx(0.612));
    CHECK(silent.retransmits[1] == Approx(1.428));
    CHECK(silent.give_up == Approx(3.06));    // the timer after the 3rd probe: 15 x 204 ms
    CHECK(silent.chain.size() == 4);
    Window w = chain_window(silent.chain, silent.give_up, 250, 0.06);
    CHECK(w.lo < 3.13);
    CHECK(w.hi > 3.13);
    // Answered probes never end it: the backoff stops growing at tcp_retries2 (8 x base).
    Schedule answered = persist_schedule(client, 0, 250, true, 6);
    REQUIRE(answered.retransmits.size() == 5);
    CHECK(answered.retransmits[2] - answered.retransmits[1] == Approx(8 * 0.204));
    CHECK(answered.retransmits[4] - answered.retransmits[3] == Approx(8 * 0.204));
    CHECK(answered.give_up == 0);
    // A lower tcp_rto_min does not lower the base: tcp_probe0_base() keeps TCP_RTO_MIN.
    Sysctls fast{{"net.ipv4.tcp_retries2", 3}, {"net.ipv4.tcp_rto_min_us", 5000}};
    CHECK(persist_schedule(fast, 0, 250, false).first == Approx(0.2));
    // The RTO cap: tcp_rto_max_ms where the kernel has it.
    Sysctls capped{{"net.ipv4.tcp_retries2", 8}, {"net.ipv4.tcp_rto_max_ms", 1000}};
    Schedule c = persist_schedule(capped, 0, 250, false);
    CHECK(c.retransmits.back() - c.retransmits[c.retransmits.size() - 2] == Approx(1.0));
    // TCP_USER_TIMEOUT: counted from the first probe, answered or not; the last timer is clamped.
    Schedule u = persist_schedule(client, 1.0, 250, true, 10);
    CHECK(u.give_up == Approx(1.204));
    CHECK(u.retransmits.size() == 1);  // +0.612; the next (1.428) would come after the deadline
    CHECK(persist_schedule(client, 1.0, 250, false).give_up == Approx(1.204));
    auto v = rule_values(client, {}, {{"probes", 4}});
    CHECK(v["persist.first"] == Approx(0.204));
    CHECK(v["persist.probes"] == 3);
    CHECK(v["persist.timeout"] == Approx(3.06));
    CHECK(v["persist.at"] == Approx(3.06));  // the 4th answered probe: 15 x 204 ms
}

TEST_CASE("keepalive: idle, then a probe each interval, keepcnt of them, or TCP_USER_TIMEOUT") {
    // TCP_KEEPIDLE 1, TCP_KEEPINTVL 1, TCP_KEEPCNT 3: probes at +1, 2, 3 s after the last segment
    // received, the reset and ETIMEDOUT at +4 s (tcp_keepalive_timer).
    Schedule s = keepalive_schedule({}, 1, 1, 3, 0, 250);
    CHECK(s.first == 1);
    CHECK(s.retransmits == std::vector<double>{2, 3});  // the later probes, from the rule's start
    CHECK(s.give_up == 4);
    CHECK(s.chain == std::vector<double>{1, 1, 1, 1});
    CHECK(keepalive_schedule({}, 2, 3, 1, 0, 250).retransmits.empty());
    CHECK(keepalive_schedule({}, 2, 3, 1, 0, 250).give_up == 5);
    // A user timeout replaces the count: the first timer with a probe out and elapsed >= it.
    Schedule u = keepalive_schedule({}, 1, 1, 3, 2.5, 250);
    CHECK(u.retransmits == std::vector<double>{2});  // probes at +1 and +2 s, the end at +3 s
    CHECK(u.give_up == 3);
    CHECK(keepalive_schedule({}, 1, 1, 3, 5.5, 250).retransmits.size() == 4);  // 5 probes: more than keepcnt
    CHECK(keepalive_schedule({}, 1, 1, 3, 5.5, 250).give_up == 6);
    // Shorter than the idle time: the first probe still goes, the next timer ends it.
    CHECK(keepalive_schedule({}, 1, 1, 3, 0.3, 250).retransmits.empty());
    CHECK(keepalive_schedule({}, 1, 1, 3, 0.3, 250).give_up == 2);
    // Exactly on a timer: msecs_to_jiffies(3000) = 750 jiffies, elapsed 750 at +3 s ends it there.
    CHECK(keepalive_schedule({}, 1, 1, 9, 3.0, 250).give_up == 3);
    CHECK(keepalive_schedule({}, 1, 1, 9, 3.001, 250).give_up == 4);
    // Unset options: the sysctls, else the kernel's defaults (7200 s, 75 s, 9).
    Schedule d = keepalive_schedule({}, 0, 0, 0, 0, 250);
    CHECK(d.first == 7200);
    CHECK(d.retransmits.size() == 8);
    CHECK(d.give_up == 7200 + 9 * 75);
    Sysctls tuned{{"net.ipv4.tcp_keepalive_time", 5}, {"net.ipv4.tcp_keepalive_intvl", 2}, {"net.ipv4.tcp_keepalive_probes", 2}};
    CHECK(keepalive_schedule(tuned, 0, 0, 0, 0, 250).first == 5);
    CHECK(keepalive_schedule(tuned, 0, 0, 0, 0, 250).give_up == 9);
    CHECK(keepalive_schedule(tuned, 1, 0, 0, 0, 250).first == 1);
}

TEST_CASE("rule values for keepalive follow the keepidle, keepintvl, keepcnt and tcp_user_timeout parameters") {
    auto v = rule_values({}, {}, {{"keepidle", 1}, {"keepintvl", 1}, {"keepcnt", 3}});
    CHECK(v["keepalive.probes"] == 3);
    CHECK(v["keepalive.timeout"] == 4);
    auto u = rule_values({}, {}, {{"keepidle", 1}, {"keepintvl", 1}, {"keepcnt", 3}, {"tcp_user_timeout", 2500}});
    CHECK(u["keepalive.probes"] == 2);
    CHECK(u["keepalive.timeout"] == 3);
    CHECK(rule_values({}, {})["keepalive.timeout"] == 7200 + 9 * 75);
}
