# Installs libtrikv, its headers (under include/trikv/<layer>/) and a CMake package so that
# an out-of-tree project can `find_package(trikv)` and link `trikv::trikv`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS trikv EXPORT trikvTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS trikv_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The installed CLI finds the installed libtrikv relative to itself ($ORIGIN/../lib), wherever the
# prefix is moved and with no LD_LIBRARY_PATH. Directories of non-system dependencies on the link
# line (a TSan-built oneTBB, scripts/tsan.sh) are kept too, as the build tree's RPATH has them.
file(RELATIVE_PATH trikv_bin_to_lib /${CMAKE_INSTALL_BINDIR} /${CMAKE_INSTALL_LIBDIR})
set_target_properties(trikv_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${trikv_bin_to_lib}" INSTALL_RPATH_USE_LINK_PATH TRUE)
set_target_properties(trikv PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
foreach(layer framework attention caches studies)
  # The library's headers only: the command line and the micro-benchmarks are not part of it.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/ DESTINATION include/trikv/${layer}
          FILES_MATCHING PATTERN "*.hpp" PATTERN "cli" EXCLUDE PATTERN "micro" EXCLUDE)
endforeach()
# The conformance harness for a plugin's types (trikv_add_conformance_test, docs/extending.md §5).
install(FILES ${PROJECT_SOURCE_DIR}/tests/conformance.hpp ${PROJECT_SOURCE_DIR}/tests/support.hpp
        DESTINATION include/trikv/testing)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/trikv_conformance.cmake ${PROJECT_SOURCE_DIR}/cmake/trikv_conformance_main.cpp
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trikv)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/studies/figures/gnuplot/ DESTINATION ${CMAKE_INSTALL_DATADIR}/trikv/gnuplot
        FILES_MATCHING PATTERN "*.gp")  # the figures' style and templates (studies/figures/gnuplot_script.cpp)
install(EXPORT trikvTargets NAMESPACE trikv:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trikv)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/trikvConfig.cmake.in
  ${PROJECT_BINARY_DIR}/trikvConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trikv)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/trikvConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/trikvConfig.cmake ${PROJECT_BINARY_DIR}/trikvConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trikv)
