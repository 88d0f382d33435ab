// The dashboard's three static files (dashboard_page.h). Kept as raw strings in the binary so a
// node serves its page with nothing installed beside it.
#include "node/dashboard_page.h"

namespace colend::node {
namespace {

constexpr std::string_view kHtml = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>colend node</title>
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>colend <span id="member"></span></h1>
  <p id="summary">loading…</p>
  <p id="error" class="error" hidden></p>
</header>
<main>
<section>
  <h2>Members</h2>
  <table id="members"><thead><tr>
    <th>member</th><th>name</th><th>role</th><th>state</th><th>height</th><th>signed the last block</th>
  </tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Recent blocks</h2>
  <table id="blocks"><thead><tr>
    <th>height</th><th>time</th><th>proposer</th><th>txs</th><th>round</th><th>endorsements</th>
  </tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Loans</h2>
  <p id="loans-note"></p>
  <table id="loans"><thead><tr>
    <th>loan</th><th>borrower</th><th>status</th><th class="num">principal (CNY)</th>
    <th class="num">outstanding (CNY)</th><th class="num">DPD</th><th>class</th><th>collection stage</th>
  </tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Refusals by rule</h2>
  <p id="rejections-note"></p>
  <table id="by-rule"><thead><tr><th>rule</th><th class="num">refused</th></tr></thead><tbody></tbody></table>
  <h3>Latest refusals</h3>
  <table id="rejections"><thead><tr>
    <th>height</th><th>type</th><th>code</th><th>rule</th><th>message</th><th>tx</th>
  </tr></thead><tbody></tbody></table>
</section>
</main>
<footer><p>Read-only. Updated <span id="updated">never</span>; refreshes every 2 s.</p></footer>
</body>
</html>
)html";

constexpr std::string_view kCss = R"css(body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; }
h1 { font-size: 1.4em; margin: 0; }
h2 { font-size: 1.1em; margin: 1.4em 0 0.4em; }
h3 { font-size: 1em; margin: 1em 0 0.4em; }
table { border-collapse: collapse; min-width: 40em; }
th, td { border-bottom: 1px solid #d0d7de; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.error { color: #b42318; font-weight: bold; }
.ok { color: #1a7f37; }
.bad { color: #b42318; }
.muted { color: #656d76; }
td.mono { font-family: ui-monospace, monospace; font-size: 0.9em; }
)css";

constexpr std::string_view kJs = R"js('use strict';
// Renders the node's `dashboard` JSON-RPC answer. Text goes in with textContent only.
(function () {
  function cny(fen) {
    if (typeof fen !== 'number') return '';
    const sign = fen < 0 ? '-' : '';
    const abs = Math.abs(fen);
    const yuan = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return sign + yuan + '.' + String(abs % 100).padStart(2, '0');
  }
  function cell(row, text, cls) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '' : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }
  function fill(id, items, render) {
    const body = document.querySelector('#' + id + ' tbody');
    const rows = items.map(function (item) {
      const tr = document.createElement('tr');
      render(tr, item);
      return tr;
    });
    body.replaceChildren.apply(body, rows);
  }
  function show(d) {
    document.getElementById('member').textContent = '— ' + d.member + ' on ' + d.chain_id;
    document.getElementById('summary').textContent =
      'height ' + d.height + (d.last_block_time ? ' (' + d.last_block_time + ')' : '') +
      ', business date ' + (d.business_date || 'not set') + ', membership epoch ' + d.epoch +
      ', quorum ' + d.quorum + ' (' + d.quorum_rule + ')';
    fill('members', d.members, function (tr, m) {
      cell(tr, m.id + (m.this_node ? ' (this node)' : ''));
      cell(tr, m.name);
      cell(tr, m.role);
      const good = m.state === 'signing' || m.state === 'connected';
      cell(tr, m.state, good ? 'ok' : 'bad');
      cell(tr, m.height === null ? 'unknown' : m.height, 'num');
      cell(tr, m.signed_last_block ? 'yes' : 'no');
    });
    fill('blocks', d.blocks, function (tr, b) {
      cell(tr, b.height, 'num');
      if (b.error) { cell(tr, b.error, 'bad'); return; }
      cell(tr, b.time);
      cell(tr, b.proposer);
      cell(tr, b.txs, 'num');
      cell(tr, b.round, 'num');
      cell(tr, b.endorsements.join(', '));
    });
    document.getElementById('loans-note').textContent = d.loans.length === 0 ? 'no loans' :
      (d.loans_more ? 'the first ' + d.loans_limit + ' loans by id (colend loan list shows all)'
                    : d.loans.length + ' loan(s)');
    fill('loans', d.loans, function (tr, l) {
      cell(tr, l.id, 'mono');
      if (l.error) { cell(tr, l.error, 'bad'); return; }
      cell(tr, l.borrower, 'mono');
      cell(tr, l.status);
      cell(tr, cny(l.principal_fen), 'num');
      cell(tr, cny(l.outstanding_fen), 'num');
      cell(tr, l.dpd, 'num');
      cell(tr, l['class']);
      cell(tr, l.collection_stage);
    });
    const byRule = Object.keys(d.rejections.by_rule).sort().map(function (rule) {
      return { rule: rule, n: d.rejections.by_rule[rule] };
    });
    document.getElementById('rejections-note').textContent =
      (byRule.length === 0 ? 'no refusals' : 'refusals') + ' in blocks committed since ' +
      d.rejections.since + ' (the latest ' + d.rejections.recent_limit + ' listed)';
    fill('by-rule', byRule, function (tr, r) { cell(tr, r.rule); cell(tr, r.n, 'num'); });
    fill('rejections', d.rejections.recent, function (tr, r) {
      cell(tr, r.height, 'num');
      cell(tr, r.type);
      cell(tr, r.code);
      cell(tr, r.rule);
      cell(tr, r.message);
      cell(tr, r.tx.slice(0, 16) + '…', 'mono');
    });
    document.getElementById('updated').textContent = new Date().toISOString();
  }
  function fail(message) {
    const e = document.getElementById('error');
    e.textContent = 'cannot read the node: ' + message;
    e.hidden = false;
  }
  function refresh() {
    fetch('/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'dashboard', params: {} })
    }).then(function (r) { return r.json(); }).then(function (reply) {
      if (reply.error) { fail(reply.error.message); return; }
      document.getElementById('error').hidden = true;
      show(reply.result);
      document.body.dataset.height = String(reply.result.height);
    }).catch(function (e) { fail(String(e)); });
  }
  refresh();
  setInterval(refresh, 2000);
})();
)js";

constexpr StaticPage kPages[] = {
    {"text/html; charset=utf-8", kHtml},
    {"text/javascript; charset=utf-8", kJs},
    {"text/css; charset=utf-8", kCss},
};

}  // namespace

const StaticPage* FindStaticPage(std::string_view target) {
  if (target == "/" || target == "/index.html") return &kPages[0];
  if (target == "/dashboard.js") return &kPages[1];
  if (target == "/dashboard.css") return &kPages[2];
  return nullptr;
}

}  // namespace colend::node
