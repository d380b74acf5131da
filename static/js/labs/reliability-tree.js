// The reliability decision tree: after an answer swaps the panel, move keyboard
// focus to the new question (or recommendation), so a keyboard or screen-reader
// user carries on where they were instead of starting again at the top.
(function () {
  "use strict";

  var moved = null;  // the id of the tree box to focus once the swap has settled

  document.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.detail.elt;
    var tree = link && link.closest ? link.closest(".decision-tree") : null;
    moved = link && link.hasAttribute && link.hasAttribute("data-tree-link") && tree ? tree.id + "-current" : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!moved) return;
    var target = document.getElementById(moved);
    moved = null;
    if (target) target.focus();
  });
})();
