/**
 * The console's stylesheet and script, served from memory at content-hashed URLs under
 * /admin/static/ (immutable caching). The stylesheet IS the webmail's (one look), followed
 * by the console's few additions: cards in a grid, state colours, tables, charts. The script
 * only refreshes the overview's live region every few seconds (the page works without it: a
 * <noscript> meta refresh does the same).
 */
import { CSS as WEBMAIL_CSS } from "../webmail/static/webmail-css.js";
import { makeAsset, type Asset } from "../webmail/static/assets.js";

const EXTRA_CSS = String.raw`
.nav{display:flex;gap:.25rem;flex-wrap:wrap}
.nav a{padding:.35rem .7rem;border-radius:8px;text-decoration:none;color:var(--ink)}
.nav a[aria-current=page]{background:var(--hover);font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,22rem),1fr));gap:1rem;margin:1rem 0}
.grid .card{padding:1rem 1.2rem}
.card h2{margin:.1rem 0 .6rem;display:flex;align-items:center;gap:.5rem;flex-wrap:wrap}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem .9rem;margin:.4rem 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.state{display:inline-flex;align-items:center;border-radius:999px;padding:.1rem .6rem;font-size:.85rem;font-weight:700}
.state.up,.state.ok,.state.passed{background:var(--done-bg);color:var(--done-ink)}
.state.down,.state.fail,.state.failed{background:#fdecea;color:#8a1c12}
.state.unknown,.state.warn,.state.paused,.state.open{background:var(--wait-bg);color:var(--wait-ink)}
@media (prefers-color-scheme:dark){.state.down,.state.fail,.state.failed{background:#3b1714;color:#ffb4ab}}
.warnings{margin:0 0 1rem;padding-left:1.2rem}
.actions{display:flex;gap:.4rem;flex-wrap:wrap;margin-top:.6rem}
.actions form{margin:0}
table.list{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:var(--radius);overflow:hidden}
table.list th,table.list td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
table.list th{font-size:.85rem;color:var(--muted);font-weight:600}
.table-wrap{overflow-x:auto}
form.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,11rem),1fr));gap:.5rem .8rem;align-items:end;margin:1rem 0}
form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted);gap:.2rem}
form.filters input,form.filters select{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--ink);min-height:2.4rem}
pre.raw{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:.7rem;font-size:.85rem;max-height:30rem;overflow:auto}
svg.chart{width:100%;height:auto;display:block}
svg.chart .grid{stroke:var(--line);stroke-width:1}
svg.chart .axis{stroke:var(--muted);stroke-width:1}
svg.chart .tick,svg.chart .empty{fill:var(--muted);font-size:11px;font-family:system-ui,sans-serif}
svg.chart .shade{fill:#e0a100;fill-opacity:.18}
svg.chart .band{fill:var(--accent);fill-opacity:.12}svg.chart .band-mid{stroke:var(--accent);stroke-width:1;stroke-dasharray:4 3;opacity:.7}svg.chart .mark{stroke:#c5221f;stroke-width:1.5;stroke-dasharray:2 2}
svg.chart .line{stroke-width:2;stroke-linejoin:round}
svg.chart .series-0{stroke:#0b57d0;fill:#0b57d0}svg.chart polyline.series-0{fill:none}
svg.chart .series-1{stroke:#1f9d4c;fill:#1f9d4c}svg.chart polyline.series-1{fill:none}
svg.chart .series-2{stroke:#c5221f;fill:#c5221f}svg.chart polyline.series-2{fill:none}
svg.chart .series-3{stroke:#8e44ad;fill:#8e44ad}svg.chart polyline.series-3{fill:none}
@media (prefers-color-scheme:dark){svg.chart .series-0{stroke:#8ab4f8;fill:#8ab4f8}svg.chart .series-1{stroke:#81c995;fill:#81c995}svg.chart .series-2{stroke:#f28b82;fill:#f28b82}svg.chart .series-3{stroke:#d7aefb;fill:#d7aefb}}
.legend{display:flex;gap:1rem;flex-wrap:wrap;font-size:.9rem;margin:.3rem 0 0;padding:0;list-style:none}
.legend .key{display:inline-block;width:1rem;height:.25rem;margin-right:.35rem;vertical-align:middle;border-radius:2px}
.legend .k0{background:#0b57d0}.legend .k1{background:#1f9d4c}.legend .k2{background:#c5221f}.legend .k3{background:#8e44ad}.legend .kshade{background:#e0a100;opacity:.45;height:.8rem}.legend .kband{background:var(--accent);opacity:.25;height:.8rem}.legend .kmark{background:#c5221f;width:.2rem}
.confirm{border:2px solid var(--wait-dot);}
@media (max-width:640px){.topbar{flex-wrap:wrap}.nav{order:3;width:100%}table.list .wide{display:none}}
`;

const JS = String.raw`"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live || !live.dataset.refresh) return;
  var every = Number(live.dataset.every || "5000");
  function tick() {
    fetch(live.dataset.refresh, { credentials: "same-origin", headers: { accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) { if (t !== null && !live.contains(document.activeElement)) live.innerHTML = t; })
      .catch(function () {})
      .then(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
})();
`;

const ASSETS = { css: makeAsset("/admin/static/console", "css", WEBMAIL_CSS + EXTRA_CSS, "text/css; charset=utf-8"), js: makeAsset("/admin/static/console", "js", JS, "text/javascript; charset=utf-8") };

export const consoleAssetUrl = (kind: "css" | "js"): string => ASSETS[kind].url;
export const findConsoleAsset = (pathname: string): Asset | undefined => Object.values(ASSETS).find((a) => a.url === pathname);
