#include "expectations/expr.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace socklab {
namespace {

// A recursive-descent parser that evaluates as it reads.
class Parser {
public:
    Parser(const std::string& text, const Lookup& lookup) : text_(text), lookup_(lookup) {}

    double parse() {
        double value = comparison();
        skip_space();
        if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
        return value;
    }

private:
    const std::string& text_;
    const Lookup& lookup_;
    size_t pos_ = 0;
    int depth_ = 0;  // nesting bound, so hostile input cannot exhaust the stack

    [[noreturn]] void fail(const std::string& what) const {
        throw ExprError("in expression \"" + text_ + "\": " + what);
    }
    void skip_space() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    bool accept(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    // a < b, a == b, ...: 1 when it holds, 0 when not (for "when" conditions).
    double comparison() {
        double left = sum();
        skip_space();
        static const char* ops[] = {"<=", ">=", "==", "!=", "<", ">"};
        for (const char* op : ops) {
            const size_t n = std::char_traits<char>::length(op);
            if (text_.compare(pos_, n, op) != 0) continue;
            pos_ += n;
            double right = sum();
            const std::string o = op;
            return o == "<=" ? left <= right : o == ">=" ? left >= right : o == "==" ? left == right
                 : o == "!=" ? left != right : o == "<"  ? left < right   : left > right;
        }
        return left;
    }
    double sum() {
        double value = product();
        for (;;) {
            if (accept('+')) value += product();
            else if (accept('-')) value -= product();
            else return value;
        }
    }
    double product() {
        double value = unary();
        for (;;) {
            if (accept('*')) {
                value *= unary();
            } else if (accept('/')) {
                double divisor = unary();
                if (divisor == 0) fail("division by zero");
                value /= divisor;
            } else {
                return value;
            }
        }
    }
    double unary() {
        if (++depth_ > 64) fail("nested too deeply");
        double value = accept('-') ? -unary() : primary();
        --depth_;
        return value;
    }
    double primary() {
        skip_space();
        if (pos_ >= text_.size()) fail("it ends where a value was expected");
        if (accept('(')) {
            double value = comparison();  // "(a == 0) * n": a comparison in parentheses is 1 or 0
            if (!accept(')')) fail("missing ')'");
            return value;
        }
        const char c = text_[pos_];
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return name();
        fail("unexpected '" + std::string(1, c) + "'");
    }
    double number() {
        const char* begin = text_.c_str() + pos_;
        char* end = nullptr;
        double value = std::strtod(begin, &end);
        if (end == begin || !std::isfinite(value)) fail("bad number");
        pos_ += static_cast<size_t>(end - begin);
        return value;
    }
    double name() {
        size_t start = pos_;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' || text_[pos_] == '.'))
            ++pos_;
        std::string id = text_.substr(start, pos_ - start);
        if (accept('(')) return call(id);
        auto value = lookup_(id);
        if (!value) fail("unknown name '" + id + "'");
        return *value;
    }
    double call(const std::string& function) {
        if (function == "has") return has();
        if (function != "min" && function != "max" && function != "floor") fail("unknown function '" + function + "'");
        std::vector<double> args{sum()};
        while (accept(',')) args.push_back(sum());
        if (!accept(')')) fail("missing ')' after the arguments of " + function);
        // floor(x): the kernel's integer division and shifts, e.g. floor(n / 4) for n >> 2.
        if (function == "floor") {
            if (args.size() != 1) fail("floor() takes one argument");
            return std::floor(args.front());
        }
        double result = args.front();
        for (double arg : args) result = function == "min" ? std::min(result, arg) : std::max(result, arg);
        return result;
    }
    // has(name): 1 when the name has a value here, 0 when not; for what only some kernels have,
    // e.g. has(client.net.ipv4.tcp_syn_linear_timeouts) (a sysctl is a name only where it exists).
    double has() {
        skip_space();
        const size_t start = pos_;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' || text_[pos_] == '.'))
            ++pos_;
        if (pos_ == start || !(std::isalpha(static_cast<unsigned char>(text_[start])) || text_[start] == '_'))
            fail("has() takes one name, e.g. has(client.net.ipv4.tcp_syn_linear_timeouts)");
        const std::string id = text_.substr(start, pos_ - start);
        if (!accept(')')) fail("missing ')' after the name in has(" + id);
        return lookup_(id) ? 1.0 : 0.0;
    }
};

}  // namespace

double evaluate(const std::string& expr, const Lookup& lookup) { return Parser(expr, lookup).parse(); }

}  // namespace socklab
