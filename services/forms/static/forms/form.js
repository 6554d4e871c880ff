/* The e-form page, progressively enhanced (without JavaScript every field is shown and the server
   ignores those that do not apply; the fee note stays):
   - fields and sections marked data-show-if='{"field": ["value", ...]}' show only for those choices;
   - an electronic document is delivered electronically, a paper one by post or at the office: the
     delivery choice follows the form of the document;
   - the fee of what is chosen, from /api/fees/quote, in a polite live region, refreshed on change. */
(function () {
  "use strict";
  var form = document.querySelector("form.eform");
  if (!form) { return; }
  var en = document.documentElement.lang === "en";
  var t = en ? {
    fee: "Fee for what you have chosen: ", range: "from %1 to %2 zł", later: "set by the office in a fee calculation document (DOO)",
    failed: "The fee cannot be computed just now; the note above gives the rates.",
    choose: "Choose the document to see its fee.", parcels: "Give the parcels to see the fee."
  } : {
    fee: "Opłata za wybrane dokumenty: ", range: "od %1 do %2 zł", later: "ustali urząd w dokumencie obliczenia opłaty (DOO)",
    failed: "Nie można teraz obliczyć opłaty; stawki podaje informacja powyżej.",
    choose: "Wybierz dokument, aby zobaczyć opłatę.", parcels: "Podaj działki, aby zobaczyć opłatę."
  };

  function value(name) {
    var el = form.elements[name];
    if (!el) { return ""; }
    if (typeof el.length === "number" && !el.tagName) { return el.value || ""; }  // radio group
    if (el.type === "checkbox" || el.type === "radio") { return el.checked ? el.value : ""; }
    return el.value;
  }
  function check(name, v) {
    var els = form.querySelectorAll("input[name='" + name + "']");
    for (var i = 0; i < els.length; i++) { if (els[i].value === v) { els[i].checked = true; } }
  }

  // -- fields that apply only to some choices
  var conditional = Array.prototype.slice.call(form.querySelectorAll("[data-show-if]"));
  function applies(el) {
    var cond;
    try { cond = JSON.parse(el.getAttribute("data-show-if")); } catch (e) { return true; }
    return Object.keys(cond).every(function (k) { return cond[k].indexOf(value(k)) >= 0; });
  }
  function showHide() { conditional.forEach(function (el) { el.hidden = !applies(el); }); }

  // -- delivery follows the form of the document
  var electronic = ["portal", "ade"], paper = ["post", "office"];
  function delivery(ev) {
    if (!ev || !ev.target || ev.target.name !== "form" || !form.elements.delivery) { return; }
    var chosen = value("delivery");
    if (value("form") === "paper" && electronic.indexOf(chosen) >= 0) { check("delivery", "post"); }
    if (value("form") === "electronic" && paper.indexOf(chosen) >= 0) { check("delivery", "portal"); }
  }

  // -- the fee quote
  var box = document.querySelector("[data-quote-service]");
  var out = box && box.querySelector(".fee-quote");
  var seq = 0, timer = null;
  var PARAMS = ["variant", "form", "product", "copies"];
  function money(s) { return en ? s : String(s).replace(".", ","); }
  function describe(q) {
    if (q.total === null) { return t.fee + t.later + "."; }
    var total = q.final ? money(q.total) + " zł" : t.range.replace("%1", money(q.total)).replace("%2", money(q.total_max));
    var lines = q.lines.map(function (l) { return l.label + " × " + l.quantity; });
    var text = t.fee + total + (lines.length ? " (" + lines.join("; ") + ")" : "") + ".";
    return q.notes.length ? text + " " + q.notes.join(" ") : text;
  }
  function quote() {
    if (!out) { return; }
    var product = ["variant", "product"].filter(function (n) { return form.elements[n]; })[0];
    if (product && !value(product)) { seq++; out.textContent = t.choose; return; }
    if (form.elements.parcels && !form.elements.parcels.value.trim()) { seq++; out.textContent = t.parcels; return; }
    var q = new URLSearchParams();
    q.set("service", box.getAttribute("data-quote-service"));
    PARAMS.forEach(function (n) { var v = value(n); if (form.elements[n] && v) { q.set(n, v.trim()); } });
    if (form.elements.housing_exemption) { q.set("housing_exemption", value("housing_exemption") ? "true" : "false"); }
    if (form.elements.parcels) {
      var ids = form.elements.parcels.value.split(/[\s,]+/).filter(function (s) { return s.length > 0; });
      if (ids.length) { q.set("parcels", ids.slice(0, 20).join(",")); }
    }
    var mine = ++seq;
    fetch(box.getAttribute("data-quote-url") + "?" + q.toString(), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (res) {
        if (mine !== seq) { return; }
        out.textContent = res[0] ? describe(res[1]) : (res[1].detail || t.failed);
      })
      .catch(function () { if (mine === seq) { out.textContent = t.failed; } });
  }
  function later() { clearTimeout(timer); timer = setTimeout(quote, 350); }

  form.addEventListener("change", function (ev) { delivery(ev); showHide(); later(); });
  form.addEventListener("input", function () { showHide(); later(); });
  showHide();
  quote();
})();
