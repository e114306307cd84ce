#pragma once
// A request the server refuses: the HTTP status and the one-line message of its JSON body.
#include <stdexcept>
#include <string>

namespace thg::serve {

class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

}  // namespace thg::serve
