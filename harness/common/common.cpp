#include "common/common.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>

namespace socklab {

std::string errno_text(int err) { return std::strerror(err); }

int64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path + ": " + errno_text());
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path + ": " + errno_text());
}

void write_file_atomically(const std::string& path, const std::string& text) {
    const std::string partial = path + ".partial";
    try {
        write_file(partial, text);
    } catch (const std::runtime_error&) {
        const int error = errno;
        std::remove(partial.c_str());
        throw std::runtime_error("cannot write " + path + ": " + errno_text(error));
    }
    if (std::rename(partial.c_str(), path.c_str()) != 0) {
        const int error = errno;
        std::remove(partial.c_str());
        throw std::runtime_error("cannot write " + path + ": " + errno_text(error));
    }
}

std::string number_text(double value) {
    if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<long long>(value));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", value);
    return buf;
}

std::string fixed_text(double value, int decimals) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

}  // namespace socklab
