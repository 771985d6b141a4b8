#pragma once
// The one place isokin includes Boost.Asio. Boost 1.74's Asio uses std::exchange without
// including <utility>, which GCC 12 in C++20 mode does not pull in on its own
// ("'exchange' is not a member of 'std'"): include it first.

// clang-format off
#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
// clang-format on
