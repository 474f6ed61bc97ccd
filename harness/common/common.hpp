// Helpers every part of the harness uses, each defined once: errno as text, the clock runs are
// timed on, files written whole, numbers as a description writes them.
#pragma once
#include <cerrno>
#include <cstdint>
#include <string>

namespace socklab {

// strerror(err): "No such file or directory".
std::string errno_text(int err = errno);

// CLOCK_MONOTONIC in nanoseconds: the clock of a run's events, traces and checkpoints.
int64_t monotonic_ns();

// Writes `text` to `path`. Throws std::runtime_error "cannot write PATH: REASON".
void write_file(const std::string& path, const std::string& text);
// The same, written beside and renamed into place, so that a reader never sees half a file.
void write_file_atomically(const std::string& path, const std::string& text);

// A number as a description writes it: 1048576, not 1.04858e+06; 0.25 stays 0.25.
std::string number_text(double value);
// `value` with `decimals` digits after the point, e.g. fixed_text(0.0751, 3) == "0.075".
std::string fixed_text(double value, int decimals);

}  // namespace socklab
