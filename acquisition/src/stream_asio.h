#pragma once
// Boost.Asio for the live stream. Boost 1.74's Asio uses std::exchange without including
// <utility>, which GCC 12 in C++20 mode does not pull in on its own: include it first, here only.
#include <utility>

#include <boost/asio.hpp>
