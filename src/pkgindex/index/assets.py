"""The style sheet and the small script inlined into every HTML page (no external assets).

Pages are complete without the script: it only fills in the index URL when pkgindex.toml does
not give one (derived from the page's own address) and shows the filter box on the root page.
"""

from __future__ import annotations

STYLE = """
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6472;--bg:#f6f7f9;--card:#fff;
--line:#e3e6eb;--head:#eef1f5;--link:#0b5cad;--code:#1d2330;--codefg:#e8ecf3;
--warn:#9b1c1c;--warnbg:#fde8e8;--note:#7a4b00;--notebg:#fdf3dc}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7ec;--muted:#9aa3b2;--bg:#14171c;--card:#1b1f26;
--line:#2b313b;--head:#222832;--link:#7fb3ff;--code:#0d0f13;--warnbg:#3b1717;--warn:#ffb4b4;
--notebg:#3a2c10;--note:#ffd899}}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--fg);
background:var(--bg)}
main{max-width:72rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}
h1{font-size:1.7rem;margin:.25rem 0;display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}
h2{font-size:1.1rem;margin:1.75rem 0 .5rem}
p{margin:.4rem 0}p.lead{color:var(--muted);margin:0 0 1rem}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--code);color:var(--codefg);padding:.7rem 1rem;border-radius:6px;
overflow-x:auto;margin:.4rem 0 .8rem}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line)}
th,td{text-align:left;padding:.4rem .65rem;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:var(--head);font-weight:600;font-size:.78rem;text-transform:uppercase;
letter-spacing:.03em;color:var(--muted)}
tr.version th{background:var(--head);font-size:.95rem;padding-top:.55rem}
td.num{text-align:right;white-space:nowrap}td.when{white-space:nowrap}
td.file{word-break:break-all;min-width:16rem}
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
tr.yanked td{color:var(--muted)}tr.yanked td.file a{text-decoration:line-through}
.badge{display:inline-block;font-size:.72rem;font-weight:600;border-radius:4px;
padding:.05rem .35rem;vertical-align:middle;background:var(--warnbg);color:var(--warn);
white-space:nowrap}
.badge.note{background:var(--notebg);color:var(--note)}
.banner{border-radius:6px;padding:.6rem .9rem;margin:.5rem 0 1rem;background:var(--notebg);
color:var(--note)}.banner.warn{background:var(--warnbg);color:var(--warn)}
small,.muted{color:var(--muted)}
form.link{display:inline;margin:0}form.link button{font:inherit;color:var(--link);background:none;
border:0;padding:0;cursor:pointer}form.link button:hover{text-decoration:underline}
nav{margin-bottom:.5rem}
input[type=search]{font:inherit;width:100%;max-width:26rem;padding:.45rem .7rem;border:1px solid
var(--line);border-radius:6px;background:var(--card);color:var(--fg);margin:.25rem 0 .75rem}
.install{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.4rem 1rem}
.install h2{margin-top:.7rem}.install h3{font-size:.9rem;margin:.6rem 0 .1rem}
@media (max-width:720px){td.tags,th.tags,td.rp,th.rp{display:none}}
""".strip()

# Fills every [data-index-url] element with the index URL derived from this page's address
# (``../`` from a project page, ``./`` from the root) when the page does not know it, shows
# what needs it, and runs the root page's filter. Values go through textContent only.
SCRIPT = """
(function(){
var d=document,b=d.body,u=b.getAttribute("data-url");
if(!u){u=new URL(b.getAttribute("data-root")||"./",location.href).href;}
d.querySelectorAll("[data-index-url]").forEach(function(e){e.textContent=u;});
d.querySelectorAll("[data-needs-url]").forEach(function(e){e.hidden=false;});
d.querySelectorAll("[data-no-url]").forEach(function(e){e.hidden=true;});
var f=d.getElementById("filter");if(!f){return;}
var rows=d.querySelectorAll("tr[data-name]"),count=d.getElementById("shown");f.hidden=false;
f.addEventListener("input",function(){
var q=f.value.trim().toLowerCase().replace(/[-_.]+/g,"-"),n=0;
rows.forEach(function(r){var hit=r.getAttribute("data-name").indexOf(q)>=0;r.hidden=!hit;n+=hit;});
count.textContent=n;});
})();
""".strip()
