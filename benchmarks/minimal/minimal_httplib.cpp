// A minimal GET with cpp-httplib: prints the status and the body's size.
//   minimal_httplib HOST PORT PATH
#include <httplib.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: minimal_httplib HOST PORT PATH\n"), 2;
  httplib::Client client(argv[1], std::atoi(argv[2]));
  const auto result = client.Get(argv[3]);
  if (!result) return std::fprintf(stderr, "%s\n", httplib::to_string(result.error()).c_str()), 1;
  std::printf("%d\n%zu body bytes\n", result->status, result->body.size());
  return 0;
}
