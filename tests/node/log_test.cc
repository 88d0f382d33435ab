// The node's log lines (node/log.h): levels, key=value fields, quoting, JSON lines.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "node/log.h"
#include "node/metrics.h"

namespace colend::node {
namespace {

constexpr std::int64_t kMs = 1764705660123;  // 2025-12-02T20:01:00.123Z

TEST(Log, TextLineHasTimeLevelMemberMessageAndFields) {
  Logger log("lead-bank", LogLevel::kInfo, LogFormat::kText, nullptr);
  EXPECT_EQ(log.Format(kMs, LogLevel::kWarn, "sync: no answer",
                       {{"peer", "partner-bank"}, {"height", "42"}, {"why", "timed out"},
                        {"q", "a\"b"}}),
            "2025-12-02T20:01:00.123Z WARN  [lead-bank] sync: no answer peer=partner-bank "
            "height=42 why=\"timed out\" q=\"a\\\"b\"");
}

TEST(Log, JsonLineIsOneObjectWithTheFields) {
  Logger log("payee-bank", LogLevel::kDebug, LogFormat::kJson, nullptr);
  const std::string line =
      log.Format(kMs, LogLevel::kError, "FATAL: disk\nfull", {{"height", "7"}, {"bad", "\xff"}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one event, one line";
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2025-12-02T20:01:00.123Z");
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["member"], "payee-bank");
  EXPECT_EQ(j["msg"], "FATAL: disk\nfull");
  EXPECT_EQ(j["height"], "7");
  EXPECT_TRUE(j.contains("bad")) << "invalid UTF-8 is replaced, the line is kept";
}

TEST(Log, EventsBelowTheLevelAreNotWritten) {
  std::ostringstream out;
  Logger log("m", LogLevel::kWarn, LogFormat::kText, &out);
  log.Write(kMs, LogLevel::kDebug, "consensus: prevote");
  log.Write(kMs, LogLevel::kInfo, "block 4");
  log.Write(kMs, LogLevel::kWarn, "peer discredited");
  log.Write(kMs, LogLevel::kError, "FATAL: x");
  EXPECT_EQ(out.str().find("prevote"), std::string::npos);
  EXPECT_EQ(out.str().find("block 4"), std::string::npos);
  EXPECT_NE(out.str().find("peer discredited"), std::string::npos);
  EXPECT_NE(out.str().find("FATAL: x"), std::string::npos);
}

TEST(Log, LevelsAndFormatsAreNamedOrRefused) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("verbose").error().code, "bad-log-level");
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("xml").error().code, "bad-log-format");
}

// The Prometheus rendering (node/metrics.h): histogram buckets are cumulative, counters carry
// their labels, label values are escaped.
TEST(Metrics, HistogramBucketsAreCumulativeAndLabelsEscaped) {
  NodeMetrics m;
  m.BlockCommitted(3, 2000, 0, 0.02);
  m.BlockCommitted(0, 500, 1, 0.3);
  m.BlockCommitted(5, 900, 0, std::nullopt);
  m.TxCommitted(false, "bad\"code", "R-1");
  MetricsGauges g;
  g.height = 9;
  g.signing_state = "recovering";
  g.rpc_connections_evicted = 7;
  g.rpc_connections_refused = 2;
  g.rpc_connections_busy = 3;
  const std::string text = m.Render(g);
  EXPECT_NE(text.find("colend_rpc_connections_closed_total{reason=\"evicted\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("colend_rpc_connections_closed_total{reason=\"refused\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("colend_rpc_connections_closed_total{reason=\"busy\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("colend_commit_latency_seconds_bucket{le=\"0.025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("colend_commit_latency_seconds_bucket{le=\"0.5\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("colend_commit_latency_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("colend_commit_latency_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(text.find("colend_block_transactions_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("colend_rounds_per_height_bucket{le=\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("colend_blocks_committed_total{via=\"sync\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("colend_transactions_rejected_total{code=\"bad\\\"code\",rule=\"R-1\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("colend_signing_state{state=\"recovering\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("colend_height 9\n"), std::string::npos);
}

// The io thread's waits (node/metrics.h): one histogram per kind of synced write and per step of
// a block, each under its own label, with every kind present (at zero) before any observation.
TEST(Metrics, SyncAndBlockStepHistogramsAreLabelledByKind) {
  NodeMetrics m;
  m.Synced(SyncedWrite::kVoteState, 0.003);
  m.Synced(SyncedWrite::kVoteState, 0.0004);
  m.Synced(SyncedWrite::kBlock, 0.03);
  m.BlockStepTook(BlockStep::kCommit, 0.007);
  const std::string text = m.Render(MetricsGauges{});
  EXPECT_NE(text.find("# TYPE colend_sync_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("colend_sync_seconds_bucket{write=\"vote-state\",le=\"0.0005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("colend_sync_seconds_bucket{write=\"vote-state\",le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("colend_sync_seconds_count{write=\"vote-state\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("colend_sync_seconds_sum{write=\"vote-state\"} 0.0034\n"), std::string::npos);
  EXPECT_NE(text.find("colend_sync_seconds_bucket{write=\"block\",le=\"0.02\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("colend_sync_seconds_bucket{write=\"block\",le=\"0.05\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("colend_sync_seconds_count{write=\"signing-lease\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("colend_block_step_seconds_bucket{step=\"commit\",le=\"0.01\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("colend_block_step_seconds_count{step=\"build\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("colend_block_step_seconds_count{step=\"validate\"} 0\n"), std::string::npos);
  // Histograms without labels keep their plain form.
  EXPECT_NE(text.find("colend_commit_latency_seconds_count 0\n"), std::string::npos);
}

}  // namespace
}  // namespace colend::node
