#pragma once
// One exception type for everything THG reports to a user: the file concerned, the reason, and
// what kind of failure it is (which decides the exit status of the CLI).
#include <stdexcept>
#include <string>

namespace thg {

enum class ErrorKind {
  BadInput,   // the user's input or options are wrong: exit status 2
  Failure,    // something failed that is not the input's fault: exit status 1
  Cancelled,  // SIGINT / SIGTERM: exit status 130
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string file, std::string reason);

  // Shorthands for the common cases.
  static Error input(std::string file, std::string reason) {
    return Error(ErrorKind::BadInput, std::move(file), std::move(reason));
  }
  static Error failure(std::string file, std::string reason) {
    return Error(ErrorKind::Failure, std::move(file), std::move(reason));
  }

  ErrorKind kind() const { return kind_; }
  const std::string& file() const { return file_; }
  const std::string& reason() const { return reason_; }
  int exit_code() const;

 private:
  ErrorKind kind_;
  std::string file_;
  std::string reason_;
};

}  // namespace thg
