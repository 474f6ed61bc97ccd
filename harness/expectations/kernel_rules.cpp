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

Schedule persist_schedule(const Sysctls& sender, double user_timeout, int hz, bool answered, int horizon) {
    const double jiffy = 1.0 / hz;
    const double rto_min_jiffies = std::floor(static_cast<double>(get(sender, "net.ipv4.tcp_rto_min_us", 200000)) * hz / 1e6);
    const double rto_max = static_cast<double>(get(sender, "net.ipv4.tcp_rto_max_ms", 120000)) / 1000.0;
    const long retries2 = get(sender, "net.ipv4.tcp_retries2", 15);
    const double base = std::max((rto_min_jiffies + 1) * jiffy, std::ceil(0.2 * hz) * jiffy);  // tcp_probe0_base
    Schedule s;
    s.first = base;
    s.chain = {base};
    const double stamp = base;  // icsk_probes_tstamp: the first probe timer's run
    const double deadline = stamp + std::ceil(user_timeout * hz - 1e-9) * jiffy;  // msecs_to_jiffies
    double now = base;
    for (long probes = 1;; ++probes) {
        const long backoff = std::min({probes, retries2, 10L});  // tcp_send_probe0; tcp_probe0_when's cap
        double next = now + std::min(base * static_cast<double>(1L << backoff), rto_max);
        if (user_timeout > 0 && next >= deadline) next = deadline;  // clamped to the user timeout
        s.chain.push_back(next - now);
        const bool timed_out = user_timeout > 0 && next >= deadline;
        if (timed_out || (!answered && probes >= retries2) || (answered && user_timeout <= 0 && probes >= horizon)) {
            s.give_up = timed_out || !answered ? next : 0;
            if (!timed_out && answered) s.chain.pop_back();
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
    s.chain = {idle};
    for (long sent = 1;; ++sent) {  // `sent` probes are out when the next timer fires
        const double elapsed = idle + static_cast<double>(sent) * interval;
        s.chain.push_back(interval);
        const bool done = user_timeout > 0 ? std::round(elapsed * hz) >= limit : sent >= probes;
        if (done || sent >= 100000) {
            s.give_up = elapsed;
            return s;
        }
        s.retransmits.push_back(elapsed);
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

double delack_min(int hz) { return static_cast<double>(hz / 25) / hz; }

long pingpong_thresh(const Sysctls& receiver) {
    auto it = receiver.find("net.ipv4.tcp_pingpong_thresh");
    return it == receiver.end() ? 1 : it->second;
}

std::map<std::string, double> rule_values(const Sysctls& client, const Sysctls& server,
                                          const std::map<std::string, double>& options) {
    Schedule syn = syn_sent_schedule(client), synack = syn_recv_schedule(server);
    auto user_timeout = options.find("tcp_user_timeout");
    const double option = user_timeout == options.end() ? 0.0 : user_timeout->second / 1000.0;
    Schedule data = established_schedule(client, option, kernel_hz());
    Schedule silent = persist_schedule(client, option, kernel_hz(), false);
    auto probes = options.find("probes");
    const int nth = probes == options.end() ? 1 : std::max(1, static_cast<int>(probes->second));
    Schedule answered = persist_schedule(client, option, kernel_hz(), true, nth);
    const size_t sent = answered.retransmits.size() + 1;  // the probes before any give-up
    const double at = static_cast<size_t>(nth) <= sent ? (nth == 1 ? answered.first : answered.retransmits[nth - 2]) : answered.give_up;
    auto socket_option = [&](const char* name) {
        auto it = options.find(name);
        return it == options.end() ? 0.0 : it->second;
    };
    Schedule keepalive = keepalive_schedule(client, socket_option("keepidle"), socket_option("keepintvl"),
                                            std::lround(socket_option("keepcnt")), option, kernel_hz());
    return {{"keepalive.probes", static_cast<double>(keepalive.retransmits.size() + 1)},
            {"keepalive.timeout", keepalive.give_up},
            {"syn_sent.retransmits", static_cast<double>(syn.retransmits.size())},
            {"syn_sent.timeout", syn.give_up},
            {"syn_recv.retransmits", static_cast<double>(synack.retransmits.size())},
            {"syn_recv.first", synack.retransmits.empty() ? synack.give_up : synack.retransmits.front()},
            {"syn_recv.lifetime", synack.give_up},
            {"established.retransmits", static_cast<double>(data.retransmits.size())},
            {"established.timeout", data.give_up},
            {"persist.first", silent.first},
            {"persist.probes", static_cast<double>(silent.retransmits.size() + 1)},
            {"persist.timeout", silent.give_up},
            {"persist.at", at},
            {"delack.min", delack_min(kernel_hz())},
            {"pingpong.thresh", static_cast<double>(pingpong_thresh(server))}};
}

}  // namespace socklab
