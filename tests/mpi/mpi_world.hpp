#pragma once
// MPI_COMM_WORLD of the expert-parallel test binary (main.cpp).
#include "moe/parallel/communicator.hpp"

moe::Communicator& world();
