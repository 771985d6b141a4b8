#pragma once
// A real pseudo-terminal made in the test process with openpty(): the test writes what a board
// would send into the master side; the driver under test opens the slave side by its path.
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace isokin::test {

class PtyPair {
 public:
  PtyPair() {
    // Raw from the start, so nothing written before the driver configures the port is
    // translated (ICRNL would turn "\r" into "\n").
    termios raw{};
    ::cfmakeraw(&raw);
    char name[256] = {};
    if (::openpty(&master_, &slave_, name, &raw, nullptr) != 0) {
      throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
    }
    slave_path_ = name;
  }
  ~PtyPair() { close(); }
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;

  [[nodiscard]] const std::string& slave_path() const { return slave_path_; }

  // Blocks until every byte is in the terminal (the driver reads concurrently).
  void write(std::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t n = ::write(master_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(std::string("pty write: ") + std::strerror(errno));
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // The board is unplugged: both of the test's ends close; the driver's reads fail with EIO.
  void close() {
    if (master_ >= 0) ::close(master_);
    if (slave_ >= 0) ::close(slave_);
    master_ = slave_ = -1;
  }

 private:
  int master_ = -1;
  int slave_ = -1;
  std::string slave_path_;
};

}  // namespace isokin::test
