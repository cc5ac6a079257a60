/**
 * The console's only static files: one stylesheet and one script (no bundle, no framework). The
 * script (a) shows every `<time data-ms>` in the browser's local time, (b) re-fetches every
 * element with `data-refresh="URL"` every `data-every` ms and swaps its content (live views), and
 * (c) sends `data-post` buttons' requests and puts the returned fragment into `data-target`.
 */

export const CSS = `
:root { --fg:#1d2430; --muted:#6b7585; --bg:#f6f7f9; --card:#fff; --line:#dde1e7; --good:#1a7f37; --bad:#c62828; --warn:#b26a00; --info:#3557a5; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; justify-content:space-between; gap:16px; padding:10px 20px; background:#18202c; color:#fff; }
header a { color:#dfe6f0; text-decoration:none; margin-right:14px; }
header a.active, header a:hover { color:#fff; text-decoration:underline; }
.brand { font-weight:600; font-size:16px; color:#fff; } .brand span { font-weight:400; color:#9fb0c8; margin-left:6px; }
main { padding:18px 20px; max-width:1400px; }
h1 { font-size:20px; margin:0 0 12px; } h2 { font-size:16px; margin:22px 0 8px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin-bottom:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:10px 14px; min-width:150px; }
.card .k { color:var(--muted); font-size:12px; } .card .v { font-size:18px; font-weight:600; }
table { border-collapse:collapse; width:100%; background:var(--card); border:1px solid var(--line); }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f5; font-weight:600; font-size:12px; color:#3c4656; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
code { font:12px ui-monospace, SFMono-Regular, Menlo, monospace; word-break:break-all; }
.muted { color:var(--muted); }
.badge { display:inline-block; padding:1px 7px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; }
.badge.good { background:var(--good); } .badge.bad { background:var(--bad); } .badge.warn { background:var(--warn); } .badge.info { background:var(--info); }
.verdict { font-size:28px; font-weight:700; margin:4px 0 8px; } .verdict.good { color:var(--good); } .verdict.bad { color:var(--bad); }
.box { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:12px 14px; margin-bottom:14px; }
.box.bad { border-color:var(--bad); } .box.good { border-color:var(--good); }
form.grid { display:grid; grid-template-columns: max-content 1fr; gap:6px 10px; align-items:center; max-width:720px; }
input, textarea, select { font:inherit; padding:5px 7px; border:1px solid #b9c1cc; border-radius:4px; width:100%; }
textarea { min-height:90px; font-family: ui-monospace, monospace; font-size:12px; }
button { font:inherit; padding:6px 14px; border-radius:4px; border:1px solid #2d4a86; background:#3557a5; color:#fff; cursor:pointer; }
button.small { padding:2px 8px; font-size:12px; } button.link { background:none; border:none; color:#dfe6f0; padding:0; }
form.inline { display:inline; }
.error { color:var(--bad); font-weight:600; }
.progress { background:#e6e9ee; border-radius:4px; height:10px; width:160px; overflow:hidden; display:inline-block; vertical-align:middle; }
.progress > div { background:var(--info); height:100%; }
dl.kv { display:grid; grid-template-columns: max-content 1fr; gap:3px 14px; margin:0; } dl.kv dt { color:var(--muted); } dl.kv dd { margin:0; }
.login { max-width:380px; margin:60px auto; }
svg.chart { background:var(--card); border:1px solid var(--line); }
`;

export const JS = `
(function () {
  function localTimes(root) {
    root.querySelectorAll('time[data-ms]').forEach(function (t) {
      var ms = Number(t.getAttribute('data-ms'));
      if (isFinite(ms)) { t.textContent = new Date(ms).toLocaleString(); t.title = new Date(ms).toISOString(); }
    });
  }
  function refresh(el) {
    var url = el.getAttribute('data-refresh');
    fetch(url, { credentials: 'same-origin', headers: { 'x-provenant-console': '1' } })
      .then(function (r) { if (r.status === 401) { location.href = '/console/login'; return null; } return r.text(); })
      .then(function (text) { if (text !== null) { el.innerHTML = text; localTimes(el); bind(el); } })
      .catch(function () {});
  }
  function bind(root) {
    root.querySelectorAll('button[data-post]').forEach(function (b) {
      if (b.dataset.bound) return;
      b.dataset.bound = '1';
      b.addEventListener('click', function () {
        var target = document.querySelector(b.getAttribute('data-target'));
        b.disabled = true;
        fetch(b.getAttribute('data-post'), { method: 'POST', credentials: 'same-origin', headers: { 'x-provenant-console': '1' } })
          .then(function (r) { return r.text(); })
          .then(function (text) { if (target) { target.innerHTML = text; localTimes(target); } b.disabled = false; })
          .catch(function () { b.disabled = false; });
      });
    });
    root.querySelectorAll('input[type=file][data-into]').forEach(function (f) {
      if (f.dataset.bound) return;
      f.dataset.bound = '1';
      f.addEventListener('change', function () {
        var file = f.files && f.files[0];
        if (!file) return;
        var reader = new FileReader();
        reader.onload = function () {
          var out = document.querySelector(f.getAttribute('data-into'));
          var bytes = new Uint8Array(reader.result);
          var text = new TextDecoder().decode(bytes).trim();
          if (/^[\\[{]/.test(text) || /^([0-9a-fA-F]{2})+$/.test(text)) out.value = text;
          else out.value = Array.prototype.map.call(bytes, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
        };
        reader.readAsArrayBuffer(file);
      });
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    localTimes(document);
    bind(document);
    document.querySelectorAll('[data-refresh]').forEach(function (el) {
      var every = Number(el.getAttribute('data-every') || 2000);
      setInterval(function () { refresh(el); }, every);
    });
  });
})();
`;
