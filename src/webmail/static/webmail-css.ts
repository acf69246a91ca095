/** The webmail's one stylesheet: system fonts, light and dark, responsive from 320 px up, visible focus. */
export const CSS = String.raw`
:root{--bg:#f5f6f8;--card:#fff;--ink:#1b1f24;--muted:#5b6470;--line:#e2e5ea;--accent:#0b57d0;--accent-ink:#fff;--hover:#eef3fd;
--wait-bg:#fff4d6;--wait-ink:#7a4b00;--wait-dot:#e0a100;--done-bg:#e3f5e8;--done-ink:#17612f;--done-dot:#1f9d4c;--down-bg:#fff4d6;--up-bg:#e8f1ff;
--radius:10px;--shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08);color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#14171b;--card:#1d2126;--ink:#e8eaed;--muted:#a0a8b3;--line:#2f353c;--accent:#8ab4f8;--accent-ink:#0b1a33;--hover:#243042;
--wait-bg:#3a2e10;--wait-ink:#ffd77a;--done-bg:#123222;--done-ink:#8fe0a9;--down-bg:#3a2e10;--up-bg:#172a45}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px;border-radius:4px}
.sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem;top:.5rem}
.topbar{display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:.6rem clamp(.75rem,3vw,2rem);background:var(--card);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:5}
.brand{font-weight:700;font-size:1.1rem;color:var(--ink);text-decoration:none;white-space:nowrap}
.brand-sub{font-weight:400;color:var(--muted)}
.logo{display:inline-grid;place-items:center;width:1.8rem;height:1.8rem;border-radius:8px;background:var(--accent);color:var(--accent-ink);margin-right:.25rem}
.who{display:flex;align-items:center;gap:.5rem;min-width:0}
.who .address{color:var(--muted);overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:28ch}
.logout{margin:0}
main{max-width:1120px;margin:0 auto;padding:1rem clamp(.5rem,3vw,2rem) 3rem}
main:focus{outline:none}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.1rem}
.button,.link-button{display:inline-flex;align-items:center;justify-content:center;min-height:2.5rem;padding:.4rem 1rem;border-radius:8px;border:1px solid var(--line);background:var(--card);color:var(--ink);font:inherit;text-decoration:none;cursor:pointer}
.button:hover,.link-button:hover{background:var(--hover)}
.button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-ink);font-weight:600}
.button.ghost{background:transparent}
.button.small{min-height:2rem;padding:.2rem .7rem;font-size:.9rem}
.link-button{border-color:transparent;background:transparent;color:var(--accent)}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);box-shadow:var(--shadow);padding:clamp(1rem,4vw,2rem)}
.narrow{max-width:28rem;margin:2rem auto}
.lead{color:var(--muted)}
.stack{display:grid;gap:.4rem}
.stack label{font-weight:600;margin-top:.5rem}
.stack button{margin-top:1rem}
.hint{font-weight:400;color:var(--muted)}
input[type=email],input[type=password],input[type=search],input[type=text]{font:inherit;color:var(--ink);background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.55rem .75rem;min-height:2.75rem;width:100%}
.alert{background:#fdecea;color:#8a1c12;border:1px solid #f4c7c3;border-radius:8px;padding:.6rem .8rem}
@media (prefers-color-scheme:dark){.alert{background:#3b1714;color:#ffb4ab;border-color:#5c2520}}
.banner{border-radius:var(--radius);padding:.7rem 1rem;margin:0 0 1rem;border:1px solid var(--line)}
.banner.down{background:var(--down-bg)}
.banner.up{background:var(--up-bg)}
.inbox-head{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.75rem;margin-bottom:.75rem}
.search{display:flex;gap:.5rem;flex:1 1 22rem;max-width:34rem}
.search input{flex:1}
.messages{list-style:none;margin:0;padding:0;background:var(--card);border:1px solid var(--line);border-radius:var(--radius);box-shadow:var(--shadow);overflow:hidden}
.messages li+li{border-top:1px solid var(--line)}
/* one grid for the whole list (subgrid), so columns line up from row to row */
.messages{display:grid;grid-template-columns:minmax(8rem,13rem) minmax(0,1fr) auto auto auto;column-gap:1rem}
.messages li{display:grid;grid-column:1/-1;grid-template-columns:subgrid}
.msg{grid-column:1/-1;display:grid;grid-template-columns:minmax(8rem,13rem) minmax(0,1fr) auto 4.75rem minmax(3.5rem,auto);grid-template-columns:subgrid;grid-template-areas:"from subject badge meta date";align-items:center;gap:.25rem 1rem;padding:.7rem 1rem;color:inherit;text-decoration:none}
.msg:hover{background:var(--hover)}
.msg:focus-visible{outline-offset:-3px}
.from{grid-area:from;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.subject{grid-area:subject;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.msg .badge{grid-area:badge}
.meta{grid-area:meta;display:flex;align-items:center;justify-content:flex-end;gap:.4rem;color:var(--muted);font-size:.875rem;white-space:nowrap}
.date{grid-area:date;color:var(--muted);font-size:.875rem;text-align:right;white-space:nowrap}
.att{display:inline-flex;color:var(--muted)}
.badge{display:inline-flex;align-items:center;gap:.4rem;border-radius:999px;padding:.15rem .65rem;font-size:.8rem;font-weight:600;white-space:nowrap;justify-self:start}
.badge .dot{width:.5rem;height:.5rem;border-radius:50%}
.badge.waiting{background:var(--wait-bg);color:var(--wait-ink)}
.badge.waiting .dot{background:var(--wait-dot)}
.badge.delivered{background:var(--done-bg);color:var(--done-ink)}
.badge.delivered .dot{background:var(--done-dot)}
.empty{background:var(--card);border:1px dashed var(--line);border-radius:var(--radius);padding:2rem;text-align:center;color:var(--muted)}
.pager{display:flex;justify-content:space-between;margin-top:1rem}
.crumbs{margin:.25rem 0 .75rem}
.message{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);box-shadow:var(--shadow);padding:clamp(.9rem,3vw,1.75rem)}
.message-head h1{overflow-wrap:anywhere}
.explain{color:var(--muted);margin:.5rem 0 1rem}
.headers{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;margin:0 0 .5rem}
.headers dt{color:var(--muted)}
.headers dd{margin:0;overflow-wrap:anywhere}
.all-headers summary{cursor:pointer;color:var(--accent);padding:.25rem 0}
.all-headers pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.8rem;background:var(--bg);padding:.75rem;border-radius:8px;max-height:24rem;overflow:auto}
.body{margin-top:1rem;border-top:1px solid var(--line);padding-top:1rem}
.tabs{display:flex;gap:.25rem;margin-bottom:.75rem}
.tabs a{padding:.3rem .8rem;border-radius:999px;text-decoration:none;border:1px solid var(--line)}
.tabs a[aria-current=page]{background:var(--accent);border-color:var(--accent);color:var(--accent-ink)}
.notice{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem;font-size:.95rem}
.mail-frame{display:block;width:100%;height:70vh;min-height:22rem;border:1px solid var(--line);border-radius:8px;background:#fff;resize:vertical;overflow:auto}
.mail-text{white-space:pre-wrap;overflow-wrap:anywhere;font:15px/1.55 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:0}
.attachments ul{list-style:none;padding:0;margin:0;display:grid;gap:.4rem}
.attachments li{padding:.5rem .75rem;border:1px solid var(--line);border-radius:8px;overflow-wrap:anywhere}
.muted{color:var(--muted);font-size:.9rem}
.download{margin:1.25rem 0 0}
.folders{display:flex;align-items:center;gap:.25rem 1rem;max-width:1120px;margin:0 auto;padding:.6rem clamp(.5rem,3vw,2rem) 0}
.folders a:not(.button){text-decoration:none;font-weight:600;padding:.3rem .2rem}
.folders .button{margin-left:auto}
.actions-bar{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 .75rem}
.compose{max-width:52rem;margin:0 auto}
.compose-form{display:grid;gap:.75rem}
.compose-form .row{display:grid;grid-template-columns:6rem minmax(0,1fr);align-items:center;gap:.25rem .75rem}
.compose-form .row>.hint{grid-column:2;font-size:.85rem}
.compose-form .body-row{grid-template-columns:1fr}
.compose-form select,.compose-form textarea{font:inherit;color:var(--ink);background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.55rem .75rem;width:100%}
.compose-form select{min-height:2.75rem}
.compose-form textarea{min-height:16rem;resize:vertical;font:15px/1.55 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.compose-form label,.compose-form .label,.compose-form legend{font-weight:600}
.compose-form .check{font-weight:400;display:flex;gap:.5rem;align-items:center;grid-column:2}
.compose-form fieldset{border:0;padding:0;margin:0}
.compose-form fieldset legend{float:left;width:6rem}
.compose-form input[type=file]{font:inherit;max-width:100%}
.from-fixed{padding:.55rem 0;overflow-wrap:anywhere}
.actions{display:flex;gap:.75rem;align-items:center}
.alert ul{margin:.25rem 0 0;padding-left:1.25rem}
.alert p{margin:0}
.badge.failed{background:#fdecea;color:#8a1c12}
.badge.failed .dot{background:#d93025}
.outcomes{list-style:none;padding:0;margin:0 0 1rem;display:grid;gap:.4rem}
.outcomes li{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;overflow-wrap:anywhere}
@media (max-width:760px){
  .compose-form .row{grid-template-columns:1fr}
  .compose-form .row>.hint,.compose-form .check{grid-column:1}
  .compose-form fieldset legend{float:none}
  .messages,.messages li{display:block}
  .msg{grid-template-columns:minmax(0,1fr) auto;grid-template-areas:"from date" "subject subject" "badge meta";padding:.75rem .9rem}
  .date{font-size:.8rem}
  .who .address{display:none}
  .brand-sub{display:none}
  .narrow{margin:1rem auto}
  .mail-frame{height:65vh}
}
@media (prefers-reduced-motion:no-preference){.msg,.button{transition:background-color .12s}}
`;
