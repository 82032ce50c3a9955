// A minimal GET with libcurl's easy interface: prints the status and the body's size.
//   minimal_curl HOST PORT PATH
#include <curl/curl.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: minimal_curl HOST PORT PATH\n"), 2;
  const std::string url = std::string("http://") + argv[1] + ":" + argv[2] + argv[3];
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char* data, std::size_t size, std::size_t n, void* user) {
                     static_cast<std::string*>(user)->append(data, size * n);
                     return size * n;
                   });
  const CURLcode result = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (result != CURLE_OK) return std::fprintf(stderr, "%s\n", curl_easy_strerror(result)), 1;
  std::printf("%ld\n%zu body bytes\n", status, body.size());
  return 0;
}
