# Writes OUT, a C++ file defining colend::evidence::NAME as the exact bytes of IN (a file shipped
# inside every evidence bundle, e.g. tools/verify.sh), so the exporter and the repository's copy
# can never differ.
file(READ ${IN} content HEX)
string(LENGTH "${content}" length)
math(EXPR bytes "${length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," array "${content}")
file(WRITE ${OUT} "// Generated from ${IN} by embed.cmake; do not edit.\n"
  "#include <string_view>\nnamespace colend::evidence {\n"
  "static const char k${NAME}Bytes[] = {${array} '\\0'};\n"
  "extern const std::string_view k${NAME}(k${NAME}Bytes, ${bytes});\n}\n")
