// cpp-httplib: a blocking client, so C threads, each with its own httplib::Client (one
// connection, kept alive or not). TCP_NODELAY on, as the other clients have it.
#include "common.hpp"

#include <httplib.h>

#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const bench::options o = bench::parse_options(argc, argv, "bench_httplib");
  bench::workload work(o);
  auto run = [&] {
    httplib::Client client(o.host, o.port);
    client.set_keep_alive(o.keepalive);
    client.set_tcp_nodelay(true);
    client.set_read_timeout(30, 0);
    while (work.take()) {
      const auto result = client.Get(o.path.c_str());
      if (!result) {
        work.fail(httplib::to_string(result.error()).c_str());
        continue;
      }
      work.check(result->status, result->body.size());
    }
  };
  const bench::stopwatch clock;
  if (o.concurrency == 1) {
    run();
  } else {
    std::vector<std::thread> threads;
    for (int i = 0; i < o.concurrency; ++i) threads.emplace_back(run);
    for (auto& t : threads) t.join();
  }
  return bench::finish("httplib", o, work, clock);
}
