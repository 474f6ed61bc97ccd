#include "process/program.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <istream>
#include <stdexcept>

#include "common/common.hpp"
#include "process/spawn.hpp"

namespace socklab {

namespace {
int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
}  // namespace

Program::Program(boost::asio::io_context& io, std::string side, const std::vector<std::string>& argv,
                 const std::string& netns, const std::string& log_path, int cpu, EventHandler on_event)
    : side_(std::move(side)), on_event_(std::move(on_event)), out_(io), in_(io), exited_(io) {
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = spawn(argv, {netns, to_child[0], from_child[1], log_fd, cpu});
    ::close(to_child[0]);
    ::close(from_child[1]);
    if (log_fd >= 0) ::close(log_fd);
    in_.assign(to_child[1]);
    out_.assign(from_child[0]);
    int pidfd = pidfd_open(pid_);
    if (pidfd < 0) throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(errno));
    exited_.assign(pidfd);
    read_line();
    wait_exit();
}

Program::~Program() {
    if (!reaped_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void Program::read_line() {
    boost::asio::async_read_until(out_, buffer_, '\n', [this](boost::system::error_code ec, size_t) {
        if (ec) {  // EOF: the program closed stdout or exited
            eof_ = true;
            if (reaped_) exit_ = reaped_;
            return;
        }
        std::istream in(&buffer_);
        std::string line;
        std::getline(in, line);
        ProgramEvent event{side_, monotonic_ns(), nullptr};
        event.body = nlohmann::json::parse(line, nullptr, false);
        if (!event.body.is_object()) event.body = {{"output", line}};
        // The program stamps its reports with the same clock; a stamp from the future is not believed.
        if (auto t = event.body.find("t"); t != event.body.end() && t->is_number_integer() && t->get<int64_t>() <= event.time_ns)
            event.time_ns = t->get<int64_t>();
        if (event.body.contains("step") && event.body["step"].is_string())
            blocked_at_ = event.body["step"].get<std::string>();
        on_event_(event);
        read_line();
    });
}

void Program::wait_exit() {
    exited_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
        if (ec) return;
        int status = 0;
        if (::waitpid(pid_, &status, 0) != pid_) return;
        ProgramExit e{monotonic_ns(), std::nullopt, std::nullopt};
        if (WIFEXITED(status)) e.status = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
        reaped_ = e;
        if (eof_) exit_ = reaped_;
        blocked_at_.reset();
    });
}

void Program::release(const std::string& step) {
    blocked_at_.reset();
    const std::string line = step + "\n";
    boost::system::error_code ec;
    boost::asio::write(in_, boost::asio::buffer(line), ec);  // a dead program's EPIPE is its exit's business
}

void Program::signal(int number) {
    if (!reaped_) ::kill(pid_, number);
}

void Program::kill() {
    if (exit_) return;
    if (reaped_) exit_ = reaped_;  // dead, but something it started still holds its stdout
    else ::kill(pid_, SIGKILL);
}

}  // namespace socklab
