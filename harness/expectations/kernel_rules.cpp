#include "expectations/kernel_rules.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
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

Schedule established_schedule(const Sysctls& sender, double user_timeout, int hz) {
    const double jiffy = 1.0 / hz;
    const double rto_min_jiffies = std::floor(static_cast<double>(get(sender, "net.ipv4.tcp_rto_min_us", 200000)) * hz / 1e6);
    const double rto_max = static_cast<double>(get(sender, "net.ipv4.tcp_rto_max_ms", 120000)) / 1000.0;
    const double rto = (rto_min_jiffies + 1) * jiffy;  // usecs_to_jiffies(tcp_rto_min + srtt/8) rounds up
    const double probe = jiffy + rto_min_jiffies * jiffy;  // usecs_to_jiffies(2 * srtt) + tcp_rto_min
    Schedule s;
    s.retransmits = {probe, probe + rto};  // the tail-loss probe, then the first RTO retransmit
    s.chain = {probe, rto};
    const double stamp = probe + rto;      // retrans_stamp
    const double deadline = user_timeout > 0 ? stamp + user_timeout : 0;
    const double model = model_timeout(get(sender, "net.ipv4.tcp_retries2", 15), 0.2);  // TCP_RTO_MIN
    double now = stamp, current = rto;
    for (;;) {
        current = std::min(current * 2, rto_max);
        const double next = now + current;
        if (user_timeout > 0 && next >= deadline) {  // the clamped timer fires at the deadline
            s.chain.push_back(deadline - now);
            s.give_up = deadline;
            return s;
        }
        // With a user timeout the last timer is set from the time actually elapsed since
        // retrans_stamp, so only the probe, the first RTO and that last timer can make it late.
        if (user_timeout <= 0) s.chain.push_back(current);
        if (user_timeout <= 0 && next - stamp >= model - jiffy) {
            s.give_up = next;
            return s;
        }
        s.retransmits.push_back(next);
        now = next;
    }
}

Schedule keepalive_schedule(const Sysctls& sender, double idle, double interval, long probes, double user_timeout, int hz) {
    // keepalive_time_when(), keepalive_intvl_when(), keepalive_probes(): the option, else the sysctl.
    if (idle <= 0) idle = static_cast<double>(get(sender, "net.ipv4.tcp_keepalive_time", 7200));
    if (interval <= 0) interval = static_cast<double>(get(sender, "net.ipv4.tcp_keepalive_intvl", 75));
    if (probes <= 0) probes = get(sender, "net.ipv4.tcp_keepalive_probes", 9);
    // elapsed is counted in jiffies: whole seconds are whole jiffies, msecs_to_jiffies() rounds up.
    const double limit = std::ceil(user_timeout * hz - 1e-9);
    Schedule s;
    s.first = idle;
    for (long sent = 1;; ++sent) {  // `sent` probes are out when the next timer fires
        const double elapsed = idle + static_cast<double>(sent) * interval;
        const bool done = user_timeout > 0 ? std::round(elapsed * hz) >= limit : sent >= probes;
        if (done || sent >= 100000) {
            s.give_up = static_cast<double>(sent) * interval;
            return s;
        }
        s.retransmits.push_back(static_cast<double>(sent) * interval);
    }
}

Window chain_window(const std::vector<double>& timers, double total, int hz, double slack) {
    Window w{total, total + slack};
    for (double t : timers) {
        const Window one = timer_window(t, hz, 0.0);
        w.lo -= t - one.lo;
        w.hi += one.hi - t;
    }
    return w;
}

Window timer_window(double interval, int hz, double slack) {
    const double jiffy = 1.0 / hz;
    const long delta = static_cast<long>(interval * hz + 0.999999);
    // Level n of the wheel holds timers from 63 << 3(n-1) jiffies ahead, with granularity 8^n.
    long granularity = 1;
    for (long level_start = 63; delta >= level_start && granularity < (1L << 24); level_start <<= 3) granularity <<= 3;
    return {interval - jiffy - 0.001, interval + static_cast<double>(granularity + 1) * jiffy + slack};
}

namespace {

int read_kernel_hz() {
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

}  // namespace

int kernel_hz() {
    static const int hz = read_kernel_hz();  // the kernel's config cannot change while we run
    return hz;
}

double machine_slow_factor(const char* value) {
    if (value == nullptr || *value == '\0') return 1.0;
    char* end = nullptr;
    const double factor = std::strtod(value, &end);
    if (end == value || *end != '\0' || !std::isfinite(factor) || factor < 1.0 || factor > 1000.0)
        throw std::invalid_argument(std::string("SOCKLAB_MACHINE_SLOW=") + value +
                                    ": write a factor from 1 to 1000, e.g. SOCKLAB_MACHINE_SLOW=10 under qemu TCG");
    return factor;
}

std::map<std::string, double> rule_values(const Sysctls& client, const Sysctls& server,
                                          const std::map<std::string, double>& options) {
    Schedule syn = syn_sent_schedule(client), synack = syn_recv_schedule(server);
    auto user_timeout = options.find("tcp_user_timeout");
    const double seconds = user_timeout == options.end() ? 0.0 : user_timeout->second / 1000.0;
    Schedule data = established_schedule(client, seconds, kernel_hz());
    auto option = [&](const char* name) {
        auto it = options.find(name);
        return it == options.end() ? 0.0 : it->second;
    };
    Schedule keepalive = keepalive_schedule(client, option("keepidle"), option("keepintvl"),
                                            std::lround(option("keepcnt")), seconds, kernel_hz());
    return {{"keepalive.probes", static_cast<double>(keepalive.retransmits.size() + 1)},
            {"keepalive.timeout", keepalive.first + keepalive.give_up},
            {"syn_sent.retransmits", static_cast<double>(syn.retransmits.size())},
            {"syn_sent.timeout", syn.give_up},
            {"syn_recv.retransmits", static_cast<double>(synack.retransmits.size())},
            {"syn_recv.first", synack.retransmits.empty() ? synack.give_up : synack.retransmits.front()},
            {"syn_recv.lifetime", synack.give_up},
            {"established.retransmits", static_cast<double>(data.retransmits.size())},
            {"established.timeout", data.give_up}};
}

}  // namespace socklab
