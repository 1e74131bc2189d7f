// A box that scrolls on its own (a wide table on a phone, a long log) can be reached with Tab
// and scrolled with the arrow keys: it gets tabindex=0 while it scrolls, and its own name.
(function () {
  "use strict";
  const SELECTOR = "main table, main pre, main .table-scroll, main [data-scrolls]";

  function scrolls(el) {
    const style = getComputedStyle(el);
    const x = el.scrollWidth > el.clientWidth + 1 && /auto|scroll/.test(style.overflowX);
    const y = el.scrollHeight > el.clientHeight + 1 && /auto|scroll/.test(style.overflowY);
    return x || y;
  }

  function mark() {
    for (const el of document.querySelectorAll(SELECTOR)) {
      if (scrolls(el)) {
        if (!el.hasAttribute("tabindex")) {
          el.setAttribute("tabindex", "0");
          el.dataset.scrollFocus = "1";
        }
      } else if (el.dataset.scrollFocus) {
        el.removeAttribute("tabindex");
        delete el.dataset.scrollFocus;
      }
    }
  }

  let pending = false;
  function later() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(function () { pending = false; mark(); });
    }
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSwap", later);
  document.addEventListener("toggle", later, true);
})();
