#include "core/error.h"

namespace thg {

namespace {
std::string compose(const std::string& file, const std::string& reason) {
  return file.empty() ? reason : file + ": " + reason;
}
}  // namespace

Error::Error(ErrorKind kind, std::string file, std::string reason)
    : std::runtime_error(compose(file, reason)),
      kind_(kind),
      file_(std::move(file)),
      reason_(std::move(reason)) {}

int Error::exit_code() const {
  switch (kind_) {
    case ErrorKind::BadInput: return 2;
    case ErrorKind::Cancelled: return 130;
    case ErrorKind::Failure: break;
  }
  return 1;
}

}  // namespace thg
