// Process control: one scenario program running in its namespace. It reports one JSON object per
// line on stdout ({"call":...}, {"mark":...}, {"step":...}) and, at a step, blocks until the harness
// writes the step's name on its stdin. Its exit status or signal comes from the process table.
#pragma once
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace socklab {

struct ProgramEvent {
    std::string side;
    int64_t time_ns = 0;   // CLOCK_MONOTONIC when the harness read the line
    nlohmann::json body;   // the object as the program wrote it; {"output": text} for other lines
};

struct ProgramExit {
    int64_t time_ns = 0;
    std::optional<int> status;  // exited normally
    std::optional<int> signal;  // killed by a signal
};

class Program {
public:
    using EventHandler = std::function<void(const ProgramEvent&)>;

    // Starts `argv` in `netns` on CPU `cpu`, its stderr into `log_path`.
    Program(boost::asio::io_context& io, std::string side, const std::vector<std::string>& argv,
            const std::string& netns, const std::string& log_path, int cpu, EventHandler on_event);
    ~Program();  // kills it if still running
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;

    const std::string& side() const { return side_; }
    pid_t pid() const { return pid_; }
    const std::optional<std::string>& blocked_at() const { return blocked_at_; }
    const std::optional<ProgramExit>& exit() const { return exit_; }

    void release(const std::string& step);  // answers the step it is blocked at
    void kill();                            // SIGKILL; the exit is still recorded
    void signal(int number);                // sends it a signal (a kill step); its exit says what followed

private:
    std::string side_;
    pid_t pid_ = -1;
    EventHandler on_event_;
    boost::asio::posix::stream_descriptor out_, in_, exited_;
    boost::asio::streambuf buffer_;
    std::optional<std::string> blocked_at_;
    std::optional<ProgramExit> exit_;
    // The exit is reported once waitpid() has it and every line the program wrote has been read
    // (end of file on its stdout), so that its last reports are never lost behind its exit.
    std::optional<ProgramExit> reaped_;
    bool eof_ = false;

    void read_line();
    void wait_exit();
};

}  // namespace socklab
