# Installs the libraries, headers and a package config so that another
# project can `find_package(eventsource)` and link `es::persistence`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS es_persistence es_actors es_projections es_runtime EXPORT eventsourceTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(lib persistence actors projections runtime)
  install(DIRECTORY ${lib}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()
install(EXPORT eventsourceTargets NAMESPACE es::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/eventsource)
configure_package_config_file(cmake/eventsourceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/eventsourceConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/eventsource)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/eventsourceConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/eventsourceConfig.cmake
  ${PROJECT_BINARY_DIR}/eventsourceConfigVersion.cmake
  cmake/FindCAF.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/eventsource)
