// Runs the mixpe binary in a child process and captures its exit code and output (tests only).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace mixpe::testing_util {

struct CommandResult {
  int exit_code;
  std::string out;  // stdout and stderr, interleaved
};

inline CommandResult run_cli(const std::string& args) {
  const std::string cmd = std::string(MIXPE_CLI_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + cmd);
  std::string out;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) out += buf.data();
  const int status = pclose(pipe);
  return {WEXITSTATUS(status), out};
}

}  // namespace mixpe::testing_util
