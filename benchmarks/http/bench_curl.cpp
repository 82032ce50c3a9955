// libcurl: one easy handle performing the requests one after the other for C=1; a multi
// handle driving C easy handles for C>1. A new connection per request is
// CURLOPT_FORBID_REUSE. The body is counted by the write callback, not kept.
#include "common.hpp"

#include <curl/curl.h>

#include <vector>

namespace {

struct transfer {
  CURL* easy = nullptr;
  std::size_t body = 0;
};

std::size_t count_body(char*, std::size_t size, std::size_t n, void* user) {
  static_cast<transfer*>(user)->body += size * n;
  return size * n;
}

void setup(transfer& t, const std::string& url, const bench::options& o) {
  t.easy = curl_easy_init();
  curl_easy_setopt(t.easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(t.easy, CURLOPT_WRITEFUNCTION, count_body);
  curl_easy_setopt(t.easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(t.easy, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(t.easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(t.easy, CURLOPT_TIMEOUT, 30L);
  if (!o.keepalive) curl_easy_setopt(t.easy, CURLOPT_FORBID_REUSE, 1L);
}

void check(transfer& t, CURLcode result, bench::workload& work) {
  if (result != CURLE_OK) {
    work.fail(curl_easy_strerror(result));
    return;
  }
  long status = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  work.check(static_cast<int>(status), t.body);
}

void run_easy(const std::string& url, const bench::options& o, bench::workload& work) {
  transfer t;
  setup(t, url, o);
  while (work.take()) {
    t.body = 0;
    check(t, curl_easy_perform(t.easy), work);
  }
  curl_easy_cleanup(t.easy);
}

void run_multi(const std::string& url, const bench::options& o, bench::workload& work) {
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(o.concurrency));
  std::vector<transfer> transfers(static_cast<std::size_t>(o.concurrency));
  int active = 0;
  for (auto& t : transfers) {
    setup(t, url, o);
    if (work.take()) {
      curl_multi_add_handle(multi, t.easy);
      ++active;
    }
  }
  while (active > 0) {
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode result = message->data.result;
      transfer* t = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
      curl_multi_remove_handle(multi, easy);
      --active;
      check(*t, result, work);
      if (work.take()) {
        t->body = 0;
        curl_multi_add_handle(multi, easy);
        ++active;
      }
    }
    if (active > 0) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  for (auto& t : transfers) curl_easy_cleanup(t.easy);
  curl_multi_cleanup(multi);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::options o = bench::parse_options(argc, argv, "bench_curl");
  bench::workload work(o);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string url = "http://" + o.host + ":" + std::to_string(o.port) + o.path;
  const bench::stopwatch clock;
  if (o.concurrency == 1) {
    run_easy(url, o, work);
  } else {
    run_multi(url, o, work);
  }
  const int status = bench::finish("curl", o, work, clock);
  curl_global_cleanup();
  return status;
}
