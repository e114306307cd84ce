#pragma once
// What a server says about a failure: the CLI's one-line message, with the server's own paths
// replaced by what the client knows (the upload's role: "portrait", "audio"), and never a
// backtrace (core/failure_message.h folds LibTorch's).
#include <exception>
#include <filesystem>
#include <string>

namespace thg::serve {

// `folder`: where the request's files are (a job's folder or an upload's incoming folder).
std::string public_message(const std::exception& e, const std::filesystem::path& folder);

}  // namespace thg::serve
