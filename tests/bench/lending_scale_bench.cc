// Lending at scale: what a drawdown and a daily tick cost with a small book and with a big one
// (docs/lending-rules.md §1.2: no rule scans a capped list, so neither may grow with the book).
//
//   build/bin/lending_scale_bench [--books 1000,1000000] [--samples 200]
//
// For each book size N it builds N active loans in-process through the executor (bureau
// snapshot and admission per borrower, then verification, drawdown, approval, both funding legs
// and payout per loan: the same transactions a network commits). With every book built, it
// measures them in alternating rounds (so that the shared machine's load falls on each alike):
//   - a daily tick on a day no loan is due (clock.advance 1 day; the median of five rounds);
//   - a tick on a due date (one cohort of the book falls due; per due loan, median of five);
//   - a drawdown: verification and the draw transaction (median of five rounds' averages);
//   - the state operations of each (reads, scans, entries scanned, writes), which do not depend
//     on the machine: equal counts on every book show that no rule's work grows with it;
//   - a multi-day advance over three due dates on the biggest book, with the peak RSS before and
//     after it (the advance keeps only the loans it writes, not the book).
// It prints the figures per size and the ratios against the smallest book. The state is a plain
// ordered map (the executor's reads and writes, without the Merkle state tree's hashing), so the
// figures are the contracts' own cost.
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
  double build_s = 0, draw_ms = 0, quiet_tick_ms = 0, due_tick_ms = 0;  // due: per due loan
  std::uint64_t due_loans = 0;  // loans due on the measured due dates, all rounds
  std::size_t entries = 0;
  long rss_after_build_mib = 0;
  // State operations per drawdown (average), per quiet tick, per due loan of the due-date ticks.
  double draw_ops = 0, quiet_ops = 0, due_ops = 0;
};

// Every state operation counts as one: a read, a scan, an entry a scan returned, a write.
double OpsOf(const colend::bench::MapState& s) {
  const auto& o = s.ops();
  return static_cast<double>(o.gets + o.scans + o.scanned + o.writes);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Builds a book of `loans` active loans: one due-day cohort in 20 (loans drawn on 20 successive
// business days), 20 loans per borrower (max_concurrent_loans of the profile).
std::unique_ptr<Book> BuildBook(std::uint64_t loans, Figures* f) {
  auto book = std::make_unique<Book>();
  f->loans = loans;
  const auto t0 = Clock::now();
  std::string borrower;
  constexpr std::uint64_t kLoansPerBorrower = 20;
  const std::uint64_t per_day = (loans + 19) / 20;
  for (std::uint64_t i = 0; i < loans; ++i) {
    if (i % per_day == 0 && i > 0) Book::Must(book->Send("lead-bank", "clock.advance", {{"days", "1"}}));
    if (i % kLoansPerBorrower == 0) borrower = book->Admit(i / kLoansPerBorrower);
    char id[24];
    std::snprintf(id, sizeof id, "L%09llu", static_cast<unsigned long long>(i));
    book->Originate(id, borrower);
    if ((i + 1) % 100000 == 0) std::fprintf(stderr, "  %llu loans built\n", static_cast<unsigned long long>(i + 1));
  }
  f->build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  f->entries = book->state().Scan("", ~std::size_t{0}).size();
  f->rss_after_build_mib = PeakRssMib();
  return book;
}

// The measurements alternate between the books, round by round, so that a change in the
// machine's load (it is shared) falls on every book alike; each figure is a median over rounds.
void MeasureAll(std::vector<std::unique_ptr<Book>>& books, std::vector<Figures>& figs, int samples) {
  constexpr int kRounds = 5;
  const std::size_t n = books.size();
  std::vector<std::vector<double>> quiet(n), due(n), draw(n);
  // Quiet days (no loan due yet: the first cohort is due a month after it was drawn).
  for (int r = 0; r < kRounds; ++r) {
    for (std::size_t b = 0; b < n; ++b) {
      books[b]->state().ResetOps();
      const auto q0 = Clock::now();
      Book::Must(books[b]->Send("lead-bank", "clock.advance", {{"days", "1"}}));
      quiet[b].push_back(Ms(Clock::now() - q0));
      figs[b].quiet_ops = OpsOf(books[b]->state());
    }
  }
  // Up to the eve of each book's first due date (not measured).
  for (std::size_t b = 0; b < n; ++b) {
    const Loan first = *Loan::FromText(*books[b]->state().Get("loan/L000000000"));
    const std::int64_t gap = first.installments[0].due_day - books[b]->Today() - 1;
    if (gap > 0) Book::Must(books[b]->Send("lead-bank", "clock.advance", {{"days", std::to_string(gap)}}));
  }
  // Due dates: each round is one day on which a cohort of the book falls due.
  std::vector<double> due_ops_sum(n, 0.0);
  for (int r = 0; r < kRounds; ++r) {
    for (std::size_t b = 0; b < n; ++b) {
      char prefix[32];
      std::snprintf(prefix, sizeof prefix, "wake/%010lld/", static_cast<long long>(books[b]->Today() + 1));
      const std::uint64_t due_loans = books[b]->state().Scan(prefix, ~std::size_t{0}).size();
      books[b]->state().ResetOps();
      const auto u0 = Clock::now();
      Book::Must(books[b]->Send("lead-bank", "clock.advance", {{"days", "1"}}));
      const double ms = Ms(Clock::now() - u0);
      if (due_loans == 0) continue;  // a day no cohort falls on (month lengths): not a due date
      figs[b].due_loans += due_loans;
      due[b].push_back(ms / static_cast<double>(due_loans));
      due_ops_sum[b] += OpsOf(books[b]->state());
    }
  }
  // Drawdowns with the book in place (new borrowers, so their limits do not bind): verification
  // and the draw transaction.
  const int per_round = std::max(1, samples / kRounds);
  std::vector<double> draw_ops_sum(n, 0.0);
  for (int r = 0; r < kRounds; ++r) {
    for (std::size_t b = 0; b < n; ++b) {
      std::vector<std::string> borrowers;
      for (int s = 0; s < per_round; ++s) borrowers.push_back(books[b]->Admit(1'000'000'000ull + r * per_round + s));
      books[b]->state().ResetOps();
      const auto d0 = Clock::now();
      for (int s = 0; s < per_round; ++s) {
        Book::Must(books[b]->Draw("D" + std::to_string(r * per_round + s), borrowers[s]));
      }
      draw[b].push_back(Ms(Clock::now() - d0) / per_round);
      draw_ops_sum[b] += OpsOf(books[b]->state()) / per_round;
    }
  }
  for (std::size_t b = 0; b < n; ++b) {
    figs[b].quiet_tick_ms = Median(quiet[b]);
    figs[b].due_tick_ms = Median(due[b]);
    figs[b].due_ops = figs[b].due_loans ? due_ops_sum[b] / static_cast<double>(figs[b].due_loans) : 0.0;
    figs[b].draw_ms = Median(draw[b]);
    figs[b].draw_ops = draw_ops_sum[b] / kRounds;
  }
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
  std::vector<Figures> all(books.size());
  std::vector<std::unique_ptr<Book>> built;
  for (std::size_t i = 0; i < books.size(); ++i) {
    built.push_back(BuildBook(books[i], &all[i]));
    std::printf("book %9llu loans: built in %7.1f s, %zu state entries, peak RSS %ld MiB\n",
                static_cast<unsigned long long>(all[i].loans), all[i].build_s, all[i].entries,
                all[i].rss_after_build_mib);
    std::fflush(stdout);
  }
  MeasureAll(built, all, samples);
  for (const Figures& f : all) {
    std::printf("book %9llu loans: drawdown %.3f ms; quiet tick %.3f ms; due-date tick %.3f ms a due loan "
                "(%llu due loans in 5 rounds); state operations: %.1f a drawdown, %.0f a quiet tick, %.1f a due loan\n",
                static_cast<unsigned long long>(f.loans), f.draw_ms, f.quiet_tick_ms, f.due_tick_ms,
                static_cast<unsigned long long>(f.due_loans), f.draw_ops, f.quiet_ops, f.due_ops);
  }
  {
    Book& big = *built.back();
    const long before = PeakRssMib();
    std::uint64_t woken = 0;
    for (int d = 1; d <= 3; ++d) {
      char prefix[32];
      std::snprintf(prefix, sizeof prefix, "wake/%010lld/", static_cast<long long>(big.Today() + d));
      woken += big.state().Scan(prefix, ~std::size_t{0}).size();
    }
    big.state().ResetOps();
    const auto m0 = Clock::now();
    // A long advance is cut into clock transactions of whole days (docs/lending-rules.md §1.2);
    // each is its own block here, so the overlay holds one transaction's writes at a time.
    const std::int64_t target = big.Today() + 3;
    int transactions = 0;
    while (big.Today() < target) {
      Book::Must(big.Send("lead-bank", "clock.advance", {{"days", std::to_string(target - big.Today())}}));
      ++transactions;
    }
    std::printf("book %9llu loans: a 3-day advance waking %llu loans (due or overdue) took %.1f ms in %d clock "
                "transactions and wrote %llu entries; peak RSS %ld MiB before it, %ld MiB after\n",
                static_cast<unsigned long long>(all.back().loans), static_cast<unsigned long long>(woken),
                Ms(Clock::now() - m0), transactions, static_cast<unsigned long long>(big.state().ops().writes), before,
                PeakRssMib());
  }
  for (std::size_t i = 1; i < all.size(); ++i) {
    std::printf("%llu vs %llu loans: drawdown x%.2f, quiet tick x%.2f, due-date tick per due loan x%.2f; "
                "state operations: drawdown x%.2f, quiet tick x%.2f, due loan x%.2f\n",
                static_cast<unsigned long long>(all[i].loans), static_cast<unsigned long long>(all[0].loans),
                all[i].draw_ms / all[0].draw_ms, all[i].quiet_tick_ms / all[0].quiet_tick_ms,
                all[i].due_tick_ms / all[0].due_tick_ms,
                all[i].draw_ops / all[0].draw_ops, all[i].quiet_ops / all[0].quiet_ops, all[i].due_ops / all[0].due_ops);
  }
  return 0;
}
