#pragma once
// Asking a long computation to stop at its next safe point. install_stop_handlers() turns SIGINT and
// SIGTERM into a request that the trainer polls between optimiser steps: it writes a checkpoint and
// throws moe::Stopped, so the program exits cleanly (results never half-written). A second signal of
// either kind ends the process at once with the default action (for a stop that takes too long).
#include <string>

#include "moe/core/error.hpp"

namespace moe {

void install_stop_handlers();
// 0 while no stop is requested; else the signal number (or the value given to request_stop).
int stop_signal();
void request_stop(int signal_number);  // as if that signal arrived (tests, embedding programs)
void clear_stop_request();
std::string signal_name(int signal_number);  // "SIGINT", "SIGTERM", "signal 7"

// Thrown where a requested stop was honoured; the message says where and how to resume.
class Stopped : public Error {
 public:
  Stopped(int signal_number, const std::string& message) : Error(message), signal_(signal_number) {}
  int signal_number() const { return signal_; }
  int exit_status() const { return 128 + signal_; }  // the shell's convention for "ended by a signal"

 private:
  int signal_;
};

}  // namespace moe
