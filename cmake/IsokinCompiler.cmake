# Warnings, sanitizers and compiler caching shared by every isokin target.
find_program(ISOKIN_CCACHE ccache)
if(ISOKIN_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER ${ISOKIN_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${ISOKIN_CCACHE})
endif()

add_library(isokin_warnings INTERFACE)
target_compile_options(isokin_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(ISOKIN_WERROR)
  target_compile_options(isokin_warnings INTERFACE -Werror)
endif()

if(ISOKIN_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(ISOKIN_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  # Boost.Asio brackets handlers with std::atomic_thread_fence, which TSan does not model (GCC:
  # -Wtsan, an error with -Werror). Its handler queues are mutex-protected, which TSan does see.
  # Defined for every target, so all translation units agree on Asio's inline code.
  add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
  add_link_options(-fsanitize=thread)
elseif(NOT ISOKIN_SANITIZE STREQUAL "")
  message(FATAL_ERROR "ISOKIN_SANITIZE must be address, thread or empty, not '${ISOKIN_SANITIZE}'")
endif()

if(ISOKIN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ISOKIN_FUZZ needs clang (CC=clang CXX=clang++); scripts/fuzz sets it up")
  endif()
  # Every library gets coverage instrumentation; only the fuzz targets link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
