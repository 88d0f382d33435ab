// The operator's dashboard (docs/operations.md, "Dashboard"): a read-only page served at GET / on
// the RPC address, self-contained (no CDN, no external fonts). Its script reads one JSON-RPC
// method, `dashboard` (node_dashboard.cc), and renders it with text nodes only, so nothing from the
// chain is ever interpreted as markup.
#pragma once

#include <string_view>

namespace colend::node {

struct StaticPage {
  std::string_view content_type;
  std::string_view body;
};

// The page for a GET of `target` ("/", "/index.html", "/dashboard.js", "/dashboard.css"), or null.
const StaticPage* FindStaticPage(std::string_view target);

// The Content-Security-Policy the pages are served with: scripts, styles and requests from this
// origin only.
inline constexpr std::string_view kDashboardCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

}  // namespace colend::node
