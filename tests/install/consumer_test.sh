#!/usr/bin/env bash
# ctest "install: a consumer project builds against the installed tree" (tests/CMakeLists.txt).
# Installs the build tree into a fresh prefix under WORK and checks, failing with a one-line reason:
#   - the layout: every src/moe/**/*.hpp under include/moe/, the generated build_info.hpp, libmoe.a, the
#     four programs (each answers --help), the CMake package files and moekit.pc;
#   - tests/install/consumer built with find_package(moekit) (CMAKE_PREFIX_PATH=<prefix>, which must be the
#     package it finds) and main.cpp built with `pkg-config --cflags --libs moekit`: both run and print the
#     expected fit and version;
#   - both consumers hold every object of libmoe.a (one strong symbol of each), i.e. the archive was linked
#     whole although main.cpp references only a few of its objects.
# Usage: consumer_test.sh CMAKE BUILD_DIR WORK SOURCE_DIR LIBDIR CXX VERSION [CONFIG]
set -uo pipefail

fail() {
  echo "install test FAILED: $*" >&2
  exit 1
}
[[ $# -ge 7 ]] || fail "usage: $0 CMAKE BUILD_DIR WORK SOURCE_DIR LIBDIR CXX VERSION [CONFIG]"
cmake=$1 build=$2 work=$3 source=$4 libdir=$5 cxx=$6 version=$7 config=${8:-Release}
consumer=$source/tests/install/consumer
prefix=$work/prefix
expected="moekit $version: W=2.500000 b=-1.000000"  # then " routers=N", N from the installed moe-train (below)

rm -rf "$work" || fail "cannot remove the previous $work"
mkdir -p "$work" || fail "cannot make $work"

# 1. Install.
"$cmake" --install "$build" --prefix "$prefix" --config "$config" >"$work/install.log" 2>&1 ||
  fail "cmake --install $build --prefix $prefix failed: $(tail -n 1 "$work/install.log")"
for file in "$libdir/libmoe.a" include/moe/core/build_info.hpp "$libdir/cmake/moekit/moekitConfig.cmake" \
  "$libdir/cmake/moekit/moekitConfigVersion.cmake" "$libdir/cmake/moekit/moekitTargets.cmake" \
  "$libdir/pkgconfig/moekit.pc"; do
  [[ -f $prefix/$file ]] || fail "not installed: $prefix/$file"
done
if grep -q "^set(moekit_CUDA ON)" "$prefix/$libdir/cmake/moekit/moekitConfig.cmake"; then
  [[ -f $prefix/$libdir/libmoe_cuda.a ]] || fail "a CUDA build but not installed: $prefix/$libdir/libmoe_cuda.a"
fi
for program in moe-train moe-eval moe-data moe-bench; do
  [[ -x $prefix/bin/$program ]] || fail "not installed: $prefix/bin/$program"
  "$prefix/bin/$program" --help >/dev/null 2>"$work/$program.err" ||
    fail "installed $program --help failed: $(tail -n 1 "$work/$program.err")"
done
# The routers the installed moe-train lists: the consumer, linked against libmoe.a alone, must see as many.
routers=$("$prefix/bin/moe-train" --list routers | wc -l) || fail "installed moe-train --list routers failed"
[[ $routers -ge 1 ]] || fail "installed moe-train lists no routers"
expected="$expected routers=$routers"
# The headers: exactly src/moe's, plus the generated one.
(cd "$source/src" && find moe -name '*.hpp' && echo moe/core/build_info.hpp) | sort >"$work/headers.expected"
(cd "$prefix/include" && find moe -type f) | sort >"$work/headers.installed"
cmp -s "$work/headers.expected" "$work/headers.installed" ||
  fail "installed headers differ from src/moe/**/*.hpp: $(diff "$work/headers.expected" "$work/headers.installed" | grep '^[<>]' | head -n 3 | tr '\n' ' ')"

# One strong (T) symbol of each object of libmoe.a that defines one.
nm -g --defined-only "$prefix/$libdir/libmoe.a" 2>/dev/null |
  awk '/:$/ { got = 0; next } $2 == "T" && !got { print $3; got = 1 }' | sort -u >"$work/archive.symbols"
[[ -s $work/archive.symbols ]] || fail "no symbols read from $prefix/$libdir/libmoe.a (nm missing?)"

# check_consumer HOW BINARY: runs it, compares its output, and checks that it holds every object.
check_consumer() {
  local how=$1 binary=$2 output missing
  output=$("$binary" 2>&1) || fail "the $how consumer failed when run: $(echo "$output" | tail -n 1)"
  [[ $output == "$expected" ]] || fail "the $how consumer printed '$output', expected '$expected'"
  nm --defined-only "$binary" | awk '{ print $3 }' | sort -u >"$work/$how.symbols"
  missing=$(comm -23 "$work/archive.symbols" "$work/$how.symbols")
  [[ -z $missing ]] ||
    fail "the $how consumer lacks $(echo "$missing" | wc -l) objects of libmoe.a (not linked whole?), e.g. $(echo "$missing" | head -n 1)"
}

# 2. find_package(moekit).
"$cmake" -S "$consumer" -B "$work/cmake-build" -DCMAKE_BUILD_TYPE="$config" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" -DMOEKIT_EXPECTED_VERSION="$version" >"$work/cmake-configure.log" 2>&1 ||
  fail "configuring the consumer with find_package(moekit) failed (log: $work/cmake-configure.log): $(grep -m 1 -A 2 'Error' "$work/cmake-configure.log" | tr '\n' ' ')"
found=$(sed -n 's/^moekit_DIR:PATH=//p' "$work/cmake-build/CMakeCache.txt")
[[ $found -ef $prefix/$libdir/cmake/moekit ]] || fail "find_package(moekit) found '$found', not the installed $prefix/$libdir/cmake/moekit"
"$cmake" --build "$work/cmake-build" --config "$config" >"$work/cmake-build.log" 2>&1 ||
  fail "building the consumer with find_package(moekit) failed (log: $work/cmake-build.log): $(grep -m 1 -i 'error' "$work/cmake-build.log")"
check_consumer find_package "$work/cmake-build/moekit-consumer"

# 3. pkg-config.
flags=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --cflags --libs moekit 2>"$work/pkg-config.err") ||
  fail "pkg-config --cflags --libs moekit failed: $(tail -n 1 "$work/pkg-config.err")"
echo "$flags" >"$work/pkg-config.flags"
# shellcheck disable=SC2086  # the flags are words
"$cxx" -O2 "$consumer/main.cpp" -o "$work/pkg-config-consumer" $flags >"$work/pkg-config-build.log" 2>&1 ||
  fail "building the consumer with pkg-config's flags failed (log: $work/pkg-config-build.log): $(grep -m 1 -i 'error' "$work/pkg-config-build.log")"
check_consumer pkg-config "$work/pkg-config-consumer"

echo "install test passed: $prefix; both consumers print '$expected'"
