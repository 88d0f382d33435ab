// Lending at scale: what a drawdown and a daily tick cost with a small book and with a big one
// (docs/lending-rules.md §1.2: no rule scans a capped list, so neither may grow with the book).
//
//   build/bin/lending_scale_bench [--books 1000,1000000] [--samples 200]
//
// For each book size N it builds N active loans in-process through the executor (bureau
// snapshot and admission per borrower, then verification, drawdown, approval, both funding legs
// and payout per loan: the same transactions a network commits), then measures, in one run:
//   - a drawdown: the average over `samples` complete draw transactions;
//   - a daily tick on a day no loan is due (clock.advance 1 day; the median of five);
//   - a tick on the first due date of the book (the loans drawn on its first day are due).
// It prints the figures per size, the ratios against the smallest book, and the process's peak
// RSS. The state is a plain ordered map (the executor's reads and writes, without the Merkle
// state tree's hashing), so the figures are the contracts' own cost.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "contracts/contract.h"
#include "contracts/executor.h"
#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "contracts/lending/money.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "genesis/genesis.h"
#include "lending_book.h"

namespace {

using namespace colend;            // NOLINT
using namespace colend::contracts;  // NOLINT
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using colend::bench::Book;
using colend::bench::kStartDay;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

long PeakRssMib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

struct Figures {
  std::uint64_t loans = 0;
  double build_s = 0, draw_ms = 0, quiet_tick_ms = 0, due_tick_ms = 0;
  std::uint64_t due_loans = 0;
  std::size_t entries = 0;
};

Figures Measure(std::uint64_t loans, int samples) {
  Figures f;
  f.loans = loans;
  Book book;
  const auto t0 = Clock::now();
  std::string borrower;
  constexpr std::uint64_t kLoansPerBorrower = 20;  // max_concurrent_loans of the profile
  // One due-day cohort in 20: loans drawn on 20 successive business days.
  const std::uint64_t per_day = (loans + 19) / 20;
  for (std::uint64_t i = 0; i < loans; ++i) {
    if (i % per_day == 0 && i > 0) Book::Must(book.Send("lead-bank", "clock.advance", {{"days", "1"}}));
    if (i % kLoansPerBorrower == 0) borrower = book.Admit(i / kLoansPerBorrower);
    char id[24];
    std::snprintf(id, sizeof id, "L%09llu", static_cast<unsigned long long>(i));
    book.Originate(id, borrower);
    if ((i + 1) % 100000 == 0) std::fprintf(stderr, "  %llu loans built\n", static_cast<unsigned long long>(i + 1));
  }
  f.build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  // Quiet days (no loan due): the median of five one-day ticks.
  {
    std::vector<double> ticks;
    for (int k = 0; k < 5; ++k) {
      const auto q0 = Clock::now();
      Book::Must(book.Send("lead-bank", "clock.advance", {{"days", "1"}}));
      ticks.push_back(Ms(Clock::now() - q0));
    }
    std::sort(ticks.begin(), ticks.end());
    f.quiet_tick_ms = ticks[ticks.size() / 2];
  }
  // The first due date of the book: every loan of the first cohort (1/20 of the book) is due.
  const Loan first = *Loan::FromText(*book.state().Get("loan/L000000000"));
  const std::int64_t due = first.installments[0].due_day;
  if (due - book.Today() - 1 > 0) {
    Book::Must(book.Send("lead-bank", "clock.advance", {{"days", std::to_string(due - book.Today() - 1)}}));
  }
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "wake/%010lld/", static_cast<long long>(due));
  f.due_loans = book.state().Scan(prefix, ~std::size_t{0}).size();
  const auto u0 = Clock::now();
  Book::Must(book.Send("lead-bank", "clock.advance", {{"days", "1"}}));
  f.due_tick_ms = Ms(Clock::now() - u0);
  // A drawdown with the book in place (new borrowers, so their limits do not bind): verification
  // and the draw transaction, averaged.
  {
    std::vector<std::string> borrowers;
    for (int s = 0; s < samples; ++s) borrowers.push_back(book.Admit(1'000'000'000ull + s));
    const auto d0 = Clock::now();
    for (int s = 0; s < samples; ++s) Book::Must(book.Draw("D" + std::to_string(s), borrowers[s]));
    f.draw_ms = Ms(Clock::now() - d0) / samples;
  }
  f.entries = book.state().size();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::uint64_t> books = {1000, 100000};
  int samples = 200;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--books" && i + 1 < argc) {
      books.clear();
      std::string list = argv[++i];
      for (std::size_t p = 0; p <= list.size();) {
        std::size_t q = list.find(',', p);
        if (q == std::string::npos) q = list.size();
        books.push_back(std::stoull(list.substr(p, q - p)));
        p = q + 1;
      }
    } else if (a == "--samples" && i + 1 < argc) {
      samples = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: lending_scale_bench [--books N1,N2,...] [--samples S]\n");
      return 2;
    }
  }
  std::vector<Figures> all;
  for (std::uint64_t n : books) {
    all.push_back(Measure(n, samples));
    const Figures& f = all.back();
    std::printf("book %9llu loans: built in %7.1f s (%zu state entries); drawdown %.3f ms; quiet tick %.3f ms; "
                "due-date tick %.1f ms for %llu due loans (%.3f ms a loan); peak RSS so far %ld MiB\n",
                static_cast<unsigned long long>(f.loans), f.build_s, f.entries, f.draw_ms, f.quiet_tick_ms,
                f.due_tick_ms, static_cast<unsigned long long>(f.due_loans),
                f.due_loans ? f.due_tick_ms / static_cast<double>(f.due_loans) : 0.0, PeakRssMib());
    std::fflush(stdout);
  }
  for (std::size_t i = 1; i < all.size(); ++i) {
    std::printf("%llu vs %llu loans: drawdown x%.2f, quiet tick x%.2f, due-date tick per due loan x%.2f\n",
                static_cast<unsigned long long>(all[i].loans), static_cast<unsigned long long>(all[0].loans),
                all[i].draw_ms / all[0].draw_ms, all[i].quiet_tick_ms / all[0].quiet_tick_ms,
                (all[i].due_tick_ms / static_cast<double>(all[i].due_loans)) /
                    (all[0].due_tick_ms / static_cast<double>(all[0].due_loans)));
  }
  return 0;
}
