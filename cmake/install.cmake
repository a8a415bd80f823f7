# Installs libtrikv, its headers (under include/trikv/<layer>/) and a CMake package so that
# an out-of-tree project can `find_package(trikv)` and link `trikv::trikv`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS trikv EXPORT trikvTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS trikv_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(layer framework attention caches studies)
  # The library's headers only: the command line and the micro-benchmarks are not part of it.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/ DESTINATION include/trikv/${layer}
          FILES_MATCHING PATTERN "*.hpp" PATTERN "cli" EXCLUDE PATTERN "micro" EXCLUDE)
endforeach()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/studies/figures/gnuplot/ DESTINATION ${CMAKE_INSTALL_DATADIR}/trikv/gnuplot
        FILES_MATCHING PATTERN "*.gp")  # the figures' style and templates (studies/figures/gnuplot_script.cpp)
install(EXPORT trikvTargets NAMESPACE trikv:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trikv)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/trikvConfig.cmake.in
  ${PROJECT_BINARY_DIR}/trikvConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trikv)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/trikvConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/trikvConfig.cmake ${PROJECT_BINARY_DIR}/trikvConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trikv)
