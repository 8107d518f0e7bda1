// Path handling: the in-memory Envs, whose file systems are maps keyed by path, must agree on
// when two spellings name the same entry; the store syncs the parent of the directory it creates.
#ifndef ES_ENGINE_UTIL_PATH_H_
#define ES_ENGINE_UTIL_PATH_H_

#include <string>
#include <string_view>

namespace es {

// Collapses repeated and trailing slashes, so that "a//b/" and "a/b" name the same entry.
inline std::string NormalizePath(std::string_view path) {
  std::string out;
  for (const char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// The directory holding a normalized path: "" (the working directory) for a bare name.
inline std::string ParentDir(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace es

#endif  // ES_ENGINE_UTIL_PATH_H_
