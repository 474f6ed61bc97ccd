// Unit tests of the observation parsers (trace_pipe lines, /proc/net counters, TCP state names)
// and of the owner naming they rely on. The trace lines are real ones, captured from
// /sys/kernel/tracing/instances/*/trace_pipe on Linux 6.18 with trace_clock mono.
#include <catch2/catch.hpp>

#include "observation/counters.hpp"
#include "observation/sockdiag.hpp"
#include "observation/tracefs.hpp"
#include "topology/owner.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

using namespace socklab;

namespace {

// An active open as the client sees it.
const char* kSynSentToEstablished =
    "         python3-3639    [001] .....   362.242043: inet_sock_set_state: family=AF_INET "
    "protocol=IPPROTO_TCP sport=44604 dport=8080 saddr=198.18.254.1 daddr=198.18.254.2 "
    "saddrv6=::ffff:198.18.254.1 daddrv6=::ffff:198.18.254.2 oldstate=TCP_SYN_SENT newstate=TCP_ESTABLISHED";

// A dual-stack listener's child: an AF_INET6 socket with IPv4-mapped addresses.
const char* kMappedListenToSynRecv =
    "         python3-3639    [001] ..s2.   362.242101: inet_sock_set_state: family=AF_INET6 "
    "protocol=IPPROTO_TCP sport=8080 dport=44604 saddr=198.18.254.2 daddr=198.18.254.1 "
    "saddrv6=::ffff:198.18.254.2 daddrv6=::ffff:198.18.254.1 oldstate=TCP_LISTEN newstate=TCP_SYN_RECV";

// A pure IPv6 socket: the IPv4 fields hold placeholders (127.0.0.6) that must not be used.
const char* kV6EstablishedToCloseWait =
    "         python3-3680    [001] ..s2.   363.041517: inet_sock_set_state: family=AF_INET6 "
    "protocol=IPPROTO_TCP sport=8081 dport=49110 saddr=127.0.0.6 daddr=127.0.0.6 saddrv6=::1 "
    "daddrv6=::1 oldstate=TCP_ESTABLISHED newstate=TCP_CLOSE_WAIT";

// The comm of a kernel thread holds a '/'; this one also comes from softirq context.
const char* kFinWait1ToFinWait2 =
    "     ksoftirqd/1-22      [001] ..s1.   362.444050: inet_sock_set_state: family=AF_INET6 "
    "protocol=IPPROTO_TCP sport=8080 dport=44604 saddr=198.18.254.2 daddr=198.18.254.1 "
    "saddrv6=::ffff:198.18.254.2 daddrv6=::ffff:198.18.254.1 oldstate=TCP_FIN_WAIT1 newstate=TCP_FIN_WAIT2";

const char* kRetransmitSynack =
    "          <idle>-0       [000] ..s1.   399.424100: tcp_retransmit_synack: family=AF_INET sport=8084 "
    "dport=45398 saddr=198.18.254.2 daddr=198.18.254.1 saddrv6=::ffff:198.18.254.2 "
    "daddrv6=::ffff:198.18.254.1";

const char* kRetransmitSkb =
    "          <idle>-0       [001] ..s2.   375.840081: tcp_retransmit_skb: skbaddr=000000005f1fb6ea "
    "skaddr=000000001d52ef41 family=AF_INET sport=33710 dport=8082 saddr=198.18.254.1 daddr=198.18.254.2 "
    "saddrv6=::ffff:198.18.254.1 daddrv6=::ffff:198.18.254.2 state=TCP_SYN_SENT err=0";

// A reset answering a SYN to a closed port: no socket, so state=UNKNOWN.
const char* kSendResetNoSocket =
    "         python3-3639    [001] ..s1.   362.742778: tcp_send_reset: skbaddr=000000004b13cc4a "
    "skaddr=0000000000000000 src=198.18.254.2:9999 dest=198.18.254.1:51334 state=UNKNOWN reason=NO_SOCKET";

// A reset sent by a socket (a listener closed with a connection still in its accept queue).
const char* kSendResetFromSocket =
    "         python3-3737    [001] b..1.   378.517159: tcp_send_reset: skbaddr=0000000000000000 "
    "skaddr=00000000a5d5e326 src=198.18.254.2:8082 dest=198.18.254.1:33704 state=TCP_CLOSE reason=TCP_STATE";

// 6.1 prints tcp_send_reset with the tcp_event_sk_skb class's fields (no src=/dest=, no reason).
const char* kSendResetOldFormat =
    "          server-131     [000] b..1.    42.517159: tcp_send_reset: skbaddr=0000000000000000 "
    "skaddr=00000000a5d5e326 family=AF_INET sport=8080 dport=33704 saddr=198.18.254.2 daddr=198.18.254.1 "
    "saddrv6=::ffff:198.18.254.2 daddrv6=::ffff:198.18.254.1 state=TCP_ESTABLISHED";

const char* kSendResetV6 =
    "         python3-4142    [001] ..s1.   404.597806: tcp_send_reset: skbaddr=000000004b13cc4a "
    "skaddr=0000000000000000 src=[::1]:9998 dest=[::1]:56472 state=UNKNOWN reason=NO_SOCKET";

const char* kReceiveReset =
    "         python3-3639    [001] .....   362.742791: tcp_receive_reset: family=AF_INET sport=51334 "
    "dport=9999 saddr=198.18.254.1 daddr=198.18.254.2 saddrv6=::ffff:198.18.254.1 "
    "daddrv6=::ffff:198.18.254.2 sock_cookie=1";

const char* kReceiveResetV6 =
    "         python3-4142    [001] .....   404.597816: tcp_receive_reset: family=AF_INET6 sport=56472 "
    "dport=9998 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=::1 daddrv6=::1 sock_cookie=8";

}  // namespace

TEST_CASE("parse_trace_line: inet_sock_set_state, IPv4", "[trace]") {
    auto ev = parse_trace_line(kSynSentToEstablished);
    REQUIRE(ev);
    CHECK(ev->time_ns == 362'242'043'000);
    CHECK(ev->name == "inet_sock_set_state");
    CHECK(ev->saddr == "198.18.254.1");
    CHECK(ev->daddr == "198.18.254.2");
    CHECK(ev->sport == 44604);
    CHECK(ev->dport == 8080);
    CHECK(ev->oldstate == "SYN_SENT");
    CHECK(ev->newstate == "ESTABLISHED");
    CHECK(ev->state.empty());
}

TEST_CASE("parse_trace_line: inet_sock_set_state, IPv6", "[trace]") {
    SECTION("IPv4-mapped addresses of a dual-stack socket") {
        auto ev = parse_trace_line(kMappedListenToSynRecv);
        REQUIRE(ev);
        CHECK(ev->saddr == "::ffff:198.18.254.2");
        CHECK(ev->daddr == "::ffff:198.18.254.1");
        CHECK(ev->sport == 8080);
        CHECK(ev->dport == 44604);
        CHECK(ev->oldstate == "LISTEN");
        CHECK(ev->newstate == "SYN_RECV");
    }
    SECTION("a pure IPv6 socket ignores the IPv4 placeholders") {
        auto ev = parse_trace_line(kV6EstablishedToCloseWait);
        REQUIRE(ev);
        CHECK(ev->time_ns == 363'041'517'000);
        CHECK(ev->saddr == "::1");
        CHECK(ev->daddr == "::1");
        CHECK(ev->oldstate == "ESTABLISHED");
        CHECK(ev->newstate == "CLOSE_WAIT");
    }
    SECTION("a comm with a slash") {
        auto ev = parse_trace_line(kFinWait1ToFinWait2);
        REQUIRE(ev);
        CHECK(ev->time_ns == 362'444'050'000);
        CHECK(ev->oldstate == "FIN_WAIT1");
        CHECK(ev->newstate == "FIN_WAIT2");
    }
}

TEST_CASE("parse_trace_line: tcp_retransmit_synack", "[trace]") {
    auto ev = parse_trace_line(kRetransmitSynack);
    REQUIRE(ev);
    CHECK(ev->name == "tcp_retransmit_synack");
    CHECK(ev->time_ns == 399'424'100'000);
    CHECK(ev->saddr == "198.18.254.2");
    CHECK(ev->daddr == "198.18.254.1");
    CHECK(ev->sport == 8084);
    CHECK(ev->dport == 45398);
    CHECK(ev->state.empty());
}

TEST_CASE("parse_trace_line: tcp_retransmit_skb", "[trace]") {
    auto ev = parse_trace_line(kRetransmitSkb);
    REQUIRE(ev);
    CHECK(ev->name == "tcp_retransmit_skb");
    CHECK(ev->time_ns == 375'840'081'000);
    CHECK(ev->saddr == "198.18.254.1");
    CHECK(ev->daddr == "198.18.254.2");
    CHECK(ev->sport == 33710);
    CHECK(ev->dport == 8082);
    CHECK(ev->state == "SYN_SENT");
}

TEST_CASE("parse_trace_line: tcp_send_reset", "[trace]") {
    SECTION("without a socket") {
        auto ev = parse_trace_line(kSendResetNoSocket);
        REQUIRE(ev);
        CHECK(ev->name == "tcp_send_reset");
        CHECK(ev->time_ns == 362'742'778'000);
        CHECK(ev->saddr == "198.18.254.2");
        CHECK(ev->sport == 9999);
        CHECK(ev->daddr == "198.18.254.1");
        CHECK(ev->dport == 51334);
        CHECK(ev->state == "UNKNOWN");
        CHECK(ev->reason == "NO_SOCKET");
    }
    SECTION("from a socket") {
        auto ev = parse_trace_line(kSendResetFromSocket);
        REQUIRE(ev);
        CHECK(ev->saddr == "198.18.254.2");
        CHECK(ev->sport == 8082);
        CHECK(ev->dport == 33704);
        CHECK(ev->state == "CLOSE");
        CHECK(ev->reason == "TCP_STATE");
    }
    SECTION("the older format (6.1): the socket's fields") {
        auto ev = parse_trace_line(kSendResetOldFormat);
        REQUIRE(ev);
        CHECK(ev->name == "tcp_send_reset");
        CHECK(ev->saddr == "198.18.254.2");
        CHECK(ev->sport == 8080);
        CHECK(ev->daddr == "198.18.254.1");
        CHECK(ev->dport == 33704);
        CHECK(ev->state == "ESTABLISHED");
        CHECK(ev->reason.empty());
    }
    SECTION("IPv6, with bracketed addresses") {
        auto ev = parse_trace_line(kSendResetV6);
        REQUIRE(ev);
        CHECK(ev->saddr == "::1");
        CHECK(ev->sport == 9998);
        CHECK(ev->daddr == "::1");
        CHECK(ev->dport == 56472);
    }
}

TEST_CASE("parse_trace_line: tcp_receive_reset", "[trace]") {
    auto ev = parse_trace_line(kReceiveReset);
    REQUIRE(ev);
    CHECK(ev->name == "tcp_receive_reset");
    CHECK(ev->time_ns == 362'742'791'000);
    CHECK(ev->saddr == "198.18.254.1");
    CHECK(ev->daddr == "198.18.254.2");
    CHECK(ev->sport == 51334);
    CHECK(ev->dport == 9999);

    auto v6 = parse_trace_line(kReceiveResetV6);
    REQUIRE(v6);
    CHECK(v6->saddr == "::1");
    CHECK(v6->dport == 9998);
}

TEST_CASE("parse_trace_line: details of the line format", "[trace]") {
    SECTION("a trailing newline is allowed") {
        auto ev = parse_trace_line(std::string(kRetransmitSynack) + "\n");
        REQUIRE(ev);
        CHECK(ev->dport == 45398);
    }
    SECTION("a comm with spaces, dashes and a colon") {
        auto ev = parse_trace_line(
            "  my odd-prog: x-1234    [000] .....   12.000001: tcp_retransmit_synack: family=AF_INET "
            "sport=1 dport=2 saddr=198.18.0.1 daddr=198.18.0.2 saddrv6=::ffff:198.18.0.1 daddrv6=::ffff:198.18.0.2");
        REQUIRE(ev);
        CHECK(ev->time_ns == 12'000'001'000);
        CHECK(ev->saddr == "198.18.0.1");
    }
    SECTION("the states of a request socket keep the NEW_ prefix") {
        auto ev = parse_trace_line(
            "  x-1 [000] ..... 5.5: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=1 dport=2 "
            "saddr=198.18.0.1 daddr=198.18.0.2 saddrv6=:: daddrv6=:: oldstate=TCP_NEW_SYN_RECV newstate=TCP_CLOSE");
        REQUIRE(ev);
        CHECK(ev->time_ns == 5'500'000'000);
        CHECK(ev->oldstate == "NEW_SYN_RECV");
        CHECK(ev->newstate == "CLOSE");
    }
}

TEST_CASE("parse_trace_line: lines that are not our events", "[trace]") {
    const std::string good = kSynSentToEstablished;
    SECTION("empty and garbage") {
        CHECK_FALSE(parse_trace_line(""));
        CHECK_FALSE(parse_trace_line("\n"));
        CHECK_FALSE(parse_trace_line(":"));
        CHECK_FALSE(parse_trace_line(": : :"));
        CHECK_FALSE(parse_trace_line("garbage"));
        CHECK_FALSE(parse_trace_line("1.2: "));
        CHECK_FALSE(parse_trace_line("1.2: tcp_send_reset:"));
        CHECK_FALSE(parse_trace_line("CPU:1 [LOST 42 EVENTS]"));
        CHECK_FALSE(parse_trace_line(std::string(5000, 'x')));
    }
    SECTION("another event") {
        CHECK_FALSE(parse_trace_line(
            "  bash-1 [000] ..... 1.000001: sched_switch: prev_comm=bash prev_pid=1 next_comm=x next_pid=2"));
    }
    SECTION("another protocol") {
        std::string sctp = good;
        sctp.replace(sctp.find("IPPROTO_TCP"), 11, "IPPROTO_SCTP");
        CHECK_FALSE(parse_trace_line(sctp));
    }
    SECTION("every truncation of a real line") {
        // Cutting the line anywhere before its last field loses a field we need.
        const size_t last_field = good.rfind(" newstate=");
        for (size_t len = 0; len <= last_field; ++len) {
            INFO("length " << len);
            CHECK_FALSE(parse_trace_line(good.substr(0, len)));
        }
        CHECK(parse_trace_line(good));
    }
    SECTION("bad values") {
        auto with = [&](const std::string& from, const std::string& to) {
            std::string line = good;
            line.replace(line.find(from), from.size(), to);
            return line;
        };
        CHECK_FALSE(parse_trace_line(with("sport=44604", "sport=70000")));
        CHECK_FALSE(parse_trace_line(with("sport=44604", "sport=-1")));
        CHECK_FALSE(parse_trace_line(with("sport=44604", "sport=")));
        CHECK_FALSE(parse_trace_line(with("saddr=198.18.254.1", "saddr=198.18.254.999")));
        CHECK_FALSE(parse_trace_line(with("family=AF_INET", "family=AF_UNIX")));
        CHECK_FALSE(parse_trace_line(with("362.242043:", "362.:")));
        CHECK_FALSE(parse_trace_line(with("362.242043:", "abc.242043:")));
        CHECK_FALSE(parse_trace_line(with("362.242043:", "99999999999999999999.1:")));
        CHECK_FALSE(parse_trace_line(with("newstate=TCP_ESTABLISHED", "newstate=")));
    }
    SECTION("bad tcp_send_reset endpoints") {
        const std::string rst = kSendResetV6;
        auto with = [&](const std::string& from, const std::string& to) {
            std::string line = rst;
            line.replace(line.find(from), from.size(), to);
            return line;
        };
        CHECK_FALSE(parse_trace_line(with("src=[::1]:9998", "src=[::1]")));
        CHECK_FALSE(parse_trace_line(with("src=[::1]:9998", "src=[::1:9998")));
        CHECK_FALSE(parse_trace_line(with("src=[::1]:9998", "src=::1:9998")));
        CHECK_FALSE(parse_trace_line(with("src=[::1]:9998", "src=(einval)")));
        CHECK_FALSE(parse_trace_line(with("dest=[::1]:56472", "dest=[]:56472")));
    }
}

TEST_CASE("parse_counters: netstat and snmp excerpts", "[counters]") {
    // From /proc/net/netstat and /proc/net/snmp of a namespace after an accept queue overflow.
    const std::string text =
        "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled RcvPruned "
        "OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive PAWSEstab "
        "BeyondWindow TSEcrRejected PAWSOldAck PAWSTimewait DelayedACKs DelayedACKLocked DelayedACKLost "
        "ListenOverflows ListenDrops TCPHPHits\n"
        "TcpExt: 0 0 0 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 2 0 0 4 4 0\n"
        "IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets\n"
        "IpExt: 0 0 0 0 0 0 1068 744\n"
        "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab "
        "InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
        "Tcp: 1 200 120000 -1 2 5 1 3 0 27 22 1 0 6 0\n";
    const Counters c = parse_counters(text);
    CHECK(c.size() == 25 + 8 + 15);
    CHECK(c.at("TcpExt.ListenOverflows") == 4);
    CHECK(c.at("TcpExt.ListenDrops") == 4);
    CHECK(c.at("TcpExt.TW") == 2);
    CHECK(c.at("TcpExt.DelayedACKs") == 2);
    CHECK(c.at("TcpExt.SyncookiesSent") == 0);
    CHECK(c.at("IpExt.OutOctets") == 744);
    CHECK(c.at("Tcp.MaxConn") == -1);
    CHECK(c.at("Tcp.RtoMax") == 120000);
    CHECK(c.at("Tcp.PassiveOpens") == 5);
    CHECK(c.at("Tcp.OutRsts") == 6);
    CHECK(c.count("Tcp.Nonexistent") == 0);
}

TEST_CASE("parse_counters: malformed input", "[counters]") {
    CHECK(parse_counters("").empty());
    CHECK(parse_counters("\n\n\n").empty());
    CHECK(parse_counters("garbage without colon\nmore").empty());
    CHECK(parse_counters(":\n:").empty());
    CHECK(parse_counters("Tcp: A B\n").empty());  // a header without values

    SECTION("a pair whose lengths differ is skipped, the next pair still counts") {
        auto c = parse_counters("Tcp: A B C\nTcp: 1 2\nUdp: X\nUdp: 7\n");
        CHECK(c.size() == 1);
        CHECK(c.at("Udp.X") == 7);
    }
    SECTION("a lone header line does not shift the pairing") {
        auto c = parse_counters("Ip: Lonely\nTcp: A B\nTcp: 1 2\n");
        CHECK(c.size() == 2);
        CHECK(c.at("Tcp.A") == 1);
        CHECK(c.at("Tcp.B") == 2);
    }
    SECTION("values that are not numbers are left out") {
        auto c = parse_counters("Tcp: A B C D\nTcp: 1 x 99999999999999999999 -5\n");
        CHECK(c.size() == 2);
        CHECK(c.at("Tcp.A") == 1);
        CHECK(c.at("Tcp.D") == -5);
    }
    SECTION("a missing trailing newline and CRLF line ends") {
        auto c = parse_counters("Tcp: A B\r\nTcp: 3 4");
        CHECK(c.size() == 2);
        CHECK(c.at("Tcp.B") == 4);
    }
}

TEST_CASE("tcp_state_name and is_tcp_state_name", "[sockdiag]") {
    CHECK(tcp_state_name(1) == "ESTABLISHED");
    CHECK(tcp_state_name(2) == "SYN_SENT");
    CHECK(tcp_state_name(3) == "SYN_RECV");
    CHECK(tcp_state_name(4) == "FIN_WAIT1");
    CHECK(tcp_state_name(5) == "FIN_WAIT2");
    CHECK(tcp_state_name(6) == "TIME_WAIT");
    CHECK(tcp_state_name(7) == "CLOSE");
    CHECK(tcp_state_name(8) == "CLOSE_WAIT");
    CHECK(tcp_state_name(9) == "LAST_ACK");
    CHECK(tcp_state_name(10) == "LISTEN");
    CHECK(tcp_state_name(11) == "CLOSING");
    CHECK(tcp_state_name(12) == "SYN_RECV");  // NEW_SYN_RECV, shown as `ss` does
    CHECK(tcp_state_name(0) == "UNKNOWN");
    CHECK(tcp_state_name(13) == "UNKNOWN");
    CHECK(tcp_state_name(-1) == "UNKNOWN");

    for (int s = 1; s <= 12; ++s) CHECK(is_tcp_state_name(tcp_state_name(s)));
    CHECK_FALSE(is_tcp_state_name("UNKNOWN"));
    CHECK_FALSE(is_tcp_state_name("NEW_SYN_RECV"));
    CHECK_FALSE(is_tcp_state_name("TCP_LISTEN"));
    CHECK_FALSE(is_tcp_state_name("listen"));
    CHECK_FALSE(is_tcp_state_name(""));
}

TEST_CASE("owner_of and is_stale", "[owner]") {
    CHECK(owner_of("socklab-1-x") == 1);
    CHECK(owner_of("socklab-4242-obs") == 4242);
    CHECK(owner_of("socklab-77") == 77);
    CHECK_FALSE(owner_of("other-5"));
    CHECK_FALSE(owner_of("socklab-"));
    CHECK_FALSE(owner_of("socklab-abc-x"));
    CHECK_FALSE(owner_of("socklab-0-x"));
    CHECK_FALSE(owner_of("socklab-12x"));

    // pid 1 is init, alive but never socklab (as a pid reused by another program): its objects are
    // stale. Names not ours are never stale.
    CHECK(is_stale("socklab-1-x"));
    CHECK_FALSE(is_stale("other-5"));
    CHECK_FALSE(is_stale("sltest-obs-c"));

    // A process that has named an object holds a claim on its names (a reaper's too: test_reaper).
    CHECK_FALSE(is_stale(owned_name("t")));
    CHECK(owner_alive(::getpid()));
    CHECK(owner_of(owned_name("t")) == ::getpid());
}

TEST_CASE("tcp_timer_name and timer_matches", "[sockdiag]") {
    CHECK(tcp_timer_name(0) == "none");
    CHECK(tcp_timer_name(1) == "retransmit");
    CHECK(tcp_timer_name(2) == "keepalive");
    CHECK(tcp_timer_name(3) == "timewait");
    CHECK(tcp_timer_name(4) == "probe");
    CHECK(tcp_timer_name(5) == "timer 5");
    CHECK(timer_matches(4, "probe"));
    CHECK_FALSE(timer_matches(1, "probe"));
    CHECK(timer_matches(0, "none"));
    CHECK(timer_matches(1, "on"));
    CHECK(timer_matches(4, "on"));
    CHECK_FALSE(timer_matches(0, "on"));
}

TEST_CASE("parse_snmp6: ICMPv6 and IPv6 counters, one a line", "[counters]") {
    const Counters c = parse_snmp6("Ip6InReceives                   \t12\nIcmp6InDestUnreachs             \t2\n"
                                   "Icmp6OutType1                   \t3\nUdpLite6InErrors                \t0\n"
                                   "garbage\nIcmp6 7\nIp6Weird notanumber\n");
    CHECK(c.at("Ip6.InReceives") == 12);
    CHECK(c.at("Icmp6.InDestUnreachs") == 2);
    CHECK(c.at("Icmp6.OutType1") == 3);
    CHECK(c.at("UdpLite6.InErrors") == 0);
    CHECK(c.size() == 4);
}
