/**
 * The report's one inline script: the side-by-side table's filters. It is a constant, so its
 * sha256 goes into the page's Content-Security-Policy and no other script can run, even if an
 * escaping bug let markup through. It reads only our own data attributes and the form, and
 * writes only `hidden` and textContent: no innerHTML, no untrusted string ever parsed as markup.
 */
import { createHash } from "node:crypto";

/** Source of the filter script (plain ES2017, no modules: it runs from file:// as well). */
export const CLIENT_SCRIPT = `(function () {
  "use strict";
  var table = document.getElementById("rows");
  var form = document.getElementById("filters");
  if (!table || !form) return;
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var text = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var disagree = document.getElementById("f-disagree");
  var fail = document.getElementById("f-fail");
  var trunc = document.getElementById("f-trunc");
  var search = document.getElementById("f-search");
  var count = document.getElementById("row-count");
  function apply() {
    var model = fail.value;
    var q = search.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r, i) {
      var ok = (!disagree.checked || r.getAttribute("data-disagree") === "1") &&
        (model === "" || r.getAttribute("data-fail").indexOf(" " + model + " ") >= 0) &&
        (!trunc.checked || r.getAttribute("data-trunc") === "1") &&
        (q === "" || text[i].indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown.toLocaleString("en-US") + " of " + rows.length.toLocaleString("en-US") + " rows shown";
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  apply();
})();`;

/** The CSP source expression for {@link CLIENT_SCRIPT}: `'sha256-<base64>'`. */
export function scriptHashSource(script: string = CLIENT_SCRIPT): string {
  return `'sha256-${createHash("sha256").update(script, "utf8").digest("base64")}'`;
}
