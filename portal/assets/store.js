// Store: narrow the list while typing (the form still searches the whole
// store on Enter).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var search = document.getElementById("store-search");
  var none = document.getElementById("no-match");
  if (!search) return;
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase(), shown = 0;
    document.querySelectorAll("[data-ref]").forEach(function (c) {
      var on = !q || c.getAttribute("data-search").toLowerCase().indexOf(q) >= 0;
      c.hidden = !on;
      if (on) shown++;
    });
    if (none) none.hidden = shown > 0;
  });
});
