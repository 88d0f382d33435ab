// Every command of `colend`, defined once (tools/cli_spec.h): the parser reads these to refuse
// what is not defined and to generate each command's --help. Field formats are those of
// docs/transactions.md; the lending rules are docs/lending-rules.md.
#include "tools/cli_spec.h"

namespace colend::cli {
namespace {

constexpr const char* kRefFormat =
    "References (--ref, --account) go on chain in clear: 1-64 of [A-Za-z0-9._:/-] with no number\n"
    "of 6 or more digits (no ID, phone or account number), or a salted SHA-256 of the reference\n"
    "as 64 hex digits. Field formats: docs/transactions.md.";
constexpr const char* kAmounts =
    "Amounts are CNY with at most two decimals (40000.00); the chain stores integer fen.\n"
    "Ids (--loan) are 1-64 of [A-Za-z0-9._-].";
constexpr const char* kSigned =
    "Signs the transaction as the --home node's institution, waits for its commit and prints the\n"
    "receipt (rule, reason code, parameter version). Exit 0 when accepted, 1 when rejected or on\n"
    "error, 2 on bad usage.";

OptionSpec Req(std::string name, std::string value, std::string help) {
  return OptionSpec{std::move(name), std::move(value), std::move(help), true};
}
OptionSpec Opt(std::string name, std::string value, std::string help) {
  return OptionSpec{std::move(name), std::move(value), std::move(help), false};
}
OptionSpec Flag(std::string name, std::string help) {
  return OptionSpec{std::move(name), "", std::move(help), false};
}

CommandSpec Group(std::vector<std::string> path, std::string summary, std::string details = "") {
  CommandSpec c;
  c.path = std::move(path);
  c.summary = std::move(summary);
  c.details = std::move(details);
  return c;
}

CommandSpec Cmd(std::vector<std::string> path, std::string summary, Handler run, bool home,
                std::vector<OptionSpec> options = {}, std::vector<PositionalSpec> positionals = {},
                std::string details = "") {
  CommandSpec c;
  c.path = std::move(path);
  c.summary = std::move(summary);
  c.run = run;
  c.home = home;
  c.options = std::move(options);
  c.positionals = std::move(positionals);
  c.details = std::move(details);
  return c;
}

std::string Join(std::initializer_list<const char*> parts) {
  std::string out;
  for (const char* p : parts) out += std::string(out.empty() ? "" : "\n") + p;
  return out;
}

std::vector<CommandSpec> LocalnetCommands() {
  return {
      Group({"localnet"}, "a local network on this machine (development and demos)"),
      Cmd({"localnet", "init"}, "write a consortium: CA, genesis and one directory per node",
          RunLocalnet, false,
          {Req("dir", "D", "the directory to write (D/genesis.json, D/ca.pem, D/node1 ..)"),
           Opt("nodes", "N", "members, 1-32 (default 5: lead-bank, partner-bank, payee-bank, "
                             "credit-bureau, arbitration)"),
           Opt("suite", "std|sm", "the signature suite (default std)"),
           Opt("quorum", "majority|two-thirds", "the quorum rule (default majority)"),
           Opt("profile", "case-study|cn-2022", "the lending parameters (default case-study)"),
           Flag("dev-clock", "a development genesis: `clock advance` may move the business date"),
           Opt("chain-id", "ID", "the chain id (default colend-local-<unix seconds>)"),
           Opt("block-interval-ms", "MS", "how long a proposer batches transactions (default 200)"),
           Opt("block-txs-max", "N", "transactions a block may hold, 1-100000 (default 1000)"),
           Opt("timeout-propose-ms", "MS",
               "how long members wait for a proposal before moving on (default 1500)"),
           Opt("spare", "S", "0-8 more institutions with CA-issued keys that are not in the "
                             "genesis and may join by `member propose --add` (default 0)")},
          {},
          "Each node directory holds config.json (free loopback ports), genesis.json, TLS and\n"
          "signing keys and certificates, and member.json, its institution's member object. The\n"
          "CA key stays in D/ca.key (a real consortium keeps it offline)."),
      Cmd({"localnet", "up"}, "start every node (or node K) in the background", RunLocalnet, false,
          {Req("dir", "D", "the local network's directory"),
           Opt("node", "K", "only node K"),
           Opt("timeout", "SECONDS", "how long to wait for them to answer, 1-3600 (default 30)")},
          {}, "pid in D/nodeK/node.pid, log in D/nodeK/node.log; waits until the nodes answer\n"
              "and are connected to each other."),
      Cmd({"localnet", "down"}, "stop every node (or node K)", RunLocalnet, false,
          {Req("dir", "D", "the local network's directory"), Opt("node", "K", "only node K"),
           Flag("kill", "send SIGKILL instead of SIGTERM")}),
      Cmd({"localnet", "status"}, "one line per node: member, pid, height, peers", RunLocalnet,
          false, {Req("dir", "D", "the local network's directory")}),
      Cmd({"localnet", "rekey"}, "stage new keys for node K (a key rotation)", RunLocalnetRekey,
          false,
          {Req("dir", "D", "the local network's directory (its CA issues the certificates)"),
           Req("node", "K", "the node, 1-64")},
          {},
          "Writes tls.next.key, tls.next.pem, signing.next.key, signing.next.pem and\n"
          "member.next.json into D/nodeK. Then: colend --home D/nodeK member propose --id P\n"
          "--rotate D/nodeK/member.next.json (docs/consensus.md §7.3)."),
      Cmd({"localnet", "demo"}, "the sample joint loan, end to end, on a running local network",
          RunLocalnetDemo, false, {Req("dir", "D", "a running local network made with --dev-clock")},
          {},
          "A borrower is admitted, draws 40,000.00 CNY over 20 periods, the lead bank funds 20 %\n"
          "and the partner bank 80 %, the payee bank pays out to a restricted virtual account, two\n"
          "installments are repaid, the third goes overdue (reminder, penalty, credit-bureau\n"
          "report, classification, collection routing) and the loan is settled. Every step is a\n"
          "signed transaction committed by the consortium. At the end every node must hold the\n"
          "same state root. Exit 0 on success."),
  };
}

std::vector<CommandSpec> NodeCommands() {
  return {
      Cmd({"status"}, "the node's chain, height, peers, addresses and certificates",
          RunNodeCommand, true),
      Cmd({"block"}, "a committed block with its endorsements", RunNodeCommand, true, {},
          {{"HEIGHT", "the block's height"}},
          "Hash, previous hash, timestamp, transaction ids, and the endorsements (member,\n"
          "signature) of its commit certificate. Binary values are hex."),
      Cmd({"tx"}, "a transaction's status (committed, pending or unknown) and receipt",
          RunNodeCommand, true, {}, {{"ID", "the transaction id, 64 hex digits"}}),
      Cmd({"faults"}, "equivocations committed on chain", RunNodeCommand, true, {}, {},
          "Each member who signed two conflicting consensus messages, with height, round, kind\n"
          "(proposal, prevote, precommit), the evidence transaction and who reported it.\n"
          "JSON: {\"faults\": [...]}. Exit 0 (an empty list is good news)."),
      Group({"evidence"}, "documents and the arbitration evidence bundle"),
      Cmd({"evidence", "anchor"}, "anchor a document's SHA-256 and wait for the commit",
          RunNodeCommand, true,
          {Req("file", "F", "the document"),
           Opt("name", "LABEL", "goes on chain in clear: 1-64 of [A-Za-z0-9._-] (e.g. "
                                "loan-contract.pdf), never a person's name, an ID, phone or "
                                "account number. Default: F's file name, if it is such a label"),
           Opt("loan-id", "ID", "the loan the document belongs to, 1-64 of [A-Za-z0-9._-]"),
           Opt("timeout", "SECONDS", "how long to wait for the commit, 1-86400 (default 30)")},
          {}, "Exits 1 if it is not committed in time. Field formats: docs/transactions.md."),
      Cmd({"evidence", "attach"}, "attach a document to a loan (its hash on chain)",
          RunEvidenceCommand, true,
          {Req("loan", "ID", "the loan"), Req("file", "F", "the document"),
           Req("kind", "contract|notice|repayment-proof|other", "the document's kind"),
           Opt("label", "TEXT", "stored on chain only as its SHA-256"),
           Opt("timeout", "SECONDS", "how long to wait for the commit, 1-86400 (default 30)")},
          {},
          "Its bytes go into the node's document store (the other nodes fetch them), its SHA-256,\n"
          "size and kind into a signed evidence.attach record of the loan."),
      Cmd({"evidence", "export"}, "the loan's evidence bundle for arbitration", RunEvidenceCommand,
          true, {Req("loan", "ID", "the loan"), Req("out", "FILE.zip", "the bundle to write")}, {},
          "Every signed record with its receipt and proofs, the blocks' headers and endorsements,\n"
          "the membership documents, the documents, a report and the verification tools. Verify\n"
          "it with: colend-verify FILE.zip --root-sha256 FP (docs/evidence-bundle.md)."),
  };
}

std::vector<CommandSpec> MemberCommands() {
  return {
      Group({"member"}, "the consortium's membership and quorum rule (docs/consensus.md §7)",
            "A change needs the approval of a quorum of the current epoch's members (the\n"
            "proposer's approval counts); it takes effect from the height after the block that\n"
            "completes the approvals, which is still certified under the old rules."),
      Cmd({"member", "list"}, "the current epoch: members, quorum rule, proposals",
          RunMemberCommand, true),
      Cmd({"member", "epochs"}, "every epoch: start height, quorum rule, members, SHA-256",
          RunMemberCommand, true, {}, {}, "--json adds each membership document's exact text."),
      Cmd({"member", "propose"}, "propose a membership or quorum change", RunMemberCommand, true,
          {Req("id", "P", "the proposal id"),
           Opt("remove", "MEMBER", "remove a member"),
           Opt("add", "MEMBER_JSON", "add an institution: its genesis member object (the "
                                     "member.json in its node directory)"),
           Opt("quorum", "majority|two-thirds", "another quorum rule"),
           Opt("rotate", "MEMBER_JSON", "new certificates for a current member: the member "
                                        "object with the same id, name and role "
                                        "(member.next.json of `localnet rekey`)")},
          {},
          "Give exactly one of --remove, --add, --quorum, --rotate. After a rotation the member's\n"
          "node takes up its staged keys (tls.next.*, signing.next.key) when the epoch begins."),
      Cmd({"member", "approve"}, "approve a proposal as the --home institution",
          RunMemberCommand, true, {}, {{"P", "the proposal id"}}),
  };
}

std::vector<CommandSpec> LoanCommands() {
  const std::string signed_loan = Join({kAmounts, kSigned});
  return {
      Group({"loan"}, "joint loans: the schedule, views and each step of the lifecycle",
            Join({kAmounts, kRefFormat})),
      Cmd({"loan", "schedule"}, "offline: a loan's repayment schedule", RunLoanSchedule, false,
          {Req("principal", "CNY", "amount in CNY, at most 2 decimals (40000.00)"),
           Req("periods", "N", "number of monthly installments, 1..360"),
           Opt("daily-rate", "R%", "daily rate in percent (0.05%)"),
           Opt("annual-rate", "R%", "nominal annual rate in percent (18%)"),
           Opt("method", "equal-installment|equal-principal", "default equal-installment"),
           Opt("split", "LEAD/PARTNER", "shares in percent, two positive integers summing to 100 "
                                        "(default 20/80)"),
           Opt("start", "YYYY-MM-DD", "value date: period k is due k months later, clamped to "
                                      "the month's end")},
          {},
          "Give exactly one of --daily-rate and --annual-rate. Computed offline (no node needed)\n"
          "with exact integer arithmetic, amounts rounded half-up to the fen (docs/lending-rules.md\n"
          "§2.1, §2.2, §2.5). equal-installment (等额本息): period rate = daily rate × 30, or\n"
          "annual rate / 12; the last installment absorbs the rounding. equal-principal (等额本金):\n"
          "principal P/n, the last period takes the remainder; interest on the balance at the daily\n"
          "rate (or annual rate / 360) for the days of the period (30 without --start). Principal\n"
          "and interest are split cumulatively, partner rounded down, lead takes the remainder.\n"
          "--json: {principal_fen, periods, method, period_rate, daily_rate, split,\n"
          "installments: [...], totals, schedule_sha256}; amounts in fen.\n"
          "Exit codes: 0 success, 1 invalid value, 2 bad usage."),
      Cmd({"loan", "list"}, "loans on chain, with their status", RunLendingCommand, true,
          {Opt("status", "S", "only loans in status S")}),
      Cmd({"loan", "show"}, "status, amounts, DPD, lenders, schedule", RunLendingCommand, true, {},
          {{"ID", "the loan"}}),
      Cmd({"loan", "events"}, "every decision on the loan, in order", RunLendingCommand, true, {},
          {{"ID", "the loan"}}),
      Cmd({"loan", "draw"}, "a drawdown (lead bank)", RunLendingCommand, true,
          {Req("loan", "ID", "the new loan's id"), Req("borrower", "B", "the admitted borrower"),
           Req("amount", "CNY", "the principal"), Req("periods", "N", "monthly installments"),
           Opt("daily-rate", "R%", "the daily rate (default: the parameters' rate)"),
           Opt("method", "equal-installment|equal-principal", "default equal-installment"),
           Flag("device-changed", "the borrower's device changed (a risk signal)"),
           Flag("phone-changed", "the borrower's phone changed (a risk signal)"),
           Flag("counterparty-new", "a new counterparty (a risk signal)"),
           Opt("location-level", "0-3", "the location risk level"),
           Opt("approval", "SHA256", "the SHA-256 of the lead bank's approval record"),
           Opt("model", "M", "the risk model version (default wb-risk-2026.1)")},
          {}, signed_loan),
      Cmd({"loan", "approve"}, "the partner bank's decision on a drawdown", RunLendingCommand,
          true,
          {Req("loan", "ID", "the loan"), Flag("decline", "decline instead of approving"),
           Opt("approval", "SHA256", "the SHA-256 of the partner's approval record"),
           Opt("model", "M", "the risk model version (default partner-risk-2026.1)")},
          {}, signed_loan),
      Cmd({"loan", "fund"}, "confirm this lender's funding leg (lead or partner bank)",
          RunLendingCommand, true,
          {Req("loan", "ID", "the loan"), Req("ref", "PAYMENT_REF", "the payment reference"),
           Opt("amount", "CNY", "default: this lender's share")},
          {}, Join({signed_loan.c_str(), kRefFormat})),
      Cmd({"loan", "payout"}, "the payout to the borrower's account (payee bank)",
          RunLendingCommand, true,
          {Req("loan", "ID", "the loan"), Req("account", "VIRTUAL_ACCOUNT", "the restricted account"),
           Opt("amount", "CNY", "default: the principal")},
          {}, Join({signed_loan.c_str(), kRefFormat})),
      Cmd({"loan", "repay"}, "a repayment received (payee bank)", RunLendingCommand, true,
          {Req("loan", "ID", "the loan"), Req("amount", "CNY", "the amount received")}, {},
          signed_loan),
      Cmd({"loan", "settle"}, "early settlement at today's quote (payee bank)", RunLendingCommand,
          true, {Req("loan", "ID", "the loan"), Opt("amount", "CNY", "default: the quote")}, {},
          signed_loan),
      Cmd({"loan", "writeoff"}, "write off this lender's share", RunLendingCommand, true,
          {Req("loan", "ID", "the loan")}, {}, signed_loan),
  };
}

std::vector<CommandSpec> PartyCommands() {
  return {
      Group({"borrower"}, "borrowers: pseudonymous ids, admission, changes, views"),
      Cmd({"borrower", "ref"}, "offline: the pseudonymous borrower id (salted SHA-256)",
          RunLendingCommand, false,
          {Req("id", "TEXT", "the institution's own borrower id"),
           Req("salt", "SALT", "the consortium's salt")}),
      Cmd({"borrower", "admit"}, "admit a borrower (lead bank)", RunLendingCommand, true,
          {Req("borrower", "B", "the pseudonymous borrower id"),
           Req("score", "N", "the risk score"), Req("model", "M", "the risk model version"),
           Opt("age", "N", "age in years: sent as the five-year band holding it, cut at the "
                           "age bounds of R-PRE-03 (the chain never sees the exact age)"),
           Opt("age-band", "LO-HI", "the age band to attest, at most 5 years wide (instead of --age)"),
           Req("kyc-level", "N", "the KYC level"),
           Req("kyc-date", "YYYY-MM-DD", "the date of the KYC check"),
           Req("consent-date", "YYYY-MM-DD", "the date of the borrower's consent to the credit "
                                             "query and to co-lending"),
           Flag("no-consent", "the borrower refused consent"),
           Opt("product", "consumer|business", "default consumer"),
           Opt("blacklist", "none|fraud|court", "default none")},
          {}, kSigned),
      Cmd({"borrower", "change"}, "a change of the borrower's details (lead bank)",
          RunLendingCommand, true,
          {Req("borrower", "B", "the borrower"),
           Req("change", "phone|bound-card|device|id-reverification", "what changed")},
          {}, kSigned),
      Cmd({"borrower", "show"}, "the admission record, limit and bureau snapshot",
          RunLendingCommand, true, {}, {{"B", "the borrower"}}),
      Cmd({"borrower", "events"}, "the decisions on a borrower (warnings, reviews)",
          RunLendingCommand, true, {}, {{"B", "the borrower"}}),
      Group({"bureau"}, "the credit bureau's attestations"),
      Cmd({"bureau", "snapshot"}, "a borrower's credit report figures (credit bureau)",
          RunLendingCommand, true,
          {Req("borrower", "B", "the borrower"),
           Req("institutions", "N", "lending institutions with outstanding loans"),
           Req("outstanding", "CNY", "outstanding debt"), Req("limits", "CNY", "granted limits"),
           Req("overdue-count", "N", "overdue loans"), Req("queries-90d", "N",
                                                            "credit queries in 90 days"),
           Opt("lookback-months", "N",
               "the months the overdue count covers (1-120; default: the rules' window)"),
           Opt("max-dpd", "N", "the largest days past due (default 0)"),
           Opt("total-loans", "CNY", "total loans"), Opt("liquid-assets", "CNY", "liquid assets"),
           Opt("valid-days", "N", "days the snapshot stays usable, 1-3650 (default 30)")},
          {}, kSigned),
      Group({"auth"}, "the lead bank's identity verifier"),
      Cmd({"auth", "result"}, "an identity verification result", RunLendingCommand, true,
          {Req("borrower", "B", "the borrower"), Req("level", "sms|face", "the verification"),
           Req("result", "pass|fail", "its result"), Req("ref", "R", "the verifier's reference")},
          {}, Join({kSigned, kRefFormat})),
      Group({"bank"}, "each lending bank's own figures"),
      Cmd({"bank", "figures"}, "the bank's figures for the co-lending caps", RunLendingCommand,
          true,
          {Req("tier1-capital", "CNY", "tier-1 capital"), Req("total-loans", "CNY", "total loans"),
           Opt("valid-days", "N", "days the figures stay usable, 1-3650 (default 90)")},
          {}, kSigned),
      Group({"va"}, "the payee bank's restricted virtual accounts"),
      Cmd({"va", "spend"}, "a spending from a loan's virtual account (payee bank)",
          RunLendingCommand, true,
          {Req("loan", "ID", "the loan"), Req("amount", "CNY", "the amount"),
           Req("counterparty", "merchant|individual|self", "who received it"),
           Req("mcc", "NNNN", "the merchant category code, 4 digits"),
           Req("channel", "pos|online|cash|transfer", "the channel")},
          {}, kSigned),
      Group({"use"}, "the payee bank's attestations of how loan money was used"),
      Cmd({"use", "attest"}, "spending of loan money the payee bank observed (misuse check)",
          RunLendingCommand, true,
          {Req("loan", "ID", "the loan"), Req("amount", "CNY", "the amount"),
           Req("counterparty", "merchant|individual|self", "who received it"),
           Req("mcc", "NNNN", "the merchant category code, 4 digits"),
           Req("channel", "pos|online|cash|transfer", "the channel"),
           Req("ref", "R", "the payee bank's reference")},
          {}, Join({kSigned, kRefFormat})),
      Group({"collection"}, "the lead bank's collection outcomes"),
      Cmd({"collection", "outcome"}, "the outcome of collection on a loan", RunLendingCommand, true,
          {Req("loan", "ID", "the loan"), Req("ptp-broken", "N", "promises to pay broken"),
           Req("no-contact-days", "N", "days without contact")},
          {}, kSigned),
  };
}

std::vector<CommandSpec> GovernanceCommands() {
  return {
      Group({"param"}, "the lending parameters and their governance (docs/lending-rules.md)"),
      Cmd({"param", "show"}, "the parameters in force (or version N) and the proposals",
          RunLendingCommand, true, {Opt("version", "N", "a parameter version")}),
      Cmd({"param", "propose"}, "propose parameter changes (lead or partner bank)",
          RunLendingCommand, true,
          {Req("id", "P", "the proposal id"),
           Req("changes", "JSON", "a JSON object, e.g. '{\"grace_days\": 2}'"),
           Req("effective", "YYYY-MM-DD", "the business date it takes effect")},
          {}, kSigned),
      Cmd({"param", "approve"}, "approve a parameter proposal", RunLendingCommand, true, {},
          {{"P", "the proposal id"}}, kSigned),
      Group({"clock"}, "the chain's business date"),
      Cmd({"clock", "show"}, "the business date", RunLendingCommand, true),
      Cmd({"clock", "tick"}, "run the daily rules up to today's business date", RunLendingCommand,
          true, {}, {}, kSigned),
      Cmd({"clock", "advance"}, "move the business date (development genesis only)",
          RunLendingCommand, true, {Req("days", "N", "days to move forward")}, {}, kSigned),
  };
}

ProgramSpec Build() {
  ProgramSpec p;
  p.name = "colend";
  p.summary = "colend: the command-line client of a colend ledger node";
  p.global = {Opt("home", "NODE_DIR", "the node whose institution acts"),
              Flag("json", "machine-readable output")};
  for (auto* part : {&LocalnetCommands, &NodeCommands, &MemberCommands, &LoanCommands,
                     &PartyCommands, &GovernanceCommands}) {
    for (CommandSpec& c : (*part)()) p.commands.push_back(std::move(c));
  }
  p.details =
      "Every command takes --help (`colend loan draw --help`). Exit codes: 0 success, 1 failure\n"
      "(the message says what was wrong), 2 bad usage.";
  return p;
}

}  // namespace

const ProgramSpec& ColendProgram() {
  static const ProgramSpec program = Build();
  return program;
}

}  // namespace colend::cli
