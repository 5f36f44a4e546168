#include "moe/core/stop_request.hpp"

#include <csignal>

namespace moe {

namespace {

volatile std::sig_atomic_t requested = 0;

extern "C" void on_stop_signal(int signal_number) {
  if (requested != 0) {  // the second signal: stop now, the way the signal would without a handler
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  requested = signal_number;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in progress go on; the trainer polls the flag
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return requested; }
void request_stop(int signal_number) { requested = signal_number; }
void clear_stop_request() { requested = 0; }

std::string signal_name(int signal_number) {
  if (signal_number == SIGINT) return "SIGINT";
  if (signal_number == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(signal_number);
}

}  // namespace moe
