# `cmake --install <build> --prefix <dir>` (docs/install.md). Puts under the prefix:
#   include/moe/<folder>/*.hpp (and the generated moe/core/build_info.hpp), lib/libmoe.a (libmoe_cuda.a
#   with MOE_CUDA), bin/moe-{train,eval,data,bench}, lib/cmake/moekit (find_package(moekit)) and
#   lib/pkgconfig/moekit.pc.
# Consumers link moekit::moe (or pkg-config's Libs): libmoe.a whole, as the in-tree programs do (the
# top-level CMakeLists.txt says why). Included from there once moe's usage requirements are complete.
include(CMakePackageConfigHelpers)

set(MOE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/moekit)

# A sanitized library needs the sanitizer runtimes in the consumer's link too (in-tree, add_link_options
# of the top-level CMakeLists.txt gives them to every target).
if(MOE_SANITIZE)
  target_link_options(moe INTERFACE $<INSTALL_INTERFACE:-fsanitize=${MOE_SANITIZE}>)
endif()

set(moe_export_targets moe moe_whole)
if(MOE_CUDA)
  list(APPEND moe_export_targets moe_cuda)  # moe links it publicly
endif()
install(TARGETS ${moe_export_targets} EXPORT moekitTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS moe-train moe-eval moe-data moe-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/src/moe DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES ${MOE_BUILD_INFO} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/moe/core)

install(EXPORT moekitTargets NAMESPACE moekit:: DESTINATION ${MOE_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/moekitConfig.cmake.in ${CMAKE_BINARY_DIR}/moekitConfig.cmake
                              INSTALL_DESTINATION ${MOE_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the interface.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/moekitConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/moekitConfig.cmake ${CMAKE_BINARY_DIR}/moekitConfigVersion.cmake
        DESTINATION ${MOE_INSTALL_CMAKEDIR})

# moekit.pc: the same flags as moekit::moe, from what this configuration found. The prefix is taken from
# where the file lies (${pcfiledir}), since `cmake --install --prefix` picks it after configuring.
# Flags for libraries given as paths: -L<dir> -l<name> (no -L for the linker's own directories).
function(moe_pc_libs out)
  set(flags)
  foreach(lib IN LISTS ARGN)
    get_filename_component(name ${lib} NAME)
    get_filename_component(dir ${lib} DIRECTORY)
    if(IS_ABSOLUTE ${lib} AND name MATCHES "^lib(.+)\\.(so|a)$")
      if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
        list(APPEND flags -L${dir})
      endif()
      list(APPEND flags -l${CMAKE_MATCH_1})
    else()
      list(APPEND flags ${lib})  # a flag, or a file such as libnccl.so.2
    endif()
  endforeach()
  list(REMOVE_DUPLICATES flags)
  set(${out} ${flags} PARENT_SCOPE)
endfunction()

# Compile definitions and options: moe's own PUBLIC ones, with their generator expressions resolved
# ($<$<BOOL:x>:D> and $<$<COMPILE_LANGUAGE:CXX>:opts>, the only ones they use).
get_target_property(moe_defs moe INTERFACE_COMPILE_DEFINITIONS)
set(moe_pc_cflags)
foreach(def IN LISTS moe_defs)
  if(def MATCHES "^\\$<\\$<BOOL:([^>]*)>:([^>]*)>$")
    if(CMAKE_MATCH_1)
      list(APPEND moe_pc_cflags -D${CMAKE_MATCH_2})
    endif()
  else()
    list(APPEND moe_pc_cflags -D${def})
  endif()
endforeach()
get_target_property(moe_opts moe INTERFACE_COMPILE_OPTIONS)
string(REGEX REPLACE "\\$<\\$<COMPILE_LANGUAGE:CXX>:([^>]*)>" "\\1" moe_opts "${moe_opts}")
list(APPEND moe_pc_cflags -std=c++${CMAKE_CXX_STANDARD} ${moe_opts})
if("${moe_pc_cflags}" MATCHES "\\$<")
  message(FATAL_ERROR "cmake/install.cmake: a generator expression in moe's compile flags that moekit.pc cannot hold: ${moe_pc_cflags}")
endif()

set(moe_pc_includes ${ARMADILLO_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
set(moe_pc_libs ${HDF5_C_LIBRARIES} ${LAPACK_LIBRARIES} ${BLAS_LIBRARIES} ${ZLIB_LIBRARIES})
if(MOE_OPENMP)
  separate_arguments(openmp_flags NATIVE_COMMAND "${OpenMP_CXX_FLAGS}")
  list(APPEND moe_pc_cflags ${openmp_flags})
  list(APPEND moe_pc_libs ${openmp_flags})
endif()
if(MOE_MPI)
  list(APPEND moe_pc_includes ${MPI_CXX_INCLUDE_DIRS})
  list(APPEND moe_pc_cflags ${MPI_CXX_COMPILE_OPTIONS})
  foreach(def IN LISTS MPI_CXX_COMPILE_DEFINITIONS)
    list(APPEND moe_pc_cflags -D${def})
  endforeach()
  separate_arguments(mpi_link_flags NATIVE_COMMAND "${MPI_CXX_LINK_FLAGS}")
  list(APPEND moe_pc_libs ${mpi_link_flags} ${MPI_CXX_LIBRARIES})
endif()
if(MOE_CUDA)
  list(APPEND moe_pc_includes ${CUDAToolkit_INCLUDE_DIRS})
  list(APPEND moe_pc_libs ${CUDA_cudart_LIBRARY} ${CUDA_cublas_LIBRARY} ${CUDA_cublasLt_LIBRARY})
endif()
if(MOE_SANITIZE)
  list(APPEND moe_pc_libs -fsanitize=${MOE_SANITIZE})
endif()
list(REMOVE_DUPLICATES moe_pc_includes)
list(REMOVE_ITEM moe_pc_includes ${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES})
list(TRANSFORM moe_pc_includes PREPEND -I)
moe_pc_libs(moe_pc_libs ${moe_pc_libs})
set(MOE_PC_LIBS_MOE "-Wl,--whole-archive -lmoe -Wl,--no-whole-archive")
if(MOE_CUDA)
  string(APPEND MOE_PC_LIBS_MOE " -lmoe_cuda")
endif()
list(JOIN moe_pc_includes " " MOE_PC_INCLUDES)
list(JOIN moe_pc_cflags " " MOE_PC_CFLAGS)
list(JOIN moe_pc_libs " " MOE_PC_LIBS)
file(RELATIVE_PATH MOE_PC_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" MOE_PC_PREFIX "${MOE_PC_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/moekit.pc.in ${CMAKE_BINARY_DIR}/moekit.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/moekit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
