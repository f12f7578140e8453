package gqlhttp

import (
	"html/template"
	"net/http"
)

// PlaygroundInput is one credential field of the playground page, sent as
// a request header.
type PlaygroundInput struct {
	ID, Placeholder string
	Header, Prefix  string
}

// Playground describes a playground page.
type Playground struct {
	Title   string
	Inputs  []PlaygroundInput
	Example string // the operation shown first
	Storage string // localStorage key prefix
}

// ServePlayground answers a browser's GET with a small built-in page: the
// credential fields, a query and variables editor that runs operations
// with fetch against the same path, and a button that lists the root
// fields through introspection. It loads nothing from elsewhere, so it
// works offline; what is typed stays in the page's local storage.
func ServePlayground(w http.ResponseWriter, p Playground) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
	_ = playgroundPage.Execute(w, p)
}

// WantsPlayground reports whether a request is a browser asking for the
// page rather than a GraphQL GET.
func WantsPlayground(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Query().Get("query") == "" && r.Header.Get("Upgrade") == "" &&
		containsHTML(r.Header.Get("Accept"))
}

func containsHTML(accept string) bool {
	for i := 0; i+9 <= len(accept); i++ {
		if accept[i:i+9] == "text/html" {
			return true
		}
	}
	return false
}

var playgroundPage = template.Must(template.New("playground").Parse(playgroundHTML))

const playgroundHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
header { padding: 10px 16px; background: #1b1f24; color: #fff; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
header h1 { font-size: 16px; margin: 0 12px 0 0; }
header input { font: 13px monospace; padding: 5px 8px; border-radius: 4px; border: 0; min-width: 260px; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; padding: 12px 16px; height: calc(100vh - 70px); box-sizing: border-box; }
section { display: flex; flex-direction: column; gap: 8px; min-height: 0; }
textarea, pre { font: 13px/1.45 ui-monospace, monospace; border: 1px solid #ccd1d9; border-radius: 6px; padding: 10px; background: #fff; margin: 0; }
#query { flex: 3; resize: none; }
#variables { flex: 1; resize: none; }
pre { flex: 1; overflow: auto; white-space: pre-wrap; }
button { font: inherit; padding: 6px 14px; border-radius: 4px; border: 0; background: #2f6fde; color: #fff; cursor: pointer; }
button.secondary { background: #59636e; }
label { font-size: 12px; color: #59636e; }
</style>
</head>
<body>
<header>
  <h1>{{.Title}}</h1>
{{range .Inputs}}  <input id="{{.ID}}" placeholder="{{.Placeholder}}" aria-label="{{.Placeholder}}" autocomplete="off" data-header="{{.Header}}" data-prefix="{{.Prefix}}">
{{end}}
  <button id="run" title="Ctrl+Enter">Run</button>
  <button id="schema" class="secondary">Root fields</button>
</header>
<main>
  <section>
    <label for="query">Operation</label>
    <textarea id="query" spellcheck="false">query {
{{.Example}}
}</textarea>
    <label for="variables">Variables (JSON)</label>
    <textarea id="variables" spellcheck="false">{}</textarea>
  </section>
  <section>
    <label for="result">Result</label>
    <pre id="result"></pre>
  </section>
</main>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var store = "{{.Storage}}";
  var inputs = Array.prototype.slice.call(document.querySelectorAll("header input"));
  inputs.map(function (el) { return el.id; }).concat(["query", "variables"]).forEach(function (id) {
    var saved = localStorage.getItem(store + id);
    if (saved !== null) { $(id).value = saved; }
    $(id).addEventListener("input", function () { localStorage.setItem(store + id, $(id).value); });
  });
  function post(query, variables) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    inputs.forEach(function (el) {
      var v = el.value.trim();
      if (v) { headers[el.dataset.header] = (el.dataset.prefix || "") + v; }
    });
    return fetch(location.pathname, { method: "POST", headers: headers, body: JSON.stringify({ query: query, variables: variables }) })
      .then(function (res) { return res.text().then(function (text) { return { status: res.status, text: text }; }); });
  }
  function show(r) {
    var out = r.text;
    try { out = JSON.stringify(JSON.parse(r.text), null, 2); } catch (e) {}
    $("result").textContent = "HTTP " + r.status + "\n" + out;
  }
  function run() {
    var vars = {};
    try { vars = JSON.parse($("variables").value || "{}"); } catch (e) { $("result").textContent = "Variables are not valid JSON: " + e.message; return; }
    $("result").textContent = "…";
    post($("query").value, vars).then(show, function (e) { $("result").textContent = String(e); });
  }
  function roots() {
    var q = "{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }";
    post(q, {}).then(function (r) {
      try {
        var s = JSON.parse(r.text).data.__schema, lines = [];
        [["query", s.queryType], ["mutation", s.mutationType], ["subscription", s.subscriptionType]].forEach(function (p) {
          if (p[1]) { lines.push(p[0] + ":\n  " + p[1].fields.map(function (f) { return f.name; }).join("\n  ")); }
        });
        $("result").textContent = lines.join("\n\n");
      } catch (e) { show(r); }
    });
  }
  $("run").addEventListener("click", run);
  $("schema").addEventListener("click", roots);
  document.addEventListener("keydown", function (e) { if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { run(); } });
})();
</script>
</body>
</html>
`
