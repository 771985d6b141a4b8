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

if(ISOKIN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
