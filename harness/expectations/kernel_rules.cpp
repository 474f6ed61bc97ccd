#include "expectations/kernel_rules.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

namespace socklab {
namespace {

constexpr double kTimeoutInit = 1.0;  // TCP_TIMEOUT_INIT
constexpr double kRtoMax = 120.0;     // TCP_RTO_MAX

long get(const Sysctls& s, const std::string& key, long fallback) {
    auto it = s.find(key);
    return it == s.end() ? fallback : it->second;
}

// tcp_model_timeout(): how long `boundary` doubling retransmits take, from rto_base.
double model_timeout(long boundary, double rto_base) {
    long thresh = 0;
    while ((rto_base * static_cast<double>(2L << thresh)) <= kRtoMax) ++thresh;  // ilog2(RTO_MAX / rto_base)
    --thresh;
    if (boundary <= thresh) return static_cast<double>((2L << boundary) - 1) * rto_base;
    return static_cast<double>((2L << thresh) - 1) * rto_base + static_cast<double>(boundary - thresh) * kRtoMax;
}

}  // namespace

Schedule syn_sent_schedule(const Sysctls& client) {
    const long retries = get(client, "net.ipv4.tcp_syn_retries", 6);
    const long linear = get(client, "net.ipv4.tcp_syn_linear_timeouts", 0);  // absent before 6.5
    const long max_retransmits = retries + linear;
    const double deadline = model_timeout(retries, kTimeoutInit);
    Schedule s;
    double now = 0, rto = kTimeoutInit;
    for (long sent = 0;; ++sent) {
        now += rto;  // the retransmit timer fires
        if (sent >= max_retransmits || now >= deadline) {
            s.give_up = now;
            return s;
        }
        s.retransmits.push_back(now);
        if (sent + 1 > linear) rto = std::min(rto * 2, kRtoMax);  // icsk_retransmits <= linear: keep the RTO
    }
}

Schedule syn_recv_schedule(const Sysctls& server) {
    const long retries = get(server, "net.ipv4.tcp_synack_retries", 5);
    Schedule s;
    double now = 0;
    for (long sent = 0;; ++sent) {
        now += std::min(kTimeoutInit * static_cast<double>(1L << std::min(sent, 30L)), kRtoMax);
        if (sent >= retries) {
            s.give_up = now;
            return s;
        }
        s.retransmits.push_back(now);
    }
}

Window timer_window(double interval, int hz, double slack) {
    const double jiffy = 1.0 / hz;
    const long delta = static_cast<long>(interval * hz + 0.999999);
    // Level n of the wheel holds timers from 63 << 3(n-1) jiffies ahead, with granularity 8^n.
    long granularity = 1;
    for (long level_start = 63; delta >= level_start && granularity < (1L << 24); level_start <<= 3) granularity <<= 3;
    return {interval - jiffy - 0.001, interval + static_cast<double>(granularity + 1) * jiffy + slack};
}

int kernel_hz() {
    auto hz_in = [](const std::string& text) -> int {
        auto at = text.find("\nCONFIG_HZ=");
        return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + 11);
    };
    std::string text;
    if (std::unique_ptr<FILE, int (*)(FILE*)> gz(::popen("zcat /proc/config.gz 2>/dev/null", "r"), ::pclose); gz) {
        std::array<char, 4096> buf;
        size_t n;
        while ((n = std::fread(buf.data(), 1, buf.size(), gz.get())) > 0) text.append(buf.data(), n);
    }
    if (int hz = hz_in("\n" + text); hz > 0) return hz;
    utsname u{};
    ::uname(&u);
    std::ifstream boot(std::string("/boot/config-") + u.release);
    text.assign(std::istreambuf_iterator<char>(boot), {});
    if (int hz = hz_in("\n" + text); hz > 0) return hz;
    return 100;
}

std::map<std::string, double> rule_values(const Sysctls& client, const Sysctls& server) {
    Schedule syn = syn_sent_schedule(client), synack = syn_recv_schedule(server);
    return {{"syn_sent.retransmits", static_cast<double>(syn.retransmits.size())},
            {"syn_sent.timeout", syn.give_up},
            {"syn_recv.retransmits", static_cast<double>(synack.retransmits.size())},
            {"syn_recv.first", synack.retransmits.empty() ? synack.give_up : synack.retransmits.front()},
            {"syn_recv.lifetime", synack.give_up}};
}

}  // namespace socklab
