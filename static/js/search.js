// The header search box: arrow keys move from the box through the typeahead hits and back,
// Escape closes them. Enter on a hit follows its link; Enter in the box opens the results page.
(function () {
  "use strict";
  const form = document.getElementById("search-box");
  if (!form || form.dataset.ready) return;
  form.dataset.ready = "1";
  const input = document.getElementById("search-q");
  const hits = document.getElementById("search-hits");
  const links = () => Array.from(hits.querySelectorAll("a"));

  form.addEventListener("keydown", function (event) {
    const all = links();
    const at = all.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      all[Math.min(at + 1, all.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      (at === 0 ? input : all[at - 1]).focus();
    } else if (event.key === "Escape" && hits.firstChild) {
      hits.replaceChildren();
      input.focus();
    }
  });
  form.addEventListener("focusout", function (event) {
    if (!form.contains(event.relatedTarget)) hits.replaceChildren();
  });
})();
